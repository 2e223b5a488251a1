"""Build and validate the :class:`~fabric.models.intent.Intent` from the inventory.

Every finding is an :class:`~fabric.errors.Issue` that names the file, the host (or group, or
``defaults``) and the field, with a stable ``code``. Errors are collected, not raised one at a
time, so an operator sees all of them in one pass; :func:`load_intent` raises
:class:`~fabric.errors.ValidationError` if there is any. Nothing here opens a connection.

The rules, their codes and the Calico version table are documented for operators in
``docs/inventory.md``; :data:`ERROR_CODES` and :data:`WARNING_CODES` list every code.

Reading the YAML goes through :func:`load_checked_inventory`, which rejects duplicate mapping
keys (PyYAML silently keeps the last one: two hosts with the same name would quietly become
one) and secrets written inline, before the data is interpreted.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from fabric import safeyaml, userfiles
from fabric.designs import DESIGN_ERRORS, DESIGN_WARNINGS, check_designs
from fabric.errors import Issue, ValidationError
from fabric.inventory import INVENTORY_FILES, RawInventory
from fabric.models.intent import (
    CALICO_FIELD_SINCE,
    CalicoData,
    Cluster,
    Intent,
    Neighbor,
    Node,
    NodeData,
    PeerData,
    Switch,
    SwitchData,
    parse_selector,
    supported_fields,
)
from fabric.paths import ProjectPaths
from fabric.safeyaml import YamlError

ROLE_NODE = "calico_node"
ROLE_CLUSTER = "cluster"
ROLE_SWITCH = "switch"
#: The node label (and ``data.switch.rack``) that names a rack.
RACK_LABEL = "rack"

#: Top-level keys Nornir's SimpleInventory accepts for a host or group (defaults: no groups).
NORNIR_KEYS = frozenset(
    {"hostname", "port", "username", "password", "platform", "groups", "data", "connection_options"}
)
#: Keys allowed directly under ``data``. Operators may add their own as ``x_<anything>``.
KNOWN_DATA_KEYS = frozenset(
    {
        "role",  # calico_node | cluster | switch (else derived from platform)
        "node",  # NodeData
        "switch",  # SwitchData
        "calico",  # CalicoData
        "kubeconfig",  # cluster host: kubeconfig path
        "context",  # cluster host: kubeconfig context
        "eos_version",  # switch: expected EOS version
        "node_status_command",  # node: command that prints BGP state over SSH
        "node_access",  # node: ssh (default) or exec (birdcl in its calico-node pod)
        "calico_api",  # cluster host: auto (default), v3 or crd
        "ssh_key_file",  # node: private key path (outside the repo)
        "lab",  # written by the lab overlay at runtime, never by operators
    }
)

#: Every error code :func:`build_intent` can report (documented in docs/inventory.md).
ERROR_CODES = frozenset(
    {
        "yaml",
        "yaml-limit",
        "encoding",
        "unreadable-file",
        "missing-file",
        "not-a-mapping",
        "duplicate-host",
        "duplicate-group",
        "duplicate-key",
        "unknown-key",
        "unknown-group",
        "unknown-role",
        "missing-field",
        "invalid-value",
        "invalid-name",
        "invalid-ip",
        "invalid-cidr",
        "invalid-asn",
        "invalid-vlan",
        "invalid-version",
        "invalid-community",
        "duplicate-cluster",
        "no-cluster",
        "missing-tor",
        "unknown-tor",
        "duplicate-ip",
        "duplicate-router-id",
        "duplicate-peer-name",
        "duplicate-community",
        "unknown-community",
        "ip-outside-subnet",
        "ip-not-usable",
        "ip-is-svi",
        "peer-ip-not-svi",
        "peer-wrong-switch",
        "peer-as-mismatch",
        "no-peer",
        "password-one-sided",
        "cidr-overlap",
        "block-size",
        "calico-field-unsupported",
        "conflicting-fields",
        "inline-password",
        "secret-in-repo",
        *DESIGN_ERRORS,
    }
)
#: Every warning code (exit 0 unless ``--strict``).
WARNING_CODES = frozenset(
    {
        "asn-reserved",
        "cidr-public",
        "listen-port",
        "no-maximum-paths",
        "mesh-off-no-replacement",
        *DESIGN_WARNINGS,
    }
)

#: Our field name -> Calico spec field, for the fields whose use depends on the version.
_CALICO_CONFIG_FIELDS = {
    "service_cluster_cidrs": "serviceClusterIPs",
    "service_external_cidrs": "serviceExternalIPs",
    "service_loadbalancer_cidrs": "serviceLoadBalancerIPs",
    "listen_port": "listenPort",
    "communities": "communities",
    "prefix_advertisements": "prefixAdvertisements",
    "node_mesh_max_restart_time": "nodeMeshMaxRestartTime",
    "bind_mode": "bindMode",
    "local_workload_peering_ip_v4": "localWorkloadPeeringIPV4",
}
_CALICO_PEER_FIELDS = {
    "password_ref": "password",
    "keep_original_next_hop": "keepOriginalNextHop",
    "next_hop_mode": "nextHopMode",
    "peer_selector": "peerSelector",
    "filters": "filters",
    "num_allowed_local_as_numbers": "numAllowedLocalASNumbers",
}
#: Values that mean "not used" (the field is then left out of the rendered object).
_CALICO_DEFAULTS: dict[str, Any] = {"listen_port": 179, "bind_mode": "None"}


# --------------------------------------------------------------------------- address helpers

#: Reserved or documentation AS numbers: (low, high, why).
RESERVED_ASNS: tuple[tuple[int, int, str], ...] = (
    (0, 0, "reserved (RFC 7607)"),
    (23456, 23456, "AS_TRANS (RFC 6793)"),
    (64496, 64511, "for documentation (RFC 5398)"),
    (65535, 65535, "reserved (RFC 7300)"),
    (65536, 65551, "for documentation (RFC 5398)"),
    (4294967295, 4294967295, "reserved (RFC 7300)"),
)
PRIVATE_RANGES = tuple(
    ipaddress.IPv4Network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)


def asn_reserved(asn: int) -> bool:
    """True for reserved or documentation AS numbers.

    >>> [asn_reserved(a) for a in (0, 23456, 64500, 64512, 65535, 65540, 4200000000)]
    [True, True, True, False, True, True, False]
    """
    return any(lo <= asn <= hi for lo, hi, _ in RESERVED_ASNS)


def cidr_private(net: ipaddress.IPv4Network) -> bool:
    """True when ``net`` lies inside RFC 1918 or RFC 6598 space.

    >>> cidr_private(ipaddress.IPv4Network("192.16.0.0/12"))
    False
    >>> cidr_private(ipaddress.IPv4Network("100.64.0.0/16"))
    True
    """
    return any(net.subnet_of(p) for p in PRIVATE_RANGES)


_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SECRET_KEY = re.compile(r"(^|_)(password|passwd|secret)$", re.IGNORECASE)


# --------------------------------------------------------------------------- report


@dataclass
class IntentReport:
    """The intent (None when there are errors) and every issue found."""

    intent: Intent | None
    issues: list[Issue] = field(default_factory=list)
    #: The inventory the intent was built from (group membership for ``--limit``).
    raw: RawInventory | None = None

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity error."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity warning."""
        return [i for i in self.issues if i.severity == "warning"]


