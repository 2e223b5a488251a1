"""The simulated switch's config grammar, tree and show renderers (no sockets)."""

from __future__ import annotations

import ipaddress
import time

import pytest

from fabric.lab.eos.config import CliError, ConfigEditor, ConfigTree
from fabric.lab.eos.show import bgp_summary_text, format_updown, route_text
from fabric.lab.model import BgpRoute, PeerState, SwitchBgpView
from fabric.lab.seed import SEED_SWITCH_BODY

SEED = SEED_SWITCH_BODY  # the write-up's switch config


def _edit(lines: list[str], base: str = SEED) -> ConfigTree:
    editor = ConfigEditor(ConfigTree.from_text(base))
    for line in lines:
        editor.apply(line)
    return editor.tree


# --------------------------------------------------------------------------- errors

ERRORS = [
    # (mode-entering lines, bad line, EOS error text)
    ([], "foo bar", "Invalid input (at token 0: 'foo')"),
    ([], "interface", "Incomplete command"),
    ([], "interface Bogus1", "Invalid input (at token 1: 'Bogus1')"),
    ([], "vlan 5000", "Invalid input (at token 1: '5000')"),
    ([], "ip route 10.0.0.0/33 1.1.1.1", "Invalid input (at token 2: '10.0.0.0/33')"),
    ([], "router bgp 4294967296", "Invalid input (at token 2: '4294967296')"),
    (["router bgp 65535"], "neighbor 1.2.3.4 remote-as x", "Invalid input (at token 3: 'x')"),
    (["router bgp 65535"], "neighbor 1.2.3.4", "Incomplete command"),
    (["router bgp 65535"], "maximum-paths 0", "Invalid input (at token 1: '0')"),
    (["interface Vlan3002"], "ip address 1.2.3.4", "Invalid input (at token 2: '1.2.3.4')"),
    (["interface Vlan3002"], "no bogus", "Invalid input (at token 1: 'bogus')"),
    (["router bgp 65535"], "router bgp 65000", "BGP is already running with AS number 65535"),
]


@pytest.mark.parametrize(("setup", "line", "message"), ERRORS)
def test_invalid_lines_get_eos_errors(setup: list[str], line: str, message: str) -> None:
    editor = ConfigEditor(ConfigTree.from_text(SEED))
    for cmd in setup:
        editor.apply(cmd)
    before = editor.tree.body_lines()
    with pytest.raises(CliError) as exc:
        editor.apply(line)
    assert exc.value.message == message
    assert editor.tree.body_lines() == before


# --------------------------------------------------------------------------- semantics


def test_modes_are_left_implicitly_and_values_replaced() -> None:
    tree = _edit(
        [
            "interface Vlan3002",
            "ip address 172.21.1.253/24",  # replaces the address, not a second one
            "description peering",
            "router bgp 65535",  # a global command leaves interface mode
            "neighbor 172.21.1.8 remote-as 65001",
            "address-family ipv4",
            "neighbor 172.21.1.28 activate",
            "hostname tor1",  # leaves address-family and router bgp
        ]
    )
    text = "\n".join(tree.body_lines())
    assert "interface Vlan3002\n   description peering\n   ip address 172.21.1.253/24\n!" in text
    assert "172.21.1.254" not in text
    assert "neighbor 172.21.1.8 remote-as 65001" in text
    assert "neighbor 172.21.1.8 remote-as 65535" not in text
    assert "      neighbor 172.21.1.28 activate" in text
    assert tree.hostname() == "tor1"


def test_no_commands() -> None:
    tree = _edit(
        [
            "router bgp 65535",
            "no neighbor 172.21.1.8",  # every line of the neighbor, also under the AF
            "interface Ethernet1",
            "no switchport access vlan",
            "no ip routing",
        ]
    )
    text = "\n".join(tree.body_lines())
    assert "172.21.1.8 " not in text
    assert "neighbor 172.21.1.18 activate" in text
    assert "interface Ethernet1\n!" in text  # a port never disappears
    assert "\nno ip routing\n" in text  # EOS prints the disabled default
    assert tree.snapshot("x", "4.30.3M", "x").ip_routing is False


