"""``validate`` and ``run render``: thin wrappers over :mod:`fabric.intent` and the workflow."""

from __future__ import annotations

from pathlib import Path

import click

from fabric.errors import Issue, ValidationError
from fabric.paths import ProjectPaths


def format_issue(issue: Issue) -> str:
    """One line per issue: severity, file, host, field, message and the stable code."""
    return f"{issue.severity}: {issue}"


def _print_warnings(issues: list[Issue]) -> None:
    for i in issues:
        click.echo(format_issue(i), err=True)


@click.command("validate")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 2).")
@click.option(
    "--inventory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Inventory folder (default: inventory/ of the project).",
)
def validate_cmd(strict: bool, inventory: Path | None) -> None:
    """Validate the intent: print errors and warnings, contact nothing.

    Exit 0 when there is no error (warnings are printed), 2 on any error, or on any
    warning with --strict.
    """
    from fabric.intent import check_inventory

    paths = ProjectPaths.discover(inventory=inventory)
    report = check_inventory(paths)
    if strict and report.issues:
        raise ValidationError(report.issues)
    _print_warnings(report.warnings)
    if report.errors or report.intent is None:
        raise ValidationError(report.errors)
    n = report.intent
    click.echo(
        f"intent ok: {len(n.nodes)} node(s), {len(n.switches)} switch(es), "
        f"cluster {n.cluster.name}; {len(report.warnings)} warning(s)"
    )


@click.command("render")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), default="build", show_default=True
)
@click.option("--limit", multiple=True, help="Host or group name (repeatable).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option(
    "--inventory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Inventory folder (default: inventory/ of the project).",
)
def render_cmd(out: Path, limit: tuple[str, ...], strict: bool, inventory: Path | None) -> None:
    """Render every host's artifacts (Calico YAML, EOS config) into --out."""
    from rich.console import Console
    from rich.table import Table

    from fabric.workflows.render import render_all

    paths = ProjectPaths.discover(inventory=inventory)
    result = render_all(paths, Path(out), list(limit), strict=strict)
    _print_warnings(result.warnings)
    table = Table(title=f"rendered into {out}")
    for col in ("host", "kind", "file", "objects", "bytes", "changed"):
        table.add_column(col)
    for a in result.artifacts:
        table.add_row(
            a.host, a.kind, str(a.path), str(a.objects), str(a.size), "yes" if a.changed else "no"
        )
    Console().print(table)