# --------------------------------------------------------------------------- YAML loading


def _scan_yaml(root: yaml.Node, file: str, kind: str) -> list[Issue]:
    """Duplicate keys and inline secrets anywhere in one composed YAML document.

    ``kind`` is ``hosts``, ``groups`` or ``defaults``: the top-level keys of the first two are
    host/group names (the Issue's host), everything in defaults belongs to ``defaults``.
    """
    issues: list[Issue] = []
    if not isinstance(root, yaml.MappingNode):
        return issues
    # (node, owner, dotted path)
    stack: list[tuple[yaml.Node, str, str]] = []
    seen: set[str] = set()
    for key, value in root.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        line = key.start_mark.line + 1
        if kind == "defaults":
            owner, path = "defaults", str(key.value)
            _check_key(issues, file, owner, path, key, value, seen, "duplicate-key")
        else:
            owner, path = str(key.value), ""
            if key.value in seen:
                code = "duplicate-host" if kind == "hosts" else "duplicate-group"
                issues.append(
                    Issue(
                        "error",
                        file,
                        owner,
                        "-",
                        f"line {line}: {kind[:-1]} {owner!r} is defined more than once "
                        "(YAML would silently keep only the last one)",
                        code,
                    )
                )
            seen.add(key.value)
        stack.append((value, owner, path))
    while stack:
        node, owner, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
                    continue
                sub = f"{path}.{key.value}" if path else str(key.value)
                _check_key(issues, file, owner, sub, key, value, keys, "duplicate-key")
                stack.append((value, owner, sub))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, owner, f"{path}.{i}" if path else str(i)))
    return issues


def _check_key(
    issues: list[Issue],
    file: str,
    owner: str,
    path: str,
    key: yaml.ScalarNode,
    value: yaml.Node,
    seen: set[str],
    code: str,
) -> None:
    line = key.start_mark.line + 1
    if key.value in seen:
        issues.append(
            Issue(
                "error",
                file,
                owner,
                path,
                f"line {line}: key defined more than once (YAML would keep only the last)",
                code,
            )
        )
    seen.add(key.value)
    if _SECRET_KEY.search(str(key.value)) and not (
        isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null")
    ):
        issues.append(
            Issue(
                "error",
                file,
                owner,
                path,
                f"line {line}: a secret written inline (value not shown): credentials come from "
                "environment variables, BGP passwords from a reference (password_ref: env:VAR)",
                "inline-password",
            )
        )


#: The inventory's code for each kind of refused YAML (:class:`fabric.safeyaml.YamlProblem`).
_YAML_CODES = {
    "syntax": "yaml",
    "alias": "yaml-limit",
    "depth": "yaml-limit",
    "value": "invalid-value",
}


def _yaml_issues(exc: YamlError, rel: str, kind: str) -> list[Issue]:
    """The inventory's findings for a refused document: file, owner, field, line."""
    issues = []
    for p in exc.problems:
        if kind == "defaults":
            owner, fld = "defaults", ".".join(p.path) or "-"
        else:
            owner, fld = (p.path[0], ".".join(p.path[1:]) or "-") if p.path else ("-", "-")
        issues.append(
            Issue("error", rel, owner, fld, p.describe(with_field=False), _YAML_CODES[p.kind])
        )
    return issues


def _load_yaml_checked(path: Path, rel: str, kind: str) -> tuple[Any, list[Issue]]:
    """One inventory file: its data and the duplicate-key/inline-secret findings.

    Raises:
        ValidationError: the file cannot be read, is not UTF-8, or its YAML is refused
            (:mod:`fabric.safeyaml`): one finding naming the file, line and field.
    """
    if not userfiles.exists(path):
        return None, []

    def refuse(code: str) -> userfiles.ErrorFactory:
        def make(msg: str) -> ValidationError:
            return ValidationError(
                [Issue("error", rel, "-", "-", msg.removeprefix(f"{rel}: "), code)]
            )

        return make

    raw = userfiles.read_bytes(path, "a YAML file", label=rel, error=refuse("unreadable-file"))
    text = userfiles.decode_utf8(raw, rel, "UTF-8 YAML", error=refuse("encoding"))
    try:
        doc = safeyaml.compose(text, rel)
        if doc is None:
            return None, []
        issues = _scan_yaml(doc.node, rel, kind)
        return doc.data(), issues
    except YamlError as exc:
        raise ValidationError(_yaml_issues(exc, rel, kind)) from None


