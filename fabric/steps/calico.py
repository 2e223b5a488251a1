"""Calico objects over the Kubernetes API: read, semantic diff, dry-run, apply, restore.

Every Calico kind fabric renders (``BGPConfiguration``, ``BGPPeer``, ``Node``) is a
cluster-scoped ``projectcalico.org/v3`` object. The rules:

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
import json
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from fabric.errors import ConflictError, RunFailedError, UnreachableError
from fabric.steps.render import BGP_SECRET_NAME, BGP_SECRET_NAMESPACE, CalicoObject

GROUP = "projectcalico.org"
VERSION = "v3"
API_VERSION = f"{GROUP}/{VERSION}"
PLURALS: dict[str, str] = {
    "BGPConfiguration": "bgpconfigurations",
    "BGPPeer": "bgppeers",
    "BGPFilter": "bgpfilters",
    "Node": "nodes",
    "BlockAffinity": "blockaffinities",
}
SERVER_FIELDS = (
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
)
#: The core kind fabric writes besides the Calico ones (the BGP password Secret).
SECRET_KIND = "Secret"
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


def desired_object(rendered: CalicoObject, current: dict[str, Any] | None) -> dict[str, Any]:
    """The object to write: the rendered spec on top of what the cluster holds.

    ``BGPConfiguration``/``BGPPeer``: the spec is replaced by the rendered one. ``Node``: only
    ``spec.bgp`` is fabric's (the rest of a Calico Node belongs to calico-node); it is merged.
    Labels and annotations of an existing object are kept; no server field is included.
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
    return {"apiVersion": API_VERSION, "kind": rendered.kind, "metadata": meta, "spec": spec}


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


class CalicoClient:
    """The few Kubernetes calls fabric makes, over the ``kubernetes`` client.

    Args:
        kubeconfig: path of the kubeconfig file.
        context: the context to use (None: the file's current context).
        insecure: do not verify the API server's certificate.
    """

    def __init__(self, kubeconfig: str, context: str | None, *, insecure: bool = False) -> None:
        import os

        from kubernetes import client, config

        cfg = client.Configuration()
        try:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=os.path.expanduser(kubeconfig),
                context=context,
                client_configuration=cfg,
                persist_config=False,
            )
        except Exception as exc:  # config errors come as several unrelated types
            raise UnreachableError(f"cannot load kubeconfig {kubeconfig}: {exc}") from exc
        if insecure:
            cfg.verify_ssl = False
        cfg.retries = 0
        self._api_client = client.ApiClient(cfg)
        self.api = client.CustomObjectsApi(self._api_client)
        self.core = client.CoreV1Api(self._api_client)
        self._exc = client.ApiException

    def close(self) -> None:
        """Release the HTTP pool."""
        self._api_client.close()  # type: ignore[no-untyped-call]

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from urllib3.exceptions import HTTPError

        try:
            return fn(*args, _request_timeout=30, **kwargs)
        except self._exc as exc:
            status = int(exc.status or 0)
            reason = _status_message(exc)
            if status == 409:
                raise ConflictError(f"{what}: conflict (409): {reason}") from exc
            if status == 404:
                raise KeyError(what) from exc
            raise RunFailedError(f"{what}: HTTP {status}: {reason}") from exc
        except (HTTPError, OSError) as exc:
            raise UnreachableError(f"{what}: Kubernetes API unreachable: {exc}") from exc

    def _raw(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """A core-API call answered as the server's JSON (exact, not a client model)."""
        resp = self._call(what, fn, *args, _preload_content=False, **kwargs)
        out: dict[str, Any] = json.loads(resp.data)
        return out

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        if kind == SECRET_KIND:
            try:
                return self._raw(
                    f"get {kind}/{name}",
                    self.core.read_namespaced_secret,
                    name,
                    BGP_SECRET_NAMESPACE,
                )
            except KeyError:
                return None
        try:
            obj: dict[str, Any] = self._call(
                f"get {kind}/{name}",
                self.api.get_cluster_custom_object,
                GROUP,
                VERSION,
                PLURALS[kind],
                name,
            )
        except KeyError:
            return None
        return obj

    def list(self, kind: str) -> list[dict[str, Any]]:
        """Every object of ``kind`` (Secrets: those of the BGP password namespace)."""
        if kind == SECRET_KIND:
            found = self.get(kind, BGP_SECRET_NAME)
            return [] if found is None else [found]
        res = self._call(
            f"list {kind}", self.api.list_cluster_custom_object, GROUP, VERSION, PLURALS[kind]
        )
        items: list[dict[str, Any]] = res.get("items", [])
        return items

    def create(self, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST ``body`` (409 if it exists by now)."""
        kind, name = body["kind"], body["metadata"]["name"]
        kwargs = {"dry_run": "All"} if dry_run else {}
        if kind == SECRET_KIND:
            ns = body["metadata"].get("namespace", BGP_SECRET_NAMESPACE)
            try:
                return self._raw(
                    f"create {kind}/{name}",
                    self.core.create_namespaced_secret,
                    ns,
                    body,
                    **kwargs,
                )
            except KeyError:
                raise RunFailedError(f"create {kind}/{name}: namespace {ns} not found") from None
        obj: dict[str, Any] = self._call(
            f"create {kind}/{name}",
            self.api.create_cluster_custom_object,
            GROUP,
            VERSION,
            PLURALS[kind],
            body,
            **kwargs,
        )
        return obj

    def replace(self, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """PUT ``body``; its ``metadata.resourceVersion`` makes a concurrent change a 409."""
        kind, name = body["kind"], body["metadata"]["name"]
        kwargs = {"dry_run": "All"} if dry_run else {}
        try:
            if kind == SECRET_KIND:
                return self._raw(
                    f"replace {kind}/{name}",
                    self.core.replace_namespaced_secret,
                    name,
                    body["metadata"].get("namespace", BGP_SECRET_NAMESPACE),
                    body,
                    **kwargs,
                )
            obj: dict[str, Any] = self._call(
                f"replace {kind}/{name}",
                self.api.replace_cluster_custom_object,
                GROUP,
                VERSION,
                PLURALS[kind],
                name,
                body,
                **kwargs,
            )
        except KeyError:
            raise ConflictError(f"replace {kind}/{name}: deleted concurrently") from None
        return obj

    def delete(self, kind: str, name: str, *, resource_version: str | None = None) -> bool:
        """DELETE (with a resourceVersion precondition when given); False if already absent."""
        body: dict[str, Any] = {}
        if resource_version:
            body = {"preconditions": {"resourceVersion": resource_version}}
        try:
            if kind == SECRET_KIND:
                self._call(
                    f"delete {kind}/{name}",
                    self.core.delete_namespaced_secret,
                    name,
                    BGP_SECRET_NAMESPACE,
                    body=body or None,
                    _preload_content=False,
                )
                return True
            self._call(
                f"delete {kind}/{name}",
                self.api.delete_cluster_custom_object,
                GROUP,
                VERSION,
                PLURALS[kind],
                name,
                body=body or None,
            )
        except KeyError:
            return False
        return True


def _status_message(exc: Any) -> str:
    try:
        body = json.loads(exc.body)
        return str(body.get("message") or body.get("reason") or exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(exc.reason)


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
        desired = desired_object(obj, current)
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
