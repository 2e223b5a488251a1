"""Render workflow: validate the intent, render every host's artifacts into a folder.

Deterministic byte for byte: hosts in inventory order, objects in canonical order, no
timestamps. Artifacts per host:

* switch ``<out>/<switch>/eos.cfg``
* cluster host ``<out>/<cluster>/calico.yaml`` (BGPConfiguration and global BGPPeers)
* node ``<out>/<node>/calico.yaml`` (its Node BGP spec and node-specific BGPPeers), only if any
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fabric.errors import UsageError
from fabric.intent import load_intent
from fabric.models.intent import Intent
from fabric.paths import ProjectPaths
from fabric.steps.render import dump_documents, render_calico_objects, render_switch_config


@dataclass(frozen=True)
class Artifact:
    """One rendered file."""

    host: str
    kind: str
    path: Path
    objects: int
    size: int


@dataclass
class RenderResult:
    """What a render produced."""

    out: Path
    artifacts: list[Artifact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def select_hosts(intent: Intent, limit: list[str] | None, groups: dict[str, set[str]]) -> set[str]:
    """Hosts named by ``--limit`` (host names or group names); all when ``limit`` is empty.

    Raises:
        UsageError: a name is neither a host nor a group.
    """
    every = {intent.cluster.name} | {n.name for n in intent.nodes} | {s.name for s in intent.switches}
    if not limit:
        return every
    chosen: set[str] = set()
    for item in limit:
        if item in every:
            chosen.add(item)
        elif item in groups:
            chosen |= groups[item] & every
        else:
            raise UsageError(f"--limit {item}: no such host or group in the inventory")
    return chosen


def render_all(
    paths: ProjectPaths,
    out: Path,
    limit: list[str] | None = None,
    *,
    strict: bool = False,
) -> RenderResult:
    """Validate, then write every selected host's artifacts under ``out``.

    Raises:
        ValidationError: the intent is invalid (nothing is written).
    """
    from fabric.inventory import load_raw_inventory

    report = load_intent(paths, strict=strict)
    intent = report.intent
    assert intent is not None  # load_intent raises otherwise
    raw = load_raw_inventory(paths)
    groups: dict[str, set[str]] = {}
    for h, spec in raw.hosts.items():
        for g in (spec or {}).get("groups") or []:
            groups.setdefault(g, set()).add(h)
    chosen = select_hosts(intent, limit, groups)

    result = RenderResult(out=out, warnings=[str(w) for w in report.warnings])
    objects = render_calico_objects(intent, paths.templates)
    by_host: dict[str, list[object]] = {}
    for obj in objects:
        by_host.setdefault(obj.host, []).append(obj)

    def write(host: str, kind: str, name: str, text: str, count: int) -> None:
        d = out / host
        d.mkdir(parents=True, exist_ok=True)
        p = d / name
        data = text.encode()
        if not p.exists() or p.read_bytes() != data:
            p.write_bytes(data)
        result.artifacts.append(Artifact(host, kind, p, count, len(data)))

    for host in [intent.cluster.name, *(n.name for n in intent.nodes)]:
        objs = [o for o in objects if o.host == host]
        if host in chosen and objs:
            write(host, "calico", "calico.yaml", dump_documents(objs), len(objs))
    for sw in intent.switches:
        if sw.name in chosen:
            write(sw.name, "eos", "eos.cfg", render_switch_config(sw, paths.templates), 1)
    return result
