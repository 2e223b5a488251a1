"""Scale inventories for benchmarks and tests: N switches, M nodes, one cluster.

The result is a valid Nornir inventory (``hosts.yaml``, ``groups.yaml``, ``defaults.yaml``) that
passes :func:`fabric.intent.load_intent`:

* switch ``eos-tor-NNN`` runs AS ``65000+N`` and owns the peering subnet ``10.A.B.0/22`` (its SVI
  is the first address, VLAN 3002);
* nodes ``node-NNNNN`` are spread round-robin over the switches, labelled ``rack: rNNN`` with
  the BGP address inside their switch's subnet (eBGP: the cluster runs AS 64512);
* the cluster has one BGPPeer per rack (``nodeSelector: rack == 'rNNN'``) for the rack's switch;
* the node-to-node mesh is on for small clusters (up to 50 nodes) and off above.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

CLUSTER_AS = 64512
MESH_LIMIT = 50

GROUPS: dict[str, Any] = {
    "calico_nodes": {
        "platform": "linux",
        "port": 22,
        "data": {"role": "calico_node", "node_status_command": "sudo calicoctl node status"},
    },
    "k8s_cluster": {"platform": "kubernetes", "data": {"role": "cluster"}},
    "arista_switches": {
        "platform": "eos",
        "connection_options": {"napalm": {"extras": {"optional_args": {"transport": "https"}}}},
        "data": {"role": "switch"},
    },
}


def switch_name(i: int) -> str:
    """Name of the i-th switch (1-based)."""
    return f"eos-tor-{i:03d}"


def node_name(j: int) -> str:
    """Name of the j-th node (1-based)."""
    return f"node-{j:05d}"


def _subnet(i: int) -> ipaddress.IPv4Network:
    base = int(ipaddress.IPv4Address("10.0.0.0")) + (i - 1) * 1024
    return ipaddress.IPv4Network(f"{ipaddress.IPv4Address(base)}/22")


def build_inventory(*, switches: int, nodes: int) -> dict[str, dict[str, Any]]:
    """The three inventory files as data: ``{"hosts.yaml": ..., "groups.yaml": ..., ...}``."""
    if switches < 1 or nodes < 1:
        raise ValueError("an inventory needs at least one switch and one node")
    if nodes > switches * 1000:
        raise ValueError("at most 1000 nodes per switch (a /22 each)")
    hosts: dict[str, Any] = {}
    peers: list[dict[str, Any]] = []
    for i in range(1, switches + 1):
        net = _subnet(i)
        svi = net.network_address + 1
        hosts[switch_name(i)] = {
            "hostname": str(ipaddress.IPv4Address("100.127.0.0") + i),
            "groups": ["arista_switches"],
            "data": {
                "eos_version": "4.30.3M" if i % 2 else "4.32.1F",
                "switch": {
                    "asn": 65000 + i,
                    "router_id": str(ipaddress.IPv4Address("10.255.0.0") + i),
                    "peering_vlan": 3002,
                    "svi": f"{svi}/{net.prefixlen}",
                    "access_ports": ["Ethernet1"],
                    "maximum_paths": 4,
                },
            },
        }
        peers.append(
            {
                "name": f"rack-{i:03d}",
                "peer_ip": str(svi),
                "as_number": 65000 + i,
                "node_selector": f"rack == 'r{i:03d}'",
            }
        )
    for j in range(1, nodes + 1):
        i = (j - 1) % switches + 1
        k = (j - 1) // switches
        net = _subnet(i)
        mgmt = ipaddress.IPv4Address("100.64.0.0") + j
        hosts[node_name(j)] = {
            "hostname": str(mgmt),
            "groups": ["calico_nodes"],
            "data": {
                "node": {
                    "bgp_ip": str(net.network_address + 10 + k),
                    "mgmt_ip": str(mgmt),
                    "tor": switch_name(i),
                    "labels": {"rack": f"r{i:03d}"},
                }
            },
        }
    hosts["k8s-cluster"] = {
        "hostname": "100.127.255.1",
        "port": 6443,
        "groups": ["k8s_cluster"],
        "data": {
            "kubeconfig": "~/.kube/config",
            "context": "kubernetes-admin@kubernetes",
            "calico": {
                "version": "3.26",
                "as_number": CLUSTER_AS,
                "pod_cidr": "10.128.0.0/9",
                "block_size": 26,
                "service_cluster_cidrs": ["172.30.0.0/16"],
                "node_to_node_mesh": nodes <= MESH_LIMIT,
                "listen_port": 179,
                "peers": peers,
            },
        },
    }
    return {"hosts.yaml": hosts, "groups.yaml": GROUPS, "defaults.yaml": {"data": {}}}


def write_inventory(dest: Path, *, switches: int, nodes: int) -> None:
    """Write a valid inventory of ``switches`` switches and ``nodes`` nodes into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    for name, data in build_inventory(switches=switches, nodes=nodes).items():
        with (dest / name).open("w", encoding="utf-8") as fh:
            yaml.dump(data, fh, Dumper=dumper, sort_keys=False, default_flow_style=False)
