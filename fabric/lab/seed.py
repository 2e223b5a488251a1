"""The seed dataset: what the write-up's cluster and switch hold (../shared/SEED.md).

Two layers:

* the *base* content every lab starts with: switches keep the EOS factory config of
  :class:`~fabric.lab.eos.EosSwitch` (hostname, user, ``management api http-commands``); the
  cluster gets the write-up's namespaces, nodes, pods and services, an IPPool and one IPAM block
  per node, but no Calico BGP object;
* the *seeded* content (``lab up --seeded``, the ``seeded_lab`` fixture): the write-up's literal
  switch configuration and its Calico ``BGPConfiguration``/``BGPPeer``, as applied by hand there.
  Hosts that are not the write-up's (generated inventories) get the intent's rendered config.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fabric.lab.k8s.calico_node import HostInterface
from fabric.lab.k8s.resources import CRD_API_VERSION, OPERATOR_API_VERSION
from fabric.lab.k8s.store import DEFAULT_NAMESPACES
from fabric.lab.sim import CALICO, NodeFacts
from fabric.models.intent import Intent, Node

SEED_SWITCH = "eos-tor-001"
CALICO_NODE = "calico-node"
SEED_NODES = ("kube-controlplane-001", "kube-worker-001")

#: The IPAM blocks the write-up's nodes own after Calico took over.
SEED_BLOCKS: dict[str, ipaddress.IPv4Network] = {
    "kube-controlplane-001": ipaddress.IPv4Network("192.168.170.0/24"),
    "kube-worker-001": ipaddress.IPv4Network("192.168.181.0/24"),
}

#: The write-up's switch configuration (SEED.md, re-indented), after the base config.
SEED_SWITCH_BODY = """\
vlan 3002
!
vrf instance management
   rd 10:1
!
interface Ethernet1
   switchport access vlan 3002
!
interface Loopback0
   ip address 1.1.1.1/32
!
interface Loopback1
   vrf management
   ip address 2.2.2.2/32
!
interface Management1
   vrf management
   ip address 172.21.0.30/24
!
interface Vlan3002
   ip address 172.21.1.254/24
!
ip routing
ip routing vrf management
!
ip route vrf management 0.0.0.0/0 172.21.0.254
!
router bgp 65535
   neighbor 172.21.1.8 remote-as 65535
   neighbor 172.21.1.18 remote-as 65535
   address-family ipv4
      neighbor 172.21.1.8 activate
      neighbor 172.21.1.18 activate
!
"""

#: The write-up's Calico objects (SEED.md), applied with kubectl there.
SEED_CALICO_YAML = """\
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: true
  nodeMeshMaxRestartTime: 120s
  asNumber: 65535
  serviceClusterIPs:
  - cidr: 192.16.0.0/12
  listenPort: 178
  bindMode: None
  communities:
  - name: bgp-large-community
    value: 65535:300:100
  prefixAdvertisements:
  - cidr: 192.168.0.0/16
    communities:
    - bgp-large-community
    - 65535:120
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: global-peer
spec:
  peerIP: 172.21.1.254
  asNumber: 65535