def load_checked_inventory(paths: ProjectPaths) -> tuple[RawInventory, list[Issue]]:
    """Read hosts.yaml, groups.yaml and defaults.yaml, rejecting duplicate keys.

    Structural problems (a host that is not a mapping, unknown top-level or ``data`` keys,
    unknown groups, inline secrets, duplicate keys) are returned as issues; the offending
    parts are dropped from the returned inventory so later checks do not trip over them.

    Raises:
        ValidationError: hosts.yaml is missing, a file is not valid YAML or not a mapping.
    """
    files = {name: paths.rel(paths.inventory / name) for name in INVENTORY_FILES}
    if not userfiles.exists(paths.inventory / "hosts.yaml"):
        raise ValidationError(
            [Issue("error", files["hosts.yaml"], "-", "-", "file not found", "missing-file")]
        )
    parts: dict[str, dict[str, Any]] = {}
    issues: list[Issue] = []
    for name in INVENTORY_FILES:
        content, found = _load_yaml_checked(paths.inventory / name, files[name], name[:-5])
        issues.extend(found)
        if content is None:
            content = {}
        if not isinstance(content, dict):
            raise ValidationError(
                [Issue("error", files[name], "-", "-", "must be a mapping", "not-a-mapping")]
            )
        parts[name] = content
    groups = parts["groups.yaml"]
    for name in ("hosts.yaml", "groups.yaml"):
        for owner in list(parts[name]):
            spec = parts[name][owner]
            parts[name][owner] = _check_entry(issues, files[name], str(owner), spec, groups)
    parts["defaults.yaml"] = _check_entry(
        issues, files["defaults.yaml"], "defaults", parts["defaults.yaml"], groups, defaults=True
    )
    raw = RawInventory(
        paths=paths,
        hosts=parts["hosts.yaml"],
        groups=groups,
        defaults=parts["defaults.yaml"],
        files=files,
    )
    return raw, issues


def _check_entry(
    issues: list[Issue],
    file: str,
    owner: str,
    spec: Any,
    groups: dict[str, Any],
    *,
    defaults: bool = False,
) -> dict[str, Any]:
    """Structural checks of one host/group/defaults entry; returns a cleaned copy."""
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        issues.append(Issue("error", file, owner, "-", "must be a mapping", "not-a-mapping"))
        return {}
    out = dict(spec)
    allowed = NORNIR_KEYS - {"groups"} if defaults else NORNIR_KEYS
    for key in spec:
        if key not in allowed:
            issues.append(
                Issue(
                    "error",
                    file,
                    owner,
                    str(key),
                    f"unknown key (allowed: {', '.join(sorted(allowed))})",
                    "unknown-key",
                )
            )
            out.pop(key)
    member_of = out.get("groups")
    if member_of is not None:
        if not isinstance(member_of, list) or not all(isinstance(g, str) for g in member_of):
            issues.append(
                Issue(
                    "error", file, owner, "groups", "must be a list of group names", "invalid-value"
                )
            )
            out["groups"] = []
        else:
            for g in member_of:
                if g not in groups:
                    issues.append(
                        Issue(
                            "error",
                            file,
                            owner,
                            "groups",
                            f"unknown group {g!r} (not in groups.yaml)",
                            "unknown-group",
                        )
                    )
            out["groups"] = [g for g in member_of if g in groups]
    data = out.get("data")
    if data is not None:
        if not isinstance(data, dict):
            issues.append(Issue("error", file, owner, "data", "must be a mapping", "not-a-mapping"))
            out["data"] = {}
        else:
            for key in data:
                if key not in KNOWN_DATA_KEYS and not str(key).startswith("x_"):
                    issues.append(
                        Issue(
                            "error",
                            file,
                            owner,
                            f"data.{key}",
                            "unknown key (known: "
                            f"{', '.join(sorted(KNOWN_DATA_KEYS))}; or your own x_<name>)",
                            "unknown-key",
                        )
                    )
    return out


# --------------------------------------------------------------------------- collector

_PYDANTIC_CODES = {"missing": "missing-field", "extra_forbidden": "unknown-key"}


@dataclass(frozen=True)
class _Where:
    """Where a value of the intent came from."""

    file: str
    host: str
    field: str


class _Collector:
    def __init__(self, raw: RawInventory, issues: Iterable[Issue] = ()) -> None:
        self.raw = raw
        self.issues: list[Issue] = list(issues)
        self._secret_fields = {
            (i.host, i.field) for i in self.issues if i.code == "inline-password"
        }

    def error(self, file: str, host: str, fld: str, msg: str, code: str) -> None:
        self.issues.append(Issue("error", file, host, fld, msg, code))

    def warn(self, file: str, host: str, fld: str, msg: str, code: str) -> None:
        self.issues.append(Issue("warning", file, host, fld, msg, code))

    def err_at(self, w: _Where, sub: str, msg: str, code: str) -> None:
        self.error(w.file, w.host, f"{w.field}.{sub}" if sub else w.field, msg, code)

    def warn_at(self, w: _Where, sub: str, msg: str, code: str) -> None:
        self.warn(w.file, w.host, f"{w.field}.{sub}" if sub else w.field, msg, code)

    def has_errors(self) -> bool:
        return any(i.severity == "error" for i in self.issues)

    def model(self, cls: type[BaseModel], host: str, key: str) -> tuple[Any, _Where]:
        """Validate ``data[key]`` of ``host`` into ``cls``; record errors with their field."""
        value, file, owner = self.raw.lookup(host, key)
        where = _Where(file, owner, f"data.{key}")
        if value is None:
            self.error(file, host, f"data.{key}", "missing", "missing-field")
            return None, where
        try:
            return cls.model_validate(value), where
        except PydanticValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                fld = f"data.{key}.{loc}" if loc else f"data.{key}"
                etype = err["type"]
                if etype == "extra_forbidden" and (owner, fld) in self._secret_fields:
                    continue  # already reported as an inline secret
                code = _PYDANTIC_CODES.get(etype, etype if "-" in etype else "invalid-value")
                msg = err["msg"]
                last = str(err["loc"][-1]) if err["loc"] else key
                if etype == "extra_forbidden":
                    msg = "unknown key"
                elif etype == "string_pattern_mismatch" and last == "name":
                    code = "invalid-name"
                if (
                    "-" not in etype
                    and etype != "missing"
                    and not isinstance(err.get("input"), (dict, list))
                    and not _SECRET_KEY.search(last)
                    and "password" not in last
                ):
                    msg = f"{msg} (got {err['input']!r})"
                self.error(file, owner, fld, msg, code)
            return None, where


def _role(raw: RawInventory, host: str) -> str | None:
    role, _, _ = raw.lookup(host, "role")
    if role:
        return str(role)
    platform = raw.attr(host, "platform")
    return {"eos": ROLE_SWITCH, "kubernetes": ROLE_CLUSTER}.get(str(platform))


def _ip_usable(ip: ipaddress.IPv4Address, net: ipaddress.IPv4Network) -> bool:
    return net.prefixlen >= 31 or ip not in (net.network_address, net.broadcast_address)


# --------------------------------------------------------------------------- build


