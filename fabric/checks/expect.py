"""What each switch should receive from each of its nodes, by the BGP rules of the designs.

A node sends a switch its own routes (its IPAM blocks, the /32s of its pods outside them, the
service CIDRs) and, when the rules let it, the routes it learned from others:

* over **eBGP** it re-advertises what it learned over iBGP from other nodes (the node-to-node
  mesh, route reflectors and their clients) and what it learned from its other switches (unless
  the switch drops them: its own AS is in their path and it has no ``allowas-in``);
* over **iBGP** it re-advertises nothing learned over iBGP (split horizon) unless it is a route
  reflector, whose external iBGP peers are its clients (Calico's BIRD template).

Calico exports only routes inside its IP pools and the service CIDRs; a BGPFilter's rules on the
BGPPeer of the session (``export_v4`` when sending, ``import_v4`` when learning from a switch)
come first. The lab's simulation (``fabric.lab.propagation``) plays the same rules on the devices'
state; this module predicts them from the intent, so compliance can tell a node that sends too
much or too little.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fabric.models.intent import BgpFilterData, Intent, Node, PeerData, Switch, filter_rule_matches

Net = ipaddress.IPv4Network


def filter_keeps(
    filters: list[BgpFilterData], names: list[str], direction: str, net: Net
) -> bool | None:
    """The first matching rule's verdict over the named filters (None: no rule matched).

    ``direction`` is ``import_v4`` or ``export_v4``.
    """
    if not names:
        return None
    by_name = {f.name: f for f in filters}
    for name in names:
        f = by_name.get(name)
        if f is None:
            continue
        for rule in f.import_v4 if direction == "import_v4" else f.export_v4:
            if filter_rule_matches(rule.match_operator, rule.cidr, net):
                return rule.action == "Accept"
    return None


@dataclass
class Expectations:
    """The routing expectations of one intent (computed lazily, cached per node and switch).

    Args:
        intent: the intent.
        advertisements: what each node originates (prefixes as text).
        peers_for: the Calico peers that apply to a node.
    """

    intent: Intent
    advertisements: Mapping[str, set[str]]
    peers_for: Callable[[Node], list[PeerData]]
    _learned: dict[str, set[str]] = field(default_factory=dict)
    _received: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    _tied: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    _export_ok: dict[str, bool] = field(default_factory=dict)

    # ------------------------------------------------------------------ node-to-node

    def _components(self) -> dict[str, set[str]]:
        """Nodes reachable over node-to-node iBGP from each node (mesh and peerings)."""
        intent = self.intent
        graph: dict[str, set[str]] = {n.name: set() for n in intent.nodes}
        for name, peers in intent.node_peerings().items():
            for other in peers:
                if intent.node(other).as_number == intent.node(name).as_number:
                    graph[name].add(other)
        if intent.cluster.calico.node_to_node_mesh:
            mesh = [n.name for n in intent.nodes if not n.is_route_reflector]
            members = set(mesh)
            for n in mesh:
                graph[n] |= members - {n}
        out: dict[str, set[str]] = {}
        for start in graph:
            if start in out:
                continue
            seen, todo = {start}, [start]
            while todo:
                for nxt in graph[todo.pop()] - seen:
                    seen.add(nxt)
                    todo.append(nxt)
            for n in seen:
                out[n] = seen
        return out

    def learned_over_ibgp(self, node: str) -> set[str]:
        """Prefixes ``node`` learns from other nodes over iBGP (mesh, route reflection)."""
        if not self._learned:
            for name, group in self._components().items():
                others = group - {name}
                self._learned[name] = set().union(
                    *(self.advertisements.get(o, set()) for o in others)
                )
        return self._learned.get(node, set())

    # ------------------------------------------------------------------ switch side

    def _peer_to(self, node: Node, switch: Switch) -> PeerData | None:
        return next((p for p in self.peers_for(node) if p.peer_ip == switch.data.svi.ip), None)

    def _exportable(self, pfx: str) -> bool:
        """Calico exports it: inside the pool or a service CIDR (memoised per prefix)."""
        hit = self._export_ok.get(pfx)
        if hit is None:
            cal = self.intent.cluster.calico
            allowed = [
                cal.pod_cidr,
                *cal.service_cluster_cidrs,
                *cal.service_external_cidrs,
                *cal.service_loadbalancer_cidrs,
            ]
            net = ipaddress.IPv4Network(pfx)
            hit = self._export_ok[pfx] = any(net.subnet_of(a) for a in allowed)
        return hit

    def _from_other_switches(self, node: Node, switch: Switch) -> set[str]:
        """Routes the node learns from its other switches (eBGP) that ``switch`` accepts."""
        out: set[str] = set()
        filters = self.intent.cluster.calico.filters
        for tor in node.tors:
            other = self.intent.switch(tor)
            if tor == switch.name or other.data.asn == node.as_number:
                continue
            if other.data.asn == switch.data.asn and not switch.data.allowas_in:
                continue  # AS-path loop prevention at ``switch``
            peer = self._peer_to(node, other)
            names = peer.filters if peer is not None else []
            for nb in other.neighbors:
                if nb.node == node.name:
                    continue
                for pfx in self.advertisements.get(nb.node, set()):
                    verdict = filter_keeps(filters, names, "import_v4", ipaddress.IPv4Network(pfx))
                    if verdict is not False:
                        out.add(pfx)
        return out

    def received(self, switch: Switch, node: Node) -> set[str]:
        """Every prefix ``switch`` should receive from ``node`` (own and relayed)."""
        key = (switch.name, node.name)
        hit = self._received.get(key)
        if hit is not None:
            return hit
        ebgp = node.as_number != switch.data.asn
        got = set(self.advertisements.get(node.name, set()))
        tied: set[str] = set()
        if ebgp or node.is_route_reflector:
            # as long an AS path as the origin's own: a tie with it at the switch
            tied = self.learned_over_ibgp(node.name) - got
            got |= tied
        if ebgp:
            got |= self._from_other_switches(node, switch)
        peer = self._peer_to(node, switch)
        names = peer.filters if peer is not None else []
        filters = self.intent.cluster.calico.filters
        out = set()
        for pfx in got:
            verdict = (
                filter_keeps(filters, names, "export_v4", ipaddress.IPv4Network(pfx))
                if names
                else None
            )
            if verdict is True or (verdict is None and self._exportable(pfx)):
                out.add(pfx)
        self._received[key] = out
        self._tied[key] = tied & out
        return out

    def tied(self, switch: Switch, node: Node) -> set[str]:
        """The relayed prefixes ``node`` sends ``switch`` as cheaply as their origins do.

        A node re-advertising, over eBGP, a route it learned over iBGP (the mesh) sends it with
        an AS path as long as the origin's own: the switch may route it through either.
        """
        self.received(switch, node)
        return self._tied[(switch.name, node.name)]
