"""Scheduled jobs: rollback windows, confirm-within, scheduled deploys, periodic compliance.

Library API (the CLI in ``fabric.cli.schedule`` is a thin layer over it):

- :func:`schedule_confirm_window` — used by ``run deploy --confirm-within DURATION``.
- :func:`add_job`, :func:`list_jobs`, :func:`get_job`, :func:`cancel_job`,
  :func:`confirm_run`, :func:`job_runs` — the job store in ``<state>/state.db``.
- :func:`run_scheduler` — ``python -m fabric scheduler``.
- :mod:`fabric.scheduling.timespec` — durations, times and cron expressions.
- :mod:`fabric.scheduling.k8s` — ``schedule export --k8s``.

See docs/scheduling.md.
"""

from fabric.scheduling.kinds import JOB_FUNCTIONS
from fabric.scheduling.service import (
    DEFAULT_GRACE,
    ScheduledJob,
    add_job,
    cancel_job,
    confirm_job_id,
    confirm_run,
    describe_trigger,
    get_job,
    job_runs,
    list_jobs,
    run_scheduler,
    schedule_confirm_window,
)
from fabric.scheduling.store import JobRecord, JobRun

__all__ = [
    "DEFAULT_GRACE",
    "JOB_FUNCTIONS",
    "JobRecord",
    "JobRun",
    "ScheduledJob",
    "add_job",
    "cancel_job",
    "confirm_job_id",
    "confirm_run",
    "describe_trigger",
    "get_job",
    "job_runs",
    "list_jobs",
    "run_scheduler",
    "schedule_confirm_window",
]
