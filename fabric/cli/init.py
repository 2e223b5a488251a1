"""``python -m fabric init DIR``: scaffold a new project folder (thin over fabric.scaffold)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("init")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def init_cmd(dest: Path) -> None:
    """Create DEST with an inventory skeleton (with comments) and the run definitions to edit."""
    from fabric.scaffold import init_project

    for path in init_project(dest):
        click.echo(f"wrote {path}")
    click.echo(
        f"next: edit {dest / 'inventory' / 'hosts.yaml'}, then "
        f"`cd {dest} && python -m fabric validate`"
    )
