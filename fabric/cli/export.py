"""``export``: the intent in other tools' formats (one subcommand per format)."""

from __future__ import annotations

import click

from fabric.cli.export_containerlab import containerlab_cmd


@click.group("export")
def export_group() -> None:
    """Export the intent for other tools (containerlab ...)."""


export_group.add_command(containerlab_cmd)
