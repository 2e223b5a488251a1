"""The deploy gate judges with the compliance checks (gate inputs), host by host.

The same seed evidence and defects as ``test_checks.py``: the gate passes the healthy seed and
names, for each defect, the hosts it must keep waiting for and why.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_checks import (
    CP,
    SW,
    WK,
    bird_down,
    healthy_state,
    link_down_worker,
    mesh_broken,
    seed_intent,
    session_mismatch,
)

from fabric.checks import REGISTRY
from fabric.checks.evidence import Evidence, HostFailure
from fabric.workflows.gate import GATE_CHECKS, gate_checks, judge_hosts

__all__ = ["seed_intent"]  # the fixture, shared with test_checks


def judge(state: Evidence, scope: set[str]) -> dict[str, list[str]]:
    state.scope = frozenset(scope)
    return judge_hosts(state, gate_checks())


def test_gate_catalog_names_registered_checks_with_their_inputs() -> None:
    names = [next(iter(e)) for e in GATE_CHECKS]
    assert names == [c.name for c in gate_checks()]
    assert all(n in REGISTRY for n in names)
    # gate inputs, not compliance defaults
    assert {c.name: c.inputs.model_dump() for c in gate_checks()} == {
        n: {**REGISTRY[n].Input().model_dump(), **e[n]} for e in GATE_CHECKS for n in e
    }


def test_healthy_seed_passes_the_gate(seed_intent: Any) -> None:
    # The seed's coredns pods outside their blocks and its single-path service CIDR are
    # compliance findings, not reasons to undo a deploy: the gate passes.
    assert judge(healthy_state(seed_intent), {SW, CP, WK}) == {SW: [], CP: [], WK: []}


#: VerifyNodeRedundancy: the worker's one ToR no longer routes its block.
LOST = "kube-worker-001: reachable through no ToR: none of eos-tor-001 routes its blocks"


@pytest.mark.parametrize(
    ("defect", "expected"),
    [
        (
            link_down_worker,
            {
                SW: [
                    "eos-tor-001: neighbor 172.21.1.18 (kube-worker-001) is Connect, "
                    "not Established",
                    "eos-tor-001: block 192.168.181.0/24 of kube-worker-001 missing",
                ],
                CP: [],
                WK: [
                    "kube-worker-001: global peer global-peer 172.21.1.254 is start (Connect), "
                    "not Established",
                    LOST,
                ],
            },
        ),
        (
            session_mismatch,
            {
                SW: [
                    "eos-tor-001: neighbor 172.21.1.18 (kube-worker-001) is Active, "
                    "not Established",
                    "eos-tor-001: block 192.168.181.0/24 of kube-worker-001 missing",
                ],
                CP: [],
                WK: [LOST],
            },
        ),
        (
            bird_down,
            {
                SW: [
                    "eos-tor-001: neighbor 172.21.1.18 (kube-worker-001) is Active, "
                    "not Established",
                    "eos-tor-001: block 192.168.181.0/24 of kube-worker-001 missing",
                ],
                CP: [
                    "kube-controlplane-001: mesh peer kube-worker-001 172.21.0.18 is start "
                    "(Connect), not Established"
                ],
                WK: [
                    "kube-worker-001: Calico process is not running",
                    LOST,
                ],
            },
        ),
        (
            mesh_broken,
            {
                SW: [],
                CP: ["kube-controlplane-001: mesh peer kube-worker-001 172.21.0.18 absent"],
                WK: ["kube-worker-001: mesh peer kube-controlplane-001 172.21.0.8 absent"],
            },
        ),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_each_defect_keeps_the_gate_waiting_for_the_right_hosts(
    seed_intent: Any, defect: Any, expected: dict[str, list[str]]
) -> None:
    state = healthy_state(seed_intent)
    defect(state)
    assert judge(state, {SW, CP, WK}) == expected


def test_only_hosts_in_scope_are_judged(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    link_down_worker(state)
    assert judge(state, {CP}) == {CP: []}
    assert set(judge(state, {WK})) == {WK}


def test_a_host_that_could_not_be_read_waits_with_its_failure(seed_intent: Any) -> None:
    state = healthy_state(seed_intent)
    del state.nodes[WK]
    state.failures[WK] = HostFailure(WK, "calico_node", "unreachable", "ssh: connection refused")
    problems = judge(state, {WK})
    assert problems[WK] and all(p.startswith("kube-worker-001: ") for p in problems[WK])
    assert any("connection refused" in p for p in problems[WK])
