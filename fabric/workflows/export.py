"""``export``: the intent in other tools' formats (library API of ``python -m fabric export``)."""

from __future__ import annotations

from pathlib import Path

from fabric.exports.anta import AntaCatalog, build_anta_catalog
from fabric.exports.containerlab import ContainerlabExport, build_topology, write_topology
from fabric.intent import load_intent
from fabric.models.observed import BlockAffinityInfo, IPNetwork
from fabric.paths import ProjectPaths
from fabric.runs.connect import cluster_client, open_nornir


def cluster_blocks(
    paths: ProjectPaths, cluster: str, *, lab: bool, insecure: bool
) -> dict[str, list[IPNetwork]]:
    """Node -> its active IPAM blocks, from the cluster's Calico ``BlockAffinity`` objects.

    Raises:
        UnreachableError: the cluster could not be read.
    """
    nr, _policy = open_nornir(
        paths, lab=lab, workers=1, dry_run=True, insecure=insecure, ca_file=None, switches=[]
    )
    client = cluster_client(nr, cluster, insecure=insecure)
    try:
        objects = client.list("BlockAffinity")
    finally:
        client.close()
    blocks: dict[str, list[IPNetwork]] = {}
    for b in map(BlockAffinityInfo.from_api, objects):
        if b.active:
            blocks.setdefault(b.node, []).append(b.cidr)
    return blocks


def export_anta_catalog(
    inventory: Path | None = None,
    *,
    blocks_from_cluster: bool = False,
    lab: bool = False,
    insecure: bool = False,
) -> AntaCatalog:
    """The ANTA catalog of the intent; with ``blocks_from_cluster``, each node's pod blocks.

    Raises:
        ValidationError: the intent is invalid.
        UnreachableError: ``blocks_from_cluster`` and the cluster could not be read.
    """
    paths = ProjectPaths.discover(inventory=inventory)
    intent = load_intent(paths).intent
    assert intent is not None  # load_intent raises on an invalid intent
    blocks = None
    if blocks_from_cluster:
        blocks = cluster_blocks(paths, intent.cluster.name, lab=lab, insecure=insecure)
    return build_anta_catalog(intent, blocks)


def export_containerlab(
    out: Path, inventory: Path | None = None
) -> tuple[ContainerlabExport, list[str], list[Path]]:
    """Write a containerlab topology of the intent into ``out``.

    Returns:
        The export, the intent's warnings, and the files written.

    Raises:
        ValidationError: the intent is invalid (nothing is written).
    """
    paths = ProjectPaths.discover(inventory=inventory)
    report = load_intent(paths)
    intent = report.intent
    assert intent is not None  # load_intent raises ValidationError otherwise
    export = build_topology(intent, paths.search("templates"))
    return export, [str(w) for w in report.warnings], write_topology(export, out)
