"""Job kinds: what each kind runs (by import string) and what a job run returns.

The job functions themselves live in :mod:`fabric.scheduling.jobs` and are only ever reached
through their import strings (:data:`JOB_FUNCTIONS`), so the scheduler never imports the
workflows they run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypedDict

from fabric.errors import UsageError


class JobResult(TypedDict):
    """What a job run produced.

    Attributes:
        outcome: ``ok`` or ``failed`` (e.g. a compliance run with failing checks).
        run_id: the deploy/rollback/compliance run the job started, if any.
        report_path: where its report was written, if anywhere.
        message: one line for the log and ``schedule history``.
    """

    outcome: str
    run_id: str | None
    report_path: str | None
    message: str


#: Job kinds and the function each runs (by import string: survives restarts).
JOB_FUNCTIONS: dict[str, str] = {
    "rollback": "fabric.scheduling.jobs:job_rollback",
    "confirm-rollback": "fabric.scheduling.jobs:job_rollback",
    "deploy": "fabric.scheduling.jobs:job_deploy",
    "compliance": "fabric.scheduling.jobs:job_compliance",
}


def _function(kind: str) -> Callable[..., JobResult]:
    from apscheduler.util import ref_to_obj

    ref = JOB_FUNCTIONS.get(kind)
    if ref is None:
        raise UsageError(f"unknown job kind {kind!r} (one of {', '.join(JOB_FUNCTIONS)})")
    func: Callable[..., JobResult] = ref_to_obj(ref)
    return func


def check_params(kind: str, params: dict[str, Any]) -> None:
    """Check that the job function of ``kind`` takes ``params``.

    Raises:
        UsageError: unknown kind or parameters the job function does not take.
    """
    try:
        inspect.signature(_function(kind)).bind(**params)
    except TypeError as exc:
        raise UsageError(f"job {kind}: bad parameters {sorted(params)}: {exc}") from None


def run_job_now(kind: str, params: dict[str, Any]) -> JobResult:
    """Run the job function of ``kind`` in this process (no claim, no record).

    Raises:
        UsageError: unknown kind or parameters the job function does not take.
    """
    check_params(kind, params)
    return _function(kind)(**params)
