"""What a run did: one row per host and the outcome, shared by deploy and rollback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fabric.errors import ExitCode
from fabric.models.outcome import Outcome
from fabric.runs.failures import HOST_ACCESS, FailureKind, classify, error_text
from fabric.state_db import HostRow, StateDB

#: ``progress(stage, host, message)``: stage is plan/snapshot/commit/apply/gate/confirm/rollback.
ProgressFn = Callable[[str, str | None, str], None]

HostKind = Literal["switch", "calico"]


@dataclass
class HostReport:
    """One row of a run's table: what happened to one host."""

    host: str
    kind: HostKind
    changed: bool = False
    committed: bool = False
    confirmed: bool = False
    rolled_back: bool = False
    error: str | None = None
    diff: str = ""
    failure: FailureKind | None = None
    #: The batch of a rolling deploy the host was in (None: not rolling).
    batch: int | None = None

    def note(self, text: str) -> None:
        """Add ``text`` to the row's error (kept when there is one already)."""
        self.error = f"{self.error}; {text}" if self.error else text

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
            "failure": self.failure,
            "diff": self.diff,
            "batch": self.batch,
        }


@dataclass
class RunReport:
    """What a deploy or a rollback did: the outcome and one row per host."""

    run_id: str
    dry_run: bool
    outcome: Outcome = Outcome.RUNNING
    hosts: list[HostReport] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the run (or the dry-run plan) succeeded on every host."""
        return self.outcome.succeeded

    def _only_unreachable(self) -> bool:
        failed = [h for h in self.hosts if h.error]
        return bool(failed) and all(h.failure in HOST_ACCESS for h in failed)

    @property
    def exit_code(self) -> ExitCode:
        """0 ok; 5 when the failure is a host that could not be reached; 3 otherwise."""
        if self.ok:
            return ExitCode.OK
        return ExitCode.UNREACHABLE if self._only_unreachable() else self.outcome.exit_code

    def host(self, name: str) -> HostReport:
        """The row of ``name`` (KeyError if absent)."""
        for h in self.hosts:
            if h.host == name:
                return h
        raise KeyError(name)

    def row(self, host: str, kind: HostKind) -> HostReport:
        """The row of ``host``, added if it has none yet."""
        try:
            return self.host(host)
        except KeyError:
            self.hosts.append(HostReport(host=host, kind=kind))
            return self.hosts[-1]

    def fail(self, host: str, kind: HostKind, exc: BaseException | None) -> HostReport:
        """Record ``exc`` (masked, one line, classified) as the failure of ``host``."""
        r = self.row(host, kind)
        r.error = error_text(exc)
        r.failure = classify(exc)
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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (diffs are masked)."""
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "dry_run": self.dry_run,
            "outcome": self.outcome.value,
            "error": self.error,
            "hosts": [h.to_json() for h in self.hosts],
        }


@dataclass
class DeployReport(RunReport):
    """What a deploy did."""

    tls: str = ""
    gate_problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    confirm_job: str | None = None
    #: A rolling deploy's batches of switches (empty: all at once).
    batches: list[list[str]] = field(default_factory=list)

    def _only_unreachable(self) -> bool:
        # a failed gate is a verdict on reachable hosts, not an unreachable host
        return super()._only_unreachable() and not self.gate_problems

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (diffs are masked)."""
        extra = ("tls", "gate_problems", "warnings", "confirm_job", "batches")
        return {**super().to_json(), **{k: getattr(self, k) for k in extra}}


@dataclass(kw_only=True)
class RollbackReport(RunReport):
    """What a rollback did (or, as a dry-run, would do)."""

    target_run: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict (diffs masked)."""
        return {**super().to_json(), "target_run": self.target_run}
