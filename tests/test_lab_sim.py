"""The BGP simulation as a pure function: the seed, and each way a session can fail."""

from __future__ import annotations

import base64
import copy
import ipaddress
from dataclasses import replace
from typing import Any

import pytest

from fabric.lab import seed, sim
from fabric.lab.model import (
    BgpNeighborConfig,
    SwitchBgpConfig,
    SwitchInterface,
    SwitchSnapshot,
)

CP, WK = "kube-controlplane-001", "kube-worker-001"
N8, N18 = "172.21.1.8", "172.21.1.18"
T0 = 1_700_000_000.0


def seed_snapshot(**neighbor_overrides: Any) -> SwitchSnapshot:
    """The write-up's switch, as the EOS parser would hand it over."""
    neighbors = {
        a: BgpNeighborConfig(address=a, remote_as=65535, **neighbor_overrides) for a in (N8, N18)
    }
    return SwitchSnapshot(
        name="eos-tor-001",
        eos_version="4.30.3M",
        hostname="eos-tor-001",
        bgp=SwitchBgpConfig(asn=65535, neighbors=neighbors),
        interfaces=[
            SwitchInterface("Loopback0", ipaddress.IPv4Interface("1.1.1.1/32")),
            SwitchInterface("Loopback1", ipaddress.IPv4Interface("2.2.2.2/32"), vrf="management"),
            SwitchInterface(
                "Management1", ipaddress.IPv4Interface("172.21.0.30/24"), vrf="management"
            ),
            SwitchInterface("Vlan3002", ipaddress.IPv4Interface("172.21.1.254/24")),
        ],
        vlans=[3002],
        ip_routing=True,
    )


NODES = [
    sim.NodeFacts(CP, ipaddress.IPv4Address(N8), ipaddress.IPv4Address("172.21.0.8")),
    sim.NodeFacts(WK, ipaddress.IPv4Address(N18), ipaddress.IPv4Address("172.21.0.18")),
]


def seed_objects(*, calico: bool = True) -> list[dict[str, Any]]:
    from fabric.intent import load_intent
    from fabric.paths import ProjectPaths

    paths = ProjectPaths.discover()
    intent = load_intent(paths).intent
    assert intent is not None
    objs = seed.base_cluster_objects(intent)
    objs += [sim.block_affinity(n, c) for n, c in seed.SEED_BLOCKS.items()]
    if calico:
        objs += seed.seeded_calico_objects(intent, paths.templates)
    return objs


def world(
    objs: list[dict[str, Any]] | None = None, snap: SwitchSnapshot | None = None, **kw: Any
) -> sim.World:
    return sim.World(
        nodes=NODES,
        switches={"eos-tor-001": snap or seed_snapshot()},
        objects=sim.objects_by_kind(seed_objects() if objs is None else objs),
        pod_cidr=ipaddress.IPv4Network("192.168.0.0/16"),
        block_size=24,
        **kw,
    )


def peer(result: sim.SimResult, address: str) -> Any:
    return next(p for p in result.switches["eos-tor-001"].peers if p.neighbor == address)


def node_row(result: sim.SimResult, node: str, address: str) -> Any:
    return next(r for r in result.node_view(node).ipv4_peers if r.peer_address == address)


def routes(result: sim.SimResult) -> dict[str, list[str]]:
    return {str(r.prefix): r.next_hops for r in result.switches["eos-tor-001"].routes}


