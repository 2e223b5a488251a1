"""An ANTA test catalog of what the intent expects of every switch (ANTA 1.10 format).

A user who already runs ANTA gets the intent's switch-side expectations without fabric: for
each switch, one entry per test, limited to that switch with ANTA's tag filter (ANTA tags
every device with its own name, so an inventory whose device names are the fabric host names
selects the right entries):

* ``VerifyBGPPeerCount``: the number of IPv4-unicast peers Established and negotiated is the
  number of nodes the intent peers with the switch;
* ``VerifyBGPSpecificPeers``: each of those peers, by address, is Established with IPv4 unicast
  negotiated and empty queues. ANTA 1.10 has no test of a peer's remote AS; the AS the intent
  expects is recorded in the entry's ``result_overwrite.custom_field`` so reports show it;
* ``VerifyIPv4RoutePresencePerVRF``: the service CIDRs (cluster, external, load-balancer) are
  in the default VRF of every switch with at least one node, and each node's IPAM blocks are in
  its switch's table. The intent does not know the blocks (Calico assigns them at run time):
  they are given by the caller, e.g. read from the cluster's ``BlockAffinity`` objects
  (``python -m fabric export anta-catalog --blocks-from-cluster``); without them only the
  service CIDRs are checked.

Only the intent (and the blocks handed in) is read: this module contacts nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from fabric.models.intent import Intent, Switch

__all__ = ["AntaCatalog", "build_anta_catalog"]

BGP_MODULE = "anta.tests.routing.bgp"
ROUTING_MODULE = "anta.tests.routing.generic"
ANTA_VERSION = "1.10"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AntaCatalog:
    """A catalog: test module -> list of ``{TestName: inputs}`` entries, in ANTA's layout."""

    modules: dict[str, list[dict[str, Any]]]
    #: Switches whose pod blocks were checked (blocks were known for their nodes).
    with_blocks: frozenset[str]

    def to_yaml(self) -> str:
        """The catalog file: a header comment, then the modules."""
        header = (
            f"# ANTA {ANTA_VERSION} test catalog of the fabric intent: "
            "`python -m fabric export anta-catalog`.\n"
            "# Each entry is filtered to one switch by tag (ANTA tags a device with its name).\n"
        )
        if not self.with_blocks:
            header += "# Pod blocks are not checked: export with --blocks-from-cluster.\n"
        body = yaml.safe_dump(self.modules, sort_keys=False, default_flow_style=False, width=100)
        return header + body

    def tests(self) -> int:
        """How many test entries the catalog holds."""
        return sum(len(entries) for entries in self.modules.values())


def _service_cidrs(intent: Intent) -> list[tuple[str, str]]:
    calico = intent.cluster.calico
    out: list[tuple[str, str]] = []
    for kind, cidrs in (
        ("service cluster CIDR", calico.service_cluster_cidrs),
        ("service external CIDR", calico.service_external_cidrs),
        ("service load-balancer CIDR", calico.service_loadbalancer_cidrs),
    ):
        for cidr in cidrs:
            net = ipaddress.ip_network(str(cidr), strict=False)
            if net.version == 4:
                out.append((str(net), kind))
    return out


def _tagged(inputs: dict[str, Any], switch: Switch) -> dict[str, Any]:
    return {**inputs, "filters": {"tags": [switch.name]}}


def _peer_entries(switch: Switch) -> list[tuple[str, dict[str, Any]]]:
    peers = sorted(switch.neighbors, key=lambda n: int(n.address))
    count = {
        "address_families": [
            {
                "afi": "ipv4",
                "safi": "unicast",
                "vrf": "default",
                "num_peers": len(peers),
                "check_peer_state": True,
            }
        ]
    }
    specific = {
        "address_families": [
            {
                "afi": "ipv4",
                "safi": "unicast",
                "vrf": "default",
                "peers": [str(n.address) for n in peers],
            }
        ],
        "result_overwrite": {
            "custom_field": "remote AS: "
            + ", ".join(f"{n.address} AS{n.remote_as} ({n.node})" for n in peers)
        },
    }
    return [
        ("VerifyBGPPeerCount", _tagged(count, switch)),
        ("VerifyBGPSpecificPeers", _tagged(specific, switch)),
    ]


def _route_entry(
    intent: Intent,
    switch: Switch,
    services: list[tuple[str, str]],
    blocks: Mapping[str, Sequence[Network]] | None,
) -> tuple[str, dict[str, Any]] | None:
    entries: list[dict[str, Any]] = []
    if blocks is not None:
        for n in sorted(switch.neighbors, key=lambda n: int(n.address)):
            for net in sorted(blocks.get(n.node, ()), key=lambda b: (b.version, b.exploded)):
                if net.version == 4:
                    entries.append(
                        {"prefix": str(net), "vrf": "default", "description": f"pod block {n.node}"}
                    )
    if switch.neighbors:
        for cidr, kind in services:
            entries.append({"prefix": cidr, "vrf": "default", "description": kind})
    if not entries:
        return None
    return ("VerifyIPv4RoutePresencePerVRF", _tagged({"route_entries": entries}, switch))


def build_anta_catalog(
    intent: Intent, blocks: Mapping[str, Sequence[Network]] | None = None
) -> AntaCatalog:
    """The ANTA catalog of ``intent``'s switch-side expectations.

    Args:
        intent: the validated intent.
        blocks: node name -> its IPAM blocks (Calico ``BlockAffinity``); None: pod blocks
            are not checked (the intent alone does not know them).

    Returns:
        The catalog; :meth:`AntaCatalog.to_yaml` writes the file.
    """
    services = _service_cidrs(intent)
    bgp: list[dict[str, Any]] = []
    routing: list[dict[str, Any]] = []
    with_blocks: set[str] = set()
    for switch in intent.switches:
        if not switch.neighbors:
            continue
        for name, inputs in _peer_entries(switch):
            bgp.append({name: inputs})
        route = _route_entry(intent, switch, services, blocks)
        if route is not None:
            routing.append({route[0]: route[1]})
        if blocks is not None and any(blocks.get(n.node) for n in switch.neighbors):
            with_blocks.add(switch.name)
    modules: dict[str, list[dict[str, Any]]] = {}
    if bgp:
        modules[BGP_MODULE] = bgp
    if routing:
        modules[ROUTING_MODULE] = routing
    return AntaCatalog(modules=modules, with_blocks=frozenset(with_blocks))
