"""``schedule ...``, ``scheduler`` and ``confirm``: scheduled jobs from the command line."""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from fabric.cli.deploy import Seconds
from fabric.errors import UsageError
from fabric.paths import ProjectPaths


def _paths() -> ProjectPaths:
    return ProjectPaths.discover()


def _duration(value: str | None, option: str) -> timedelta | None:
    from fabric.scheduling.timespec import parse_duration

    return parse_duration(value, option=option) if value is not None else None


def _when(at: str | None, in_: str | None) -> datetime:
    """Exactly one of ``--at TIME`` / ``--in DURATION`` as a UTC time."""
    from fabric.scheduling.timespec import parse_duration, parse_time

    if (at is None) == (in_ is None):
        raise UsageError("give exactly one of --at TIME or --in DURATION")
    if at is not None:
        return parse_time(at, option="--at")
    assert in_ is not None
    return datetime.now(UTC) + parse_duration(in_, option="--in")


def _grace(value: str | None) -> timedelta:
    from fabric.scheduling import DEFAULT_GRACE

    return _duration(value, "--grace") or DEFAULT_GRACE


_grace_option = click.option(
    "--grace",
    metavar="DURATION",
    help="Misfire grace time: a run late by more than this (scheduler down) is recorded as "
    "missed instead of run. Default 10m.",
)
_output_option = click.option(
    "--output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format.",
)


def _console() -> Any:
    """A rich console; at least 160 columns wide when not a terminal (logs, pipes)."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def _print_scheduled(job: Any) -> None:
    from fabric.scheduling import describe_trigger
    from fabric.scheduling.timespec import format_local

    click.echo(
        f"scheduled {job.job_id}: {job.record.kind} {describe_trigger(job.record.trigger)}; "
        f"next run {format_local(job.next_run)}"
    )


@click.group("schedule")
def schedule_group() -> None:
    """Schedule rollbacks, deploys and compliance runs (run them with `scheduler`)."""


@schedule_group.command("rollback")
@click.option("--run", "run_id", required=True, help="The run to roll back (see `runs list`).")
@click.option("--at", "at", metavar="TIME", help="ISO 8601 time or HH:MM (local time).")
@click.option("--in", "in_", metavar="DURATION", help="From now: 30s, 15m, 2h, 1d ...")
@click.option(
    "--lab/--no-lab",
    default=None,
    help="Roll back against the running lab (default: where the run deployed).",
)
@_grace_option
def schedule_rollback_cmd(
    run_id: str, at: str | None, in_: str | None, lab: bool | None, grace: str | None
) -> None:
    """Schedule the rollback of run RUN_ID to its stored snapshots."""
    from fabric.scheduling import add_job
    from fabric.scheduling.timespec import to_utc_iso
    from fabric.state_db import StateDB, default_db_path

    when = _when(at, in_)
    paths = _paths()
    StateDB(default_db_path(paths.state)).get_run(run_id, with_snapshots=False)
    job = add_job(
        paths,
        kind="rollback",
        params={"run_id": run_id, "lab": lab},
        trigger={"type": "date", "at": to_utc_iso(when)},
        grace=_grace(grace),
    )
    _print_scheduled(job)


@schedule_group.command("deploy")
@click.option("--at", "at", metavar="TIME", help="ISO 8601 time or HH:MM (local time).")
@click.option("--in", "in_", metavar="DURATION", help="From now: 30s, 15m, 2h, 1d ...")
@click.option("--lab", is_flag=True, help="Deploy to the running lab.")
@click.option("--limit", multiple=True, help="Host or group name (repeatable).")
@click.option(
    "--confirm-within",
    metavar="DURATION",
    help="After the deploy, roll it back after DURATION unless `confirm RUN_ID` comes first.",
)
@_grace_option
def schedule_deploy_cmd(
    at: str | None,
    in_: str | None,
    lab: bool,
    limit: tuple[str, ...],
    confirm_within: str | None,
    grace: str | None,
) -> None:
    """Schedule a deploy of the intent (committed, gated by the deploy's health checks)."""
    from fabric.scheduling import add_job
    from fabric.scheduling.timespec import to_utc_iso

    when = _when(at, in_)
    window = _duration(confirm_within, "--confirm-within")
    job = add_job(
        _paths(),
        kind="deploy",
        params={
            "lab": lab,
            "limit": list(limit),
            "confirm_within": int(window.total_seconds()) if window else None,
        },
        trigger={"type": "date", "at": to_utc_iso(when)},
        grace=_grace(grace),
    )
    _print_scheduled(job)


@schedule_group.command("compliance")
@click.option("--every", metavar="DURATION", help="Run every DURATION (15m, 1h ...).")
@click.option("--cron", metavar="EXPR", help="Five-field crontab expression, e.g. '*/15 * * * *'.")
@click.option("--tz", default="UTC", show_default=True, help="Time zone of --cron.")
@click.option("--lab", is_flag=True, help="Check the running lab.")
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    help="Where each run writes its report (default: the compliance default).",
)
@_grace_option
def schedule_compliance_cmd(
    every: str | None,
    cron: str | None,
    tz: str,
    lab: bool,
    report_dir: Path | None,
    grace: str | None,
) -> None:
    """Schedule periodic compliance runs."""
    from fabric.scheduling import add_job
    from fabric.scheduling.timespec import parse_zone, validate_cron

    if (every is None) == (cron is None):
        raise UsageError("give exactly one of --every DURATION or --cron EXPR")
    trigger: dict[str, Any]
    if every is not None:
        interval = _duration(every, "--every")
        assert interval is not None
        trigger = {"type": "interval", "seconds": int(interval.total_seconds())}
    else:
        assert cron is not None
        parse_zone(tz)
        trigger = {"type": "cron", "expr": validate_cron(cron, tz), "tz": tz}
    job = add_job(
        _paths(),
        kind="compliance",
        params={
            "lab": lab,
            "report_dir": str(report_dir.resolve()) if report_dir is not None else None,
        },
        trigger=trigger,
        grace=_grace(grace),
    )
    _print_scheduled(job)


