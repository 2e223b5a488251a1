"""Every getter of NAPALM's ``eos`` driver, unmodified, against the seeded lab over verified
HTTPS: each answer is checked against the lab's own state (its running-config, the BGP
simulation's view), not against a recorded reply.

The one getter that fails does so as on a real vEOS-lab: ``get_environment`` asks
``show system environment power`` unless the model is ``vEOS``/``cEOSLab``, and vEOS-lab
answers error 1000 "There seem to be no power supplies connected." (napalm issues
napalm-eos#90 and napalm#1986, still open).
"""

from __future__ import annotations

import ipaddress
import re
import ssl
from collections.abc import Callable, Iterator
from typing import Any

import napalm
import pytest
from pyeapi.eapilib import CommandError

pytestmark = pytest.mark.lab

SW = "eos-tor-001"
GETTERS = [
    "get_facts",
    "get_interfaces",
    "get_lldp_neighbors",
    "get_interfaces_counters",
    "get_bgp_neighbors",
    "get_environment",
    "get_lldp_neighbors_detail",
    "get_bgp_config",
    "get_arp_table",
    "get_ntp_servers",
    "get_ntp_stats",
    "get_interfaces_ip",
    "get_mac_address_table",
    "get_route_to",
    "get_snmp_information",
    "get_users",
    "get_bgp_neighbors_detail",
    "get_optics",
    "get_config",
    "get_network_instances",
    "get_vlans",
]


class State:
    """What the lab says the switch is (running-config, BGP view), for comparisons."""

    def __init__(self, lab: Any) -> None:
        self.lab = lab
        self.running = lab.switch_running_config(SW)
        self.view = lab.switch_bgp_view(SW)

    def interfaces(self) -> list[str]:
        return re.findall(r"(?m)^interface (\S+)$", self.running)

    def addresses(self) -> dict[str, str]:
        out = {}
        for block in re.split(r"(?m)^!$", self.running):
            m = re.search(r"(?m)^interface (\S+)$", block)
            a = re.search(r"(?m)^   ip address (\S+)$", block)
            if m and a:
                out[m.group(1)] = a.group(1)
        return out

    def established(self) -> dict[str, Any]:
        return {p.neighbor: p for p in self.view.peers if p.state == "Established"}


@pytest.fixture(scope="module")
def driver(seeded_lab: Any) -> Iterator[Any]:
    ep = seeded_lab.endpoints["hosts"][SW]
    ctx = ssl.create_default_context(cafile=seeded_lab.endpoints["ca_file"])
    drv = napalm.get_network_driver("eos")(
        ep["hostname"],
        ep["username"],
        ep["password"],
        optional_args={"transport": "https", "port": ep["port"], "context": ctx},
    )
    drv.open()
    yield drv
    drv.close()


# --------------------------------------------------------------------------- checks per getter


def facts(r: Any, s: State) -> None:
    assert r["hostname"] == SW and r["fqdn"] == SW
    assert (r["vendor"], r["model"]) == ("Arista", "vEOS-lab")
    assert r["os_version"].startswith("4.30.3M")
    assert r["interface_list"] == s.interfaces()
    assert r["uptime"] >= 0


def interfaces(r: Any, s: State) -> None:
    assert list(r) == s.interfaces()
    assert all(i["is_up"] and i["is_enabled"] for i in r.values())
    assert r["Ethernet1"]["mtu"] == 9214 and r["Vlan3002"]["mtu"] == 1500


def no_lldp(r: Any, s: State) -> None:
    assert r == {}  # the Calico nodes run no LLDP agent


def counters(r: Any, s: State) -> None:
    # Ethernet1 carries VLAN 3002, so the BGP messages of both sessions.
    up = s.established().values()
    assert r["Ethernet1"]["rx_unicast_packets"] >= sum(p.msg_rcvd for p in up) > 0
    assert r["Ethernet1"]["tx_unicast_packets"] >= sum(p.msg_sent for p in up) > 0
    physical = [c for name, c in r.items() if name.startswith(("Ethernet", "Management"))]
    assert physical and all(c["rx_errors"] == c["tx_errors"] == 0 for c in physical)


def bgp_neighbors(r: Any, s: State) -> None:
    peers = r["global"]["peers"]
    assert r["global"]["router_id"] == "1.1.1.1"
    assert set(peers) == {p.neighbor for p in s.view.peers} == {"172.21.1.8", "172.21.1.18"}
    for p in s.view.peers:
        got = peers[p.neighbor]
        assert got["is_up"] is (p.state == "Established")
        assert (got["local_as"], got["remote_as"]) == (65535, p.remote_as)
        assert got["address_family"]["ipv4"]["received_prefixes"] == p.prefixes_received


def environment_fails_as_on_veos_lab(r: Any, s: State) -> None:
    raise AssertionError("get_environment returned on vEOS-lab")


def bgp_config(r: Any, s: State) -> None:
    neighbors = r["_"]["neighbors"]
    assert r["_"]["local_as"] == 65535
    configured = dict(re.findall(r"(?m)^   neighbor (\S+) remote-as (\d+)$", s.running))
    assert {a: n["remote_as"] for a, n in neighbors.items()} == {
        a: int(asn) for a, asn in configured.items()
    }


