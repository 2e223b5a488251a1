"""The BGP intent: what the inventory says both sides should be.

Two layers live here:

* *Data models* (``NodeData``, ``SwitchData``, ``CalicoData`` ...) validate the ``data`` blocks
  of the Nornir inventory exactly as an operator writes them (``extra="forbid"``: an unknown key
  is an error, never silently ignored).
* The assembled :class:`Intent` joins them: every node with the switch it peers with, every
  switch with the neighbors derived from its nodes, the cluster-wide Calico settings. Templates,
  the lab, deploy and compliance all read this one object.

Cross-host rules (a node's BGP IP inside its switch's subnet, peer IP equal to the SVI, ...)
are checked in :mod:`fabric.intent`, which knows the file each value came from.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ASN = Annotated[int, Field(ge=0, le=4294967295)]
VlanId = Annotated[int, Field(ge=1, le=4094)]
Name = Annotated[str, StringConstraints(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
#: A reference to a secret, never the secret: ``env:VAR`` or ``file:/path/outside/repo``.
SecretRef = Annotated[str, StringConstraints(pattern=r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- inventory data


class NodeData(_Strict):
    """``data.node`` of a Calico node host."""

    bgp_ip: ipaddress.IPv4Address
    mgmt_ip: ipaddress.IPv4Address | None = None
    tor: str | None = None
    as_number: ASN | None = None
    #: Node-specific BGPPeers (Calico ``spec.node``) in addition to the cluster's peers.
    peers: list[PeerData] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)


class PeerData(_Strict):
    """A Calico BGPPeer: global (no node/selector) or node-specific."""

    name: Name
    peer_ip: ipaddress.IPv4Address
    as_number: ASN
    node_selector: str | None = None
    password_ref: SecretRef | None = None
    #: Calico 3.30+ only (see fabric.intent for the version table).
    keep_original_next_hop: bool | None = None


class Community(_Strict):
    """A named BGP community (standard ``a:b`` or large ``a:b:c``)."""

    name: Name
    value: Annotated[str, StringConstraints(pattern=r"^\d+:\d+(:\d+)?$")]


class PrefixAdvertisement(_Strict):
    """Communities attached to a CIDR Calico advertises."""

    cidr: ipaddress.IPv4Network
    communities: list[str]


class CalicoData(_Strict):
    """``data.calico`` of the cluster host: the cluster-wide BGPConfiguration and peers."""

    version: Annotated[str, StringConstraints(pattern=r"^3\.\d+$")]
    as_number: ASN
    pod_cidr: ipaddress.IPv4Network
    block_size: Annotated[int, Field(ge=20, le=32)] = 26
    service_cluster_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)
    service_external_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)
    service_loadbalancer_cidrs: list[ipaddress.IPv4Network] = Field(default_factory=list)
    node_to_node_mesh: bool = True
    node_mesh_max_restart_time: Annotated[str, StringConstraints(pattern=r"^\d+(ms|s|m|h)$")] | None = None
    listen_port: Annotated[int, Field(ge=1, le=65535)] = 179
    bind_mode: Literal["None", "NodeIP"] = "None"
    log_severity_screen: Literal["Debug", "Info", "Warning", "Error", "Fatal"] = "Info"
    communities: list[Community] = Field(default_factory=list)
    prefix_advertisements: list[PrefixAdvertisement] = Field(default_factory=list)
    peers: list[PeerData] = Field(default_factory=list)
    #: Calico 3.30+ only.
    local_workload_peering_ip_v4: ipaddress.IPv4Address | None = None


class ManagementVrf(_Strict):
    """The switch's out-of-band management VRF."""

    name: Name = "management"
    rd: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)*:\d+$")] | None = None
    interface: Name = "Management1"
    address: ipaddress.IPv4Interface | None = None
    gateway: ipaddress.IPv4Address | None = None


class Loopback(_Strict):
    """A loopback interface."""

    name: Annotated[str, StringConstraints(pattern=r"^Loopback\d+$")]
    address: ipaddress.IPv4Interface
    vrf: Name | None = None


class SwitchData(_Strict):
    """``data.switch`` of an Arista host."""

    asn: ASN
    router_id: ipaddress.IPv4Address
    peering_vlan: VlanId
    svi: ipaddress.IPv4Interface
    management_vrf: ManagementVrf | None = None
    loopbacks: list[Loopback] = Field(default_factory=list)
    access_ports: list[Name] = Field(default_factory=list)
    maximum_paths: Annotated[int, Field(ge=1, le=512)] | None = None
    peer_group: Name | None = None
    bgp_password_ref: SecretRef | None = None
    #: Port the switch uses to reach the nodes (Calico's listenPort); None means 179.
    neighbor_port: Annotated[int, Field(ge=1, le=65535)] | None = None


# --------------------------------------------------------------------------- assembled intent


class Node(_Strict):
    """A Calico node as the intent sees it."""

    name: str
    bgp_ip: ipaddress.IPv4Address
    mgmt_ip: ipaddress.IPv4Address | None
    as_number: int
    """The node's effective AS (its override, else the cluster's)."""
    as_override: int | None
    tor: str
    peers: list[PeerData]
    labels: dict[str, str]


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

    def node(self, name: str) -> Node:
        """Return the node called ``name`` (KeyError if absent)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def switch(self, name: str) -> Switch:
        """Return the switch called ``name`` (KeyError if absent)."""
        for s in self.switches:
            if s.name == name:
                return s
        raise KeyError(name)

    def peers_for(self, node: Node) -> list[PeerData]:
        """The Calico peers that apply to ``node``: global ones, selector matches, its own."""
        out: list[PeerData] = []
        for p in self.cluster.calico.peers:
            if p.node_selector is None or _selector_matches(p.node_selector, node.labels):
                out.append(p)
        out.extend(node.peers)
        return out


def _selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """Evaluate the small Calico selector subset we generate: ``k == 'v'`` joined by ``&&``.

    ``all()`` matches everything. Anything richer is treated as matching (the cluster decides).
    """
    sel = selector.strip()
    if sel in ("", "all()"):
        return True
    for term in sel.split("&&"):
        term = term.strip()
        if "==" not in term:
            return True
        key, _, value = term.partition("==")
        if labels.get(key.strip()) != value.strip().strip("'\""):
            return False
    return True


NodeData.model_rebuild()
