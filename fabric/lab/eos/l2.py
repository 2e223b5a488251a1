"""Interface, VLAN, neighbour-table and VRF ``show`` commands, from the running-config.

Shapes (``SOURCES.md``): ``show interfaces`` follows NAPALM's ``test_get_interfaces`` capture;
the counters/status/description commands, VLANs, port-channels and LACP follow ANTA's unit
test data of the tests that read them; ``show vlan`` NAPALM's ``test_get_vlans``; ``show vrf``
NAPALM's ``test_get_network_instances``; LLDP, MAC and ARP tables NAPALM's and goeapi's
captures; ``show interfaces transceiver`` NAPALM's ``test_get_optics``.

What they report is the lab's state: interfaces and VLANs of the running-config; the hosts
the switch has talked to (its Established BGP neighbours) in the ARP and MAC tables, on the
port carrying their VLAN; no LLDP neighbour (the Calico nodes run no LLDP agent) and no
transceiver (vEOS-lab ports are virtual).
"""

from __future__ import annotations

from typing import Any

from fabric.lab.eos.context import Interface, ShowContext, dotted_mac, mac_of

# --------------------------------------------------------------------------- interfaces

_GBPS = 1_000_000_000


def _bandwidth(i: Interface) -> int:
    return _GBPS if i.physical else 0


def _primary(i: Interface) -> dict[str, Any]:
    assert i.address is not None
    return {
        "primaryIp": {"address": str(i.address.ip), "maskLen": i.address.network.prefixlen},
        "secondaryIps": {},
        "secondaryIpsOrderedList": [],
        "virtualIp": {"address": "0.0.0.0", "maskLen": 0},
        "virtualSecondaryIps": {},
        "virtualSecondaryIpsOrderedList": [],
        "broadcastAddress": "255.255.255.255",
        "dhcp": False,
    }


def _traffic(ctx: ShowContext, i: Interface) -> tuple[int, int]:
    """(packets in, packets out) on a port: the BGP messages of the neighbours behind it."""
    if not i.physical or not i.up:
        return 0, 0
    pin = pout = 0
    for p in ctx.neighbors_up:
        egress = ctx.egress(p.neighbor)
        if egress is None:
            continue
        vlan = int(egress.name[4:]) if egress.name.startswith("Vlan") else None
        if egress.name == i.name or (vlan is not None and i.access_vlan == vlan):
            pin += p.msg_rcvd
            pout += p.msg_sent
    return pin, pout


def _counters(ctx: ShowContext, i: Interface) -> dict[str, Any]:
    pin, pout = _traffic(ctx, i)
    return {
        "inOctets": pin * 90,
        "inUcastPkts": pin,
        "inMulticastPkts": 0,
        "inBroadcastPkts": 0,
        "inDiscards": 0,
        "inTotalPkts": pin,
        "outOctets": pout * 90,
        "outUcastPkts": pout,
        "outMulticastPkts": 0,
        "outBroadcastPkts": 0,
        "outDiscards": 0,
        "outTotalPkts": pout,
        "linkStatusChanges": 1 if i.up else 2,
        "totalInErrors": 0,
        "inputErrorsDetail": {
            "runtFrames": 0,
            "giantFrames": 0,
            "fcsErrors": 0,
            "alignmentErrors": 0,
            "symbolErrors": 0,
            "rxPause": 0,
        },
        "totalOutErrors": 0,
        "outputErrorsDetail": {
            "collisions": 0,
            "lateCollisions": 0,
            "deferredTransmissions": 0,
            "txPause": 0,
        },
        "counterRefreshTime": ctx.now,
    }


def interfaces_json(ctx: ShowContext, only: str | None = None) -> dict[str, Any]:
    """``show interfaces [INTF]``: every configured interface."""
    out: dict[str, Any] = {}
    for i in ctx.interfaces:
        if only is not None and i.name != only:
            continue
        mac = mac_of(f"{ctx.name}:{i.name}")
        entry: dict[str, Any] = {
            "name": i.name,
            "forwardingModel": i.mode,
            "lineProtocolStatus": "up" if i.up else "down",
            "interfaceStatus": i.status,
            "hardware": i.kind,
            "interfaceAddress": [_primary(i)] if i.address is not None else [],
            "physicalAddress": mac,
            "burnedInAddress": mac,
            "description": i.description,
            "bandwidth": _bandwidth(i),
            "mtu": i.mtu,
            "lastStatusChangeTimestamp": ctx.booted,
        }
        if i.physical:
            entry.update(
                {
                    "interfaceStatistics": {
                        "updateInterval": 300.0,
                        "inBitsRate": 0.0,
                        "inPktsRate": 0.0,
                        "outBitsRate": 0.0,
                        "outPktsRate": 0.0,
                    },
                    "interfaceCounters": _counters(ctx, i),
                    "duplex": "duplexFull",
                    "autoNegotiate": "success" if i.name.startswith("Management") else "unknown",
                    "loopbackMode": "loopbackNone",
                    "lanes": 0,
                }
            )
        out[i.name] = entry
    return {"interfaces": out}


