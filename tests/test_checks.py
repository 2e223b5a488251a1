"""Every check, table-driven: a healthy seed state passes; each defect fails exactly its checks.

States are built from the seed inventory's intent plus parsed-state models written by hand
(the contract of fabric.models.parsed), so these tests need no parser and no lab.
"""

from __future__ import annotations

import copy
import doctest
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fabric.checks import REGISTRY, Status, load_catalog
from fabric.checks import drift as drift_module
from fabric.checks.base import Verdict
from fabric.checks.evidence import Evidence
from fabric.errors import Issue, UsageError
from fabric.intent import load_intent
from fabric.models.observed import (
    BlockAffinityInfo,
    ObservedCluster,
    ObservedNode,
    ObservedSwitch,
    PodInfo,
)
from fabric.models.parsed import (
    BgpPeer,
    BgpSummary,
    BgpSummaryVrf,
    CalicoAfStatus,
    CalicoNodeStatus,
    CalicoPeer,
    NextHop,
    Route,
    RouteTable,
    RouteVrf,
)
from fabric.paths import ProjectPaths
from fabric.steps.render import render_calico_objects, render_switch_config

ROOT = Path(__file__).resolve().parent.parent
CP, WK, SW, CL = "kube-controlplane-001", "kube-worker-001", "eos-tor-001", "k8s-cluster"
ALL_CHECKS = set(REGISTRY)


@pytest.fixture(scope="module")
def seed_intent() -> Any:
    report = load_intent(ProjectPaths.discover(root=ROOT))
    assert report.intent is not None
    return report


def bgp_peer(addr: str, state: str = "Estab", pfx: int | None = 2) -> BgpPeer:
    est = state == "Estab"
    return BgpPeer(
        neighbor=addr,
        version=4,
        remote_as=65535,
        msg_rcvd=16,
        msg_sent=15,
        in_q=0,
        out_q=0,
        up_down="00:09:28",
        state=state,
        established=est,
        pfx_rcd=pfx if est else None,
        pfx_acc=pfx if est else None,
    )


def route(prefix: str, *hops: str, code: str = "B I") -> Route:
    return Route(
        prefix=prefix,
        code=code,
        distance=200,
        metric=0,
        next_hops=[
            NextHop(address=h, interface="Vlan3002", raw=f"via {h}, Vlan3002") for h in hops
        ],
    )


def node_peer(addr: str, kind: str, state: str = "up", info: str = "Established") -> CalicoPeer:
    return CalicoPeer(peer_address=addr, peer_type=kind, state=state, since="07:33:10", info=info)


def node_status(*peers: CalicoPeer, running: bool = True) -> CalicoNodeStatus:
    return CalicoNodeStatus(
        calico_running=running,
        ipv4=CalicoAfStatus(peers=list(peers)) if running else None,
        ipv6=CalicoAfStatus(peers=[]) if running else None,
    )


