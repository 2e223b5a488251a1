"""``validate`` and ``run render``."""

from __future__ import annotations

from pathlib import Path

import click

from fabric.errors import ValidationError
from fabric.paths import ProjectPaths


def _print_issues(issues: list[object]) -> None:
    for i in issues:
        click.echo(f"{getattr(i, 'severity', 'warning')}: {i}", err=True)


@click.command("validate")
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit 2).")
@click.option("--inventory", type=click.Path(path_type=Path), help="Inventory folder.")
def validate_cmd(strict: bool, inventory: Path | None) -> None:
    """Validate the intent: print errors and warnings, contact nothing."""
    from fabric.intent import build_intent
    from fabric.inventory import load_raw_inventory

    paths = ProjectPaths.discover(inventory=inventory)
    report = build_intent(load_raw_inventory(paths))
    _print_issues(report.warnings)
    bad = report.issues if strict else report.errors
    if bad:
        raise ValidationError(bad)
    n = report.intent
    assert n is not None
    click.echo(
        f"intent ok: {len(n.nodes)} node(s), {len(n.switches)} switch(es), "
        f"cluster {n.cluster.name}; {len(report.warnings)} warning(s)"
    )


@click.command("render")
@click.option("--out", type=click.Path(path_type=Path), default="build", show_default=True)
@click.option("--limit", multiple=True, help="Host or group name (repeatable).")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--inventory", type=click.Path(path_type=Path), help="Inventory folder.")
def render_cmd(out: Path, limit: tuple[str, ...], strict: bool, inventory: Path | None) -> None:
    """Render every host's artifacts (Calico YAML, EOS config) into --out."""
    from rich.console import Console
    from rich.table import Table

    from fabric.workflows.render import render_all

    paths = ProjectPaths.discover(inventory=inventory)
    result = render_all(paths, Path(out), list(limit), strict=strict)
    for w in result.warnings:
        click.echo(f"warning: {w}", err=True)
    table = Table(title=f"rendered into {out}")
    for col in ("host", "kind", "file", "objects", "bytes"):
        table.add_column(col)
    for a in result.artifacts:
        table.add_row(a.host, a.kind, str(a.path), str(a.objects), str(a.size))
    Console().print(table)
