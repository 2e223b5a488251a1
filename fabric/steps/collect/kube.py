"""The cluster through the Kubernetes API (the ``kubernetes`` client): Calico and core objects.

Only the fields compliance reads are kept from core objects (never a pod's environment); Calico
objects are kept whole, without ``managedFields``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nornir.core.task import Result

from fabric.errors import UnreachableError
from fabric.models.observed import CALICO_RESOURCES, OPERATOR_RESOURCES, ObservedCluster
from fabric.steps.calicoclient import (
    API_GROUPS,
    NODE_ANNOTATIONS,
    CalicoApi,
    node_view,
    resolve_api,
)
from fabric.steps.collect.outputs import write_raw
from fabric.steps.kubeapi import api_client

if TYPE_CHECKING:
    from nornir.core.task import Task


def _trim_pod(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    owners = [
        {"kind": o.get("kind"), "name": o.get("name")} for o in md.get("ownerReferences") or []
    ]
    return {
        "metadata": {
            "name": md.get("name"),
            "namespace": md.get("namespace"),
            "ownerReferences": owners,
        },
        "spec": {"nodeName": spec.get("nodeName"), "hostNetwork": bool(spec.get("hostNetwork"))},
        "status": {"podIP": status.get("podIP"), "phase": status.get("phase")},
    }


def _trim_node(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj.get("metadata") or {}
    status = obj.get("status") or {}
    # Calico's annotations only (a Kubernetes-datastore Calico Node lives there)
    calico = {k: v for k, v in (md.get("annotations") or {}).items() if k in _CALICO_ANNOTATIONS}
    meta: dict[str, Any] = {"name": md.get("name"), "labels": md.get("labels") or {}}
    if calico:
        meta["annotations"] = calico
    return {"metadata": meta, "status": {"addresses": status.get("addresses") or []}}


def _trim_service(obj: dict[str, Any]) -> dict[str, Any]:
    md = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    return {
        "metadata": {"name": md.get("name"), "namespace": md.get("namespace")},
        "spec": {"type": spec.get("type"), "clusterIP": spec.get("clusterIP")},
    }


def _trim_calico(obj: dict[str, Any]) -> dict[str, Any]:
    md = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": md}


_TRIM = {"pods": _trim_pod, "nodes": _trim_node, "services": _trim_service}
_CALICO_ANNOTATIONS = frozenset(NODE_ANNOTATIONS.values())
OPERATOR_GROUP, OPERATOR_VERSION = "operator.tigera.io", "v1"


def _kube_list(what: str, call: Any, *args: Any) -> list[dict[str, Any]] | None:
    """Call a kubernetes-client list method for raw JSON; None on 404 (not served)."""
    from kubernetes.client.exceptions import ApiException

    try:
        resp = call(*args, _preload_content=False)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise UnreachableError(f"list {what}: HTTP {exc.status} {exc.reason}") from exc
    data = json.loads(resp.data)
    items: list[dict[str, Any]] = data.get("items") or []
    return items


def collect_cluster_state(
    task: Task, save_raw: Path | None = None, calico_api: str = "auto"
) -> Result:
    """Read Calico, operator and core objects through the ``kubernetes`` client.

    The kubeconfig is the host's ``kubeconfig`` data (``~`` expanded; default
    ``~/.kube/config``; ``in-cluster`` for the pod's service account) and its ``context`` data
    (default: the kubeconfig's current context); see :mod:`fabric.steps.kubeapi`. The Calico
    API is ``calico_api`` (``auto``: :func:`~fabric.steps.calicoclient.resolve_api`), unless
    the host's ``calico_api`` data says otherwise.

    Returns:
        A Result whose ``result`` is an :class:`~fabric.models.observed.ObservedCluster`.

    Raises:
        UnreachableError: the API could not be reached or refused a request (the library's
            exception is its cause).
    """
    try:
        api = api_client(task.host.get("kubeconfig"), task.host.get("context"))
    except UnreachableError as exc:
        raise UnreachableError(f"{task.host.name}: {exc}") from exc.__cause__
    try:
        chosen = resolve_api(api, str(task.host.get("calico_api") or calico_api))
        objects = _read_cluster(api, chosen)
    except UnreachableError as exc:
        raise UnreachableError(f"{task.host.name}: {exc}") from exc.__cause__
    except Exception as exc:  # urllib3 connection errors and friends
        raise UnreachableError(f"{task.host.name}: {type(exc).__name__}: {exc}") from exc
    finally:
        api.close()
    for stem, items in objects.items():
        if items is not None:
            write_raw(save_raw, task.host.name, f"{stem}.json", json.dumps(items, indent=1) + "\n")
    observed = ObservedCluster.from_objects(task.host.name, objects, calico_api=chosen)
    return Result(host=task.host, result=observed)


def _read_cluster(api: Any, calico_api: CalicoApi) -> dict[str, list[dict[str, Any]] | None]:
    from kubernetes import client

    custom = client.CustomObjectsApi(api)
    core = client.CoreV1Api(api)
    group, version = API_GROUPS[calico_api]
    objects: dict[str, list[dict[str, Any]] | None] = {}
    core_calls = {
        "nodes": core.list_node,
        "pods": core.list_pod_for_all_namespaces,
        "services": core.list_service_for_all_namespaces,
    }
    for stem, call in core_calls.items():
        items = _kube_list(stem, call)
        objects[stem] = None if items is None else [_TRIM[stem](o) for o in items]
    for stem, plural in CALICO_RESOURCES.items():
        if stem == "calico_nodes":
            # the Kubernetes datastore keeps a Calico Node in its core Node's annotations
            nodes = objects["nodes"]
            objects[stem] = None if nodes is None else [node_view(n, calico_api) for n in nodes]
            continue
        items = _kube_list(plural, custom.list_cluster_custom_object, group, version, plural)
        objects[stem] = None if items is None else [_trim_calico(o) for o in items]
    for stem, plural in OPERATOR_RESOURCES.items():
        items = _kube_list(
            plural, custom.list_cluster_custom_object, OPERATOR_GROUP, OPERATOR_VERSION, plural
        )
        objects[stem] = None if items is None else [_trim_calico(o) for o in items]
    return objects
