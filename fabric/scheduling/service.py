"""Scheduling jobs into the state database, and the scheduler process that runs them.

The job store is APScheduler 3's ``SQLAlchemyJobStore`` in ``<state>/state.db``. Job functions
are stored by import string (``fabric.scheduling.jobs:job_rollback``), so jobs survive restarts
and upgrades. Commands that add, list or cancel jobs open the store through a scheduler that
never processes jobs (:class:`_StoreScheduler`); only ``python -m fabric scheduler``
(:func:`run_scheduler`) runs them.

Guarantees on top of APScheduler:

- **Once only across schedulers.** Before an occurrence runs, the executor claims it with an
  ``INSERT`` into ``schedule_job_runs`` under ``UNIQUE(job_id, scheduled_for)``; a scheduler
  whose insert did not land skips it. Job-store races between schedulers (the other one already
  updated or removed the job) are absorbed instead of killing the scheduler thread.
- **Never silently skipped.** A run missed by more than the job's grace time is recorded as
  ``missed`` (``EVENT_JOB_MISSED``); a run refused because the previous one still runs is
  recorded as ``skipped``; a claim left by a killed scheduler is recorded as ``interrupted``.
- **Recorded with the runs.** Every occurrence also gets a row of kind ``scheduled`` in the
  deploy/rollback ``runs`` table (``fabric.state_db``) naming the job, who scheduled it, the
  run it produced and its report.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler, MaxInstancesReachedError
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from fabric.adapters.apscheduler import PollingScheduler
from fabric.errors import RunFailedError, UsageError
from fabric.models.outcome import Outcome
from fabric.paths import ProjectPaths
from fabric.scheduling.kinds import JOB_FUNCTIONS, JobResult
from fabric.scheduling.store import JobRecord, JobRun, ScheduleStore, open_engine
from fabric.scheduling.timespec import format_duration, from_utc_iso, parse_zone, to_utc_iso
from fabric.state_db import StateDB, current_user, default_db_path, new_run_id

log = logging.getLogger("fabric.scheduler")

#: Default misfire grace time: a run late by more than this is recorded as missed.
DEFAULT_GRACE = timedelta(minutes=10)

#: How often a running scheduler looks for jobs added by other processes (seconds).
DEFAULT_POLL = 2.0

APSCHEDULER_TABLE = "apscheduler_jobs"


@dataclass(frozen=True)
class ScheduledJob:
    """A job as ``schedule list`` shows it.

    Attributes:
        record: what was scheduled, by whom and when (``schedule_jobs``).
        next_run: the next fire time in UTC, None when the job no longer fires.
    """

    record: JobRecord
    next_run: datetime | None

    @property
    def job_id(self) -> str:
        """The job's id (``schedule cancel`` takes it)."""
        return self.record.job_id

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (times in UTC, ISO 8601)."""
        r = self.record
        return {
            "id": r.job_id,
            "kind": r.kind,
            "params": r.params,
            "trigger": r.trigger,
            "schedule": describe_trigger(r.trigger),
            "next_run": to_utc_iso(self.next_run) if self.next_run else None,
            "grace_seconds": r.grace_seconds,
            "scheduled_by": r.scheduled_by,
            "scheduled_at": to_utc_iso(r.scheduled_at),
            "status": r.status,
        }


def describe_trigger(spec: dict[str, Any]) -> str:
    """``at 2026-11-27T05:00:00Z``, ``every 15m``, ``cron '*/15 * * * *' (UTC)``."""
    kind = spec.get("type")
    if kind == "date":
        return f"at {spec['at']}"
    if kind == "interval":
        return f"every {format_duration(timedelta(seconds=spec['seconds']))}"
    if kind == "cron":
        return f"cron {spec['expr']!r} ({spec.get('tz', 'UTC')})"
    return str(spec)


def build_trigger(spec: dict[str, Any]) -> BaseTrigger:
    """The APScheduler trigger for a stored trigger spec."""
    kind = spec.get("type")
    if kind == "date":
        return DateTrigger(run_date=from_utc_iso(spec["at"]), timezone=UTC)
    if kind == "interval":
        start = from_utc_iso(spec["start"]) if spec.get("start") else None
        return IntervalTrigger(seconds=int(spec["seconds"]), start_date=start, timezone=UTC)
    if kind == "cron":
        return CronTrigger.from_crontab(spec["expr"], timezone=parse_zone(spec.get("tz", "UTC")))
    raise UsageError(f"unknown trigger type {kind!r}")


# ------------------------------------------------------------------------------------ stores


class _StoreScheduler(BaseScheduler):  # type: ignore[misc]
    """A scheduler that only reads and writes the job store: it never runs a job."""

    def wakeup(self) -> None:  # nothing to wake: jobs run in ``python -m fabric scheduler``
        return None

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait=wait)


def _jobstore(engine: Engine) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=engine, tablename=APSCHEDULER_TABLE)


@contextlib.contextmanager
def _open_store(paths: ProjectPaths) -> Iterator[tuple[BaseScheduler, ScheduleStore]]:
    engine = open_engine(paths)
    sched = _StoreScheduler(jobstores={"default": _jobstore(engine)}, timezone=UTC)
    sched.start(paused=True)
    try:
        yield sched, ScheduleStore(engine)
    finally:
        sched.shutdown(wait=False)
        engine.dispose()


def _new_job_id(kind: str) -> str:
    return f"{kind}-{secrets.token_hex(4)}"


def add_job(
    paths: ProjectPaths,
    *,
    kind: str,
    params: dict[str, Any],
    trigger: dict[str, Any],
    grace: timedelta = DEFAULT_GRACE,
    job_id: str | None = None,
    func: str | None = None,
) -> ScheduledJob:
    """Persist a job; a running scheduler picks it up within its poll interval.

    Args:
        paths: the project (its state database holds the job).
        kind: one of :data:`JOB_FUNCTIONS` (or any label when ``func`` is given).
        params: keyword arguments of the job function (JSON types only).
        trigger: ``{"type": "date", "at": ISO}``, ``{"type": "interval", "seconds": N}`` or
            ``{"type": "cron", "expr": "*/15 * * * *", "tz": "UTC"}``.
        grace: misfire grace time; a run later than this is recorded as missed.
        job_id: a fixed id (default: ``<kind>-<random>``).
        func: the job function's import string (default: from :data:`JOB_FUNCTIONS`).

    Raises:
        UsageError: unknown kind, a past time, or a job with this id is already scheduled.
    """
    ref = func or JOB_FUNCTIONS.get(kind)
    if ref is None:
        raise UsageError(f"unknown job kind {kind!r} (one of {', '.join(JOB_FUNCTIONS)})")
    if trigger.get("type") == "date" and from_utc_iso(trigger["at"]) <= datetime.now(UTC):
        raise UsageError(f"time {trigger['at']} is in the past: a schedule needs a future time")
    if trigger.get("type") == "interval" and not trigger.get("start"):
        # Anchor the interval (first run one interval from now), so every scheduler computes
        # the same run times.
        first = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=trigger["seconds"])
        trigger = {**trigger, "start": to_utc_iso(first)}
    job_id = job_id or _new_job_id(kind)
    grace_s = max(1, int(grace.total_seconds()))
    with _open_store(paths) as (sched, store):
        try:
            job = sched.add_job(
                ref,
                trigger=build_trigger(trigger),
                id=job_id,
                name=f"{kind} {job_id}",
                kwargs=params,
                misfire_grace_time=grace_s,
                coalesce=True,
                max_instances=1,
                replace_existing=False,
            )
        except ConflictingIdError:
            raise UsageError(f"a job with id {job_id!r} is already scheduled") from None
        except (ValueError, TypeError, LookupError) as exc:  # APScheduler's checks of func/kwargs
            raise UsageError(f"cannot schedule {kind} job: {exc}") from None
        store.add_job(
            job_id=job_id,
            kind=kind,
            params=params,
            trigger=trigger,
            grace_seconds=grace_s,
            scheduled_by=current_user(),
        )
        record = store.get_job(job_id)
        assert record is not None
        return ScheduledJob(record, job.next_run_time)


def list_jobs(paths: ProjectPaths, *, include_ended: bool = False) -> list[ScheduledJob]:
    """Active jobs (and, with ``include_ended``, finished/cancelled ones), soonest first."""
    with _open_store(paths) as (sched, store):
        next_runs = {j.id: j.next_run_time for j in sched.get_jobs()}
        out = [
            ScheduledJob(r, next_runs.get(r.job_id))
            for r in store.jobs()
            if include_ended or r.status == "active"
        ]
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(out, key=lambda j: (j.next_run or far, j.record.scheduled_at))


def get_job(paths: ProjectPaths, job_id: str) -> ScheduledJob:
    """One job by id.

    Raises:
        UsageError: no such job.
    """
    with _open_store(paths) as (sched, store):
        record = store.get_job(job_id)
        if record is None:
            raise UsageError(f"no scheduled job {job_id!r} (see: python -m fabric schedule list)")
        job = sched.get_job(job_id)
        return ScheduledJob(record, job.next_run_time if job is not None else None)


def cancel_job(paths: ProjectPaths, job_id: str, *, status: str = "cancelled") -> ScheduledJob:
    """Remove a pending job from the store; its record stays (status ``cancelled``).

    Raises:
        UsageError: no such job, or it already ended (ran, was cancelled or confirmed).
    """
    with _open_store(paths) as (sched, store):
        record = store.get_job(job_id)
        if record is None:
            raise UsageError(f"no scheduled job {job_id!r} (see: python -m fabric schedule list)")
        job = sched.get_job(job_id)
        if job is None and any(r.outcome == "running" for r in store.runs(job_id)):
            raise UsageError(f"job {job_id!r} is running now: it can no longer be cancelled")
        removed = False
        with contextlib.suppress(JobLookupError):
            sched.remove_job(job_id)
            removed = True
        ended = store.end_job(job_id, status, by=current_user())
        if not removed and not ended:
            runs = store.runs(job_id)
            last = (
                f"; last run {runs[-1].outcome} at {to_utc_iso(runs[-1].scheduled_for)}"
                if runs
                else ""
            )
            raise UsageError(f"job {job_id!r} is no longer pending (status {record.status}{last})")
        final = store.get_job(job_id)
        assert final is not None
        return ScheduledJob(final, job.next_run_time if job is not None else None)


def job_runs(paths: ProjectPaths, job_id: str | None = None) -> list[JobRun]:
    """Recorded occurrences of one job (or of all jobs)."""
    engine = open_engine(paths)
    try:
        return ScheduleStore(engine).runs(job_id)
    finally:
        engine.dispose()


def confirm_job_id(run_id: str) -> str:
    """The fixed id of the confirm-within rollback of ``run_id``."""
    return f"confirm-{run_id}"


def schedule_confirm_window(
    paths: ProjectPaths,
    run_id: str,
    seconds: float,
    *,
    lab: bool | None = None,
    grace: timedelta = DEFAULT_GRACE,
) -> str:
    """Schedule the rollback of ``run_id`` in ``seconds`` unless ``confirm RUN_ID`` comes first.

    Used by ``run deploy --confirm-within DURATION`` after a successful deploy. The job id is
    ``confirm-<run_id>`` (see :func:`confirm_run`).

    Args:
        paths: the project.
        run_id: the deploy run to roll back.
        seconds: the confirmation window (> 0).
        lab: roll back against the running lab; None (default): wherever the run deployed
            (its recorded options).
        grace: how late the rollback may still run if the scheduler was down.

    Returns:
        The job id.

    Raises:
        UsageError: a window for this run is already pending, or ``seconds`` is not positive.
    """
    if seconds <= 0:
        raise UsageError("the confirm-within window must be longer than zero")
    at = datetime.now(UTC) + timedelta(seconds=seconds)
    job = add_job(
        paths,
        kind="confirm-rollback",
        params={"run_id": run_id, "lab": lab, "reason": "confirm-within window expired"},
        trigger={"type": "date", "at": to_utc_iso(at)},
        grace=grace,
        job_id=confirm_job_id(run_id),
    )
    return job.job_id


def confirm_run(paths: ProjectPaths, run_id: str) -> ScheduledJob:
    """Cancel the pending confirm-within rollback of ``run_id``.

    Raises:
        UsageError: no confirm window was ever scheduled for this run.
        RunFailedError: the window already expired (the rollback ran, or was missed).
    """
    job_id = confirm_job_id(run_id)
    with _open_store(paths) as (sched, store):
        record = store.get_job(job_id)
        if record is None:
            raise UsageError(f"run {run_id!r} has no confirm-within window to confirm")
        if record.status == "confirmed":
            raise UsageError(f"run {run_id!r} was already confirmed by {record.ended_by}")
        job = sched.get_job(job_id)
        removed = False
        with contextlib.suppress(JobLookupError):
            sched.remove_job(job_id)
            removed = True
        if not removed or not store.end_job(job_id, "confirmed", by=current_user()):
            runs = store.runs(job_id)
            what = (
                f"the rollback was {runs[-1].outcome} at {to_utc_iso(runs[-1].scheduled_for)}"
                if runs
                else f"the job is {record.status}"
            )
            raise RunFailedError(f"too late to confirm run {run_id!r}: {what}")
        final = store.get_job(job_id)
        assert final is not None
        return ScheduledJob(final, job.next_run_time if job is not None else None)


# -------------------------------------------------------------------------------- scheduler


def instance_name() -> str:
    """``host:pid:random``: who claimed an occurrence."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class _ClaimingExecutor(ThreadPoolExecutor):  # type: ignore[misc]
    """Runs an occurrence only after claiming it in ``schedule_job_runs``."""

    def __init__(self, recorder: _Recorder, max_workers: int) -> None:
        super().__init__(max_workers=max_workers)
        self._recorder = recorder

    def submit_job(self, job: Job, run_times: list[datetime]) -> None:
        if self._scheduler.state == STATE_STOPPED:
            # Shutting down: leave the occurrence unclaimed for the next scheduler.
            log.info("job %s not started: the scheduler is shutting down", job.id)
            return
        claimed = [t for t in run_times if self._recorder.claim(job.id, dict(job.kwargs), t)]
        if not claimed:
            log.debug("job %s at %s: claimed by another scheduler", job.id, run_times)
            return
        try:
            super().submit_job(job, claimed)
        except MaxInstancesReachedError:
            for t in claimed:
                self._recorder.close(
                    job.id,
                    t,
                    outcome="skipped",
                    message="the previous run was still running",
                    ran=False,
                )
            raise
        except Exception as exc:
            for t in claimed:
                self._recorder.close(
                    job.id, t, outcome="failed", message=f"could not start: {exc}", ran=False
                )
            raise