def without_pods(objs: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [
        o for o in objs if not (o["kind"] == "Pod" and o["metadata"]["name"].startswith(prefix))
    ]


# --------------------------------------------------------------------------- the seed


def test_seed_sessions_established_both_sides() -> None:
    r = sim.compute(world(), T0)
    for addr in (N8, N18):
        p = peer(r, addr)
        assert (p.state, p.remote_as, p.since) == ("Established", 65535, T0)
    for node, mesh in ((CP, "172.21.0.18"), (WK, "172.21.0.8")):
        rows = r.node_view(node).ipv4_peers
        assert [(x.peer_address, x.peer_type, x.state, x.info) for x in rows] == [
            (mesh, "node-to-node mesh", "up", "Established"),
            ("172.21.1.254", "global", "up", "Established"),
        ]


def test_seed_routes_before_the_coredns_fix_include_the_32s() -> None:
    r = sim.compute(world(), T0)
    assert routes(r) == {
        "192.16.0.0/12": [N8],  # one path: no maximum-paths, lowest neighbor wins
        "192.168.45.65/32": [N18],
        "192.168.45.66/32": [N18],
        "192.168.170.0/24": [N8],
        "192.168.181.0/24": [N18],
    }
    assert all(x.code == "B I" and x.distance == 200 for x in r.switches["eos-tor-001"].routes)
    assert all(x.interface == "Vlan3002" for x in r.switches["eos-tor-001"].routes)
    # block + service CIDR; the worker adds the two coredns /32s
    assert (peer(r, N8).prefixes_received, peer(r, N18).prefixes_received) == (2, 4)


def test_seed_routes_after_the_coredns_fix_are_the_write_ups() -> None:
    r = sim.compute(world(without_pods(seed_objects(), "coredns-")), T0)
    assert routes(r) == {
        "192.16.0.0/12": [N8],
        "192.168.170.0/24": [N8],
        "192.168.181.0/24": [N18],
    }


def test_before_the_global_peer_only_the_mesh_is_up() -> None:
    objs = [o for o in seed_objects() if o["kind"] != "BGPPeer"]
    r = sim.compute(world(objs), T0)
    assert [x.peer_type for x in r.node_view(CP).ipv4_peers] == ["node-to-node mesh"]
    # The switch has the neighbors but the nodes refuse: Active, nothing learned.
    assert peer(r, N8).state == "Active" and routes(r) == {}


def test_maximum_paths_spreads_the_service_cidr() -> None:
    snap = seed_snapshot()
    assert snap.bgp is not None
    snap = replace(snap, bgp=replace(snap.bgp, maximum_paths=4))
    r = sim.compute(world(snap=snap), T0)
    assert routes(r)["192.16.0.0/12"] == [N8, N18]
    assert routes(r)["192.168.170.0/24"] == [N8]


def test_mesh_disabled_removes_mesh_rows() -> None:
    objs = copy.deepcopy(seed_objects())
    cfg = next(o for o in objs if o["kind"] == "BGPConfiguration")
    cfg["spec"]["nodeToNodeMeshEnabled"] = False
    r = sim.compute(world(objs), T0)
    assert [x.peer_type for x in r.node_view(WK).ipv4_peers] == ["global"]


def test_no_bgp_configuration_means_default_as_and_no_service_routes() -> None:
    objs = [o for o in seed_objects() if o["kind"] != "BGPConfiguration"]
    r = sim.compute(world(objs), T0)
    # Nodes run AS 64512 now: the switch's remote-as 65535 no longer matches.
    assert r.nodes[CP].as_number == 64512
    assert peer(r, N8).state == "Active"
    assert node_row(r, CP, "172.21.1.254").info == "Active Received: Bad peer AS"


# --------------------------------------------------------------------------- failures


def test_shutdown_neighbor_is_idle_admin_and_refused_on_the_node() -> None:
    r = sim.compute(world(snap=seed_snapshot(shutdown=True)), T0)
    p = peer(r, N8)
    assert (p.state, p.state_detail, p.prefixes_received) == ("Idle", "Idle(Admin)", 0)
    row = node_row(r, CP, "172.21.1.254")
    assert (row.state, row.info) == ("start", "Active Socket: Connection refused")
    assert routes(r) == {}


@pytest.mark.parametrize("host", ["eos-tor-001", CP])
def test_link_down_is_connect(host: str) -> None:
    r = sim.compute(world(link_down=frozenset({host})), T0)
    assert peer(r, N8).state == "Connect"
    assert node_row(r, CP, "172.21.1.254").info == "Connect"
    # The mesh runs over the management network: a data-link fault leaves it up.
    assert node_row(r, WK, "172.21.0.8").state == "up"


def test_bird_down_stops_the_node() -> None:
    r = sim.compute(world(bird_down=frozenset({WK})), T0)
    assert r.node_view(WK).bird_running is False
    assert peer(r, N18).state == "Active"
    assert peer(r, N8).state == "Established"
    mesh = node_row(r, CP, "172.21.0.18")
    assert (mesh.state, mesh.info) == ("start", "Active Socket: Connection refused")
    assert "192.168.181.0/24" not in routes(r)


def test_calico_peer_with_wrong_as_is_rejected_by_bird() -> None:
    objs = copy.deepcopy(seed_objects())
    next(o for o in objs if o["kind"] == "BGPPeer")["spec"]["asNumber"] = 65001
    r = sim.compute(world(objs), T0)
    assert peer(r, N8).state == "Active"
    assert node_row(r, CP, "172.21.1.254").info == "Active BGP Error: Bad peer AS"


def test_peer_ip_not_the_svi_never_connects() -> None:
    objs = copy.deepcopy(seed_objects())
    next(o for o in objs if o["kind"] == "BGPPeer")["spec"]["peerIP"] = "1.1.1.1"
    r = sim.compute(world(objs), T0)
    assert peer(r, N8).state == "Active"
    assert node_row(r, CP, "1.1.1.1").info == "Connect"


def test_switch_without_neighbor_refuses_the_node() -> None:
    snap = seed_snapshot()
    assert snap.bgp is not None
    del snap.bgp.neighbors[N18]
    r = sim.compute(world(snap=snap), T0)
    assert [p.neighbor for p in r.switches["eos-tor-001"].peers] == [N8]
    assert node_row(r, WK, "172.21.1.254").info == "Active Socket: Connection refused"


def test_not_activated_neighbor_is_established_without_prefixes() -> None:
    r = sim.compute(world(snap=seed_snapshot(activated_ipv4=False)), T0)
    assert peer(r, N8).state == "Established"
    assert peer(r, N8).prefixes_received == 0 and routes(r) == {}


def _with_password(objs: list[dict[str, Any]], secret: str) -> list[dict[str, Any]]:
    objs = copy.deepcopy(objs)
    p = next(o for o in objs if o["kind"] == "BGPPeer")
    p["spec"]["password"] = {"secretKeyRef": {"name": "bgp-passwords", "key": "global-peer"}}
    objs.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "bgp-passwords", "namespace": "calico-system"},
            "data": {"global-peer": base64.b64encode(secret.encode()).decode()},
        }
    )
    return objs


