"""The one restore path: put switches and Calico objects back to their snapshots.

Used by a failed deploy (undoing what it changed, from the snapshots it holds in memory) and by
``run rollback`` (from the snapshots in the state database, from any process). Calico first: a
restored peer set matches the switches' old neighbors sooner. Then every switch: its pending
commit-confirm session aborted by name (reverting at once) where one is pending, then a
configure-replace where the running-config still differs from the snapshot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fabric.errors import FabricError
from fabric.runs.connect import CountFn, ResultsFn, host_failures, run_on
from fabric.runs.failures import classify, error_text
from fabric.runs.report import ProgressFn, RunReport
from fabric.state_db import Snapshot, utcnow
from fabric.steps.calico import object_key, restore_object
from fabric.steps.eos import eos_restore

if TYPE_CHECKING:
    from nornir.core import Nornir

    from fabric.steps.calico import CalicoClient


def take_snapshots(
    running: dict[str, str], objects: list[tuple[str, str, str, dict[str, Any] | None]]
) -> list[Snapshot]:
    """Snapshots of the state before a change, as the state database keeps them.

    Args:
        running: switch -> its exact running-config.
        objects: ``(host, kind, name, object or None when absent)`` of each Calico object.
    """
    taken = utcnow()
    snaps = [
        Snapshot(name, "eos_running_config", "running-config", text, taken)
        for name, text in running.items()
    ]
    for host, kind, name, current in objects:
        content = None if current is None else json.dumps(current, sort_keys=True)
        snaps.append(Snapshot(host, "calico_object", object_key(kind, name), content, taken))
    return snaps


@dataclass(frozen=True)
class CalicoTarget:
    """A Calico object to put back.

    Attributes:
        host: the cluster host (the report row).
        kind: the Calico kind (or the BGP password Secret).
        name: the object name.
        snapshot: the exact object before the change, None if it did not exist.
        expect_rv: the resourceVersion our own write produced: when the object has another
            one now, someone changed it since and it is not overwritten (ConflictError).
    """

    host: str
    kind: str
    name: str
    snapshot: dict[str, Any] | None
    expect_rv: str | None = None

    @property
    def key(self) -> str:
        """``Kind/name``."""
        return object_key(self.kind, self.name)

    @classmethod
    def from_snapshot(cls, snap: Snapshot) -> CalicoTarget:
        """From a stored ``calico_object`` snapshot."""
        kind, _, name = snap.key.partition("/")
        content = None if snap.content is None else json.loads(snap.content)
        return cls(host=snap.host, kind=kind, name=name, snapshot=content)


@dataclass(frozen=True)
class SwitchTarget:
    """A switch to put back: its exact running-config before the change and the run's session."""

    host: str
    snapshot: str
    session: str


@dataclass
class Restore:
    """One restore over both sides; rows and notes land in ``report``.

    Args:
        report: the run's report (rows are updated: ``rolled_back``, errors, diffs).
        dry_run: only compute what would change.
        undo: a failed deploy undoing its own changes: the rows keep the deploy's diffs, and a
            host already back at its snapshot counts as rolled back. Otherwise (``run
            rollback``) each row's diff is the restore's, and only a host it changed counts.
        revert_in: the commit timer of the switches, for the note when one is unreachable.
        progress: the progress callback.
        on_results: the per-phase Nornir results callback.
        count: the per-host progress callback.
    """

    report: RunReport
    dry_run: bool = False
    undo: bool = False
    revert_in: int = 0
    progress: ProgressFn | None = None
    on_results: ResultsFn | None = None
    count: CountFn | None = None

    def _say(self, host: str | None, msg: str, stage: str = "rollback") -> None:
        if self.progress is not None:
            self.progress(stage, host, msg)

    def _problem(self, host: str, kind: Any, exc: BaseException | None, note: str) -> str:
        r = self.report.row(host, kind)
        r.note(note)
        r.failure = r.failure or classify(exc)
        self._say(host, note, stage="error")
        return f"{host}: {note}"

    def calico(
        self,
        client: CalicoClient | None,
        targets: list[CalicoTarget],
        client_error: FabricError | None = None,
    ) -> list[str]:
        """Restore ``targets`` in the order given; the problems in words (empty: all done).

        ``client`` None: the cluster could not be reached (``client_error`` says why).
        """
        problems: list[str] = []
        for t in targets:
            r = self.report.row(t.host, "calico")
            try:
                if client is None:
                    raise client_error or FabricError("no Kubernetes client")
                did, diff = restore_object(
                    client,
                    t.kind,
                    t.name,
                    t.snapshot,
                    expect_rv=t.expect_rv,
                    dry_run=self.dry_run,
                )
            except FabricError as exc:
                problems.append(self._problem(t.host, "calico", exc, f"{t.key}: {exc}"))
                continue
            if did and not self.undo:
                r.diff = f"{r.diff}\n{diff}".strip()
            if (did or self.undo) and not self.dry_run:
                r.changed = r.rolled_back = True
            verb = "would be restored" if self.dry_run else "restored"
            self._say(t.host, f"{t.key}: {verb if did else 'unchanged'}")
        return problems

    def switches(self, nr: Nornir, targets: list[SwitchTarget]) -> list[str]:
        """Restore every switch of ``targets`` (in parallel); the problems in words."""
        if not targets:
            return []
        by_host = {t.host: t for t in targets}
        if nr.data.failed_hosts:
            # a connection that failed in an earlier phase is opened anew
            nr.close_connections(on_good=False, on_failed=True)
        agg = run_on(
            nr,
            by_host,
            lambda task: eos_restore(
                task,
                by_host[task.host.name].snapshot,
                by_host[task.host.name].session,
                dry_run=self.dry_run,
            ),
            "rollback",
            self.on_results,
            self.count,
        )
        failures = host_failures(agg, by_host)
        problems: list[str] = []
        for name in sorted(by_host):
            r = self.report.row(name, "switch")
            if name in failures:
                exc = failures[name]
                note = error_text(exc)
                if classify(exc) == "unreachable" and self.revert_in > 0 and not self.dry_run:
                    note += f" (its commit timer reverts it within {self.revert_in}s)"
                problems.append(self._problem(name, "switch", exc, note))
                continue
            res = agg[name][0]
            if not self.undo:
                r.diff = str(res.result or "")
            if (res.changed or self.undo) and not self.dry_run:
                r.changed = r.rolled_back = True
            done = "would be restored" if self.dry_run else "restored"
            self._say(name, done if res.changed or r.rolled_back else "no difference")
        return problems
