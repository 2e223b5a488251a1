"""The scheduler's own tables in the project's state database (``<state>/state.db``).

APScheduler keeps its job store (``apscheduler_jobs``: trigger, next run, pickled job) in the
same SQLite file. Next to it this module keeps two tables of ours:

``schedule_jobs``
    one row per job ever scheduled: kind, parameters, trigger spec, who scheduled it and when,
    and its status (``active``, ``done``, ``cancelled``, ``confirmed``). It outlives the
    APScheduler row, so the history can say who scheduled a job that already ran.
``schedule_job_runs``
    one row per (job, scheduled time): who claimed it, when it ran, its outcome (``running``,
    ``ok``, ``failed``, ``missed``, ``skipped``, ``interrupted``), the run it produced and the
    report path. ``UNIQUE(job_id, scheduled_for)`` is the claim: a scheduler runs a job only
    after its ``INSERT`` of that row succeeded, so two schedulers on one database never run the
    same occurrence twice (APScheduler 3 alone does not guarantee that).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import ExceptionContext

from fabric.paths import ProjectPaths
from fabric.process import pid_alive
from fabric.scheduling.timespec import from_utc_iso, to_utc_iso
from fabric.state_db import StateDBError, prepare_state_db

#: SQLite busy timeout (seconds): writers from several processes wait instead of failing.
BUSY_TIMEOUT = 30.0

metadata = MetaData()

schedule_jobs = Table(
    "schedule_jobs",
    metadata,
    Column("job_id", String, primary_key=True),
    Column("kind", String, nullable=False),
    Column("params", Text, nullable=False),
    Column("trigger", Text, nullable=False),
    Column("grace_seconds", Integer, nullable=False),
    Column("scheduled_by", String, nullable=False),
    Column("scheduled_at", String, nullable=False),
    Column("status", String, nullable=False),
    Column("ended_at", String),
    Column("ended_by", String),
)

schedule_job_runs = Table(
    "schedule_job_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String, nullable=False),
    Column("scheduled_for", String, nullable=False),
    Column("claimed_by", String, nullable=False),
    Column("started", String),
    Column("finished", String),
    Column("outcome", String, nullable=False),
    Column("run_id", String),
    Column("report_path", String),
    Column("message", Text),
    Column("record_id", String),
    UniqueConstraint("job_id", "scheduled_for", name="uq_schedule_job_runs_claim"),
)


def state_db_path(paths: ProjectPaths) -> Path:
    """``<state>/state.db``: the database shared with deploy/rollback."""
    return paths.state / "state.db"


def open_engine(paths: ProjectPaths) -> Engine:
    """An engine on the state database, creating the file with mode 0600 if needed."""
    db = state_db_path(paths)
    prepare_state_db(db)  # ours, versioned, 0600: checked before SQLAlchemy touches it
    engine = create_engine(f"sqlite:///{db}", connect_args={"timeout": BUSY_TIMEOUT})

    def damaged(context: ExceptionContext) -> None:
        # a file damaged after the check (a flipped page, text that is not UTF-8): one line
        # naming it instead of SQLAlchemy's traceback; constraint errors stay what they are
        exc = context.original_exception
        if isinstance(exc, UnicodeDecodeError) or type(exc) in (
            sqlite3.DatabaseError,
            sqlite3.OperationalError,
        ):
            raise StateDBError(f"{db}: state database error: {exc}") from None

    event.listen(engine, "handle_error", damaged)
    metadata.create_all(engine)
    return engine


def _now() -> str:
    return to_utc_iso(datetime.now(UTC))


@dataclass(frozen=True)
class JobRecord:
    """One scheduled job as recorded in ``schedule_jobs``."""

    job_id: str
    kind: str
    params: dict[str, Any]
    trigger: dict[str, Any]
    grace_seconds: int
    scheduled_by: str
    scheduled_at: datetime
    status: str
    ended_at: datetime | None
    ended_by: str | None


@dataclass(frozen=True)
class JobRun:
    """One occurrence of a job: claimed, then ran (or was missed)."""

    job_id: str
    scheduled_for: datetime
    claimed_by: str
    started: datetime | None
    finished: datetime | None
    outcome: str
    run_id: str | None
    report_path: str | None
    message: str | None
    record_id: str | None = None


def _opt_time(text: str | None) -> datetime | None:
    return from_utc_iso(text) if text else None


class ScheduleStore:
    """Reads and writes ``schedule_jobs`` and ``schedule_job_runs``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- jobs -------------------------------------------------------------------------------
    def add_job(
        self,
        *,
        job_id: str,
        kind: str,
        params: dict[str, Any],
        trigger: dict[str, Any],
        grace_seconds: int,
        scheduled_by: str,
    ) -> None:
        """Record a newly scheduled job (status ``active``)."""
        with self.engine.begin() as conn:
            conn.execute(
                sqlite_insert(schedule_jobs)
                .values(
                    job_id=job_id,
                    kind=kind,
                    params=json.dumps(params, sort_keys=True),
                    trigger=json.dumps(trigger, sort_keys=True),
                    grace_seconds=grace_seconds,
                    scheduled_by=scheduled_by,
                    scheduled_at=_now(),
                    status="active",
                )
                .on_conflict_do_update(
                    index_elements=["job_id"],
                    set_={
                        "kind": kind,
                        "params": json.dumps(params, sort_keys=True),
                        "trigger": json.dumps(trigger, sort_keys=True),
                        "grace_seconds": grace_seconds,
                        "scheduled_by": scheduled_by,
                        "scheduled_at": _now(),
                        "status": "active",
                        "ended_at": None,
                        "ended_by": None,
                    },
                )
            )

    def end_job(self, job_id: str, status: str, by: str | None = None) -> bool:
        """Mark an active job ``done``/``cancelled``/``confirmed``; False if it was not active."""
        with self.engine.begin() as conn:
            res = conn.execute(
                update(schedule_jobs)
                .where(schedule_jobs.c.job_id == job_id, schedule_jobs.c.status == "active")
                .values(status=status, ended_at=_now(), ended_by=by)
            )
            return res.rowcount == 1

    def get_job(self, job_id: str) -> JobRecord | None:
        """The record of one job, whatever its status."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(schedule_jobs).where(schedule_jobs.c.job_id == job_id)
            ).first()
        return self._job(row._mapping) if row is not None else None

    def jobs(self, status: str | None = None) -> list[JobRecord]:
        """Every job record (optionally of one status), oldest first."""
        q = select(schedule_jobs).order_by(schedule_jobs.c.scheduled_at, schedule_jobs.c.job_id)
        if status is not None:
            q = q.where(schedule_jobs.c.status == status)
        with self.engine.connect() as conn:
            return [self._job(r._mapping) for r in conn.execute(q)]

    @staticmethod
    def _job(m: Any) -> JobRecord:
        return JobRecord(
            job_id=m["job_id"],
            kind=m["kind"],
            params=json.loads(m["params"]),
            trigger=json.loads(m["trigger"]),
            grace_seconds=m["grace_seconds"],
            scheduled_by=m["scheduled_by"],
            scheduled_at=from_utc_iso(m["scheduled_at"]),
            status=m["status"],
            ended_at=_opt_time(m["ended_at"]),
            ended_by=m["ended_by"],
        )

    # -- runs -------------------------------------------------------------------------------
    def claim(
        self, job_id: str, scheduled_for: datetime, claimed_by: str, record_id: str | None = None
    ) -> bool:
        """Atomically claim one occurrence; True only for the first claimant."""
        with self.engine.begin() as conn:
            res = conn.execute(
                sqlite_insert(schedule_job_runs)
                .values(
                    job_id=job_id,
                    scheduled_for=to_utc_iso(scheduled_for),
                    claimed_by=claimed_by,
                    started=_now(),
                    outcome="running",
                    record_id=record_id,
                )
                .on_conflict_do_nothing(index_elements=["job_id", "scheduled_for"])
            )
            return res.rowcount == 1

    def finish(
        self,
        job_id: str,
        scheduled_for: datetime,
        *,
        outcome: str,
        run_id: str | None = None,
        report_path: str | None = None,
        message: str | None = None,
        ran: bool = True,
    ) -> None:
        """Record the outcome of a claimed occurrence."""
        values: dict[str, Any] = {
            "outcome": outcome,
            "finished": _now(),
            "run_id": run_id,
            "report_path": report_path,
            "message": message,
        }
        if not ran:
            values["started"] = None
        with self.engine.begin() as conn:
            conn.execute(
                update(schedule_job_runs)
                .where(
                    schedule_job_runs.c.job_id == job_id,
                    schedule_job_runs.c.scheduled_for == to_utc_iso(scheduled_for),
                )
                .values(**values)
            )

    def runs(self, job_id: str | None = None) -> list[JobRun]:
        """Recorded occurrences (of one job, or all), in scheduled order."""
        q = select(schedule_job_runs).order_by(
            schedule_job_runs.c.scheduled_for, schedule_job_runs.c.id
        )
        if job_id is not None:
            q = q.where(schedule_job_runs.c.job_id == job_id)
        with self.engine.connect() as conn:
            return [
                JobRun(
                    job_id=m["job_id"],
                    scheduled_for=from_utc_iso(m["scheduled_for"]),
                    claimed_by=m["claimed_by"],
                    started=_opt_time(m["started"]),
                    finished=_opt_time(m["finished"]),
                    outcome=m["outcome"],
                    run_id=m["run_id"],
                    report_path=m["report_path"],
                    message=m["message"],
                    record_id=m["record_id"],
                )
                for m in (r._mapping for r in conn.execute(q))
            ]

    def mark_interrupted(self, own_instance: str) -> int:
        """Close ``running`` rows whose claimant (a process on this host) is gone.

        A scheduler killed while a job ran leaves its claim open; the next start records it as
        ``interrupted`` instead of leaving it ``running`` forever. Returns how many were closed.
        """
        host = socket.gethostname()
        closed = 0
        for run in self.runs():
            if run.outcome != "running":
                continue
            claim_host, _, rest = run.claimed_by.partition(":")
            pid_text = rest.partition(":")[0]
            if claim_host != host or not pid_text.isdigit() or run.claimed_by == own_instance:
                continue
            pid = int(pid_text)
            if pid != os.getpid() and pid_alive(pid):
                continue
            self.finish(
                run.job_id,
                run.scheduled_for,
                outcome="interrupted",
                message=f"scheduler {run.claimed_by} stopped while the job ran",
            )
            job = self.get_job(run.job_id)
            if job is not None and job.trigger.get("type") == "date":
                self.end_job(run.job_id, "done")
            closed += 1
        return closed
