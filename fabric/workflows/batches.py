"""Rolling deploys: the switches in batches, each committed, gated and confirmed in turn.

``run deploy --batch-size N`` cuts the switches of a deploy into batches of at most N
(:func:`plan_batches`) such that the two ToRs of a pair (the switches of one rack, and any two
switches one node peers with) are never in the same batch: while a batch is changed, every
dual-homed node keeps the sessions of its other ToR. Each batch goes through the deploy's own
phases (:class:`Rollout` drives them): commit with the commit-confirm timer, the Calico changes
with the first batch (the peers every node needs), the health gate on the batch's switches and
their nodes (the switches of later batches are not judged yet), then the confirm. A batch that
fails is rolled back and the run stops; earlier batches stay confirmed, later batches are never
committed (their planned sessions are aborted). ``run rollback --run ID`` restores every host
the run changed, whichever batch it was in.

Without a batch size a deploy is one batch: the sequence is the deploy's usual one.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from fabric.errors import UsageError
from fabric.models.outcome import Outcome

if TYPE_CHECKING:
    from fabric.models.intent import Intent
    from fabric.runs.report import RunReport
    from fabric.steps.calico import CalicoChange


#: Test hook: ``FABRIC_DEPLOY_KILL_AT=after-commit|before-confirm`` SIGKILLs the deploy there.
KILL_ENV = "FABRIC_DEPLOY_KILL_AT"


def _kill_hook(point: str) -> None:
    if os.environ.get(KILL_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _conflicts(intent: Intent, names: Collection[str]) -> dict[str, set[str]]:
    """Switch -> the switches it must not share a batch with (its rack, its nodes' ToRs)."""
    out: dict[str, set[str]] = {n: set() for n in names}
    racks: dict[str, list[str]] = {}
    for s in intent.switches:
        if s.name in out and s.data.rack is not None:
            racks.setdefault(s.data.rack, []).append(s.name)
    groups: list[list[str]] = list(racks.values())
    groups += [[t for t in n.tors if t in out] for n in intent.nodes if len(n.tors) > 1]
    for group in groups:
        for a in group:
            out[a] |= set(group) - {a}
    return out


def plan_batches(intent: Intent, names: Sequence[str], size: int) -> list[list[str]]:
    """Cut ``names`` into batches of at most ``size``; no two switches of a pair together.

    Switches are taken in inventory order and each goes into the first batch that has room and
    none of its pair, so the first ToR of every pair lands in the first batches and the
    second ToR in later ones.

    Raises:
        UsageError: ``size`` is below 1.
    """
    if size < 1:
        raise UsageError("--batch-size must be at least 1")
    order = {s.name: i for i, s in enumerate(intent.switches)}
    conflicts = _conflicts(intent, names)
    batches: list[list[str]] = []
    for name in sorted(names, key=lambda n: order.get(n, len(order))):
        for batch in batches:
            if len(batch) < size and not conflicts[name] & set(batch):
                batch.append(name)
                break
        else:
            batches.append([name])
    return batches


class DeployPhases(Protocol):
    """The phases of one deploy a rollout drives (``fabric.workflows.deploy``'s run)."""

    @property
    def report(self) -> RunReport:
        """The run's report (rows get their batch)."""

    def say(self, stage: str, host: str | None, msg: str) -> None:
        """Report progress."""

    def commit_switches(self, names: list[str]) -> bool:
        """Commit the planned sessions of ``names`` (commit-confirm)."""

    def apply_calico(self, changes: list[CalicoChange]) -> bool:
        """Apply the Calico changes."""

    def gate(
        self, switches: set[str], nodes: set[str], settled: frozenset[str] | None
    ) -> list[str]:
        """Wait for the hosts to be healthy; the problems left."""

    def confirm(self, names: list[str]) -> bool:
        """Confirm the commits of ``names``."""

    def abort_open_sessions(self, names: Collection[str] | None = None) -> None:
        """Abort planned, uncommitted sessions."""

    def undo(self, reason: str, switches: Collection[str] | None = None) -> RunReport:
        """Roll back the hosts changed in this run (or these switches, and Calico if applied)."""

    def finish(self, outcome: Outcome, error: str | None = None) -> RunReport:
        """End the run."""


@dataclass
class Rollout:
    """Commit, gate and confirm the batches of one deploy in turn.

    Args:
        run: the deploy's phases.
        intent: the deployed intent.
        batches: every switch of the deploy, in batches (one batch: no rolling).
        changed: the switches with a planned change.
        calico: the Calico changes (applied with the first batch).
        nodes: the nodes in the deploy's scope.
    """

    run: DeployPhases
    intent: Intent
    batches: list[list[str]]
    changed: set[str]
    calico: list[CalicoChange]
    nodes: set[str]
    confirmed: list[int] = field(default_factory=list)

    def execute(self) -> RunReport:
        """Every batch in turn; the first failure rolls its batch back and stops the run."""
        total = len(self.batches)
        for k, batch in enumerate(self.batches):
            names = [n for n in batch if n in self.changed]
            if total > 1:
                self.run.say("batch", None, f"batch {k + 1}/{total}: {', '.join(batch)}")
                for name in batch:
                    self.run.report.row(name, "switch").batch = k + 1
            problem = self._batch(k, batch, names)
            if problem is not None:
                return self._stop(k, problem)
            self.confirmed.append(k + 1)
        return self.run.finish(Outcome.OK)

    def _batch(self, k: int, batch: list[str], names: list[str]) -> str | None:
        """Commit, (Calico,) gate and confirm one batch; the reason it failed, if it did."""
        if not self.run.commit_switches(names):
            return "commit failed"
        if k == 0:
            _kill_hook("after-commit")
        if k == 0 and not self.run.apply_calico(self.calico):
            return "Calico apply failed"
        later = {n for b in self.batches[k + 1 :] for n in b}
        settled = None if not later else frozenset(s.name for s in self.intent.switches) - later
        switches = set(batch)
        every = {n for b in self.batches for n in b}
        nodes = {
            n.name
            for n in self.intent.nodes
            if n.name in self.nodes
            and (switches & set(n.tors) or (k == 0 and not every & set(n.tors)))
        }
        # the nodes' other ToRs, already in place, are read too: redundancy is judged on both
        switches |= {
            t
            for n in self.intent.nodes
            if n.name in nodes
            for t in n.attached
            if settled is None or t in settled
        }
        problems = self.run.gate(switches, nodes, settled)
        if problems:
            return f"health gate failed: {len(problems)} problem(s), first: {problems[0]}"
        _kill_hook("before-confirm")
        if not self.run.confirm(names):
            return "confirm failed"
        return None

    def _stop(self, k: int, problem: str) -> RunReport:
        """Roll back batch ``k`` (with Calico for the first), abort later batches' sessions."""
        total = len(self.batches)
        later = [n for b in self.batches[k + 1 :] for n in b]
        if later:
            self.run.abort_open_sessions(later)
        if total == 1:
            return self.run.undo(problem)
        done = ", ".join(map(str, self.confirmed)) or "none"
        reason = f"batch {k + 1}/{total} {problem}; confirmed batches: {done}"
        return self.run.undo(reason, switches=self.batches[k] if k else None)
