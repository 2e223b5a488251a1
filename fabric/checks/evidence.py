"""Everything a check judges: the intent, what was rendered from it, and what was collected.

:class:`Evidence` is built once per compliance run (online from the collection steps,
offline from saved outputs) and handed to every check. Derived facts that several checks need
(each node's IPAM blocks, the pods outside their node's blocks, what each node should
advertise) are computed here once, in time linear in nodes + pods + blocks.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from fabric.checks.expect import Expectations
from fabric.errors import Issue
from fabric.models.intent import Intent, Node, PeerData, Switch
from fabric.models.observed import (
    IPNetwork,
    Observed,
    ObservedCluster,
    ObservedNode,
    ObservedSwitch,
    PodInfo,
)

if TYPE_CHECKING:
    from fabric.models.parsed import BgpPeer, CalicoPeer
    from fabric.steps.render import CalicoObject

DEFAULT_VRF = "default"
#: Cached properties of :class:`Evidence` computed from the cluster's objects.
_DERIVED_FROM_CLUSTER = (
    "blocks_by_node",
    "block_owner",
    "calico_node_addresses",
    "pods_outside_blocks",
    "expected_advertisements",
    "expectations",
)


@dataclass(frozen=True)
class HostFailure:
    """A host whose state could not be collected or parsed: it is never judged a pass."""

    host: str
    role: str
    kind: Literal["unreachable", "unparsable"]
    message: str


@dataclass(frozen=True)
class PodOutsideBlock:
    """A pod whose IP lies in the pod CIDR but outside every IPAM block of its node."""

    pod: PodInfo
    node: str
    blocks: tuple[IPNetwork, ...]

    @property
    def fix(self) -> str:
        """What an operator does about it (the seed's coredns fix)."""
        ns = f" -n {self.pod.namespace}" if self.pod.namespace else ""
        return (
            f"recreate the pod (kubectl delete pod{ns} {self.pod.name}); its controller "
            f"starts a new one with an address from {self.node}'s block"
        )


@dataclass
class Evidence:
    """The input of every check.

    Attributes:
        intent: what both sides should be.
        issues: the intent's findings (warnings) from :func:`fabric.intent.load_intent`.
        switch_configs: rendered EOS configuration per switch.
        calico_objects: rendered Calico objects.
        switches: parsed switch state by host (absent: not collected, see ``failures``).
        nodes: parsed node state by host.
        cluster: the cluster's objects (None: not collected).
        failures: hosts that could not be reached or parsed.
        scope: the hosts to judge (None: every host of the intent). The deploy gate judges
            only the hosts it is still waiting for.
        settled: the switches whose configuration is expected in place (None: all). A
            rolling deploy's gate leaves out the switches of later batches: sessions and
            routes towards them are not judged yet.
    """

    intent: Intent
    issues: list[Issue] = field(default_factory=list)
    switch_configs: dict[str, str] = field(default_factory=dict)
    calico_objects: list[CalicoObject] = field(default_factory=list)
    switches: dict[str, ObservedSwitch] = field(default_factory=dict)
    nodes: dict[str, ObservedNode] = field(default_factory=dict)
    cluster: ObservedCluster | None = None
    failures: dict[str, HostFailure] = field(default_factory=dict)
    scope: frozenset[str] | None = None
    settled: frozenset[str] | None = None
    _peers_by_labels: dict[tuple[tuple[str, str], ...], list[PeerData]] = field(
        default_factory=dict, repr=False, compare=False
    )
    #: Rows by address, per (host, vrf): every check asks for them, the outputs do not change.
    _rows: dict[tuple[str, str], dict[str, Any]] = field(
        default_factory=dict, repr=False, compare=False
    )

    # ------------------------------------------------------------------ lookups

    @property
    def judged_switches(self) -> list[Switch]:
        """The intent's switches in scope, in intent order."""
        scope = self.scope
        return [s for s in self.intent.switches if scope is None or s.name in scope]

    @property
    def judged_nodes(self) -> list[Node]:
        """The intent's nodes in scope, in intent order."""
        scope = self.scope
        return [n for n in self.intent.nodes if scope is None or n.name in scope]

    def observe(self, host: str, observed: Observed) -> None:
        """Record what a collector read from ``host`` (and forget an earlier failure)."""
        self.failures.pop(host, None)
        self._rows = {k: v for k, v in self._rows.items() if k[0] != host}
        if isinstance(observed, ObservedSwitch):
            self.switches[host] = observed
        elif isinstance(observed, ObservedNode):
            self.nodes[host] = observed
        else:
            self.cluster = observed
            for name in _DERIVED_FROM_CLUSTER:  # cached facts of the previous cluster read
                self.__dict__.pop(name, None)

    @cached_property
    def nodes_by_switch(self) -> dict[str, list[Node]]:
        """Intent nodes grouped by the switches they peer with (a dual-homed node twice)."""
        out: dict[str, list[Node]] = defaultdict(list)
        for n in self.intent.nodes:
            for tor in n.tors:
                out[tor].append(n)
        return dict(out)

    @cached_property
    def svi_owner(self) -> dict[str, str]:
        """Switch name by its SVI address (as text)."""
        return {str(s.data.svi.ip): s.name for s in self.intent.switches}

    @cached_property
    def block_owner(self) -> dict[str, str]:
        """The node owning each IPAM block (as text; empty when blocks are unreadable)."""
        return {str(b): n for n, bs in (self.blocks_by_node or {}).items() for b in bs}

    def is_settled(self, switch: str) -> bool:
        """Whether ``switch``'s configuration is expected in place (see ``settled``)."""
        return self.settled is None or switch in self.settled

    def settled_tors(self, node: Node) -> list[str]:
        """The switches ``node`` peers with whose configuration is expected in place."""
        return [t for t in node.tors if self.is_settled(t)]

    @cached_property
    def peerings(self) -> dict[str, dict[str, str]]:
        """Node-to-node sessions of ``peer_selector`` peers (node -> peer node -> BGPPeer)."""
        return self.intent.node_peerings()

    @cached_property
    def expectations(self) -> Expectations | None:
        """What each switch should receive from each node (None: the cluster was not read)."""
        adverts = self.expected_advertisements
        if adverts is None:
            return None
        return Expectations(self.intent, adverts, self.peers_for)

    def expected_received(self, switch: Switch, node: Node) -> set[str] | None:
        """The prefixes ``switch`` should receive from ``node`` (None: cannot tell)."""
        exp = self.expectations
        return None if exp is None else exp.received(switch, node)

    def expected_routes(self, switch: Switch) -> dict[str, dict[str, bool]] | None:
        """Each prefix ``switch`` should route, by the neighbor addresses that send it.

        Each sender comes with whether it ties with the prefix's origin (a relay as cheap as
        the origin itself: the switch may route through either).
        """
        exp = self.expectations
        if exp is None:
            return None
        out: dict[str, dict[str, bool]] = {}
        for node in self.nodes_by_switch.get(switch.name, []):
            tied = exp.tied(switch, node)
            for pfx in exp.received(switch, node):
                out.setdefault(pfx, {})[str(node.bgp_ip)] = pfx in tied
        return out

    @cached_property
    def switch_by_name(self) -> dict[str, Switch]:
        """Intent switches by name."""
        return {s.name: s for s in self.intent.switches}

    def peers_for(self, node: Node) -> list[PeerData]:
        """The Calico peers that apply to ``node`` (:meth:`Intent.peers_for`), memoised by labels.

        Nodes of a rack share their labels, so selectors are evaluated once per label set, not
        once per node: linear in nodes + peers x distinct label sets.
        """
        key = tuple(sorted(node.labels.items()))
        shared = self._peers_by_labels.get(key)
        if shared is None:
            bare = node.model_copy(update={"peers": []})
            shared = self.intent.peers_for(bare)
            self._peers_by_labels[key] = shared
        return [*shared, *node.peers]

    def failure_message(self, host: str) -> str:
        """Why ``host`` cannot be judged (for an ERROR finding)."""
        f = self.failures.get(host)
        if f is None:
            return f"{host}: not collected"
        return f"not judged: {f.kind}: {f.message}"

    def switch_peers(self, switch: str, vrf: str = DEFAULT_VRF) -> dict[str, BgpPeer] | None:
        """The switch's BGP summary rows by neighbor address (None: not collected)."""
        st = self.switches.get(switch)
        if st is None or st.bgp_summary is None:
            return None
        hit = self._rows.get((switch, vrf))
        if hit is None:
            v = st.bgp_summary.vrfs.get(vrf)
            hit = self._rows[(switch, vrf)] = {} if v is None else {p.neighbor: p for p in v.peers}
        return hit

    def node_peers(self, node: str) -> dict[str, CalicoPeer] | None:
        """The node's IPv4 BGP peers by address (None: not collected)."""
        st = self.nodes.get(node)
        if st is None:
            return None
        hit = self._rows.get((node, ""))
        if hit is None:
            section = st.status.ipv4
            peers = [] if section is None else section.peers
            hit = self._rows[(node, "")] = {p.peer_address: p for p in peers}
        return hit

    def mesh_addresses(self, node: Node) -> set[str]:
        """Addresses other nodes may show for ``node`` as a mesh peer.

        Calico peers over the node's BGP address, which is auto-detected (the seed: the
        management address) unless the Calico Node sets ``spec.bgp.ipv4Address``.
        """
        out = {str(node.bgp_ip)}
        if node.mgmt_ip is not None:
            out.add(str(node.mgmt_ip))
        addr = self.calico_node_addresses.get(node.name)
        if addr:
            out.add(addr)
        return out

    @cached_property
    def calico_node_addresses(self) -> dict[str, str]:
        """``spec.bgp.ipv4Address`` (without its length) of each Calico Node in the cluster."""
        out: dict[str, str] = {}
        for obj in (self.cluster.calico_nodes if self.cluster else None) or []:
            name = (obj.get("metadata") or {}).get("name")
            addr = ((obj.get("spec") or {}).get("bgp") or {}).get("ipv4Address")
            if name and addr:
                out[str(name)] = str(addr).split("/", 1)[0]
        return out

    # ------------------------------------------------------------------ IPAM and pods

    @cached_property
    def blocks_by_node(self) -> dict[str, list[IPNetwork]] | None:
        """Each node's IPAM blocks from BlockAffinity (None: not readable)."""
        return None if self.cluster is None else self.cluster.blocks_by_node

    def is_pod_network_ip(self, pod: PodInfo) -> bool:
        """True for a pod with its own address in the pod CIDR (not host-network)."""
        if pod.host_network or not pod.ip or pod.node is None:
            return False
        try:
            ip = ipaddress.ip_address(pod.ip)
        except ValueError:
            return False
        return ip in self.intent.cluster.calico.pod_cidr

    @cached_property
    def pods_outside_blocks(self) -> list[PodOutsideBlock] | None:
        """Pods whose IP is outside their node's blocks (None: pods or blocks not readable)."""
        blocks = self.blocks_by_node
        if blocks is None or self.cluster is None or self.cluster.pods is None:
            return None
        out: list[PodOutsideBlock] = []
        for pod in self.cluster.pods:
            if not self.is_pod_network_ip(pod):
                continue
            assert pod.ip is not None and pod.node is not None
            ip = ipaddress.ip_address(pod.ip)
            mine = blocks.get(pod.node, [])
            if not any(ip in b for b in mine):
                out.append(PodOutsideBlock(pod=pod, node=pod.node, blocks=tuple(mine)))
        return out

    @cached_property
    def service_cidrs(self) -> list[ipaddress.IPv4Network]:
        """Service CIDRs every node advertises (cluster, external, load balancer)."""
        cal = self.intent.cluster.calico
        return [
            *cal.service_cluster_cidrs,
            *cal.service_external_cidrs,
            *cal.service_loadbalancer_cidrs,
        ]

    @cached_property
    def expected_advertisements(self) -> dict[str, set[str]] | None:
        """What each node should advertise: its blocks, /32s of its pods outside them, services.

        None when the cluster's blocks or pods could not be read.
        """
        blocks = self.blocks_by_node
        outside = self.pods_outside_blocks
        if blocks is None or outside is None:
            return None
        services = {str(c) for c in self.service_cidrs}
        out: dict[str, set[str]] = {
            n.name: {str(b) for b in blocks.get(n.name, [])} | services for n in self.intent.nodes
        }
        for p in outside:
            if p.node in out and p.pod.ip:
                out[p.node].add(f"{p.pod.ip}/32")
        return out


def node_established(peer: CalicoPeer) -> bool:
    """A node-side session is up: state ``up`` and info ``Established``."""
    return peer.state == "up" and peer.info.startswith("Established")


def node_state_text(peer: CalicoPeer | None) -> str:
    """How a node shows a session, for messages: ``Established``, ``start (Connect)`` ..."""
    if peer is None:
        return "absent"
    if node_established(peer):
        return "Established"
    return f"{peer.state} ({peer.info})" if peer.info else peer.state


def switch_state_text(peer: BgpPeer | None) -> str:
    """How a switch shows a session, for messages: ``Estab``, ``Active``, ``absent`` ..."""
    return "absent" if peer is None else peer.state
