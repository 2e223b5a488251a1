"""``run deploy``: plan, snapshot, apply in a safe order, gate, confirm or roll back.

Sequence (each step over Nornir's threaded runner for the switches)::

    validate + render ─► lock ─► plan (EOS sessions + diffs, Calico semantic diff + dryRun)
        ─► snapshot (exact running-configs, Calico objects or their absence) into the state DB
        ─► [dry-run: abort sessions, stop]  ─► commit switches with a commit-confirm timer
        ─► apply Calico: peers, nodes, configuration; session-dropping changes last
        ─► health gate (bounded wait) ─► confirm switch commits
    any failure after the first change ─► roll back every host changed in this run
    (abort the pending session by name, or configure-replace from the snapshot; restore Calico)

:func:`deploy` is the library API (the scheduler calls it); it never prints. Progress goes to
the optional ``progress`` callback; the CLI renders it.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fabric.errors import ExitCode, FabricError, UnreachableError, UsageError
from fabric.paths import ProjectPaths
from fabric.state_db import HostRow, Snapshot, StateDB, default_db_path, new_run_id, utcnow
from fabric.steps.eos import Mode, mask_secrets

if TYPE_CHECKING:
    from nornir.core import Nornir
    from nornir.core.task import AggregatedResult

    from fabric.models.intent import Intent
    from fabric.steps.calico import CalicoChange, CalicoClient
    from fabric.steps.eos import SwitchPlan
    from fabric.steps.render import CalicoObject

#: ``progress(stage, host, message)``: stage is plan/snapshot/commit/apply/gate/confirm/rollback.
ProgressFn = Callable[[str, str | None, str], None]

#: Test hook: ``FABRIC_DEPLOY_KILL_AT=after-commit|before-confirm`` SIGKILLs the deploy there.
KILL_ENV = "FABRIC_DEPLOY_KILL_AT"


@dataclass
class DeployOptions:
    """Options of one deploy (the CLI flags of ``run deploy``)."""

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
    progress: ProgressFn | None = None

    def to_json(self) -> dict[str, Any]:
        """The options as stored with the run (no callback)."""
        return {
            "lab": self.lab,
            "limit": list(self.limit),
            "commit": self.commit,
            "mode": self.mode,
            "revert_in": self.revert_in,
            "gate_timeout": self.gate_timeout,
            "rollback": self.rollback,
            "workers": self.workers,
            "insecure": self.insecure,
            "ca_file": self.ca_file,
            "confirm_within": self.confirm_within,
        }


@dataclass
class HostReport:
    """One row of the final table."""

    host: str
    kind: Literal["switch", "calico"]
    changed: bool = False
    committed: bool = False
    confirmed: bool = False
    rolled_back: bool = False
    error: str | None = None
    diff: str = ""
    unreachable: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "host": self.host,
            "kind": self.kind,
            "changed": self.changed,
            "committed": self.committed,
            "confirmed": self.confirmed,
            "rolled_back": self.rolled_back,
            "error": self.error,
            "diff": self.diff,
        }


@dataclass
class RunReport:
    """What a deploy or a rollback did: the outcome and one row per host."""

    run_id: str
    dry_run: bool
    outcome: str = "running"
    hosts: list[HostReport] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the run (or the dry-run plan) succeeded on every host."""
        return self.outcome in ("ok", "dry-run", "no-change")

    def _only_unreachable(self) -> bool:
        failed = [h for h in self.hosts if h.error]
        return bool(failed) and all(h.unreachable for h in failed)

    @property
    def exit_code(self) -> ExitCode:
        """0 ok; 5 when the failure is a host that could not be reached; 3 otherwise."""
        if self.ok:
            return ExitCode.OK
        return ExitCode.UNREACHABLE if self._only_unreachable() else ExitCode.RUN_FAILED

    def host(self, name: str) -> HostReport:
        """The row of ``name`` (KeyError if absent)."""
        for h in self.hosts:
            if h.host == name:
                return h
        raise KeyError(name)

    def row(self, host: str, kind: Literal["switch", "calico"]) -> HostReport:
        """The row of ``host``, added if it has none yet."""
        try:
            return self.host(host)
        except KeyError:
            self.hosts.append(HostReport(host=host, kind=kind))
            return self.hosts[-1]

    def fail(
        self, host: str, kind: Literal["switch", "calico"], exc: BaseException | None
    ) -> HostReport:
        """Record ``exc`` (masked, one line) as the failure of ``host``; returns its row."""
        r = self.row(host, kind)
        r.error = error_text(exc)
        r.unreachable = is_unreachable(exc)
        return r

    def save_hosts(self, db: StateDB, sessions: dict[str, str] | None = None) -> None:
        """Store every row under this run (``sessions``: EOS session name per switch)."""
        for r in self.hosts:
            db.save_host(
                self.run_id,
                HostRow(
                    host=r.host,
                    kind=r.kind,
                    changed=r.changed,
                    committed=r.committed,
                    confirmed=r.confirmed,
                    rolled_back=r.rolled_back,
                    session=(sessions or {}).get(r.host),
                    diff=r.diff,
                    error=r.error,
                ),
            )


