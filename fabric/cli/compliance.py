"""``run compliance``: judge the network (or saved outputs) against the intent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from fabric import safeyaml, userfiles
from fabric.cli.options import CALICO_API, NODE_ACCESS, NORNIR_RESULTS
from fabric.cli.progress import ProgressView, results_printer
from fabric.errors import ComplianceFailedError, ExitCode, UnreachableError, UsageError
from fabric.paths import ProjectPaths


@click.command("compliance")
@click.option("--lab", is_flag=True, help="Read the running lab instead of the real devices.")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Judge saved outputs in DIR (layout: docs/compliance.md); contact nothing.",
)
@click.option(
    "--save-raw",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep every raw output in DIR (the --from layout).",
)
@click.option(
    "--output",
    type=click.Choice(["table", "json", "junit", "html"]),
    default="table",
    show_default=True,
)
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Also write every format into DIR (compliance.txt/.json/.junit.xml/.html).",
)
@click.option("--group-by", type=click.Choice(["host", "check"]), default="host", show_default=True)
@click.option("--hide-passes", is_flag=True, help="Table: show only what did not pass.")
@click.option("--workers", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--node-command", help="Command run on nodes (default: each host's data).")
@click.option("--insecure", is_flag=True, help="Do not verify the switches' TLS certificates.")
@click.option("--ca-file", type=click.Path(dir_okay=False), help="CA bundle for the switches.")
@click.option(
    "--catalog",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A YAML file with a `checks:` list (default: options.checks of the run definition).",
)
@click.option("--inventory", type=click.Path(path_type=Path), help="Inventory folder.")
@click.option("--checks", "checks", type=click.UNPROCESSED, hidden=True, default=None)
@CALICO_API
@NODE_ACCESS
@NORNIR_RESULTS
def compliance_cmd(
    lab: bool,
    from_dir: Path | None,
    save_raw: Path | None,
    output: str,
    report_dir: Path | None,
    group_by: str,
    hide_passes: bool,
    workers: int,
    node_command: str | None,
    insecure: bool,
    ca_file: str | None,
    catalog: Path | None,
    inventory: Path | None,
    checks: Any,
    calico_api: str,
    node_access: str | None,
    nornir_results: bool,
) -> None:
    """Prove the network is what the intent says: both ends of every session, routes, drift.

    Exit 0 when every check passes (warnings allowed), 4 when a check fails, 5 when a host
    could not be reached or its output parsed (an unreachable host is never a pass).
    """
    from rich.console import Console

    from fabric.reports import FILE_NAMES, render
    from fabric.reports.table import render_table
    from fabric.workflows.compliance import ComplianceOptions, run_compliance

    if from_dir is not None and (lab or save_raw is not None):
        raise UsageError("--from judges saved outputs: it cannot be combined with --lab/--save-raw")
    paths = ProjectPaths.discover(inventory=inventory)
    source = "tasks/compliance.yaml"
    if catalog is not None:
        text = userfiles.read_text(catalog, "a check catalog (YAML)")
        data = safeyaml.load(text, str(catalog)) or {}
        if isinstance(data, dict) and "options" in data:
            data = data["options"] or {}
        if isinstance(data, dict) and "checks" not in data:
            # a misspelt key must not quietly mean "every check"
            raise UsageError(f"{catalog}: expected a `checks:` list (or a list of checks)")
        checks = data.get("checks") if isinstance(data, dict) else data
        source = str(catalog)
    options = ComplianceOptions(
        lab=lab,
        from_dir=from_dir,
        save_raw=save_raw,
        workers=workers,
        checks=checks,
        catalog_source=source,
        node_command=node_command,
        insecure=insecure,
        ca_file=ca_file,
        calico_api=calico_api,
        node_access=node_access,
        on_results=results_printer() if nornir_results else None,
    )
    if insecure and from_dir is None:
        click.echo("warning: TLS certificate verification is OFF (--insecure)", err=True)
    with ProgressView() as view:
        options.count, options.progress = view.count, view.message
        report = run_compliance(paths, options)
    if report_dir is not None:
        for fmt, name in FILE_NAMES.items():
            text = render(report, fmt, group_by=group_by, hide_passes=hide_passes)
            userfiles.write_output(report_dir / name, text.encode(), f"the {fmt} report")
    if output == "table":
        Console().print(render_table(report, group_by=group_by, hide_passes=hide_passes))
    else:
        click.echo(render(report, output, group_by=group_by, hide_passes=hide_passes), nl=False)
    code = report.exit_code
    if code == ExitCode.UNREACHABLE:
        names = ", ".join(p.host for p in report.problems) or "see the report"
        raise UnreachableError(f"compliance: host(s) not judged: {names}")
    if code == ExitCode.COMPLIANCE_FAILED:
        failed = [v.check for v in report.verdicts if v.status.value == "fail"]
        raise ComplianceFailedError(f"compliance failed: {', '.join(failed)}")
