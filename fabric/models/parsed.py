"""Parsed device state: the contract JSON of ``python -m fabric parse`` and ``parse()``.

Every model here is what one command's output means, validated on the way in
(``extra="forbid"``; integers are integers, absent columns are ``None``).
``model_dump(mode="json")`` is the documented contract (docs/parsers.md): listed keys keep
their names and types; keys may be added, never renamed.

ASNs are integers in asplain (asdot ``X.Y`` becomes ``X * 65536 + Y``). Secrets are never part
of the state: a BGP neighbor's password is reported only as ``password_set``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

ASN = Annotated[int, Field(ge=0, le=4294967295)]
Count = Annotated[int, Field(ge=0)]


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Bulk(BaseModel):
    """For the models a large table creates by the hundred thousand (routes, next hops).

    Not frozen (with the collector running during a parse, freezing cost about a quarter of
    the validation time of 100,000 routes; with it paused, as ``parse()`` now does, about 3%
    of the whole parse). Treat them as read-only all the same.
    """

    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------- show ip bgp summary


class BgpPeer(_State):
    """One row of the neighbor table of ``show ip bgp summary``.

    Attributes:
        neighbor: the neighbor address as printed (IPv4, IPv6, or IPv6 link-local with scope).
        description: the Description column when present (may be cut at 24 characters).
        state: as printed (``Estab``, ``Active``, ``Idle(Admin)`` ...); ``Estab`` when the old
            combined ``State/PfxRcd`` column shows a number.
        established: ``True`` only for ``Estab`` (not for ``Estab(NotNegotiated)``).
        pfx_rcd: prefixes received; ``None`` when the row has no prefix column.
        pfx_acc: prefixes accepted; ``None`` on layouts without PfxAcc or rows without it.
    """

    neighbor: str
    description: str | None = None
    version: int | None = None
    remote_as: ASN
    msg_rcvd: Count | None = None
    msg_sent: Count | None = None
    in_q: Count | None = None
    out_q: Count | None = None
    up_down: str
    state: str
    established: bool
    pfx_rcd: Count | None = None
    pfx_acc: Count | None = None


class BgpSummaryVrf(_State):
    """One VRF of ``show ip bgp summary``; ``bgp_disabled`` for ``BGP is disabled for VRF X``."""

    router_id: str | None = None
    local_as: ASN | None = None
    bgp_disabled: bool = False
    disabled_reason: str | None = None
    peers: list[BgpPeer] = Field(default_factory=list)


class BgpSummary(_State):
    """``show ip bgp summary`` / ``... vrf all`` / ``show ipv6 bgp summary`` (EOS).

    An output without a VRF header is VRF ``default``.
    """

    vrfs: dict[str, BgpSummaryVrf] = Field(default_factory=dict)


# --------------------------------------------------------------------------- show ip route


class NextHop(_Bulk):
    """A next hop of a route.

    Attributes:
        address: the gateway when it is an IP address (IPv4, IPv6, link-local ``fe80::1``),
            else ``None`` (VTEP, tunnel, connected).
        interface: the egress interface when printed (``via fe80::1, Ethernet1``,
            ``via Ethernet1, directly connected``).
        raw: the next hop as printed, whitespace collapsed (``via 10.0.0.1, Ethernet1``,
            ``directly connected, Loopback0``, ``via VTEP 1.1.1.1 VNI 10 ...``); never dropped.
        resolved_via: how this next hop resolves, when the output shows it: the ``via`` lines
            indented under it (a segment-routing, TI-LFA, BGP LU or SRv6 tunnel resolved
            through further tunnels down to interface next hops), each with its own
            ``resolved_via``. They are not further paths of the route.
    """

    address: str | None = None
    interface: str | None = None
    raw: str
    # A tuple: the empty default is one shared object, where a list default is a new list per
    # next hop (measured: +8% memory and +6% validation time on 100,000 routes, for lists
    # that are nearly always empty). JSON: an array, like next_hops.
    resolved_via: tuple[NextHop, ...] = ()


class Route(_Bulk):
    """One route: prefix, code (``C``, ``B I``, ``O E2`` ...), ``[distance/metric]``, next hops.

    ``next_hops`` are the route's paths (its top-level ``via`` lines, ECMP: several);
    ``backup_next_hops`` the ``backup via`` lines (TI-LFA / fast-reroute backups), never paths.
    """

    prefix: str
    code: str
    distance: int | None = None
    metric: int | None = None
    directly_connected: bool = False
    next_hops: list[NextHop] = Field(default_factory=list)
    backup_next_hops: tuple[NextHop, ...] = ()  # a tuple for the reason given on NextHop


class RouteVrf(_State):
    """The routes of one VRF; ``gateway_of_last_resort_set`` from ``Gateway of last resort``."""

    gateway_of_last_resort_set: bool = False
    routes: list[Route] = Field(default_factory=list)


class RouteTable(_State):
    """``show ip route`` / ``show ipv6 route`` / ``... vrf NAME`` / ``... vrf all`` (EOS)."""

    vrfs: dict[str, RouteVrf] = Field(default_factory=dict)


# ------------------------------------------------------------ show running-config (router bgp)


class BgpNeighbor(_State):
    """A ``neighbor ADDRESS ...`` of the BGP configuration (never the password itself)."""

    address: str
    remote_as: ASN | None = None
    peer_group: str | None = None
    description: str | None = None
    update_source: str | None = None
    shutdown: bool = False
    password_set: bool = False


class BgpPeerGroup(_State):
    """A peer group (``neighbor NAME peer group`` or the older ``peer-group``)."""

    name: str
    remote_as: ASN | None = None


class BgpListenRange(_State):
    """``bgp listen range PREFIX peer group NAME remote-as ASN`` (dynamic neighbors)."""

    prefix: str
    peer_group: str | None = None
    remote_as: ASN | None = None


class BgpAddressFamily(_State):
    """An ``address-family`` block: the neighbors (or peer groups) activated in it."""

    activate: list[str] = Field(default_factory=list)


class BgpInstance(_State):
    """The BGP settings of the default instance or of one VRF block."""

    asn: ASN
    router_id: str | None = None
    maximum_paths: int | None = None
    neighbors: list[BgpNeighbor] = Field(default_factory=list)
    peer_groups: list[BgpPeerGroup] = Field(default_factory=list)
    listen_ranges: list[BgpListenRange] = Field(default_factory=list)
    address_families: dict[str, BgpAddressFamily] = Field(default_factory=dict)


class RouterBgp(BgpInstance):
    """``router bgp ASN`` with its per-VRF blocks."""

    vrfs: dict[str, BgpInstance] = Field(default_factory=dict)


class RunningConfigBgp(_State):
    """``show running-config section router bgp`` (or all of it); ``None`` without BGP."""

    router_bgp: RouterBgp | None = None


# ------------------------------------------------------------------ calicoctl node status


class CalicoPeer(_State):
    """One row of a ``calicoctl node status`` peer table (INFO continuation rows joined)."""

    peer_address: str
    port: int | None = None
    peer_type: str
    state: str
    since: str
    info: str


class CalicoAfStatus(_State):
    """The IPv4 or IPv6 section: its peers, or the error printed instead of the table.

    Attributes:
        error: what calicoctl printed instead of the table (BIRD unreachable, the family's
            BIRD daemon not running ...).
        peers: the table's rows (empty for ``No IPv6 peers found.``).
        address: the node's own BGP address of this family, where calicoctl prints it
            (calicoctl 0.x ``IP: ...`` line), else ``None``.
        as_number: the node's AS number printed with it (``64511 (inherited)`` -> 64511).
        address_configured: ``False`` for ``No IPv6 address configured.`` (calicoctl 0.x),
            ``True`` when an ``IP:`` line gives the address, ``None`` when the output does not say.
    """

    error: str | None = None
    peers: list[CalicoPeer] = Field(default_factory=list)
    address: str | None = None
    as_number: ASN | None = None
    address_configured: bool | None = None


class CalicoNodeStatus(_State):
    """``calicoctl node status`` / ``kubectl calico node status``; a section absent is ``None``."""

    calico_running: bool
    ipv4: CalicoAfStatus | None = None
    ipv6: CalicoAfStatus | None = None


# ------------------------------------------------------------------ birdcl show protocols


class BirdProtocol(_State):
    """One BIRD protocol; Calico BGP names (``Mesh_``/``Global_``/``Node_``) decoded to a peer."""

    name: str
    proto: str
    table: str | None = None
    state: str
    since: str
    info: str | None = None
    peer_type: str | None = None
    peer_address: str | None = None


class BirdProtocols(_State):
    """``birdcl show protocols`` (``bird.ctl`` or the IPv6 daemon's ``bird6.ctl``).

    ``error`` is birdcl's own message when it could not reach the daemon (``Unable to connect
    to server control socket (...)``): then there are no protocols.
    """

    protocols: list[BirdProtocol] = Field(default_factory=list)
    error: str | None = None


# ------------------------------------------------------------------------------ kubectl


class Pod(_State):
    """A row of ``kubectl get pods -o wide``; ``<none>`` becomes ``None``."""

    namespace: str | None = None
    name: str
    ready: str
    status: str
    restarts: Count
    last_restart: str | None = None
    age: str
    ip: str | None = None
    node: str | None = None
    nominated_node: str | None = None
    readiness_gates: str | None = None


class PodList(_State):
    """``kubectl get pods -o wide`` (with or without ``-A``)."""

    pods: list[Pod] = Field(default_factory=list)


class Service(_State):
    """A row of ``kubectl get svc -o wide``; ``<none>`` becomes ``None``."""

    namespace: str | None = None
    name: str
    type: str
    cluster_ip: str | None = None
    external_ip: str | None = None
    ports: str
    age: str
    selector: str | None = None


class ServiceList(_State):
    """``kubectl get svc -o wide`` (with or without ``-A``)."""

    services: list[Service] = Field(default_factory=list)


__all__ = [
    "BgpAddressFamily",
    "BgpInstance",
    "BgpListenRange",
    "BgpNeighbor",
    "BgpPeer",
    "BgpPeerGroup",
    "BgpSummary",
    "BgpSummaryVrf",
    "BirdProtocol",
    "BirdProtocols",
    "CalicoAfStatus",
    "CalicoNodeStatus",
    "CalicoPeer",
    "NextHop",
    "Pod",
    "PodList",
    "Route",
    "RouteTable",
    "RouteVrf",
    "RouterBgp",
    "RunningConfigBgp",
    "Service",
    "ServiceList",
]