@dataclass
class DeployReport(RunReport):
    """What a deploy did."""

    tls: str = ""
    gate_problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    confirm_job: str | None = None

    def _only_unreachable(self) -> bool:
        # a failed gate is a verdict on reachable hosts, not an unreachable host
        return super()._only_unreachable() and not self.gate_problems

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (diffs are masked)."""
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "outcome": self.outcome,
            "error": self.error,
            "tls": self.tls,
            "gate_problems": self.gate_problems,
            "warnings": self.warnings,
            "confirm_job": self.confirm_job,
            "hosts": [h.to_json() for h in self.hosts],
        }


# --------------------------------------------------------------------------- helpers


def resolve_secret(ref: str) -> str:
    """The value of a secret reference (``env:VAR`` or ``file:PATH``).

    Raises:
        UsageError: the variable is unset or the file unreadable (the message names the
            reference, never a value).
    """
    kind, _, where = ref.partition(":")
    if kind == "env":
        value = os.environ.get(where)
        if value is None:
            raise UsageError(f"secret {ref}: environment variable {where} is not set")
        return value
    if kind == "file":
        try:
            return Path(where).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UsageError(f"secret {ref}: cannot read the file: {exc.strerror}") from exc
    raise UsageError(f"secret {ref}: unknown reference kind (env:VAR or file:PATH)")


def password_secret(intent: Intent, objects: list[CalicoObject]) -> CalicoObject | None:
    """The BGP password Secret the selected ``BGPPeer`` objects need, or None.

    One key per peer of the whole intent that has a ``password_ref`` (the Secret is one
    object: a ``--limit`` run must not drop the keys of peers it does not select), value
    resolved now. None when no selected peer references a password.

    Raises:
        UsageError: a reference cannot be resolved.
    """
    from fabric.steps.calico import secret_object

    peers = list(intent.cluster.calico.peers) + [p for n in intent.nodes for p in n.peers]
    refs = {p.name: p.password_ref for p in peers if p.password_ref}
    if not any(o.kind == "BGPPeer" and o.name in refs for o in objects):
        return None
    values = {name: resolve_secret(ref) for name, ref in refs.items()}
    return secret_object(intent.cluster.name, values)


def intent_hash(intent: Intent) -> str:
    """A short stable hash of the intent (stored with each run)."""
    return hashlib.sha256(intent.model_dump_json().encode()).hexdigest()[:16]


def session_name(run_id: str) -> str:
    """The EOS config session of a run (letters, digits and ``_`` only)."""
    return "fabric_" + run_id.replace("-", "_")


def error_text(exc: BaseException | None) -> str:
    """A one-line, secret-masked description of a failure."""
    if exc is None:
        return "failed"
    msg = str(exc).strip().splitlines()
    first = msg[0] if msg else ""
    return mask_secrets(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)


def is_unreachable(exc: BaseException | None) -> bool:
    """Whether an exception means the host could not be reached."""
    if exc is None:
        return False
    if isinstance(exc, UnreachableError | ConnectionError | TimeoutError):
        return True
    name = type(exc).__name__
    # napalm, pyeapi (its ConnectionError is not the builtin one), paramiko, urllib3
    return name in (
        "ConnectionException",
        "ConnectionClosedException",
        "ConnectionError",
        "NoValidConnectionsError",
        "MaxRetryError",
        "NewConnectionError",
    )


def run_on(nr: Nornir, names: Collection[str], task: Any, name: str, **kwargs: Any) -> Any:
    """Run ``task`` on the hosts ``names``, including hosts that failed an earlier step.

    (Nornir skips hosts that failed before unless told otherwise; a host that failed the gate
    must still be rolled back.)
    """
    wanted = set(names)
    return nr.filter(filter_func=lambda h: h.name in wanted).run(
        task=task, name=name, on_failed=True, **kwargs
    )


def host_failures(
    agg: AggregatedResult, names: Collection[str] = ()
) -> dict[str, BaseException | None]:
    """Failed hosts of a Nornir run and their exception; ``names`` the run must have covered."""
    out: dict[str, BaseException | None] = {}
    for host, multi in agg.items():
        if multi.failed:
            exc = next((r.exception for r in multi if r.exception is not None), None)
            out[host] = exc
    for host in names:
        if host not in agg:
            out[host] = RuntimeError(f"{host}: the task did not run on this host")
    return out


def _kill_hook(point: str) -> None:
    if os.environ.get(KILL_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def open_nornir(
    paths: ProjectPaths,
    *,
    lab: bool,
    workers: int,
    dry_run: bool,
    insecure: bool,
    ca_file: str | None,
    device_timeout: float,
    switches: set[str],
) -> tuple[Nornir, str]:
    """Nornir over the inventory with each switch's TLS policy set; returns (nornir, policy)."""
    from fabric.inventory import init_nornir
    from fabric.steps.eos import configure_napalm_tls

    nr = init_nornir(paths, lab=lab, num_workers=workers, dry_run=dry_run)
    policy = ""
    for name in switches:
        policy = configure_napalm_tls(
            nr.inventory.hosts[name], insecure=insecure, ca_file=ca_file, timeout=device_timeout
        )
    return nr, policy


