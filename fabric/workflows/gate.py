"""The deploy's health gate: wait until the hosts a deploy touched pass the gate checks.

The gate judges with the compliance checks themselves (:data:`GATE_CHECKS`: the same classes
with gate inputs), over :class:`~fabric.checks.evidence.Evidence` built by the same collectors,
limited to the hosts it still waits for. One fact, one judge: a lab fault fails the gate and
compliance with the same findings.

Each poll reads the switches still pending (sessions and routes, one eAPI request each, over
the connection kept since the plan), then the nodes still pending whose switches have passed
(over SSH connections kept across polls), then judges. A host that passed is not read again.
The cluster (BlockAffinity, Calico Nodes) is read once, again only while unreadable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fabric.checks import load_catalog
from fabric.checks.base import Check, Status
from fabric.checks.evidence import Evidence
from fabric.models.observed import Role
from fabric.runs.collection import collect_into
from fabric.runs.connect import ResultsFn
from fabric.runs.report import ProgressFn
from fabric.steps.collect.outputs import GATE_SWITCH_COMMANDS
from fabric.steps.collect.ssh import ssh_client_loop

if TYPE_CHECKING:
    from nornir.core import Nornir

    from fabric.models.intent import Intent

#: The gate's catalog: what must hold before a deploy is confirmed. Compliance's checks with
#: gate inputs: prefix counts and pods outside their blocks are compliance's business (a deploy
#: does not move pods), and an unexpected neighbor or peer is a warning, not a reason to undo.
GATE_CHECKS: list[dict[str, Any]] = [
    {"VerifySwitchBgpNeighbors": {"check_prefixes": False, "fail_on_unexpected": False}},
    {"VerifySwitchRoutes": {"check_pods": False}},
    {"VerifyNodeBgpPeers": {"fail_on_unexpected": False}},
]

_OK = (Status.PASS, Status.SKIP, Status.WARN)


def gate_checks() -> list[Check[Any]]:
    """The checks of :data:`GATE_CHECKS`, with their inputs."""
    return load_catalog(GATE_CHECKS, "the deploy gate")


@dataclass
class GateResult:
    """What the gate saw: the problems left (empty: healthy) and how many polls it took."""

    problems: list[str] = field(default_factory=list)
    polls: int = 0


def judge_hosts(evidence: Evidence, checks: list[Check[Any]]) -> dict[str, list[str]]:
    """Run ``checks`` on the hosts in ``evidence.scope``: each host's problems (empty: passed).

    A host that could not be collected has its collection failure as its problem.
    """
    problems: dict[str, list[str]] = {h: [] for h in evidence.scope or ()}
    for check in checks:
        for hr in check.test(evidence).hosts:
            if hr.host not in problems or hr.status in _OK:
                continue
            problems[hr.host].extend(
                f"{hr.host}: {f.message}" for f in hr.findings if f.status not in _OK
            )
    for host, failure in evidence.failures.items():
        if host in problems and not problems[host]:
            problems[host].append(f"{host}: {failure.kind}: {failure.message}")
    return problems


@dataclass
class Gate:
    """One deploy's gate over the hosts it touched.

    Args:
        nr: the deploy's Nornir (its switch connections are reused).
        intent: the deployed intent.
        switches: the switches in scope.
        nodes: the nodes in scope.
        progress: the deploy's progress callback.
        on_results: the per-phase Nornir results callback.
    """

    nr: Nornir
    intent: Intent
    switches: set[str]
    nodes: set[str]
    progress: ProgressFn | None = None
    on_results: ResultsFn | None = None

    def _say(self, msg: str) -> None:
        if self.progress is not None:
            self.progress("gate", None, msg)

    def wait(self, timeout: float, interval: float) -> GateResult:
        """Poll until every host in scope passes, or ``timeout`` seconds have gone."""
        with ssh_client_loop(keep_connections=True):
            return self._wait(timeout, interval)

    def _wait(self, timeout: float, interval: float) -> GateResult:
        checks = gate_checks()
        evidence = Evidence(intent=self.intent)
        cluster = self.intent.cluster.name
        tors = {n.name: {n.tor} for n in self.intent.nodes}
        pending = set(self.switches) | set(self.nodes)
        total = len(pending)
        problems: dict[str, list[str]] = {h: ["not checked yet"] for h in pending}
        self._say(
            f"waiting for {len(self.switches)} switch(es) and {len(self.nodes)} node(s), "
            f"up to {timeout:.0f}s"
        )
        deadline = time.monotonic() + timeout
        result = GateResult()
        while True:
            result.polls += 1
            hosts: dict[str, Role] = {}
            if evidence.cluster is None:
                hosts[cluster] = "cluster"
            hosts.update({h: "switch" for h in pending & self.switches})
            # A node is read once its switches are healthy: reading 1,000 nodes while their
            # switches still converge would only repeat what the switches already say.
            ready = {n for n in pending & self.nodes if not tors[n] & pending}
            self._collect(evidence, hosts, ready)
            evidence.scope = frozenset(pending)
            judged = judge_hosts(evidence, checks)
            for host in set(hosts) | ready:
                if host in judged:
                    problems[host] = judged[host]
                    if not judged[host]:
                        pending.discard(host)
            left = deadline - time.monotonic()
            self._say(f"{total - len(pending)}/{total} host(s) healthy, {max(left, 0):.0f}s left")
            if not pending:
                return result
            if left <= 0:
                # the node side of sessions whose switch side failed: read once, for the report
                unread = {h for h in pending & self.nodes if problems[h] == ["not checked yet"]}
                if unread:
                    self._collect(evidence, {}, unread)
                    evidence.scope = frozenset(unread)
                    problems.update(judge_hosts(evidence, checks))
                result.problems = [p for h in sorted(pending) for p in problems[h]]
                return result
            time.sleep(min(interval, max(left, 0.05)))
            # a switch connection that failed is opened anew at the next poll
            self.nr.close_connections(on_good=False, on_failed=True)

    def _collect(self, evidence: Evidence, hosts: dict[str, Role], nodes: set[str]) -> None:
        hosts = {**hosts, **{n: "calico_node" for n in nodes}}
        collect_into(
            evidence,
            self.nr,
            hosts,
            stage="gate",
            switch_commands=GATE_SWITCH_COMMANDS,
            on_results=self.on_results,
        )
