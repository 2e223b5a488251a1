"""Calico objects over the Kubernetes API: read, semantic diff, dry-run, apply, restore.

Every Calico kind fabric renders (``BGPConfiguration``, ``BGPPeer``, ``Node``) is a
cluster-scoped object of the Calico API the cluster serves (``projectcalico.org/v3``, or the
``crd.projectcalico.org/v1`` custom resources: :mod:`fabric.steps.calicoclient`). The rules:

* **Semantic diff**: objects are compared on what fabric owns (``spec``; for ``Node`` only
  ``spec.bgp``) after dropping server fields (``resourceVersion``, ``uid``,
  ``creationTimestamp``, ``generation``, ``managedFields``, ``status``). Labels and
  annotations of an existing object are kept.
* **Optimistic concurrency**: an update is a PUT carrying the ``resourceVersion`` read when the
  run planned, a create is a POST; a concurrent change makes the API answer 409, reported as a
  :class:`~fabric.errors.ConflictError`, never overwritten.
* **Server-side dry-run** (``dryRun=All``) validates every planned write before the commit.
* **Restore** puts a snapshot back (or deletes an object that did not exist before).

The BGP password Secret (``calico-system/bgp-passwords``, core ``v1``, one key per peer with a
``password_ref``) goes through the same plan/apply/restore path: it is compared on ``type`` and
``data``, applied before the ``BGPPeer`` objects that reference it, and its values never appear
in a diff (a diff says which key is added, removed or changed, never the value).
"""

from __future__ import annotations

import base64
import copy
import difflib
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from fabric.errors import ConflictError
from fabric.steps.calicoclient import PLURALS, SECRET_KIND, CalicoClient, api_version
from fabric.steps.render import BGP_SECRET_NAME, BGP_SECRET_NAMESPACE, CalicoObject

API_VERSION = api_version("v3")
SERVER_FIELDS = (
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
)
#: How a secret value is shown in diffs; a changed value is marked, never shown.
MASK = "*****"
MASK_CHANGED = "***** (changed)"
#: An annotation that may copy a Secret's data (``kubectl apply``): never shown.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: BGPConfiguration fields whose change can drop sessions (applied last).
DISRUPTIVE_FIELDS = ("nodeToNodeMeshEnabled", "asNumber", "listenPort", "bindMode")

Action = Literal["create", "update", "none"]


def object_key(kind: str, name: str) -> str:
    """``Kind/name``: how snapshots and reports name a Calico object."""
    return f"{kind}/{name}"


def strip_server_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy without the fields the API server owns."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for f in SERVER_FIELDS:
        meta.pop(f, None)
    for f in ("labels", "annotations"):
        if f in meta and not meta[f]:
            meta.pop(f)
    return out


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merge(base.get(k), v)
        return out
    return copy.deepcopy(over)


def desired_object(
    rendered: CalicoObject, current: dict[str, Any] | None, api_version: str = API_VERSION
) -> dict[str, Any]:
    """The object to write: the rendered spec on top of what the cluster holds.

    ``BGPConfiguration``/``BGPPeer``: the spec is replaced by the rendered one. ``Node``: only
    ``spec.bgp`` is fabric's (the rest of a Calico Node belongs to calico-node); it is merged.
    Labels and annotations of an existing object are kept; no server field is included.
    ``api_version``: the Calico API the object is written through (``projectcalico.org/v3`` or
    ``crd.projectcalico.org/v1``).
    """
    body = rendered.body
    meta: dict[str, Any] = {"name": rendered.name}
    if rendered.kind == SECRET_KIND:
        meta["namespace"] = BGP_SECRET_NAMESPACE
    if current is not None:
        cmeta = current.get("metadata") or {}
        for f in ("labels", "annotations"):
            if cmeta.get(f):
                meta[f] = copy.deepcopy(cmeta[f])
    if rendered.kind == SECRET_KIND:
        return {
            "apiVersion": "v1",
            "kind": SECRET_KIND,
            "metadata": meta,
            "type": body.get("type", "Opaque"),
            "data": copy.deepcopy(body.get("data") or {}),
        }
    spec = copy.deepcopy(body.get("spec") or {})
    if rendered.kind == "Node" and current is not None:
        spec = _merge(current.get("spec") or {}, spec)
    return {"apiVersion": api_version, "kind": rendered.kind, "metadata": meta, "spec": spec}