class _Recorder:
    """Claims occurrences and records their outcomes (our tables and the runs table)."""

    def __init__(self, paths: ProjectPaths, engine: Engine, instance: str) -> None:
        self.paths = paths
        self.store = ScheduleStore(engine)
        self.instance = instance
        self.state_db = StateDB(default_db_path(paths.state))

    def claim(
        self,
        job_id: str,
        params: dict[str, Any],
        scheduled_for: datetime,
        kind: str | None = None,
    ) -> bool:
        record_id = new_run_id()
        if not self.store.claim(job_id, scheduled_for, self.instance, record_id):
            return False
        rec = self.store.get_job(job_id)
        options = {
            "job_id": job_id,
            "job_kind": rec.kind if rec else kind,
            "params": params,
            "scheduled_by": rec.scheduled_by if rec else None,
            "scheduled_for": to_utc_iso(scheduled_for),
            "scheduler": self.instance,
        }
        try:
            self.state_db.create_run(
                record_id,
                kind="scheduled",
                inventory=self.paths.rel(self.paths.inventory),
                intent_hash="",
                dry_run=False,
                options=options,
            )
        except Exception:  # the claim stands: the job must run even if the runs row fails
            log.exception("job %s: could not record the run in the runs table", job_id)
        return True

    def close(
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
        self.store.finish(
            job_id,
            scheduled_for,
            outcome=outcome,
            run_id=run_id,
            report_path=report_path,
            message=message,
            ran=ran,
        )
        record_id = next(
            (
                r.record_id
                for r in self.store.runs(job_id)
                if r.scheduled_for == scheduled_for.astimezone(UTC)
            ),
            None,
        )
        if record_id:
            detail = "; ".join(
                x
                for x in (
                    f"{outcome}" if outcome not in ("ok", "failed") else "",
                    f"run {run_id}" if run_id else "",
                    f"report {report_path}" if report_path else "",
                    message or "",
                )
                if x
            )
            try:
                self.state_db.finish_run(
                    record_id,
                    Outcome.OK if outcome == "ok" else Outcome.FAILED,
                    error=detail or None,
                )
            except Exception:
                log.exception("job %s: could not record the outcome in the runs table", job_id)
        rec = self.store.get_job(job_id)
        if rec is not None and rec.trigger.get("type") == "date":
            self.store.end_job(job_id, "done")
        log.info(
            "job %s (%s) scheduled for %s: %s%s%s%s",
            job_id,
            rec.kind if rec else job_id.rsplit("-", 1)[0],
            to_utc_iso(scheduled_for),
            outcome,
            f", run {run_id}" if run_id else "",
            f", report {report_path}" if report_path else "",
            f": {message}" if message else "",
        )

    def on_event(self, event: JobExecutionEvent) -> None:
        when: datetime = event.scheduled_run_time
        if event.code == EVENT_JOB_MISSED:
            late = format_duration(datetime.now(UTC) - when)
            rec = self.store.get_job(event.job_id)
            grace = format_duration(timedelta(seconds=rec.grace_seconds)) if rec else "?"
            self.close(
                event.job_id,
                when,
                outcome="missed",
                message=f"missed by {late} (grace time {grace}): not run",
                ran=False,
            )
        elif event.code == EVENT_JOB_ERROR:
            exc = event.exception
            self.close(event.job_id, when, outcome="failed", message=f"{type(exc).__name__}: {exc}")
        elif event.code == EVENT_JOB_EXECUTED:
            ret = event.retval if isinstance(event.retval, dict) else {}
            self.close(
                event.job_id,
                when,
                outcome=str(ret.get("outcome", "ok")),
                run_id=ret.get("run_id"),
                report_path=ret.get("report_path"),
                message=ret.get("message"),
            )


def run_scheduler(
    paths: ProjectPaths,
    *,
    poll_interval: float = DEFAULT_POLL,
    max_workers: int = 4,
    stop: threading.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Run the scheduler until ``stop`` is set (or SIGTERM/SIGINT arrives).

    Jobs due while the scheduler was down run at start if they are within their grace time,
    otherwise they are recorded as missed. On shutdown no new job starts and running jobs
    are waited for.

    Args:
        paths: the project whose state database holds the jobs.
        poll_interval: how often to look for jobs added by other processes (seconds).
        max_workers: jobs that may run at the same time.
        stop: an event that ends the scheduler (tests, embedding).
        handle_signals: install SIGTERM/SIGINT handlers (main thread only).
    """
    stop = stop or threading.Event()
    instance = instance_name()
    engine = open_engine(paths)
    recorder = _Recorder(paths, engine, instance)
    interrupted = recorder.store.mark_interrupted(instance)
    if interrupted:
        log.warning("%d job run(s) were interrupted by a previous scheduler's death", interrupted)
    sched = PollingScheduler(
        poll_interval=poll_interval,
        jobstores={"default": _jobstore(engine)},
        executors={"default": _ClaimingExecutor(recorder, max_workers)},
        timezone=UTC,
    )
    sched.add_listener(recorder.on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    previous: dict[signal.Signals, Any] = {}
    if handle_signals and threading.current_thread() is threading.main_thread():

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("received %s: shutting down", signal.Signals(signum).name)
            stop.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, _on_signal)
    try:
        sched.start()
        log.info(
            "scheduler %s started on %s (%d job(s), poll every %ss)",
            instance,
            paths.rel(paths.state / "state.db"),
            len(sched.get_jobs()),
            poll_interval,
        )
        stop.wait()
    finally:
        if sched.running:
            log.info("scheduler stopping: waiting for running jobs to finish")
            sched.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        engine.dispose()
        log.info("scheduler %s stopped", instance)


def run_job_once(
    paths: ProjectPaths,
    kind: str,
    params: dict[str, Any],
    *,
    job_id: str | None = None,
    scheduled_for: datetime | None = None,
) -> JobResult:
    """Run one occurrence of a job in this process, claimed and recorded like the scheduler's.

    What ``schedule exec`` (and so every exported Kubernetes manifest) runs. ``job_id`` and
    ``scheduled_for`` identify the occurrence: a second run of the same pair is refused (the
    claim), e.g. a CronJob pod retried for the same schedule time.

    Raises:
        UsageError: unknown kind, bad parameters, or this occurrence was already claimed.
    """
    from fabric.scheduling.kinds import check_params, run_job_now

    check_params(kind, params)
    job_id = job_id or f"exec-{kind}"
    when = scheduled_for or datetime.now(UTC)
    engine = open_engine(paths)
    try:
        recorder = _Recorder(paths, engine, instance_name())
        if not recorder.claim(job_id, params, when, kind=kind):
            raise UsageError(
                f"job {job_id} scheduled for {to_utc_iso(when)} was already run (claimed)"
            )
        try:
            result = run_job_now(kind, params)
        except Exception as exc:
            recorder.close(job_id, when, outcome="failed", message=f"{type(exc).__name__}: {exc}")
            raise
        recorder.close(
            job_id,
            when,
            outcome=result["outcome"],
            run_id=result["run_id"],
            report_path=result["report_path"],
            message=result["message"],
        )
        return result
    finally:
        engine.dispose()
