"""Offline compliance on the seed's saved outputs (examples/seed): library and CLI."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fabric.checks import Status
from fabric.cli import cli
from fabric.errors import UsageError
from fabric.paths import ProjectPaths
from fabric.reports.model import ComplianceReport
from fabric.workflows.compliance import ComplianceOptions, run_compliance

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed"
CP, WK, SW, CL = "kube-controlplane-001", "kube-worker-001", "eos-tor-001", "k8s-cluster"


@pytest.fixture(scope="module")
def paths() -> ProjectPaths:
    return ProjectPaths.discover(root=ROOT)


@pytest.fixture(scope="module")
def reports(paths: ProjectPaths) -> dict[str, ComplianceReport]:
    return {
        sc: run_compliance(paths, ComplianceOptions(from_dir=SEED / sc))
        for sc in ("before-global-peer", "after-global-peer", "after-coredns-fix")
    }


def fails(report: ComplianceReport, check: str) -> list[tuple[str, str]]:
    v = report.verdict(check)
    return [(h.host, f.message) for h in v.hosts for f in h.findings if f.status == Status.FAIL]


def test_every_host_is_read_offline(reports: dict[str, ComplianceReport]) -> None:
    for name, r in reports.items():
        assert r.mode == "offline", name
        assert r.problems == [], name
        assert {s.name for s in r.topology.switches} == {SW}
        assert {n.name for n in r.topology.nodes} == {CP, WK}


def test_before_the_global_peer_fails_the_node_peer_check(
    reports: dict[str, ComplianceReport],
) -> None:
    r = reports["before-global-peer"]
    assert r.verdict("VerifyNodeBgpPeers").status == Status.FAIL
    assert fails(r, "VerifyNodeBgpPeers") == [
        (CP, "global peer global-peer 172.21.1.254 absent"),
        (WK, "global peer global-peer 172.21.1.254 absent"),
    ]
    # The mesh itself is fine (verbatim outputs: each node sees the other's management IP).
    v = r.verdict("VerifyNodeBgpPeers")
    passes = [f.message for h in v.hosts for f in h.findings if f.status == Status.PASS]
    assert passes == [
        "mesh peer kube-worker-001 172.21.0.18 Established",
        "mesh peer kube-controlplane-001 172.21.0.8 Established",
    ]
    assert fails(r, "VerifyCalicoObjectDrift") == [(CL, "BGPPeer/global-peer missing")]
    assert int(r.exit_code) == 4


def test_after_the_global_peer_passes_the_node_peer_check(
    reports: dict[str, ComplianceReport],
) -> None:
    r = reports["after-global-peer"]
    assert r.verdict("VerifyNodeBgpPeers").status == Status.PASS
    assert r.verdict("VerifyBgpSessionEnds").status == Status.PASS
    assert r.verdict("VerifyCalicoObjectDrift").status == Status.PASS
    sessions = sorted((s.node, s.switch_state, s.node_state) for s in r.topology.sessions)
    assert sessions == [(CP, "Estab", "Established"), (WK, "Estab", "Established")]


def test_pre_fix_pods_flag_the_coredns_pods(reports: dict[str, ComplianceReport]) -> None:
    r = reports["after-global-peer"]
    v = r.verdict("VerifySwitchRoutes")
    flagged = [f for h in v.hosts for f in h.findings if f.subject and f.subject.startswith("pod")]
    assert [f.subject for f in flagged] == [
        "pod kube-system/coredns-5dd5756b68-7v6jr",
        "pod kube-system/coredns-5dd5756b68-rmnk2",
    ]
    assert "IP 192.168.45.65, outside its node's blocks (192.168.181.0/24)" in flagged[0].message
    assert all(f.fix and f.fix.startswith("recreate the pod") for f in flagged)
    # After the fix nothing is outside its block; the one-path service CIDR remains a warning.
    after = reports["after-coredns-fix"].verdict("VerifySwitchRoutes")
    assert after.status == Status.WARN
    assert [f.message for h in after.hosts for f in h.findings if f.status != Status.PASS] == [
        "service CIDR 192.16.0.0/12 via 172.21.1.8 only, of 2 advertising nodes: no maximum-paths"
    ]


def test_seed_findings_the_write_up_does_not_mention(reports: dict[str, ComplianceReport]) -> None:
    r = reports["after-coredns-fix"]
    # The write-up's 3 prefixes per node cannot follow from its own blocks and pods.
    assert fails(r, "VerifySwitchBgpNeighbors") == [
        (
            SW,
            "neighbor 172.21.1.8 (kube-controlplane-001) sent 3 prefixes, kube-controlplane-001 "
            "should advertise 2: 192.16.0.0/12, 192.168.170.0/24",
        ),
        (
            SW,
            "neighbor 172.21.1.18 (kube-worker-001) sent 3 prefixes, kube-worker-001 should "
            "advertise 2: 192.16.0.0/12, 192.168.181.0/24",
        ),
    ]
    # Its switch excerpt has no router-id and no descriptions, which the intent renders.
    assert sorted(m for _, m in fails(r, "VerifySwitchConfigDrift")) == [
        "router bgp: neighbors[172.21.1.18].description: expected 'kube-worker-001', missing",
        "router bgp: neighbors[172.21.1.8].description: expected 'kube-controlplane-001', missing",
        "router bgp: router_id: expected '1.1.1.1', missing",
    ]


# --------------------------------------------------------------------------- damaged folders


def test_missing_host_folder_is_unreachable_never_a_pass(
    paths: ProjectPaths, tmp_path: Path
) -> None:
    d = tmp_path / "seed"
    shutil.copytree(SEED / "after-coredns-fix", d)
    shutil.rmtree(d / WK)
    r = run_compliance(paths, ComplianceOptions(from_dir=d))
    assert [(p.host, p.kind) for p in r.problems] == [(WK, "unreachable")]
    assert int(r.exit_code) == 5
    v = r.verdict("VerifyNodeBgpPeers")
    assert {h.host: h.status for h in v.hosts}[WK] == Status.ERROR


def test_unparsable_output_is_exit_5(paths: ProjectPaths, tmp_path: Path) -> None:
    d = tmp_path / "seed"
    shutil.copytree(SEED / "after-coredns-fix", d)
    (d / SW / "show_ip_bgp_summary.txt").write_text("% Invalid input (privileged mode required)\n")
    r = run_compliance(paths, ComplianceOptions(from_dir=d))
    assert [(p.host, p.kind) for p in r.problems] == [(SW, "unparsable")]
    assert "show ip bgp summary" in r.problems[0].message
    assert int(r.exit_code) == 5
    assert r.verdict("VerifySwitchBgpNeighbors").status == Status.ERROR


# --------------------------------------------------------------------------- CLI


def test_cli_exit_codes_and_outputs(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "reports"
    res = runner.invoke(
        cli,
        [
            "run",
            "compliance",
            "--from",
            str(SEED / "before-global-peer"),
            "--output",
            "json",
            "--report-dir",
            str(out),
        ],
    )
    assert isinstance(res.exception, Exception)
    assert getattr(res.exception, "exit_code", None) == 4
    data = json.loads(res.stdout)
    assert data["exit_code"] == 4 and data["status"] == "fail"
    assert sorted(p.name for p in out.iterdir()) == [
        "compliance.html",
        "compliance.json",
        "compliance.junit.xml",
        "compliance.txt",
    ]
    res = runner.invoke(
        cli,
        [
            "run",
            "compliance",
            "--from",
            str(SEED / "after-global-peer"),
            "--hide-passes",
            "--group-by",
            "check",
        ],
    )
    assert "coredns-5dd5756b68-7v6jr" in res.stdout
    assert "Established" not in res.stdout  # passes hidden


def test_cli_process_exit_code_all_pass(tmp_path: Path) -> None:
    """A real process: exit 0 when every check passes (warnings allowed)."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("checks:\n  - VerifyNodeBgpPeers: {}\n  - VerifyBgpSessionEnds: {}\n")
    cmd = [
        sys.executable,
        "-m",
        "fabric",
        "run",
        "compliance",
        "--catalog",
        str(catalog),
        "--from",
        str(SEED / "after-global-peer"),
        "--output",
        "junit",
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("<testcase ") == 4  # 2 checks x 2 nodes
    before = subprocess.run(
        [*cmd[:-4], "--from", str(SEED / "before-global-peer")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert before.returncode == 4
    assert "compliance failed: VerifyNodeBgpPeers, VerifyBgpSessionEnds" in before.stderr


def test_cli_refuses_from_with_lab() -> None:
    res = CliRunner().invoke(cli, ["run", "compliance", "--from", str(SEED), "--lab"])
    assert "cannot be combined" in str(res.exception)


def test_cli_catalog_with_invalid_yaml_is_a_usage_error_naming_the_file(tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("checks: [VerifyNodeBgpPeers\n")
    res = CliRunner().invoke(
        cli, ["run", "compliance", "--catalog", str(catalog), "--from", str(SEED)]
    )
    assert isinstance(res.exception, UsageError), res.exception
    assert f"{catalog}: invalid YAML" in str(res.exception)
