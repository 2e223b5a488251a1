"""Observed device state: what a collector read from one host, parsed and typed.

One record per kind of host, whatever transport read it (eAPI, SSH, Kubernetes exec, the
Kubernetes API, or saved outputs): :class:`ObservedSwitch`, :class:`ObservedNode`,
:class:`ObservedCluster`. A field is ``None`` when its source was not read (not collected, or
not served by the cluster); an empty list means "read, and there is none".

The words of this project, each with one meaning:

* *parsed output* (:mod:`fabric.models.parsed`): one command's output as the documented
  JSON contract;
* *observed state* (this module): every parsed output of one host, plus the cluster's objects;
* *evidence* (:class:`fabric.checks.evidence.Evidence`): everything a check judges (the
  intent, what it renders, and the observed state of every host);
* the *state database* (:mod:`fabric.state_db`): runs, per-host outcomes and snapshots.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from fabric.models.parsed import (
    BgpSummary,
    CalicoNodeStatus,
    RouteTable,
    RunningConfigBgp,
)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: What a host is, for collection: its ``role`` data, else derived from its platform.
Role = Literal["switch", "calico_node", "cluster"]

#: The node command when the host sets no ``node_status_command``.
DEFAULT_NODE_COMMAND = "calicoctl node status"


@dataclass
class ObservedSwitch:
    """What one switch shows, parsed. A field is None when its command was not collected."""

    host: str
    bgp_summary: BgpSummary | None = None
    routes: RouteTable | None = None
    running_config: RunningConfigBgp | None = None
    running_config_text: str | None = None


@dataclass
class ObservedNode:
    """What one Calico node shows, parsed (``calicoctl node status``)."""

    host: str
    status: CalicoNodeStatus
    command: str = DEFAULT_NODE_COMMAND


@dataclass(frozen=True)
class PodInfo:
    """The part of a pod compliance reads."""

    namespace: str | None
    name: str
    ip: str | None
    node: str | None
    host_network: bool = False
    owner: str | None = None

    @classmethod
    def from_api(cls, obj: dict[str, Any]) -> PodInfo:
        """From a Kubernetes Pod object."""
        md = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        owners = md.get("ownerReferences") or []
        return cls(
            namespace=md.get("namespace"),
            name=str(md.get("name")),
            ip=(obj.get("status") or {}).get("podIP") or None,
            node=spec.get("nodeName"),
            host_network=bool(spec.get("hostNetwork")),
            owner=f"{owners[0].get('kind')}/{owners[0].get('name')}" if owners else None,
        )


@dataclass(frozen=True)
class ServiceInfo:
    """The part of a service compliance reads."""

    namespace: str | None
    name: str
    type: str
    cluster_ip: str | None

    @classmethod
    def from_api(cls, obj: dict[str, Any]) -> ServiceInfo:
        """From a Kubernetes Service object."""
        md = obj.get("metadata") or {}
        spec = obj.get("spec") or {}
        ip = spec.get("clusterIP")
        return cls(
            namespace=md.get("namespace"),
            name=str(md.get("name")),
            type=str(spec.get("type") or "ClusterIP"),
            cluster_ip=None if ip in (None, "", "None") else str(ip),
        )


@dataclass(frozen=True)
class BlockAffinityInfo:
    """An IPAM block a node owns (Calico ``BlockAffinity``)."""

    node: str
    cidr: IPNetwork
    state: str = "confirmed"
    deleted: bool = False

    @property
    def active(self) -> bool:
        """Whether the node really owns the block: confirmed and not being deleted.

        The one place this is decided (the deploy gate, compliance and the lint all ask here).
        """
        return self.state == "confirmed" and not self.deleted

    @classmethod
    def from_api(cls, obj: dict[str, Any]) -> BlockAffinityInfo:
        """From a Calico BlockAffinity object (``deleted`` is a string in the v3 API)."""
        spec = obj.get("spec") or {}
        deleted = spec.get("deleted", False)
        return cls(
            node=str(spec.get("node")),
            cidr=ipaddress.ip_network(str(spec.get("cidr")), strict=False),
            state=str(spec.get("state") or "confirmed"),
            deleted=deleted in (True, "true", "True"),
        )


#: Calico resources read from the cluster: file stem -> plural (of either Calico API).
CALICO_RESOURCES: dict[str, str] = {
    "bgpconfigurations": "bgpconfigurations",
    "bgppeers": "bgppeers",
    "blockaffinities": "blockaffinities",
    "calico_nodes": "nodes",
    "ippools": "ippools",
    "clusterinformations": "clusterinformations",
    "bgpfilters": "bgpfilters",
}
#: Core (v1) resources read from the cluster, by file stem.
CORE_RESOURCES: tuple[str, ...] = ("nodes", "pods", "services")
#: The Tigera operator's ``operator.tigera.io/v1`` resources read, by file stem.
OPERATOR_RESOURCES: dict[str, str] = {"installations": "installations"}


@dataclass
class ObservedCluster:
    """What the cluster holds. A list is None when the API does not serve that resource.

    Calico objects are kept as the API returns them (plain dicts, server fields included);
    pods, services and block affinities as the small records above. ``calico_nodes`` are the
    Calico Nodes of either API (Kubernetes datastore: the core Nodes' ``projectcalico.org/*``
    annotations as Calico Node views); ``installations`` the operator's (None: no operator);
    ``calico_api`` which Calico API was read (``v3`` or ``crd``).
    """

    host: str
    bgp_configurations: list[dict[str, Any]] | None = None
    bgp_peers: list[dict[str, Any]] | None = None
    calico_nodes: list[dict[str, Any]] | None = None
    bgp_filters: list[dict[str, Any]] | None = None
    block_affinities: list[BlockAffinityInfo] | None = None
    nodes: list[dict[str, Any]] | None = None
    pods: list[PodInfo] | None = None
    services: list[ServiceInfo] | None = None
    ip_pools: list[dict[str, Any]] | None = None
    cluster_information: list[dict[str, Any]] | None = None
    installations: list[dict[str, Any]] | None = None
    calico_api: Literal["v3", "crd"] | None = None
    raw: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict, repr=False)

    @classmethod
    def from_objects(
        cls,
        host: str,
        objects: dict[str, list[dict[str, Any]] | None],
        calico_api: Literal["v3", "crd"] | None = None,
    ) -> ObservedCluster:
        """From API object lists keyed by file stem.

        Keys are those of :data:`CALICO_RESOURCES` and :data:`CORE_RESOURCES`; a missing key or
        None means the resource was not read.
        """
        pods = objects.get("pods")
        services = objects.get("services")
        blocks = objects.get("blockaffinities")
        return cls(
            host=host,
            bgp_configurations=objects.get("bgpconfigurations"),
            bgp_peers=objects.get("bgppeers"),
            calico_nodes=objects.get("calico_nodes"),
            bgp_filters=objects.get("bgpfilters"),
            block_affinities=None
            if blocks is None
            else [BlockAffinityInfo.from_api(b) for b in blocks],
            nodes=objects.get("nodes"),
            pods=None if pods is None else [PodInfo.from_api(p) for p in pods],
            services=None if services is None else [ServiceInfo.from_api(s) for s in services],
            ip_pools=objects.get("ippools"),
            cluster_information=objects.get("clusterinformations"),
            installations=objects.get("installations"),
            calico_api=calico_api,
            raw=dict(objects),
        )

    @cached_property
    def blocks_by_node(self) -> dict[str, list[IPNetwork]] | None:
        """Each node's active IPAM blocks (None: BlockAffinity objects not readable)."""
        if self.block_affinities is None:
            return None
        out: dict[str, list[IPNetwork]] = {}
        for b in self.block_affinities:
            if b.active:
                out.setdefault(b.node, []).append(b.cidr)
        return out


Observed = ObservedSwitch | ObservedNode | ObservedCluster
