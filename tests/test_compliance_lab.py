"""Online compliance on the lab: the intended state passes; each fault fails exactly its checks.

One seeded lab for the module. It is first brought to the intended state (the switch's
``router bgp`` as the intent renders it; the coredns pods recreated inside their blocks, the
seed's fix), then each fault is applied, judged, and undone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fabric.checks import Status
from fabric.paths import ProjectPaths
from fabric.reports.model import ComplianceReport
from fabric.steps.render import render_switch_config
from fabric.workflows.compliance import ComplianceOptions, run_compliance

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
SW, CP, WK, CL = "eos-tor-001", "kube-controlplane-001", "kube-worker-001", "k8s-cluster"
CALICO = "projectcalico.org/v3"


def _router_bgp(text: str) -> str:
    m = re.search(r"^router bgp .*?(?=^\S)", text, re.S | re.M)
    assert m is not None
    return m.group(0)


@pytest.fixture(scope="module")
def paths() -> ProjectPaths:
    return ProjectPaths.discover(root=ROOT)


@pytest.fixture(scope="module")
def intended_lab(seeded_lab: Any, paths: ProjectPaths) -> Iterator[Any]:
    """The seeded lab brought to the intent (what a deploy plus the coredns fix would leave)."""
    from fabric.intent import load_intent

    intent = load_intent(paths).intent
    assert intent is not None
    rendered = render_switch_config(intent.switch(SW), paths.templates)
    running = seeded_lab.switch_running_config(SW)
    seeded_lab.load_switch_config(SW, running.replace(_router_bgp(running), _router_bgp(rendered)))
    for pod in seeded_lab.cluster_objects("Pod"):
        if pod["metadata"]["name"].startswith("coredns-") and pod["status"].get(
            "podIP", ""
        ).startswith("192.168.45."):
            seeded_lab.delete_object("Pod", pod["metadata"]["name"], "kube-system")
    yield seeded_lab
    seeded_lab.clear_faults()


def judge(paths: ProjectPaths, **kw: Any) -> ComplianceReport:
    return run_compliance(paths, ComplianceOptions(lab=True, workers=8, **kw))


def failing(report: ComplianceReport) -> set[str]:
    return {v.check for v in report.verdicts if v.status in (Status.FAIL, Status.ERROR)}


def test_intended_state_passes_everything(intended_lab: Any, paths: ProjectPaths) -> None:
    report = judge(paths)
    assert report.problems == []
    assert failing(report) == set(), report.to_json_dict()
    assert int(report.exit_code) == 0
    # The seed's known weaknesses stay visible as warnings, not failures.
    assert report.verdict("VerifySwitchRoutes").status == Status.WARN
    assert report.verdict("VerifyIntentLint").status == Status.WARN
    sessions = {(s.switch, s.node): s for s in report.topology.sessions}
    assert sessions[(SW, WK)].switch_state == "Estab"
    assert sessions[(SW, WK)].node_state == "Established"


def _set_mesh_off(lab: Any) -> Callable[[], None]:
    [cfg] = lab.cluster_objects("BGPConfiguration")
    orig = json.loads(json.dumps(cfg))
    cfg["spec"]["nodeToNodeMeshEnabled"] = False
    lab.put_object(cfg)
    return lambda: lab.put_object(orig)


def _calico_drift(lab: Any) -> Callable[[], None]:
    [cfg] = lab.cluster_objects("BGPConfiguration")
    orig = json.loads(json.dumps(cfg))
    cfg["spec"]["logSeverityScreen"] = "Debug"
    lab.put_object(cfg)
    return lambda: lab.put_object(orig)


def _switch_drift(lab: Any) -> Callable[[], None]:
    orig = lab.switch_running_config(SW)
    lab.load_switch_config(
        SW,
        orig.replace(
            "neighbor 172.21.1.18 description kube-worker-001",
            "neighbor 172.21.1.18 description rack-9-old-name",
        ),
    )
    return lambda: lab.load_switch_config(SW, orig)


def _stray_pod(lab: Any) -> Callable[[], None]:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "stray", "namespace": "default"},
        "spec": {"nodeName": WK, "containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running", "podIP": "192.168.45.70"},
    }
    lab.put_object(pod)
    return lambda: lab.delete_object("Pod", "stray", "default")


def _fault(host: str, kind: str) -> Callable[[Any], Callable[[], None]]:
    def apply(lab: Any) -> Callable[[], None]:
        lab.fault(host, kind)
        return lambda: lab.clear_faults(host)

    return apply


SESSION_CHECKS = {
    "VerifySwitchBgpNeighbors",
    "VerifyNodeBgpPeers",
    "VerifyBgpSessionEnds",
    "VerifySwitchRoutes",
    "VerifyNodeRedundancy",  # the worker is reachable through no ToR
}
CASES: list[tuple[str, Callable[[Any], Callable[[], None]], set[str], str]] = [
    # name, fault, the checks that must fail (and no others), a message one of them names
    (
        "link-down",
        _fault(WK, "link-down"),
        SESSION_CHECKS,
        "block 192.168.181.0/24 of kube-worker-001 missing",
    ),
    ("bird-down", _fault(WK, "bird-down"), SESSION_CHECKS, "Calico process is not running"),
    (
        "mesh-broken",
        _set_mesh_off,
        {"VerifyNodeBgpPeers", "VerifyCalicoObjectDrift"},
        "spec.nodeToNodeMeshEnabled: expected 'true', found 'false'",
    ),
    (
        "switch-config-drift",
        _switch_drift,
        {"VerifySwitchConfigDrift"},
        "router bgp: neighbors[172.21.1.18].description: expected 'kube-worker-001', "
        "found 'rack-9-old-name'",
    ),
    (
        "calico-object-drift",
        _calico_drift,
        {"VerifyCalicoObjectDrift"},
        "BGPConfiguration/default: spec.logSeverityScreen: expected 'Info', found 'Debug'",
    ),
    (
        "pod-outside-block",
        _stray_pod,
        {"VerifySwitchRoutes"},
        "pod default/stray on kube-worker-001 has IP 192.168.45.70, outside its node's blocks",
    ),
]


@pytest.mark.parametrize(("name", "fault", "expected", "text"), CASES, ids=[c[0] for c in CASES])
def test_fault_fails_exactly_its_checks(
    intended_lab: Any,
    paths: ProjectPaths,
    name: str,
    fault: Callable[[Any], Callable[[], None]],
    expected: set[str],
    text: str,
) -> None:
    undo = fault(intended_lab)
    try:
        report = judge(paths)
    finally:
        undo()
    assert report.problems == []
    assert failing(report) == expected, name
    assert int(report.exit_code) == 4
    found = [
        f.message
        for v in report.verdicts
        if v.check in expected
        for h in v.hosts
        for f in h.findings
    ]
    assert any(text in m for m in found), found
    # Undone: the next judgement is clean again (the lab is shared by the module).
    assert failing(judge(paths)) == set()


def test_unreachable_node_is_never_a_pass(intended_lab: Any, paths: ProjectPaths) -> None:
    intended_lab.fault(WK, "refuse")
    try:
        report = judge(paths)
    finally:
        intended_lab.clear_faults(WK)
    assert [p.host for p in report.problems] == [WK]
    assert report.problems[0].kind == "unreachable"
    assert int(report.exit_code) == 5
    peers = report.verdict("VerifyNodeBgpPeers")
    assert {h.host: h.status for h in peers.hosts}[WK] == Status.ERROR
    assert report.verdict("VerifyBgpSessionEnds").status == Status.ERROR


def test_save_raw_then_offline_gives_the_same_verdicts(
    intended_lab: Any, paths: ProjectPaths, tmp_path: Path
) -> None:
    raw = tmp_path / "raw"
    online = judge(paths, save_raw=raw)
    files = sorted(str(p.relative_to(raw)) for p in raw.rglob("*") if p.is_file())
    assert files == [
        f"{SW}/show_ip_bgp_summary.txt",
        f"{SW}/show_ip_route.txt",
        f"{SW}/show_running-config.txt",
        f"{CL}/bgpconfigurations.json",
        f"{CL}/bgpfilters.json",
        f"{CL}/bgppeers.json",
        f"{CL}/blockaffinities.json",
        f"{CL}/calico_nodes.json",
        f"{CL}/clusterinformations.json",
        f"{CL}/installations.json",
        f"{CL}/ippools.json",
        f"{CL}/nodes.json",
        f"{CL}/pods.json",
        f"{CL}/services.json",
        f"{CP}/calicoctl_node_status.txt",
        f"{WK}/calicoctl_node_status.txt",
    ]
    # Only what compliance reads is kept from pods: no spec.containers, no env.
    pods = json.loads((raw / CL / "pods.json").read_text())
    assert pods and set(pods[0]["spec"]) == {"nodeName", "hostNetwork"}
    # The lab's passwords never land in the saved outputs.
    secret = intended_lab.endpoints["hosts"][SW]["password"]
    assert all(secret not in (raw / f).read_text() for f in files)
    offline = run_compliance(paths, ComplianceOptions(from_dir=raw))
    assert offline.mode == "offline"
    assert [(v.check, v.status) for v in offline.verdicts] == [
        (v.check, v.status) for v in online.verdicts
    ]


def test_withheld_route_fails_exactly_routes_and_prefix_counts(
    intended_lab: Any, paths: ProjectPaths
) -> None:
    """A node stops advertising its block while every session stays Established."""
    block = "192.168.181.0/24"
    before = {p.neighbor: p for p in intended_lab.switch_bgp_view(SW).peers}
    intended_lab.fault(WK, "withhold-route", prefix=block)
    try:
        view = intended_lab.switch_bgp_view(SW)
        report = judge(paths)
    finally:
        intended_lab.clear_faults(WK)
    peers = {p.neighbor: p for p in view.peers}
    assert {n: p.state for n, p in peers.items()} == {n: "Established" for n in before}
    wk_ip = "172.21.1.18"
    assert peers[wk_ip].prefixes_received == before[wk_ip].prefixes_received - 1
    assert block not in {str(r.prefix) for r in view.routes}
    assert report.problems == []
    # the worker's one ToR no longer routes its block: VerifyNodeRedundancy says so too
    assert failing(report) == {
        "VerifySwitchRoutes",
        "VerifySwitchBgpNeighbors",
        "VerifyNodeRedundancy",
    }
    assert int(report.exit_code) == 4
    found = {
        v.check: [f.message for h in v.hosts for f in h.findings]
        for v in report.verdicts
        if v.check in ("VerifySwitchRoutes", "VerifySwitchBgpNeighbors")
    }
    assert any(
        f"block {block} of kube-worker-001 missing" in m for m in found["VerifySwitchRoutes"]
    )
    assert (
        f"neighbor {wk_ip} (kube-worker-001) sent 1 prefixes, kube-worker-001 should advertise 2"
        in " ".join(found["VerifySwitchBgpNeighbors"])
    ), found
    assert failing(judge(paths)) == set()
