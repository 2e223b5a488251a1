"""What a ``show`` command reads: the switch's running-config, the BGP view, the clock.

Everything a command prints derives from three things the lab keeps, so that every client sees
one consistent switch: the running-config (interfaces, VLANs, VRFs, users, SNMP, NTP), the
BGP simulation's view (sessions, received prefixes, installed routes) and the clock (uptimes,
counters that grow with session age). Nothing here is invented per command.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cached_property

from fabric.lab.eos.config import ConfigTree
from fabric.lab.eos.grammar import interface_sort_key
from fabric.lab.model import PeerState, SwitchBgpView, SwitchSnapshot

__all__ = ["Interface", "ShowContext", "mac_of"]


def mac_of(seed: str) -> str:
    """A stable MAC in QEMU's OUI (52:54:00, what vEOS-lab VMs get) for a name."""
    h = hashlib.sha256(seed.encode()).hexdigest()
    return f"52:54:00:{h[0:2]}:{h[2:4]}:{h[4:6]}"


def dotted_mac(mac: str) -> str:
    """``52:54:00:ab:cd:ef`` -> ``5254.00ab.cdef`` (EOS's text and ARP notation)."""
    raw = mac.replace(":", "")
    return f"{raw[0:4]}.{raw[4:8]}.{raw[8:12]}"


@dataclass(frozen=True)
class Interface:
    """One interface of the running-config as the status commands print it."""

    name: str
    description: str
    shutdown: bool
    #: ``routed`` (an address, ``no switchport``, loopbacks, SVIs, management) or ``bridged``.
    mode: str
    vrf: str
    address: ipaddress.IPv4Interface | None
    mtu: int
    access_vlan: int | None = None
    trunk: bool = False
    #: The data link is down (``lab fault SWITCH link-down``), not an admin shutdown.
    link_down: bool = False

    @property
    def kind(self) -> str:
        """``ethernet``, ``loopback``, ``vlan``, ``management`` ... from the name."""
        for prefix, kind in (
            ("Ethernet", "ethernet"),
            ("Management", "ethernet"),
            ("Loopback", "loopback"),
            ("Vlan", "vlan"),
            ("Port-Channel", "portChannel"),
        ):
            if self.name.startswith(prefix):
                return kind
        return "other"

    @property
    def physical(self) -> bool:
        """An Ethernet or Management port (has counters, speed, LLDP)."""
        return self.name.startswith(("Ethernet", "Management"))

    @property
    def up(self) -> bool:
        """Line protocol up."""
        return not self.shutdown and not self.link_down

    @property
    def status(self) -> str:
        """EOS ``interfaceStatus``/``linkStatus``: connected, notconnect or disabled."""
        if self.shutdown:
            return "disabled"
        return "notconnect" if self.link_down else "connected"