"""


@dataclass(frozen=True)
class SeedPod:
    """A pod of the write-up: where it runs, its address, who owns it."""

    namespace: str
    name: str
    node: str
    ip: str | None
    """Pod IP; None for host-network pods (they use the node's management address)."""
    owner_kind: str
    owner: str
    containers: int = 1
    restarts: int = 0
    labels: tuple[tuple[str, str], ...] = ()


_W, _C = SEED_NODES[1], SEED_NODES[0]
SEED_PODS: tuple[SeedPod, ...] = (
    SeedPod(
        "calico-apiserver",
        "calico-apiserver-677cc474fc-56fbw",
        _W,
        "192.168.181.2",
        "ReplicaSet",
        "calico-apiserver-677cc474fc",
        labels=(("apiserver", "true"),),
    ),
    SeedPod(
        "calico-apiserver",
        "calico-apiserver-677cc474fc-njhjh",
        _W,
        "192.168.181.4",
        "ReplicaSet",
        "calico-apiserver-677cc474fc",
        labels=(("apiserver", "true"),),
    ),
    SeedPod(
        "calico-system",
        "calico-kube-controllers-7b49bd7c6f-6swpt",
        _W,
        "192.168.181.3",
        "ReplicaSet",
        "calico-kube-controllers-7b49bd7c6f",
        labels=(("k8s-app", "calico-kube-controllers"),),
    ),
    SeedPod(
        "calico-system",
        "calico-node-4gfsc",
        _W,
        None,
        "DaemonSet",
        "calico-node",
        labels=(("k8s-app", "calico-node"),),
    ),
    SeedPod(
        "calico-system",
        "calico-typha-97ddcffd7-j9t6d",
        _W,
        None,
        "ReplicaSet",
        "calico-typha-97ddcffd7",
        labels=(("k8s-app", "calico-typha"),),
    ),
    SeedPod(
        "calico-system",
        "csi-node-driver-clm6k",
        _W,
        "192.168.181.5",
        "DaemonSet",
        "csi-node-driver",
        containers=2,
        labels=(("k8s-app", "csi-node-driver"),),
    ),
    SeedPod(
        "kube-system",
        "coredns-5dd5756b68-7v6jr",
        _W,
        "192.168.45.65",
        "ReplicaSet",
        "coredns-5dd5756b68",
        labels=(("k8s-app", "kube-dns"),),
    ),
    SeedPod(
        "kube-system",
        "coredns-5dd5756b68-rmnk2",
        _W,
        "192.168.45.66",
        "ReplicaSet",
        "coredns-5dd5756b68",
        labels=(("k8s-app", "kube-dns"),),
    ),
    SeedPod(
        "kube-system",
        "kube-proxy-ps64z",
        _W,
        None,
        "DaemonSet",
        "kube-proxy",
        restarts=1,
        labels=(("k8s-app", "kube-proxy"),),
    ),
    SeedPod(
        "tigera-operator",
        "tigera-operator-597bf4ddf6-ndr6p",
        _W,
        None,
        "ReplicaSet",
        "tigera-operator-597bf4ddf6",
        restarts=14,
        labels=(("name", "tigera-operator"),),
    ),
    SeedPod(
        "calico-system",
        "calico-node-t8877",
        _C,
        None,
        "DaemonSet",
        "calico-node",
        labels=(("k8s-app", "calico-node"),),
    ),
    SeedPod(
        "calico-system",
        "csi-node-driver-b7bp8",
        _C,
        "192.168.170.3",
        "DaemonSet",
        "csi-node-driver",
        containers=2,
        labels=(("k8s-app", "csi-node-driver"),),
    ),
    SeedPod("kube-system", "etcd-kube-controlplane-001", _C, None, "Node", _C, restarts=8),
    SeedPod(
        "kube-system", "kube-apiserver-kube-controlplane-001", _C, None, "Node", _C, restarts=8
    ),
    SeedPod(
        "kube-system",
        "kube-controller-manager-kube-controlplane-001",
        _C,
        None,
        "Node",
        _C,
        restarts=8,
    ),
    SeedPod(
        "kube-system",
        "kube-proxy-smd86",
        _C,
        None,
        "DaemonSet",
        "kube-proxy",
        labels=(("k8s-app", "kube-proxy"),),
    ),
    SeedPod(
        "kube-system", "kube-scheduler-kube-controlplane-001", _C, None, "Node", _C, restarts=9
    ),
)

#: (namespace, name, clusterIP or None for headless, ports "53/UDP,...", selector)
SEED_SERVICES: tuple[tuple[str, str, str | None, str, dict[str, str]], ...] = (
    ("calico-apiserver", "calico-api", "192.21.101.85", "443/TCP", {"apiserver": "true"}),
    (
        "calico-system",
        "calico-kube-controllers-metrics",
        None,
        "9094/TCP",
        {"k8s-app": "calico-kube-controllers"},
    ),
    ("calico-system", "calico-typha", "192.19.24.252", "5473/TCP", {"k8s-app": "calico-typha"}),
    ("default", "kubernetes", "192.16.0.1", "443/TCP", {}),
    ("kube-system", "kube-dns", "192.16.0.10", "53/UDP,53/TCP,9153/TCP", {"k8s-app": "kube-dns"}),
)

_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def pod_suffix() -> str:
    """A random 5-character pod name suffix, from the alphabet Kubernetes uses."""
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))


