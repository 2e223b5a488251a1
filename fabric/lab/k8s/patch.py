"""PATCH semantics: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and server-side apply.

Strategic merge patch is a merge patch for the Calico kinds (they have no patch strategies;
``$``-directives are dropped); for the core kinds, lists with a merge key (containers by name,
Service ports by port ...) are merged item by item, honouring kubectl's ``$`` directives.

Server-side apply is modelled on managed fields: every manager owns a set of field paths
(lists are atomic, as for the Calico kinds). An apply by manager M

* conflicts with another manager that owns a field M sets to a different value (409 unless
  ``force``, which moves the field to M);
* removes the fields M applied last time but no longer applies, unless another manager owns
  them;
* merges the applied configuration into the live object.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from fabric.lab.k8s.store import now_rfc3339

Path = tuple[str, ...]


class PatchError(ValueError):
    """A patch that cannot be applied (the API server answers 422 or 400)."""


class ApplyConflictError(Exception):
    """Server-side apply found fields owned by other managers (409 Conflict)."""

    def __init__(self, conflicts: list[tuple[str, str, str]]) -> None:
        #: ``(manager, apiVersion, field)`` per conflict, fields as ``.spec.asNumber``.
        self.conflicts = conflicts
        n = len(conflicts)
        if n == 1:
            manager, api_version, fld = conflicts[0]
            msg = (
                f'Apply failed with 1 conflict: conflict with "{manager}" '
                f"using {api_version}: {fld}"
            )
        else:
            by_manager: dict[tuple[str, str], list[str]] = {}
            for manager, api_version, fld in conflicts:
                by_manager.setdefault((manager, api_version), []).append(fld)
            lines = [f"Apply failed with {n} conflicts:"]
            for (manager, api_version), fields in by_manager.items():
                lines.append(f' conflicts with "{manager}" using {api_version}:')
                lines.extend(f"- {f}" for f in fields)
            msg = "\n".join(lines)
        super().__init__(msg)


# --------------------------------------------------------------------------- merge patch


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch.

    >>> merge_patch({"a": 1, "b": {"c": 2}}, {"b": {"c": None, "d": 3}, "e": [1]})
    {'a': 1, 'b': {'d': 3}, 'e': [1]}
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


#: Strategic-merge keys of the core kinds' lists (``patchMergeKey`` in k8s.io/api), by field.
#: Container ``ports`` merge on ``containerPort``; Service ``ports`` on ``port``.
SMP_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "addresses": "type",
    "hostAliases": "ip",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "ports": "port",
}


def strategic_merge_patch(target: Any, patch: Any, parent: str = "") -> Any:
    """A strategic merge patch for the core kinds (a merge patch with list merge keys).

    Supports the directives kubectl sends: ``$patch`` (``delete``/``replace`` in list items and
    maps), ``$setElementOrder/<list>``, ``$deleteFromPrimitiveList/<list>`` and ``$retainKeys``.
    Lists without a merge key are replaced, as in a merge patch.
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return strip_directives(patch)
    result: dict[str, Any] = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        order = patch.get(f"$setElementOrder/{key}")
        merge_key = _merge_key(key, parent, order)
        if isinstance(value, list) and merge_key is not None:
            result[key] = _merge_list(result.get(key), value, merge_key, order, key)
        elif isinstance(value, dict):
            result[key] = strategic_merge_patch(result.get(key), value, key)
        else:
            result[key] = copy.deepcopy(value)
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/") and isinstance(value, list):
            name = key.split("/", 1)[1]
            if isinstance(result.get(name), list):
                result[name] = [v for v in result[name] if v not in value]
    retain = patch.get("$retainKeys")
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _merge_key(field: str, parent: str, order: Any) -> str | None:
    if isinstance(order, list) and order and isinstance(order[0], dict) and len(order[0]) == 1:
        return str(next(iter(order[0])))
    if field == "ports" and parent in ("containers", "initContainers", "ephemeralContainers"):
        return "containerPort"
    return SMP_MERGE_KEYS.get(field)


def _merge_list(
    current: Any, patch_items: list[Any], key: str, order: Any, field: str
) -> list[Any]:
    items = [copy.deepcopy(i) for i in current] if isinstance(current, list) else []
    for item in patch_items:
        if not isinstance(item, dict):
            continue
        idx = next(
            (i for i, cur in enumerate(items)
             if isinstance(cur, dict) and cur.get(key) == item.get(key)),
            None,
        )  # fmt: skip
        directive = item.get("$patch")
        if directive == "delete":
            if idx is not None:
                del items[idx]
        elif directive == "replace" or idx is None:
            if idx is None:
                items.append(strip_directives(item))
            else:
                items[idx] = strip_directives(item)
        else:
            items[idx] = strategic_merge_patch(items[idx], item, field)
    if isinstance(order, list):
        wanted = [o.get(key) for o in order if isinstance(o, dict)]
        rank = {v: i for i, v in enumerate(wanted)}
        items.sort(key=lambda i: rank.get(i.get(key) if isinstance(i, dict) else None, len(rank)))
    return items


