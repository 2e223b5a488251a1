"""The object store behind the simulated Kubernetes API: plain JSON dicts, persisted per object.

Layout under ``state_dir``::

    resource_version                   the global counter (text)
    objects/<group|core>.<version>.<Kind>/<namespace|_>/<name>.json

Every file is written atomically (temporary file + ``os.replace``), so a crash never leaves a
half-written object and a restart sees exactly the committed objects.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fabric.lab.k8s import resources

DEFAULT_NAMESPACES = (
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "calico-system",
    "calico-apiserver",
    "tigera-operator",
)

#: Fields that never count as a change of the object (a no-op write keeps its resourceVersion).
_VOLATILE_META = ("resourceVersion", "managedFields", "generation")

_RV_FILE = "resource_version"

Key = tuple[str, str, str, str]
"""``(api_version, kind, namespace or "", name)``."""


@dataclass
class KubeFaults:
    """Injected failures of the API server's writes.

    Every write request counts (dry runs too, and before any validation), so ``1`` fails
    exactly the next POST/PUT/PATCH/DELETE; the failed write stores nothing.

    Attributes:
        fail_on_write: fail the Nth write (POST/PUT/PATCH/DELETE) from now; ``1`` is the next.
        status: the HTTP status of the failure, 409 (Conflict) or 500 (InternalError).
    """

    fail_on_write: int | None = None
    status: int = 500


def now_rfc3339(offset_s: float = 0.0) -> str:
    """The current UTC time (plus ``offset_s``) as Kubernetes writes timestamps (``Z``)."""
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset_s)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace`` (never half-written).

    The temporary name is fixed per target: callers hold the store lock, and a stale temporary
    file left by a crash is simply overwritten next time.
    """
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _fold_string_data(secret: dict[str, Any]) -> None:
    """``stringData`` is write-only: the API server folds it into ``data`` (base64)."""
    string_data = secret.pop("stringData", None) or {}
    if string_data:
        data = secret.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    secret.setdefault("type", "Opaque")


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj.get("metadata", {}).items() if k not in _VOLATILE_META}
    # ownership changes count (a server-side apply may change only them); timestamps do not
    meta["managedFields"] = [
        {k: v for k, v in entry.items() if k != "time"}
        for entry in obj.get("metadata", {}).get("managedFields") or []
    ]
    return {**obj, "metadata": meta}