def test_passwords_must_match_on_both_sides() -> None:
    objs = _with_password(seed_objects(), "s3cret")
    same = sim.compute(world(objs, snap=seed_snapshot(password="s3cret")), T0)
    assert peer(same, N8).state == "Established"
    other = sim.compute(world(objs, snap=seed_snapshot(password="other")), T0)
    assert peer(other, N8).state == "Active"
    assert node_row(other, CP, "172.21.1.254").info == "Connect"
    one_sided = sim.compute(world(snap=seed_snapshot(password="s3cret")), T0)
    assert peer(one_sided, N8).state == "Active"


def test_node_as_override_makes_ebgp() -> None:
    objs = [
        *seed_objects(),
        {
            "apiVersion": sim.CALICO,
            "kind": "Node",
            "metadata": {"name": CP},
            "spec": {"bgp": {"ipv4Address": "172.21.1.8/24", "asNumber": 65010}},
        },
    ]
    snap = seed_snapshot()
    assert snap.bgp is not None
    snap.bgp.neighbors[N8] = BgpNeighborConfig(address=N8, remote_as=65010)
    r = sim.compute(world(objs, snap=snap), T0)
    assert peer(r, N8).state == "Established"
    by_prefix = {str(x.prefix): x for x in r.switches["eos-tor-001"].routes}
    assert (by_prefix["192.168.170.0/24"].code, by_prefix["192.168.170.0/24"].distance) == (
        "B E",
        20,
    )
    assert by_prefix["192.168.181.0/24"].code == "B I"


