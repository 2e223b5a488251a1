"""The deploy's health gate: wait until the hosts a deploy touched pass the gate checks.

The gate judges with the compliance checks themselves (:data:`GATE_CHECKS`: the same classes
with gate inputs), over :class:`~fabric.checks.evidence.Evidence` built by the same collectors,
limited to the hosts it still waits for. One fact, one judge: a lab fault fails the gate and
compliance with the same findings.

The first poll reads every host in scope in one Nornir run, as one compliance collection would.
Later polls read the switches still pending (sessions and routes, one eAPI request each, over
the connection kept since the plan), then the nodes still pending whose switches have passed
(over SSH connections kept across polls). A host that passed is not read again. The cluster
(BlockAffinity, Calico Nodes) is read with the first poll, again only while unreadable.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fabric.checks import load_catalog
from fabric.checks.base import Check, Status
from fabric.checks.evidence import Evidence
from fabric.models.observed import Role
from fabric.runs.collection import collect_into, node_pods_for
from fabric.runs.connect import CountFn, ResultsFn
from fabric.runs.report import ProgressFn
from fabric.steps.collect.outputs import GATE_SWITCH_COMMANDS
from fabric.steps.collect.ssh import ssh_client_loop

if TYPE_CHECKING:
    from nornir.core import Nornir

    from fabric.models.intent import Intent
    from fabric.steps.collect.kexec import CalicoNodePods

#: The gate's catalog: what must hold before a deploy is confirmed. Compliance's checks with
#: gate inputs: prefix counts and pods outside their blocks are compliance's business (a deploy
#: does not move pods), and an unexpected neighbor or peer is a warning, not a reason to undo.
GATE_CHECKS: list[dict[str, Any]] = [
    {"VerifySwitchBgpNeighbors": {"check_prefixes": False, "fail_on_unexpected": False}},
    {"VerifySwitchRoutes": {"check_pods": False}},
    {"VerifyNodeBgpPeers": {"fail_on_unexpected": False}},
    {"VerifyNodeRedundancy": {}},
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
        count: the per-host progress callback.
        calico_api: the Calico API to read the cluster through (``auto``: discovery).
        node_access: ``ssh`` or ``exec`` for every node (None: each node's data, else ssh).
        insecure: do not verify the API server's certificate (exec node access).
        settled: the switches whose configuration is in place (None: all); a rolling
            deploy's batch leaves out later batches, whose sessions are not judged yet.
    """

    nr: Nornir
    intent: Intent
    switches: set[str]
    nodes: set[str]
    progress: ProgressFn | None = None
    on_results: ResultsFn | None = None
    count: CountFn | None = None
    calico_api: str = "auto"
    node_access: str | None = None
    insecure: bool = False
    settled: frozenset[str] | None = None

    def _say(self, msg: str) -> None:
        if self.progress is not None:
            self.progress("gate", None, msg)

    def wait(self, timeout: float, interval: float) -> GateResult:
        """Poll until every host in scope passes, or ``timeout`` seconds have gone."""
        with ssh_client_loop(keep_connections=True):
            return self._wait(timeout, interval)

    def _wait(self, timeout: float, interval: float) -> GateResult:
        evidence = Evidence(intent=self.intent, settled=self.settled)
        tors = {n.name: set(n.tors) for n in self.intent.nodes}
        pending = set(self.switches) | set(self.nodes)
        total = len(pending)
        problems: dict[str, list[str]] = {h: ["not checked yet"] for h in pending}
        pods = node_pods_for(
            self.nr,
            self.intent.cluster.name,
            sorted(self.nodes),
            node_access=self.node_access,
            insecure=self.insecure,
        )
        poll = _Poll(self, evidence, gate_checks(), pending, problems, pods)
        self._say(
            f"waiting for {len(self.switches)} switch(es) and {len(self.nodes)} node(s), "
            f"up to {timeout:.0f}s"
        )
        deadline = time.monotonic() + timeout
        result = GateResult()
        while True:
            result.polls += 1
            switches: dict[str, Role] = {h: "switch" for h in pending & self.switches}
            if result.polls == 1:
                # Most deploys are healthy at the first look: read everything in one run, as
                # one compliance collection would (switches and nodes side by side).
                poll.run({**switches, **{n: "calico_node" for n in pending & self.nodes}})
            else:
                # Still converging: a node is read once its switches are healthy (in this same
                # poll when they just passed); reading 1,000 nodes while their switches
                # converge would only repeat what the switches already say.
                poll.run(switches)
                # (a dual-homed node waits for both ToRs of its pair)
                ready = {n for n in pending & self.nodes if not tors[n] & pending}
                poll.run({n: "calico_node" for n in ready})
            left = deadline - time.monotonic()
            self._say(f"{total - len(pending)}/{total} host(s) healthy, {max(left, 0):.0f}s left")
            if not pending:
                return result
            if left <= 0:
                # the node side of sessions whose switch side failed: read once, for the report
                unread = {h for h in pending & self.nodes if problems[h] == ["not checked yet"]}
                poll.run({n: "calico_node" for n in unread})
                result.problems = [p for h in sorted(pending) for p in problems[h]]
                return result
            time.sleep(min(interval, max(left, 0.05)))
            if self.nr.data.failed_hosts:
                # a switch connection that failed is opened anew at the next poll
                self.nr.close_connections(on_good=False, on_failed=True)


@dataclass
class _Poll:
    """One gate's reads and judgements: collect some hosts, judge them, update what waits."""

    gate: Gate
    evidence: Evidence
    checks: list[Check[Any]]
    pending: set[str]
    problems: dict[str, list[str]]
    pods: CalicoNodePods | None = None

    def run(self, hosts: dict[str, Role]) -> None:
        """Read ``hosts`` (and the cluster, while unread), judge them; drop those that pass."""
        if not hosts:
            return
        ev = self.evidence
        reads = dict(hosts)
        if ev.cluster is None:
            reads[self.gate.intent.cluster.name] = "cluster"
        collect_into(
            ev,
            self.gate.nr,
            reads,
            stage="gate",
            switch_commands=GATE_SWITCH_COMMANDS,
            on_results=self.gate.on_results,
            count=self.gate.count,
            calico_api=self.gate.calico_api,
            node_access=self.gate.node_access,
            node_pods=self.pods,
        )
        ev.scope = frozenset(hosts)
        for host, found in judge_hosts(ev, self.checks).items():
            self.problems[host] = found
            if not found:
                self.pending.discard(host)
