"""Clusters as they are found: no Calico API server (crd), no SSH to nodes (exec), the operator.

Against labs in each mode:

* ``crd`` (no ``projectcalico.org/v3``): deploy, drift and rollback through the
  ``crd.projectcalico.org/v1`` custom resources and the core Nodes' Calico annotations; the real
  ``kubectl`` shows what was deployed;
* ``exec`` node access with every node's SSH refused: compliance and the deploy gate read BIRD
  in the calico-node pods, and each node fault is seen;
* the operator's ``Installation`` and ``ClusterInformation``: BGP disabled, a wrong pool, a wrong
  autodetected address and a version mismatch each fail exactly their check.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require_tool

from fabric.checks import Status
from fabric.models.outcome import Outcome
from fabric.paths import ProjectPaths
from fabric.reports.model import ComplianceReport
from fabric.workflows.compliance import ComplianceOptions, run_compliance
from fabric.workflows.deploy import DeployOptions, deploy
from fabric.workflows.rollback import RollbackOptions, rollback

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
SW, CP, WK, CL = "eos-tor-001", "kube-controlplane-001", "kube-worker-001", "k8s-cluster"
ASN_ANNOTATION = "projectcalico.org/ASNumber"
INSTALL_CHECKS: list[Any] = [
    "VerifyCalicoInstallation",
    # the write-up's situation (the management address detected) counts as wrong here
    {"VerifyNodeAddressDetection": {"management_address": "fail"}},
    "VerifyCalicoVersion",
]


@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> ProjectPaths:
    """The seed with a changed log level and kube-worker-001 in its own AS (a Node override)."""
    tmp = tmp_path_factory.mktemp("modes")
    inv = tmp / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts[CL]["data"]["calico"]["log_severity_screen"] = "Debug"
    hosts[WK]["data"]["node"]["as_number"] = 65535  # the cluster's AS, written explicitly
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return dataclasses.replace(ProjectPaths.discover(ROOT, inventory=inv), state=tmp / "state")


@pytest.fixture(scope="module")
def crd_lab(lab_factory: Any, variant: ProjectPaths) -> Any:
    """No Calico API server; calico-node detects each node's peering address (as it should)."""
    return lab_factory(
        inventory=variant.inventory,
        seeded=True,
        calico_api="crd",
        autodetection={"cidrs": ["172.21.1.0/24"]},
    )


