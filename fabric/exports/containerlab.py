"""A containerlab topology of the intent: cEOS switches and a kind cluster, linked as intended.

For users with Docker who want real images instead of the simulated lab. The topology
(``<name>.clab.yml``, containerlab's topology file format, validated in the tests against
containerlab's published JSON schema) holds:

* one ``arista_ceos`` node per switch (image ``ceos:<eos_version>``), whose ``startup-config``
  is our render of that switch (:func:`fabric.steps.render.render_switch_config`), preceded by
  the lines containerlab's own default cEOS config starts with (hostname, the ``admin`` lab
  user, multi-agent routing, eAPI on) and followed by the access ports the links use;
* one ``k8s-kind`` node for the cluster, with a kind ``Cluster`` config (one control-plane and
  one worker per further node, the default CNI off for Calico, the intent's pod and service
  CIDRs), and one ``ext-container`` node per kind container (``<cluster>-control-plane``,
  ``<cluster>-worker``, ``<cluster>-worker2`` ...), the documented way to link kind nodes;
* one link per Calico node: its kind container's ``eth1`` (given the node's BGP address) to an
  access port of its ToR switch in the peering VLAN.

Imports only the intent and the renderers: the core never imports the lab.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fabric.models.intent import Intent, Node, Switch
from fabric.steps.render import Templates, render_switch_config

__all__ = ["CEOS_IMAGE", "KIND_IMAGE", "ContainerlabExport", "build_topology", "write_topology"]

#: cEOS images are imported by the user (``docker import cEOS-lab-<version>.tar ceos:<version>``).
CEOS_IMAGE = "ceos:{version}"
#: The kind node image matching the write-up's Kubernetes minor (kubelet v1.28).
KIND_IMAGE = "kindest/node:v1.28.0"
DEFAULT_EOS_VERSION = "4.30.3M"
_NAME_RE = re.compile(r"[^a-z0-9-]+")


@dataclass
class ContainerlabExport:
    """A topology and the files it refers to (paths relative to the output folder)."""

    name: str
    topology: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    #: Calico node -> (kind container, switch, switch interface), for the report.
    wiring: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    @property
    def topology_file(self) -> str:
        """The topology's file name, ``<name>.clab.yml``."""
        return f"{self.name}.clab.yml"


def _lab_name(intent: Intent) -> str:
    """A containerlab/kind-safe name from the cluster's (lower case, ``-`` separated)."""
    name = _NAME_RE.sub("-", intent.cluster.name.lower()).strip("-")
    return name or "fabric"


def _kind_containers(cluster: str, nodes: list[Node]) -> dict[str, str]:
    """Calico node -> kind container name: the first is the control plane, then workers."""
    out: dict[str, str] = {}
    for i, node in enumerate(nodes):
        if i == 0:
            out[node.name] = f"{cluster}-control-plane"
        else:
            out[node.name] = f"{cluster}-worker" + (str(i) if i > 1 else "")
    return out


def _switch_ports(switch: Switch, nodes: list[Node]) -> dict[str, str]:
    """Calico node -> the switch's EthernetN it is cabled to (its access ports first)."""
    taken = [p for p in switch.data.access_ports if re.fullmatch(r"Ethernet\d+", p)]
    out: dict[str, str] = {}
    next_free = 1
    for i, node in enumerate(nodes):
        if i < len(taken):
            out[node.name] = taken[i]
            continue
        while f"Ethernet{next_free}" in taken or f"Ethernet{next_free}" in out.values():
            next_free += 1
        out[node.name] = f"Ethernet{next_free}"
    return out


