"""Build and validate the :class:`~fabric.models.intent.Intent` from the inventory.

Every finding is an :class:`~fabric.errors.Issue` that names the file, the host and the field.
Errors are collected (not raised one at a time) so an operator sees all of them in one pass;
:func:`load_intent` raises :class:`~fabric.errors.ValidationError` if there is any.
Nothing here opens a connection.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from fabric.errors import Issue, ValidationError
from fabric.inventory import RawInventory, load_raw_inventory
from fabric.models.intent import (
    CalicoData,
    Cluster,
    Intent,
    Neighbor,
    Node,
    NodeData,
    Switch,
    SwitchData,
)
from fabric.paths import ProjectPaths

ROLE_NODE = "calico_node"
ROLE_CLUSTER = "cluster"
ROLE_SWITCH = "switch"


@dataclass
class IntentReport:
    """The intent (None when there are errors) and every issue found."""

    intent: Intent | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> list[Issue]:
        """Issues of severity error."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues of severity warning."""
        return [i for i in self.issues if i.severity == "warning"]


class _Collector:
    def __init__(self, raw: RawInventory) -> None:
        self.raw = raw
        self.issues: list[Issue] = []

    def error(self, file: str, host: str, fld: str, msg: str, code: str) -> None:
        self.issues.append(Issue("error", file, host, fld, msg, code))

    def warn(self, file: str, host: str, fld: str, msg: str, code: str) -> None:
        self.issues.append(Issue("warning", file, host, fld, msg, code))

    def model(
        self, cls: type[BaseModel], host: str, key: str
    ) -> tuple[Any, str, str]:
        """Validate ``data[key]`` of ``host`` into ``cls``; record errors with their field."""
        value, file, owner = self.raw.lookup(host, key)
        if value is None:
            self.error(file, host, f"data.{key}", "missing", "missing-field")
            return None, file, owner
        try:
            return cls.model_validate(value), file, owner
        except PydanticValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                fld = f"data.{key}.{loc}" if loc else f"data.{key}"
                msg = err["msg"]
                if err["type"] == "extra_forbidden":
                    msg = "unknown key"
                elif "input" in err and not isinstance(err["input"], (dict, list)):
                    msg = f"{msg} (got {err['input']!r})"
                self.error(file, owner, fld, msg, err["type"])
            return None, file, owner


def _role(raw: RawInventory, host: str) -> str | None:
    role, _, _ = raw.lookup(host, "role")
    if role:
        return str(role)
    platform = raw.attr(host, "platform")
    return {"eos": ROLE_SWITCH, "kubernetes": ROLE_CLUSTER}.get(str(platform))


def build_intent(raw: RawInventory) -> IntentReport:
    """Validate the raw inventory and assemble the intent.

    Returns:
        An :class:`IntentReport`; ``intent`` is None when any error was found.
    """
    c = _Collector(raw)
    hosts_file = raw.host_file()
    node_data: dict[str, tuple[NodeData, str]] = {}
    switch_data: dict[str, tuple[SwitchData, str]] = {}
    cluster: tuple[str, CalicoData, str] | None = None

    for name in raw.hosts:
        role = _role(raw, name)
        if role == ROLE_NODE:
            nd, file, _ = c.model(NodeData, name, "node")
            if nd is not None:
                node_data[name] = (nd, file)
        elif role == ROLE_SWITCH:
            sd, file, _ = c.model(SwitchData, name, "switch")
            if sd is not None:
                switch_data[name] = (sd, file)
        elif role == ROLE_CLUSTER:
            cd, file, _ = c.model(CalicoData, name, "calico")
            if cluster is not None:
                c.error(hosts_file, name, "data.role", f"a second cluster host (first: {cluster[0]})", "duplicate-cluster")
            elif cd is not None:
                cluster = (name, cd, file)
        else:
            c.error(hosts_file, name, "data.role", "unknown role (calico_node, cluster or switch; or platform eos/kubernetes)", "unknown-role")

    if cluster is None:
        if not any(i.code == "missing-field" or i.field.startswith("data.calico") for i in c.issues):
            c.error(hosts_file, "-", "data.calico", "no cluster host (role: cluster) in the inventory", "no-cluster")
        return IntentReport(None, c.issues)

    cname, calico, cfile = cluster
    _check_calico(c, cname, cfile, calico)

    # ---- switches
    switches: dict[str, Switch] = {}
    for sname, (sd, _sfile) in switch_data.items():
        eos_version, _, _ = raw.lookup(sname, "eos_version")
        switches[sname] = Switch(name=sname, eos_version=eos_version, data=sd, neighbors=[])

    # ---- nodes
    nodes: list[Node] = []
    seen_ips: dict[ipaddress.IPv4Address, str] = {}
    neighbors: dict[str, list[Neighbor]] = {s: [] for s in switches}
    for nname, (nd, nfile) in node_data.items():
        tor = nd.tor
        if tor is None:
            if len(switches) == 1:
                tor = next(iter(switches))
            else:
                c.error(nfile, nname, "data.node.tor", "required when the inventory has more than one switch", "missing-tor")
                continue
        if tor not in switches:
            if tor not in switch_data:
                c.error(nfile, nname, "data.node.tor", f"unknown switch {tor!r}", "unknown-tor")
            continue
        if nd.bgp_ip in seen_ips:
            c.error(nfile, nname, "data.node.bgp_ip", f"{nd.bgp_ip} already used by {seen_ips[nd.bgp_ip]}", "duplicate-ip")
            continue
        seen_ips[nd.bgp_ip] = nname
        sw = switches[tor]
        if nd.bgp_ip not in sw.peering_subnet:
            c.error(nfile, nname, "data.node.bgp_ip", f"{nd.bgp_ip} is outside {tor}'s peering subnet {sw.peering_subnet}", "ip-outside-subnet")
        elif nd.bgp_ip == sw.data.svi.ip:
            c.error(nfile, nname, "data.node.bgp_ip", f"{nd.bgp_ip} is {tor}'s own SVI address", "ip-is-svi")
        as_number = nd.as_number if nd.as_number is not None else calico.as_number
        node = Node(
            name=nname,
            bgp_ip=nd.bgp_ip,
            mgmt_ip=nd.mgmt_ip,
            as_number=as_number,
            as_override=nd.as_number,
            tor=tor,
            peers=nd.peers,
            labels=nd.labels,
        )
        nodes.append(node)
        neighbors[tor].append(
            Neighbor(address=nd.bgp_ip, remote_as=as_number, node=nname, description=nname)
        )

    switch_list = [
        s.model_copy(update={"neighbors": neighbors[s.name]}) for s in switches.values()
    ]
    if c.issues and any(i.severity == "error" for i in c.issues):
        return IntentReport(None, c.issues)

    intent = Intent(
        cluster=Cluster(
            name=cname,
            kubeconfig=_opt_str(raw.lookup(cname, "kubeconfig")[0]),
            context=_opt_str(raw.lookup(cname, "context")[0]),
            calico=calico,
        ),
        nodes=nodes,
        switches=switch_list,
    )
    _check_peering(c, intent, cfile, node_data)
    if any(i.severity == "error" for i in c.issues):
        return IntentReport(None, c.issues)
    return IntentReport(intent, c.issues)


