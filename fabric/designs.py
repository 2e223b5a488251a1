"""Lint for the traps of real fabric designs: pairs of ToRs, racks, AS plans, route reflectors.

Calico's "Calico over IP fabrics" reference designs (AS per rack, AS per compute server,
in-cluster route reflectors) each rest on a few BGP rules; an inventory that breaks one of them
validates field by field and still cannot work. :func:`check_designs` finds those cases once the
nodes and switches are assembled, and reports them with the file, host and field of the value to
change, like every other rule of :mod:`fabric.intent` (which calls it). Codes and meanings are
listed in docs/inventory.md.

The module knows nothing about YAML or where values came from: the caller hands in a reporter
and each host's location object (anything with ``file``, ``host`` and ``field``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, Protocol

from fabric.models.intent import (
    CALICO_FIELD_SINCE,
    CalicoData,
    Node,
    NodeData,
    Switch,
    node_peerings,
    selected_nodes,
    supported_fields,
)

#: Codes :func:`check_designs` reports (errors, then warnings).
DESIGN_ERRORS = frozenset(
    {
        "partial-pair",
        "rack-mismatch",
        "pair-subnet",
        "virtual-router-mismatch",
        "mesh-conflict",
        "rr-no-cluster-id",
        "unknown-filter",
        "duplicate-filter",
        "unknown-rack",
    }
)
DESIGN_WARNINGS = frozenset({"as-path-loop", "maximum-paths-low", "route-reflector-ebgp"})


class Reporter(Protocol):
    """Where findings go (``fabric.intent``'s collector)."""

    def err_at(self, w: Any, sub: str, msg: str, code: str) -> None:
        """Record an error at ``w`` (a location) and sub-field ``sub``."""

    def warn_at(self, w: Any, sub: str, msg: str, code: str) -> None:
        """Record a warning at ``w`` and sub-field ``sub``."""


def check_designs(
    c: Reporter,
    cw: Any,
    calico: CalicoData,
    nodes: list[Node],
    switches: Mapping[str, Switch],
    switch_where: Mapping[str, Any],
    node_data: Mapping[str, tuple[NodeData, Any]],
) -> None:
    """Report every design trap of the assembled nodes and switches.

    Args:
        c: the reporter.
        cw: where ``data.calico`` is defined.
        calico: the cluster's Calico data.
        nodes: the assembled nodes (valid ones only).
        switches: the assembled switches by name.
        switch_where: where each switch's ``data.switch`` is defined.
        node_data: each node's written data and where it is defined.
    """
    _check_pairs(c, switches, switch_where)
    _check_node_racks(c, nodes, switches, node_data)
    _check_mesh(c, cw, calico, nodes)
    _check_route_reflectors(c, calico, nodes, node_data)
    _check_filters(c, cw, calico, nodes, node_data)
    _check_rack_as(c, cw, calico, nodes)
    _check_as_loops(c, cw, calico, nodes, switches, switch_where, node_data)
    _check_switch_paths(c, nodes, switches, switch_where)


def _racks(switches: Mapping[str, Switch]) -> dict[str, list[Switch]]:
    out: dict[str, list[Switch]] = defaultdict(list)
    for s in switches.values():
        if s.data.rack is not None:
            out[s.data.rack].append(s)
    return dict(out)


def _check_pairs(c: Reporter, switches: Mapping[str, Switch], where: Mapping[str, Any]) -> None:
    """The switches of a rack share their peering subnet and their virtual router address."""
    for s in switches.values():
        vr = s.data.virtual_router
        if vr is not None and (vr.address not in s.peering_subnet or vr.address == s.data.svi.ip):
            c.err_at(
                where[s.name],
                "virtual_router.address",
                f"{vr.address} must be a free address of the peering subnet {s.peering_subnet} "
                f"(not the SVI's own {s.data.svi.ip})",
                "virtual-router-mismatch",
            )
        if s.data.ecmp is not None and (
            s.data.maximum_paths is None or s.data.ecmp < s.data.maximum_paths
        ):
            c.err_at(
                where[s.name],
                "ecmp",
                f"ecmp {s.data.ecmp} needs maximum_paths set and not above it "
                f"(maximum_paths: {s.data.maximum_paths})",
                "invalid-value",
            )
    for rack, members in _racks(switches).items():
        first = members[0]
        for other in members[1:]:
            if other.peering_subnet != first.peering_subnet:
                c.err_at(
                    where[other.name],
                    "svi",
                    f"rack {rack}: {other.name}'s peering subnet {other.peering_subnet} differs "
                    f"from {first.name}'s {first.peering_subnet}: a dual-homed node has one BGP "
                    "address, in the subnet both ToRs share",
                    "pair-subnet",
                )
            a, b = first.data.virtual_router, other.data.virtual_router
            if (a is None) != (b is None) or (a and b and a.address != b.address):
                c.err_at(
                    where[other.name],
                    "virtual_router",
                    f"rack {rack}: {other.name} and {first.name} must share one virtual router "
                    "address (or neither sets one)",
                    "virtual-router-mismatch",
                )


def _tor_field(nd: NodeData, index: int | None = None) -> str:
    if nd.tor is not None:
        return "tor"
    if nd.tors is None or index is None:
        return "tors"
    return f"tors.{index}"


def _check_node_racks(
    c: Reporter,
    nodes: list[Node],
    switches: Mapping[str, Switch],
    node_data: Mapping[str, tuple[NodeData, Any]],
) -> None:
    """A node peers with the switches of its own rack, all of them or none."""
    racks = _racks(switches)
    for node in nodes:
        nd, w = node_data[node.name]
        for i, tor in enumerate(node.tors):
            rack = switches[tor].data.rack
            if rack is not None and node.rack is not None and rack != node.rack:
                c.err_at(
                    w,
                    _tor_field(nd, i),
                    f"{tor} serves rack {rack} but this node is in rack {node.rack} (labels.rack)",
                    "rack-mismatch",
                )
        pair = [s.name for s in racks.get(node.rack or "", [])]
        listed = [t for t in node.tors if t in pair]
        missing = [t for t in pair if t not in node.tors]
        if listed and missing:
            c.err_at(
                w,
                _tor_field(nd),
                f"peers with {', '.join(listed)} but not with {', '.join(missing)}, the other "
                f"ToR of rack {node.rack}: the node loses its routes when {listed[0]} fails "
                "(list both, or none to peer with the rack's ToRs by default)",
                "partial-pair",
            )


def _check_mesh(c: Reporter, cw: Any, calico: CalicoData, nodes: list[Node]) -> None:
    """The node-to-node mesh is off for route reflectors, node peerings and several node AS."""
    if not calico.node_to_node_mesh:
        return
    reasons: list[str] = []
    rrs = [n.name for n in nodes if n.is_route_reflector]
    if rrs:
        reasons.append(f"{len(rrs)} node(s) are route reflectors (e.g. {rrs[0]})")
    if any(p.peer_selector for p in calico.peers) or any(
        p.peer_selector for n in nodes for p in n.peers
    ):
        reasons.append("a peer_selector peers nodes with each other")
    asns = sorted({n.as_number for n in nodes})
    if len(asns) > 1:
        reasons.append(
            f"the nodes run {len(asns)} AS numbers ({', '.join(map(str, asns[:3]))}...): the "
            "mesh would be eBGP between them"
        )
    if reasons:
        c.err_at(
            cw,
            "node_to_node_mesh",
            "turn the node-to-node mesh off: " + "; ".join(reasons),
            "mesh-conflict",
        )


def _check_route_reflectors(
    c: Reporter,
    calico: CalicoData,
    nodes: list[Node],
    node_data: Mapping[str, tuple[NodeData, Any]],
) -> None:
    """Nodes that a peer_selector singles out (the route reflectors) have a cluster ID."""
    if calico.node_to_node_mesh:
        return  # reported as mesh-conflict
    selectors: set[str] = {p.peer_selector for p in calico.peers if p.peer_selector} | {
        p.peer_selector for n in nodes for p in n.peers if p.peer_selector
    }
    flagged: set[str] = set()
    for sel in sorted(selectors):
        chosen = selected_nodes(nodes, sel)
        if len(chosen) == len(nodes):
            continue  # an explicit full mesh: nobody needs to reflect
        for node in chosen:
            if node.is_route_reflector or node.name in flagged:
                continue
            flagged.add(node.name)
            c.err_at(
                node_data[node.name][1],
                "route_reflector_cluster_id",
                f"peer_selector {sel!r} makes other nodes peer with this node as a route "
                "reflector, but it has no route_reflector_cluster_id: it will not reflect routes",
                "rr-no-cluster-id",
            )


def _check_filters(
    c: Reporter,
    cw: Any,
    calico: CalicoData,
    nodes: list[Node],
    node_data: Mapping[str, tuple[NodeData, Any]],
) -> None:
    """BGPFilters exist in this Calico version, have unique names, and peers name real ones."""
    if calico.filters and "exportV4" not in supported_fields("BGPFilter", calico.version):
        since = CALICO_FIELD_SINCE["BGPFilter"]["exportV4"]
        c.err_at(
            cw,
            "filters",
            f"BGPFilter needs Calico 3.{since}+, this cluster runs {calico.version}",
            "calico-field-unsupported",
        )
    names: set[str] = set()
    for i, f in enumerate(calico.filters):
        if f.name in names:
            c.err_at(
                cw, f"filters.{i}.name", f"BGPFilter {f.name!r} defined twice", "duplicate-filter"
            )
        names.add(f.name)
    refs: list[tuple[Any, str, list[str]]] = [
        (cw, f"peers.{i}.filters", p.filters) for i, p in enumerate(calico.peers)
    ]
    for node in nodes:
        w = node_data[node.name][1]
        refs.extend((w, f"peers.{i}.filters", p.filters) for i, p in enumerate(node.peers))
    for w, sub, used in refs:
        for j, name in enumerate(used):
            if name not in names:
                c.err_at(
                    w,
                    f"{sub}.{j}",
                    f"no BGPFilter {name!r} in data.calico.filters",
                    "unknown-filter",
                )


def _check_rack_as(c: Reporter, cw: Any, calico: CalicoData, nodes: list[Node]) -> None:
    racks = {n.rack for n in nodes if n.rack is not None}
    for rack in calico.rack_as_numbers:
        if rack not in racks:
            c.err_at(
                cw,
                f"rack_as_numbers.{rack}",
                f"no node has labels.rack {rack!r}",
                "unknown-rack",
            )


def _ebgp_to_switches(node: Node, switches: Mapping[str, Switch]) -> bool:
    return any(switches[t].data.asn != node.as_number for t in node.tors)


def _check_as_loops(
    c: Reporter,
    cw: Any,
    calico: CalicoData,
    nodes: list[Node],
    switches: Mapping[str, Switch],
    switch_where: Mapping[str, Any],
    node_data: Mapping[str, tuple[NodeData, Any]],
) -> None:
    """Racks that share an AS under eBGP drop each other's routes (AS-path loop prevention)."""
    peered = {n for n, peers in node_peerings(nodes, calico.peers).items() if peers}
    by_as: dict[int, dict[str, Node]] = defaultdict(dict)
    for node in nodes:
        if node.rack is None or calico.node_to_node_mesh or node.name in peered:
            continue
        if not _ebgp_to_switches(node, switches):
            continue
        allow = [
            p.num_allowed_local_as_numbers
            for p in [*calico.peers, *node.peers]
            if p.peer_ip is not None
        ]
        if allow and all(a for a in allow):
            continue
        by_as[node.as_number].setdefault(node.rack, node)
    for asn, racks in sorted(by_as.items()):
        if len(racks) < 2:
            continue
        first, second = sorted(racks)[:2]
        node = racks[second]
        w, sub = _as_origin(cw, calico, node, node_data)
        c.warn_at(
            w,
            sub,
            f"the nodes of racks {first} and {second} (e.g. {node.name}) share AS {asn} under "
            f"eBGP: routes of one rack reach the other with {asn} in their AS path and its "
            "nodes drop them (AS-path loop prevention); give each rack its own AS, or set "
            "num_allowed_local_as_numbers on their peers (or route other racks by a default route)",
            "as-path-loop",
        )
    _check_switch_as_loops(c, nodes, switches, switch_where)


def _as_origin(
    cw: Any, calico: CalicoData, node: Node, node_data: Mapping[str, tuple[NodeData, Any]]
) -> tuple[Any, str]:
    """Where a node's AS is written: its own data, its rack's entry, or the cluster's."""
    nd, w = node_data[node.name]
    if nd.as_number is not None:
        return w, "as_number"
    if node.rack is not None and node.rack in calico.rack_as_numbers:
        return cw, f"rack_as_numbers.{node.rack}"
    return cw, "as_number"


def _check_switch_as_loops(
    c: Reporter, nodes: list[Node], switches: Mapping[str, Switch], where: Mapping[str, Any]
) -> None:
    """ToRs of different racks in one AS, eBGP to their nodes, need allowas-in."""
    ebgp = {t for n in nodes if _ebgp_to_switches(n, switches) for t in n.tors}
    by_as: dict[int, dict[str, Switch]] = defaultdict(dict)
    for s in switches.values():
        if s.data.rack is not None and s.name in ebgp and s.data.allowas_in is None:
            by_as[s.data.asn].setdefault(s.data.rack, s)
    for asn, racks in sorted(by_as.items()):
        if len(racks) < 2:
            continue
        first, second = sorted(racks)[:2]
        sw = racks[second]
        c.warn_at(
            where[sw.name],
            "asn",
            f"the ToRs of racks {first} and {second} share AS {asn}: routes between the racks "
            f"(through the spine) carry {asn} and are dropped (AS-path loop prevention) unless "
            "allowas_in is set",
            "as-path-loop",
        )


def _check_switch_paths(
    c: Reporter, nodes: list[Node], switches: Mapping[str, Switch], where: Mapping[str, Any]
) -> None:
    """maximum-paths covers a dual-homed node's ToRs; route-reflector-client needs iBGP."""
    widest: dict[str, int] = defaultdict(int)
    ibgp: dict[str, bool] = defaultdict(bool)
    for node in nodes:
        for t in node.tors:
            widest[t] = max(widest[t], len(node.tors))
            ibgp[t] = ibgp[t] or switches[t].data.asn == node.as_number
    for name, s in switches.items():
        mp = s.data.maximum_paths
        if mp is not None and widest[name] > mp:
            c.warn_at(
                where[name],
                "maximum_paths",
                f"maximum-paths {mp} but its nodes peer with {widest[name]} ToRs: routes of "
                f"another rack arrive through each of that rack's ToRs and only {mp} of them "
                "would be used (no ECMP over the pair)",
                "maximum-paths-low",
            )
        if s.data.route_reflector and widest[name] and not ibgp[name]:
            c.warn_at(
                where[name],
                "route_reflector",
                "route-reflector-client has no effect: every node peers with this switch over "
                "eBGP (reflection is an iBGP rule)",
                "route-reflector-ebgp",
            )
