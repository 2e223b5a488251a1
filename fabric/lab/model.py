"""Shared data contract of the lab: what the simulated devices tell the BGP simulation and back.

The lab is split in parts that meet only here:

* the EOS switch (``fabric.lab.eos``) parses its running-config into a :class:`SwitchSnapshot`;
* the Kubernetes API (``fabric.lab.k8s``) stores Calico/core objects as plain dicts
  (the Kubernetes JSON itself is the contract there);
* the simulation (``fabric.lab.sim``) turns switch snapshots + cluster objects + node facts +
  faults into a :class:`SwitchBgpView` per switch and a :class:`NodeBgpView` per node;
* the renderers (EOS ``show`` commands, ``calicoctl node status``, ``birdcl``) print those views.

Times are UNIX epoch seconds (``time.time()``) so uptimes and SINCE advance with the clock.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Literal

# --------------------------------------------------------------------------- switch side


@dataclass
class BgpNeighborConfig:
    """One ``neighbor`` of ``router bgp`` after peer-group inheritance is resolved."""

    address: str
    remote_as: int | None = None
    peer_group: str | None = None
    description: str | None = None
    password: str | None = None
    shutdown: bool = False
    remote_port: int | None = None
    #: Activated under ``address-family ipv4`` (EOS activates IPv4 by default unless
    #: ``no bgp default ipv4-unicast``; the seed activates explicitly).
    activated_ipv4: bool = True
    #: ``allowas-in [N]``: how often the local AS may appear in a received AS path (0: never).
    allowas_in: int = 0
    #: ``route-reflector-client``: iBGP routes are reflected to and from this neighbor.
    rr_client: bool = False


@dataclass
class SwitchBgpConfig:
    """The ``router bgp`` block of the default VRF as the simulation needs it."""

    asn: int
    router_id: str | None = None
    maximum_paths: int | None = None
    neighbors: dict[str, BgpNeighborConfig] = field(default_factory=dict)


@dataclass
class SwitchInterface:
    """An L3 interface (SVI, loopback, routed port, management)."""

    name: str
    address: ipaddress.IPv4Interface
    vrf: str = "default"
    shutdown: bool = False


@dataclass
class StaticRoute:
    """``ip route [vrf V] PREFIX NEXTHOP``."""

    vrf: str
    prefix: ipaddress.IPv4Network
    next_hop: str


@dataclass
class SwitchSnapshot:
    """Everything the simulation reads from a switch's *running* configuration."""

    name: str
    eos_version: str
    hostname: str
    bgp: SwitchBgpConfig | None
    interfaces: list[SwitchInterface] = field(default_factory=list)
    static_routes: list[StaticRoute] = field(default_factory=list)
    vlans: list[int] = field(default_factory=list)
    ip_routing: bool = False


# --------------------------------------------------------------------------- views

SessionState = Literal["Established", "Active", "Connect", "Idle", "OpenSent", "OpenConfirm"]


@dataclass
class PeerState:
    """A BGP session as seen from the switch (one row of ``show ip bgp summary``)."""

    neighbor: str
    remote_as: int
    state: SessionState
    since: float
    prefixes_received: int = 0
    prefixes_accepted: int = 0
    msg_rcvd: int = 0
    msg_sent: int = 0
    description: str | None = None
    #: "Idle(Admin)" etc. when the neighbor is shut down; None otherwise.
    state_detail: str | None = None
    #: The prefixes the neighbor sent (Adj-RIB-In, IPv4 unicast), while Established.
    received: tuple[ipaddress.IPv4Network, ...] = ()
    #: Per received prefix: its AS path and next hop (the neighbor's own routes: empty path
    #: over iBGP, the neighbor's AS over eBGP; relayed routes carry longer paths).
    paths: dict[ipaddress.IPv4Network, ReceivedPath] = field(default_factory=dict)
    #: What the switch advertises to this neighbor (None: not computed).
    advertised: tuple[ipaddress.IPv4Network, ...] | None = None
    #: Routes from this neighbor dropped because the AS path holds the local AS (loop).
    as_loop_drops: int = 0


@dataclass(frozen=True)
class ReceivedPath:
    """One received path's attributes (what ``show ip bgp`` prints of it)."""

    as_path: tuple[int, ...]
    next_hop: str


@dataclass
class BgpRoute:
    """A BGP-learned route on the switch (``B I`` for iBGP, ``B E`` for eBGP)."""

    prefix: ipaddress.IPv4Network
    next_hops: list[str]
    code: Literal["B I", "B E"]
    distance: int
    metric: int = 0
    interface: str | None = None


@dataclass
class SwitchBgpView:
    """What the switch's control plane shows for BGP (default VRF)."""

    router_id: str | None
    local_as: int | None
    peers: list[PeerState] = field(default_factory=list)
    routes: list[BgpRoute] = field(default_factory=list)


NodePeerType = Literal["node-to-node mesh", "global", "node specific"]


@dataclass
class NodePeerView:
    """One row of ``calicoctl node status`` (and one BGP protocol of ``birdcl``)."""

    peer_address: str
    peer_type: NodePeerType
    state: Literal["up", "start", "down"]
    since: float
    info: str
    """``Established``, ``Active Socket: Connection refused``, ``Connect``, ``Idle`` ..."""
    port: int | None = None


@dataclass
class NodeBgpView:
    """What a node's calico-node/BIRD reports."""

    bird_running: bool
    ipv4_peers: list[NodePeerView] = field(default_factory=list)
    ipv6_peers: list[NodePeerView] = field(default_factory=list)
    error: str | None = None
