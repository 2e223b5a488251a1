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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fabric.lab.k8s.store import DEFAULT_NAMESPACES
from fabric.lab.sim import CALICO, NodeFacts
from fabric.models.intent import Intent

SEED_SWITCH = "eos-tor-001"
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


def node_facts(intent: Intent) -> list[NodeFacts]:
    """The simulation's node facts from the intent."""
    return [
        NodeFacts(name=n.name, bgp_ip=n.bgp_ip, mgmt_ip=n.mgmt_ip, labels=dict(n.labels))
        for n in intent.nodes
    ]


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
                "kubeletVersion": "v1.28.2",
                "osImage": "Ubuntu 22.04.1 LTS",
                "containerRuntimeVersion": "containerd://1.6.24",
                "kernelVersion": "5.15.0-86-generic",
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


def base_cluster_objects(intent: Intent) -> list[dict[str, Any]]:
    """Namespaces, core Nodes, the write-up's pods and services, and the default IPPool.

    The write-up's pods are created for nodes of the write-up (by name); other nodes get only
    their core Node object. Service addresses are the write-up's when they fall in the intent's
    service CIDR, else the first addresses of that CIDR.
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
        if pod.node not in mgmt:
            continue
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
