"""``export``: the intent in other tools' formats (``anta-catalog``, ``containerlab``)."""

from __future__ import annotations

from pathlib import Path

import click

from fabric.userfiles import write_output


@click.group("export")
def export_group() -> None:
    """Write what the intent expects in the formats other tools read."""


@export_group.command("anta-catalog")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the catalog here (default: standard output).",
)
@click.option(
    "--blocks-from-cluster",
    is_flag=True,
    help="Also check each node's pod blocks, read from the cluster's BlockAffinity objects.",
)
@click.option("--lab", is_flag=True, help="Read the blocks from the running lab's cluster.")
@click.option("--insecure", is_flag=True, help="Do not verify the API server's certificate.")
@click.option("--inventory", type=click.Path(path_type=Path, file_okay=False))
def anta_catalog_cmd(
    out: Path | None, blocks_from_cluster: bool, lab: bool, insecure: bool, inventory: Path | None
) -> None:
    """An ANTA 1.10 catalog of the intent's switch-side expectations, tagged per switch.

    BGP peers by address (the AS the intent expects is recorded with them), the peer count,
    and the routes of the service CIDRs; with --blocks-from-cluster, each node's pod blocks.
    Contacts nothing unless --blocks-from-cluster is given (docs/exports.md).
    """
    from fabric.workflows.export import export_anta_catalog

    catalog = export_anta_catalog(
        inventory, blocks_from_cluster=blocks_from_cluster, lab=lab, insecure=insecure
    )
    text = catalog.to_yaml()
    if out is None:
        click.echo(text, nl=False)
        return
    write_output(out, text.encode(), "the catalog")
    click.echo(f"wrote {out}: {catalog.tests()} test entries", err=True)


@export_group.command("containerlab")
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
    from fabric.workflows.export import export_containerlab

    export, warnings, written = export_containerlab(out, inventory)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    for path in written:
        click.echo(str(path))
    for node, (container, switch, port) in sorted(export.wiring.items()):
        click.echo(f"{node}: {container} eth1 <-> {switch} {port}")