@dataclass
class _PeerRef:
    """A peer with where it was written and whether it already failed a check."""

    peer: PeerData
    where: _Where
    node: str | None = None  # node-specific peer of this node
    switch: Switch | None = None  # the switch whose SVI it targets
    bad: bool = False


@dataclass
class _ByRole:
    """The hosts of the inventory sorted by role, each with its validated data."""

    nodes: dict[str, tuple[NodeData, _Where]] = field(default_factory=dict)
    switches: dict[str, tuple[SwitchData, _Where]] = field(default_factory=dict)
    cluster: tuple[str, CalicoData, _Where] | None = None
    cluster_hosts: list[str] = field(default_factory=list)
    switch_hosts: set[str] = field(default_factory=set)


def _sort_hosts(c: _Collector, raw: RawInventory) -> _ByRole:
    """Validate each host's data for its role; role errors reported once per host."""
    hosts_file = raw.host_file()
    out = _ByRole()
    # Hosts whose structure is already reported: do not pile a role error on top.
    broken = {i.host for i in c.issues if i.code in ("not-a-mapping", "unknown-group")}
    for name in raw.hosts:
        role = _role(raw, name)
        if role == ROLE_NODE:
            if not _K8S_NAME.match(name) or len(name) > 253:
                c.error(
                    hosts_file,
                    name,
                    "-",
                    "a Calico node's host name must be its Kubernetes node name "
                    "(lower-case letters, digits, '-' and '.')",
                    "invalid-name",
                )
            nd, where = c.model(NodeData, name, "node")
            if nd is not None:
                out.nodes[name] = (nd, where)
        elif role == ROLE_SWITCH:
            out.switch_hosts.add(name)
            sd, where = c.model(SwitchData, name, "switch")
            if sd is not None:
                out.switches[name] = (sd, where)
        elif role == ROLE_CLUSTER:
            out.cluster_hosts.append(name)
            if len(out.cluster_hosts) > 1:
                c.error(
                    hosts_file,
                    name,
                    "data.role",
                    f"a second cluster host (first: {out.cluster_hosts[0]})",
                    "duplicate-cluster",
                )
                continue
            cd, where = c.model(CalicoData, name, "calico")
            if cd is not None:
                out.cluster = (name, cd, where)
        elif name not in broken:
            c.error(
                hosts_file,
                name,
                "data.role",
                "unknown role (calico_node, cluster or switch; or platform eos/kubernetes)",
                "unknown-role",
            )
    _check_choices(c, raw, out)
    if not out.cluster_hosts:
        c.error(
            hosts_file,
            "-",
            "data.role",
            "no cluster host (role: cluster, or platform: kubernetes) in the inventory",
            "no-cluster",
        )
    return out


#: Data keys with a fixed set of values: key -> (the role whose hosts use it, its values).
_CHOICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "node_access": (ROLE_NODE, ("ssh", "exec")),
    "calico_api": (ROLE_CLUSTER, ("auto", "v3", "crd")),
}


def _check_choices(c: _Collector, raw: RawInventory, hosts: _ByRole) -> None:
    """``node_access`` of each node and ``calico_api`` of the cluster are among their values."""
    roles = {ROLE_NODE: list(hosts.nodes), ROLE_CLUSTER: hosts.cluster_hosts[:1]}
    for key, (role, allowed) in _CHOICES.items():
        for name in roles[role]:
            value, file, owner = raw.lookup(name, key)
            if value is not None and value not in allowed:
                c.error(
                    file,
                    owner,
                    f"data.{key}",
                    f"{value!r}: must be one of {', '.join(allowed)}",
                    "invalid-value",
                )


def build_intent(raw: RawInventory, issues: Iterable[Issue] = ()) -> IntentReport:
    """Validate the raw inventory and assemble the intent.

    Args:
        raw: the inventory as parsed YAML.
        issues: findings already made while loading (see :func:`load_checked_inventory`).

    Returns:
        An :class:`IntentReport`; ``intent`` is None when any error was found.
    """
    c = _Collector(raw, issues)
    hosts = _sort_hosts(c, raw)
    if hosts.cluster is None:
        return IntentReport(None, c.issues, raw)
    cname, calico, cwhere = hosts.cluster
    _check_calico(c, raw, cwhere, calico)
    switches = _build_switches(c, raw, hosts.switches, calico)
    nodes, neighbors = _build_nodes(c, hosts.nodes, switches, calico, hosts.switch_hosts)
    _check_peering(c, cwhere, calico, nodes, switches, hosts.nodes, hosts.switch_hosts)
    _check_cidrs_vs_networks(c, cwhere, calico, nodes, switches)
    _check_switch_side(c, cwhere, calico, switches, neighbors, hosts.switches)
    check_designs(
        c,
        cwhere,
        calico,
        nodes,
        switches,
        {n: w for n, (_sd, w) in hosts.switches.items()},
        hosts.nodes,
    )
    if c.has_errors():
        return IntentReport(None, c.issues, raw)
    intent = Intent(
        cluster=Cluster(
            name=cname,
            kubeconfig=_opt_str(raw.lookup(cname, "kubeconfig")[0]),
            context=_opt_str(raw.lookup(cname, "context")[0]),
            calico=calico,
        ),
        nodes=nodes,
        switches=[s.model_copy(update={"neighbors": neighbors[s.name]}) for s in switches.values()],
    )
    return IntentReport(intent, c.issues, raw)


def _opt_str(v: Any) -> str | None:
    return None if v is None else str(v)


def _check_secret_ref(c: _Collector, raw: RawInventory, w: _Where, sub: str, ref: str) -> None:
    if not ref.startswith("file:"):
        return
    p = Path(os.path.expanduser(ref[5:]))
    root = raw.paths.root
    p = (p if p.is_absolute() else root / p).resolve()
    if p == root or root in p.parents:
        c.err_at(
            w,
            sub,
            "the secret file is inside the project (it could be committed): keep it outside",
            "secret-in-repo",
        )


