"""Saved outputs: the state of every host read back from a folder (``run compliance --from``).

Layout: :mod:`fabric.steps.collect.outputs`. Pods and services may instead be saved as
``kubectl get pods -o wide -A`` / ``kubectl get svc -o wide -A`` text, as an operator can copy
them from a terminal. Nothing is contacted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

import yaml

from fabric.errors import ParseError, UnreachableError
from fabric.models.observed import (
    CALICO_RESOURCES,
    CORE_RESOURCES,
    OPERATOR_RESOURCES,
    Observed,
    ObservedCluster,
    PodInfo,
    Role,
    ServiceInfo,
)
from fabric.models.parsed import PodList, ServiceList
from fabric.parsing import parse
from fabric.steps.collect.outputs import (
    NODE_STATUS_FILE,
    PODS_TEXT,
    SERVICES_TEXT,
    SWITCH_COMMANDS,
    parse_node_output,
    parse_switch_outputs,
    raw_name,
)


def _read_objects(d: Path, stem: str) -> list[dict[str, Any]] | None:
    """Objects from ``<stem>.json`` (a list or a List object) or ``<stem>.yaml`` (documents)."""
    j = d / f"{stem}.json"
    y = d / f"{stem}.yaml"
    if j.is_file():
        data = json.loads(j.read_text(encoding="utf-8"))
        docs: Iterable[Any] = data.get("items", []) if isinstance(data, dict) else data
    elif y.is_file():
        docs = [doc for doc in yaml.safe_load_all(y.read_text(encoding="utf-8")) if doc is not None]
        flat: list[Any] = []
        for doc in docs:
            flat.extend(doc.get("items", []) if doc.get("kind", "").endswith("List") else [doc])
        docs = flat
    else:
        return None
    out = [o for o in docs if isinstance(o, dict)]
    return out


def load_saved_cluster(host: str, d: Path) -> ObservedCluster:
    """Read a cluster host's saved objects.

    Raises:
        ParseError: a file is not valid JSON/YAML, or a pods/services text is unparsable.
    """
    objects: dict[str, list[dict[str, Any]] | None] = {}
    try:
        for stem in (*CALICO_RESOURCES, *CORE_RESOURCES, *OPERATOR_RESOURCES):
            objects[stem] = _read_objects(d, stem)
    except (ValueError, yaml.YAMLError, AttributeError) as exc:
        raise ParseError(f"saved objects in {d}", None, str(exc)) from exc
    state = ObservedCluster.from_objects(host, objects)
    if state.pods is None and (d / f"{PODS_TEXT}.txt").is_file():
        text = (d / f"{PODS_TEXT}.txt").read_text(encoding="utf-8")
        plist = cast("PodList", parse("kubernetes", "kubectl get pods -o wide -A", text))
        state.pods = [
            PodInfo(namespace=p.namespace, name=p.name, ip=p.ip, node=p.node) for p in plist.pods
        ]
    if state.services is None and (d / f"{SERVICES_TEXT}.txt").is_file():
        text = (d / f"{SERVICES_TEXT}.txt").read_text(encoding="utf-8")
        slist = cast("ServiceList", parse("kubernetes", "kubectl get svc -o wide -A", text))
        state.services = [
            ServiceInfo(namespace=s.namespace, name=s.name, type=s.type, cluster_ip=s.cluster_ip)
            for s in slist.services
        ]
    return state


def load_saved_host(host: str, role: Role, directory: Path) -> Observed:
    """Read one host's saved outputs from ``directory/<host>/``.

    Raises:
        UnreachableError: nothing was saved for this host (it was not collected).
        ParseError: a saved output could not be parsed.
    """
    d = directory / host
    if not d.is_dir():
        raise UnreachableError(f"{host}: no saved outputs ({d} does not exist)")
    if role == "switch":
        outputs = {
            cmd: (d / f"{raw_name(cmd)}.txt").read_text(encoding="utf-8")
            for cmd in SWITCH_COMMANDS
            if (d / f"{raw_name(cmd)}.txt").is_file()
        }
        if not outputs:
            raise UnreachableError(f"{host}: no saved switch outputs in {d}")
        return parse_switch_outputs(host, outputs)
    if role == "calico_node":
        f = d / f"{NODE_STATUS_FILE}.txt"
        if not f.is_file():
            raise UnreachableError(f"{host}: {f} not found")
        return parse_node_output(host, f.read_text(encoding="utf-8"))
    return load_saved_cluster(host, d)