def healthy_state(report: Any, running_config: Any = None) -> Evidence:
    """The seed after the global peer and the coredns fix, everything as the intent says."""
    intent = report.intent
    templates = ROOT / "templates"
    objs = render_calico_objects(intent, templates)
    state = Evidence(
        intent=intent,
        issues=[],
        switch_configs={s.name: render_switch_config(s, templates) for s in intent.switches},
        calico_objects=objs,
    )
    state.switches[SW] = ObservedSwitch(
        host=SW,
        bgp_summary=BgpSummary(
            vrfs={
                "default": BgpSummaryVrf(
                    router_id="1.1.1.1",
                    local_as=65535,
                    peers=[bgp_peer("172.21.1.8"), bgp_peer("172.21.1.18")],
                )
            }
        ),
        routes=RouteTable(
            vrfs={
                "default": RouteVrf(
                    routes=[
                        route("172.21.1.0/24", code="C"),
                        route("192.16.0.0/12", "172.21.1.8"),
                        route("192.168.170.0/24", "172.21.1.8"),
                        route("192.168.181.0/24", "172.21.1.18"),
                    ]
                )
            }
        ),
        running_config=running_config,
        running_config_text=state.switch_configs[SW] if running_config is not None else None,
    )
    state.nodes[CP] = ObservedNode(
        host=CP,
        status=node_status(
            node_peer("172.21.0.18", "node-to-node mesh"), node_peer("172.21.1.254", "global")
        ),
    )
    state.nodes[WK] = ObservedNode(
        host=WK,
        status=node_status(
            node_peer("172.21.0.8", "node-to-node mesh"), node_peer("172.21.1.254", "global")
        ),
    )
    state.cluster = ObservedCluster(
        host=CL,
        bgp_configurations=[copy.deepcopy(o.body) for o in objs if o.kind == "BGPConfiguration"],
        bgp_peers=[copy.deepcopy(o.body) for o in objs if o.kind == "BGPPeer"],
        # Calico detected each node's peering address (the intent's, as a healthy fabric has it)
        calico_nodes=[
            {"metadata": {"name": n}, "spec": {"bgp": {"ipv4Address": f"{ip}/24"}}}
            for n, ip in ((CP, "172.21.1.8"), (WK, "172.21.1.18"))
        ],
        installations=[
            {
                "metadata": {"name": "default"},
                "spec": {
                    "calicoNetwork": {
                        "bgp": "Enabled",
                        "ipPools": [
                            {"cidr": "192.168.0.0/16", "blockSize": 24, "encapsulation": "None"}
                        ],
                        "nodeAddressAutodetectionV4": {"cidrs": ["172.21.1.0/24"]},
                    }
                },
            }
        ],
        cluster_information=[
            {"metadata": {"name": "default"}, "spec": {"calicoVersion": "v3.26.4"}}
        ],
        block_affinities=[
            BlockAffinityInfo(node=CP, cidr=ipaddress.ip_network("192.168.170.0/24")),
            BlockAffinityInfo(node=WK, cidr=ipaddress.ip_network("192.168.181.0/24")),
        ],
        nodes=[],
        pods=[
            PodInfo("kube-system", "coredns-5dd5756b68-cdtfh", "192.168.181.6", WK),
            PodInfo("kube-system", "coredns-5dd5756b68-w448v", "192.168.170.4", CP),
            PodInfo("kube-system", "kube-proxy-ps64z", "172.21.0.18", WK, host_network=True),
            PodInfo("default", "test-1", "192.168.170.5", CP),
        ],
        services=[],
    )
    return state


def run_all(state: Evidence, checks: set[str] | None = None) -> dict[str, Verdict]:
    names = checks or (ALL_CHECKS - {"VerifySwitchConfigDrift"})
    return {n: REGISTRY[n]().test(state) for n in names}


def failing(verdicts: dict[str, Verdict]) -> set[str]:
    return {n for n, v in verdicts.items() if v.status in (Status.FAIL, Status.ERROR)}


def messages(v: Verdict, status: Status | None = None) -> list[str]:
    return [f.message for h in v.hosts for f in h.findings if status is None or f.status == status]


# --------------------------------------------------------------------------- the healthy state


def test_healthy_state_passes_every_check(seed_intent: Any) -> None:
    verdicts = run_all(healthy_state(seed_intent))
    assert failing(verdicts) == set()
    # The service CIDR via one node without maximum-paths is a warning, as in the seed.
    assert verdicts["VerifySwitchRoutes"].status == Status.WARN
    warn = messages(verdicts["VerifySwitchRoutes"], Status.WARN)
    assert warn == [
        "service CIDR 192.16.0.0/12 via 172.21.1.8 only, of 2 advertising nodes: no maximum-paths"
    ]
    # Every judged host is reported, also when it passes (one JUnit case per check per host).
    assert {h.host for h in verdicts["VerifyNodeBgpPeers"].hosts} == {CP, WK}
    assert {h.host for h in verdicts["VerifyBgpSessionEnds"].hosts} == {CP, WK}
    assert {h.host for h in verdicts["VerifySwitchBgpNeighbors"].hosts} == {SW}


# --------------------------------------------------------------------------- defects, one per row


def _set_switch_peer(fs: Evidence, addr: str, **kw: Any) -> None:
    st = fs.switches[SW]
    assert st.bgp_summary is not None
    vrf = st.bgp_summary.vrfs["default"]
    peers = [bgp_peer(addr, **kw) if p.neighbor == addr else p for p in vrf.peers]
    st.bgp_summary = BgpSummary(vrfs={"default": vrf.model_copy(update={"peers": peers})})


