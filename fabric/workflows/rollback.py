"""``run rollback --run RUN_ID``: put back the snapshot a deploy took, on both sides.

Works from any process: everything it needs is in the state database (the exact running-config
of each switch, each Calico object or its absence, the EOS session name of the deploy). A dry-
run (the default) shows the diff the rollback would make; with ``commit`` it restores through
:mod:`fabric.runs.restore`, the path a failed deploy takes to undo itself:

1. every Calico object the deploy changed (PUT of the snapshot with the current
   resourceVersion, or DELETE of an object that did not exist before), the BGP password Secret
   ``calico-system/bgp-passwords`` included (its diff names keys, never values);
2. every switch: the deploy's pending commit-confirm aborted by session name (reverting at
   once) where one is still pending, then a configure-replace where the running-config still
   differs from the snapshot.

Only hosts the deploy actually changed are touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fabric.errors import FabricError, UsageError
from fabric.locking import inventory_lock
from fabric.models.outcome import Outcome
from fabric.paths import ProjectPaths
from fabric.runs.connect import CountFn, ResultsFn, cluster_client, open_nornir
from fabric.runs.failures import error_text
from fabric.runs.report import ProgressFn, RollbackReport
from fabric.runs.restore import CalicoTarget, Restore, SwitchTarget
from fabric.state_db import RunRecord, StateDB, default_db_path, new_run_id
from fabric.steps.eos import session_name

if TYPE_CHECKING:
    from nornir.core import Nornir

    from fabric.steps.calico import CalicoClient


@dataclass
class RollbackOptions:
    """Options of ``run rollback``."""

    lab: bool = False
    commit: bool = False
    workers: int = 20
    insecure: bool = False
    ca_file: str | None = None
    db: Path | None = None
    device_timeout: float = 30.0
    calico_api: str = "auto"
    progress: ProgressFn | None = None
    on_results: ResultsFn | None = None
    count: CountFn | None = None


@dataclass
class _Targets:
    """What a deploy changed, as restore targets."""

    switches: list[SwitchTarget]
    calico: list[CalicoTarget]

    @classmethod
    def of(cls, target: RunRecord) -> _Targets:
        changed = {h.host for h in target.hosts if h.changed or h.committed}
        sessions = {h.host: h.session or session_name(target.id) for h in target.hosts}
        return cls(
            switches=[
                SwitchTarget(s.host, s.content, sessions.get(s.host, session_name(target.id)))
                for s in target.snapshots
                if s.kind == "eos_running_config" and s.host in changed and s.content is not None
            ],
            calico=[
                CalicoTarget.from_snapshot(s)
                for s in target.snapshots
                if s.kind == "calico_object" and s.host in changed
            ],
        )


def _target_run(db: StateDB, run_id: str) -> RunRecord:
    target = db.get_run(run_id)
    if target.kind != "deploy":
        raise UsageError(f"run {run_id} is a {target.kind}, not a deploy: nothing to roll back")
    if target.dry_run:
        raise UsageError(f"run {run_id} was a dry-run: it changed nothing")
    return target


def _cluster_host(nr: Nornir) -> str:
    cluster = next((h for h, host in nr.inventory.hosts.items() if host.get("kubeconfig")), None)
    if cluster is None:
        raise UsageError("no cluster host (with a kubeconfig) in the inventory")
    return cluster


def _restore(
    paths: ProjectPaths, targets: _Targets, rep: RollbackReport, options: RollbackOptions
) -> None:
    """Connect and restore both sides (rows and failures land in ``rep``)."""
    nr: Nornir | None = None
    client: CalicoClient | None = None
    try:
        nr, _policy = open_nornir(
            paths,
            lab=options.lab,
            workers=options.workers,
            dry_run=not options.commit,
            insecure=options.insecure,
            ca_file=options.ca_file,
            device_timeout=options.device_timeout,
            switches={t.host for t in targets.switches},
        )
        restore = Restore(
            rep,
            dry_run=not options.commit,
            progress=options.progress,
            on_results=options.on_results,
            count=options.count,
        )
        if targets.calico:
            problem: FabricError | None = None
            try:
                client = cluster_client(
                    nr, _cluster_host(nr), insecure=options.insecure, calico_api=options.calico_api
                )
                if options.progress is not None:
                    options.progress("rollback", None, client.description)
            except FabricError as exc:
                problem = exc
            restore.calico(client, targets.calico, client_error=problem)
        restore.switches(nr, targets.switches)
    finally:
        if client is not None:
            client.close()
        if nr is not None:
            nr.close_connections()


def rollback(paths: ProjectPaths, run_id: str, options: RollbackOptions) -> RollbackReport:
    """Restore the snapshots of deploy run ``run_id`` (dry-run unless ``options.commit``).

    Raises:
        UsageError: no such run, or it is not a deploy with snapshots.
        LockHeldError: another deploy or rollback of this inventory is running.

    Returns:
        The report; per-host failures are rows with an ``error``.
    """
    db = StateDB(options.db or default_db_path(paths.state))
    target = _target_run(db, run_id)
    targets = _Targets.of(target)
    me = new_run_id()
    rep = RollbackReport(run_id=me, target_run=run_id, dry_run=not options.commit)

    def finish(outcome: Outcome, error: str | None = None) -> RollbackReport:
        rep.outcome, rep.error = outcome, error
        rep.save_hosts(db)
        db.finish_run(me, outcome, error)
        if options.commit and outcome in (Outcome.OK, Outcome.NO_CHANGE):
            changed = {t.host for t in targets.switches} | {t.host for t in targets.calico}
            for h in target.hosts:
                if h.host in changed:
                    h.rolled_back = True
                    db.save_host(run_id, h)
            db.set_outcome(run_id, Outcome.ROLLED_BACK)
        return rep

    with inventory_lock(paths.state, paths.inventory, run_id=me, action="rollback"):
        db.create_run(
            me,
            kind="rollback",
            inventory=str(paths.inventory),
            intent_hash=target.intent_hash,
            dry_run=not options.commit,
            options={"target_run": run_id, "commit": options.commit, "lab": options.lab},
            parent_run=run_id,
        )
        if not targets.switches and not targets.calico:
            return finish(Outcome.NO_CHANGE, "the run changed no host")
        try:
            # a refused --lab or TLS option still finishes the run it recorded
            _restore(paths, targets, rep, options)
        except BaseException as exc:
            finish(Outcome.FAILED, error_text(exc))
            raise
        failed = [r for r in rep.hosts if r.error]
        if failed:
            return finish(Outcome.FAILED, f"rollback failed on {', '.join(r.host for r in failed)}")
        if not options.commit:
            return finish(Outcome.DRY_RUN)
        if not any(r.rolled_back for r in rep.hosts):
            return finish(Outcome.NO_CHANGE)
        return finish(Outcome.OK)
