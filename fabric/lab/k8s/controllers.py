"""What a cluster's controllers derive from its objects, as pure functions of plain dicts.

The lab runtime calls these after every change (``LabRuntime._reconcile``) and writes what they
return into the store; nothing here touches the store or the clock except through arguments:

* :func:`pod_from_replica_set`: the pod a ReplicaSet creates for a missing replica (its template,
  a name suffix, the controller ownerReference), as the ReplicaSet controller does;
* :func:`replica_set_status`, :func:`deployment_status`, :func:`daemon_set_status`: the status
  the controllers report for the pods they own;
* :func:`service_endpoints`: the ``Endpoints`` and ``discovery.k8s.io/v1`` ``EndpointSlice`` of a
  service (ready pods matching its selector; the API server's own addresses for
  ``default/kubernetes``);
* :func:`events`: one event in both APIs (core ``v1`` and ``events.k8s.io/v1``), with the
  reasons and messages the kubelet, the scheduler and the controllers write.

Shapes: the Kubernetes API reference (``apps/v1``, ``core/v1`` Event/Endpoints,
``discovery.k8s.io/v1``), and the messages of ``pkg/controller/replicaset``, ``pkg/kubelet``
(``Killing``/``Pulled``/``Created``/``Started``) and the scheduler's ``Scheduled``.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

CORE_EVENT = ("v1", "Event")
NEW_EVENT = ("events.k8s.io/v1", "Event")
#: ``endpointslice.kubernetes.io/managed-by`` of the slices the EndpointSlice controller writes.
SLICE_MANAGER = "endpointslice-controller.k8s.io"


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def owner_ref(obj: dict[str, Any]) -> dict[str, Any]:
    """A controller ownerReference to ``obj``."""
    meta = _meta(obj)
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The controller ownerReference of ``obj`` (``controller: true``), if any."""
    for ref in _meta(obj).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def owned_by(pods: list[dict[str, Any]], owner: dict[str, Any]) -> list[dict[str, Any]]:
    """The pods whose controller is ``owner`` (same namespace, same name and kind)."""
    meta = _meta(owner)
    out = []
    for pod in pods:
        ref = controller_of(pod)
        if (
            ref is not None
            and ref.get("kind") == owner["kind"]
            and ref.get("name") == meta["name"]
            and _meta(pod).get("namespace") == meta.get("namespace")
        ):
            out.append(pod)
    return out


def is_ready(pod: dict[str, Any]) -> bool:
    """Running, Ready, not being deleted."""
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    return ready and status.get("phase") == "Running" and not _meta(pod).get("deletionTimestamp")


def pod_from_replica_set(rs: dict[str, Any], suffix: str) -> dict[str, Any]:
    """A new pod of ``rs`` (unscheduled, no status): its template, ``<rs>-<suffix>``."""
    template = copy.deepcopy((rs.get("spec") or {}).get("template") or {})
    tmeta = template.get("metadata") or {}
    meta = _meta(rs)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{meta['name']}-{suffix}",
            "generateName": f"{meta['name']}-",
            "namespace": meta.get("namespace"),
            "labels": dict(tmeta.get("labels") or {}),
            "ownerReferences": [owner_ref(rs)],
        },
        "spec": dict(template.get("spec") or {}),
    }