def strip_directives(patch: Any) -> Any:
    """Drop strategic-merge-patch directives (keys starting with ``$``)."""
    if isinstance(patch, dict):
        return {k: strip_directives(v) for k, v in patch.items() if not str(k).startswith("$")}
    if isinstance(patch, list):
        return [strip_directives(v) for v in patch]
    return patch


# --------------------------------------------------------------------------- JSON patch


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc: Any, parts: list[str], op: str) -> Any:
    cur = doc
    for part in parts[:-1]:
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            raise PatchError(
                f"{op} operation does not apply: doc is missing path: /{'/'.join(parts)}"
            )
    return cur


def _get(doc: Any, path: str, op: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, op)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")


def _add(doc: Any, path: str, value: Any, op: str = "add") -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, op)
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"{op} operation does not apply: index out of range: {path}")
    else:
        raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    parts = _pointer(path)
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _parent(doc, parts, op)
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise PatchError(f"{op} operation does not apply: doc is missing path: {path}")
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    """RFC 6902 JSON patch (add, remove, replace, move, copy, test).

    >>> json_patch({"spec": {"a": 1}}, [{"op": "replace", "path": "/spec/a", "value": 2},
    ...                                 {"op": "add", "path": "/spec/b", "value": [1]}])
    {'spec': {'a': 2, 'b': [1]}}
    """
    if not isinstance(ops, list):
        raise PatchError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path, "replace")
            doc = _remove(doc, path, "replace") if _pointer(path) else doc
            doc = _add(doc, path, copy.deepcopy(op.get("value")), "replace")
        elif kind in ("move", "copy"):
            if "from" not in op:
                raise PatchError(f"{kind} operation requires 'from'")
            value = copy.deepcopy(_get(doc, op["from"], kind))
            if kind == "move":
                doc = _remove(doc, op["from"], kind)
            doc = _add(doc, path, value, kind)
        elif kind == "test":
            if _get(doc, path, "test") != op.get("value"):
                raise PatchError(f"testing value {path} failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc


# --------------------------------------------------------------------------- managed fields


def field_paths(obj: dict[str, Any]) -> set[Path]:
    """Leaf field paths of an object as server-side apply tracks them.

    ``apiVersion``, ``kind`` and identity metadata are not owned; labels and annotations are
    owned per key; lists are atomic.
    """
    out: set[Path] = set()

    def walk(value: Any, prefix: Path) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(v, (*prefix, str(k)))
        else:
            out.add(prefix)

    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata":
            for mkey in ("labels", "annotations"):
                for k, v in (value.get(mkey) or {}).items():
                    walk(v, ("metadata", mkey, k))
            continue
        walk(value, (key,))
    return out


def to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    """The ``fieldsV1`` form of a set of paths (``{"f:spec": {"f:peerIP": {}}}``)."""
    root: dict[str, Any] = {}
    for path in sorted(paths):
        cur = root
        for part in path:
            cur = cur.setdefault(f"f:{part}", {})
    return root


def from_fields_v1(fields: dict[str, Any], prefix: Path = ()) -> set[Path]:
    """The set of leaf paths of a ``fieldsV1`` document."""
    out: set[Path] = set()
    for key, sub in fields.items():
        if not key.startswith("f:"):
            continue
        path = (*prefix, key[2:])
        if isinstance(sub, dict) and any(k.startswith("f:") for k in sub):
            out |= from_fields_v1(sub, path)
        else:
            out.add(path)
    return out


def get_path(obj: Any, path: Path) -> tuple[bool, Any]:
    """``(found, value)`` at ``path``."""
    cur = obj
    for part in path:
        if not isinstance(cur, dict) or part not in cur:
            return False, None
        cur = cur[part]
    return True, cur


def _remove_path(obj: dict[str, Any], path: Path) -> None:
    cur: Any = obj
    parents: list[tuple[dict[str, Any], str]] = []
    for part in path[:-1]:
        if not isinstance(cur, dict) or part not in cur:
            return
        parents.append((cur, part))
        cur = cur[part]
    if isinstance(cur, dict):
        cur.pop(path[-1], None)
    # prune emptied maps below the top level
    for parent, part in reversed(parents):
        if parent[part] == {} and len(parents) > 1:
            del parent[part]
        else:
            break


def _deep_merge(base: Any, applied: Any) -> Any:
    if isinstance(base, dict) and isinstance(applied, dict):
        out = dict(base)
        for k, v in applied.items():
            out[k] = _deep_merge(base.get(k), v)
        return out
    return copy.deepcopy(applied)


def _overlaps(a: Path, b: Path) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


@dataclass
class Manager:
    """One managedFields entry."""

    manager: str
    operation: str
    api_version: str
    paths: set[Path]
    time: str

    def to_json(self) -> dict[str, Any]:
        """The Kubernetes JSON of the entry."""
        return {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": to_fields_v1(self.paths),
        }


def read_managers(obj: dict[str, Any] | None) -> list[Manager]:
    """The managedFields entries of an object."""
    if obj is None:
        return []
    out = []
    for entry in obj.get("metadata", {}).get("managedFields") or []:
        out.append(
            Manager(
                manager=str(entry.get("manager", "")),
                operation=str(entry.get("operation", "Update")),
                api_version=str(entry.get("apiVersion", obj.get("apiVersion", ""))),
                paths=from_fields_v1(entry.get("fieldsV1") or {}),
                time=str(entry.get("time", "")),
            )
        )
    return out


def _write_managers(obj: dict[str, Any], managers: list[Manager]) -> None:
    entries = [m.to_json() for m in managers if m.paths]
    if entries:
        obj.setdefault("metadata", {})["managedFields"] = entries
    else:
        obj.get("metadata", {}).pop("managedFields", None)


def track_update(old: dict[str, Any] | None, new: dict[str, Any], manager: str) -> dict[str, Any]:
    """Record a non-apply write by ``manager`` in ``new``'s managedFields (returns ``new``).

    The manager takes the fields the write added or changed; fields the write removed leave
    every manager.
    """
    managers = read_managers(old)
    old_paths = field_paths(old) if old is not None else set()
    new_paths = field_paths(new)
    changed = {p for p in new_paths if p not in old_paths or get_path(old, p) != get_path(new, p)}
    for m in managers:
        m.paths = {p for p in m.paths if p in new_paths and p not in changed}
    mine = next((m for m in managers if m.manager == manager and m.operation == "Update"), None)
    if mine is None:
        mine = Manager(manager, "Update", new["apiVersion"], set(), now_rfc3339())
        managers.append(mine)
    if changed:
        mine.paths |= changed
        mine.time = now_rfc3339()
    _write_managers(new, managers)
    return new


def server_side_apply(
    live: dict[str, Any] | None, applied: dict[str, Any], manager: str, *, force: bool
) -> dict[str, Any]:
    """The object after ``manager`` applies ``applied`` over ``live``.

    Raises:
        ApplyConflictError: another manager owns a field set to a different value (no force).
    """
    applied = copy.deepcopy(applied)
    applied.get("metadata", {}).pop("managedFields", None)
    applied_paths = field_paths(applied)
    managers = read_managers(live)
    mine = next((m for m in managers if m.manager == manager and m.operation == "Apply"), None)
    conflicts: list[tuple[str, str, str]] = []
    for m in managers:
        if m is mine:
            continue
        for p in sorted(m.paths):
            hits = [a for a in applied_paths if _overlaps(a, p)]
            if hits and any(get_path(live, h) != get_path(applied, h) for h in hits):
                conflicts.append((m.manager, m.api_version, "." + ".".join(p)))
    if conflicts and not force:
        raise ApplyConflictError(conflicts)
    if force:
        lost = {(m, f) for m, _, f in conflicts}
        for m in managers:
            if m is not mine:
                m.paths = {p for p in m.paths if (m.manager, "." + ".".join(p)) not in lost}
    result: dict[str, Any] = copy.deepcopy(live) if live is not None else {}
    if mine is not None:
        others = set().union(*(m.paths for m in managers if m is not mine))
        for p in mine.paths - applied_paths:
            if not any(_overlaps(p, o) for o in others):
                _remove_path(result, p)
    result = _deep_merge(result, applied)
    if mine is None:
        mine = Manager(manager, "Apply", applied.get("apiVersion", ""), set(), "")
        managers.append(mine)
    mine.paths = applied_paths
    mine.api_version = applied.get("apiVersion", mine.api_version)
    mine.time = now_rfc3339()
    _write_managers(result, managers)
    return result