def test_canonical_order_and_round_trip() -> None:
    tree = _edit(
        [
            "router bgp 65535",
            "neighbor 172.21.1.9 description late",
            "neighbor 172.21.1.9 remote-as 65535",
            "router-id 1.1.1.1",
            "interface Loopback0",
            "ip address 1.1.1.1/32",
            "vlan 10",
        ]
    )
    lines = tree.body_lines()
    bgp = lines[lines.index("router bgp 65535") :]
    assert bgp[1] == "   router-id 1.1.1.1"
    assert bgp[2:6] == [
        "   neighbor 172.21.1.8 remote-as 65535",
        "   neighbor 172.21.1.9 remote-as 65535",
        "   neighbor 172.21.1.9 description late",
        "   neighbor 172.21.1.18 remote-as 65535",
    ]
    assert lines.index("vlan 10") < lines.index("vlan 3002")
    assert lines.index("interface Ethernet4") < lines.index("interface Loopback0")
    again = ConfigTree.from_text("\n".join(lines))
    assert again.body_lines() == lines


def test_peer_group_inheritance_and_old_syntax() -> None:
    tree = _edit(
        [
            "router bgp 65535",
            "neighbor CALICO peer-group",
            "neighbor CALICO remote-port 178",
            "neighbor CALICO password s3cret",
            "neighbor CALICO description calico node",
            "neighbor 172.21.1.8 peer-group CALICO",
            "neighbor 172.21.1.8 description own description",
            "neighbor 172.21.1.8 shutdown",
        ]
    )
    lines = tree.body_lines()
    assert "   neighbor CALICO peer group" in lines  # EOS 4.23+ spelling
    assert "   neighbor 172.21.1.8 peer group CALICO" in lines
    assert lines.index("   neighbor CALICO peer group") < lines.index(
        "   neighbor 172.21.1.8 peer group CALICO"
    )
    old = tree.body_lines(old_peer_group=True)
    assert "   neighbor 172.21.1.8 peer-group CALICO" in old
    bgp = tree.snapshot("x", "4.30.3M", "x").bgp
    assert bgp is not None
    n8 = bgp.neighbors["172.21.1.8"]
    assert (n8.peer_group, n8.remote_as, n8.remote_port, n8.password) == (
        "CALICO",
        65535,
        178,
        "s3cret",
    )
    assert n8.description == "own description"
    assert n8.shutdown is True
    assert "CALICO" not in bgp.neighbors


def test_activation_with_default_ipv4_off() -> None:
    tree = _edit(
        [
            "router bgp 65535",
            "no bgp default ipv4-unicast",
            "address-family ipv4",
            "no neighbor 172.21.1.18 activate",
        ]
    )
    assert "   no bgp default ipv4-unicast" in tree.body_lines()
    bgp = tree.snapshot("x", "4.30.3M", "x").bgp
    assert bgp is not None
    assert bgp.neighbors["172.21.1.8"].activated_ipv4 is True
    assert bgp.neighbors["172.21.1.18"].activated_ipv4 is False


def test_unknown_lines_are_kept_verbatim_when_loading() -> None:
    text = SEED + "daemon TerminAttr\n   exec /usr/bin/TerminAttr -x\n   no shutdown\n!\n"
    text += "some future-command 42\n   with a child\n!\n"
    lines = ConfigTree.from_text(text).body_lines()
    assert "some future-command 42" in lines
    assert "   with a child" in lines
    assert "daemon TerminAttr" in lines
    with pytest.raises(CliError, match="line"):
        ConfigTree.from_text(text, strict=True)


def test_rendered_intent_is_accepted_line_by_line() -> None:
    """What the project's template renders is valid in a config session (as napalm sends it)."""
    from fabric.intent import load_intent
    from fabric.paths import ProjectPaths
    from fabric.steps.render import render_switch_config

    paths = ProjectPaths.discover()
    switch = load_intent(paths).intent.switches[0]
    data = switch.data.model_copy(
        update={
            "peer_group": "CALICO",
            "neighbor_port": 178,
            "maximum_paths": 4,
            "bgp_password_ref": "bgp",
        }
    )
    variant = switch.model_copy(update={"data": data})
    for sw in (switch, variant):
        text = render_switch_config(sw, paths.templates, {"bgp": "lab-secret"})
        editor = ConfigEditor(ConfigTree())
        for line in text.splitlines():
            if not line.strip().startswith("!"):
                editor.apply(line.strip())  # napalm strips indentation
        snapshot = editor.tree.snapshot(sw.name, "4.30.3M", sw.name)
        assert snapshot.bgp is not None
        assert set(snapshot.bgp.neighbors) == {str(n.address) for n in sw.neighbors}
        assert editor.tree.body_lines() == ConfigTree.from_text(text).body_lines()
    assert snapshot.bgp.maximum_paths == 4
    assert all(n.remote_port == 178 for n in snapshot.bgp.neighbors.values())
    assert all(n.password == "lab-secret" for n in snapshot.bgp.neighbors.values())


