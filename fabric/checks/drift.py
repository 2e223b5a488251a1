"""Drift: the devices' configuration against what the intent renders, compared semantically."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from fabric.checks.base import Check, CheckInput, HostFindings, Status, register
from fabric.checks.evidence import Evidence
from fabric.errors import ParseError

#: Keys that identify an item in a list of mappings (compared as a set keyed by them).
_LIST_KEYS = ("name", "address", "cidr", "prefix", "peerIP", "neighbor")
_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _scalar(v: Any) -> str:
    """Normalise a scalar: Go durations to seconds, CIDRs canonical, booleans lower-case."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v).strip()
    if _DURATION.match(s):
        total = sum(float(n) * _UNIT[u] for n, u in _DURATION_PART.findall(s))
        return f"{total:g}s"
    if "/" in s:
        try:
            return str(ipaddress.ip_network(s, strict=False))
        except ValueError:
            return s
    return s


def flatten(obj: Any, prefix: str = "") -> dict[str, str]:
    """Flatten nested data to ``path -> normalised value`` for a semantic comparison.

    Lists of mappings are keyed by their identifying field (``name``, ``address``, ``cidr``
    ...), lists of scalars compared as sorted sets; None and empty collections mean absent.

    >>> flatten({"spec": {"peers": [{"name": "a", "as": 1}], "t": "2m0s"}})
    {'spec.peers[a].name': 'a', 'spec.peers[a].as': '1', 'spec.t': '120s'}
    """
    out: dict[str, str] = {}
    if obj is None:
        return out
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(obj, list):
        if not obj:
            return out
        if all(isinstance(i, dict) for i in obj):
            key = next((k for k in _LIST_KEYS if all(k in i for i in obj)), None)
            for n, item in enumerate(obj):
                label = _scalar(item[key]) if key else str(n)
                out.update(flatten(item, f"{prefix}[{label}]"))
            return out
        out[prefix] = ", ".join(sorted(_scalar(i) for i in obj))
        return out
    out[prefix] = _scalar(obj)
    return out


def semantic_diff(expected: Any, actual: Any) -> list[str]:
    """Human-readable differences between two structures (empty: equal).

    >>> semantic_diff({"a": 1, "b": [1, 2]}, {"a": 2, "b": [2, 1], "c": "x"})
    ["a: expected '1', found '2'", "c: unexpected 'x'"]
    """
    e, a = flatten(expected), flatten(actual)
    lines: list[str] = []
    for k in sorted(e.keys() | a.keys()):
        if k not in a:
            lines.append(f"{k}: expected {e[k]!r}, missing")
        elif k not in e:
            lines.append(f"{k}: unexpected {a[k]!r}")
        elif e[k] != a[k]:
            lines.append(f"{k}: expected {e[k]!r}, found {a[k]!r}")
    return lines


def config_blocks(text: str) -> dict[str, list[str]]:
    r"""Split EOS configuration into top-level blocks: header -> child lines (with their path).

    Whitespace runs are collapsed; ``!`` comments and ``end`` are dropped.

    >>> config_blocks("vlan 10\n   name a\n!\nip routing\n")
    {'vlan 10': ['name a'], 'ip routing': []}
    """
    blocks: dict[str, list[str]] = {}
    stack: list[tuple[int, str]] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("!") or stripped == "end":
            continue
        indent = len(raw) - len(raw.lstrip())
        line = " ".join(stripped.split())
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not stack:
            blocks.setdefault(line, [])
            stack = [(indent, line)]
            continue
        path = " > ".join([*(s for _, s in stack[1:]), line])
        blocks[stack[0][1]].append(path)
        stack.append((indent, line))
    return blocks


class SwitchConfigDriftInput(CheckInput):
    """Inputs of :class:`VerifySwitchConfigDrift`."""

    #: Compare only top-level blocks starting with one of these (None: every rendered block).
    sections: list[str] | None = None


#: ``router bgp`` statements the parsed model does not carry, compared line for line.
_BGP_LINES = re.compile(
    r"^(maximum-paths \d.*|neighbor \S+ (allowas-in|route-reflector-client)\b.*)$"
)


def _bgp_lines(
    out: HostFindings, sw: str, want: dict[str, list[str]], have: dict[str, list[str]]
) -> int:
    """Compare the design's BGP lines (ECMP, allowas-in, route-reflector-client) as sets."""

    def pick(blocks: dict[str, list[str]]) -> set[str]:
        lines = next((v for k, v in blocks.items() if k.startswith("router bgp")), [])
        return {line for line in lines if _BGP_LINES.match(line)}

    expected, actual = pick(want), pick(have)
    for line in sorted(expected - actual):
        out.add(sw, Status.FAIL, f"router bgp: missing {line!r}", subject="router bgp")
    for line in sorted(actual - expected):
        out.add(sw, Status.FAIL, f"router bgp: unexpected {line!r}", subject="router bgp")
    return len(expected ^ actual)