def _startup_config(switch: Switch, rendered: str, ports: list[str]) -> str:
    """The cEOS startup-config: containerlab's default head, our render, the linked ports."""
    head = [
        f"hostname {switch.name}",
        # containerlab's default cEOS config (nodes/ceos/ceos.cfg): its documented lab login
        "username admin privilege 15 secret admin",
        "!",
        "service routing protocols model multi-agent",
        "!",
        "management api http-commands",
        "   no shutdown",
        "!",
    ]
    tail: list[str] = []
    for port in ports:
        if port not in switch.data.access_ports:
            tail += [f"interface {port}", f"   switchport access vlan {switch.data.peering_vlan}"]
            tail.append("!")
    return "\n".join([*head, rendered.rstrip("\n"), *tail, "end"]) + "\n"


def _kind_config(intent: Intent) -> str:
    cal = intent.cluster.calico
    networking: dict[str, Any] = {"disableDefaultCNI": True, "podSubnet": str(cal.pod_cidr)}
    if cal.service_cluster_cidrs:
        networking["serviceSubnet"] = str(cal.service_cluster_cidrs[0])
    config = {
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "kind": "Cluster",
        "networking": networking,
        "nodes": [
            {"role": "control-plane" if i == 0 else "worker"} for i in range(len(intent.nodes))
        ],
    }
    return yaml.safe_dump(config, sort_keys=False)


def _eth(port: str) -> str:
    """The cEOS interface name containerlab uses for EthernetN (``eth1`` is Ethernet1)."""
    return "eth" + port.removeprefix("Ethernet")


def build_topology(intent: Intent, templates: Templates) -> ContainerlabExport:
    """The containerlab topology of ``intent`` and its files (nothing is written).

    Args:
        intent: the validated intent.
        templates: the project's ``templates/`` folder (switch configs are rendered from it).
    """
    name = _lab_name(intent)
    export = ContainerlabExport(name=name, topology={})
    nodes: dict[str, Any] = {}
    links: list[dict[str, Any]] = []
    kind_names = _kind_containers(name, intent.nodes)
    by_switch: dict[str, list[Node]] = {}
    for node in intent.nodes:
        by_switch.setdefault(node.tor, []).append(node)
    for switch in intent.switches:
        attached = by_switch.get(switch.name, [])
        ports = _switch_ports(switch, attached)
        config_file = f"configs/{switch.name}.cfg"
        export.files[config_file] = _startup_config(
            switch, render_switch_config(switch, templates), list(ports.values())
        )
        nodes[switch.name] = {
            "kind": "arista_ceos",
            "image": CEOS_IMAGE.format(version=switch.eos_version or DEFAULT_EOS_VERSION),
            "startup-config": config_file,
        }
        prefix = switch.peering_subnet.prefixlen
        for node in attached:
            container = kind_names[node.name]
            address = ipaddress.IPv4Interface(f"{node.bgp_ip}/{prefix}")
            nodes[container] = {
                "kind": "ext-container",
                "exec": [f"ip addr add dev eth1 {address}"],
                "labels": {"fabric.calico-node": node.name},
            }
            links.append(
                {"endpoints": [f"{switch.name}:{_eth(ports[node.name])}", f"{container}:eth1"]}
            )
            export.wiring[node.name] = (container, switch.name, ports[node.name])
    kind_file = f"{name}-kind.yaml"
    export.files[kind_file] = _kind_config(intent)
    nodes[name] = {"kind": "k8s-kind", "image": KIND_IMAGE, "startup-config": kind_file}
    export.topology = {"name": name, "topology": {"nodes": nodes, "links": links}}
    return export


def write_topology(export: ContainerlabExport, out: Path) -> list[Path]:
    """Write the topology and its files under ``out``; the paths written, topology first."""
    out.mkdir(parents=True, exist_ok=True)
    header = (
        "# containerlab topology exported by `python -m fabric export containerlab`\n"
        "# deploy: containerlab deploy -t " + export.topology_file + "\n"
    )
    written = [out / export.topology_file]
    written[0].write_text(
        header + yaml.safe_dump(export.topology, sort_keys=False), encoding="utf-8"
    )
    for rel, text in sorted(export.files.items()):
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