def _set_node_peers(state: Evidence, node: str, *peers: CalicoPeer) -> None:
    state.nodes[node] = ObservedNode(host=node, status=node_status(*peers))


def _drop_route(state: Evidence, prefix: str) -> None:
    st = state.switches[SW]
    assert st.routes is not None
    vrf = st.routes.vrfs["default"]
    st.routes = RouteTable(
        vrfs={
            "default": vrf.model_copy(
                update={"routes": [r for r in vrf.routes if r.prefix != prefix]}
            )
        }
    )


def link_down_worker(s: Evidence) -> None:
    _set_switch_peer(s, "172.21.1.18", state="Connect")
    _set_node_peers(
        s,
        WK,
        node_peer("172.21.0.8", "node-to-node mesh"),
        node_peer("172.21.1.254", "global", "start", "Connect"),
    )
    _drop_route(s, "192.168.181.0/24")


def session_mismatch(s: Evidence) -> None:
    # The switch says Active while the node claims Established: the ends disagree.
    _set_switch_peer(s, "172.21.1.18", state="Active")
    _drop_route(s, "192.168.181.0/24")


def bird_down(s: Evidence) -> None:
    s.nodes[WK] = ObservedNode(host=WK, status=node_status(running=False))
    _set_switch_peer(s, "172.21.1.18", state="Active")
    _drop_route(s, "192.168.181.0/24")
    _set_node_peers(
        s,
        CP,
        node_peer("172.21.0.18", "node-to-node mesh", "start", "Connect"),
        node_peer("172.21.1.254", "global"),
    )


def mesh_broken(s: Evidence) -> None:
    _set_node_peers(s, CP, node_peer("172.21.1.254", "global"))
    _set_node_peers(s, WK, node_peer("172.21.1.254", "global"))


def global_peer_absent(s: Evidence) -> None:
    # The seed before the BGPPeer: only mesh on the nodes, switch Active, peer object missing.
    _set_node_peers(s, CP, node_peer("172.21.0.18", "node-to-node mesh"))
    _set_node_peers(s, WK, node_peer("172.21.0.8", "node-to-node mesh"))
    _set_switch_peer(s, "172.21.1.8", state="Active")
    _set_switch_peer(s, "172.21.1.18", state="Active")
    for p in ("192.16.0.0/12", "192.168.170.0/24", "192.168.181.0/24"):
        _drop_route(s, p)
    assert s.cluster is not None
    s.cluster.bgp_peers = []


def missing_route(s: Evidence) -> None:
    _drop_route(s, "192.168.170.0/24")


def route_wrong_hop(s: Evidence) -> None:
    st = s.switches[SW]
    assert st.routes is not None
    vrf = st.routes.vrfs["default"]
    routes = [
        route("192.168.170.0/24", "172.21.1.18") if r.prefix == "192.168.170.0/24" else r
        for r in vrf.routes
    ]
    st.routes = RouteTable(vrfs={"default": vrf.model_copy(update={"routes": routes})})


def coredns_outside_block(s: Evidence) -> None:
    # The seed before the fix: coredns on kube-worker-001 at 192.168.45.65/66, sent as /32s.
    assert s.cluster is not None and s.cluster.pods is not None
    s.cluster.pods = [p for p in s.cluster.pods if not p.name.startswith("coredns")] + [
        PodInfo("kube-system", "coredns-5dd5756b68-7v6jr", "192.168.45.65", WK),
        PodInfo("kube-system", "coredns-5dd5756b68-rmnk2", "192.168.45.66", WK),
    ]
    _set_switch_peer(s, "172.21.1.18", pfx=4)


def prefix_count_wrong(s: Evidence) -> None:
    _set_switch_peer(s, "172.21.1.8", pfx=3)


def unexpected_switch_neighbor(s: Evidence) -> None:
    st = s.switches[SW]
    assert st.bgp_summary is not None
    vrf = st.bgp_summary.vrfs["default"]
    st.bgp_summary = BgpSummary(
        vrfs={"default": vrf.model_copy(update={"peers": [*vrf.peers, bgp_peer("172.21.1.99")]})}
    )


def unexpected_node_peer(s: Evidence) -> None:
    _set_node_peers(
        s,
        CP,
        node_peer("172.21.0.18", "node-to-node mesh"),
        node_peer("172.21.1.254", "global"),
        node_peer("10.9.9.9", "node specific"),
    )