def test_node_specific_peers_by_name_and_selector() -> None:
    objs = [o for o in seed_objects() if o["kind"] != "BGPPeer"]
    objs += [
        {
            "apiVersion": sim.CALICO,
            "kind": "BGPPeer",
            "metadata": {"name": "by-node"},
            "spec": {"node": CP, "peerIP": "172.21.1.254", "asNumber": 65535},
        },
        {
            "apiVersion": sim.CALICO,
            "kind": "BGPPeer",
            "metadata": {"name": "by-selector"},
            "spec": {
                "nodeSelector": "kubernetes.io/hostname == 'kube-worker-001'",
                "peerIP": "172.21.1.254",
                "asNumber": 65535,
            },
        },
    ]
    r = sim.compute(world(objs), T0)
    for node in (CP, WK):
        row = node_row(r, node, "172.21.1.254")
        assert (row.peer_type, row.state) == ("node specific", "up")
    assert peer(r, N8).state == peer(r, N18).state == "Established"


# --------------------------------------------------------------------------- time and IPAM


def test_since_is_kept_while_the_state_holds_and_reset_when_it_changes() -> None:
    first = sim.compute(world(), T0)
    again = sim.compute(world(previous=first.since), T0 + 600)
    assert peer(again, N8).since == T0
    down = sim.compute(world(previous=again.since, link_down=frozenset({CP})), T0 + 700)
    assert (peer(down, N8).state, peer(down, N8).since) == ("Connect", T0 + 700)
    assert peer(down, N18).since == T0
    up = sim.compute(world(previous=down.since), T0 + 800)
    assert (peer(up, N8).state, peer(up, N8).since) == ("Established", T0 + 800)


def test_plan_block_affinities_prefers_the_seed_blocks_then_allocates_in_order() -> None:
    objs = [o for o in seed_objects() if o["kind"] != "BlockAffinity"]
    planned = sim.plan_block_affinities(world(objs), seed.SEED_BLOCKS)
    assert {o["spec"]["node"]: o["spec"]["cidr"] for o in planned} == {
        CP: "192.168.170.0/24",
        WK: "192.168.181.0/24",
    }
    assert planned[0]["metadata"]["name"] == "kube-controlplane-001-192-168-170-0-24"
    generic = sim.plan_block_affinities(world(objs))
    assert [o["spec"]["cidr"] for o in generic] == ["192.168.0.0/24", "192.168.1.0/24"]
    assert sim.plan_block_affinities(world()) == []


def test_next_pod_ip_follows_the_highest_address_in_the_block() -> None:
    w = world(without_pods(seed_objects(), "coredns-"))
    assert str(sim.next_pod_ip(w, WK)) == "192.168.181.6"
    assert str(sim.next_pod_ip(w, CP)) == "192.168.170.4"


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("all()", {}, True),
        ("rack == 'r1'", {"rack": "r1"}, True),
        ("rack == 'r1'", {"rack": "r2"}, False),
        ("rack != 'r1'", {"rack": "r2"}, True),
        ("has(rack) && !has(spine)", {"rack": "x"}, True),
        ("rack in {'a', 'b'}", {"rack": "b"}, True),
        ("rack not in {'a', 'b'}", {"rack": "b"}, False),
        ("(rack == 'a' || rack == 'b') && zone == 'z'", {"rack": "b", "zone": "z"}, True),
        ("rack ==", {"rack": "a"}, False),  # invalid: matches nothing
    ],
)
def test_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert sim.selector_matches(selector, labels) is expected


def test_reusing_the_cluster_part_gives_the_same_result() -> None:
    first = sim.compute(world(), T0)
    snap = seed_snapshot(shutdown=True)
    fresh = sim.compute(world(snap=snap, previous=first.since), T0 + 5)
    reused = sim.compute(world(snap=snap, previous=first.since, derived=first.derived), T0 + 5)
    assert reused.switches == fresh.switches
    assert reused.node_view(CP) == fresh.node_view(CP)
    assert peer(reused, N8).state_detail == "Idle(Admin)"