def _check_calico(c: _Collector, raw: RawInventory, w: _Where, cal: CalicoData) -> None:
    """Cluster-only rules: overlapping CIDRs, block size, communities, versions, ASN, ranges."""
    nets: list[tuple[str, ipaddress.IPv4Network]] = [("pod_cidr", cal.pod_cidr)]
    for attr in ("service_cluster_cidrs", "service_external_cidrs", "service_loadbalancer_cidrs"):
        for i, n in enumerate(getattr(cal, attr)):
            nets.append((f"{attr}.{i}", n))
    for b in range(len(nets)):
        for a in range(b):
            if nets[a][1].overlaps(nets[b][1]):
                c.err_at(
                    w,
                    nets[b][0],
                    f"{nets[b][1]} overlaps {w.field}.{nets[a][0]} ({nets[a][1]})",
                    "cidr-overlap",
                )
                break
    if cal.block_size < cal.pod_cidr.prefixlen:
        c.err_at(
            w,
            "block_size",
            f"/{cal.block_size} blocks do not fit in the pod CIDR {cal.pod_cidr}",
            "block-size",
        )
    if asn_reserved(cal.as_number):
        c.warn_at(w, "as_number", _asn_msg(cal.as_number), "asn-reserved")
    for rack, asn in cal.rack_as_numbers.items():
        if asn_reserved(asn):
            c.warn_at(w, f"rack_as_numbers.{rack}", _asn_msg(asn), "asn-reserved")
    for fld, n in [("pod_cidr", cal.pod_cidr)] + [
        (f"service_cluster_cidrs.{i}", n) for i, n in enumerate(cal.service_cluster_cidrs)
    ]:
        if not cidr_private(n):
            c.warn_at(
                w,
                fld,
                f"{n} is public address space, not RFC 1918 or RFC 6598 "
                "(it hides real Internet destinations from the cluster)",
                "cidr-public",
            )
    # communities
    names: set[str] = set()
    for i, com in enumerate(cal.communities):
        if com.name in names:
            c.err_at(
                w,
                f"communities.{i}.name",
                f"community {com.name!r} defined twice",
                "duplicate-community",
            )
        names.add(com.name)
        if not _community_ok(com.value):
            c.err_at(
                w,
                f"communities.{i}.value",
                f"{com.value!r}: standard communities are a:b (each 0-65535), large ones a:b:c "
                "(each 0-4294967295)",
                "invalid-community",
            )
    for i, pa in enumerate(cal.prefix_advertisements):
        for j, ref in enumerate(pa.communities):
            if ref not in names and not _community_ok(ref):
                c.err_at(
                    w,
                    f"prefix_advertisements.{i}.communities.{j}",
                    f"{ref!r} is neither a community defined in {w.field}.communities nor a "
                    "literal a:b / a:b:c value",
                    "unknown-community",
                )
    _check_config_versions(c, w, cal)
    for i, peer in enumerate(cal.peers):
        _check_peer_fields(c, raw, w, f"peers.{i}", peer, cal.version)


def _check_config_versions(c: _Collector, w: _Where, cal: CalicoData) -> None:
    """BGPConfiguration fields this Calico version lacks (set to a non-default value)."""
    have = supported_fields("BGPConfiguration", cal.version)
    for attr, cfield in _CALICO_CONFIG_FIELDS.items():
        value = getattr(cal, attr)
        if cfield in have or value in (None, []) or _CALICO_DEFAULTS.get(attr) == value:
            continue
        since = CALICO_FIELD_SINCE["BGPConfiguration"][cfield]
        c.err_at(
            w,
            attr,
            f"BGPConfiguration.{cfield} needs Calico 3.{since}+, this cluster runs {cal.version}",
            "calico-field-unsupported",
        )


def _community_ok(value: str) -> bool:
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return False
    limit = 65535 if len(parts) == 2 else 4294967295
    return all(int(p) <= limit for p in parts)


def _asn_msg(asn: int) -> str:
    why = next(w for lo, hi, w in RESERVED_ASNS if lo <= asn <= hi)
    return f"AS {asn} is {why}: use a private AS (64512-65534, 4200000000-4294967294)"


def _check_peer_fields(
    c: _Collector, raw: RawInventory, w: _Where, sub: str, peer: PeerData, version: str
) -> None:
    have = supported_fields("BGPPeer", version)
    for attr, pfield in _CALICO_PEER_FIELDS.items():
        if getattr(peer, attr) not in (None, []) and pfield not in have:
            since = CALICO_FIELD_SINCE["BGPPeer"][pfield]
            c.err_at(
                w,
                f"{sub}.{attr}",
                f"BGPPeer.{pfield} needs Calico 3.{since}+, this cluster runs {version}",
                "calico-field-unsupported",
            )
    if peer.keep_original_next_hop is not None and peer.next_hop_mode is not None:
        c.err_at(
            w,
            f"{sub}.keep_original_next_hop",
            "set either keep_original_next_hop or next_hop_mode (its 3.30 successor), not both",
            "conflicting-fields",
        )
    _check_peer_kind(c, w, sub, peer)
    if peer.as_number is not None and asn_reserved(peer.as_number):
        c.warn_at(w, f"{sub}.as_number", _asn_msg(peer.as_number), "asn-reserved")
    if peer.password_ref:
        _check_secret_ref(c, raw, w, f"{sub}.password_ref", peer.password_ref)


def _check_peer_kind(c: _Collector, w: _Where, sub: str, peer: PeerData) -> None:
    """A peer is a switch (``peer_ip`` + ``as_number``) or nodes (``peer_selector``)."""
    if peer.peer_selector is not None:
        for attr in ("peer_ip", "as_number"):
            if getattr(peer, attr) is not None:
                c.err_at(
                    w,
                    f"{sub}.{attr}",
                    "a peer_selector peer takes its peers' addresses and AS numbers from the "
                    "selected nodes: leave peer_ip and as_number out",
                    "conflicting-fields",
                )
    elif peer.peer_ip is None:
        c.err_at(w, f"{sub}.peer_ip", "missing (or set peer_selector)", "missing-field")
    elif peer.as_number is None:
        c.err_at(w, f"{sub}.as_number", "missing", "missing-field")