def calico_drift(s: Evidence) -> None:
    assert s.cluster is not None and s.cluster.bgp_configurations
    s.cluster.bgp_configurations[0]["spec"]["listenPort"] = 179


def calico_extra_peer(s: Evidence) -> None:
    assert s.cluster is not None and s.cluster.bgp_peers is not None
    s.cluster.bgp_peers.append(
        {"metadata": {"name": "rogue"}, "spec": {"peerIP": "172.21.1.253", "asNumber": 65000}}
    )


def node_unreachable(s: Evidence) -> None:
    from fabric.checks.evidence import HostFailure

    del s.nodes[WK]
    s.failures[WK] = HostFailure(WK, "calico_node", "unreachable", "ssh: connection refused")


def cluster_unreachable(s: Evidence) -> None:
    from fabric.checks.evidence import HostFailure

    s.cluster = None
    s.failures[CL] = HostFailure(CL, "cluster", "unreachable", "connection refused")


def intent_warning(s: Evidence) -> None:
    s.issues = [
        Issue(
            "warning",
            "inventory/hosts.yaml",
            CL,
            "data.calico.as_number",
            "AS 65535 is reserved (RFC 7300)",
            "asn-reserved",
        )
    ]


def installation(**changes: Any) -> Callable[[Evidence], None]:
    """The Installation's calicoNetwork changed (bgp) or its one pool's fields changed."""

    def mutate(s: Evidence) -> None:
        assert s.cluster is not None and s.cluster.installations
        network = s.cluster.installations[0]["spec"]["calicoNetwork"]
        if "bgp" in changes:
            network["bgp"] = changes.pop("bgp")
        network["ipPools"][0].update(changes)

    return mutate


def detected(node: str, address: str | None) -> Callable[[Evidence], None]:
    def mutate(s: Evidence) -> None:
        assert s.cluster is not None and s.cluster.calico_nodes is not None
        for n in s.cluster.calico_nodes:
            if n["metadata"]["name"] == node:
                n["spec"] = {"bgp": {"ipv4Address": address}} if address else {}
        s.__dict__.pop("calico_node_addresses", None)

    return mutate


def running_version(version: str) -> Callable[[Evidence], None]:
    def mutate(s: Evidence) -> None:
        assert s.cluster is not None
        s.cluster.cluster_information = [
            {"metadata": {"name": "default"}, "spec": {"calicoVersion": version}}
        ]

    return mutate