@register
class VerifySwitchConfigDrift(Check[SwitchConfigDriftInput]):
    """Each switch's running configuration equals what the intent renders, where fabric manages it.

    ``router bgp`` is compared semantically (both sides parsed: AS, router-id, maximum-paths,
    neighbors with remote-as, description, peer group, password set or not; address families;
    order does not matter), and its ``maximum-paths``, ``allowas-in`` and
    ``route-reflector-client`` lines as sets. Every other block the template renders
    (``vlan``, the SVI, loopbacks, the management VRF and interface, ``ip routing``, static
    routes) must be present with the same lines, in any order.
    Pass: no difference. Fail: each difference named (block, line or field, expected and
    found). Error: the switch's running-config was not collected or could not be parsed.
    """

    name = "VerifySwitchConfigDrift"
    description = "switch: router bgp, VLAN, SVI ... equal the rendered intent"
    Input = SwitchConfigDriftInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Compare each switch's running-config with its rendered configuration."""
        from fabric.parsing import parse

        for sw in state.judged_switches:
            out.touch(sw.name)
            st = state.switches.get(sw.name)
            rendered = state.switch_configs.get(sw.name)
            if st is None or st.running_config_text is None or st.running_config is None:
                out.add(sw.name, Status.ERROR, state.failure_message(sw.name))
                continue
            if rendered is None:
                out.add(sw.name, Status.ERROR, "no rendered configuration for this switch")
                continue
            found = 0
            want_blocks = config_blocks(rendered)
            have_blocks = config_blocks(st.running_config_text)
            for header, children in want_blocks.items():
                if header.startswith("router bgp"):
                    continue
                if self.inputs.sections is not None and not any(
                    header.startswith(s) for s in self.inputs.sections
                ):
                    continue
                if header not in have_blocks:
                    out.add(sw.name, Status.FAIL, f"missing: {header}", subject=header)
                    found += 1
                    continue
                have = set(have_blocks[header])
                want = set(children)
                for line in sorted(want - have):
                    out.add(sw.name, Status.FAIL, f"{header}: missing {line!r}", subject=header)
                    found += 1
                for line in sorted(have - want):
                    out.add(sw.name, Status.FAIL, f"{header}: unexpected {line!r}", subject=header)
                    found += 1
            if self.inputs.sections is None or any(
                s.startswith("router bgp") for s in self.inputs.sections
            ):
                try:
                    want_bgp = parse("arista_eos", "show running-config", rendered)
                except ParseError as exc:
                    out.add(sw.name, Status.ERROR, f"rendered config unparsable: {exc}")
                    continue
                exp = want_bgp.model_dump(mode="json").get("router_bgp")
                act = st.running_config.model_dump(mode="json").get("router_bgp")
                if act is None and exp is not None:
                    out.add(sw.name, Status.FAIL, "router bgp: missing", subject="router bgp")
                    found += 1
                else:
                    for line in semantic_diff(exp, act):
                        out.add(sw.name, Status.FAIL, f"router bgp: {line}", subject="router bgp")
                        found += 1
                    found += _bgp_lines(out, sw.name, want_blocks, have_blocks)
            if not found:
                out.add(sw.name, Status.PASS, "running-config matches the rendered intent")


class CalicoObjectDriftInput(CheckInput):
    """Inputs of :class:`VerifyCalicoObjectDrift`."""

    #: BGPPeers in the cluster that the intent does not render are a failure.
    fail_on_unexpected_peers: bool = True


def _index(objs: list[dict[str, Any]] | None) -> dict[str, dict[str, Any]] | None:
    if objs is None:
        return None
    return {str((o.get("metadata") or {}).get("name")): o for o in objs}


def _subset(expected: Any, actual: Any) -> Any:
    """``actual`` restricted to the keys ``expected`` sets (for objects Calico fills in)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        return {k: _subset(v, actual.get(k)) for k, v in expected.items() if k in actual}
    return actual


@register
class VerifyCalicoObjectDrift(Check[CalicoObjectDriftInput]):
    """The Calico objects in the cluster equal the rendered ones (semantic diff shown).

    BGPConfiguration and BGPPeer ``spec`` are compared whole; a Calico Node only on the BGP
    fields the intent sets (Calico fills in the rest). Durations (``120s`` = ``2m0s``), CIDRs
    and list order are normalised.
    Pass: every rendered object present with an equal spec, no BGPPeer the intent lacks.
    Fail: an object missing, a field differing (path, expected, found), an unexpected BGPPeer.
    Error: the cluster was not collected.
    """

    name = "VerifyCalicoObjectDrift"
    description = "cluster: Calico objects equal the rendered ones"
    Input = CalicoObjectDriftInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Compare each rendered Calico object with the cluster's."""
        cluster = state.intent.cluster.name
        out.touch(cluster)
        if state.cluster is None:
            out.add(cluster, Status.ERROR, state.failure_message(cluster))
            return
        by_kind = {
            "BGPConfiguration": _index(state.cluster.bgp_configurations),
            "BGPPeer": _index(state.cluster.bgp_peers),
            "Node": _index(state.cluster.calico_nodes),
            "BGPFilter": _index(state.cluster.bgp_filters),
        }
        for obj in state.calico_objects:
            out.touch(obj.host)
            subject = f"{obj.kind}/{obj.name}"
            have = by_kind.get(obj.kind)
            if have is None:
                out.add(obj.host, Status.ERROR, f"{obj.kind} objects were not readable")
                continue
            actual = have.get(obj.name)
            if actual is None:
                out.add(obj.host, Status.FAIL, f"{subject} missing", subject=subject)
                continue
            want = obj.body.get("spec") or {}
            got = actual.get("spec") or {}
            if obj.kind == "Node":
                got = _subset(want, got)
            diff = semantic_diff(want, got)
            for line in diff:
                out.add(obj.host, Status.FAIL, f"{subject}: spec.{line}", subject=subject)
            if not diff:
                out.add(obj.host, Status.PASS, f"{subject} matches", subject=subject)
        rendered_peers = {o.name for o in state.calico_objects if o.kind == "BGPPeer"}
        for name in sorted(by_kind["BGPPeer"] or {}):
            if name not in rendered_peers:
                out.add(
                    cluster,
                    Status.FAIL if self.inputs.fail_on_unexpected_peers else Status.WARN,
                    f"BGPPeer/{name} is in the cluster but not in the intent",
                    subject=f"BGPPeer/{name}",
                )