@dataclass
class ShowContext:
    """One request's view of the switch (the BGP view is computed on first use)."""

    name: str
    eos_version: str
    booted: float
    now: float
    config: ConfigTree
    snapshot: SwitchSnapshot
    get_startup_body: Callable[[], str]
    get_running_body: Callable[[], str]
    get_view: Callable[[], SwitchBgpView]
    link_down: bool = False

    @cached_property
    def view(self) -> SwitchBgpView:
        """The BGP simulation's view of this switch."""
        return self.get_view()

    @property
    def startup_body(self) -> str:
        """The startup-config body (what ``write memory`` saved)."""
        return self.get_startup_body()

    @property
    def running_body(self) -> str:
        """The running-config body, rendered as the startup-config is saved."""
        return self.get_running_body()

    @property
    def hostname(self) -> str:
        """The configured hostname."""
        return self.snapshot.hostname

    @property
    def system_mac(self) -> str:
        """The system MAC (``show version``)."""
        return mac_of(self.name)

    @cached_property
    def interfaces(self) -> list[Interface]:
        """Every configured interface, in EOS order, with its L2/L3 role."""
        out: list[Interface] = []
        svi_vlans: set[int] = set()
        for node in self.config.effective_children():
            if node.tokens[:1] != ["interface"]:
                continue
            name = node.tokens[1]
            desc = node.first("description")
            addr = node.first("ip", "address")
            vrf = node.first("vrf")
            mtu = node.first("mtu")
            access = node.first("switchport", "access", "vlan")
            trunk = node.first("switchport", "mode", "trunk") is not None
            no_switchport = any(c.tokens == ["no", "switchport"] for c in node.children)
            routed = (
                addr is not None
                or no_switchport
                or not name.startswith(("Ethernet", "Port-Channel"))
            )
            if name.startswith("Vlan"):
                svi_vlans.add(int(name[4:]))
            out.append(
                Interface(
                    name=name,
                    description=" ".join(desc.tokens[1:]) if desc else "",
                    shutdown=node.first("shutdown") is not None,
                    mode="routed" if routed else "bridged",
                    vrf=vrf.tokens[1] if vrf else "default",
                    address=ipaddress.IPv4Interface(addr.tokens[2]) if addr else None,
                    mtu=int(mtu.tokens[1]) if mtu else (1500 if routed else 9214),
                    access_vlan=(
                        int(access.tokens[3]) if access else (None if routed or trunk else 1)
                    ),
                    trunk=trunk and not routed,
                    # The fault takes the switch's data links down: its switched ports.
                    link_down=self.link_down and not routed,
                )
            )
        if self.link_down:
            # An SVI's line protocol follows its VLAN's member ports.
            live = {i.access_vlan for i in out if i.up and i.access_vlan is not None}
            out = [
                replace(i, link_down=True)
                if i.name.startswith("Vlan") and int(i.name[4:]) not in live
                else i
                for i in out
            ]
        return sorted(out, key=lambda i: interface_sort_key(i.name))

    def interface(self, name: str) -> Interface | None:
        """The interface called ``name`` (None when not configured)."""
        return next((i for i in self.interfaces if i.name == name), None)

    @cached_property
    def vlans(self) -> dict[int, str]:
        """VLAN id -> name: VLAN 1 and every configured VLAN."""
        out = {1: "default"}
        for node in self.config.root.find("vlan"):
            vid = int(node.tokens[1])
            name = node.first("name")
            out[vid] = name.tokens[1] if name else f"VLAN{vid:04d}"
        return dict(sorted(out.items()))

    def vlan_members(self, vid: int) -> list[Interface]:
        """Switched ports carrying VLAN ``vid`` (access in it, or trunks)."""
        return [i for i in self.interfaces if i.mode == "bridged" and (i.access_vlan == vid)]

    def local_address(self, neighbor: str) -> str | None:
        """The switch address in the neighbor's subnet (the BGP session's local end)."""
        ip = ipaddress.IPv4Address(neighbor)
        for intf in self.snapshot.interfaces:
            if intf.vrf == "default" and ip in intf.address.network:
                return str(intf.address.ip)
        return None

    def egress(self, address: str) -> Interface | None:
        """The interface whose subnet holds ``address`` (default VRF)."""
        ip = ipaddress.IPv4Address(address)
        for intf in self.interfaces:
            if intf.vrf == "default" and intf.address is not None and ip in intf.address.network:
                return intf
        return None

    @cached_property
    def neighbors_up(self) -> list[PeerState]:
        """Established BGP neighbors: the hosts the switch has exchanged packets with."""
        return [p for p in self.view.peers if p.state == "Established"]

    def host_mac(self, address: str) -> str:
        """The MAC of a host on a switch subnet (a node's interface; stable per address)."""
        return mac_of(f"host:{address}")

    @cached_property
    def local_as(self) -> int:
        """The BGP AS (0 without ``router bgp``)."""
        if self.view.local_as is not None:
            return self.view.local_as
        return self.snapshot.bgp.asn if self.snapshot.bgp else 0

    @cached_property
    def router_id(self) -> str:
        """The BGP router ID (configured, else the highest loopback/interface address)."""
        if self.view.router_id:
            return self.view.router_id
        if self.snapshot.bgp and self.snapshot.bgp.router_id:
            return self.snapshot.bgp.router_id
        default = [i for i in self.snapshot.interfaces if i.vrf == "default" and not i.shutdown]
        loops = [i.address.ip for i in default if i.name.startswith("Loopback")]
        others = [i.address.ip for i in default]
        return str(max(loops or others)) if (loops or others) else "0.0.0.0"
