"""``run deploy``, ``run rollback``, ``runs`` and ``runs show``: the terminal side of deploy.

Progress lines go to stderr (rich); the diffs, the final table or the JSON document to stdout.
A failed run still prints its table, then exits 3 (or 5 when only unreachable hosts failed).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from fabric.cli.options import CALICO_API, NODE_ACCESS, NORNIR_RESULTS
from fabric.cli.progress import ProgressView, results_printer
from fabric.errors import ExitCode, RunFailedError, UnreachableError
from fabric.paths import ProjectPaths

_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")


class Seconds(click.ParamType):  # type: ignore[type-arg]  # generic since click 8.2
    """A number of seconds from 0 to ``maximum`` (``nan`` and ``inf`` refused, unlike float)."""

    name = "seconds"

    def __init__(self, maximum: float) -> None:
        self.maximum = maximum

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        """The value as a float in range, else a usage error naming the option."""
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not 0 <= seconds <= self.maximum:  # also refuses nan
            self.fail(
                f"{value!r} is not a number of seconds from 0 to {self.maximum:g}", param, ctx
            )
        return seconds


def parse_duration(text: str, option: str = "") -> float:
    """Seconds in ``30`` (plain seconds) or a duration such as ``30s``, ``15m``, ``1h30m``.

    The unit forms are those of ``schedule ... --confirm-within``
    (:func:`fabric.scheduling.timespec.parse_duration`).

    >>> parse_duration("15m")
    900.0
    >>> parse_duration("90")
    90.0

    Raises:
        UsageError: not a duration, not longer than zero, or longer than 10 years
            (:data:`fabric.scheduling.timespec.MAX_DURATION`); ``option`` is named.
    """
    from fabric.scheduling.timespec import check_seconds
    from fabric.scheduling.timespec import parse_duration as parse_timespec

    if _SECONDS.match(text.strip()):
        shown = text if len(text) <= 40 else text[:40] + "..."
        return check_seconds(float(text), shown, option)
    return parse_timespec(text, option=option).total_seconds()


def _console(err: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=err, highlight=False, soft_wrap=True)


def _yes(flag: bool) -> str:
    return "yes" if flag else "-"


def _print_diffs(hosts: list[Any]) -> None:
    from rich.markup import escape

    out = _console()
    for h in hosts:
        if h.diff:
            out.rule(f"{h.host} ({h.kind})")
            for line in h.diff.splitlines():
                style = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
                out.print(f"[{style}]{escape(line)}[/{style}]" if style else escape(line))


def _changed(h: Any, dry_run: bool) -> str:
    """The ``changed`` cell: in a dry-run, whether the host WOULD change (it has a diff)."""
    if dry_run:
        return "would change" if (h.diff or "").strip() else "no change"
    return _yes(h.changed)


def _print_table(title: str, hosts: list[Any], dry_run: bool = False) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title)
    batched = any(getattr(h, "batch", None) for h in hosts)
    cols = ("host", "kind", *(("batch",) if batched else ()), "changed", "committed")
    for col in (*cols, "confirmed", "rolled back", "error"):
        table.add_column(col)
    for h in hosts:
        batch = getattr(h, "batch", None)
        table.add_row(
            escape(h.host),
            h.kind,
            *((str(batch or "-"),) if batched else ()),
            _changed(h, dry_run),
            _yes(h.committed),
            _yes(h.confirmed),
            _yes(h.rolled_back),
            escape(h.error or ""),
        )
    _console().print(table)


def _exit_for(code: ExitCode, message: str) -> None:
    if code == ExitCode.OK:
        return
    if code == ExitCode.UNREACHABLE:
        raise UnreachableError(message)
    raise RunFailedError(message)


@click.command("deploy")
@click.option("--lab", is_flag=True, help="Target the running lab (loopback only).")
@click.option("--limit", multiple=True, help="Host or group name (repeatable).")
@click.option("--commit/--dry-run", default=False, help="Change the devices (default: dry-run).")
@click.option(
    "--mode", type=click.Choice(["replace", "merge"]), default="replace", show_default=True
)
@click.option(
    "--revert-in",
    # the switch's timer is HH:MM:SS: a day or more would wrap around to a shorter one
    type=click.IntRange(0, 86_399),
    default=300,
    show_default=True,
    help="Commit-confirm timer of the switches, seconds (0: plain commit; below 1 day).",
)
@click.option(
    "--gate-timeout",
    type=Seconds(86_400),
    default=120.0,
    show_default=True,
    help="Seconds to wait for sessions and routes before rolling back.",
)
@click.option(
    "--rollback/--no-rollback",
    default=True,
    help="--no-rollback leaves pending commit timers to the switches.",
)
@click.option("--workers", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (says so).")
@click.option("--ca-file", type=click.Path(dir_okay=False), help="CA bundle for the switches.")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    help="State database (default <state>/state.db).",
)
@click.option("--confirm-within", help="Schedule a rollback unless `confirm RUN_ID` within this.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Rolling deploy: at most N switches per batch, the two ToRs of a pair never together; "
    "each batch committed, gated and confirmed before the next.",
)
@click.option("--inventory", type=click.Path(path_type=Path), help="Inventory folder.")
@CALICO_API
@NODE_ACCESS
@NORNIR_RESULTS
def deploy_cmd(
    lab: bool,
    limit: tuple[str, ...],
    commit: bool,
    mode: str,
    revert_in: int,
    gate_timeout: float,
    rollback: bool,
    workers: int,
    insecure: bool,
    ca_file: str | None,
    output: str,
    db: Path | None,
    confirm_within: str | None,
    batch_size: int | None,
    inventory: Path | None,
    calico_api: str,
    node_access: str | None,
    nornir_results: bool,
) -> None:
    """Deploy the intent to switches and cluster: plan, snapshot, commit-confirm, gate, confirm."""
    from fabric.scheduling import schedule_confirm_window
    from fabric.workflows.deploy import DeployOptions, deploy

    paths = ProjectPaths.discover(inventory=inventory)
    opts = DeployOptions(
        lab=lab,
        limit=list(limit),
        commit=commit,
        mode="merge" if mode == "merge" else "replace",
        revert_in=revert_in,
        gate_timeout=gate_timeout,
        rollback=rollback,
        workers=workers,
        insecure=insecure,
        ca_file=ca_file,
        db=db,
        confirm_within=parse_duration(confirm_within, "--confirm-within")
        if confirm_within
        else None,
        calico_api=calico_api,
        node_access=node_access,
        on_results=results_printer() if nornir_results else None,
        schedule_confirm=schedule_confirm_window,
        batch_size=batch_size,
    )
    if insecure:
        click.echo("warning: TLS certificate verification is OFF (--insecure)", err=True)
    # The intent's warnings come through the progress callback, before any progress line.
    with ProgressView() as view:
        opts.progress, opts.count = view.message, view.count
        report = deploy(paths, opts)
    if output == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_diffs(report.hosts)
        for p in report.gate_problems:
            click.echo(f"gate: {p}", err=True)
        title = f"deploy {report.run_id}: {report.outcome}"
        if report.tls:
            title += f" (TLS {report.tls})"
        _print_table(title, report.hosts, dry_run=report.dry_run)
        if report.dry_run and report.ok:
            click.echo("dry-run: nothing was changed; add --commit to apply")
        if report.confirm_job:
            click.echo(f"confirm within the window: python -m fabric confirm {report.run_id}")
    _exit_for(report.exit_code, f"deploy {report.run_id} {report.outcome}: {report.error}")


@click.command("rollback")
@click.option("--run", "run_id", required=True, help="The deploy run to roll back.")
@click.option("--commit/--dry-run", default=False, help="Restore (default: show the diff).")
@click.option("--lab", is_flag=True, help="Target the running lab (loopback only).")
@click.option("--workers", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--insecure", is_flag=True, help="Do not verify TLS certificates (says so).")
@click.option("--ca-file", type=click.Path(dir_okay=False), help="CA bundle for the switches.")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="State database.")
@click.option("--inventory", type=click.Path(path_type=Path), help="Inventory folder.")
@CALICO_API
@NORNIR_RESULTS
def rollback_cmd(
    run_id: str,
    commit: bool,
    lab: bool,
    workers: int,
    insecure: bool,
    ca_file: str | None,
    output: str,
    db: Path | None,
    inventory: Path | None,
    calico_api: str,
    nornir_results: bool,
) -> None:
    """Restore a deploy's snapshots on both sides (dry-run by default: shows the diff)."""
    from fabric.workflows.rollback import RollbackOptions, rollback

    paths = ProjectPaths.discover(inventory=inventory)
    if insecure:
        click.echo("warning: TLS certificate verification is OFF (--insecure)", err=True)
    with ProgressView() as view:
        report = rollback(
            paths,
            run_id,
            RollbackOptions(
                lab=lab,
                commit=commit,
                workers=workers,
                insecure=insecure,
                ca_file=ca_file,
                db=db,
                calico_api=calico_api,
                on_results=results_printer() if nornir_results else None,
                **view.callbacks(),
            ),
        )
    if output == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_diffs(report.hosts)
        _print_table(
            f"rollback {report.run_id} of {run_id}: {report.outcome}",
            report.hosts,
            dry_run=report.dry_run,
        )
        if report.dry_run and report.ok:
            click.echo("dry-run: nothing was changed; add --commit to restore")
    _exit_for(report.exit_code, f"rollback of {run_id} {report.outcome}: {report.error}")