# --------------------------------------------------------------------------- show


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00:00"), (568, "00:09:28"), (86399, "23:59:59"), (86400 * 79 + 5 * 3600, "79d05h")],
)
def test_updown_format(seconds: float, text: str) -> None:
    assert format_updown(seconds) == text


def _view(now: float) -> SwitchBgpView:
    return SwitchBgpView(
        router_id="1.1.1.1",
        local_as=65535,
        peers=[
            PeerState("172.21.1.8", 65535, "Established", now - 568, 3, 3, 16, 15),
            PeerState("172.21.1.18", 65535, "Active", now - 20),
        ],
        routes=[
            BgpRoute(
                ipaddress.IPv4Network("192.16.0.0/12"),
                ["172.21.1.8", "172.21.1.18"],
                "B I",
                200,
            ),
            BgpRoute(ipaddress.IPv4Network("192.168.170.0/24"), ["172.21.1.8"], "B I", 200),
        ],
    )


def test_show_text_parses_back_with_the_project_parsers() -> None:
    parsing = pytest.importorskip("fabric.parsing")
    tree = ConfigTree.from_text(SEED)
    snap = tree.snapshot("eos-tor-001", "4.30.3M", "eos-tor-001")
    now = time.time()
    summary = parsing.parse(
        "arista_eos", "show ip bgp summary", bgp_summary_text(snap, _view(now), now, "default", now)
    ).model_dump(mode="json")
    peers = {p["neighbor"]: p for p in summary["vrfs"]["default"]["peers"]}
    assert summary["vrfs"]["default"]["router_id"] == "1.1.1.1"
    assert (peers["172.21.1.8"]["state"], peers["172.21.1.8"]["pfx_acc"]) == ("Estab", 3)
    assert peers["172.21.1.8"]["up_down"] == format_updown(568)
    assert (peers["172.21.1.18"]["state"], peers["172.21.1.18"]["pfx_rcd"]) == ("Active", None)
    routes = parsing.parse(
        "arista_eos", "show ip route", route_text(tree, snap, _view(now), "default")
    ).model_dump(mode="json")
    table = {r["prefix"]: r for r in routes["vrfs"]["default"]["routes"]}
    assert set(table) == {"1.1.1.1/32", "172.21.1.0/24", "192.16.0.0/12", "192.168.170.0/24"}
    assert table["172.21.1.0/24"]["code"] == "C" and table["1.1.1.1/32"]["code"] == "C"
    assert [h["address"] for h in table["192.16.0.0/12"]["next_hops"]] == [
        "172.21.1.8",
        "172.21.1.18",
    ]
    assert (table["192.16.0.0/12"]["code"], table["192.16.0.0/12"]["distance"]) == ("B I", 200)
    bgp = parsing.parse(
        "arista_eos",
        "show running-config section router bgp",
        "\n".join(tree.section("router bgp")) + "\n",
    ).model_dump(mode="json")
    assert "172.21.1.18" in str(bgp)


def test_route_text_ecmp_and_description_column() -> None:
    tree = _edit(["router bgp 65535", "neighbor 172.21.1.8 description kube-controlplane-001"])
    snap = tree.snapshot("eos-tor-001", "4.30.3M", "eos-tor-001")
    now = time.time()
    text = route_text(tree, snap, _view(now), "default")
    lines = text.splitlines()
    i = lines.index(" B I      192.16.0.0/12 [200/0] via 172.21.1.8, Vlan3002")
    assert (
        lines[i + 1] == " " * len(" B I      192.16.0.0/12 [200/0] ") + "via 172.21.1.18, Vlan3002"
    )
    summary = bgp_summary_text(snap, _view(now), now, "default", now).splitlines()
    assert summary[3].startswith("  Description              Neighbor         V  AS")
    assert summary[4].startswith("  kube-controlplane-001    172.21.1.8       4  65535")
    assert summary[5].split()[-2:] == ["00:00:20", "Active"]