CASES: list[tuple[str, Callable[[Evidence], None], dict[str, str]]] = [
    # name, defect, {failing check: a message it must contain}
    (
        "link-down",
        link_down_worker,
        {
            "VerifySwitchBgpNeighbors": "neighbor 172.21.1.18 (kube-worker-001) is Connect",
            "VerifyNodeBgpPeers": "global peer global-peer 172.21.1.254 is start (Connect)",
            "VerifyBgpSessionEnds": "down on both ends: switch Connect, node start (Connect)",
            "VerifySwitchRoutes": "block 192.168.181.0/24 of kube-worker-001 missing",
            "VerifyNodeRedundancy": "reachable through no ToR",
        },
    ),
    (
        "session-mismatch",
        session_mismatch,
        {
            "VerifySwitchBgpNeighbors": "is Active, not Established",
            "VerifyBgpSessionEnds": "mismatch: switch Active, node Established",
            "VerifySwitchRoutes": "block 192.168.181.0/24 of kube-worker-001 missing",
            "VerifyNodeRedundancy": "reachable through no ToR",
        },
    ),
    (
        "bird-down",
        bird_down,
        {
            "VerifySwitchBgpNeighbors": "is Active",
            "VerifyNodeBgpPeers": "Calico process is not running",
            "VerifyBgpSessionEnds": "down on both ends: switch Active, node Calico not running",
            "VerifySwitchRoutes": "missing",
            "VerifyNodeRedundancy": "reachable through no ToR",
        },
    ),
    (
        "mesh-broken",
        mesh_broken,
        {
            "VerifyNodeBgpPeers": "mesh peer kube-worker-001",
        },
    ),
    (
        "before-global-peer",
        global_peer_absent,
        {
            "VerifySwitchBgpNeighbors": "is Active",
            "VerifyNodeBgpPeers": "global peer global-peer 172.21.1.254 absent",
            "VerifyBgpSessionEnds": "down on both ends: switch Active, node absent",
            "VerifySwitchRoutes": "service CIDR 192.16.0.0/12 missing",
            "VerifyNodeRedundancy": "reachable through no ToR",
            "VerifyCalicoObjectDrift": "BGPPeer/global-peer missing",
        },
    ),
    (
        "missing-route",
        missing_route,
        {
            "VerifySwitchRoutes": "block 192.168.170.0/24 of kube-controlplane-001 missing",
            "VerifyNodeRedundancy": "reachable through no ToR",
        },
    ),
    (
        "route-wrong-next-hop",
        route_wrong_hop,
        {
            "VerifySwitchRoutes": "via 172.21.1.18, expected via 172.21.1.8",
        },
    ),
    (
        "coredns-outside-block",
        coredns_outside_block,
        {
            "VerifySwitchRoutes": "pod kube-system/coredns-5dd5756b68-7v6jr on kube-worker-001 has "
            "IP 192.168.45.65, outside its node's blocks (192.168.181.0/24)",
        },
    ),
    (
        "prefix-count",
        prefix_count_wrong,
        {
            "VerifySwitchBgpNeighbors": "sent 3 prefixes, kube-controlplane-001 should advertise 2",
        },
    ),
    (
        "unexpected-switch-neighbor",
        unexpected_switch_neighbor,
        {
            "VerifySwitchBgpNeighbors": "unexpected neighbor 172.21.1.99",
        },
    ),
    (
        "unexpected-node-peer",
        unexpected_node_peer,
        {
            "VerifyNodeBgpPeers": "unexpected peer 10.9.9.9 (node specific, Established)",
        },
    ),
    (
        "calico-drift",
        calico_drift,
        {
            "VerifyCalicoObjectDrift": "BGPConfiguration/default: spec.listenPort: expected '178', "
            "found '179'",
        },
    ),
    (
        "calico-extra-peer",
        calico_extra_peer,
        {
            "VerifyCalicoObjectDrift": "BGPPeer/rogue is in the cluster but not in the intent",
        },
    ),
    (
        "node-unreachable",
        node_unreachable,
        {
            "VerifyNodeBgpPeers": "not judged: unreachable: ssh: connection refused",
            "VerifyBgpSessionEnds": "not judged: unreachable",
        },
    ),
    (
        "cluster-unreachable",
        cluster_unreachable,
        {
            "VerifySwitchBgpNeighbors": "cannot compare prefix counts",
            "VerifySwitchRoutes": "not judged: unreachable: connection refused",
            "VerifyNodeRedundancy": "not judged: unreachable",
            "VerifyCalicoObjectDrift": "not judged: unreachable",
            "VerifyCalicoInstallation": "not judged: unreachable",
            "VerifyNodeAddressDetection": "not judged: unreachable",
            "VerifyCalicoVersion": "not judged: unreachable",
        },
    ),
    (
        "bgp-disabled",
        installation(bgp="Disabled"),
        {"VerifyCalicoInstallation": "BGP is Disabled in the Installation"},
    ),
    (
        "wrong-pool",
        installation(cidr="10.244.0.0/16"),
        {"VerifyCalicoInstallation": "no IP pool for the pod CIDR 192.168.0.0/16"},
    ),
    (
        "pool-block-and-tunnel",
        installation(blockSize=26, encapsulation="VXLAN"),
        {"VerifyCalicoInstallation": "block size /26, intent /24; encapsulation VXLAN"},
    ),
    (
        "wrong-autodetection",
        detected(WK, "10.0.3.18/24"),
        {"VerifyNodeAddressDetection": "detected 10.0.3.18, intent peers from 172.21.1.18"},
    ),
    (
        "no-detection",
        detected(WK, None),
        {"VerifyNodeAddressDetection": "no IPv4 address detected"},
    ),
    (
        "version-lacks-rendered-fields",
        running_version("v3.20.2"),
        {"VerifyCalicoVersion": "BGPConfiguration fields bindMode unknown to 3.20"},
    ),
]


