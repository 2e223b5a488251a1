"""The BGP intent: what the inventory says both sides should be.

Two layers live here:

* *Data models* (``NodeData``, ``SwitchData``, ``CalicoData`` ...) validate the ``data`` blocks
  of the Nornir inventory exactly as an operator writes them (``extra="forbid"``: an unknown key
  is an error, never silently ignored). Every value type that can be wrong in a way an operator
  should recognise (an IP, a CIDR, an ASN, a VLAN ...) fails with a *stable* error code
  (``invalid-ip``, ``invalid-cidr`` ...) that :mod:`fabric.intent` turns into an
  :class:`~fabric.errors.Issue`.
* The assembled :class:`Intent` joins them: every node with the switch it peers with, every
  switch with the neighbors derived from its nodes, the cluster-wide Calico settings. Templates,
  the lab, deploy and compliance all read this one object.

Cross-host rules (a node's BGP IP inside its switch's subnet, peer IP equal to the SVI, ...)
are checked in :mod:`fabric.intent`, which knows the file each value came from.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError
from pydantic_core import ValidationError as CoreValidationError

ASN_MAX = 4294967295


# --------------------------------------------------------------------------- value types


def _error(code: str, message: str) -> PydanticCustomError:
    """A validation error with a stable ``code`` (pydantic's error ``type``)."""
    return PydanticCustomError(code, message)


def _reject_non_str(code: str, what: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _error(code, f"not a valid {what}: {value!r} (write it as a string)")


def _ipv4_address(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, ipaddress.IPv4Address):
        return value
    _reject_non_str("invalid-ip", "IPv4 address", value)
    try:
        return handler(value)
    except CoreValidationError:
        raise _error("invalid-ip", f"not a valid IPv4 address: {value!r}") from None


def _ipv4_network(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, ipaddress.IPv4Network):
        return value
    _reject_non_str("invalid-cidr", "IPv4 CIDR", value)
    if "/" not in value:
        raise _error("invalid-cidr", f"not a CIDR (no prefix length): {value!r}")
    try:
        return handler(value)
    except CoreValidationError:
        try:
            loose = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise _error("invalid-cidr", f"not a valid IPv4 CIDR: {value!r}") from None
        raise _error(
            "invalid-cidr", f"{value!r} has host bits set (did you mean {loose}?)"
        ) from None


def _ipv4_interface(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    if isinstance(value, ipaddress.IPv4Interface):
        return value
    _reject_non_str("invalid-ip", "IPv4 address/prefix", value)
    if "/" not in value:
        raise _error("invalid-ip", f"needs a prefix length (address/len): {value!r}")
    try:
        return handler(value)
    except CoreValidationError:
        raise _error("invalid-ip", f"not a valid IPv4 address/prefix: {value!r}") from None


_ASDOT = re.compile(r"^(\d+)\.(\d+)$")


def _asn(value: Any) -> int:
    """An AS number: an integer, a decimal string or asdot ``high.low``."""
    number: int
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise _error("invalid-asn", f"not a valid AS number: {value!r}")
    if isinstance(value, str):
        m = _ASDOT.match(value)
        if m and int(m[1]) <= 65535 and int(m[2]) <= 65535:
            return int(m[1]) * 65536 + int(m[2])
        if not value.isdigit():
            raise _error("invalid-asn", f"not a valid AS number: {value!r}")
        number = int(value)
    else:
        number = value
    if not 0 <= number <= ASN_MAX:
        raise _error("invalid-asn", f"AS number {number} is outside 0-4294967295")
    return number


def _vlan(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4094:
        raise _error("invalid-vlan", f"not a valid VLAN id (1-4094): {value!r}")
    return value


def _secret_ref(value: Any) -> str:
    # Never echo the value: a wrong reference is most likely the secret itself.
    if not isinstance(value, str) or not _SECRET_REF.match(value):
        raise PydanticCustomError(
            "inline-password",
            "must be a reference (env:VAR or file:/path/outside/the/repo), "
            "never the secret itself (value not shown)",
        )
    return value


def _calico_version(value: Any) -> str:
    if isinstance(value, float):
        raise _error(
            "invalid-version",
            f"quote the Calico version: YAML reads it as the number {value} (3.30 becomes 3.3)",
        )
    if not isinstance(value, str) or not re.match(r"^3\.\d+$", value):
        raise _error("invalid-version", f'not a Calico 3.x version like "3.26": {value!r}')
    return value


_SECRET_REF = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$")

IPv4 = Annotated[ipaddress.IPv4Address, WrapValidator(_ipv4_address)]
CIDR = Annotated[ipaddress.IPv4Network, WrapValidator(_ipv4_network)]
IPv4Iface = Annotated[ipaddress.IPv4Interface, WrapValidator(_ipv4_interface)]
ASN = Annotated[int, BeforeValidator(_asn)]
VlanId = Annotated[int, BeforeValidator(_vlan)]
Name = Annotated[str, StringConstraints(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
#: A Kubernetes object name (DNS-1123 subdomain): Calico objects are stored as CRDs.
K8sName = Annotated[
    str,
    StringConstraints(
        max_length=253, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
    ),
]
#: A reference to a secret, never the secret: ``env:VAR`` or ``file:/path/outside/repo``.
SecretRef = Annotated[str, BeforeValidator(_secret_ref)]
CalicoVersion = Annotated[str, BeforeValidator(_calico_version)]
Duration = Annotated[str, StringConstraints(pattern=r"^\d+(ms|s|m|h)$")]
Port = Annotated[int, Field(ge=1, le=65535)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- Calico versions

#: The minor version (Calico 3.x) that introduced each spec field we can render, per kind.
#: Compiled from the Calico API reference (docs.tigera.io, ``reference/resources/
#: bgpconfig``, ``bgppeer``, ``bgpfilter`` and ``node`` of each release) and release notes;
#: fields present since 3.0 are listed as 0. ``keepOriginalNextHop`` is superseded by
#: ``nextHopMode`` in 3.30. The ``BGPFilter`` kind and ``BGPPeer.filters`` first appear in the
#: 3.26 API reference (3.25's lists neither); ``peerSelector`` and ``routeReflectorClusterID``
#: came with the in-cluster route reflectors of 3.3.
CALICO_FIELD_SINCE: dict[str, dict[str, int]] = {
    "BGPConfiguration": {
        "logSeverityScreen": 0,
        "nodeToNodeMeshEnabled": 0,
        "asNumber": 0,
        "serviceClusterIPs": 10,
        "serviceExternalIPs": 10,
        "listenPort": 11,
        "communities": 14,
        "prefixAdvertisements": 14,
        "serviceLoadBalancerIPs": 18,
        "nodeMeshMaxRestartTime": 20,
        "bindMode": 21,
        "localWorkloadPeeringIPV4": 30,
    },
    "BGPPeer": {
        "node": 0,
        "peerIP": 0,
        "asNumber": 0,
        "nodeSelector": 0,
        "peerSelector": 3,
        "password": 11,
        "keepOriginalNextHop": 23,
        "numAllowedLocalASNumbers": 24,
        "filters": 26,
        "nextHopMode": 30,
    },
    "Node": {"bgp.ipv4Address": 0, "bgp.asNumber": 0, "bgp.routeReflectorClusterID": 3},
    "BGPFilter": {"exportV4": 26, "importV4": 26},
}


def calico_minor(version: str) -> int:
    """The minor number of a ``3.N`` Calico version.

    >>> calico_minor("3.26")
    26
    """
    return int(version.split(".", 1)[1])


def supported_fields(kind: str, version: str) -> frozenset[str]:
    """Spec fields of ``kind`` that Calico ``version`` knows.

    >>> "localWorkloadPeeringIPV4" in supported_fields("BGPConfiguration", "3.26")
    False
    >>> "listenPort" in supported_fields("BGPConfiguration", "3.26")
    True
    """
    minor = calico_minor(version)
    return frozenset(f for f, since in CALICO_FIELD_SINCE[kind].items() if since <= minor)


# --------------------------------------------------------------------------- inventory data


class NodeData(_Strict):
    """``data.node`` of a Calico node host."""

    bgp_ip: IPv4
    mgmt_ip: IPv4 | None = None
    #: The one switch the node peers with (shorthand of ``tors: [name]``).
    tor: str | None = None
    #: Every switch the node peers with (both ToRs of a pair). ``[]``: none (a route
    #: reflector client that peers only with in-cluster route reflectors).
    tors: list[str] | None = None
    as_number: ASN | None = None
    #: Makes the node a Calico route reflector (Calico Node ``spec.bgp.routeReflectorClusterID``).
    route_reflector_cluster_id: IPv4 | None = None
    #: Node-specific BGPPeers (Calico ``spec.node``) in addition to the cluster's peers.
    peers: list[PeerData] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)


class PeerData(_Strict):
    """A Calico BGPPeer: global (no node/selector) or node-specific.

    Either ``peer_ip`` (with ``as_number``: a switch) or ``peer_selector`` (other Calico
    nodes, e.g. the route reflectors).
    """

    name: K8sName
    peer_ip: IPv4 | None = None
    as_number: ASN | None = None
    node_selector: str | None = None
    #: Calico ``peerSelector``: peer with the nodes it selects (3.3+).
    peer_selector: str | None = None
    #: Names of ``BGPFilter`` objects applied to this peering (3.26+).
    filters: list[K8sName] = Field(default_factory=list)
    #: Calico ``numAllowedLocalASNumbers``: the node-side ``allowas-in`` (3.24+).
    num_allowed_local_as_numbers: Annotated[int, Field(ge=1, le=10)] | None = None
    password_ref: SecretRef | None = None
    #: Calico ``keepOriginalNextHop`` (3.23+, superseded by ``next_hop_mode`` in 3.30).
    keep_original_next_hop: bool | None = None
    #: Calico ``nextHopMode`` (3.30+).
    next_hop_mode: Literal["Auto", "Self", "Keep"] | None = None


class Community(_Strict):
    """A named BGP community (standard ``a:b`` or large ``a:b:c``)."""

    name: Name
    value: Annotated[str, StringConstraints(pattern=r"^\d+:\d+(:\d+)?$")]


class PrefixAdvertisement(_Strict):
    """Communities attached to a CIDR Calico advertises."""

    cidr: CIDR
    communities: list[str]


class FilterRule(_Strict):
    """One rule of a Calico ``BGPFilter`` (the 3.26 fields): the first match decides."""

    action: Literal["Accept", "Reject"]
    match_operator: Literal["In", "NotIn", "Equal", "NotEqual"]
    cidr: CIDR

    def matches(self, net: ipaddress.IPv4Network) -> bool:
        """Whether the rule matches the route ``net`` (Calico's ``matchOperator``).

        >>> r = FilterRule(action="Reject", match_operator="In", cidr="10.0.0.0/8")
        >>> net = ipaddress.IPv4Network
        >>> r.matches(net("10.1.0.0/16")), r.matches(net("11.0.0.0/8"))
        (True, False)
        """
        return filter_rule_matches(self.match_operator, self.cidr, net)


def filter_rule_matches(
    operator: str, cidr: ipaddress.IPv4Network, net: ipaddress.IPv4Network
) -> bool:
    """Calico's BGPFilter ``matchOperator`` (``In``: inside ``cidr``; ``Equal``: exactly it)."""
    if operator == "Equal":
        return net == cidr
    if operator == "NotEqual":
        return net != cidr
    inside = net.subnet_of(cidr)
    return inside if operator == "In" else not inside


class BgpFilterData(_Strict):
    """A Calico ``BGPFilter`` (3.26+): import and export rules, referenced by peers."""

    name: K8sName
    export_v4: list[FilterRule] = Field(default_factory=list)
    import_v4: list[FilterRule] = Field(default_factory=list)


class CalicoData(_Strict):
    """``data.calico`` of the cluster host: the cluster-wide BGPConfiguration and peers."""

    version: CalicoVersion
    as_number: ASN
    pod_cidr: CIDR
    block_size: Annotated[int, Field(ge=20, le=32)] = 26
    service_cluster_cidrs: list[CIDR] = Field(default_factory=list)
    service_external_cidrs: list[CIDR] = Field(default_factory=list)
    service_loadbalancer_cidrs: list[CIDR] = Field(default_factory=list)
    node_to_node_mesh: bool = True
    node_mesh_max_restart_time: Duration | None = None
    listen_port: Port = 179
    bind_mode: Literal["None", "NodeIP"] = "None"
    log_severity_screen: Literal["Debug", "Info", "Warning", "Error", "Fatal"] = "Info"
    communities: list[Community] = Field(default_factory=list)
    prefix_advertisements: list[PrefixAdvertisement] = Field(default_factory=list)
    peers: list[PeerData] = Field(default_factory=list)
    #: Calico 3.30+ only (see fabric.intent for the version table).
    local_workload_peering_ip_v4: IPv4 | None = None
    #: ``BGPFilter`` objects (Calico 3.26+), referenced by peers' ``filters``.
    filters: list[BgpFilterData] = Field(default_factory=list)
    #: The AS of every node of a rack (``labels.rack``), unless the node sets its own.
    rack_as_numbers: dict[str, ASN] = Field(default_factory=dict)


class ManagementVrf(_Strict):
    """The switch's out-of-band management VRF."""

    name: Name = "management"
    rd: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*:\d+$")] | None = None
    interface: Name = "Management1"
    address: IPv4Iface | None = None
    gateway: IPv4 | None = None


class Loopback(_Strict):
    """A loopback interface."""

    name: Annotated[str, StringConstraints(pattern=r"^Loopback\d+$")]
    address: IPv4Iface
    vrf: Name | None = None


class VirtualRouter(_Strict):
    """VARP on the peering SVI: a shared gateway address on both ToRs of a pair."""

    address: IPv4
    mac_address: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")] = (
        "00:1c:73:00:00:99"
    )


class SwitchData(_Strict):
    """``data.switch`` of an Arista host."""

    asn: ASN
    router_id: IPv4
    peering_vlan: VlanId
    svi: IPv4Iface
    management_vrf: ManagementVrf | None = None
    loopbacks: list[Loopback] = Field(default_factory=list)
    access_ports: list[Name] = Field(default_factory=list)
    maximum_paths: Annotated[int, Field(ge=1, le=512)] | None = None
    #: ``maximum-paths N ecmp M``: the ECMP group size (at least maximum_paths).
    ecmp: Annotated[int, Field(ge=1, le=512)] | None = None
    peer_group: Name | None = None
    bgp_password_ref: SecretRef | None = None
    #: Port the switch uses to reach the nodes (Calico's listenPort); None means 179.
    neighbor_port: Port | None = None
    #: Reflect routes between the nodes (``route-reflector-client``): replaces the node mesh
    #: for iBGP nodes when ``node_to_node_mesh`` is off.
    route_reflector: bool = False
    #: The rack this switch serves; the switches of a rack are a pair (MLAG, assumed).
    rack: Name | None = None
    #: ``neighbor ... allowas-in N``: accept routes carrying this switch's AS up to N times.
    allowas_in: Annotated[int, Field(ge=1, le=10)] | None = None
    #: ``ip virtual-router address`` on the SVI (and the global virtual MAC).
    virtual_router: VirtualRouter | None = None


# --------------------------------------------------------------------------- assembled intent


class Node(_Strict):
    """A Calico node as the intent sees it."""

    name: str
    bgp_ip: ipaddress.IPv4Address
    mgmt_ip: ipaddress.IPv4Address | None
    as_number: int
    """The node's effective AS (its own, else its rack's, else the cluster's)."""
    as_override: int | None
    """The AS rendered on the Calico Node: the node's own or its rack's (None: the cluster's)."""
    tors: list[str]
    """Every switch the node peers with, in inventory order (empty: route reflector client)."""
    peers: list[PeerData]
    labels: dict[str, str]
    rack: str | None = None
    """``labels.rack``: the rack (its switches are the pair the node is cabled to)."""
    route_reflector_cluster_id: ipaddress.IPv4Address | None = None
    attached: list[str] = Field(default_factory=list)
    """The switches the node is cabled to: its ToRs, else its rack's switches."""

    @property
    def tor(self) -> str:
        """The first switch the node peers with (or is cabled to)."""
        return (self.tors or self.attached)[0]

    @property
    def is_route_reflector(self) -> bool:
        """Whether the node is a Calico route reflector (it has a cluster ID)."""
        return self.route_reflector_cluster_id is not None


class Neighbor(_Strict):
    """A switch-side BGP neighbor, derived from a node."""

    address: ipaddress.IPv4Address
    remote_as: int
    node: str
    description: str


class Switch(_Strict):
    """An Arista switch with its derived neighbors."""

    name: str
    eos_version: str | None
    data: SwitchData
    neighbors: list[Neighbor]

    @property
    def peering_subnet(self) -> ipaddress.IPv4Network:
        """The network of the peering SVI."""
        return self.data.svi.network


class Cluster(_Strict):
    """The Kubernetes cluster (where cluster-wide Calico objects are applied)."""

    name: str
    kubeconfig: str | None
    context: str | None
    calico: CalicoData


class Intent(_Strict):
    """Everything both sides should be, assembled from one inventory."""

    cluster: Cluster
    nodes: list[Node]
    switches: list[Switch]

    # Name indexes, rebuilt when the lists are replaced (model_copy(update=...) keeps them).
    _node_index: tuple[list[Node], dict[str, Node]] | None = PrivateAttr(default=None)
    _switch_index: tuple[list[Switch], dict[str, Switch]] | None = PrivateAttr(default=None)

    def digest(self) -> str:
        """A short stable hash of the intent (stored with each run)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]

    def __eq__(self, other: object) -> bool:
        """Equal when the fields are equal (the name indexes do not count)."""
        if not isinstance(other, Intent):
            return NotImplemented
        return (self.cluster, self.nodes, self.switches) == (
            other.cluster,
            other.nodes,
            other.switches,
        )

    def __hash__(self) -> int:
        """Hash of the fields (the model is frozen)."""
        return hash((self.cluster, tuple(self.nodes), tuple(self.switches)))

    def node(self, name: str) -> Node:
        """Return the node called ``name`` (KeyError if absent)."""
        idx = self._node_index
        if idx is None or idx[0] is not self.nodes:
            idx = self._node_index = (self.nodes, {n.name: n for n in self.nodes})
        return idx[1][name]

    def switch(self, name: str) -> Switch:
        """Return the switch called ``name`` (KeyError if absent)."""
        idx = self._switch_index
        if idx is None or idx[0] is not self.switches:
            idx = self._switch_index = (self.switches, {s.name: s for s in self.switches})
        return idx[1][name]

    def peers_for(self, node: Node) -> list[PeerData]:
        """The Calico peers that apply to ``node``: global ones, selector matches, its own."""
        out: list[PeerData] = []
        for p in self.cluster.calico.peers:
            if p.node_selector is None or selector_matches(p.node_selector, node.labels):
                out.append(p)
        out.extend(node.peers)
        return out

    def rack_switches(self, rack: str | None) -> list[Switch]:
        """The switches of ``rack`` (``data.switch.rack``), in inventory order."""
        if rack is None:
            return []
        return [s for s in self.switches if s.data.rack == rack]

    def selected_nodes(self, selector: str) -> list[Node]:
        """The nodes a ``peer_selector`` selects (selectors we cannot evaluate select none)."""
        return selected_nodes(self.nodes, selector)

    def node_peerings(self) -> dict[str, dict[str, str]]:
        """Node-to-node BGP sessions from ``peer_selector`` peers (:func:`node_peerings`)."""
        return node_peerings(self.nodes, self.cluster.calico.peers)


def selected_nodes(nodes: list[Node], selector: str) -> list[Node]:
    """The nodes a ``peer_selector`` selects (selectors we cannot evaluate select none)."""
    terms = parse_selector(selector)
    if terms is None:
        return []
    return [n for n in nodes if all(n.labels.get(k) == v for k, v in terms)]


def node_peerings(nodes: list[Node], cluster_peers: list[PeerData]) -> dict[str, dict[str, str]]:
    """Node-to-node BGP sessions from ``peer_selector`` peers, both directions.

    Calico peers a node that a peer applies to with every node its ``peer_selector`` selects,
    and the selected node with it (never a node with itself).

    Returns:
        node name -> {peer node name: the BGPPeer's name}.
    """
    out: dict[str, dict[str, str]] = {n.name: {} for n in nodes}
    targets: dict[str, list[Node]] = {}

    def link(node: Node, p: PeerData) -> None:
        assert p.peer_selector is not None
        if p.peer_selector not in targets:
            targets[p.peer_selector] = selected_nodes(nodes, p.peer_selector)
        for other in targets[p.peer_selector]:
            if other.name != node.name:
                out[node.name].setdefault(other.name, p.name)
                out[other.name].setdefault(node.name, p.name)

    selecting = [p for p in cluster_peers if p.peer_selector is not None]
    for node in nodes:
        for p in selecting:
            if p.node_selector is None or selector_matches(p.node_selector, node.labels):
                link(node, p)
        for p in node.peers:
            if p.peer_selector is not None:
                link(node, p)
    return out


@functools.lru_cache(maxsize=4096)
def parse_selector(selector: str) -> tuple[tuple[str, str], ...] | None:
    r"""Parse the Calico selector subset we evaluate: ``k == 'v'`` terms joined by ``&&``.

    Returns:
        The ``(key, value)`` terms (empty for ``all()``), or None when the selector uses
        anything richer (then only the cluster can decide what it matches).

    >>> parse_selector("rack == 'r1' && zone == \"a\"")
    (('rack', 'r1'), ('zone', 'a'))
    >>> parse_selector("all()")
    ()
    >>> parse_selector("has(rack)") is None
    True
    """
    sel = selector.strip()
    if sel in ("", "all()"):
        return ()
    terms: list[tuple[str, str]] = []
    for term in sel.split("&&"):
        m = re.match(r"""^\s*([A-Za-z0-9_./-]+)\s*==\s*(['"])(.*)\2\s*$""", term)
        if m is None:
            return None
        terms.append((m[1], m[3]))
    return tuple(terms)


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Whether ``selector`` matches ``labels``; selectors we cannot evaluate count as matching."""
    terms = parse_selector(selector)
    if terms is None:
        return True
    return all(labels.get(k) == v for k, v in terms)


# Backwards-compatible private name (used by earlier code).
_selector_matches = selector_matches

NodeData.model_rebuild()
