"""``run rollback --run RUN_ID``: put back the snapshot a deploy took, on both sides.

Works from any process: everything it needs is in the state database (the exact running-config
of each switch, each Calico object or its absence, the EOS session name of the deploy). A dry-
run (the default) shows the diff the rollback would make; with ``commit`` it

1. aborts the deploy's pending commit-confirm by session name (reverting at once) where one is
   still pending, then configure-replaces any switch whose running-config still differs from
   the snapshot (a new session loaded with the snapshot, committed);
2. restores every Calico object the deploy changed (PUT of the snapshot with the current
   resourceVersion, or DELETE of an object that did not exist before), the BGP password Secret
   ``calico-system/bgp-passwords`` included (its diff names keys, never values).

Only hosts the deploy actually changed are touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fabric.errors import FabricError, UsageError
from fabric.paths import ProjectPaths
from fabric.state_db import StateDB, default_db_path, new_run_id
from fabric.workflows.deploy import (
    ProgressFn,
    RunReport,
    calico_client,
    error_text,
    host_failures,
    open_nornir,
    run_on,
    session_name,
)

if TYPE_CHECKING:
    from nornir.core import Nornir


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
    progress: ProgressFn | None = None


@dataclass(kw_only=True)
class RollbackReport(RunReport):
    """What a rollback did (or, as a dry-run, would do)."""

    target_run: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (diffs masked)."""
        return {
            "run_id": self.run_id,
            "target_run": self.target_run,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "outcome": self.outcome,
            "error": self.error,
            "hosts": [h.to_json() for h in self.hosts],
        }


def rollback(paths: ProjectPaths, run_id: str, options: RollbackOptions) -> RollbackReport:
    """Restore the snapshots of deploy run ``run_id`` (dry-run unless ``options.commit``).

    Raises:
        UsageError: no such run, or it is not a deploy with snapshots.
        LockHeldError: another deploy or rollback of this inventory is running.

    Returns:
        The report; per-host failures are rows with an ``error``.
    """
    from fabric.locking import inventory_lock
    from fabric.steps.calico import restore_object
    from fabric.steps.eos import eos_restore

    db = StateDB(options.db or default_db_path(paths.state))
    target = db.get_run(run_id)
    if target.kind != "deploy":
        raise UsageError(f"run {run_id} is a {target.kind}, not a deploy: nothing to roll back")
    if target.dry_run:
        raise UsageError(f"run {run_id} was a dry-run: it changed nothing")
    changed = {h.host for h in target.hosts if h.changed or h.committed}
    sessions = {h.host: h.session or session_name(run_id) for h in target.hosts}
    switch_snaps = {
        s.host: s.content
        for s in target.snapshots
        if s.kind == "eos_running_config" and s.host in changed and s.content is not None
    }
    calico_snaps = [s for s in target.snapshots if s.kind == "calico_object" and s.host in changed]

    me = new_run_id()
    rep = RollbackReport(run_id=me, target_run=run_id, dry_run=not options.commit)

    def say(stage: str, host: str | None, msg: str) -> None:
        if options.progress is not None:
            options.progress(stage, host, msg)

    row = rep.row

    def finish(outcome: str, error: str | None = None) -> RollbackReport:
        rep.outcome, rep.error = outcome, error
        rep.save_hosts(db)
        db.finish_run(me, outcome, error)
        if options.commit and outcome in ("ok", "no-change"):
            for h in target.hosts:
                if h.host in changed:
                    h.rolled_back = True
                    db.save_host(run_id, h)
            db.set_outcome(run_id, "rolled-back")
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
        if not switch_snaps and not calico_snaps:
            return finish("no-change", "the run changed no host")
        nr: Nornir | None = None
        client = None
        try:
            # inside the try: a refused --lab or TLS option still finishes the run it recorded
            nr, _policy = open_nornir(
                paths,
                lab=options.lab,
                workers=options.workers,
                dry_run=not options.commit,
                insecure=options.insecure,
                ca_file=options.ca_file,
                device_timeout=options.device_timeout,
                switches=set(switch_snaps),
            )
            # Calico first: a restored peer set matches the switches' old neighbors sooner.
            if calico_snaps:
                cluster = next(
                    (h for h, host in nr.inventory.hosts.items() if host.get("kubeconfig")),
                    None,
                )
                try:
                    if cluster is None:
                        raise UsageError("no cluster host (with a kubeconfig) in the inventory")
                    client = calico_client(nr, cluster, insecure=options.insecure)
                except FabricError as exc:
                    for s in calico_snaps:
                        rep.fail(s.host, "calico", exc)
                else:
                    for s in calico_snaps:
                        kind, _, name = s.key.partition("/")
                        snap = None if s.content is None else json.loads(s.content)
                        r = row(s.host, "calico")
                        try:
                            did, diff = restore_object(
                                client, kind, name, snap, dry_run=not options.commit
                            )
                        except FabricError as exc:
                            say(
                                "error", s.host, f"{s.key}: {rep.fail(s.host, 'calico', exc).error}"
                            )
                            continue
                        if did:
                            r.changed = r.changed or options.commit
                            r.rolled_back = r.rolled_back or options.commit
                            r.diff = f"{r.diff}\n{diff}".strip()
                        say("rollback", s.host, f"{s.key}: {'restored' if did else 'unchanged'}")
            if switch_snaps:
                agg = run_on(
                    nr,
                    switch_snaps,
                    lambda t: eos_restore(
                        t,
                        str(switch_snaps[t.host.name]),
                        sessions.get(t.host.name, session_name(run_id)),
                        dry_run=not options.commit,
                    ),
                    "rollback",
                )
                failures = host_failures(agg, switch_snaps)
                for name in sorted(switch_snaps):
                    r = row(name, "switch")
                    if name in failures:
                        say("error", name, str(rep.fail(name, "switch", failures[name]).error))
                        continue
                    res = agg[name][0]
                    r.diff = str(res.result or "")
                    if res.changed and options.commit:
                        r.changed = r.rolled_back = True
                    say("rollback", name, "restored" if r.rolled_back else "no difference")
        except BaseException as exc:
            finish("failed", error_text(exc))
            raise
        finally:
            if client is not None:
                client.close()
            if nr is not None:
                nr.close_connections()
        failed = [r for r in rep.hosts if r.error]
        if failed:
            return finish("failed", f"rollback failed on {', '.join(r.host for r in failed)}")
        if not options.commit:
            return finish("dry-run")
        if not any(r.rolled_back for r in rep.hosts):
            return finish("no-change")
        return finish("ok")