# --------------------------------------------------------------------------- switches


def is_seed_intent(intent: Intent) -> bool:
    """Whether the inventory is the write-up's (its switch and its two nodes, by name)."""
    return {n.name for n in intent.nodes} == set(SEED_NODES) and [
        s.name for s in intent.switches
    ] == [SEED_SWITCH]


def seeded_switch_config(name: str, intent: Intent, templates: Path, running: str) -> str:
    """``running`` (the switch's current config) plus the write-up's config or the intent's.

    The write-up typed its configuration into the switch's config mode; merging the body into
    the current configuration is the same thing.
    """
    lines = running.rstrip("\n").splitlines()
    while lines and lines[-1].strip() == "end":
        lines.pop()
    base = "\n".join(lines) + "\n"
    if name == SEED_SWITCH and is_seed_intent(intent):
        return base + SEED_SWITCH_BODY
    from fabric.steps.render import render_switch_config

    return base + render_switch_config(intent.switch(name), templates)


# --------------------------------------------------------------------------- cluster


def node_facts(
    intent: Intent, detected: Mapping[str, ipaddress.IPv4Address] | None = None
) -> list[NodeFacts]:
    """The simulation's node facts from the intent and Calico's detected node addresses.

    The simulation runs the node-to-node mesh over ``NodeFacts.mesh_ip``, its ``mgmt_ip`` when
    set. Calico meshes over each node's detected address (``bird.cfg``: the other nodes'
    ``ip_addr_v4``), so ``mgmt_ip`` is the detected address when it is not the peering address,
    and None when Calico detected the peering address (the mesh then shares the peering link).
    Without a detection (``detected`` None or no entry) the management address is used, as in
    the write-up.
    """
    out = []
    for n in intent.nodes:
        mesh = (detected or {}).get(n.name, n.mgmt_ip)
        out.append(
            NodeFacts(
                name=n.name,
                bgp_ip=n.bgp_ip,
                mgmt_ip=None if mesh == n.bgp_ip else mesh,
                labels=dict(n.labels),
            )
        )
    return out


def _stamp() -> str:
    return "2023-10-01T00:00:00Z"


_NODE_CAPACITY = {
    "cpu": "2",
    "ephemeral-storage": "19475088Ki",
    "hugepages-2Mi": "0",
    "memory": "4013652Ki",
    "pods": "110",
}


def _core_node(
    name: str, address: str, labels: dict[str, str], control_plane: bool
) -> dict[str, Any]:
    all_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
    }
    if control_plane:
        all_labels["node-role.kubernetes.io/control-plane"] = ""
        all_labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    all_labels.update(labels)
    ident = hashlib.sha256(name.encode()).hexdigest()
    spec: dict[str, Any] = {}
    if control_plane:
        spec["taints"] = [{"effect": "NoSchedule", "key": "node-role.kubernetes.io/control-plane"}]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels},
        "spec": spec,
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": address},
                {"type": "Hostname", "address": name},
            ],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            # a 2-vCPU, 4 GiB VM (the write-up does not say); kubectl describe divides by these
            "capacity": dict(_NODE_CAPACITY),
            "allocatable": dict(_NODE_CAPACITY),
            "nodeInfo": {
                # every field the kubelet reports (the API marks them required)
                "machineID": ident[:32],
                "systemUUID": str(uuid.UUID(ident[32:64])),
                "bootID": str(uuid.UUID(ident[:32][::-1])),
                "kernelVersion": "5.15.0-86-generic",
                "osImage": "Ubuntu 22.04.1 LTS",
                "containerRuntimeVersion": "containerd://1.6.24",
                "kubeletVersion": "v1.28.2",
                "kubeProxyVersion": "v1.28.2",
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def pod_object(
    namespace: str,
    name: str,
    node: str,
    ip: str,
    host_ip: str,
    *,
    host_network: bool = False,
    owner_kind: str | None = None,
    owner: str | None = None,
    labels: dict[str, str] | None = None,
    containers: int = 1,
    restarts: int = 0,
) -> dict[str, Any]:
    """A running core v1 Pod object."""
    # containers are named after the workload (coredns-5dd5756b68-7v6jr runs "coredns")
    base = name
    if owner_kind == "DaemonSet":
        base = name.rsplit("-", 1)[0]
    elif owner_kind == "ReplicaSet":
        base = name.rsplit("-", 2)[0]
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels or {})}
    if owner_kind and owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "v1" if owner_kind == "Node" else "apps/v1",
                "kind": owner_kind,
                "name": owner,
                "uid": _uid(namespace, owner),
                "controller": True,
            }
        ]
    names = [base] + [f"{base}-{i}" for i in range(1, containers)]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "hostNetwork": host_network,
            "containers": [{"name": c, "image": "registry.k8s.io/pause:3.9"} for c in names],
        },
        "status": {
            "phase": "Running",
            "hostIP": host_ip,
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": _stamp(),
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                container_status(c, "registry.k8s.io/pause:3.9", restarts, _stamp()) for c in names
            ],
        },
    }