def _status_word(i: Interface) -> str:
    """``show interfaces description`` status: up, down or adminDown."""
    if i.shutdown:
        return "adminDown"
    return "up" if i.up else "down"


def interfaces_description_json(ctx: ShowContext) -> dict[str, Any]:
    """``show interfaces description``."""
    return {
        "interfaceDescriptions": {
            i.name: {
                "interfaceStatus": _status_word(i),
                "description": i.description,
                "lineProtocolStatus": "up" if i.up else "down",
            }
            for i in ctx.interfaces
        }
    }


def interfaces_status_json(ctx: ShowContext, *, errdisabled: bool = False) -> dict[str, Any]:
    """``show interfaces status [errdisabled]`` (physical ports; none is err-disabled)."""
    if errdisabled:
        return {"interfaceStatuses": {}}
    out: dict[str, Any] = {}
    for i in ctx.interfaces:
        if not i.physical:
            continue
        vlan: dict[str, Any] = {"interfaceMode": i.mode, "interfaceForwardingModel": i.mode}
        if i.mode == "bridged":
            vlan = {
                "interfaceMode": "trunk" if i.trunk else "bridged",
                "vlanId": i.access_vlan or 0,
                "interfaceForwardingModel": "bridged",
            }
        out[i.name] = {
            "description": i.description,
            "linkStatus": i.status,
            "duplex": "duplexFull",
            "bandwidth": _bandwidth(i),
            "autoNegotigateActive": i.name.startswith("Management"),
            "autoNegotiateActive": i.name.startswith("Management"),
            "interfaceType": (
                "10/100/1000" if i.name.startswith("Management") else "EbraTestPhyPort"
            ),
            "vlanInformation": vlan,
            "lineProtocolStatus": "up" if i.up else "down",
        }
    return {"interfaceStatuses": out}


def counters_rates_json(ctx: ShowContext) -> dict[str, Any]:
    """``show interfaces counters rates`` (lab traffic is a few keepalives: 0 bps)."""
    return {
        "interfaces": {
            i.name: {"inBpsRate": 0.0, "outBpsRate": 0.0} for i in ctx.interfaces if i.physical
        }
    }


def counters_errors_json(ctx: ShowContext) -> dict[str, Any]:
    """``show interfaces counters errors`` (no errors on virtual links)."""
    keys = (
        "inErrors",
        "frameTooLongs",
        "outErrors",
        "frameTooShorts",
        "fcsErrors",
        "alignmentErrors",
        "symbolErrors",
    )
    return {
        "interfaceErrorCounters": {
            i.name: dict.fromkeys(keys, 0) for i in ctx.interfaces if i.physical
        }
    }


def counters_discards_json(ctx: ShowContext) -> dict[str, Any]:
    """``show interfaces counters discards``."""
    return {
        "inDiscardsTotal": 0,
        "interfaces": {
            i.name: {"outDiscards": 0, "inDiscards": 0} for i in ctx.interfaces if i.physical
        },
        "outDiscardsTotal": 0,
    }


def ip_interface_json(ctx: ShowContext, *, brief: bool) -> dict[str, Any]:
    """``show ip interface [brief]``: interfaces with an IPv4 address (revisions 1 and 2)."""
    out: dict[str, Any] = {}
    for i in ctx.interfaces:
        if i.address is None:
            continue
        addr = {"address": str(i.address.ip), "maskLen": i.address.network.prefixlen}
        mtu = 65535 if i.kind == "loopback" else i.mtu
        base: dict[str, Any] = {
            "name": i.name,
            "interfaceStatus": i.status,
            "lineProtocolStatus": "up" if i.up else "down",
            "mtu": mtu,
        }
        if brief:
            out[i.name] = {
                **base,
                "ipv4Routable240": False,
                "ipv4Routable0": False,
                "interfaceAddress": {"ipAddr": addr},
                "nonRoutableClassEIntf": False,
            }
            continue
        out[i.name] = {
            **base,
            "enabled": not i.shutdown,
            "vrf": i.vrf,
            "description": i.description,
            "proxyArp": False,
            "localProxyArp": False,
            "interfaceAddress": _primary(i),
        }
    return {"interfaces": out}


# --------------------------------------------------------------------------- VLANs


def vlan_json(ctx: ShowContext) -> dict[str, Any]:
    """``show vlan``: VLAN 1 and the configured VLANs with their member ports and SVIs."""
    vlans: dict[str, Any] = {}
    for vid, name in ctx.vlans.items():
        members = {i.name: {"privatePromoted": False} for i in ctx.vlan_members(vid)}
        vlans[str(vid)] = {
            "status": "active",
            "name": name,
            "interfaces": members,
            "dynamic": False,
        }
    return {"sourceDetail": "", "vlans": vlans}


def vlan_internal_policy_json() -> dict[str, Any]:
    """``show vlan internal allocation policy`` (EOS default: ascending from 1006)."""
    return {"policy": "ascending", "startVlanId": 1006, "endVlanId": 4094}