def _spec_part(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class KubeStore:
    """Objects of every kind the lab's API server serves, keyed by kind, namespace and name.

    Args:
        state_dir: where committed objects are persisted; ``None`` keeps them in memory only.
        on_change: called after every committed change (never for a no-op write or a dry run).

    The store is safe to call from any thread; the API server calls it on the lab's event loop.
    :meth:`put` and :meth:`delete` are the seeding interface (no resourceVersion check, no
    faults); the API server uses :meth:`commit` after its own checks. Reads return copies.

    A fresh store (no state yet) holds the namespaces a kubeadm cluster with the Calico
    operator has (:data:`DEFAULT_NAMESPACES`).
    """

    def __init__(
        self, state_dir: Path | None, on_change: Callable[[], None] = lambda: None
    ) -> None:
        self.state_dir = state_dir
        self.on_change = on_change
        self.faults = KubeFaults()
        self._lock = threading.RLock()
        # (apiVersion, kind) -> (namespace, name) -> (object, its JSON text)
        self._kinds: dict[tuple[str, str], dict[tuple[str, str], tuple[dict[str, Any], str]]] = {}
        self._rv = 0
        self._dirs: set[Path] = set()
        self._watchers: list[Callable[[str, dict[str, Any]], None]] = []
        if state_dir is not None and (state_dir / _RV_FILE).exists():
            self._load(state_dir)
            return
        for ns in DEFAULT_NAMESPACES:
            self._commit_locked(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": ns},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                },
                notify=False,
            )
        self._persist_rv()

    # ------------------------------------------------------------------ persistence

    def _path(self, key: Key) -> Path:
        assert self.state_dir is not None
        api_version, kind, ns, name = key
        group, _, version = api_version.rpartition("/")
        folder = self.state_dir / "objects" / f"{group or 'core'}.{version}.{kind}" / (ns or "_")
        if folder not in self._dirs:
            folder.mkdir(parents=True, exist_ok=True)
            self._dirs.add(folder)
        return folder / f"{name}.json"

    def _load(self, state_dir: Path) -> None:
        rv = int((state_dir / _RV_FILE).read_text().strip() or 0)
        for path in sorted((state_dir / "objects").glob("*/*/*.json")):
            text = path.read_text(encoding="utf-8")
            obj = json.loads(text)
            api_version, kind, ns, name = self.key_of(obj)
            self._kinds.setdefault((api_version, kind), {})[(ns, name)] = (obj, text)
            rv = max(rv, int(obj["metadata"].get("resourceVersion") or 0))
        self._rv = rv

    def _persist(self, key: Key, text: str | None) -> None:
        """Write (or remove) one object's file.

        The resourceVersion counter is written only on deletions: after a restart it is the
        maximum of that file and every stored object's resourceVersion.
        """
        if self.state_dir is None:
            return
        path = self._path(key)
        if text is None:
            path.unlink(missing_ok=True)
            self._persist_rv()
        else:
            _atomic_write(path, text)

    def _persist_rv(self) -> None:
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(self.state_dir / _RV_FILE, f"{self._rv}\n")

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def key_of(obj: dict[str, Any]) -> Key:
        """The store key of an object (namespace is ``""`` for cluster-scoped kinds)."""
        meta = obj.get("metadata", {})
        rtype = resources.by_kind(obj["apiVersion"], obj["kind"])
        namespaced = rtype is not None and rtype.namespaced
        ns = (meta.get("namespace") or "default") if namespaced else ""
        return (obj["apiVersion"], obj["kind"], ns, meta["name"])

    @staticmethod
    def _ns(api_version: str, kind: str, namespace: str | None) -> str:
        rtype = resources.by_kind(api_version, kind)
        return (namespace or "default") if rtype is not None and rtype.namespaced else ""

    @property
    def resource_version(self) -> int:
        """The global resourceVersion counter (the version of the last committed change)."""
        return self._rv

    def add_watcher(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        """Call ``callback(event_type, obj)`` (ADDED, MODIFIED, DELETED) after each change.

        The callback runs in the writer's thread, under the store lock: it must be quick and
        must not call the store.
        """
        with self._lock:
            self._watchers.append(callback)

    def remove_watcher(self, callback: Callable[[str, dict[str, Any]], None]) -> None:
        """Stop calling ``callback``."""
        with self._lock:
            if callback in self._watchers:
                self._watchers.remove(callback)

    def _notify(self, event: str, text: str) -> None:
        for cb in list(self._watchers):
            cb(event, json.loads(text))

    # ------------------------------------------------------------------ reads

    def list(
        self, api_version: str, kind: str, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """Copies of every object of ``kind`` (in ``namespace`` if given), sorted by ns/name."""
        with self._lock:
            objects = self._kinds.get((api_version, kind), {})
            keys = sorted(k for k in objects if namespace is None or k[0] == namespace)
            texts = [objects[k][1] for k in keys]
        return [json.loads(t) for t in texts]

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """A copy of one object, or ``None``."""
        ns = self._ns(api_version, kind, namespace)
        with self._lock:
            entry = self._kinds.get((api_version, kind), {}).get((ns, name))
        return json.loads(entry[1]) if entry is not None else None

    # ------------------------------------------------------------------ writes

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an object without any check (seeding); returns the stored copy.

        uid, creationTimestamp and generation are filled in (kept from the stored object on a
        replace); writing an unchanged object changes nothing and calls no ``on_change``.
        """
        return self.commit(obj)

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        """Delete one object (and, for a Namespace, what it contains); ``False`` if absent."""
        return self.remove(api_version, kind, name, namespace) is not None

    def prepare(self, obj: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
        """The object as it would be stored over ``old``: uid, timestamps, generation filled in.

        Does not assign a resourceVersion (a dry run has none).
        """
        # A JSON round trip copies plain JSON data several times faster than deepcopy.
        new: dict[str, Any] = json.loads(json.dumps(obj))
        meta = new.setdefault("metadata", {})
        rtype = resources.by_kind(new["apiVersion"], new["kind"])
        if rtype is not None and rtype.namespaced:
            meta["namespace"] = meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if old is None:
            meta["uid"] = meta.get("uid") or str(uuid.uuid4())
            meta["creationTimestamp"] = meta.get("creationTimestamp") or now_rfc3339()
            meta["generation"] = 1
        else:
            old_meta = old["metadata"]
            meta["uid"] = old_meta["uid"]
            meta["creationTimestamp"] = old_meta["creationTimestamp"]
            generation = int(old_meta.get("generation", 1))
            if _spec_part(new) != _spec_part(old):
                generation += 1
            meta["generation"] = generation
            meta["resourceVersion"] = old_meta.get("resourceVersion")
        if not meta.get("managedFields"):
            meta.pop("managedFields", None)
        meta.pop("selfLink", None)
        if new["apiVersion"] == "v1" and new["kind"] == "Secret":
            _fold_string_data(new)
        return new

    def commit(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store ``obj`` (create or replace by key); a no-op write changes nothing.

        Returns:
            The stored copy, with uid, creationTimestamp, generation and resourceVersion.
        """
        with self._lock:
            changed, stored = self._commit_locked(obj, notify=True)
        if changed:
            self.on_change()
        return stored

    def _commit_locked(self, obj: dict[str, Any], *, notify: bool) -> tuple[bool, dict[str, Any]]:
        api_version, kind, ns, name = self.key_of(obj)
        objects = self._kinds.setdefault((api_version, kind), {})
        entry = objects.get((ns, name))
        old = entry[0] if entry is not None else None
        new = self.prepare(obj, old)
        if entry is not None and old is not None and _comparable(old) == _comparable(new):
            return False, json.loads(entry[1])
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        text = json.dumps(new, separators=(",", ":"))
        objects[(ns, name)] = (new, text)
        self._persist((api_version, kind, ns, name), text)
        if notify:
            self._notify("ADDED" if old is None else "MODIFIED", text)
        return True, json.loads(text)

    def remove(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """Delete one object; return it (with the deletion's resourceVersion) or ``None``."""
        ns = self._ns(api_version, kind, namespace)
        with self._lock:
            removed = self._remove_locked((api_version, kind, ns, name))
            if removed is not None and api_version == "v1" and kind == "Namespace":
                for (api, k), objects in self._kinds.items():
                    for obj_ns, obj_name in [key for key in objects if key[0] == name]:
                        self._remove_locked((api, k, obj_ns, obj_name))
        if removed is not None:
            self.on_change()
        return removed

    def _remove_locked(self, key: Key) -> dict[str, Any] | None:
        api_version, kind, ns, name = key
        entry = self._kinds.get((api_version, kind), {}).pop((ns, name), None)
        if entry is None:
            return None
        self._rv += 1
        old = entry[0]
        old["metadata"]["resourceVersion"] = str(self._rv)
        text = json.dumps(old, separators=(",", ":"))
        self._persist(key, None)
        self._notify("DELETED", text)
        return old
