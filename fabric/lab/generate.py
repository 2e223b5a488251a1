"""Scale inventories for benchmarks and tests: N switches, M nodes, one cluster.

The result is a valid Nornir inventory (``hosts.yaml``, ``groups.yaml``, ``defaults.yaml``) that
passes :func:`fabric.intent.load_intent`:

* switch ``eos-tor-NNN`` runs AS ``65000+N`` and owns the peering subnet ``10.A.B.0/22`` (its SVI
  is the first address, VLAN 3002);
* nodes ``node-NNNNN`` are spread round-robin over the switches, labelled ``rack: rNNN`` with
  the BGP address inside their switch's subnet (eBGP: the cluster runs AS 64512);
* the cluster has one BGPPeer per rack (``nodeSelector: rack == 'rNNN'``) for the rack's switch;
* the node-to-node mesh is on for small clusters (up to 50 nodes) and off above;
* ``tors_per_rack=2`` makes dual-homed racks: a pair of ToRs per rack sharing its subnet and
  AS, every node peering with both.
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


def _switch_host(i: int, net: ipaddress.IPv4Network, svi_offset: int, asn: int) -> dict[str, Any]:
    svi = net.network_address + svi_offset
    return {
        "hostname": str(ipaddress.IPv4Address("100.127.0.0") + i),
        "groups": ["arista_switches"],
        "data": {
            "eos_version": "4.30.3M" if i % 2 else "4.32.1F",
            "switch": {
                "asn": asn,
                "router_id": str(ipaddress.IPv4Address("10.255.0.0") + i),
                "peering_vlan": 3002,
                "svi": f"{svi}/{net.prefixlen}",
                "access_ports": ["Ethernet1"],
                "maximum_paths": 4,
            },
        },
    }


def build_inventory(
    *, switches: int, nodes: int, tors_per_rack: int = 1
) -> dict[str, dict[str, Any]]:
    """The three inventory files as data: ``{"hosts.yaml": ..., "groups.yaml": ..., ...}``.

    With ``tors_per_rack`` 2 every rack is a pair of ToRs (``eos-tor-001`` and ``-002`` serve
    rack ``r001``, AS 65001, SVIs ``.1`` and ``.2`` of the rack's /22) and every node peers with
    both (eBGP from AS 64512, one BGPPeer per ToR selected by rack, ``maximum-paths 4``).
    """
    if switches < 1 or nodes < 1 or tors_per_rack < 1 or switches % tors_per_rack:
        raise ValueError("an inventory needs whole racks of switches and at least one node")
    racks = switches // tors_per_rack
    if nodes > racks * 1000:
        unit = "switch" if tors_per_rack == 1 else "rack"
        raise ValueError(f"at most 1000 nodes per {unit} (a /22 each)")
    hosts: dict[str, Any] = {}
    peers: list[dict[str, Any]] = []
    for r in range(1, racks + 1):
        net = _subnet(r)
        for t in range(tors_per_rack):
            i = (r - 1) * tors_per_rack + t + 1
            asn = 65000 + (r if tors_per_rack > 1 else i)
            hosts[switch_name(i)] = _switch_host(i, net, t + 1, asn)
            name = f"rack-{r:03d}" if tors_per_rack == 1 else f"rack-{r:03d}-{'abcdefgh'[t]}"
            peers.append(
                {
                    "name": name,
                    "peer_ip": str(net.network_address + t + 1),
                    "as_number": asn,
                    "node_selector": f"rack == 'r{r:03d}'",
                }
            )
            if tors_per_rack > 1:
                hosts[switch_name(i)]["data"]["switch"]["rack"] = f"r{r:03d}"
    for j in range(1, nodes + 1):
        r = (j - 1) % racks + 1
        k = (j - 1) // racks
        net = _subnet(r)
        mgmt = ipaddress.IPv4Address("100.64.0.0") + j
        node: dict[str, Any] = {
            "bgp_ip": str(net.network_address + 10 + k),
            "mgmt_ip": str(mgmt),
            "labels": {"rack": f"r{r:03d}"},
        }
        first = (r - 1) * tors_per_rack + 1
        if tors_per_rack == 1:
            node["tor"] = switch_name(first)
        else:
            node["tors"] = [switch_name(first + t) for t in range(tors_per_rack)]
        hosts[node_name(j)] = {
            "hostname": str(mgmt),
            "groups": ["calico_nodes"],
            "data": {"node": node},
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


def write_inventory(dest: Path, *, switches: int, nodes: int, tors_per_rack: int = 1) -> None:
    """Write a valid inventory of ``switches`` switches and ``nodes`` nodes into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    data_files = build_inventory(switches=switches, nodes=nodes, tors_per_rack=tors_per_rack)
    for name, data in data_files.items():
        with (dest / name).open("w", encoding="utf-8") as fh:
            yaml.dump(data, fh, Dumper=dumper, sort_keys=False, default_flow_style=False)