def vlan_dynamic_json() -> dict[str, Any]:
    """``show vlan dynamic``: no EVPN/MLAG, so no dynamic VLAN."""
    return {"dynamicVlans": {}}


# --------------------------------------------------------------------------- neighbour tables


def lldp_neighbors_json(ctx: ShowContext) -> dict[str, Any]:
    """``show lldp neighbors``: none (Calico nodes run no LLDP agent)."""
    return {
        "tablesLastChangeTime": ctx.booted,
        "tablesAgeOuts": 0,
        "tablesInserts": 0,
        "lldpNeighbors": [],
        "tablesDeletes": 0,
        "tablesDrops": 0,
    }


def lldp_detail_json(ctx: ShowContext, only: str | None = None) -> dict[str, Any]:
    """``show lldp neighbors [INTF] detail``: every LLDP-capable port, no neighbour."""
    return {
        "lldpNeighbors": {
            i.name: {"lldpNeighborInfo": []}
            for i in ctx.interfaces
            if i.physical and (only is None or i.name == only)
        }
    }


def _arp_rows(ctx: ShowContext) -> list[tuple[str, str, Interface]]:
    """(address, MAC, SVI/port) of every host the switch exchanged packets with."""
    rows = []
    for p in ctx.neighbors_up:
        egress = ctx.egress(p.neighbor)
        if egress is not None:
            rows.append((p.neighbor, ctx.host_mac(p.neighbor), egress))
    return rows


def arp_json(ctx: ShowContext, vrf: str) -> dict[str, Any]:
    """``show arp [vrf V|all]``: the BGP neighbours' addresses, learned on their SVI."""
    names = ctx.config.vrfs() if vrf == "all" else [vrf]
    out: dict[str, Any] = {}
    for name in names:
        neighbors = []
        if name == "default":
            for addr, mac, intf in _arp_rows(ctx):
                port = _port_for(ctx, intf)
                shown = f"{intf.name}, {port.name}" if port is not None else intf.name
                neighbors.append(
                    {"hwAddress": dotted_mac(mac), "address": addr, "interface": shown, "age": 0}
                )
        out[name] = {
            "dynamicEntries": len(neighbors),
            "ipV4Neighbors": neighbors,
            "notLearnedEntries": 0,
            "totalEntries": len(neighbors),
            "staticEntries": 0,
        }
    return {"vrfs": out}


def _port_for(ctx: ShowContext, svi: Interface) -> Interface | None:
    """The switched port behind an SVI (the first up access port of its VLAN)."""
    if not svi.name.startswith("Vlan"):
        return None
    members = [i for i in ctx.vlan_members(int(svi.name[4:])) if i.up]
    return members[0] if members else None


def mac_table_json(ctx: ShowContext) -> dict[str, Any]:
    """``show mac address-table``: the neighbours' MACs on their access port."""
    entries = []
    for _, mac, intf in _arp_rows(ctx):
        port = _port_for(ctx, intf)
        if port is None:
            continue
        entries.append(
            {
                "macAddress": mac,
                "lastMove": ctx.booted,
                "interface": port.name,
                "moves": 1,
                "entryType": "dynamic",
                "vlanId": int(intf.name[4:]),
            }
        )
    return {"multicastTable": {"tableEntries": []}, "unicastTable": {"tableEntries": entries}}


def transceiver_json() -> dict[str, Any]:
    """``show interfaces transceiver``: vEOS-lab ports have no optics."""
    return {"interfaces": {}}


def port_channel_json() -> dict[str, Any]:
    """``show port-channel``: none configured."""
    return {"portChannels": {}}


def lacp_json() -> dict[str, Any]:
    """``show lacp counters all-ports`` / ``show lacp interface detailed``: no LAG."""
    return {"portChannels": {}, "orphanPorts": {}}


def virtual_router_json() -> dict[str, Any]:
    """``show ip virtual-router``: no virtual router MAC configured."""
    return {"virtualMacs": []}


# --------------------------------------------------------------------------- VRFs


def vrf_json(ctx: ShowContext) -> dict[str, Any]:
    """``show vrf``: the default VRF and every ``vrf instance`` with its interfaces."""
    out: dict[str, Any] = {}
    for name in ctx.config.vrfs():
        node = next(
            (n for n in ctx.config.root.find("vrf", "instance") if n.tokens[2] == name), None
        )
        rd = node.first("rd") if node is not None else None
        intfs = [i.name for i in ctx.interfaces if i.vrf == name and i.mode == "routed"]
        routing = ctx.config.routing_enabled(name)
        out[name] = {
            "routeDistinguisher": rd.tokens[1] if rd else "",
            "protocols": {
                "ipv4": {
                    "supported": True,
                    "protocolState": "up",
                    "routingState": "up" if routing else "down",
                },
                "ipv6": {"supported": True, "protocolState": "up", "routingState": "down"},
            },
            "vrfState": "up",
            "interfacesV4": [i.name for i in ctx.interfaces if i.vrf == name and i.address],
            "interfacesV6": [],
            "interfaces": intfs,
        }
    return {"vrfs": out}