def _build_switches(
    c: _Collector,
    raw: RawInventory,
    switch_data: dict[str, tuple[SwitchData, _Where]],
    calico: CalicoData,
) -> dict[str, Switch]:
    switches: dict[str, Switch] = {}
    router_ids: dict[ipaddress.IPv4Address, str] = {}
    svis: dict[ipaddress.IPv4Address, str] = {}
    for sname, (sd, w) in switch_data.items():
        if sd.router_id in router_ids:
            c.err_at(
                w,
                "router_id",
                f"{sd.router_id} is also the router-id of {router_ids[sd.router_id]}",
                "duplicate-router-id",
            )
        router_ids.setdefault(sd.router_id, sname)
        if sd.svi.ip in svis:
            c.err_at(w, "svi", f"{sd.svi.ip} is also the SVI of {svis[sd.svi.ip]}", "duplicate-ip")
        svis.setdefault(sd.svi.ip, sname)
        if not _ip_usable(sd.svi.ip, sd.svi.network):
            c.err_at(
                w,
                "svi",
                f"{sd.svi} is the network or broadcast address of its subnet",
                "ip-not-usable",
            )
        if asn_reserved(sd.asn):
            c.warn_at(w, "asn", _asn_msg(sd.asn), "asn-reserved")
        if sd.bgp_password_ref:
            _check_secret_ref(c, raw, w, "bgp_password_ref", sd.bgp_password_ref)
        eos_version, _, _ = raw.lookup(sname, "eos_version")
        switches[sname] = Switch(
            name=sname, eos_version=_opt_str(eos_version), data=sd, neighbors=[]
        )
    return switches


def _node_tors(
    c: _Collector, w: _Where, nd: NodeData, switches: dict[str, Switch], switch_hosts: set[str]
) -> tuple[list[str], list[str]] | None:
    """The switches the node peers with and those it is cabled to (None: reported).

    ``tor`` is the one-item shorthand of ``tors``; without either, a node peers with the
    switches of its rack (``labels.rack``), or with the only switch. ``tors: []`` peers with
    none (a route reflector client): it is cabled to its rack's switches.
    """
    if nd.tor is not None and nd.tors is not None:
        c.err_at(
            w,
            "tors",
            "set either tor or tors (tor is the one-item shorthand)",
            "conflicting-fields",
        )
        return None
    rack = nd.labels.get(RACK_LABEL)
    rack_members = [n for n, s in switches.items() if rack is not None and s.data.rack == rack]
    if nd.tors is None and nd.tor is None:
        named = rack_members or (list(switches) if len(switches) == 1 else [])
        if not named:
            c.err_at(
                w,
                "tor",
                "required when the inventory has more than one switch (or "
                "set labels.rack to a rack whose switches set data.switch.rack)",
                "missing-tor",
            )
            return None
        return named, named
    listed = [nd.tor] if nd.tor is not None else list(nd.tors or [])
    sub = "tor" if nd.tor is not None else "tors"
    tors: list[str] = []
    for i, name in enumerate(listed):
        fld = sub if nd.tor is not None else f"tors.{i}"
        if name in tors:
            c.err_at(w, fld, f"{name!r} is listed twice", "invalid-value")
        elif name not in switches:
            if name not in switch_hosts:  # else: the switch itself is invalid (reported)
                c.err_at(w, fld, f"unknown switch {name!r}", "unknown-tor")
            return None
        else:
            tors.append(name)
    attached = tors or rack_members or (list(switches) if len(switches) == 1 else [])
    if not attached:
        c.err_at(
            w,
            "tors",
            "a node that peers with no switch (tors: []) needs labels.rack "
            "naming a rack whose switches set data.switch.rack",
            "missing-tor",
        )
        return None
    return tors, attached


def _check_bgp_ip(c: _Collector, w: _Where, nd: NodeData, sw: Switch, svis: dict[Any, str]) -> bool:
    """The node's BGP address lies in its switch's peering subnet, and is usable there."""
    subnet = sw.peering_subnet
    if nd.bgp_ip in svis:
        c.err_at(w, "bgp_ip", f"{nd.bgp_ip} is {svis[nd.bgp_ip]}'s own SVI address", "ip-is-svi")
    elif nd.bgp_ip not in subnet:
        c.err_at(
            w,
            "bgp_ip",
            f"{nd.bgp_ip} is outside {sw.name}'s peering subnet {subnet} (VLAN "
            f"{sw.data.peering_vlan})",
            "ip-outside-subnet",
        )
    elif not _ip_usable(nd.bgp_ip, subnet):
        c.err_at(
            w,
            "bgp_ip",
            f"{nd.bgp_ip} is the network or broadcast address of {subnet}",
            "ip-not-usable",
        )
    else:
        return True
    return False


def _node_addresses(
    c: _Collector, node_data: dict[str, tuple[NodeData, _Where]]
) -> dict[str, tuple[NodeData, _Where]]:
    """Every node, after its management address and AS are checked (duplicates reported)."""
    mgmt_ips: dict[ipaddress.IPv4Address, str] = {}
    out: dict[str, tuple[NodeData, _Where]] = {}
    for nname, (nd, w) in node_data.items():
        if nd.mgmt_ip is not None:
            if nd.mgmt_ip in mgmt_ips:
                c.err_at(
                    w,
                    "mgmt_ip",
                    f"{nd.mgmt_ip} is also the management IP of {mgmt_ips[nd.mgmt_ip]}",
                    "duplicate-ip",
                )
            mgmt_ips.setdefault(nd.mgmt_ip, nname)
        if nd.as_number is not None and asn_reserved(nd.as_number):
            c.warn_at(w, "as_number", _asn_msg(nd.as_number), "asn-reserved")
        out[nname] = (nd, w)
    return out


def _build_nodes(
    c: _Collector,
    node_data: dict[str, tuple[NodeData, _Where]],
    switches: dict[str, Switch],
    calico: CalicoData,
    switch_hosts: set[str],
) -> tuple[list[Node], dict[str, list[Neighbor]]]:
    nodes: list[Node] = []
    bgp_ips: dict[ipaddress.IPv4Address, str] = {}
    svis = {s.data.svi.ip: s.name for s in switches.values()}
    neighbors: dict[str, list[Neighbor]] = {s: [] for s in switches}
    for nname, (nd, w) in _node_addresses(c, node_data).items():
        found = _node_tors(c, w, nd, switches, switch_hosts)
        if found is None:
            continue
        tors, attached = found
        if nd.bgp_ip in bgp_ips:
            msg = f"{nd.bgp_ip} is also the BGP IP of {bgp_ips[nd.bgp_ip]}"
            c.err_at(w, "bgp_ip", msg, "duplicate-ip")
            continue
        bgp_ips[nd.bgp_ip] = nname
        for sname in attached:  # one report per node: the pair shares its subnet
            if not _check_bgp_ip(c, w, nd, switches[sname], svis):
                break
        rack = nd.labels.get(RACK_LABEL)
        override = nd.as_number
        if override is None and rack is not None:
            override = calico.rack_as_numbers.get(rack)
        as_number = override if override is not None else calico.as_number
        for i, peer in enumerate(nd.peers):
            _check_peer_fields(c, c.raw, w, f"peers.{i}", peer, calico.version)
        nodes.append(
            Node(
                name=nname,
                bgp_ip=nd.bgp_ip,
                mgmt_ip=nd.mgmt_ip,
                as_number=as_number,
                as_override=override,
                tors=tors,
                peers=nd.peers,
                labels=nd.labels,
                rack=rack,
                route_reflector_cluster_id=nd.route_reflector_cluster_id,
                attached=attached,
            )
        )
        for tor in tors:
            neighbors[tor].append(
                Neighbor(address=nd.bgp_ip, remote_as=as_number, node=nname, description=nname)
            )
    return nodes, neighbors


