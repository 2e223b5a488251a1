"""BGP ``show`` commands: neighbors (JSON and text), the BGP table, exchanged routes.

Shapes (``SOURCES.md``): the neighbor JSON follows a real EOS ``show ip bgp neighbors vrf all``
(NAPALM ``test/eos/mocked_data/test_get_bgp_neighbors/normal``, one Established and one Active
peer), which is also what ``show bgp neighbors vrf all`` answers (ANTA's BGP test data reads
the same ``peerList`` fields); the text follows NAPALM's ``test_get_bgp_neighbors_detail``
captures (``issue1416``, multi-agent); the BGP table follows NAPALM's ``test_get_route_to``
``show ip bgp PREFIX vrf VRF``; ``show bgp summary`` (revision 1, per-AFI ``afiSafiState``)
follows ANTA's ``VerifyBGPPeerCount`` data.

Values come from the lab: the neighbor list and states are :func:`~fabric.lab.eos.show.bgp_peers`
(the same rows as ``show ip bgp summary``), the prefixes a peer sent are the simulation's
``PeerState.received``, the installed paths are the view's routes.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from fabric.lab.eos.context import ShowContext
from fabric.lab.eos.show import bgp_peers, format_updown
from fabric.lab.model import PeerState

__all__ = [
    "bgp_table_json",
    "exchanged_routes_json",
    "neighbors_json",
    "neighbors_text",
    "summary_json",
]

_LU_FLAGS = (
    "nexthopLuOriginateIpv4Uni",
    "thirdPartyNexthopLuOriginateIpv4Uni",
    "nexthopLuOriginateLfibBackupIpForwardIpv4Uni",
    "nexthopLuOriginateIpv6Uni",
    "thirdPartyNexthopLuOriginateIpv6Uni",
    "nexthopLuOriginateLfibBackupIpForwardIpv6Uni",
    "aigpSessionIpv4Uni",
    "aigpSessionIpv4LabeledUni",
    "aigpSessionIpv6Uni",
    "aigpSessionIpv6LabeledUni",
    "fwdFailoverTriggerSessionIpv4Uni",
    "fwdFailoverTriggerSessionIpv6Uni",
)
_DROP_STATS = (
    "inDropAsloop",
    "inDropClusterIdLoop",
    "inDropMalformedMpbgp",
    "inDropOrigId",
    "inDropNhLocal",
    "inDropNhAfV6",
    "prefixDroppedMartianV4",
    "prefixDroppedMartianV6",
    "prefixLuDroppedV4",
    "prefixLuDroppedMartianV4",
    "prefixLuDroppedV6",
    "prefixLuDroppedMartianV6",
    "prefixEvpnDroppedUnsupportedRouteType",
    "prefixBgpLsDroppedReceptionUnsupported",
    "outDropV4LocalAddr",
    "outDropV6LocalAddr",
    "prefixVpnIpv4DroppedImportMatchFailure",
    "prefixVpnIpv6DroppedImportMatchFailure",
    "prefixEvpnDroppedImportMatchFailure",
    "prefixRtMembershipDroppedLocalAsReject",
)
#: Keepalive and hold timers: EOS defaults, what the simulated peers negotiate.
KEEPALIVE, HOLD = 60, 180
#: Connect retry interval of a neighbor that keeps failing (the published Active sample).
CONNECT_INTERVAL = 64


def _vrf_names(vrf: str) -> list[str]:
    """The VRFs a ``vrf X`` argument selects (BGP runs in the default VRF only)."""
    return ["default"] if vrf in ("default", "all") else []


def _peers(ctx: ShowContext, peer: str | None = None) -> list[PeerState]:
    rows = bgp_peers(ctx.snapshot, ctx.view, ctx.booted)
    return [p for p in rows if peer is None or p.neighbor == peer]


def _activated(ctx: ShowContext, peer: PeerState) -> bool:
    bgp = ctx.snapshot.bgp
    cfg = bgp.neighbors.get(peer.neighbor) if bgp else None
    return cfg is None or cfg.activated_ipv4


def _counters(ctx: ShowContext, p: PeerState) -> dict[str, int]:
    """Message counts per type, adding up to the summary's MsgRcvd/MsgSent.

    Received: one OPEN, keepalives (one at establishment, then one a minute), one UPDATE per
    prefix plus the End-of-RIB; sent: OPEN, keepalives and the End-of-RIB.
    """
    if p.state != "Established":
        return {"in_keepalives": 0, "in_updates": 0, "out_keepalives": 0, "out_updates": 0}
    keepalives = int(max(0.0, ctx.now - p.since) // KEEPALIVE)
    return {
        "in_keepalives": keepalives + 1,
        "in_updates": max(0, p.msg_rcvd - keepalives - 2),
        "out_keepalives": keepalives + 1,
        "out_updates": max(0, p.msg_sent - keepalives - 2),
    }


def sent_prefixes(ctx: ShowContext, p: PeerState) -> list[ipaddress.IPv4Network]:
    """What the switch advertises to a peer (the simulation's ``PeerState.advertised``).

    Its best routes to eBGP peers and route-reflector clients, never a route back to its
    source; without the simulation's answer, its BGP routes to Established eBGP peers.
    """
    if p.state != "Established":
        return []
    if p.advertised is not None:
        return list(p.advertised)
    if p.remote_as == ctx.local_as:
        return []
    return [r.prefix for r in ctx.view.routes if p.neighbor not in r.next_hops]


# --------------------------------------------------------------------------- summary (rev 1)


def summary_json(ctx: ShowContext, vrf: str) -> dict[str, Any]:
    """``show bgp summary [vrf V|all]`` (revision 1: ``peerAsn``, per-AFI ``afiSafiState``)."""
    if ctx.snapshot.bgp is None:
        return {"vrfs": {}}
    out: dict[str, Any] = {}
    for name in _vrf_names(vrf):
        peers: dict[str, Any] = {}
        for p in _peers(ctx):
            est = p.state == "Established"
            entry: dict[str, Any] = {"peerState": p.state, "peerAsn": str(p.remote_as)}
            if _activated(ctx, p):
                entry["ipv4Unicast"] = {
                    "afiSafiState": "negotiated" if est else "advertised",
                    "nlrisReceived": p.prefixes_received if est else 0,
                    "nlrisAccepted": p.prefixes_accepted if est else 0,
                }
            peers[p.neighbor] = entry
        out[name] = {
            "vrf": name,
            "routerId": ctx.router_id,
            "asn": str(ctx.local_as),
            "peers": peers,
        }
    return {"vrfs": out}


# --------------------------------------------------------------------------- neighbors JSON


def _capabilities(est: bool) -> dict[str, Any]:
    both = {"advertised": True, "received": est, "enabled": est}
    return {
        "negotiationDisabled": False,
        "unsupportedCapReceived": False,
        "multiprotocolCaps": {"ipv4Unicast": dict(both)},
        "fourOctetAsnCap": dict(both),
        "routeRefreshCap": dict(both),
        "enhancedRouteRefreshCap": dict(both),
        "sendEorMessages": dict(both),
        "addPathsCaps": {
            "ipv4Unicast": {
                "receivingAddPaths": {
                    "receiveCapabilityAdvertised": True,
                    "sendCapabilityReceived": False,
                    "enabled": False,
                },
                **(
                    {
                        "sendingAddPaths": {
                            "sendCapabilityAdvertised": False,
                            "receiveCapabilityReceived": True,
                            "enabled": False,
                        }
                    }
                    if est
                    else {}
                ),
            }
        },
    }


def _message_stats(opens: int, notifications: int, updates: int, keepalives: int) -> dict[str, int]:
    return {
        "opens": opens,
        "notifications": notifications,
        "updates": updates,
        "keepalives": keepalives,
        "rtRefreshes": 0,
        "beginOfRtRefreshes": 0,
        "endOfRtRefreshes": 0,
    }


def _failed_attempts(ctx: ShowContext, p: PeerState) -> int:
    return int(max(0.0, ctx.now - p.since) // CONNECT_INTERVAL)


def _neighbor_entry(ctx: ShowContext, p: PeerState) -> dict[str, Any]:
    est = p.state == "Established"
    idle_admin = p.state_detail == "Idle(Admin)"
    local_as = str(ctx.local_as)
    age = int(max(0.0, ctx.now - p.since))
    c = _counters(ctx, p)
    cfg = ctx.snapshot.bgp.neighbors.get(p.neighbor) if ctx.snapshot.bgp else None
    local_addr = ctx.local_address(p.neighbor) or "0.0.0.0"
    sent = len(sent_prefixes(ctx, p))
    entry: dict[str, Any] = {
        "peerAddress": p.neighbor,
        "asn": str(p.remote_as),
        "linkType": "internal" if str(p.remote_as) == local_as else "external",
        "routerId": p.neighbor if est else "0.0.0.0",
        "vrf": "default",
        "version": 4,
        "negotiatedVersion": 4,
        "updateGroupIndex": -1,
        "lastRcvd": age % KEEPALIVE if est else 0,
        "lastSent": age % KEEPALIVE if est else 0,
        "holdTime": HOLD if est else 0,
        "keepaliveTime": KEEPALIVE if est else 0,
        "configHoldTime": HOLD,
        "configKeepaliveTime": KEEPALIVE,
        "minHoldTime": 3,
        "configMinHoldTime": 3,
    }
    if p.description:
        entry["description"] = p.description
    if cfg is not None and cfg.peer_group:
        entry["peerGroupName"] = cfg.peer_group
    if est:
        entry.update(
            {
                "holdTimeLeft": 0,
                "keepaliveTimeLeft": 0,
                "state": "Established",
                "establishedTime": age,
                "establishedTransitions": 1,
                "lastState": "OpenConfirm",
                "lastEvent": "RecvKeepAlive",
                "enRRefreshstalePathRemoval": False,
                "outboundEnRRefreshEnabled": True,
            }
        )
    elif idle_admin:
        entry.update(
            {
                "state": "Idle",
                "idleReason": "Administratively shut down",
                "establishedTransitions": 0,
                "lastState": "Idle",
                "lastEvent": "Stop",
            }
        )
    else:
        entry.update(
            {
                "connectTimeLeft": 0,
                "connectInterval": CONNECT_INTERVAL,
                "connectFailed": _failed_attempts(ctx, p),
                "state": p.state,
                "establishedTransitions": 0,
                "lastState": "Idle",
                "lastEvent": "Start",
            }
        )
        if p.state == "Active":
            # The node's BIRD refused the session (the published Active sample).
            entry["establishFailHint"] = "Cease/connection rejected"
            entry["lastErrorRcvdCode"] = "Cease"
            entry["lastErrorRcvdSubcode"] = "connection rejected"
    entry["neighborCapabilities"] = _capabilities(est)
    entry["endOfRibs"] = {
        "incoming": (
            {
                "ipv4Unicast": {
                    "status": "received",
                    "eorReceivedTime": p.since,
                    "stalePathsDeleted": 0,
                }
            }
            if est
            else {}
        )
    }
    entry.update(dict.fromkeys(_LU_FLAGS, False))
    fails = 0 if est or idle_admin else _failed_attempts(ctx, p)
    entry["outMessageStats"] = _message_stats(
        1 if est else fails, 0, c["out_updates"], c["out_keepalives"]
    )
    entry["inMessageStats"] = _message_stats(
        1 if est else 0,
        fails if p.state == "Active" else 0,
        c["in_updates"],
        c["in_keepalives"],
    )
    entry.update(
        {
            "sentMessages": p.msg_sent if est else fails,
            "receivedMessages": p.msg_rcvd if est else (fails if p.state == "Active" else 0),
            "prefixesSent": sent,
            "prefixesReceived": p.prefixes_received if est else 0,
            "v4BestPaths": sum(1 for r in ctx.view.routes if r.next_hops[:1] == [p.neighbor]),
            "v4BestEcmpPaths": sum(1 for r in ctx.view.routes if p.neighbor in r.next_hops[1:]),
            "v6PrefixesSent": 0,
            "v6PrefixesReceived": 0,
            "v6BestPaths": 0,
            "v6BestEcmpPaths": 0,
            "totalRoutesWarnLimit": 204800,
            "maxTotalRoutes": 256000,
            "dropStats": {**dict.fromkeys(_DROP_STATS, 0), "inDropAsloop": p.as_loop_drops},
            "peerInUpdateErrors": {
                "inUpdErrWithdraw": 0,
                "inUpdErrIgnore": 0,
                "inUpdErrDisableAfiSafi": 0,
                "disabledAfiSafi": "None",
                "lastUpdErrTime": 0,
            },
            "bgpSoftReconfigInbound": "Default",
            "rpkiOriginValidationMethod": "disabled",
            "rpkiOriginValidationSendExtComm": False,
            "rpkiOriginValidationRouteMap": "",
            "orrPosition": {},
            "localAsn": local_as,
            "localRouterId": ctx.router_id,
            "ttl": 1,
            "maxTtlHops": 255,
            "updateSource": local_addr,
            # Calico's BIRD connects out to the switch (docs/lab.md): the switch listens.
            "localPort": 179 if est else 0,
            "remotePort": _remote_port(p) if est else (cfg.remote_port if cfg else None) or 179,
            "prependOwnDisabled": False,
        }
    )
    if est:
        entry["peerTcpInfo"] = _tcp_info()
        egress = ctx.egress(p.neighbor)
        if egress is not None:
            entry["ifName"] = egress.name
    entry["afiSafiInfo"] = {"ipv4Unicast": {"localNexthop": local_addr}} if est else {}
    if cfg is not None and cfg.password:
        entry["md5AuthEnabled"] = True
    return entry


def _remote_port(p: PeerState) -> int:
    """The node's ephemeral source port (stable per neighbor and session start)."""
    return 32768 + (int(ipaddress.IPv4Address(p.neighbor)) + int(p.since)) % 28000


def _tcp_info() -> dict[str, Any]:
    return {
        "state": "ESTABLISHED",
        "options": 7,
        "sendWindowScale": 7,
        "rcvWindowScale": 7,
        "retransTimeout": 208000,
        "delayedAckTimeout": 40000,
        "maxSegmentSize": 1448,
        "sndRtt": 4287,
        "sndRttVariance": 8486,
        "slowStartThreshold": 2147483647,
        "congestionWindow": 10,
        "rcvRtt": 0,
        "rcvWindow": 14600,
        "totalRetrans": 0,
        "outputQueueLength": 0,
        "outputMaxQueueLength": 87040,
        "inputQueueLength": 0,
        "inputMaxQueueLength": 32768,
        "connectionOptions": {
            "timestampsEnabled": True,
            "selectiveAcknowledgementsEnabled": True,
            "windowScaleEnabled": True,
            "ecnEnabled": False,
        },
    }


def neighbors_json(
    ctx: ShowContext, vrf: str, peer: str | None = None, *, ipv6: bool = False
) -> dict[str, Any]:
    """``show [ip] bgp neighbors [PEER] [vrf V|all]``; ``ipv6``: ``show ipv6 bgp peers``.

    IPv6 is not modelled, so the IPv6 form lists the default VRF with no peer.
    """
    if ctx.snapshot.bgp is None:
        return {"vrfs": {}}
    out: dict[str, Any] = {}
    for name in _vrf_names(vrf):
        peers = [] if ipv6 else [_neighbor_entry(ctx, p) for p in _peers(ctx, peer)]
        out[name] = {"peerList": peers}
    return {"vrfs": out}


# --------------------------------------------------------------------------- neighbors text


def _hms(seconds: float) -> str:
    return format_updown(seconds)


def _neighbor_text(ctx: ShowContext, p: PeerState) -> list[str]:
    e = _neighbor_entry(ctx, p)
    est = p.state == "Established"
    cfg = ctx.snapshot.bgp.neighbors.get(p.neighbor) if ctx.snapshot.bgp else None
    link = e["linkType"]
    lines = [f"BGP neighbor is {p.neighbor}, remote AS {p.remote_as}, {link} link"]
    if p.description:
        lines.append(f"  Description: {p.description}")
    lines.append(f"  BGP version 4, remote router ID {e['routerId']}, VRF default")
    if cfg is not None and cfg.peer_group:
        lines.append(f"  Inherits configuration from and member of peer-group {cfg.peer_group}")
    if est:
        lines.append(f"  Last read {_hms(e['lastRcvd'])}, last write {_hms(e['lastSent'])}")
    else:
        lines.append("  Last read never, last write never")
    lines.append(
        f"  Hold time is {e['holdTime']}, keepalive interval is {e['keepaliveTime']} seconds"
    )
    lines.append(f"  Configured hold time is {HOLD}, keepalive interval is {KEEPALIVE} seconds")
    if est:
        age = e["establishedTime"]
        lines += [
            f"  Hold timer is active, time left: {_hms(HOLD - age % KEEPALIVE)}",
            f"  Keepalive timer is active, time left: {_hms(KEEPALIVE - age % KEEPALIVE)}",
            "  Connect timer is inactive",
            "  Idle-restart timer is inactive",
            f"  BGP state is Established, up for {_hms(age)}",
        ]
    else:
        lines += ["  Hold timer is inactive", "  Keepalive timer is inactive"]
        if e["state"] == "Idle":
            lines.append("  Connect timer is inactive")
        else:
            lines += [
                f"  Connect timer is active, time left: {_hms(e['connectInterval'])}",
                f"  Connection interval is {e['connectInterval']} seconds",
                f"  Failed connection attempts is {e['connectFailed']}",
            ]
        lines += ["  Idle-restart timer is inactive", f"  BGP state is {e['state']}"]
    lines += [
        f"  Number of transitions to established: {e['establishedTransitions']}",
        f"  Last state was {e['lastState']}",
        f"  Last event was {e['lastEvent']}",
        "  Neighbor Capabilities:",
    ]
    if est:
        lines += [
            "    Multiprotocol IPv4 Unicast: advertised and received and negotiated",
            "    Four Octet ASN: advertised and received and negotiated",
            "    Route Refresh: advertised and received and negotiated",
            "    Send End-of-RIB messages: advertised and received and negotiated",
            "    Additional-paths recv capability:",
            "      IPv4 Unicast: advertised",
            "    Additional-paths send capability:",
        ]
    lines += ["  Restart timer is inactive", "  End of rib timer is inactive"]
    if est:
        lines.append("    IPv4 Unicast End-of-RIB received: Yes")
    out_s, in_s = e["outMessageStats"], e["inMessageStats"]
    lines += [
        "  Message Statistics:",
        "                         Sent      Rcvd",
        f"    Opens:          {out_s['opens']:>9} {in_s['opens']:>9}",
        f"    Notifications:  {out_s['notifications']:>9} {in_s['notifications']:>9}",
        f"    Updates:        {out_s['updates']:>9} {in_s['updates']:>9}",
        f"    Keepalives:     {out_s['keepalives']:>9} {in_s['keepalives']:>9}",
        f"    Route-Refresh:  {0:>9} {0:>9}",
        f"    Total messages: {e['sentMessages']:>9} {e['receivedMessages']:>9}",
        "  Prefix Statistics:",
        "                                   Sent      Rcvd",
        f"    IPv4 Unicast:           {e['prefixesSent']:>9} {e['prefixesReceived']:>9}",
        f"    IPv6 Unicast:           {0:>9} {0:>9}",
        f"  Configured maximum total number of routes is {e['maxTotalRoutes']}",
        "  Inbound updates dropped by reason:",
        "    AS path loop detection: 0",
        "    Enforced First AS: 0",
        "    Malformed MPBGP routes: 0",
        "    Originator ID matches local router ID: 0",
        "    Nexthop matches local IP address: 0",
        "  Inbound updates with attribute errors:",
        "    Resulting in removal of all paths in update (treat as withdraw): 0",
        "    Resulting in AFI/SAFI disable: 0",
        "    Resulting in attribute ignore: 0",
        "    Disabled AFI/SAFIs: None",
        f"Local AS is {e['localAsn']}, local router ID {e['localRouterId']}",
        "TTL is 1",
    ]
    if est:
        lines += [
            f"Local TCP address is {e['updateSource']}, local port is {e['localPort']}",
            f"Remote TCP address is {p.neighbor}, remote port is {e['remotePort']}",
            "TCP Socket Information:",
            "  TCP state is ESTABLISHED",
            "  Recv-Q: 0/32768",
            "  Send-Q: 0/87040",
            "  Outgoing Maximum Segment Size (MSS): 1448",
            "  Total Number of TCP retransmissions: 0",
            "  Options:",
            "    Timestamps enabled: yes",
            "    Selective Acknowledgments enabled: yes",
            "    Window Scale enabled: yes",
            "    Explicit Congestion Notification (ECN) enabled: no",
        ]
    elif e["state"] != "Idle":
        lines += [
            f"Local TCP address is {e['updateSource']}",
            f"Remote TCP address is {p.neighbor}, remote port is {e['remotePort']}",
        ]
    return lines


def neighbors_text(ctx: ShowContext, vrf: str, peer: str | None = None) -> str:
    """``show ip bgp neighbors [PEER] [vrf V|all]`` as text (one block per neighbor)."""
    if ctx.snapshot.bgp is None or not _vrf_names(vrf):
        return ""
    blocks = ["\n".join(_neighbor_text(ctx, p)) for p in _peers(ctx, peer)]
    return "".join(b + "\n\n" for b in blocks)


# --------------------------------------------------------------------------- BGP table


def _path(
    ctx: ShowContext, p: PeerState, net: ipaddress.IPv4Network, active: bool, ecmp: bool
) -> dict[str, Any]:
    internal = p.remote_as == ctx.local_as
    rx = p.paths.get(net)
    as_path = "i" if internal else f"{p.remote_as} i"
    if rx is not None:  # the path as received: relayed routes carry longer paths
        as_path = " ".join([*map(str, rx.as_path), "i"])
    return {
        "asPathEntry": {
            "asPathType": "Internal" if internal else "External",
            "asPath": as_path,
        },
        "med": 0,
        "localPreference": 100,
        "weight": 0,
        "peerEntry": {"peerRouterId": p.neighbor, "peerAddr": p.neighbor},
        "reasonNotBestpath": "noReason" if active else "routerIdComparison",
        "timestamp": int(p.since),
        "nextHop": rx.next_hop if rx is not None else p.neighbor,
        "routeType": {
            "atomicAggregator": False,
            "origin": "Igp",
            "suppressed": False,
            "queued": False,
            "valid": True,
            "ecmpContributor": ecmp,
            "luRoute": False,
            "active": active,
            "stale": False,
            "ecmp": ecmp,
            "backup": False,
            "ecmpHead": ecmp and active,
            "ucmp": False,
        },
        "routeDetail": {
            "origin": "Igp",
            "labelStack": [],
            "isLeaked": False,
            "tunnelRibEligible": False,
            "extCommunityList": [],
            "communityList": [],
            "rxSafi": "Unicast",
            "bgpContributors": [],
            "recvdFromRRClient": False,
            "igpMetric": 0,
            "largeCommunityList": [],
            "domainPath": [],
        },
    }


def _rx_hop(p: PeerState, net: ipaddress.IPv4Network) -> str | None:
    rx = p.paths.get(net)
    return rx.next_hop if rx is not None else None


def _net_key(net: ipaddress.IPv4Network) -> tuple[int, int]:
    return (int(net.network_address), net.prefixlen)


def _entry(net: ipaddress.IPv4Network, paths: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "totalPaths": len(paths),
        "bgpAdvertisedPeerGroups": {},
        "totalAdvertisedPeers": 0,
        "maskLength": net.prefixlen,
        "bgpRoutePaths": paths,
        "address": str(net.network_address),
    }


def _table(
    ctx: ShowContext, peers: list[PeerState], select: ipaddress.IPv4Network | None, longer: bool
) -> dict[str, Any]:
    installed = {r.prefix: r.next_hops for r in ctx.view.routes}
    paths: dict[ipaddress.IPv4Network, list[dict[str, Any]]] = {}
    for p in peers:
        if p.state != "Established":
            continue
        for net in p.received:
            if select is not None and not (
                net.subnet_of(select) if longer else select.subnet_of(net)
            ):
                continue
            hops = installed.get(net, [])
            rx = p.paths.get(net)
            hop = rx.next_hop if rx is not None else p.neighbor
            active = bool(hops) and hops[0] == hop
            ecmp = len(hops) > 1 and hop in hops
            paths.setdefault(net, []).append(_path(ctx, p, net, active, ecmp))
    if select is not None and not longer and paths:
        # ``show ip bgp PREFIX``: the longest match only.
        best = max(paths, key=lambda n: n.prefixlen)
        paths = {best: paths[best]}
    for plist in paths.values():
        plist.sort(key=lambda x: not x["routeType"]["active"])
    return {
        str(net): _entry(net, plist)
        for net, plist in sorted(paths.items(), key=lambda kv: _net_key(kv[0]))
    }


def bgp_table_json(
    ctx: ShowContext, vrf: str, prefix: str | None = None, *, longer: bool = False
) -> dict[str, Any]:
    """``show ip bgp [PREFIX [longer-prefixes]] [vrf V|all]``: every received path."""
    if ctx.snapshot.bgp is None:
        return {"vrfs": {}}
    select = ipaddress.IPv4Network(prefix, strict=False) if prefix else None
    out: dict[str, Any] = {}
    for name in _vrf_names(vrf):
        out[name] = {
            "routerId": ctx.router_id,
            "vrf": name,
            "bgpRouteEntries": _table(ctx, _peers(ctx), select, longer),
            "asn": str(ctx.local_as),
        }
    return {"vrfs": out}


def exchanged_routes_json(ctx: ShowContext, peer: str, vrf: str, *, sent: bool) -> dict[str, Any]:
    """``show bgp neighbors PEER routes|advertised-routes vrf V``."""
    if ctx.snapshot.bgp is None:
        return {"vrfs": {}}
    out: dict[str, Any] = {}
    for name in _vrf_names(vrf):
        rows = _peers(ctx, peer)
        entries: dict[str, Any] = {}
        if sent:
            for p in rows:
                for net in sent_prefixes(ctx, p):
                    path = _path(ctx, p, net, True, False)
                    # What the switch sends: to eBGP peers its own AS prepended and itself as
                    # next hop; to route-reflector clients (iBGP) the path as it received it.
                    route = next(r for r in ctx.view.routes if r.prefix == net)
                    hop = route.next_hops[0]
                    src = next(
                        (q for q in _peers(ctx) if hop in (q.neighbor, _rx_hop(q, net))), None
                    )
                    rx = src.paths.get(net) if src else None
                    learned = list(rx.as_path) if rx else ([src.remote_as] if src else [])
                    internal = p.remote_as == ctx.local_as
                    hops = learned if internal else [ctx.local_as, *learned]
                    path["asPathEntry"] = {
                        "asPathType": "Internal" if internal else "External",
                        "asPath": " ".join([*map(str, hops), "i"]),
                    }
                    path["nextHop"] = hop if internal else (ctx.local_address(p.neighbor) or "")
                    path["peerEntry"] = {"peerRouterId": ctx.router_id, "peerAddr": ""}
                    entries[str(net)] = _entry(net, [path])
        else:
            entries = _table(ctx, rows, None, False)
        out[name] = {
            "routerId": ctx.router_id,
            "vrf": name,
            "bgpRouteEntries": entries,
            "asn": str(ctx.local_as),
        }
    return {"vrfs": out}


# --------------------------------------------------------------------------- instance, EVPN


def instance_json(ctx: ShowContext, vrf: str) -> dict[str, Any]:
    """``show bgp instance [vrf V|all]``: the redistribution of each address family.

    Only the fields ANTA's ``VerifyBGPRedistribution`` data shows (``afiSafiConfig`` ->
    ``v4u`` -> ``redistributedRoutes``), from ``redistribute`` lines of the running-config.
    """
    if ctx.snapshot.bgp is None:
        return {"vrfs": {}}
    bgp_node = ctx.config.root.first("router", "bgp")
    routes: list[dict[str, Any]] = []
    if bgp_node is not None:
        nodes = list(bgp_node.find("redistribute"))
        for af in bgp_node.find("address-family", "ipv4"):
            nodes += af.find("redistribute")
        for node in nodes:
            entry: dict[str, Any] = {"proto": node.tokens[1].capitalize()}
            if len(node.tokens) > 3 and node.tokens[2] == "route-map":
                entry["routeMap"] = node.tokens[3]
            routes.append(entry)
    return {
        "vrfs": {
            name: {"afiSafiConfig": {"v4u": {"redistributedRoutes": routes}}}
            for name in _vrf_names(vrf)
        }
    }


def evpn_route_json(ctx: ShowContext) -> dict[str, Any]:
    """``show bgp evpn route-type mac-ip ADDRESS vni VNI``: the lab has no EVPN, no route."""
    return {
        "vrf": "default",
        "routerId": ctx.router_id,
        "asn": ctx.local_as,
        "evpnRoutes": {},
    }