def _uid(namespace: str, name: str) -> str:
    """The uid seeded owners have (the pods' ownerReferences were made with the same)."""
    return hashlib.sha1(f"{namespace}/{name}".encode()).hexdigest()


def _template(pod: dict[str, Any]) -> dict[str, Any]:
    spec = {k: v for k, v in pod["spec"].items() if k != "nodeName"}
    return {"metadata": {"labels": dict(pod["metadata"].get("labels") or {})}, "spec": spec}


def _owner_ref(api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": _uid(namespace, name),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def workload_objects(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``apps/v1`` owners of the seeded pods: Deployment -> ReplicaSet -> pods, DaemonSets.

    Each ReplicaSet ``<deployment>-<hash>`` (the write-up's pod names) is owned by Deployment
    ``<deployment>``; its template is its pods' (with the ``pod-template-hash`` label, which
    the Deployment's template and selector do not carry). ``replicas`` is the number of seeded
    pods. Statuses are filled in by the runtime's controllers.
    """
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for pod in pods:
        for ref in pod["metadata"].get("ownerReferences") or []:
            if ref["kind"] in ("ReplicaSet", "DaemonSet"):
                key = (ref["kind"], pod["metadata"]["namespace"], ref["name"])
                groups.setdefault(key, []).append(pod)
    out: list[dict[str, Any]] = []
    for (kind, ns, name), members in groups.items():
        template = _template(members[0])
        labels = dict(template["metadata"]["labels"])
        if kind == "DaemonSet":
            out.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "DaemonSet",
                    "metadata": {
                        "name": name,
                        "namespace": ns,
                        "uid": _uid(ns, name),
                        "labels": dict(labels),
                    },
                    "spec": {
                        "selector": {"matchLabels": labels},
                        "template": template,
                        "updateStrategy": {
                            "type": "RollingUpdate",
                            "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
                        },
                        "revisionHistoryLimit": 10,
                    },
                }
            )
            continue
        deployment = name.rsplit("-", 1)[0]
        plain = {k: v for k, v in labels.items() if k != "pod-template-hash"}
        dep_template = {"metadata": {"labels": plain}, "spec": template["spec"]}
        out.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {
                    "name": deployment,
                    "namespace": ns,
                    "uid": _uid(ns, deployment),
                    "labels": dict(plain),
                    "annotations": {"deployment.kubernetes.io/revision": "1"},
                },
                "spec": {
                    "replicas": len(members),
                    "selector": {"matchLabels": plain},
                    "template": dep_template,
                    "strategy": {
                        "type": "RollingUpdate",
                        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
                    },
                    "revisionHistoryLimit": 10,
                    "progressDeadlineSeconds": 600,
                },
            }
        )
        out.append(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "uid": _uid(ns, name),
                    "labels": dict(labels),
                    "annotations": {
                        "deployment.kubernetes.io/desired-replicas": str(len(members)),
                        "deployment.kubernetes.io/max-replicas": str(len(members) + 1),
                        "deployment.kubernetes.io/revision": "1",
                    },
                    "ownerReferences": [_owner_ref("apps/v1", "Deployment", ns, deployment)],
                },
                "spec": {
                    "replicas": len(members),
                    "selector": {"matchLabels": labels},
                    "template": template,
                },
            }
        )
    return out


def container_status(name: str, image: str, restarts: int, started: str) -> dict[str, Any]:
    """A running, ready container status (every field the API marks required)."""
    digest = hashlib.sha256(image.encode()).hexdigest()
    return {
        "name": name,
        "image": image,
        "imageID": f"{image.split(':')[0]}@sha256:{digest}",
        "containerID": f"containerd://{hashlib.sha256((name + started).encode()).hexdigest()}",
        "ready": True,
        "restartCount": restarts,
        "started": True,
        "state": {"running": {"startedAt": started}},
    }


def _service(
    namespace: str, name: str, ip: str | None, ports: str, selector: dict[str, str]
) -> dict[str, Any]:
    port_list = []
    for item in ports.split(","):
        num, proto = item.split("/")
        port_list.append({"name": f"{proto.lower()}-{num}", "port": int(num), "protocol": proto})
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "clusterIP": ip or "None",
        "clusterIPs": [ip or "None"],
        "ports": port_list,
    }
    if selector:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def base_cluster_objects(
    intent: Intent, calico_pods: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Namespaces, core Nodes, the write-up's pods and services, and the default IPPool.

    The write-up's pods are created for nodes of the write-up (by name); other nodes get only
    their core Node object. The calico-node pods (every node has one) come from
    :func:`calico_node_pods` (``calico_pods``: returned too, with their DaemonSet). Service
    addresses are the write-up's when they fall in the intent's service CIDR, else the first
    addresses of that CIDR.
    """
    objs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        for ns in DEFAULT_NAMESPACES
    ]
    mgmt: dict[str, str] = {}
    for i, node in enumerate(intent.nodes):
        address = str(node.mgmt_ip or node.bgp_ip)
        mgmt[node.name] = address
        cp = node.name == SEED_NODES[0] or (i == 0 and node.name not in SEED_NODES)
        objs.append(
            _core_node(node.name, address, dict(node.labels), cp and len(intent.nodes) <= 3)
        )
    pods: list[dict[str, Any]] = []
    for pod in SEED_PODS:
        if pod.node not in mgmt or pod.owner == CALICO_NODE:
            continue  # calico-node pods: see calico_node_pods()
        labels = dict(pod.labels)
        if pod.owner_kind == "ReplicaSet":
            # the ReplicaSet controller labels its pods with the template hash (the name suffix)
            labels["pod-template-hash"] = pod.owner.rsplit("-", 1)[1]
        pods.append(
            pod_object(
                pod.namespace,
                pod.name,
                pod.node,
                pod.ip or mgmt[pod.node],
                mgmt[pod.node],
                host_network=pod.ip is None,
                owner_kind=pod.owner_kind,
                owner=pod.owner,
                labels=labels,
                containers=pod.containers,
                restarts=pod.restarts,
            )
        )
    pods += calico_pods or []
    objs += workload_objects(pods)
    objs += pods
    cidrs = intent.cluster.calico.service_cluster_cidrs
    svc_net = cidrs[0] if cidrs else ipaddress.IPv4Network("10.96.0.0/12")
    for offset, (ns, name, ip, ports, selector) in enumerate(SEED_SERVICES, start=1):
        if ip is not None and ipaddress.IPv4Address(ip) not in svc_net:
            ip = str(svc_net.network_address + offset * 10)
        objs.append(_service(ns, name, ip, ports, selector))
    cal = intent.cluster.calico
    objs.append(
        {
            "apiVersion": CALICO,
            "kind": "IPPool",
            "metadata": {"name": "default-ipv4-ippool"},
            "spec": {
                "cidr": str(cal.pod_cidr),
                "blockSize": cal.block_size,
                "ipipMode": "Never",
                "vxlanMode": "Never",
                "natOutgoing": True,
                "nodeSelector": "all()",
            },
        }
    )
    return objs


def seeded_calico_objects(intent: Intent, templates: Path) -> list[dict[str, Any]]:
    """The write-up's Calico objects for the write-up's cluster, else the rendered intent."""
    if is_seed_intent(intent):
        return [d for d in yaml.safe_load_all(SEED_CALICO_YAML) if d]
    from fabric.steps.render import render_calico_objects

    return [obj.body for obj in render_calico_objects(intent, templates)]


# --------------------------------------------------------------------------- Calico as installed


def calico_version(intent: Intent) -> str:
    """The Calico release the lab runs for the intent's ``calico.version`` (``3.26``: ``v3.26.0``).

    The intent names a minor version only; the lab reports its first patch release.
    """
    return f"v{intent.cluster.calico.version}.0"


def node_interfaces(intent: Intent, node: Node) -> tuple[list[HostInterface], str]:
    """A node's interfaces (``eth0`` management, ``eth1`` peering) and its default-route one.

    A node with only a peering address has just ``eth0``. The peering address has the prefix
    length of its switch's SVI; the management address that of the switch's management address
    when it is in the same network, else /24 (the inventory does not say).
    """
    svi = intent.switch(node.tor).data.svi
    peering = ipaddress.IPv4Interface(f"{node.bgp_ip}/{svi.network.prefixlen}")
    if node.mgmt_ip is None:
        return [HostInterface("eth0", peering)], "eth0"
    length = 24
    mvrf = intent.switch(node.tor).data.management_vrf
    if mvrf is not None and mvrf.address is not None and node.mgmt_ip in mvrf.address.network:
        length = mvrf.address.network.prefixlen
    mgmt = ipaddress.IPv4Interface(f"{node.mgmt_ip}/{length}")
    return [HostInterface("eth0", mgmt), HostInterface("eth1", peering)], "eth0"


def _suffix_for(name: str) -> str:
    digest = hashlib.sha256(name.encode()).digest()
    return "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:5])


def calico_node_pods(intent: Intent, *, namespace: str, version: str) -> list[dict[str, Any]]:
    """One running ``calico-node`` pod per node, as the DaemonSet of the install has it.

    ``calico-system`` (an operator install): containers ``calico-node``, init containers
    ``flexvol-driver`` and ``install-cni``; ``kube-system`` (a manifest install, Calico's
    ``calico.yaml``): init containers ``upgrade-ipam``, ``install-cni`` and ``mount-bpffs``. The
    write-up's nodes keep the write-up's pod names; other names are stable per node.
    """
    names = {p.node: p.name for p in SEED_PODS if p.owner == CALICO_NODE}
    operator = namespace == "calico-system"
    inits = (
        [("flexvol-driver", "pod2daemon-flexvol"), ("install-cni", "cni")]
        if operator
        else [("upgrade-ipam", "cni"), ("install-cni", "cni"), ("mount-bpffs", "node")]
    )
    out = []
    for node in intent.nodes:
        host_ip = str(node.mgmt_ip or node.bgp_ip)
        name = names.get(node.name) or f"{CALICO_NODE}-{_suffix_for(node.name)}"
        pod = pod_object(
            namespace,
            name,
            node.name,
            host_ip,
            host_ip,
            host_network=True,
            owner_kind="DaemonSet",
            owner=CALICO_NODE,
            labels={"k8s-app": CALICO_NODE},
        )
        image = f"docker.io/calico/node:{version}"
        spec = pod["spec"]
        spec["containers"] = [{"name": CALICO_NODE, "image": image}]
        spec["initContainers"] = [
            {"name": n, "image": f"docker.io/calico/{img}:{version}"} for n, img in inits
        ]
        spec["serviceAccountName"] = CALICO_NODE
        started = _stamp()
        status = pod["status"]
        status["containerStatuses"] = [container_status(CALICO_NODE, image, 0, started)]
        status["initContainerStatuses"] = [
            {
                **container_status(c["name"], c["image"], 0, started),
                "ready": True,
                "started": False,
                "state": {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": started,
                        "finishedAt": started,
                    }
                },
            }
            for c in spec["initContainers"]
        ]
        out.append(pod)
    return out


