"""``run deploy``: plan, snapshot, apply in a safe order, gate, confirm or roll back.

Sequence (each switch step over Nornir's threaded runner)::

    validate + render ─► lock ─► plan (EOS sessions + diffs, Calico semantic diff + dryRun)
        ─► snapshot (exact running-configs, Calico objects or their absence) into the state DB
        ─► [dry-run: abort sessions, stop]  ─► commit switches with a commit-confirm timer
        ─► apply Calico: peers, nodes, configuration; session-dropping changes last
        ─► health gate (:mod:`fabric.workflows.gate`) ─► confirm switch commits
    any failure after the first change ─► undo every host changed in this run
    (:mod:`fabric.runs.restore`, the path ``run rollback`` takes too)
    rolling (``batch_size``): commit, gate, confirm batch by batch (:mod:`.batches`)

:func:`deploy` is the library API (the scheduler calls it); it never prints. Progress goes to
the optional ``progress`` callback; the CLI renders it. The scheduler is not imported here: a
caller that wants ``confirm_within`` passes ``schedule_confirm``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fabric.errors import FabricError, UsageError
from fabric.locking import inventory_lock
from fabric.models.outcome import Outcome
from fabric.paths import ProjectPaths
from fabric.runs.connect import (
    CountFn,
    ResultsFn,
    cluster_client,
    host_failures,
    open_nornir,
    run_on,
)
from fabric.runs.failures import error_text
from fabric.runs.report import DeployReport, HostKind, ProgressFn
from fabric.runs.restore import CalicoTarget, Restore, SwitchTarget, take_snapshots
from fabric.state_db import StateDB, default_db_path, new_run_id
from fabric.steps.calico import apply_change, plan_calico
from fabric.steps.eos import (
    Mode,
    eos_commit,
    eos_confirm,
    eos_discard_session,
    eos_prepare_session,
    session_name,
)
from fabric.workflows.batches import Rollout, plan_batches
from fabric.workflows.gate import Gate
from fabric.workflows.render import Selection, render_selection

if TYPE_CHECKING:
    from nornir.core import Nornir

    from fabric.models.intent import Intent
    from fabric.steps.calico import CalicoChange, CalicoClient
    from fabric.steps.eos import SwitchPlan

#: ``schedule_confirm(paths, run_id, seconds, lab=...)`` -> job id: schedules the rollback of
#: a deploy unless confirmed in time (``fabric.scheduling.schedule_confirm_window``).
ConfirmScheduler = Callable[..., str]


#: The options stored with a run (``runs show``; the scheduler reads ``lab`` back).
_STORED_OPTIONS = (
    *("lab", "limit", "commit", "mode", "revert_in", "gate_timeout", "rollback", "workers"),
    *("insecure", "ca_file", "confirm_within", "batch_size"),
)


@dataclass
class DeployOptions:
    """Options of one deploy (the CLI flags of ``run deploy``) and its collaborators."""

    lab: bool = False
    limit: list[str] = field(default_factory=list)
    commit: bool = False
    mode: Mode = "replace"
    revert_in: int = 300
    gate_timeout: float = 120.0
    gate_interval: float = 1.0
    rollback: bool = True
    workers: int = 20
    insecure: bool = False
    ca_file: str | None = None
    db: Path | None = None
    confirm_within: float | None = None
    device_timeout: float = 30.0
    calico_api: str = "auto"
    node_access: str | None = None
    progress: ProgressFn | None = None
    on_results: ResultsFn | None = None
    count: CountFn | None = None
    schedule_confirm: ConfirmScheduler | None = None
    #: Rolling deploy: switches in batches of at most this many (None: all at once).
    batch_size: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The options as stored with the run (no callbacks)."""
        return {k: getattr(self, k) for k in _STORED_OPTIONS}

    def check(self) -> None:
        """Refuse bad options before anything is read or contacted.

        Raises:
            UsageError: naming the option.
        """
        if self.revert_in < 0:
            raise UsageError("--revert-in must be >= 0 seconds")
        if self.mode not in ("replace", "merge"):
            raise UsageError(f"--mode {self.mode}: must be replace or merge")
        if self.confirm_within is not None:
            # checked now: a refused window after a committed deploy would mark it failed
            if self.confirm_within <= 0:
                raise UsageError("--confirm-within must be longer than zero")
            if self.commit and self.schedule_confirm is None:
                raise UsageError("--confirm-within: not available (no scheduler)")


