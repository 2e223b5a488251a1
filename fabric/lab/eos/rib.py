"""Routing-table lookups and summaries: ``show ip route ...``, ``show ip``.

Covers ``show ip route [vrf V] ADDRESS|PREFIX|PROTOCOL`` and ``show ip route [vrf V] summary``.

Shapes (``SOURCES.md``): the per-route JSON is ``show ip route``'s (NAPALM's
``test_get_route_to`` and ANTA's ``VerifyRoutingTableEntry`` data); the summary follows ANTA's
``VerifyRoutingProtocolModel``/``VerifyRoutingTableSize`` data (revision 3: per-VRF counters
under ``vrfs``, ``protoModelStatus`` at the top); ``show ip`` ANTA's ``VerifyRoutingStatus``.
Every figure is counted from the same routes ``show ip route`` lists.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fabric.lab.eos.context import ShowContext
from fabric.lab.eos.show import Route, route_json, routes_for

__all__ = ["Lookup", "ip_status_json", "lookup_json", "summary_json"]

#: ``show ip route`` protocol keywords -> route codes.
PROTOCOLS = {
    "bgp": ("B I", "B E"),
    "connected": ("C",),
    "static": ("S",),
    "ospf": (),
    "isis": (),
    "rip": (),
    "kernel": (),
    "aggregate": (),
}


class Lookup:
    """What a ``show ip route`` argument list selects: a destination and/or a protocol."""

    def __init__(
        self, target: str | None = None, *, longer: bool = False, protocol: str | None = None
    ) -> None:
        """Build a selector.

        Args:
            target: an address (longest match) or a prefix (the longest route covering it;
                with ``longer``, every route inside it).
            longer: ``longer-prefixes``.
            protocol: ``bgp``, ``connected``, ``static`` ... (None: any).
        """
        self.target = target
        self.longer = longer
        self.protocol = protocol

    def __call__(self, routes: list[Route]) -> list[Route]:
        """The routes shown."""
        if self.protocol is not None:
            codes = PROTOCOLS[self.protocol]
            routes = [r for r in routes if r.code in codes]
        if self.target is None:
            return routes
        net = ipaddress.IPv4Network(self.target, strict=False)
        if self.longer:
            return [r for r in routes if r.prefix.subnet_of(net)]
        covering = [r for r in routes if net.subnet_of(r.prefix)]
        return [max(covering, key=lambda r: r.prefix.prefixlen)] if covering else []


def lookup_json(ctx: ShowContext, vrf: str, select: Lookup) -> dict[str, Any]:
    """``show ip route [vrf V|all] [ADDRESS|PREFIX [longer-prefixes]] [PROTOCOL] [detail]``."""
    return route_json(ctx.config, ctx.snapshot, ctx.view, vrf, select)


def _counts(routes: list[Route]) -> dict[str, Any]:
    ext = sum(1 for r in routes if r.code == "B E")
    internal = sum(1 for r in routes if r.code == "B I")
    masks: dict[str, int] = {}
    for r in routes:
        masks[str(r.prefix.prefixlen)] = masks.get(str(r.prefix.prefixlen), 0) + 1
    return {
        "connected": sum(1 for r in routes if r.code == "C"),
        "static": sum(1 for r in routes if r.code == "S"),
        "staticNexthopGroup": 0,
        "ospfCounts": {
            "ospfTotal": 0,
            "ospfIntraArea": 0,
            "ospfInterArea": 0,
            "ospfExternal1": 0,
            "ospfExternal2": 0,
            "nssaExternal1": 0,
            "nssaExternal2": 0,
        },
        "bgpCounts": {
            "bgpTotal": ext + internal,
            "bgpExternal": ext,
            "bgpInternal": internal,
            "bgpLocal": 0,
        },
        "isisCounts": {"isisTotal": 0, "isisLevel1": 0, "isisLevel2": 0},
        "maskLen": dict(sorted(masks.items(), key=lambda kv: int(kv[0]))),
        "totalRoutes": len(routes),
    }


def summary_json(ctx: ShowContext, vrf: str) -> dict[str, Any]:
    """``show ip route [vrf V|all] summary`` (revision 3)."""
    names = ctx.config.vrfs() if vrf == "all" else [vrf]
    vrfs = {
        name: _counts(routes_for(ctx.snapshot, ctx.view, name))
        for name in names
        if name in ctx.config.vrfs()
    }
    model = _protocol_model(ctx)
    return {
        "vrfs": vrfs,
        "protoModelStatus": {"configuredProtoModel": model, "operatingProtoModel": model},
    }


def _protocol_model(ctx: ShowContext) -> str:
    for node in ctx.config.root.find("service", "routing", "protocols", "model"):
        return "ribd" if node.tokens[-1] == "ribd" else "multi-agent"
    # EOS 4.30+ defaults to the multi-agent model.
    return "multi-agent"


def ip_status_json(ctx: ShowContext) -> dict[str, Any]:
    """``show ip``: IPv4 routing on or off (IPv6 and multicast are not modelled: off)."""
    return {
        "v4RoutingEnabled": ctx.config.routing_enabled("default"),
        "v6RoutingEnabled": False,
        "vrrpIntfs": 0,
        "v6IntfForwarding": False,
        "multicastRouting": {"ipMulticastEnabled": False, "ip6MulticastEnabled": False},
        "v6EcmpInfo": {"v6EcmpRouteSupport": True},
    }