@schedule_group.command("list")
@_output_option
@click.option("--all", "show_all", is_flag=True, help="Include jobs that ran or were cancelled.")
def schedule_list_cmd(output: str, show_all: bool) -> None:
    """List scheduled jobs, soonest first (times in local time; JSON in UTC)."""
    from fabric.scheduling import describe_trigger, list_jobs
    from fabric.scheduling.timespec import format_local

    jobs = list_jobs(_paths(), include_ended=show_all)
    if output == "json":
        click.echo(json.dumps([j.to_json() for j in jobs], indent=2))
        return
    if not jobs:
        click.echo("no scheduled jobs")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="scheduled jobs")
    cols = ("id", "kind", "schedule", "next run", "params", "by")
    for col in (*cols, "status") if show_all else cols:
        table.add_column(col, no_wrap=col in ("id", "kind", "next run"), overflow="fold")
    for j in jobs:
        r = j.record
        params = ", ".join(
            f"{k}={v}" for k, v in sorted(r.params.items()) if v not in (None, [], False)
        )
        row = [r.job_id, r.kind, describe_trigger(r.trigger), format_local(j.next_run)]
        row += [escape(params), r.scheduled_by]
        table.add_row(*row, *([r.status] if show_all else []))
    _console().print(table)


@schedule_group.command("cancel")
@click.argument("job_id")
def schedule_cancel_cmd(job_id: str) -> None:
    """Cancel a pending job (its record stays, status cancelled)."""
    from fabric.scheduling import cancel_job

    job = cancel_job(_paths(), job_id)
    click.echo(f"cancelled {job.job_id} ({job.record.kind})")


@schedule_group.command("history")
@click.argument("job_id", required=False)
@_output_option
def schedule_history_cmd(job_id: str | None, output: str) -> None:
    """Show recorded job runs: when each ran, its outcome, run and report."""
    from fabric.scheduling import job_runs
    from fabric.scheduling.timespec import format_local, to_utc_iso

    runs = job_runs(_paths(), job_id)
    if output == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "job_id": r.job_id,
                        "scheduled_for": to_utc_iso(r.scheduled_for),
                        "started": to_utc_iso(r.started) if r.started else None,
                        "finished": to_utc_iso(r.finished) if r.finished else None,
                        "outcome": r.outcome,
                        "run_id": r.run_id,
                        "report_path": r.report_path,
                        "message": r.message,
                        "claimed_by": r.claimed_by,
                        "record_id": r.record_id,
                    }
                    for r in runs
                ],
                indent=2,
            )
        )
        return
    if not runs:
        click.echo("no job runs recorded")
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="job runs")
    for col in ("job", "scheduled for", "started", "outcome", "run", "report", "message"):
        table.add_column(col, no_wrap=col == "job", overflow="fold")
    for r in runs:
        table.add_row(
            r.job_id,
            format_local(r.scheduled_for),
            format_local(r.started),
            r.outcome,
            r.run_id or "-",
            escape(r.report_path or "-"),
            escape(r.message or ""),
        )
    _console().print(table)