def kubectl(lab: Any, *args: str) -> Any:
    require_tool("kubectl")
    ep = next(e for e in lab.endpoints["hosts"].values() if e["kind"] == "cluster")
    out = subprocess.run(
        ["kubectl", "--kubeconfig", ep["kubeconfig"], *args, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def core_node_annotations(lab: Any, name: str) -> dict[str, str]:
    node = next(n for n in lab.cluster_objects("Node", "v1") if n["metadata"]["name"] == name)
    return dict(node["metadata"].get("annotations") or {})


def judge(paths: ProjectPaths, **kw: Any) -> ComplianceReport:
    return run_compliance(paths, ComplianceOptions(lab=True, workers=8, **kw))


def failing(report: ComplianceReport) -> set[str]:
    return {v.check for v in report.verdicts if v.status in (Status.FAIL, Status.ERROR)}


# --------------------------------------------------------------------------- crd


def test_crd_deploy_drift_and_rollback(crd_lab: Any, variant: ProjectPaths) -> None:
    before = kubectl(crd_lab, "get", "bgpconfigurations.crd.projectcalico.org", "default")
    said: list[str] = []
    rep = deploy(
        variant,
        DeployOptions(
            lab=True, commit=True, gate_timeout=20, progress=lambda s, h, m: said.append(m)
        ),
    )
    assert rep.outcome is Outcome.OK, rep.to_json()
    assert "Calico API crd.projectcalico.org/v1 (no Calico API server: custom resources)" in said
    after = kubectl(crd_lab, "get", "bgpconfigurations.crd.projectcalico.org", "default")
    assert after["apiVersion"] == "crd.projectcalico.org/v1"
    assert after["spec"]["logSeverityScreen"] == "Debug"
    assert core_node_annotations(crd_lab, WK)[ASN_ANNOTATION] == "65535"
    drift = judge(variant, checks=["VerifyCalicoObjectDrift"])
    assert drift.verdict("VerifyCalicoObjectDrift").status == Status.PASS, drift.verdicts

    undone = rollback(variant, rep.run_id, RollbackOptions(lab=True, commit=True))
    assert undone.outcome is Outcome.OK, undone.to_json()
    restored = kubectl(crd_lab, "get", "bgpconfigurations.crd.projectcalico.org", "default")
    assert restored["spec"] == before["spec"]
    assert ASN_ANNOTATION not in core_node_annotations(crd_lab, WK)


def test_the_v3_api_is_not_served_in_crd_mode(crd_lab: Any) -> None:
    require_tool("kubectl")
    ep = next(e for e in crd_lab.endpoints["hosts"].values() if e["kind"] == "cluster")
    out = subprocess.run(
        ["kubectl", "--kubeconfig", ep["kubeconfig"], "api-versions"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "crd.projectcalico.org/v1" in out.stdout
    assert "projectcalico.org/v3" not in out.stdout.split()


# --------------------------------------------------------------------------- exec


@pytest.fixture
def ssh_refused(crd_lab: Any) -> Iterator[Any]:
    """Every node's SSH refuses connections: only the Kubernetes API reaches BIRD."""
    for node in (CP, WK):
        crd_lab.fault(node, "refuse")
    yield crd_lab
    crd_lab.clear_faults()


def test_exec_node_access_needs_no_ssh(ssh_refused: Any, variant: ProjectPaths) -> None:
    ssh = judge(variant, checks=["VerifyNodeBgpPeers"])
    assert {p.host for p in ssh.problems} == {CP, WK}  # the control: SSH really is refused
    report = judge(
        variant, checks=["VerifyNodeBgpPeers", "VerifyBgpSessionEnds"], node_access="exec"
    )
    assert report.problems == []
    assert failing(report) == set(), report.verdicts
    rep = deploy(variant, DeployOptions(lab=True, commit=True, node_access="exec", gate_timeout=20))
    assert rep.outcome in (Outcome.OK, Outcome.NO_CHANGE), rep.to_json()


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ("bird-down", "BIRD: Unable to connect to server control socket"),
        ("link-down", "global peer global-peer 172.21.1.254 is start (Connect), not Established"),
    ],
)
def test_exec_sees_each_node_fault(
    ssh_refused: Any, variant: ProjectPaths, fault: str, expected: str
) -> None:
    ssh_refused.fault(WK, fault)
    report = judge(variant, checks=["VerifyNodeBgpPeers"], node_access="exec")
    peers = report.verdict("VerifyNodeBgpPeers")
    bad = {h.host: [f.message for f in h.findings if f.status == Status.FAIL] for h in peers.hosts}
    assert any(expected in m for m in bad[WK]), bad
    assert report.problems == []


# --------------------------------------------------------------------------- the operator


def _patch(lab: Any, api: str, kind: str, name: str, mutate: Any) -> dict[str, Any]:
    obj = next(o for o in lab.cluster_objects(kind, api) if o["metadata"]["name"] == name)
    original = copy.deepcopy(obj)
    mutate(obj)
    lab.put_object(obj)
    return original


def _restore(lab: Any, original: dict[str, Any]) -> None:
    current = next(
        o
        for o in lab.cluster_objects(original["kind"], original["apiVersion"])
        if o["metadata"]["name"] == original["metadata"]["name"]
    )
    lab.put_object(
        {
            **original,
            "metadata": {
                **original["metadata"],
                "resourceVersion": current["metadata"]["resourceVersion"],
            },
        }
    )


def _network(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["calicoNetwork"]  # type: ignore[no-any-return]


OPERATOR_CASES = [
    (
        "bgp-disabled",
        ("operator.tigera.io/v1", "Installation", "default"),
        lambda o: _network(o).update(bgp="Disabled"),
        "VerifyCalicoInstallation",
        "BGP is Disabled",
    ),
    (
        "wrong-pool",
        ("operator.tigera.io/v1", "Installation", "default"),
        lambda o: _network(o)["ipPools"][0].update(cidr="10.244.0.0/16"),
        "VerifyCalicoInstallation",
        "no IP pool for the pod CIDR 192.168.0.0/16",
    ),
    (
        "wrong-autodetection",
        ("operator.tigera.io/v1", "Installation", "default"),
        # the operator's default: the first interface found, the management one on these nodes
        lambda o: _network(o).update(nodeAddressAutodetectionV4={"firstFound": True}),
        "VerifyNodeAddressDetection",
        "Calico detected the management address 172.21.0.18",
    ),
    (
        "version-mismatch",
        ("crd.projectcalico.org/v1", "ClusterInformation", "default"),
        lambda o: o["spec"].update(calicoVersion="v3.20.2"),
        "VerifyCalicoVersion",
        "unknown to 3.20",
    ),
]


@pytest.mark.parametrize(
    ("target", "mutate", "check", "text"),
    [c[1:] for c in OPERATOR_CASES],
    ids=[c[0] for c in OPERATOR_CASES],
)
def test_operator_and_version_defects_fail_exactly_their_check(
    crd_lab: Any, variant: ProjectPaths, target: Any, mutate: Any, check: str, text: str
) -> None:
    healthy = judge(variant, checks=INSTALL_CHECKS)
    assert failing(healthy) == set(), healthy.verdicts
    original = _patch(crd_lab, *target, mutate)
    try:
        report = judge(variant, checks=INSTALL_CHECKS)
    finally:
        _restore(crd_lab, original)
    assert failing(report) == {check}
    messages = [f.message for h in report.verdict(check).hosts for f in h.findings]
    assert any(text in m for m in messages), messages