def arp(r: Any, s: State) -> None:
    assert {e["ip"] for e in r} == set(s.established())
    assert all(e["interface"].startswith("Vlan3002") for e in r)


def ntp_servers(r: Any, s: State) -> None:
    assert set(r) == set(re.findall(r"(?m)^ntp server (\S+)", s.running))


def ntp_stats(r: Any, s: State) -> None:
    assert {e["remote"] for e in r} == set(re.findall(r"(?m)^ntp server (\S+)", s.running))
    assert not any(e["synchronized"] for e in r)


def interfaces_ip(r: Any, s: State) -> None:
    want = {
        name: {str(ipaddress.IPv4Interface(a).ip): {"prefix_length": int(a.split("/")[1])}}
        for name, a in s.addresses().items()
    }
    assert {k: v["ipv4"] for k, v in r.items()} == want


def mac_table(r: Any, s: State) -> None:
    assert len(r) == len(s.established())
    assert all(e["interface"] == "Ethernet1" and e["vlan"] == 3002 for e in r)


def route_to(r: Any, s: State) -> None:
    route = next(x for x in s.view.routes if str(x.prefix) == "192.168.170.0/24")
    paths = r["192.168.170.0/24"]
    assert [(p["next_hop"], p["protocol"]) for p in paths] == [(route.next_hops[0], "iBGP")]
    assert paths[0]["outgoing_interface"] == "Vlan3002"
    assert paths[0]["protocol_attributes"]["remote_as"] == 65535


def snmp(r: Any, s: State) -> None:
    assert r["location"] == " ".join(re.findall(r"(?m)^snmp-server location (.*)$", s.running))
    assert r["community"] == {}


def users(r: Any, s: State) -> None:
    assert set(r) == set(re.findall(r"(?m)^username (\S+)", s.running)) == {"admin"}
    assert r["admin"]["level"] == 15


def bgp_detail(r: Any, s: State) -> None:
    rows = {x["remote_address"]: x for x in r["default"][65535]}
    assert set(rows) == {p.neighbor for p in s.view.peers}
    for p in s.view.peers:
        row = rows[p.neighbor]
        assert row["up"] is (p.state == "Established")
        assert row["connection_state"] == p.state
        assert row["received_prefix_count"] == p.prefixes_received
        assert row["local_address"] == "172.21.1.254"


def no_optics(r: Any, s: State) -> None:
    assert r == {}  # vEOS-lab ports are virtual


def config(r: Any, s: State) -> None:
    assert r["running"] == s.running
    assert r["startup"].splitlines()[5:] == s.running.splitlines()[5:]


def network_instances(r: Any, s: State) -> None:
    assert set(r) == {"default", "management"}
    assert r["management"]["state"]["route_distinguisher"] == "10:1"
    assert set(r["default"]["interfaces"]["interface"]) == {"Loopback0", "Vlan3002"}


def vlans(r: Any, s: State) -> None:
    assert r["3002"]["interfaces"] == ["Ethernet1"]
    assert set(r) == {"1", *re.findall(r"(?m)^vlan (\d+)$", s.running)}


CHECKS: dict[str, tuple[dict[str, Any], Callable[[Any, State], None]]] = {
    "get_facts": ({}, facts),
    "get_interfaces": ({}, interfaces),
    "get_lldp_neighbors": ({}, no_lldp),
    "get_interfaces_counters": ({}, counters),
    "get_bgp_neighbors": ({}, bgp_neighbors),
    "get_environment": ({}, environment_fails_as_on_veos_lab),
    "get_lldp_neighbors_detail": ({}, no_lldp),
    "get_bgp_config": ({}, bgp_config),
    "get_arp_table": ({}, arp),
    "get_ntp_servers": ({}, ntp_servers),
    "get_ntp_stats": ({}, ntp_stats),
    "get_interfaces_ip": ({}, interfaces_ip),
    "get_mac_address_table": ({}, mac_table),
    "get_route_to": ({"destination": "192.168.170.0/24"}, route_to),
    "get_snmp_information": ({}, snmp),
    "get_users": ({}, users),
    "get_bgp_neighbors_detail": ({}, bgp_detail),
    "get_optics": ({}, no_optics),
    "get_config": ({}, config),
    "get_network_instances": ({}, network_instances),
    "get_vlans": ({}, vlans),
}


def test_the_table_covers_every_getter_of_the_driver() -> None:
    from napalm.eos import EOSDriver

    # The getters the eos driver implements (the others are NetworkDriver's NotImplemented).
    getters = {n for n in EOSDriver.__dict__ if n.startswith("get_")}
    assert getters == set(GETTERS) == set(CHECKS)


@pytest.mark.parametrize("getter", GETTERS)
def test_getter_answers_what_the_lab_holds(driver: Any, seeded_lab: Any, getter: str) -> None:
    kwargs, check = CHECKS[getter]
    state = State(seeded_lab)
    if getter == "get_environment":
        with pytest.raises(CommandError) as err:
            driver.get_environment()
        assert err.value.error_code == 1000
        assert "There seem to be no power supplies connected." in str(err.value)
        return
    check(getattr(driver, getter)(**kwargs), state)