def _peer_refs(
    cw: _Where, calico: CalicoData, nodes: list[Node], node_data: dict[str, tuple[NodeData, _Where]]
) -> list[_PeerRef]:
    """Every peer of the intent with where it is defined: cluster peers first, then nodes'."""
    refs: list[_PeerRef] = [
        _PeerRef(p, _Where(cw.file, cw.host, f"{cw.field}.peers.{i}"))
        for i, p in enumerate(calico.peers)
    ]
    for node in nodes:
        nw = node_data[node.name][1]
        refs.extend(
            _PeerRef(p, _Where(nw.file, nw.host, f"{nw.field}.peers.{i}"), node=node.name)
            for i, p in enumerate(node.peers)
        )
    return refs


def _check_peer_target(
    c: _Collector, ref: _PeerRef, switches: dict[str, Switch], by_svi: dict[Any, Switch]
) -> None:
    """The peer's IP is a switch's SVI, with that switch's AS and the same password setting."""
    p, w = ref.peer, ref.where
    if p.peer_ip is None or p.peer_selector is not None:
        # a peer_selector peer: other nodes, no switch (a peer with both is reported)
        ref.bad = p.peer_selector is None or p.peer_ip is not None
        return
    sw = by_svi.get(p.peer_ip)
    if sw is None:
        near = [s for s in switches.values() if p.peer_ip in s.peering_subnet]
        hint = (
            f"{near[0].name}'s SVI address is {near[0].data.svi.ip}"
            if near
            else "it is no switch's SVI address"
        )
        c.err_at(
            w, "peer_ip", f"peer IP {p.peer_ip} is not a switch's SVI: {hint}", "peer-ip-not-svi"
        )
        ref.bad = True
        return
    ref.switch = sw
    if p.as_number != sw.data.asn:
        c.err_at(
            w,
            "as_number",
            f"AS {p.as_number} but switch {sw.name} ({p.peer_ip}) runs AS {sw.data.asn}",
            "peer-as-mismatch",
        )
        ref.bad = True
    if (p.password_ref is None) != (sw.data.bgp_password_ref is None):
        has, lacks = (
            ("this peer", f"switch {sw.name}")
            if p.password_ref
            else (f"switch {sw.name}", "this peer")
        )
        c.err_at(
            w,
            "password_ref",
            f"{has} sets a BGP password but {lacks} does not: the session cannot come up",
            "password-one-sided",
        )
        ref.bad = True


def _check_peering(
    c: _Collector,
    cw: _Where,
    calico: CalicoData,
    nodes: list[Node],
    switches: dict[str, Switch],
    node_data: dict[str, tuple[NodeData, _Where]],
    switch_hosts: set[str],
) -> None:
    """Both ends must agree: peer IP = a switch's SVI, same AS, both or neither with a password.

    Every node must reach its own switch through at least one applicable peer, and no peer may
    send a node to a switch that has no neighbor for it.
    """
    by_svi = {s.data.svi.ip: s for s in switches.values()}
    refs = _peer_refs(cw, calico, nodes, node_data)
    names: dict[str, _Where] = {}
    for ref in refs:
        p, w = ref.peer, ref.where
        if p.name in names:
            c.err_at(
                w,
                "name",
                f"BGPPeer name {p.name!r} already used at {names[p.name].host} "
                f"{names[p.name].field}",
                "duplicate-peer-name",
            )
        names.setdefault(p.name, w)
        if (
            p.peer_ip is not None
            and by_svi.get(p.peer_ip) is None
            and len(switches) < len(switch_hosts)
        ):
            ref.bad = True  # an invalid switch (reported) may be the one it targets
            continue
        _check_peer_target(c, ref, switches, by_svi)
    _check_peer_coverage(c, cw, calico, nodes, switches, node_data, refs)


def _applicable_refs(
    refs: list[_PeerRef], calico: CalicoData, nodes: list[Node]
) -> dict[str, list[tuple[_PeerRef, bool]]]:
    """Node -> the peers that apply to it, each with whether that is certain.

    A selector this module cannot evaluate might apply (not certain). Nodes with equal labels
    share the answer.
    """
    cluster_refs = refs[: len(calico.peers)]
    node_refs: dict[str, list[_PeerRef]] = {}
    for ref in refs[len(calico.peers) :]:
        assert ref.node is not None
        node_refs.setdefault(ref.node, []).append(ref)
    by_labels: dict[tuple[tuple[str, str], ...], list[tuple[_PeerRef, bool]]] = {}
    out: dict[str, list[tuple[_PeerRef, bool]]] = {}
    for node in nodes:
        key = tuple(sorted(node.labels.items()))
        applicable = by_labels.get(key)
        if applicable is None:
            applicable = []
            for ref in cluster_refs:
                sel = ref.peer.node_selector
                terms = parse_selector(sel) if sel is not None else ()
                if terms is None:
                    applicable.append((ref, False))  # cannot evaluate: might apply
                elif all(node.labels.get(k) == v for k, v in terms):
                    applicable.append((ref, True))
            by_labels[key] = applicable
        out[node.name] = applicable + [(r, True) for r in node_refs.get(node.name, [])]
    return out