@schedule_group.command("export")
@click.option("--k8s", "k8s", is_flag=True, required=True, help="Kubernetes manifests.")
@click.option("--image", default="fabric-netops:latest", show_default=True, help="Image.")
@click.option("--namespace", default="fabric-netops", show_default=True, help="Namespace.")
@click.option(
    "--secret",
    default="fabric-netops-credentials",
    show_default=True,
    help="Secret whose keys become the container's environment (FABRIC_EOS_PASSWORD ...).",
)
@click.option(
    "--state-pvc",
    help="PersistentVolumeClaim mounted as the state directory (runs, snapshots, reports).",
)
def schedule_export_cmd(
    k8s: bool, image: str, namespace: str, secret: str, state_pvc: str | None
) -> None:
    """Print a CronJob per periodic schedule and a Job per one-shot (kubectl apply -f -)."""
    from fabric.scheduling import list_jobs
    from fabric.scheduling.k8s import ExportOptions, export_manifests

    text, warnings = export_manifests(
        list_jobs(_paths()),
        ExportOptions(image=image, namespace=namespace, secret=secret, state_pvc=state_pvc),
    )
    for w in warnings:
        click.echo(f"warning: {w}", err=True)
    click.echo(text, nl=False)


@schedule_group.command("exec")
@click.argument("kind")
@click.option("--params", "params_json", default="{}", help="The job's parameters (JSON).")
@click.option("--not-before", metavar="TIME", help="Wait until this UTC/ISO time first.")
@click.option("--job-id", help="Record the run under this job id (exported manifests set it).")
def schedule_exec_cmd(
    kind: str, params_json: str, not_before: str | None, job_id: str | None
) -> None:
    """Run one job now, in this process, recorded (what exported Kubernetes manifests run)."""
    from fabric.scheduling.service import run_job_once
    from fabric.scheduling.timespec import MAX_AHEAD, from_utc_iso

    try:
        params = json.loads(params_json)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise UsageError(f"--params: invalid JSON: {exc}") from None
    if not isinstance(params, dict):
        raise UsageError("--params: expected a JSON object")
    start: datetime | None = None
    if not_before is not None:
        try:
            start = from_utc_iso(not_before)
        except (ValueError, OverflowError):
            raise UsageError(f"--not-before: invalid time {not_before[:40]!r}") from None
        delay = (start - datetime.now(UTC)).total_seconds()
        if delay > MAX_AHEAD.total_seconds():
            raise UsageError(
                f"--not-before: time {not_before[:40]!r} is out of range: at most "
                f"{MAX_AHEAD.days} days (10 years) ahead"
            )
        if delay > 0:
            click.echo(f"waiting {delay:.0f}s until {not_before}", err=True)
            time.sleep(delay)
    result = run_job_once(_paths(), kind, params, job_id=job_id, scheduled_for=start)
    click.echo(json.dumps(result, indent=2))
    if result["outcome"] != "ok":
        from fabric.errors import ComplianceFailedError, RunFailedError

        if kind == "compliance":
            raise ComplianceFailedError(result["message"])
        raise RunFailedError(result["message"])


@click.command("scheduler")
@click.option(
    "--poll",
    type=Seconds(3600),
    default=2.0,
    show_default=True,
    help="Seconds between looks for jobs added by other processes.",
)
@click.option(
    "--workers", type=click.IntRange(1, 256), default=4, show_default=True, help="Concurrent jobs."
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING"], case_sensitive=False),
    default="INFO",
    show_default=True,
)
def scheduler_cmd(poll: float, workers: int, log_level: str) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT; log each job's outcome."""
    from fabric.scheduling import run_scheduler

    if poll <= 0 or workers <= 0:
        raise UsageError("--poll and --workers must be positive")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("fabric", "apscheduler"):
        lg = logging.getLogger(name)
        lg.addHandler(handler)
        lg.setLevel(log_level.upper())
    run_scheduler(_paths(), poll_interval=poll, max_workers=workers)


@click.command("confirm")
@click.argument("run_id")
def confirm_cmd(run_id: str) -> None:
    """Confirm run RUN_ID: cancel its pending confirm-within rollback."""
    from fabric.scheduling import confirm_run

    job = confirm_run(_paths(), run_id)
    click.echo(f"confirmed run {run_id}: rollback job {job.job_id} cancelled")
