"""``export``: the intent in other tools' formats (``export anta-catalog`` ...)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from fabric.paths import ProjectPaths


@click.group("export")
def export_group() -> None:
    """Write what the intent expects in the formats other tools read."""


def _blocks_from_cluster(
    paths: ProjectPaths, cluster: str, *, lab: bool, insecure: bool
) -> dict[str, list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
    """Node -> IPAM blocks, from the cluster's Calico ``BlockAffinity`` objects."""
    from fabric.inventory import init_nornir
    from fabric.steps.calico import CalicoClient
    from fabric.steps.collect import block_from_api

    nr = init_nornir(paths, lab=lab, num_workers=1)
    host = nr.inventory.hosts[cluster]
    client = CalicoClient(
        str(host.get("kubeconfig") or "~/.kube/config"), host.get("context"), insecure=insecure
    )
    try:
        objects = client.list("BlockAffinity")
    finally:
        client.close()
    blocks: dict[str, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {}
    for obj in objects:
        b = block_from_api(obj)
        if b.state == "confirmed" and not b.deleted:
            blocks.setdefault(b.node, []).append(b.cidr)
    return blocks


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
    from fabric.exports.anta import build_anta_catalog
    from fabric.intent import load_intent

    paths = ProjectPaths.discover(inventory=inventory)
    intent = load_intent(paths).intent
    assert intent is not None  # load_intent raises on an invalid intent
    blocks = None
    if blocks_from_cluster:
        blocks = _blocks_from_cluster(paths, intent.cluster.name, lab=lab, insecure=insecure)
    catalog = build_anta_catalog(intent, blocks)
    text = catalog.to_yaml()
    if out is None:
        click.echo(text, nl=False)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out}: {catalog.tests()} test entries", err=True)