def installation(
    intent: Intent, *, version: str, autodetection: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The Tigera operator's ``Installation`` ``default`` for the intent.

    BGP enabled, one IPv4 pool (the intent's pod CIDR and block size, no encapsulation, NAT
    outgoing, as the write-up's ``IPPool``) and ``nodeAddressAutodetectionV4`` (default
    ``firstFound``, which the operator fills in when the field is unset). The status is what
    the operator reports once the install is ready.
    """
    cal = intent.cluster.calico
    network: dict[str, Any] = {
        "bgp": "Enabled",
        "hostPorts": "Enabled",
        "ipPools": [
            {
                "blockSize": cal.block_size,
                "cidr": str(cal.pod_cidr),
                "disableBGPExport": False,
                "encapsulation": "None",
                "natOutgoing": "Enabled",
                "nodeSelector": "all()",
            }
        ],
        "linuxDataplane": "Iptables",
        "multiInterfaceMode": "None",
        "nodeAddressAutodetectionV4": dict(autodetection or {"firstFound": True}),
    }
    spec: dict[str, Any] = {
        "calicoNetwork": network,
        "cni": {"ipam": {"type": "Calico"}, "type": "Calico"},
        "controlPlaneReplicas": 2,
        "flexVolumePath": "/usr/libexec/kubernetes/kubelet-plugins/volume/exec/",
        "kubeletVolumePluginPath": "/var/lib/kubelet",
        "nodeUpdateStrategy": {"rollingUpdate": {"maxUnavailable": 1}, "type": "RollingUpdate"},
        "nonPrivileged": "Disabled",
        "variant": "Calico",
    }
    return {
        "apiVersion": OPERATOR_API_VERSION,
        "kind": "Installation",
        "metadata": {"name": "default"},
        "spec": spec,
        "status": {
            "calicoVersion": version,
            "computed": spec,
            "mtu": 1500,
            "variant": "Calico",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "AllObjectsAvailable",
                    "message": "All Objects are available",
                    "lastTransitionTime": _stamp(),
                    "observedGeneration": 1,
                }
            ],
        },
    }


def api_server() -> dict[str, Any]:
    """The operator's ``APIServer`` ``default``: the Calico API server is installed and ready."""
    return {
        "apiVersion": OPERATOR_API_VERSION,
        "kind": "APIServer",
        "metadata": {"name": "default"},
        "spec": {},
        "status": {"state": "Ready"},
    }


def cluster_information(
    intent: Intent, *, api_version: str, version: str, operator: bool
) -> dict[str, Any]:
    """``ClusterInformation`` ``default`` as calico-node writes it (``calicoVersion`` etc.)."""
    guid = hashlib.sha256(intent.cluster.name.encode()).hexdigest()[:32]
    kinds = "typha,kdd,k8s,operator,bgp,kubeadm" if operator else "k8s,bgp,kubeadm,kdd"
    return {
        "apiVersion": api_version,
        "kind": "ClusterInformation",
        "metadata": {"name": "default"},
        "spec": {
            "calicoVersion": version,
            "clusterGUID": guid,
            "clusterType": kinds,
            "datastoreReady": True,
        },
    }


def for_calico_api(obj: dict[str, Any], calico_api: str) -> dict[str, Any]:
    """``obj`` (a ``projectcalico.org/v3`` object) as a cluster of that Calico API mode stores it.

    ``crd``: the ``crd.projectcalico.org/v1`` custom resource with the same spec (what
    ``kubectl apply`` of a CRD manifest, calico-node and Calico IPAM write); other objects and
    ``v3`` are unchanged.
    """
    if calico_api == "crd" and obj.get("apiVersion") == CALICO:
        return {**obj, "apiVersion": CRD_API_VERSION}
    return obj
