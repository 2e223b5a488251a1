"""Saved outputs: the state of every host read back from a folder (``run compliance --from``).

Layout: :mod:`fabric.steps.collect.outputs`. Pods and services may instead be saved as
``kubectl get pods -o wide -A`` / ``kubectl get svc -o wide -A`` text, as an operator can copy
them from a terminal. Nothing is contacted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from fabric import safeyaml, userfiles
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
from fabric.safeyaml import YamlError
from fabric.steps.collect.outputs import (
    NODE_STATUS_FILE,
    PODS_TEXT,
    SERVICES_TEXT,
    SWITCH_COMMANDS,
    parse_node_output,
    parse_switch_outputs,
    raw_name,
)


def _saved(what: str) -> userfiles.ErrorFactory:
    """Errors about a saved file: a :class:`ParseError` (exit 5), as for the output itself."""
    return lambda msg: ParseError(what, None, msg)


def _capture(path: Path, command: str) -> str | None:
    """The text saved at ``path`` (UTF-8, or UTF-16 with a BOM); None when nothing is there.

    Raises:
        ParseError: something is there but is not a readable text file (a directory ...).
    """
    if not userfiles.exists(path):
        return None
    return userfiles.read_device_output(path, error=_saved(command))


def _objects_of(doc: Any, path: Path, *, json_list: bool) -> list[Any]:
    """The objects of one JSON/YAML document: a list, a ``...List`` object's items, or one.

    A JSON object is a List (``kubectl get -o json``); a YAML one only when its kind says so.
    ``items: null`` is an empty list (how Go writes a nil slice).

    Raises:
        ParseError: the document is none of those.
    """
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        raise ParseError(
            f"saved objects in {path.parent}",
            None,
            f"{path}: expected an object, a list or a ...List object, not {type(doc).__name__}",
        )
    kind = doc.get("kind")
    if not json_list and not (isinstance(kind, str) and kind.endswith("List")):
        return [doc]
    items = doc.get("items")
    if items is None:
        return []
    if not isinstance(items, list):
        raise ParseError(f"saved objects in {path.parent}", None, f"{path}: items is not a list")
    return items


def _read_objects(d: Path, stem: str) -> list[dict[str, Any]] | None:
    """Objects from ``<stem>.json`` (a list or a List object) or ``<stem>.yaml`` (documents).

    Raises:
        ParseError: the file cannot be read, is not JSON/YAML (or is refused by
            :mod:`fabric.safeyaml`), or holds something other than objects.
    """
    j = d / f"{stem}.json"
    y = d / f"{stem}.yaml"
    what = f"saved objects in {d}"
    docs: list[Any] = []
    if userfiles.exists(j):
        text = userfiles.read_text(j, "Kubernetes objects (JSON)", error=_saved(what))
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            detail = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise ParseError(what, None, f"{j}: invalid JSON: {detail}") from None
        docs = _objects_of(data, j, json_list=True)
    elif userfiles.exists(y):
        text = userfiles.read_text(y, "Kubernetes objects (YAML)", error=_saved(what))
        try:
            loaded = safeyaml.load_all(text, str(y))
        except YamlError as exc:
            raise ParseError(what, None, str(exc)) from None
        for doc in loaded:
            if doc is not None:
                docs.extend(_objects_of(doc, y, json_list=False))
    else:
        return None
    for n, obj in enumerate(docs):
        problem = _shape_problem(obj)
        if problem:
            raise ParseError(what, None, f"{stem}: object {n}: {problem}")
    return docs


def _shape_problem(obj: Any) -> str:
    """What makes ``obj`` not a Kubernetes object as the API returns one ("" if nothing)."""
    if not isinstance(obj, dict):
        return f"expected an object (a mapping), not {type(obj).__name__}"
    for key in ("metadata", "spec", "status"):
        if key in obj and not isinstance(obj[key], dict | None):
            return f"field {key}: expected a mapping, not {type(obj[key]).__name__}"
    return ""


def load_saved_cluster(host: str, d: Path) -> ObservedCluster:
    """Read a cluster host's saved objects.

    Raises:
        ParseError: a file is not valid JSON/YAML, or a pods/services text is unparsable.
    """
    objects: dict[str, list[dict[str, Any]] | None] = {}
    for stem in (*CALICO_RESOURCES, *CORE_RESOURCES, *OPERATOR_RESOURCES):
        objects[stem] = _read_objects(d, stem)
    try:
        state = ObservedCluster.from_objects(host, objects)
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise ParseError(
            f"saved objects in {d}", None, f"not objects as the API lists them: {exc}"
        ) from None
    pods_text = _capture(d / f"{PODS_TEXT}.txt", "kubectl get pods -o wide -A")
    if state.pods is None and pods_text is not None:
        plist = cast("PodList", parse("kubernetes", "kubectl get pods -o wide -A", pods_text))
        state.pods = [
            PodInfo(namespace=p.namespace, name=p.name, ip=p.ip, node=p.node) for p in plist.pods
        ]
    services_text = _capture(d / f"{SERVICES_TEXT}.txt", "kubectl get svc -o wide -A")
    if state.services is None and services_text is not None:
        slist = cast(
            "ServiceList", parse("kubernetes", "kubectl get svc -o wide -A", services_text)
        )
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
        outputs = {}
        for cmd in SWITCH_COMMANDS:
            text = _capture(d / f"{raw_name(cmd)}.txt", cmd)
            if text is not None:
                outputs[cmd] = text
        if not outputs:
            raise UnreachableError(f"{host}: no saved switch outputs in {d}")
        return parse_switch_outputs(host, outputs)
    if role == "calico_node":
        f = d / f"{NODE_STATUS_FILE}.txt"
        node_text = _capture(f, "calicoctl node status")
        if node_text is None:
            raise UnreachableError(f"{host}: {f} not found")
        return parse_node_output(host, node_text)
    return load_saved_cluster(host, d)