def test_is_alive(driver: Any) -> None:
    assert driver.is_alive() == {"is_alive": True}


def test_getters_follow_config_changes(driver: Any, seeded_lab: Any) -> None:
    """NTP and SNMP settings committed over eAPI show in the getters, then go away."""
    lines = ["ntp server 10.99.0.1", "snmp-server location rack 7", "snmp-server contact noc"]
    node = driver.device
    node.config(lines)
    try:
        state = State(seeded_lab)
        assert set(driver.get_ntp_servers()) == {"10.99.0.1"}
        ntp_stats(driver.get_ntp_stats(), state)
        snmp_info = driver.get_snmp_information()
        assert (snmp_info["location"], snmp_info["contact"]) == ("rack 7", "noc")
    finally:
        node.config([f"no {line}" for line in lines])
    assert driver.get_ntp_servers() == {}


#: (command, encoding) -> (eAPI error code, text in the error): EOS's own errors, or the lab's
#: honest refusal of a form it has no published sample of; never an invented answer.
ERROR_CASES = [
    ("show ip route vrf default bogus", "json", 1002, "Invalid input (at token 5: 'bogus')"),
    ("show interfaces counters bogus", "json", 1002, "Invalid input (at token 3: 'bogus')"),
    ("show bgp neighbors 172.21.1.8 bogus", "json", 1002, "Invalid input (at token 4: 'bogus')"),
    ("show interfaces status", "text", 1000, "text output of this command is not modelled"),
    ("show ntp status", "json", 1003, "unconverted command"),
]


@pytest.mark.parametrize(("command", "encoding", "code", "text"), ERROR_CASES)
def test_unknown_or_unmodelled_commands_fail_as_eos_does(
    driver: Any, command: str, encoding: str, code: int, text: str
) -> None:
    with pytest.raises(CommandError) as err:
        driver.device.run_commands([command], encoding=encoding)
    assert err.value.error_code == code
    assert text in str(err.value)


def test_bgp_commands_agree_with_each_other(driver: Any, seeded_lab: Any) -> None:
    """One switch, many views: every BGP command reports the same neighbors and prefixes."""
    summary, bgp_summary, neighbors, table, routes = driver.device.run_commands(
        [
            "show ip bgp summary vrf all",
            "show bgp summary vrf all",
            "show bgp neighbors vrf all",
            "show ip bgp vrf all",
            "show ip route vrf all bgp",
        ]
    )
    peers = summary["vrfs"]["default"]["peers"]
    plist = {p["peerAddress"]: p for p in neighbors["vrfs"]["default"]["peerList"]}
    assert set(plist) == set(peers) == set(bgp_summary["vrfs"]["default"]["peers"])
    for addr, p in plist.items():
        s = peers[addr]
        assert (
            p["state"]
            == s["peerState"]
            == bgp_summary["vrfs"]["default"]["peers"][addr]["peerState"]
        )
        assert p["prefixesReceived"] == s["prefixReceived"]
        assert (p["receivedMessages"], p["sentMessages"]) == (s["msgReceived"], s["msgSent"])
        stats = p["inMessageStats"]
        assert stats["opens"] + stats["updates"] + stats["keepalives"] == s["msgReceived"]
    # Each received prefix is one path in the BGP table; the active ones are the routes.
    entries = table["vrfs"]["default"]["bgpRouteEntries"]
    paths = [
        (pfx, x["peerEntry"]["peerAddr"]) for pfx, e in entries.items() for x in e["bgpRoutePaths"]
    ]
    assert len(paths) == sum(p["prefixesReceived"] for p in plist.values())
    active = {
        pfx: x["nextHop"]
        for pfx, e in entries.items()
        for x in e["bgpRoutePaths"]
        if x["routeType"]["active"]
    }
    installed = routes["vrfs"]["default"]["routes"]
    assert active == {pfx: r["vias"][0]["nexthopAddr"] for pfx, r in installed.items()}
    view = seeded_lab.switch_bgp_view(SW)
    assert set(installed) == {str(r.prefix) for r in view.routes}


def test_link_down_fault_shows_on_the_switch_ports(driver: Any, seeded_lab: Any) -> None:
    def states() -> tuple[str, str, str]:
        status, desc = driver.device.run_commands(
            ["show interfaces status", "show interfaces description"]
        )
        return (
            status["interfaceStatuses"]["Ethernet1"]["linkStatus"],
            desc["interfaceDescriptions"]["Vlan3002"]["lineProtocolStatus"],
            desc["interfaceDescriptions"]["Loopback0"]["lineProtocolStatus"],
        )

    assert states() == ("connected", "up", "up")
    seeded_lab.fault(SW, "link-down")
    try:
        assert states() == ("notconnect", "down", "up")
        assert driver.get_arp_table() == []  # no session, no neighbor
    finally:
        seeded_lab.clear_faults()
    assert states() == ("connected", "up", "up")