def _opt_str(v: Any) -> str | None:
    return None if v is None else str(v)


def _check_calico(c: _Collector, host: str, file: str, cal: CalicoData) -> None:
    """Cluster-only rules: overlapping CIDRs, reserved ASNs, public ranges."""
    nets = [("data.calico.pod_cidr", cal.pod_cidr)]
    for i, n in enumerate(cal.service_cluster_cidrs):
        nets.append((f"data.calico.service_cluster_cidrs.{i}", n))
    for a in range(len(nets)):
        for b in range(a + 1, len(nets)):
            if nets[a][1].overlaps(nets[b][1]):
                c.error(file, host, nets[b][0], f"{nets[b][1]} overlaps {nets[a][0]} {nets[a][1]}", "cidr-overlap")


def _check_peering(
    c: _Collector, intent: Intent, cfile: str, node_data: dict[str, tuple[NodeData, str]]
) -> None:
    """Both ends must agree: each node has a peer for its switch's SVI with the switch's AS."""
    for node in intent.nodes:
        sw = intent.switch(node.tor)
        peers = intent.peers_for(node)
        match = [p for p in peers if p.peer_ip == sw.data.svi.ip]
        if not match:
            where = "data.calico.peers"
            if peers:
                p0 = intent.cluster.calico.peers.index(peers[0]) if peers[0] in intent.cluster.calico.peers else 0
                c.error(cfile, intent.cluster.name, f"{where}.{p0}.peer_ip", f"peer IP {peers[0].peer_ip} is not {sw.name}'s SVI address {sw.data.svi.ip} (node {node.name})", "peer-ip-not-svi")
            else:
                c.error(cfile, intent.cluster.name, where, f"no BGPPeer reaches {sw.name} ({sw.data.svi.ip}) for node {node.name}", "no-peer")
            continue
        for p in match:
            if p.as_number != sw.data.asn:
                idx = intent.cluster.calico.peers.index(p) if p in intent.cluster.calico.peers else 0
                c.error(cfile, intent.cluster.name, f"data.calico.peers.{idx}.as_number", f"AS {p.as_number} but switch {sw.name} runs AS {sw.data.asn}", "peer-as-mismatch")


def load_intent(paths: ProjectPaths, *, strict: bool = False) -> IntentReport:
    """Read the inventory and build the intent.

    Args:
        paths: the project folders.
        strict: treat warnings as errors.

    Raises:
        ValidationError: the intent has errors (or warnings, with ``strict``).
    """
    report = build_intent(load_raw_inventory(paths))
    bad = report.issues if strict else report.errors
    if bad:
        raise ValidationError(bad)
    return report
