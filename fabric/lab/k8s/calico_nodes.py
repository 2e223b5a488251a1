"""The lab's calico-node DaemonSet: per node, its address autodetection, container and log.

:class:`CalicoNodes` is what the runtime wires between the cluster's objects and the BGP
simulation:

* it reads the Tigera operator's ``Installation`` ``default`` (absent: a manifest install, the
  ``first-found`` default) and runs Calico's autodetection on every node
  (:func:`~fabric.lab.k8s.calico_node.detect_ipv4`); the detected address goes where calico-node
  writes it in a Kubernetes-datastore cluster, the core ``Node`` annotation
  ``projectcalico.org/IPv4Address`` (``libcalico-go/lib/backend/k8s/resources/node.go``), in both
  Calico API modes;
* a node whose detection fails runs no calico-node (BIRD down), as does every node when the
  Installation sets ``calicoNetwork.bgp: Disabled`` (calico-node then runs without BIRD);
* it answers ``exec`` and ``log`` for the pods (:class:`~fabric.lab.k8s.podexec.PodBackend`):
  the ``calico-node`` container of a ``k8s-app=calico-node`` pod runs
  :class:`~fabric.lab.k8s.calico_node.CalicoNodeContainer`; its log is the node's
  :class:`~fabric.lab.k8s.calico_node.BirdLog`, fed by :meth:`CalicoNodes.observe` after every
  simulation step.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fabric.lab.k8s.calico_node import (
    CONTAINER,
    BirdLog,
    CalicoNodeContainer,
    Detection,
    HostInterface,
    NodeRuntime,
    detect_ipv4,
)
from fabric.lab.k8s.podexec import ExecResult, LogLine, oci_not_found
from fabric.lab.k8s.resources import OPERATOR_API_VERSION
from fabric.lab.k8s.store import KubeStore
from fabric.lab.model import NodeBgpView

#: Core ``Node`` annotations calico-node and Calico's Node resource use in a KDD cluster.
IPV4_ANNOTATION = "projectcalico.org/IPv4Address"
ASN_ANNOTATION = "projectcalico.org/ASNumber"


@dataclass(frozen=True)
class NodeHost:
    """What a node's host looks like to calico-node: interfaces, default route, InternalIP."""

    interfaces: tuple[HostInterface, ...]
    default_interface: str
    internal_ip: str


#: ``name -> (view, BIRD start time)`` of the current simulation step.
SimView = Callable[[str], tuple[NodeBgpView, float]]