def replica_set_status(rs: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """``ReplicaSetStatus`` for the pods ``rs`` owns."""
    mine = owned_by(pods, rs)
    ready = sum(1 for p in mine if is_ready(p))
    return {
        "replicas": len(mine),
        "fullyLabeledReplicas": len(mine),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "observedGeneration": _meta(rs).get("generation", 1),
    }


def deployment_status(
    deployment: dict[str, Any], replica_sets: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> dict[str, Any]:
    """``DeploymentStatus`` over the ReplicaSets the Deployment owns (all of them current)."""
    mine = owned_by(replica_sets, deployment)
    owned_pods = [p for rs in mine for p in owned_by(pods, rs)]
    ready = sum(1 for p in owned_pods if is_ready(p))
    want = int((deployment.get("spec") or {}).get("replicas", 1))
    newest = mine[-1]["metadata"]["name"] if mine else ""
    available = ready >= want
    status: dict[str, Any] = {
        "observedGeneration": _meta(deployment).get("generation", 1),
        "replicas": len(owned_pods),
        "updatedReplicas": len(owned_pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "conditions": [
            {
                "type": "Available",
                "status": "True" if available else "False",
                "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
                "message": "Deployment has minimum availability."
                if available
                else "Deployment does not have minimum availability.",
            },
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "{newest}" has successfully progressed.',
            },
        ],
    }
    if want > ready:
        status["unavailableReplicas"] = want - ready
    return status


def daemon_set_status(ds: dict[str, Any], pods: list[dict[str, Any]]) -> dict[str, Any]:
    """``DaemonSetStatus`` for the pods ``ds`` owns (one per node it runs on)."""
    mine = owned_by(pods, ds)
    ready = sum(1 for p in mine if is_ready(p))
    return {
        "currentNumberScheduled": len(mine),
        "desiredNumberScheduled": len(mine),
        "numberMisscheduled": 0,
        "numberReady": ready,
        "numberAvailable": ready,
        "updatedNumberScheduled": len(mine),
        "observedGeneration": _meta(ds).get("generation", 1),
    }


# --------------------------------------------------------------------------- endpoints


def _labels_match(selector: dict[str, str], labels: dict[str, str] | None) -> bool:
    have = labels or {}
    return all(have.get(k) == v for k, v in selector.items())


def _endpoint_ports(service: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for port in (service.get("spec") or {}).get("ports") or []:
        target = port.get("targetPort", port.get("port"))
        entry: dict[str, Any] = {
            "port": target if isinstance(target, int) else port.get("port"),
            "protocol": port.get("protocol", "TCP"),
        }
        if port.get("name"):
            entry["name"] = port["name"]
        out.append(entry)
    return out


def _slice_name(service: dict[str, Any]) -> str:
    # The controller uses generateName "<service>-"; a suffix derived from the service's uid
    # keeps the lab's slice name stable across reconciles.
    digest = hashlib.sha1(str(_meta(service).get("uid", "")).encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return f"{_meta(service)['name']}-" + "".join(
        alphabet[int(digest[i : i + 2], 16) % len(alphabet)] for i in range(0, 10, 2)
    )


def service_endpoints(
    service: dict[str, Any],
    pods: list[dict[str, Any]],
    apiserver_addresses: list[str],
    apiserver_port: int = 6443,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The ``Endpoints`` and ``EndpointSlice`` of ``service``; None if no controller writes any.

    A service with a selector gets its ready pods' addresses; ``default/kubernetes`` (no
    selector) gets the API server's addresses (``https`` on ``apiserver_port``), as the API
    server's endpoint reconciler writes them. Other selector-less services have none.
    """
    meta = _meta(service)
    name, ns = meta["name"], meta.get("namespace", "default")
    spec = service.get("spec") or {}
    selector = spec.get("selector") or {}
    apiserver = not selector and ns == "default" and name == "kubernetes"
    if not selector and not apiserver:
        return None
    rows: list[tuple[str, dict[str, Any] | None]] = []
    if apiserver:
        ports = [{"name": "https", "port": apiserver_port, "protocol": "TCP"}]
        rows = [(ip, None) for ip in apiserver_addresses]
    else:
        ports = _endpoint_ports(service)
        for pod in pods:
            pmeta = _meta(pod)
            ip = (pod.get("status") or {}).get("podIP")
            if (
                pmeta.get("namespace") == ns
                and ip
                and is_ready(pod)
                and _labels_match(selector, pmeta.get("labels"))
            ):
                rows.append((str(ip), pod))
    rows.sort(key=lambda r: tuple(int(x) for x in r[0].split(".")))
    labels = dict(meta.get("labels") or {})
    addresses: list[dict[str, Any]] = []
    slice_endpoints: list[dict[str, Any]] = []
    for ip, member in rows:
        address: dict[str, Any] = {"ip": ip}
        endpoint: dict[str, Any] = {
            "addresses": [ip],
            "conditions": {"ready": True, "serving": True, "terminating": False},
        }
        if member is not None:
            node = (member.get("spec") or {}).get("nodeName")
            ref = {
                "kind": "Pod",
                "namespace": ns,
                "name": _meta(member)["name"],
                "uid": _meta(member).get("uid", ""),
            }
            if node:
                address["nodeName"] = node
                endpoint["nodeName"] = node
            address["targetRef"] = ref
            endpoint["targetRef"] = ref
        addresses.append(address)
        slice_endpoints.append(endpoint)
    endpoints: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": name, "namespace": ns},
    }
    if labels:
        endpoints["metadata"]["labels"] = labels
    if addresses:
        endpoints["subsets"] = [{"addresses": addresses, "ports": ports}]
    slice_labels = {**labels, "kubernetes.io/service-name": name}
    slice_meta: dict[str, Any] = {"namespace": ns, "labels": slice_labels}
    if apiserver:
        slice_meta["name"] = name
    else:
        slice_meta["name"] = _slice_name(service)
        slice_meta["generateName"] = f"{name}-"
        slice_labels["endpointslice.kubernetes.io/managed-by"] = SLICE_MANAGER
        slice_meta["ownerReferences"] = [owner_ref(service)]
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": slice_meta,
        "addressType": "IPv4",
        "endpoints": slice_endpoints,
        "ports": ports,
    }
    return endpoints, endpoint_slice


# --------------------------------------------------------------------------- events


def _micro(now: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _seconds(now: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def object_reference(obj: dict[str, Any], field_path: str | None = None) -> dict[str, Any]:
    """The ``ObjectReference`` an event names (``involvedObject`` / ``regarding``)."""
    meta = _meta(obj)
    ref: dict[str, Any] = {
        "kind": obj["kind"],
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "apiVersion": obj["apiVersion"],
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


def events(
    involved: dict[str, Any],
    reason: str,
    message: str,
    *,
    component: str,
    now: float,
    host: str | None = None,
    field_path: str | None = None,
    event_type: str = "Normal",
    seq: int = 0,
) -> list[dict[str, Any]]:
    """One event as both APIs serve it: core ``v1`` and ``events.k8s.io/v1``.

    The name is ``<object>.<hex nanoseconds>`` (``seq`` separates events of the same instant);
    the namespace is the object's (``default`` for cluster-scoped objects, as for Nodes).
    """
    meta = _meta(involved)
    name = f"{meta['name']}.{int(now * 1e9) + seq:x}"
    namespace = meta.get("namespace") or "default"
    ref = object_reference(involved, field_path)
    source: dict[str, Any] = {"component": component}
    if host:
        source["host"] = host
    stamp, micro = _seconds(now), _micro(now)
    core = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "involvedObject": ref,
        "reason": reason,
        "message": message,
        "source": source,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
        "type": event_type,
        "eventTime": None,
        "reportingComponent": component,
        "reportingInstance": host or "",
    }
    new = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "eventTime": micro,
        "reportingController": component,
        "reportingInstance": host or component,
        "action": reason,
        "reason": reason,
        "regarding": ref,
        "note": message,
        "type": event_type,
        "deprecatedSource": source,
        "deprecatedFirstTimestamp": stamp,
        "deprecatedLastTimestamp": stamp,
        "deprecatedCount": 1,
    }
    return [core, new]


def container_events(
    pod: dict[str, Any], node: str, now: float, seq: int = 0
) -> list[dict[str, Any]]:
    """What the scheduler and the kubelet report when a new pod starts on ``node``."""
    meta = _meta(pod)
    out = events(
        pod,
        "Scheduled",
        f"Successfully assigned {meta.get('namespace')}/{meta['name']} to {node}",
        component="default-scheduler",
        now=now,
        seq=seq,
    )
    n = seq + 1
    for container in (pod.get("spec") or {}).get("containers") or []:
        cname, image = container.get("name", ""), container.get("image", "")
        path = f"spec.containers{{{cname}}}"
        for reason, message in (
            ("Pulled", f'Container image "{image}" already present on machine'),
            ("Created", f"Created container {cname}"),
            ("Started", f"Started container {cname}"),
        ):
            out += events(
                pod,
                reason,
                message,
                component="kubelet",
                host=node,
                field_path=path,
                now=now,
                seq=n,
            )
            n += 1
    return out


def killing_events(pod: dict[str, Any], now: float, seq: int = 0) -> list[dict[str, Any]]:
    """The kubelet's ``Killing`` event for each container of a pod being deleted."""
    node = (pod.get("spec") or {}).get("nodeName")
    out: list[dict[str, Any]] = []
    for i, container in enumerate((pod.get("spec") or {}).get("containers") or []):
        cname = container.get("name", "")
        out += events(
            pod,
            "Killing",
            f"Stopping container {cname}",
            component="kubelet",
            host=node,
            field_path=f"spec.containers{{{cname}}}",
            now=now,
            seq=seq + i,
        )
    return out
