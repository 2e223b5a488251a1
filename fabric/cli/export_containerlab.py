"""``export containerlab``: write a containerlab topology of the intent (cEOS + kind)."""

from __future__ import annotations

from pathlib import Path

import click

from fabric.paths import ProjectPaths


@click.command("containerlab")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default="build/containerlab",
    show_default=True,
    help="Folder for the topology, the switches' startup-configs and the kind config.",
)
@click.option(
    "--inventory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Inventory folder (default: inventory/ of the project).",
)
def containerlab_cmd(out: Path, inventory: Path | None) -> None:
    """Export a containerlab topology: cEOS switches, a kind cluster, the links between them."""
    from fabric.exports.containerlab import build_topology, write_topology
    from fabric.intent import load_intent

    paths = ProjectPaths.discover(inventory=inventory)
    report = load_intent(paths)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    intent = report.intent
    assert intent is not None  # load_intent raises ValidationError otherwise
    export = build_topology(intent, paths.templates)
    written = write_topology(export, out)
    for path in written:
        click.echo(str(path))
    for node, (container, switch, port) in sorted(export.wiring.items()):
        click.echo(f"{node}: {container} eth1 <-> {switch} {port}")
