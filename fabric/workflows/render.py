"""Render workflow: validate the intent, render every host's artifacts into a folder.

Deterministic byte for byte: hosts in inventory order, objects in canonical order, no
timestamps. Artifacts per host:

* switch ``<out>/<switch>/eos.cfg``
* cluster host ``<out>/<cluster>/calico.yaml`` (BGPConfiguration and global BGPPeers)
* node ``<out>/<node>/calico.yaml`` (its Node BGP spec and node-specific BGPPeers), only if any

Files whose content did not change are not rewritten (their mtime is kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fabric import userfiles
from fabric.errors import Issue, UsageError
from fabric.intent import load_intent
from fabric.inventory import RawInventory
from fabric.models.intent import Intent
from fabric.paths import ProjectPaths
from fabric.runs.secrets import password_secret, resolve_secret
from fabric.steps.render import (
    CalicoObject,
    dump_documents,
    render_calico_objects,
    render_switch_config,
)


@dataclass(frozen=True)
class Artifact:
    """One rendered file."""

    host: str
    kind: str
    path: Path
    objects: int
    size: int
    changed: bool


@dataclass
class RenderResult:
    """What a render produced."""

    out: Path
    artifacts: list[Artifact] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


def group_members(raw: RawInventory) -> dict[str, set[str]]:
    """Every group name -> the hosts in it, directly or through nested groups."""
    members: dict[str, set[str]] = {g: set() for g in raw.groups}
    for host, spec in raw.hosts.items():
        todo = list((spec or {}).get("groups") or [])
        seen: set[str] = set()
        while todo:
            g = todo.pop()
            if g in seen:
                continue
            seen.add(g)
            members.setdefault(g, set()).add(host)
            todo.extend((raw.groups.get(g) or {}).get("groups") or [])
    return members


def select_hosts(intent: Intent, limit: list[str] | None, groups: dict[str, set[str]]) -> set[str]:
    """Hosts named by ``--limit`` (host names or group names); all when ``limit`` is empty.

    Raises:
        UsageError: a name is neither a host nor a group.
    """
    every = {intent.cluster.name} | {n.name for n in intent.nodes}
    every |= {s.name for s in intent.switches}
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


@dataclass
class Selection:
    """What the intent renders for the hosts a ``--limit`` selects (secrets resolved).

    Attributes:
        intent: the whole intent.
        chosen: the selected host names.
        configs: each selected switch's rendered configuration.
        objects: the selected Calico objects (with the BGP password Secret they need first).
        warnings: the intent's warnings, as text.
    """

    intent: Intent
    chosen: set[str]
    configs: dict[str, str]
    objects: list[CalicoObject]
    warnings: list[str]


def render_selection(paths: ProjectPaths, limit: list[str]) -> Selection:
    """Validate the intent and render the hosts ``limit`` selects (nothing is contacted).

    Raises:
        ValidationError: the intent is invalid.
        UsageError: ``limit`` names no host or group, or selects nothing to deploy; a secret
            reference cannot be resolved.
    """
    report = load_intent(paths)
    intent = report.intent
    assert intent is not None and report.raw is not None  # load_intent raises otherwise
    chosen = select_hosts(intent, limit, group_members(report.raw))
    templates = paths.search("templates")
    configs: dict[str, str] = {}
    for sw in intent.switches:
        if sw.name in chosen:
            refs = [sw.data.bgp_password_ref] if sw.data.bgp_password_ref else []
            secrets = {r: resolve_secret(r) for r in refs}
            configs[sw.name] = render_switch_config(sw, templates, secrets)
    objects = [o for o in render_calico_objects(intent, templates) if o.host in chosen]
    secret = password_secret(intent, objects)
    if secret is not None:
        objects.insert(0, secret)
    if not configs and not objects:
        raise UsageError("nothing to deploy: --limit selects no switch and no Calico object")
    return Selection(intent, chosen, configs, objects, [str(w) for w in report.warnings])


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
        UsageError: a ``limit`` name is neither a host nor a group (nothing is written), or
            ``out`` cannot be written (naming the path).
    """
    report = load_intent(paths, strict=strict)
    intent, raw = report.intent, report.raw
    assert intent is not None and raw is not None  # load_intent raises otherwise
    chosen = select_hosts(intent, limit, group_members(raw))
    templates = paths.search("templates")

    result = RenderResult(out=out, warnings=report.warnings)
    by_host: dict[str, list[CalicoObject]] = {}
    for obj in render_calico_objects(intent, templates):
        by_host.setdefault(obj.host, []).append(obj)

    def write(host: str, kind: str, name: str, text: str, count: int) -> None:
        p = out / host / name
        data = text.encode()
        try:
            changed = not p.is_file() or p.read_bytes() != data
        except OSError:  # a folder in the file's place ...: writing says what is wrong
            changed = True
        if changed:
            userfiles.write_output(p, data, f"the render of {host}")
        result.artifacts.append(Artifact(host, kind, p, count, len(data), changed))

    for host in [intent.cluster.name, *(n.name for n in intent.nodes)]:
        objs = by_host.get(host)
        if host in chosen and objs:
            write(host, "calico", "calico.yaml", dump_documents(objs), len(objs))
    for sw in intent.switches:
        if sw.name in chosen:
            write(sw.name, "eos", "eos.cfg", render_switch_config(sw, templates), 1)
    return result