def calico_client(nr: Nornir, cluster: str, *, insecure: bool) -> CalicoClient:
    """A Kubernetes client for the cluster host (its kubeconfig and context)."""
    from fabric.steps.calico import CalicoClient

    host = nr.inventory.hosts[cluster]
    kubeconfig = host.get("kubeconfig") or "~/.kube/config"
    return CalicoClient(str(kubeconfig), host.get("context"), insecure=insecure)


# --------------------------------------------------------------------------- deploy


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
        self.client: CalicoClient | None = None
        self.nr: Nornir | None = None
        self.sessions: dict[str, str] = {}
        self.applied: list[CalicoChange] = []

    # ---- reporting

    def say(self, stage: str, host: str | None, msg: str) -> None:
        if self.opts.progress is not None:
            self.opts.progress(stage, host, msg)

    def row(self, host: str, kind: Literal["switch", "calico"]) -> HostReport:
        return self.report.row(host, kind)

    def fail(self, host: str, kind: Literal["switch", "calico"], exc: BaseException | None) -> None:
        self.say("error", host, str(self.report.fail(host, kind, exc).error))

    def persist(self) -> None:
        self.report.save_hosts(self.db, self.sessions)

    def finish(self, outcome: str, error: str | None = None) -> DeployReport:
        self.report.outcome = outcome
        self.report.error = error
        self.persist()
        self.db.finish_run(self.run_id, outcome, error)
        self.say("done", None, f"run {self.run_id}: {outcome}")
        return self.report

    # ---- phases

    def run(self) -> DeployReport:
        from fabric.intent import load_intent
        from fabric.locking import inventory_lock
        from fabric.steps.render import render_calico_objects, render_switch_config
        from fabric.workflows.render import group_members, select_hosts

        opts = self.opts
        if opts.revert_in < 0:
            raise UsageError("--revert-in must be >= 0 seconds")
        if opts.mode not in ("replace", "merge"):
            raise UsageError(f"--mode {opts.mode}: must be replace or merge")
        if opts.confirm_within is not None and opts.confirm_within <= 0:
            # checked now: a refused window after a committed deploy would mark it failed
            raise UsageError("--confirm-within must be longer than zero")
        if opts.confirm_within is not None and opts.commit:
            import importlib.util

            if importlib.util.find_spec("fabric.scheduling") is None:
                raise UsageError("--confirm-within: not available (no scheduler)")
        report = load_intent(self.paths)
        intent = report.intent
        assert intent is not None
        self.report.warnings = [str(w) for w in report.warnings]
        assert report.raw is not None
        chosen = select_hosts(intent, opts.limit, group_members(report.raw))
        switches = [s for s in intent.switches if s.name in chosen]
        rendered: dict[str, str] = {}
        for sw in switches:
            refs = [sw.data.bgp_password_ref] if sw.data.bgp_password_ref else []
            secrets = {r: resolve_secret(r) for r in refs}
            rendered[sw.name] = render_switch_config(sw, self.paths.templates, secrets)
        objects = [
            o for o in render_calico_objects(intent, self.paths.templates) if o.host in chosen
        ]
        secret = password_secret(intent, objects)
        if secret is not None:
            objects.insert(0, secret)
        if not switches and not objects:
            raise UsageError("nothing to deploy: --limit selects no switch and no Calico object")

        with inventory_lock(
            self.paths.state, self.paths.inventory, run_id=self.run_id, action="deploy"
        ):
            self.db.create_run(
                self.run_id,
                kind="deploy",
                inventory=str(self.paths.inventory),
                intent_hash=intent_hash(intent),
                dry_run=not opts.commit,
                options=opts.to_json(),
            )
            try:
                return self._locked(intent, chosen, rendered, objects)
            except BaseException as exc:
                if self.report.outcome == "running":
                    self.finish("failed", error_text(exc))
                raise
            finally:
                if self.client is not None:
                    self.client.close()
                if self.nr is not None:
                    self.nr.close_connections()

    def _locked(
        self,
        intent: Intent,
        chosen: set[str],
        rendered: dict[str, str],
        objects: list[Any],
    ) -> DeployReport:
        from fabric.steps.calico import plan_calico

        opts = self.opts
        nr, policy = open_nornir(
            self.paths,
            lab=opts.lab,
            workers=opts.workers,
            dry_run=not opts.commit,
            insecure=opts.insecure,
            ca_file=opts.ca_file,
            device_timeout=opts.device_timeout,
            switches=set(rendered),
        )
        self.nr = nr
        self.report.tls = policy
        if opts.insecure:
            self.report.warnings.append("TLS certificate verification is OFF (--insecure)")

        # ---- plan
        self.say("plan", None, f"planning {len(rendered)} switch(es), {len(objects)} object(s)")
        if rendered:
            self._plan_switches(nr, rendered)
        if objects:
            try:
                self.client = calico_client(nr, intent.cluster.name, insecure=opts.insecure)
                self.changes = plan_calico(self.client, objects)
            except FabricError as exc:
                self.fail(intent.cluster.name, "calico", exc)
            else:
                for ch in self.changes:
                    r = self.row(ch.host, "calico")
                    if ch.diff:
                        r.diff = f"{r.diff}\n{ch.diff}".strip()
                    self.say("plan", ch.host, f"{ch.key}: {ch.action}")
        for name, plan in self.plans.items():
            self.row(name, "switch").diff = plan.diff
        planned_fail = [r for r in self.report.hosts if r.error]
        if planned_fail:
            self._abort_open_sessions()
            names = ", ".join(r.host for r in planned_fail)
            return self.finish("failed", f"planning failed on {names}: nothing was changed")

        # ---- snapshot (dry-runs too: `runs show` can show what they saw)
        self._snapshot()
        switch_changes = [n for n, p in self.plans.items() if p.changed]
        calico_changes = [c for c in self.changes if c.action != "none"]
        if not opts.commit:
            return self.finish("dry-run")
        if not switch_changes and not calico_changes:
            return self.finish("no-change")

        # ---- commit switches (commit-confirm), then Calico in a safe order
        if not self._commit_switches(switch_changes):
            return self._fail_and_roll_back("commit failed")
        _kill_hook("after-commit")
        if not self._apply_calico(calico_changes):
            return self._fail_and_roll_back("Calico apply failed")

        # ---- gate, then confirm
        problems = self._gate(nr, intent, chosen)
        if problems:
            self.report.gate_problems = problems
            return self._fail_and_roll_back(
                f"health gate failed: {len(problems)} problem(s), first: {problems[0]}"
            )
        _kill_hook("before-confirm")
        if not self._confirm(switch_changes):
            return self._fail_and_roll_back("confirm failed")
        if opts.confirm_within is not None:
            import importlib

            fn: Any = importlib.import_module("fabric.scheduling").schedule_confirm_window
            self.report.confirm_job = str(
                fn(self.paths, self.run_id, opts.confirm_within, lab=opts.lab)
            )
        return self.finish("ok")

    def _plan_switches(self, nr: Nornir, rendered: dict[str, str]) -> None:
        from fabric.steps.eos import eos_prepare_session

        opts = self.opts
        session = self.session

        def task(t: Any) -> Any:
            return eos_prepare_session(
                t, rendered[t.host.name], opts.mode, session, keep_open=opts.commit
            )

        agg = run_on(nr, rendered, task, "plan")
        failures = host_failures(agg, rendered)
        for name in rendered:
            if name in failures:
                self.fail(name, "switch", failures[name])
                continue
            plan: SwitchPlan = agg[name][0].result
            self.plans[name] = plan
            if plan.session:
                self.sessions[name] = plan.session
            self.say("plan", name, "changes" if plan.changed else "no change")

    def _abort_open_sessions(self, names: Collection[str] | None = None) -> None:
        """Abort the uncommitted sessions the plan left open (best effort, errors noted)."""
        from fabric.steps.eos import eos_discard_session

        if not self.sessions or self.nr is None:
            return
        open_ = {
            n: s
            for n, s in self.sessions.items()
            if n in self.plans and (names is None or n in names)
        }
        if not open_:
            return

        def task(t: Any) -> Any:
            return eos_discard_session(t, open_[t.host.name])

        failures = host_failures(run_on(self.nr, open_, task, "abort"), open_)
        for name, exc in failures.items():
            r = self.row(name, "switch")
            note = f"session {open_[name]} left open: {error_text(exc)}"
            r.error = f"{r.error}; {note}" if r.error else note

    def _snapshot(self) -> None:
        taken = utcnow()
        snaps = [
            Snapshot(name, "eos_running_config", "running-config", p.running, taken)
            for name, p in self.plans.items()
        ]
        import json

        from fabric.steps.calico import object_key

        for ch in self.changes:
            content = None if ch.current is None else json.dumps(ch.current, sort_keys=True)
            snaps.append(
                Snapshot(ch.host, "calico_object", object_key(ch.kind, ch.name), content, taken)
            )
        self.db.save_snapshots(self.run_id, snaps)
        self.persist()
        self.say("snapshot", None, f"{len(snaps)} snapshot(s) stored for run {self.run_id}")

    def _commit_switches(self, names: list[str]) -> bool:
        from fabric.steps.eos import eos_commit

        if not names or self.nr is None:
            return True
        self.say(
            "commit", None, f"committing {len(names)} switch(es), revert in {self.opts.revert_in}s"
        )
        agg = run_on(
            self.nr,
            names,
            eos_commit,
            "commit",
            session=self.session,
            revert_in=self.opts.revert_in,
        )
        failures = host_failures(agg, names)
        ok = True
        for name in names:
            if name in failures:
                self.fail(name, "switch", failures[name])
                ok = False
        # a session whose commit failed is still open on the device: abort it
        self._abort_open_sessions(set(failures))
        for name in names:
            if name in failures:
                continue
            r = self.row(name, "switch")
            r.changed = r.committed = True
            self.say("commit", name, "committed (pending confirm)")
        self.persist()
        return ok

    def _apply_calico(self, changes: list[CalicoChange]) -> bool:
        from fabric.steps.calico import apply_change

        if not changes:
            return True
        assert self.client is not None
        for ch in sorted(changes, key=lambda c: c.order):
            try:
                apply_change(self.client, ch)
            except FabricError as exc:
                self.fail(ch.host, "calico", RuntimeError(f"{ch.key}: {exc}"))
                self.row(ch.host, "calico").unreachable = isinstance(exc, UnreachableError)
                self.persist()
                return False
            self.applied.append(ch)
            r = self.row(ch.host, "calico")
            r.changed = r.committed = True
            self.say("apply", ch.host, f"{ch.key} {ch.action}d")
        self.persist()
        return True

    def _gate(self, nr: Nornir, intent: Intent, chosen: set[str]) -> list[str]:
        from fabric.steps.collect import ssh_client_loop

        # every node's SSH on one shared asyncio loop (not one loop per worker thread)
        with ssh_client_loop():
            return self._gate_loop(nr, intent, chosen)

    def _gate_loop(self, nr: Nornir, intent: Intent, chosen: set[str]) -> list[str]:
        from fabric.steps.calico import PLURALS
        from fabric.steps.health import check_node_health, check_switch_health, expected_state

        opts = self.opts
        blocks: dict[str, list[str]] = {}
        if self.client is None:
            try:
                self.client = calico_client(nr, intent.cluster.name, insecure=opts.insecure)
            except FabricError as exc:
                return [f"{intent.cluster.name}: {exc}"]
        try:
            assert "BlockAffinity" in PLURALS
            for ba in self.client.list("BlockAffinity"):
                spec = ba.get("spec") or {}
                if spec.get("state", "confirmed") == "confirmed" and spec.get("deleted") in (
                    None,
                    False,
                    "false",
                ):
                    blocks.setdefault(str(spec.get("node")), []).append(str(spec.get("cidr")))
        except FabricError as exc:
            return [f"{intent.cluster.name}: cannot read BlockAffinity objects: {exc}"]
        switches = {s.name for s in intent.switches if s.name in chosen}
        nodes = {n.name for n in intent.nodes if n.name in chosen or n.tor in switches}
        exp = expected_state(intent, blocks, switches=switches, nodes=nodes)
        pending = set(exp.switches) | set(exp.nodes)
        self.say(
            "gate",
            None,
            f"waiting for {len(exp.switches)} switch(es) and {len(exp.nodes)} node(s), "
            f"up to {opts.gate_timeout:.0f}s",
        )
        problems: dict[str, list[str]] = {h: ["not checked yet"] for h in pending}
        deadline = time.monotonic() + opts.gate_timeout
        total = len(pending)
        tor_of = {n.name: n.tor for n in intent.nodes}

        def poll(names: set[str], check: Any) -> None:
            if not names:
                return
            for host, multi in run_on(nr, names, check, "gate").items():
                if multi.failed:
                    err = next((r.exception for r in multi if r.exception), None)
                    problems[host] = [f"{host}: {error_text(err)}"]
                else:
                    problems[host] = list(multi[0].result)
                if not problems[host]:
                    pending.discard(host)

        def check_switch(t: Any) -> Any:
            return check_switch_health(t, exp.switches[t.host.name])

        def check_node(t: Any) -> Any:
            return check_node_health(t, exp.nodes[t.host.name])

        while True:
            # The switches first (one eAPI request each); a node is read over SSH once the
            # switch side of its session is healthy: polling 1,000 nodes while their switches
            # still converge would only repeat what the switch already says.
            poll({h for h in pending if h in exp.switches}, check_switch)
            poll({h for h in pending if h in exp.nodes and tor_of[h] not in pending}, check_node)
            left = deadline - time.monotonic()
            self.say(
                "gate",
                None,
                f"{total - len(pending)}/{total} host(s) healthy, {max(left, 0):.0f}s left",
            )
            if not pending:
                return []
            if left <= 0:
                # the node side of sessions whose switch side failed: read once, for the report
                poll({h for h in pending if problems[h] == ["not checked yet"]}, check_node)
                return [p for h in sorted(pending) for p in problems[h]]
            time.sleep(min(opts.gate_interval, max(left, 0.05)))
            nr.close_connections(on_good=False, on_failed=True)

    def _confirm(self, names: list[str]) -> bool:
        from fabric.steps.eos import eos_confirm

        if not names or self.nr is None:
            for r in self.report.hosts:
                if r.kind == "calico" and r.committed:
                    r.confirmed = True
            return True
        agg = run_on(self.nr, names, eos_confirm, "confirm", session=self.session)
        failures = host_failures(agg, names)
        for name in names:
            if name in failures:
                self.fail(name, "switch", failures[name])
            else:
                self.row(name, "switch").confirmed = True
                self.say("confirm", name, "confirmed")
        if not failures:
            for r in self.report.hosts:
                if r.kind == "calico" and r.committed:
                    r.confirmed = True
        self.persist()
        return not failures

    def _fail_and_roll_back(self, reason: str) -> DeployReport:
        """Roll back every host changed in this run (unless --no-rollback)."""
        if not self.opts.rollback:
            committed = [r.host for r in self.report.hosts if r.kind == "switch" and r.committed]
            if committed:
                self.say(
                    "rollback",
                    None,
                    f"--no-rollback: {len(committed)} switch(es) revert by their own timer "
                    f"within {self.opts.revert_in}s unless confirmed",
                )
            return self.finish("pending-revert", f"{reason}; not rolled back (--no-rollback)")
        self.say("rollback", None, f"{reason}: rolling back every host changed in this run")
        problems = self.roll_back()
        if problems:
            return self.finish("failed", f"{reason}; rollback incomplete: {'; '.join(problems)}")
        return self.finish("rolled-back", reason)

    def roll_back(self) -> list[str]:
        """Undo this run's changes: Calico in reverse order, then the switches."""
        from fabric.steps.calico import restore_object
        from fabric.steps.eos import eos_restore

        problems: list[str] = []
        for ch in reversed(self.applied):
            assert self.client is not None
            try:
                restore_object(self.client, ch.kind, ch.name, ch.current, expect_rv=ch.written_rv)
            except FabricError as exc:
                problems.append(f"{ch.host} {ch.key}: {exc}")
                continue
            self.row(ch.host, "calico").rolled_back = True
            self.say("rollback", ch.host, f"{ch.key} restored")
        names = [r.host for r in self.report.hosts if r.kind == "switch" and r.committed]
        if names and self.nr is not None:
            plans = self.plans
            session = self.session
            self.nr.close_connections(on_good=False, on_failed=True)
            agg = run_on(
                self.nr,
                names,
                lambda t: eos_restore(t, plans[t.host.name].running, session, dry_run=False),
                "rollback",
            )
            failures = host_failures(agg, names)
            for name in names:
                r = self.row(name, "switch")
                if name in failures:
                    err = failures[name]
                    note = error_text(err)
                    if is_unreachable(err) and self.opts.revert_in > 0:
                        note += f" (its commit timer reverts it within {self.opts.revert_in}s)"
                    problems.append(f"{name}: {note}")
                    r.error = r.error or note
                else:
                    r.rolled_back = True
                    self.say("rollback", name, "restored")
        self.persist()
        return problems


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