class CalicoNodes:
    """calico-node on every node of the lab (see the module docstring).

    Args:
        store: the cluster's objects.
        hosts: each node's host facts, by node name.
        version: the Calico release the pods run (``v3.26.0``).
        view: the simulation's view of a node (called on the lab's loop).
        clock: the wall clock.
    """

    def __init__(
        self,
        store: KubeStore,
        hosts: Mapping[str, NodeHost],
        *,
        version: str,
        view: SimView,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.hosts = dict(hosts)
        self.version = version
        self.view = view
        self.clock = clock
        self.detections: dict[str, Detection] = {}
        self.bgp_enabled = True
        self.logs: dict[str, BirdLog] = {
            name: BirdLog(pid=60 + i % 40) for i, name in enumerate(self.hosts)
        }
        self._installation_rv: str | None = "unset"

    # ------------------------------------------------------------------ the Installation

    def installation(self) -> dict[str, Any] | None:
        """The operator's ``Installation`` ``default`` (None: not an operator install)."""
        return self.store.get(OPERATOR_API_VERSION, "Installation", "default")

    def reconcile(self) -> bool:
        """Follow the Installation: detect the node addresses again when it changed.

        Returns:
            Whether the detected addresses or the BGP setting changed (the simulation's node
            facts must be rebuilt).
        """
        inst = self.installation()
        rv = None if inst is None else str(inst["metadata"].get("resourceVersion"))
        if rv == self._installation_rv:
            return False
        first = self._installation_rv == "unset"
        self._installation_rv = rv
        network = ((inst or {}).get("spec") or {}).get("calicoNetwork") or {}
        bgp = network.get("bgp", "Enabled") != "Disabled"
        method = network.get("nodeAddressAutodetectionV4")
        before = {n: d.address for n, d in self.detections.items()}
        now = self.clock()
        for name, host in self.hosts.items():
            found = detect_ipv4(
                method,
                host.interfaces,
                internal_ip=host.internal_ip,
                default_interface=host.default_interface,
            )
            old = self.detections.get(name)
            self.detections[name] = found
            if old is None or old.address != found.address or old.method != found.method:
                component = "startup" if first else "monitor-addresses"
                for record in found.records:
                    self.logs[name].note(now, record, component)
            if found.address is not None:
                self._annotate(name, found.address)
        changed = bgp != self.bgp_enabled or before != {
            n: d.address for n, d in self.detections.items()
        }
        self.bgp_enabled = bgp
        return changed

    def _annotate(self, name: str, address: ipaddress.IPv4Interface) -> None:
        node = self.store.get("v1", "Node", name)
        if node is None:
            return
        annotations = node["metadata"].setdefault("annotations", {})
        if annotations.get(IPV4_ANNOTATION) != address.with_prefixlen:
            annotations[IPV4_ANNOTATION] = address.with_prefixlen
            self.store.put(node)

    def detected(self) -> dict[str, ipaddress.IPv4Address]:
        """Each node's detected IPv4 address (nodes whose detection failed are left out)."""
        return {n: d.address.ip for n, d in self.detections.items() if d.address is not None}

    def not_running(self) -> frozenset[str]:
        """Nodes without BIRD: detection failed, or BGP is disabled in the Installation."""
        if not self.bgp_enabled:
            return frozenset(self.hosts)
        return frozenset(n for n, d in self.detections.items() if d.address is None)

    # ------------------------------------------------------------------ logs

    def observe(self, views: Mapping[str, tuple[NodeBgpView, float]] | None = None) -> None:
        """Record the state changes of every node's BIRD since the last observation."""
        now = self.clock()
        for name, log in self.logs.items():
            view, since = views[name] if views is not None else self.view(name)
            log.observe(view, since, now)

    # ------------------------------------------------------------------ PodBackend

    def _node_of(self, pod: Mapping[str, Any], container: str) -> str | None:
        labels = (pod.get("metadata") or {}).get("labels") or {}
        node = (pod.get("spec") or {}).get("nodeName")
        if labels.get("k8s-app") != CONTAINER or container != CONTAINER or node not in self.hosts:
            return None
        return str(node)

    def exec(self, pod: dict[str, Any], container: str, command: list[str]) -> ExecResult:
        """Run ``command`` in a pod's container (only calico-node's container runs anything)."""
        inits = {c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []}
        if container in inits:
            return ExecResult(
                runtime_error="failed to exec in container: container is in CONTAINER_EXITED state"
            )
        node = self._node_of(pod, container)
        if node is None:
            # The lab's other pods run the pause image: there is no binary to start.
            return ExecResult(runtime_error=oci_not_found(command[0]))
        return CalicoNodeContainer(lambda: self._runtime(node), self.clock).run(command)

    def _runtime(self, node: str) -> NodeRuntime:
        view, since = self.view(node)
        detection = self.detections.get(node)
        return NodeRuntime(
            name=node,
            view=view,
            bird_since=since,
            version=self.version,
            calico_running=detection is None or detection.address is not None,
        )

    def logs_of(self, node: str) -> list[LogLine]:
        """The calico-node container's lines of ``node`` (after observing the current state)."""
        self.observe_one(node)
        return list(self.logs[node].lines)

    def observe_one(self, node: str) -> None:
        """Record the state changes of one node's BIRD."""
        view, since = self.view(node)
        self.logs[node].observe(view, since, self.clock())

    def logs_for(self, pod: dict[str, Any], container: str) -> list[LogLine]:
        """``PodBackend.logs``: calico-node's lines; other containers print nothing."""
        node = self._node_of(pod, container)
        return self.logs_of(node) if node is not None else []


class PodBackendAdapter:
    """:class:`~fabric.lab.k8s.podexec.PodBackend` of a :class:`CalicoNodes` (set later)."""

    def __init__(self) -> None:
        self.nodes: CalicoNodes | None = None

    def exec(self, pod: dict[str, Any], container: str, command: list[str]) -> ExecResult:
        """Run a command in a pod (see :meth:`CalicoNodes.exec`)."""
        if self.nodes is None:
            return ExecResult(runtime_error=oci_not_found(command[0]))
        return self.nodes.exec(pod, container, command)

    def logs(self, pod: dict[str, Any], container: str) -> list[LogLine]:
        """A container's lines (see :meth:`CalicoNodes.logs_for`)."""
        return self.nodes.logs_for(pod, container) if self.nodes is not None else []


def annotated_calico_nodes(
    core_nodes: Sequence[Mapping[str, Any]], api_version: str
) -> list[dict[str, Any]]:
    """Calico ``Node`` objects as libcalico-go derives them from core Nodes (BGP part only).

    ``spec.bgp.ipv4Address`` and ``asNumber`` come from the ``projectcalico.org/IPv4Address``
    and ``projectcalico.org/ASNumber`` annotations; a node with neither has no BGP spec.
    """
    out = []
    for node in core_nodes:
        meta = node.get("metadata") or {}
        annotations = meta.get("annotations") or {}
        bgp: dict[str, Any] = {}
        if annotations.get(IPV4_ANNOTATION):
            bgp["ipv4Address"] = annotations[IPV4_ANNOTATION]
        asn = str(annotations.get(ASN_ANNOTATION) or "")
        if asn.isdigit():
            bgp["asNumber"] = int(asn)
        out.append(
            {
                "apiVersion": api_version,
                "kind": "Node",
                "metadata": {"name": meta.get("name"), "labels": dict(meta.get("labels") or {})},
                "spec": {"bgp": bgp} if bgp else {},
            }
        )
    return out
