"""The functions scheduled jobs run, referenced by import string from the job store.

Each takes JSON-typed keyword arguments (stored with the job) and returns a
:class:`~fabric.scheduling.kinds.JobResult`
the scheduler records (outcome, the run it produced, its report). An exception is recorded as
a failed run. The project is the scheduler's own (``ProjectPaths.discover()``: ``FABRIC_ROOT``,
``FABRIC_STATE_DIR``), the one whose state database holds the job.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fabric.models.outcome import Outcome
from fabric.paths import ProjectPaths
from fabric.scheduling.kinds import JobResult


def _paths() -> ProjectPaths:
    return ProjectPaths.discover()


def _run_was_lab(paths: ProjectPaths, run_id: str) -> bool:
    from fabric.state_db import StateDB, default_db_path

    run = StateDB(default_db_path(paths.state)).get_run(run_id, with_snapshots=False)
    return bool(run.options.get("lab", False))


def job_rollback(run_id: str, lab: bool | None = None, reason: str | None = None) -> JobResult:
    """Roll run ``run_id`` back to its stored snapshots (switches and Calico objects).

    Args:
        run_id: the deploy run to undo.
        lab: against the running lab; None: as the run itself was (its recorded options).
        reason: why (e.g. an expired confirm-within window), for the record.
    """
    from fabric.workflows.rollback import RollbackOptions, rollback

    paths = _paths()
    use_lab = _run_was_lab(paths, run_id) if lab is None else lab
    report = rollback(paths, run_id, RollbackOptions(lab=use_lab, commit=True))
    ok = report.outcome in (Outcome.OK, Outcome.NO_CHANGE)
    why = f" ({reason})" if reason else ""
    return {
        "outcome": "ok" if ok else "failed",
        "run_id": report.run_id,
        "report_path": None,
        "message": f"rollback of {run_id}{why}: {report.outcome}"
        + (f": {report.error}" if report.error else ""),
    }


def job_deploy(
    lab: bool = False, limit: list[str] | None = None, confirm_within: int | None = None
) -> JobResult:
    """Deploy the intent, committed (a scheduled deploy is not a dry run).

    Args:
        lab: deploy to the running lab.
        limit: host or group names (empty: everything).
        confirm_within: seconds after which the deploy is rolled back unless confirmed.
    """
    from fabric.scheduling.service import schedule_confirm_window
    from fabric.workflows.deploy import DeployOptions, deploy

    report = deploy(
        _paths(),
        DeployOptions(
            lab=lab,
            limit=list(limit or []),
            commit=True,
            confirm_within=float(confirm_within) if confirm_within else None,
            schedule_confirm=schedule_confirm_window,
        ),
    )
    ok = report.outcome in (Outcome.OK, Outcome.NO_CHANGE)
    extra = f"; confirm job {report.confirm_job}" if report.confirm_job else ""
    return {
        "outcome": "ok" if ok else "failed",
        "run_id": report.run_id,
        "report_path": None,
        "message": f"deploy {report.outcome}{extra}"
        + (f": {report.error}" if report.error else ""),
    }


def job_compliance(lab: bool = False, report_dir: str | None = None) -> JobResult:
    """Run compliance and write every report format into a new folder.

    Args:
        lab: check the running lab.
        report_dir: parent folder of the per-run report folders
            (default ``<state>/reports/compliance``).

    Returns:
        ``ok`` when every check passed (warnings allowed), else ``failed``; ``report_path`` is
        the run's folder (``compliance.json``, ``.txt``, ``.junit.xml``, ``.html``).
    """
    from fabric.reports import FILE_NAMES, render
    from fabric.workflows.compliance import ComplianceOptions, run_compliance

    paths = _paths()
    report = run_compliance(paths, ComplianceOptions(lab=lab))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    parent = Path(report_dir) if report_dir else paths.state / "reports" / "compliance"
    folder = parent / stamp
    folder.mkdir(parents=True, exist_ok=False)
    for fmt, name in FILE_NAMES.items():
        (folder / name).write_text(render(report, fmt), encoding="utf-8")
    c = report.counts
    summary = (
        f"compliance {report.status.value}: {c.passed} passed, {c.warned} warned, "
        f"{c.failed} failed, {c.errored} errored, {len(report.problems)} host problem(s)"
    )
    return {
        "outcome": "ok" if int(report.exit_code) == 0 else "failed",
        "run_id": None,
        "report_path": str(folder),
        "message": summary,
    }