def secret_object(host: str, values: dict[str, str]) -> CalicoObject:
    """The BGP password Secret to write: one ``data`` key per peer name (values base64).

    Args:
        host: the inventory host the Secret belongs to (the cluster).
        values: resolved password by BGPPeer name.

    The object's ``text`` is the masked YAML (it is never written anywhere with its values).
    """
    data = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(values.items())}
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": SECRET_KIND,
        "metadata": {"name": BGP_SECRET_NAME, "namespace": BGP_SECRET_NAMESPACE},
        "type": "Opaque",
        "data": data,
    }
    text = yaml.safe_dump(mask_object(body), sort_keys=False)
    return CalicoObject(host, SECRET_KIND, BGP_SECRET_NAME, body, text)


def mask_object(
    obj: dict[str, Any] | None, reference: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """A copy with inline secrets hidden (BGPPeer passwords are secret *references*, kept).

    A Secret's ``data``/``stringData`` values become ``*****``; with ``reference`` (the other
    side of a diff), a key whose value differs from the reference's becomes
    ``***** (changed)``, so a diff tells that a value changes without showing either value.
    """
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    if out.get("kind") == SECRET_KIND:
        ref_data = ((reference or {}).get("data") or {}) if reference is not None else {}
        for f in ("data", "stringData"):
            values = out.get(f)
            if isinstance(values, dict):
                out[f] = {
                    k: MASK_CHANGED if k in ref_data and ref_data[k] != v else MASK
                    for k, v in values.items()
                }
        annotations = (out.get("metadata") or {}).get("annotations") or {}
        if LAST_APPLIED in annotations:
            annotations[LAST_APPLIED] = MASK
        return out
    spec = out.get("spec") or {}
    for f in ("nodeMeshPassword", "password"):
        val = spec.get(f)
        if isinstance(val, str):
            spec[f] = "*****"
    return out


def object_diff(key: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    """Unified diff of two objects as YAML (server fields dropped, secrets masked)."""

    def text(o: dict[str, Any] | None, reference: dict[str, Any] | None) -> list[str]:
        if o is None:
            return []
        shown = mask_object(strip_server_fields(o), reference)
        return yaml.safe_dump(shown, sort_keys=False, default_flow_style=False).splitlines()

    return "\n".join(
        difflib.unified_diff(
            text(before, None),
            text(after, before),
            f"cluster:{key}" if before is not None else "/dev/null",
            f"intent:{key}" if after is not None else "/dev/null",
            lineterm="",
        )
    )


def semantically_equal(current: dict[str, Any] | None, desired: dict[str, Any]) -> bool:
    """Whether ``current`` already is ``desired`` (spec compared structurally)."""
    if current is None:
        return False
    if desired.get("kind") == SECRET_KIND:
        return (current.get("data") or {}) == (desired.get("data") or {}) and current.get(
            "type", "Opaque"
        ) == desired.get("type", "Opaque")
    return (current.get("spec") or {}) == desired.get("spec") and (
        current.get("kind") == desired.get("kind")
    )


def is_disruptive(kind: str, current: dict[str, Any] | None, desired: dict[str, Any]) -> bool:
    """Whether applying ``desired`` may drop BGP sessions (mesh off, AS or port change)."""
    if kind != "BGPConfiguration" or current is None:
        return False
    before = current.get("spec") or {}
    after = desired.get("spec") or {}
    return any(before.get(f) != after.get(f) for f in DISRUPTIVE_FIELDS)


@dataclass
class CalicoChange:
    """One Calico object's plan: what the cluster has, what it will get, and the diff."""

    host: str
    kind: str
    name: str
    current: dict[str, Any] | None
    desired: dict[str, Any]
    action: Action
    disruptive: bool
    diff: str
    written_rv: str | None = None
    """resourceVersion the API returned for our write (to detect later concurrent changes)."""

    @property
    def key(self) -> str:
        """``Kind/name``."""
        return object_key(self.kind, self.name)

    @property
    def order(self) -> tuple[int, int]:
        """Apply order: safe first; the Secret, filters (before their peers), peers, nodes."""
        kinds = {SECRET_KIND: -2, "BGPFilter": -1, "BGPPeer": 0, "Node": 1, "BGPConfiguration": 2}
        return (int(self.disruptive), kinds.get(self.kind, 3))


# --------------------------------------------------------------------------- plan / apply


def plan_calico(
    client: CalicoClient, rendered: list[CalicoObject], *, server_dry_run: bool = True
) -> list[CalicoChange]:
    """Read each rendered object's current state and plan its change, in apply order.

    With ``server_dry_run`` every create/update is also sent with ``dryRun=All`` so the API
    validates it now (nothing is stored).
    """
    changes: list[CalicoChange] = []
    # one LIST per kind instead of one GET per object (hundreds of rack peers at scale)
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    for kind in sorted({o.kind for o in rendered}):
        for item in client.list(kind):
            existing[(kind, str((item.get("metadata") or {}).get("name")))] = item
    for obj in rendered:
        current = existing.get((obj.kind, obj.name))
        desired = desired_object(obj, current, client.api_version_of(obj.kind))
        if semantically_equal(current, desired):
            action: Action = "none"
        else:
            action = "create" if current is None else "update"
        diff = (
            ""
            if action == "none"
            else object_diff(object_key(obj.kind, obj.name), current, desired)
        )
        change = CalicoChange(
            host=obj.host,
            kind=obj.kind,
            name=obj.name,
            current=current,
            desired=desired,
            action=action,
            disruptive=is_disruptive(obj.kind, current, desired),
            diff=diff,
        )
        if server_dry_run and action != "none":
            apply_change(client, change, dry_run=True)
        changes.append(change)
    return sorted(changes, key=lambda c: c.order)


def apply_change(client: CalicoClient, change: CalicoChange, *, dry_run: bool = False) -> None:
    """Create or update one object with the resourceVersion of the plan.

    Raises:
        ConflictError: the object changed (or appeared, or vanished) since it was planned.
        RunFailedError: the API refused the object (e.g. 422 Invalid, 500).
    """
    if change.action == "none":
        return
    body = copy.deepcopy(change.desired)
    if change.action == "create":
        res = client.create(body, dry_run=dry_run)
    else:
        assert change.current is not None
        body["metadata"]["resourceVersion"] = change.current["metadata"]["resourceVersion"]
        res = client.replace(body, dry_run=dry_run)
    if not dry_run:
        change.written_rv = str((res.get("metadata") or {}).get("resourceVersion") or "") or None


def restore_object(
    client: CalicoClient,
    kind: str,
    name: str,
    snapshot: dict[str, Any] | None,
    *,
    expect_rv: str | None = None,
    dry_run: bool = False,
) -> tuple[bool, str]:
    """Put ``kind/name`` back to ``snapshot`` (delete it if the snapshot says it was absent).

    Args:
        client: the API client.
        kind: the Calico kind.
        name: the object name.
        snapshot: the exact object before the change, or None if it did not exist.
        expect_rv: the resourceVersion our own write produced; when the object has another one
            now, someone changed it since and restoring would overwrite them: ConflictError.
        dry_run: only compute the diff.

    Returns:
        ``(changed, diff)``: whether the object was (would be) changed, and the masked diff
        from its current state to the snapshot.
    """
    key = object_key(kind, name)
    current = client.get(kind, name)
    if expect_rv is not None and current is not None:
        rv = (current.get("metadata") or {}).get("resourceVersion")
        if str(rv) != expect_rv:
            raise ConflictError(
                f"{key} was changed by someone else after this run wrote it "
                f"(resourceVersion {rv}, ours {expect_rv}): not overwriting"
            )
    if snapshot is None:
        if current is None:
            return False, ""
        diff = object_diff(key, current, None)
        if not dry_run:
            client.delete(kind, name, resource_version=current["metadata"]["resourceVersion"])
        return True, diff
    target = strip_server_fields(snapshot)
    if current is not None and strip_server_fields(current) == target:
        return False, ""
    diff = object_diff(key, current, snapshot)
    if dry_run:
        return True, diff
    if current is None:
        client.create(target)
    else:
        target["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        client.replace(target)
    return True, diff


__all__ = ["PLURALS", "SECRET_KIND", "CalicoClient"]