def _db(db: Path | None) -> Any:
    from fabric.state_db import StateDB, default_db_path

    return StateDB(db or default_db_path(ProjectPaths.discover().state))


@click.group("runs", invoke_without_command=True)
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--last",
    type=click.IntRange(1, 1_000_000),
    default=50,
    show_default=True,
    help="How many runs.",
)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="State database.")
@click.pass_context
def runs_group(ctx: click.Context, output: str, last: int, db: Path | None) -> None:
    """List deploy and rollback runs (newest first); `runs show RUN_ID` for one."""
    ctx.ensure_object(dict)
    ctx.obj["db"] = db
    if ctx.invoked_subcommand is not None:
        return
    runs = _db(db).list_runs(limit=last)
    if output == "json":
        click.echo(json.dumps([r.to_json() for r in runs], indent=2))
        return
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="runs")
    for col in ("run", "kind", "started", "user", "dry-run", "outcome", "hosts", "error"):
        table.add_column(col)
    for r in runs:
        changed = sum(1 for h in r.hosts if h.changed)
        table.add_row(
            r.id,
            r.kind + (f" of {r.parent_run}" if r.parent_run else ""),
            r.started,
            r.user,
            _yes(r.dry_run),
            r.display_outcome,
            f"{changed}/{len(r.hosts)} changed",
            escape(r.error or ""),
        )
    _console().print(table)