def _check_peer_coverage(
    c: _Collector,
    cw: _Where,
    calico: CalicoData,
    nodes: list[Node],
    switches: dict[str, Switch],
    node_data: dict[str, tuple[NodeData, _Where]],
    refs: list[_PeerRef],
) -> None:
    """Each node reaches each of its switches; no peer sends a node to another switch."""
    wrong: dict[int, list[str]] = {}
    mesh_needed: list[str] = []
    applicable = _applicable_refs(refs, calico, nodes)
    for node in nodes:
        reached: set[str] = set()
        relayed = False
        for ref, certain in applicable[node.name]:
            if ref.bad:
                reached.update(node.tors)  # already reported on the peer itself
                relayed = True
                continue
            if ref.peer.peer_selector is not None:
                relayed = True  # node-to-node sessions (route reflectors) replace the mesh
                continue
            if ref.switch is None:
                continue
            if ref.switch.name in node.tors:
                reached.add(ref.switch.name)
                if ref.peer.as_number != node.as_number or ref.switch.data.route_reflector:
                    relayed = True
            elif certain:
                wrong.setdefault(id(ref), []).append(node.name)
        if node.is_route_reflector:
            relayed = True
        nw = node_data[node.name][1]
        written = node_data[node.name][0]
        for i, tor in enumerate(node.tors):
            if tor in reached:
                continue
            sw = switches[tor]
            fld = (
                "tor"
                if written.tor is not None
                else ("tors" if written.tors is None else f"tors.{i}")
            )
            c.err_at(
                nw,
                fld,
                f"no Calico BGPPeer reaches {sw.name} ({sw.data.svi.ip}) from this node, but "
                f"{sw.name} will have it as a neighbor: add a peer in {cw.field}.peers (global or "
                "node_selector) or in data.node.peers",
                "no-peer",
            )
        if not relayed:
            mesh_needed.append(node.name)
    for ref in refs:
        hit = wrong.get(id(ref))
        target = ref.switch
        if hit and target is not None:
            c.err_at(
                ref.where,
                "peer_ip",
                f"applies to {len(hit)} node(s) that do not peer with {target.name} (e.g. "
                f"{hit[0]}), but {target.name} has no neighbor for them: narrow it with "
                "node_selector",
                "peer-wrong-switch",
            )
    if not calico.node_to_node_mesh and mesh_needed:
        c.warn_at(
            cw,
            "node_to_node_mesh",
            f"the node-to-node mesh is off but {len(mesh_needed)} node(s) (e.g. {mesh_needed[0]}) "
            "have no replacement: their iBGP switch does not reflect routes (set "
            "route_reflector: true on the switch, use eBGP, route reflectors, or keep the mesh)",
            "mesh-off-no-replacement",
        )


def _check_cidrs_vs_networks(
    c: _Collector,
    cw: _Where,
    calico: CalicoData,
    nodes: list[Node],
    switches: dict[str, Switch],
) -> None:
    """Pod and service CIDRs must not overlap the networks the nodes and switches live on."""
    nets: list[tuple[str, ipaddress.IPv4Network]] = [("pod_cidr", calico.pod_cidr)]
    for attr in ("service_cluster_cidrs", "service_external_cidrs", "service_loadbalancer_cidrs"):
        nets.extend((f"{attr}.{i}", n) for i, n in enumerate(getattr(calico, attr)))
    infra: list[tuple[str, ipaddress.IPv4Network]] = []
    for s in switches.values():
        infra.append((f"{s.name}'s peering subnet", s.peering_subnet))
        mv = s.data.management_vrf
        if mv is not None and mv.address is not None:
            infra.append((f"{s.name}'s management network", mv.address.network))
    for fld, net in nets:
        hit = next((f"{what} {n}" for what, n in infra if net.overlaps(n)), None)
        if hit is None:
            inside = [n.name for n in nodes if n.mgmt_ip is not None and n.mgmt_ip in net]
            if inside:
                hit = f"the management IP of {len(inside)} node(s) (e.g. {inside[0]})"
        if hit is not None:
            c.err_at(cw, fld, f"{net} overlaps {hit}", "cidr-overlap")


def _check_switch_side(
    c: _Collector,
    cw: _Where,
    calico: CalicoData,
    switches: dict[str, Switch],
    neighbors: dict[str, list[Neighbor]],
    switch_data: dict[str, tuple[SwitchData, _Where]],
) -> None:
    """Switch-side warnings: listen port, ECMP for service addresses."""
    unmatched: list[str] = []
    advertises_services = bool(
        calico.service_cluster_cidrs
        or calico.service_external_cidrs
        or calico.service_loadbalancer_cidrs
    )
    for s in switches.values():
        w = switch_data[s.name][1]
        if not neighbors[s.name]:
            continue
        port = s.data.neighbor_port
        if port is None and calico.listen_port != 179:
            unmatched.append(s.name)
        elif port is not None and port != calico.listen_port:
            c.warn_at(
                w,
                "neighbor_port",
                f"{port} but Calico listens on {calico.listen_port} ({cw.field}.listen_port): "
                "the switch cannot open sessions; only the nodes can",
                "listen-port",
            )
        if advertises_services and len(neighbors[s.name]) > 1 and (s.data.maximum_paths or 1) < 2:
            c.warn_at(
                w,
                "maximum_paths",
                f"{len(neighbors[s.name])} nodes advertise the service CIDRs but without "
                "maximum-paths the switch uses one of them only (no ECMP)",
                "no-maximum-paths",
            )
    if unmatched:
        c.warn_at(
            cw,
            "listen_port",
            f"Calico listens on {calico.listen_port}, not 179, and {len(unmatched)} switch(es) "
            f"(e.g. {unmatched[0]}) have no matching data.switch.neighbor_port: they cannot open "
            "sessions to the nodes; only the nodes can",
            "listen-port",
        )


# --------------------------------------------------------------------------- entry points


def check_inventory(paths: ProjectPaths) -> IntentReport:
    """Load the inventory and build the intent, returning every issue (never raising for them).

    Raises:
        ValidationError: only when the files cannot be read at all (missing, invalid YAML).
    """
    raw, issues = load_checked_inventory(paths)
    return build_intent(raw, issues)


def load_intent(paths: ProjectPaths, *, strict: bool = False) -> IntentReport:
    """Read the inventory and build the intent.

    Args:
        paths: the project folders.
        strict: treat warnings as errors.

    Raises:
        ValidationError: the intent has errors (or warnings, with ``strict``).
    """
    report = check_inventory(paths)
    bad = report.issues if strict else report.errors
    if bad:
        raise ValidationError(bad)
    return report