def test_management_address_detection_warns_or_fails_by_input(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    detected(WK, "172.21.0.18/24")(state)  # the write-up's situation: the management address
    warned = REGISTRY["VerifyNodeAddressDetection"]().test(state)
    assert warned.status == Status.WARN
    (finding,) = [f for h in warned.hosts for f in h.findings if f.status == Status.WARN]
    assert "detected the management address 172.21.0.18" in finding.message
    assert finding.fix is not None and "cidrs: [172.21.1.0/24]" in finding.fix
    strict = load_catalog([{"VerifyNodeAddressDetection": {"management_address": "fail"}}])
    assert strict[0].test(state).status == Status.FAIL


def test_a_manifest_install_and_a_matching_version_are_not_findings(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    assert state.cluster is not None
    state.cluster.installations = None
    running_version("v3.28.1")(state)  # no field the intent renders changes between them
    assert REGISTRY["VerifyCalicoInstallation"]().test(state).status == Status.SKIP
    assert REGISTRY["VerifyCalicoVersion"]().test(state).status == Status.WARN


@pytest.mark.parametrize(("name", "defect", "expected"), CASES, ids=[c[0] for c in CASES])
def test_defect_fails_exactly_its_checks(
    seed_intent: Any,
    name: str,
    defect: Callable[[Evidence], None],
    expected: dict[str, str],
) -> None:
    state = healthy_state(seed_intent)
    defect(state)
    verdicts = run_all(state)
    assert failing(verdicts) == set(expected), name
    for check, text in expected.items():
        bad = messages(verdicts[check], Status.FAIL) + messages(verdicts[check], Status.ERROR)
        assert any(text in m for m in bad), (check, bad)


def test_coredns_finding_carries_the_fix(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    coredns_outside_block(state)
    v = REGISTRY["VerifySwitchRoutes"]().test(state)
    fixes = [f.fix for h in v.hosts for f in h.findings if f.status == Status.FAIL]
    assert len(fixes) == 2
    assert fixes[0] is not None
    assert "kubectl delete pod -n kube-system coredns-5dd5756b68-7v6jr" in fixes[0]
    # ... and the prefix count accounts for the two /32s (4 = block + 2 x /32 + service).
    n = REGISTRY["VerifySwitchBgpNeighbors"]().test(state)
    assert n.status == Status.PASS


def test_unreachable_never_passes(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    node_unreachable(state)
    v = REGISTRY["VerifyNodeBgpPeers"]().test(state)
    worker = next(h for h in v.hosts if h.host == WK)
    assert worker.status == Status.ERROR
    assert v.status == Status.ERROR


# --------------------------------------------------------------------------- inputs


def test_ecmp_required_turns_the_warning_into_a_failure(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    [check] = load_catalog([{"VerifySwitchRoutes": {"require_ecmp": True}}])
    v = check.test(state)
    assert v.status == Status.FAIL
    assert "no maximum-paths" in messages(v, Status.FAIL)[0]


def test_maximum_paths_expects_every_node(seed_intent: Any) -> None:
    report = copy.copy(seed_intent)
    intent = seed_intent.intent
    sw = intent.switches[0]
    data = sw.data.model_copy(update={"maximum_paths": 4})
    report.intent = intent.model_copy(update={"switches": [sw.model_copy(update={"data": data})]})
    state = healthy_state(report)
    v = REGISTRY["VerifySwitchRoutes"]().test(state)
    assert v.status == Status.FAIL
    assert "via 1 of 2 nodes (maximum-paths 4, expected 2)" in messages(v, Status.FAIL)[0]
    st = state.switches[SW]
    assert st.routes is not None
    vrf = st.routes.vrfs["default"]
    routes = [
        route(r.prefix, "172.21.1.8", "172.21.1.18") if r.prefix == "192.16.0.0/12" else r
        for r in vrf.routes
    ]
    st.routes = RouteTable(vrfs={"default": vrf.model_copy(update={"routes": routes})})
    assert REGISTRY["VerifySwitchRoutes"]().test(state).status == Status.PASS


def test_unexpected_peers_can_be_warnings(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    unexpected_node_peer(state)
    [check] = load_catalog([{"VerifyNodeBgpPeers": {"fail_on_unexpected": False}}])
    assert check.test(state).status == Status.WARN


def test_mesh_not_expected_when_check_mesh_off(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    mesh_broken(state)
    [check] = load_catalog([{"VerifyNodeBgpPeers": {"check_mesh": False}}])
    assert check.test(state).status == Status.PASS


@pytest.mark.parametrize(
    ("overrides", "default", "status"),
    [
        ({}, "warn", Status.WARN),
        ({"asn-reserved": "ignore"}, "warn", Status.PASS),
        ({"asn-reserved": "fail"}, "warn", Status.FAIL),
        ({}, "fail", Status.FAIL),
    ],
)
def test_intent_lint_severities(
    seed_intent: Any, overrides: dict[str, str], default: str, status: Status
) -> None:
    state = healthy_state(seed_intent)
    intent_warning(state)
    [check] = load_catalog(
        [{"VerifyIntentLint": {"overrides": overrides, "default_severity": default}}]
    )
    v = check.test(state)
    assert v.status == status
    if status != Status.PASS:
        assert messages(v) == [
            "inventory/hosts.yaml: field data.calico.as_number: AS 65535 is reserved "
            "(RFC 7300) [asn-reserved]"
        ]


def test_intent_lint_passes_without_warnings(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    v = REGISTRY["VerifyIntentLint"]().test(state)
    assert v.status == Status.PASS
    assert [h.host for h in v.hosts] == [CL]


# --------------------------------------------------------------------------- catalog


def test_catalog_of_the_run_definition_loads() -> None:
    import yaml

    data = yaml.safe_load((ROOT / "tasks" / "compliance.yaml").read_text())
    checks = load_catalog(data["options"]["checks"], "tasks/compliance.yaml")
    assert [c.name for c in checks] == [
        "VerifyIntentLint",
        "VerifySwitchBgpNeighbors",
        "VerifyNodeBgpPeers",
        "VerifyBgpSessionEnds",
        "VerifySwitchRoutes",
        "VerifyNodeRedundancy",
        "VerifySwitchConfigDrift",
        "VerifyCalicoObjectDrift",
        "VerifyCalicoInstallation",
        "VerifyNodeAddressDetection",
        "VerifyCalicoVersion",
    ]
    assert set(REGISTRY) == {c.name for c in checks}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"VerifyNope": {}}], "field checks.0: unknown check 'VerifyNope'"),
        (
            [{"VerifySwitchRoutes": {"require_ecmpp": True}}],
            "field checks.0.VerifySwitchRoutes.require_ecmpp: unknown input",
        ),
        (
            [{"VerifySwitchRoutes": {"require_ecmp": "maybe"}}],
            "field checks.0.VerifySwitchRoutes.require_ecmp",
        ),
        ({"VerifySwitchRoutes": {}}, "field checks: must be a list"),
        ([{"A": {}, "B": {}}], "field checks.0: must be one"),
    ],
)
def test_catalog_errors_name_the_field(entries: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_catalog(entries, "tasks/compliance.yaml")


def test_every_check_documents_pass_and_fail() -> None:
    for name, cls in REGISTRY.items():
        doc = cls.__doc__ or ""
        assert "Pass:" in doc and "Fail:" in doc, name
        assert cls.Input.model_config.get("extra") == "forbid", name
        assert name.startswith("Verify")


# --------------------------------------------------------------------------- drift helpers


def test_drift_helpers_doctests() -> None:
    result = doctest.testmod(drift_module)
    assert result.attempted >= 3
    assert result.failed == 0


@pytest.mark.parametrize(
    ("expected", "actual", "diff"),
    [
        ({"t": "120s"}, {"t": "2m0s"}, []),
        ({"c": "192.16.0.0/12"}, {"c": "192.16.0.0/12"}, []),
        (
            {"l": [{"name": "a", "v": 1}, {"name": "b", "v": 2}]},
            {"l": [{"name": "b", "v": 2}, {"name": "a", "v": 1}]},
            [],
        ),
        (
            {"l": [{"name": "a", "v": 1}]},
            {"l": [{"name": "a", "v": 3}]},
            ["l[a].v: expected '1', found '3'"],
        ),
        ({"a": 1}, {}, ["a: expected '1', missing"]),
        ({"b": True}, {"b": False}, ["b: expected 'true', found 'false'"]),
        ({"x": None, "y": []}, {}, []),
    ],
)
def test_semantic_diff(expected: Any, actual: Any, diff: list[str]) -> None:
    assert drift_module.semantic_diff(expected, actual) == diff
