"""One fact, one judge: the deploy gate and compliance see a lab fault with the same findings.

A table of lab faults; for each, both paths read the same lab: the gate (its collectors, its
poll order, over the hosts a deploy of everything touches) and ``run compliance`` with the
gate's catalog. Their failing findings, as ``host: message`` lines, must be equal, and not
empty for a fault (the fault is seen) nor for the healthy lab (nothing is invented).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fabric.checks import Status
from fabric.intent import load_intent
from fabric.paths import ProjectPaths
from fabric.runs.connect import open_nornir
from fabric.steps.render import render_switch_config
from fabric.workflows.compliance import ComplianceOptions, run_compliance
from fabric.workflows.gate import GATE_CHECKS, Gate

pytestmark = pytest.mark.lab
ROOT = Path(__file__).resolve().parent.parent
SW, CP, WK = "eos-tor-001", "kube-controlplane-001", "kube-worker-001"
_OK = (Status.PASS, Status.SKIP, Status.WARN)


@pytest.fixture(scope="module")
def paths() -> ProjectPaths:
    return ProjectPaths.discover(root=ROOT)


@pytest.fixture(scope="module")
def deployed(seeded_lab: Any, paths: ProjectPaths) -> Iterator[Any]:
    """The seeded lab with the intent's switch configuration (what a deploy leaves)."""
    intent = load_intent(paths).intent
    assert intent is not None
    running = seeded_lab.switch_running_config(SW)
    head, _, _ = running.partition("router bgp")
    seeded_lab.load_switch_config(
        SW, head + render_switch_config(intent.switch(SW), paths.templates)
    )
    yield seeded_lab
    seeded_lab.clear_faults()


def gate_findings(paths: ProjectPaths) -> set[str]:
    intent = load_intent(paths).intent
    assert intent is not None
    nr, _ = open_nornir(paths, lab=True, workers=8, dry_run=True, insecure=False, ca_file=None)
    try:
        gate = Gate(nr, intent, {s.name for s in intent.switches}, {n.name for n in intent.nodes})
        return set(gate.wait(timeout=0, interval=0.1).problems)
    finally:
        nr.close_connections()


def compliance_findings(paths: ProjectPaths) -> set[str]:
    report = run_compliance(paths, ComplianceOptions(lab=True, workers=8, checks=GATE_CHECKS))
    return {
        f"{h.host}: {f.message}"
        for v in report.verdicts
        for h in v.hosts
        if h.status not in _OK
        for f in h.findings
        if f.status not in _OK
    }


FAULTS: list[tuple[str, list[tuple[str, str, dict[str, Any]]], set[str]]] = [
    ("healthy", [], set()),
    ("switch link down", [(SW, "link-down", {})], {SW, CP, WK}),
    ("node link down", [(WK, "link-down", {})], {SW, WK}),
    ("bird down", [(WK, "bird-down", {})], {SW, CP, WK}),
    # the worker is then reachable through no ToR (VerifyNodeRedundancy)
    ("route withheld", [(WK, "withhold-route", {"prefix": "192.168.181.0/24"})], {SW, WK}),
    ("node unreachable", [(WK, "refuse", {})], {WK}),
]


@pytest.mark.parametrize(("faults", "hosts"), [f[1:] for f in FAULTS], ids=[f[0] for f in FAULTS])
def test_gate_and_compliance_judge_a_fault_alike(
    deployed: Any,
    paths: ProjectPaths,
    faults: list[tuple[str, str, dict[str, Any]]],
    hosts: set[str],
) -> None:
    for host, kind, params in faults:
        deployed.fault(host, kind, **params)
    try:
        gate = gate_findings(paths)
        compliance = compliance_findings(paths)
    finally:
        deployed.clear_faults()
    assert gate == compliance
    assert {line.split(":", 1)[0] for line in gate} == hosts