class _Deploy:
    """One deploy's state while it runs (kept off the public API)."""

    def __init__(self, paths: ProjectPaths, opts: DeployOptions) -> None:
        self.paths = paths
        self.opts = opts
        self.run_id = new_run_id()
        self.session = session_name(self.run_id)
        self.report = DeployReport(run_id=self.run_id, dry_run=not opts.commit)
        self.db = StateDB(opts.db or default_db_path(paths.state))
        self.plans: dict[str, SwitchPlan] = {}
        self.changes: list[CalicoChange] = []
        self.applied: list[CalicoChange] = []
        self.sessions: dict[str, str] = {}
        self.client: CalicoClient | None = None
        self.nr: Nornir | None = None
        self.intent: Intent | None = None
        self.batches: list[list[str]] = []

    # ---- reporting

    def say(self, stage: str, host: str | None, msg: str) -> None:
        if self.opts.progress is not None:
            self.opts.progress(stage, host, msg)

    def fail(self, host: str, kind: HostKind, exc: BaseException | None) -> None:
        self.say("error", host, str(self.report.fail(host, kind, exc).error))

    def persist(self) -> None:
        self.report.save_hosts(self.db, self.sessions)

    def finish(self, outcome: Outcome, error: str | None = None) -> DeployReport:
        self.report.outcome = outcome
        self.report.error = error
        self.persist()
        self.db.finish_run(self.run_id, outcome, error)
        self.say("done", None, f"run {self.run_id}: {outcome}")
        return self.report

    def phase(self, names: Collection[str], task: Any, name: str, **kwargs: Any) -> Any:
        """Run one Nornir phase on the switches ``names``; returns (results, failures)."""
        assert self.nr is not None
        agg = run_on(self.nr, names, task, name, self.opts.on_results, self.opts.count, **kwargs)
        return agg, host_failures(agg, names)

    # ---- the run

    def run(self) -> DeployReport:
        opts = self.opts
        opts.check()
        rendered = render_selection(self.paths, opts.limit)
        self.intent = rendered.intent
        names = [s.name for s in rendered.intent.switches if s.name in rendered.configs]
        size = opts.batch_size
        self.batches = [names] if size is None else plan_batches(rendered.intent, names, size)
        self.report.batches = [] if size is None else self.batches
        self.report.warnings = list(rendered.warnings)
        # the intent's warnings come first: they are about what the diffs will show
        for w in rendered.warnings:
            self.say("warning", None, w)
        with inventory_lock(
            self.paths.state, self.paths.inventory, run_id=self.run_id, action="deploy"
        ):
            self.db.create_run(
                self.run_id,
                kind="deploy",
                inventory=str(self.paths.inventory),
                intent_hash=rendered.intent.digest(),
                dry_run=not opts.commit,
                options={**opts.to_json(), "batches": self.report.batches},
            )
            try:
                return self._locked(rendered)
            except BaseException as exc:
                if self.report.outcome is Outcome.RUNNING:
                    self.finish(Outcome.FAILED, error_text(exc))
                raise
            finally:
                if self.client is not None:
                    self.client.close()
                if self.nr is not None:
                    self.nr.close_connections()

    def _locked(self, rendered: Selection) -> DeployReport:
        opts = self.opts
        self.nr, self.report.tls = open_nornir(
            self.paths,
            lab=opts.lab,
            workers=opts.workers,
            dry_run=not opts.commit,
            insecure=opts.insecure,
            ca_file=opts.ca_file,
            device_timeout=opts.device_timeout,
            switches=set(rendered.configs),
        )
        if opts.insecure:
            self.report.warnings.append("TLS certificate verification is OFF (--insecure)")
        if not self._plan(rendered):
            self.abort_open_sessions()
            names = ", ".join(r.host for r in self.report.hosts if r.error)
            return self.finish(Outcome.FAILED, f"planning failed on {names}: nothing was changed")
        self._snapshot()
        switch_changes = [n for n, p in self.plans.items() if p.changed]
        calico_changes = [c for c in self.changes if c.action != "none"]
        if not opts.commit:
            return self.finish(Outcome.DRY_RUN)
        if not switch_changes and not calico_changes:
            return self.finish(Outcome.NO_CHANGE)
        intent = rendered.intent
        switches = {s.name for s in intent.switches if s.name in rendered.chosen}
        nodes = {
            n.name for n in intent.nodes if n.name in rendered.chosen or switches & set(n.tors)
        }
        rollout = Rollout(self, intent, self.batches, set(switch_changes), calico_changes, nodes)
        report = rollout.execute()
        if report.outcome is Outcome.OK and opts.confirm_within and opts.schedule_confirm:
            self.report.confirm_job = str(
                opts.schedule_confirm(self.paths, self.run_id, opts.confirm_within, lab=opts.lab)
            )
        return self.report

    # ---- phases

    def _plan(self, rendered: Selection) -> bool:
        """Plan both sides; False when any host could not be planned."""
        configs = rendered.configs
        self.say(
            "plan", None, f"planning {len(configs)} switch(es), {len(rendered.objects)} object(s)"
        )
        if configs:
            agg, failures = self.phase(
                configs,
                lambda t: eos_prepare_session(
                    t, configs[t.host.name], self.opts.mode, self.session, self.opts.commit
                ),
                "plan",
            )
            for name in configs:
                if name in failures:
                    self.fail(name, "switch", failures[name])
                    continue
                plan: SwitchPlan = agg[name][0].result
                self.plans[name] = plan
                self.report.row(name, "switch").diff = plan.diff
                if plan.session:
                    self.sessions[name] = plan.session
                self.say("plan", name, "changes" if plan.changed else "no change")
        if rendered.objects:
            cluster = rendered.intent.cluster.name
            try:
                assert self.nr is not None
                opts = self.opts
                self.client = cluster_client(
                    self.nr, cluster, insecure=opts.insecure, calico_api=opts.calico_api
                )
                self.say("plan", cluster, self.client.description)
                self.changes = plan_calico(self.client, rendered.objects)
            except FabricError as exc:
                self.fail(cluster, "calico", exc)
            for ch in self.changes:
                r = self.report.row(ch.host, "calico")
                if ch.diff:
                    r.diff = f"{r.diff}\n{ch.diff}".strip()
                self.say("plan", ch.host, f"{ch.key}: {ch.action}")
        return not any(r.error for r in self.report.hosts)

    def abort_open_sessions(self, names: Collection[str] | None = None) -> None:
        """Abort the uncommitted sessions the plan left open (best effort, errors noted)."""
        open_ = {
            n: s
            for n, s in self.sessions.items()
            if n in self.plans and (names is None or n in names)
        }
        if not open_ or self.nr is None:
            return
        _, failures = self.phase(
            open_, lambda t: eos_discard_session(t, open_[t.host.name]), "abort"
        )
        for name, exc in failures.items():
            self.report.row(name, "switch").note(
                f"session {open_[name]} left open: {error_text(exc)}"
            )

    def _snapshot(self) -> None:
        """The exact pre-change state into the state DB (dry-runs too: `runs show` shows it)."""
        running = {name: p.running for name, p in self.plans.items()}
        snaps = take_snapshots(running, [(c.host, c.kind, c.name, c.current) for c in self.changes])
        self.db.save_snapshots(self.run_id, snaps)
        self.persist()
        self.say("snapshot", None, f"{len(snaps)} snapshot(s) stored for run {self.run_id}")

    def commit_switches(self, names: list[str]) -> bool:
        if not names:
            return True
        revert_in = self.opts.revert_in
        self.say("commit", None, f"committing {len(names)} switch(es), revert in {revert_in}s")
        _, failures = self.phase(
            names, eos_commit, "commit", session=self.session, revert_in=revert_in
        )
        for name in names:
            if name in failures:
                self.fail(name, "switch", failures[name])
                continue
            r = self.report.row(name, "switch")
            r.changed = r.committed = True
            self.say("commit", name, "committed (pending confirm)")
        # a session whose commit failed is still open on the device: abort it
        self.abort_open_sessions(set(failures))
        self.persist()
        return not failures

    def apply_calico(self, changes: list[CalicoChange]) -> bool:
        if not changes:
            return True
        assert self.client is not None
        for ch in sorted(changes, key=lambda c: c.order):
            try:
                apply_change(self.client, ch)
            except FabricError as exc:
                r = self.report.fail(ch.host, "calico", exc)
                r.error = error_text(RuntimeError(f"{ch.key}: {exc}"))
                self.say("error", ch.host, r.error)
                self.persist()
                return False
            self.applied.append(ch)
            r = self.report.row(ch.host, "calico")
            r.changed = r.committed = True
            self.say("apply", ch.host, f"{ch.key} {ch.action}d")
        self.persist()
        return True

    def gate(
        self, switches: set[str], nodes: set[str], settled: frozenset[str] | None
    ) -> list[str]:
        assert self.nr is not None and self.intent is not None
        opts = self.opts
        gate = Gate(self.nr, self.intent, switches, nodes, opts.progress, opts.on_results)
        gate.count, gate.settled = opts.count, settled
        gate.calico_api = self.client.api if self.client is not None else opts.calico_api
        gate.node_access, gate.insecure = opts.node_access, opts.insecure
        problems = gate.wait(opts.gate_timeout, opts.gate_interval).problems
        self.report.gate_problems = problems
        return problems

    def confirm(self, names: list[str]) -> bool:
        failures: dict[str, BaseException | None] = {}
        if names:
            _, failures = self.phase(names, eos_confirm, "confirm", session=self.session)
            for name in names:
                if name in failures:
                    self.fail(name, "switch", failures[name])
                else:
                    self.report.row(name, "switch").confirmed = True
                    self.say("confirm", name, "confirmed")
        if not failures:
            for r in self.report.hosts:
                if r.kind == "calico" and r.committed:
                    r.confirmed = True
        self.persist()
        return not failures

    def undo(self, reason: str, switches: Collection[str] | None = None) -> DeployReport:
        """Undo every host changed in this run, or only ``switches`` (unless --no-rollback)."""
        opts = self.opts
        rows = [r for r in self.report.hosts if switches is None or r.host in switches]
        committed = [r.host for r in rows if r.kind == "switch" and r.committed and not r.confirmed]
        if not opts.rollback:
            if committed:
                self.say(
                    "rollback",
                    None,
                    f"--no-rollback: {len(committed)} switch(es) revert by their own timer "
                    f"within {opts.revert_in}s unless confirmed",
                )
            return self.finish(Outcome.PENDING_REVERT, f"{reason}; not rolled back (--no-rollback)")
        self.say("rollback", None, f"{reason}: rolling back every host changed in this run")
        restore = Restore(self.report, undo=True, revert_in=opts.revert_in, progress=opts.progress)
        restore.on_results, restore.count = opts.on_results, opts.count
        problems = restore.calico(
            self.client,
            [
                CalicoTarget(ch.host, ch.kind, ch.name, ch.current, expect_rv=ch.written_rv)
                for ch in reversed(self.applied if switches is None else [])
            ],
        )
        if committed and self.nr is not None:
            targets = [SwitchTarget(n, self.plans[n].running, self.session) for n in committed]
            problems += restore.switches(self.nr, targets)
        self.persist()
        if problems:
            return self.finish(
                Outcome.FAILED, f"{reason}; rollback incomplete: {'; '.join(problems)}"
            )
        return self.finish(Outcome.ROLLED_BACK, reason)


def deploy(paths: ProjectPaths, options: DeployOptions) -> DeployReport:
    """Deploy the intent to the switches and the cluster (dry-run unless ``options.commit``).

    Raises:
        ValidationError: the intent is invalid (nothing was contacted).
        UsageError: bad options, or a secret reference cannot be resolved.
        LockHeldError: another deploy or rollback of this inventory is running.
        SafetyError: lab mode and a host is not on loopback.

    Returns:
        The report; per-host failures are rows with an ``error``, not exceptions.
    """
    return _Deploy(paths, options).run()