@runs_group.command("show")
@click.argument("run_id")
@click.option("--output", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="State database.")
@click.pass_context
def runs_show_cmd(ctx: click.Context, run_id: str, output: str, db: Path | None) -> None:
    """One run: options, outcome, per-host rows, diffs and what was snapshotted."""
    rec = _db(db or (ctx.obj or {}).get("db")).get_run(run_id)
    if output == "json":
        click.echo(json.dumps(rec.to_json(snapshots=True), indent=2))
        return
    out = _console()
    out.print(f"run {rec.id} ({rec.kind}{' dry-run' if rec.dry_run else ''})", markup=False)
    out.print(f"  started {rec.started} by {rec.user}@{rec.hostname} (pid {rec.pid})", markup=False)
    out.print(f"  finished {rec.finished or '-'}: {rec.display_outcome}", markup=False)
    if rec.error:
        out.print(f"  error: {rec.error}", markup=False)
    out.print(f"  intent {rec.intent_hash}, options {json.dumps(rec.options)}", markup=False)
    for s in rec.snapshots:
        state = f"{len(s.content)} bytes" if s.content is not None else "absent"
        out.print(f"  snapshot {s.host} {s.key}: {state} at {s.taken}", markup=False)
    _print_diffs(rec.hosts)
    _print_table(f"run {rec.id}", rec.hosts, dry_run=rec.dry_run)
