"""Server-side printing: ``meta.k8s.io/v1`` Table responses with kubectl's own columns.

``kubectl get`` asks for ``application/json;as=Table;v=v1;g=meta.k8s.io``; the real API server
answers with the columns of ``pkg/printers/internalversion`` (priority 1 columns are the
``-o wide`` ones). Kinds without a printer get the default ``Name``/``Created At`` columns, as
the Calico API server prints them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fabric.lab.k8s.resources import CUSTOM_RESOURCE_GROUPS

Column = tuple[str, str, int, str]  # name, type, priority, description

_NAME: Column = ("Name", "string", 0, "Name must be unique within a namespace.")
_AGE: Column = (
    "Age",
    "string",
    0,
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
)


def human_duration(seconds: float) -> str:
    """Kubernetes' ``duration.HumanDuration`` (the AGE column).

    >>> [human_duration(s) for s in (5, 125, 3600 * 5 + 60, 86400 * 3)]
    ['5s', '2m5s', '5h1m', '3d']
    """
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def _since(ts: str) -> str:
    then = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    return human_duration((dt.datetime.now(dt.UTC) - then).total_seconds())


def _age(obj: dict[str, Any]) -> str:
    ts = obj.get("metadata", {}).get("creationTimestamp")
    return _since(ts) if ts else "<unknown>"


def _none(value: Any) -> Any:
    return "<none>" if value in (None, "", []) else value


def _pod_row(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    containers = spec.get("containers") or []
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    reason = status.get("reason") or status.get("phase") or "Unknown"
    last_restart = ""
    for c in statuses:
        state = c.get("state") or {}
        waiting, terminated = state.get("waiting") or {}, state.get("terminated") or {}
        if waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated.get("reason"):
            reason = terminated["reason"]
        finished = ((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")
        last_restart = max(last_restart, finished or "")
    if obj.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    restarts_text = str(restarts)
    if restarts and last_restart:
        restarts_text = f"{restarts} ({_since(last_restart)} ago)"
    gates = spec.get("readinessGates") or []
    return [
        obj["metadata"]["name"],
        f"{ready}/{len(containers)}",
        reason,
        restarts_text,
        _age(obj),
        _none(status.get("podIP")),
        _none(spec.get("nodeName")),
        _none(status.get("nominatedNodeName")),
        f"{len(gates)}/{len(gates)}" if gates else "<none>",
    ]


def _service_ports(spec: dict[str, Any]) -> str:
    out = []
    for p in spec.get("ports") or []:
        proto = p.get("protocol", "TCP")
        if p.get("nodePort"):
            out.append(f"{p.get('port')}:{p['nodePort']}/{proto}")
        else:
            out.append(f"{p.get('port')}/{proto}")
    return ",".join(out) or "<none>"


def _service_row(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    svc_type = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if svc_type == "LoadBalancer":
        ingress = [
            i.get("ip") or i.get("hostname")
            for i in (status.get("loadBalancer") or {}).get("ingress") or []
        ]
        external = [*ingress, *external] or ["<pending>"]
    elif svc_type == "ExternalName":
        external = [spec.get("externalName", "")]
    selector = spec.get("selector") or {}
    return [
        obj["metadata"]["name"],
        svc_type,
        _none(spec.get("clusterIP")),
        ",".join(e for e in external if e) or "<none>",
        _service_ports(spec),
        _age(obj),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>",
    ]


def _node_row(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
    state = {"True": "Ready", "False": "NotReady"}.get(conditions.get("Ready", ""), "Unknown")
    if spec.get("unschedulable"):
        state += ",SchedulingDisabled"
    labels = obj.get("metadata", {}).get("labels") or {}
    roles = sorted(
        k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/") and "/" in k
    )
    info = status.get("nodeInfo") or {}
    addresses = status.get("addresses") or []

    def addr(kind: str) -> str:
        return next((a["address"] for a in addresses if a.get("type") == kind), "<none>")

    return [
        obj["metadata"]["name"],
        state,
        ",".join(r for r in roles if r) or "<none>",
        _age(obj),
        info.get("kubeletVersion", ""),
        addr("InternalIP"),
        addr("ExternalIP"),
        _none(info.get("osImage")),
        _none(info.get("kernelVersion")),
        _none(info.get("containerRuntimeVersion")),
    ]


def _namespace_row(obj: dict[str, Any]) -> list[Any]:
    return [obj["metadata"]["name"], (obj.get("status") or {}).get("phase", "Active"), _age(obj)]


def _secret_row(obj: dict[str, Any]) -> list[Any]:
    data = obj.get("data") or {}
    return [obj["metadata"]["name"], obj.get("type", "Opaque"), len(data), _age(obj)]


def _configmap_row(obj: dict[str, Any]) -> list[Any]:
    count = len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    return [obj["metadata"]["name"], count, _age(obj)]


def _template_cells(template: dict[str, Any]) -> tuple[str, str]:
    """``layoutContainerCells``: container names and images, comma separated."""
    containers = (template.get("spec") or {}).get("containers") or []
    return (
        ",".join(str(c.get("name", "")) for c in containers),
        ",".join(str(c.get("image", "")) for c in containers),
    )


def _label_selector(selector: dict[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: ``k=v,k2 in (a,b)``; ``<none>`` when empty."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = str(expr.get("operator", "")).lower()
        values = ",".join(sorted(expr.get("values") or []))
        if op == "in":
            parts.append(f"{expr['key']} in ({values})")
        elif op == "notin":
            parts.append(f"{expr['key']} notin ({values})")
        elif op == "exists":
            parts.append(str(expr["key"]))
        elif op == "doesnotexist":
            parts.append(f"!{expr['key']}")
    return ",".join(parts) or "<none>"


def _workload_tail(spec: dict[str, Any]) -> list[Any]:
    names, images = _template_cells(spec.get("template") or {})
    return [names, images, _label_selector(spec.get("selector"))]


def _deployment_row(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = int(spec.get("replicas", 1))
    return [
        obj["metadata"]["name"],
        f"{int(status.get('readyReplicas', 0))}/{want}",
        int(status.get("updatedReplicas", 0)),
        int(status.get("availableReplicas", 0)),
        _age(obj),
        *_workload_tail(spec),
    ]


def _replica_set_row(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        obj["metadata"]["name"],
        int(spec.get("replicas", 1)),
        int(status.get("replicas", 0)),
        int(status.get("readyReplicas", 0)),
        _age(obj),
        *_workload_tail(spec),
    ]


def _daemon_set_row(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector") or {}
    return [
        obj["metadata"]["name"],
        int(status.get("desiredNumberScheduled", 0)),
        int(status.get("currentNumberScheduled", 0)),
        int(status.get("numberReady", 0)),
        int(status.get("updatedNumberScheduled", 0)),
        int(status.get("numberAvailable", 0)),
        ",".join(f"{k}={v}" for k, v in sorted(node_selector.items())) or "<none>",
        _age(obj),
        *_workload_tail(spec),
    ]


def _more(items: list[str], count: int, limit: int = 3, empty: str = "<unset>") -> str:
    """``listWithMoreString``: at most three, then ``+ N more...``."""
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or empty


def _endpoints_row(obj: dict[str, Any]) -> list[Any]:
    # printers.go formatEndpoints: ip:port for every port of every subset, three at most
    items: list[str] = []
    for subset in obj.get("subsets") or []:
        for port in subset.get("ports") or [{"port": None}]:
            for address in subset.get("addresses") or []:
                port_num = port.get("port")
                items.append(f"{address['ip']}:{port_num}" if port_num else str(address["ip"]))
    return [obj["metadata"]["name"], _more(items, len(items), empty="<none>"), _age(obj)]


def _endpoint_slice_row(obj: dict[str, Any]) -> list[Any]:
    ports = [
        str(p["port"]) if p.get("port") is not None else str(p.get("name") or "*")
        for p in obj.get("ports") or []
    ]
    addresses = [str(a) for e in obj.get("endpoints") or [] for a in e.get("addresses") or []]
    return [
        obj["metadata"]["name"],
        obj.get("addressType", ""),
        _more(ports, len(ports)),
        _more(addresses, len(addresses)),
        _age(obj),
    ]


def _event_row(obj: dict[str, Any]) -> list[Any]:
    """An event row as printers.go printEvent gives it (either API group's field names)."""
    new = obj.get("apiVersion") == "events.k8s.io/v1"
    ref = (obj.get("regarding") if new else obj.get("involvedObject")) or {}
    source = (obj.get("deprecatedSource") if new else obj.get("source")) or {}
    first = obj.get("deprecatedFirstTimestamp" if new else "firstTimestamp")
    last = obj.get("deprecatedLastTimestamp" if new else "lastTimestamp")
    event_time = obj.get("eventTime")
    first_seen = _since(first) if first else _since_micro(event_time)
    last_seen = _since(last) if last else first_seen
    count = int(obj.get("deprecatedCount" if new else "count") or 1)
    kind, name = str(ref.get("kind", "")), ref.get("name")
    target = f"{kind.lower()}/{name}" if name else kind.lower()
    component = source.get("component") or obj.get(
        "reportingController" if new else "reportingComponent"
    )
    host = source.get("host") or obj.get("reportingInstance")
    source_text = f"{component}, {host}" if component and host else (component or "")
    message = str(obj.get("note" if new else "message") or "").strip()
    return [
        last_seen,
        obj.get("type", ""),
        obj.get("reason", ""),
        target,
        ref.get("fieldPath", ""),
        source_text,
        message,
        first_seen,
        count,
        obj["metadata"]["name"],
    ]


def _since_micro(ts: Any) -> str:
    if not ts:
        return "<unknown>"
    return _since(str(ts).split(".")[0].rstrip("Z") + "Z")


def _default_row(obj: dict[str, Any]) -> list[Any]:
    return [obj["metadata"]["name"], obj.get("metadata", {}).get("creationTimestamp")]


_PRINTERS: dict[tuple[str, str], tuple[list[Column], Callable[[dict[str, Any]], list[Any]]]] = {
    ("v1", "Pod"): (
        [
            _NAME,
            (
                "Ready",
                "string",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            ("Status", "string", 0, "The aggregate status of the containers in this pod."),
            (
                "Restarts",
                "string",
                0,
                "The number of times the containers in this pod have been "
                "restarted and when the last container in this pod has restarted.",
            ),
            _AGE,
            (
                "IP",
                "string",
                1,
                "IP address allocated to the pod. Routable at least within the "
                "cluster. Empty if not yet allocated.",
            ),
            (
                "Node",
                "string",
                1,
                "NodeName is a request to schedule this pod onto a specific node.",
            ),
            (
                "Nominated Node",
                "string",
                1,
                "nominatedNodeName is set only when this pod preempts other pods on the node.",
            ),
            (
                "Readiness Gates",
                "string",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        _pod_row,
    ),
    ("v1", "Service"): (
        [
            _NAME,
            ("Type", "string", 0, "type determines how the Service is exposed."),
            ("Cluster-IP", "string", 0, "clusterIP is the IP address of the service."),
            (
                "External-IP",
                "string",
                0,
                "externalIPs is a list of IP addresses for which nodes "
                "in the cluster will also accept traffic for this service.",
            ),
            ("Port(s)", "string", 0, "The list of ports that are exposed by this service."),
            _AGE,
            (
                "Selector",
                "string",
                1,
                "Route service traffic to pods with label keys and values matching this selector.",
            ),
        ],
        _service_row,
    ),
    ("v1", "Node"): (
        [
            _NAME,
            ("Status", "string", 0, "The status of the node"),
            ("Roles", "string", 0, "The roles of the node"),
            _AGE,
            ("Version", "string", 0, "Kubelet Version reported by the node."),
            ("Internal-IP", "string", 1, "List of internal IPs for the node."),
            ("External-IP", "string", 1, "List of external IPs for the node."),
            ("OS-Image", "string", 1, "OS Image reported by the node from /etc/os-release."),
            ("Kernel-Version", "string", 1, "Kernel Version reported by the node."),
            ("Container-Runtime", "string", 1, "Container Runtime Version reported by the node."),
        ],
        _node_row,
    ),
    ("v1", "Secret"): (
        [
            _NAME,
            ("Type", "string", 0, "The type of the secret"),
            ("Data", "string", 0, "The number of data entries in the secret"),
            _AGE,
        ],
        _secret_row,
    ),
    ("v1", "ConfigMap"): (
        [_NAME, ("Data", "string", 0, "The number of data entries"), _AGE],
        _configmap_row,
    ),
    ("v1", "Namespace"): (
        [_NAME, ("Status", "string", 0, "The status of the namespace"), _AGE],
        _namespace_row,
    ),
}

_CONTAINERS: Column = ("Containers", "string", 1, "Names of each container in the template.")
_IMAGES: Column = ("Images", "string", 1, "Images referenced by each container in the template.")
_SELECTOR: Column = (
    "Selector",
    "string",
    1,
    "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the "
    "ones affected by this deployment.",
)
_PRINTERS.update(
    {
        ("apps/v1", "Deployment"): (
            [
                _NAME,
                ("Ready", "string", 0, "Number of the pod with ready state"),
                (
                    "Up-to-date",
                    "string",
                    0,
                    "Total number of non-terminated pods targeted by this deployment that have "
                    "the desired template spec.",
                ),
                (
                    "Available",
                    "string",
                    0,
                    "Total number of available pods (ready for at least minReadySeconds) "
                    "targeted by this deployment.",
                ),
                _AGE,
                _CONTAINERS,
                _IMAGES,
                _SELECTOR,
            ],
            _deployment_row,
        ),
        ("apps/v1", "ReplicaSet"): (
            [
                _NAME,
                ("Desired", "integer", 0, "Replicas is the number of desired replicas."),
                (
                    "Current",
                    "integer",
                    0,
                    "Replicas is the most recently observed number of replicas.",
                ),
                (
                    "Ready",
                    "integer",
                    0,
                    "readyReplicas is the number of pods targeted by this ReplicaSet with a "
                    "Ready Condition.",
                ),
                _AGE,
                _CONTAINERS,
                _IMAGES,
                (
                    "Selector",
                    "string",
                    1,
                    "Selector is a label query over pods that should match the replica count.",
                ),
            ],
            _replica_set_row,
        ),
        ("apps/v1", "DaemonSet"): (
            [
                _NAME,
                (
                    "Desired",
                    "integer",
                    0,
                    "The total number of nodes that should be running the daemon pod.",
                ),
                (
                    "Current",
                    "integer",
                    0,
                    "The number of nodes that are running at least 1 daemon pod and are "
                    "supposed to run the daemon pod.",
                ),
                (
                    "Ready",
                    "integer",
                    0,
                    "The number of nodes that should be running the daemon pod and have one "
                    "or more of the daemon pod running with a Ready Condition.",
                ),
                (
                    "Up-to-date",
                    "integer",
                    0,
                    "The total number of nodes that are running updated daemon pod",
                ),
                (
                    "Available",
                    "integer",
                    0,
                    "The number of nodes that should be running the daemon pod and have one "
                    "or more of the daemon pod running and available.",
                ),
                (
                    "Node Selector",
                    "string",
                    0,
                    "NodeSelector is a selector which must be true for the pod to fit on a node.",
                ),
                _AGE,
                _CONTAINERS,
                _IMAGES,
                (
                    "Selector",
                    "string",
                    1,
                    "A label query over pods that are managed by the daemon set.",
                ),
            ],
            _daemon_set_row,
        ),
        ("v1", "Endpoints"): (
            [
                _NAME,
                (
                    "Endpoints",
                    "string",
                    0,
                    "The set of all endpoints is the union of all subsets.",
                ),
                _AGE,
            ],
            _endpoints_row,
        ),
        ("discovery.k8s.io/v1", "EndpointSlice"): (
            [
                _NAME,
                (
                    "AddressType",
                    "string",
                    0,
                    "addressType specifies the type of address carried by this EndpointSlice.",
                ),
                ("Ports", "string", 0, "ports specifies the list of network ports exposed."),
                ("Endpoints", "string", 0, "endpoints is a list of unique endpoints."),
                _AGE,
            ],
            _endpoint_slice_row,
        ),
    }
)
_EVENT_COLUMNS: list[Column] = [
    (
        "Last Seen",
        "string",
        0,
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    (
        "Type",
        "string",
        0,
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    (
        "Reason",
        "string",
        0,
        "This should be a short, machine understandable string that gives "
        "the reason for the transition into the object's current status.",
    ),
    ("Object", "string", 0, "The object that this event is about."),
    (
        "Subobject",
        "string",
        1,
        "If referring to a piece of an object instead of an entire "
        "object, this string should contain a valid JSON/Go field access statement.",
    ),
    ("Source", "string", 1, "The component reporting this event."),
    ("Message", "string", 0, "A human-readable description of the status of this operation."),
    ("First Seen", "string", 1, "The time at which the event was first recorded."),
    ("Count", "string", 1, "The number of times this event has occurred."),
    ("Name", "string", 1, "Name must be unique within a namespace."),
]
_PRINTERS[("v1", "Event")] = (_EVENT_COLUMNS, _event_row)
_PRINTERS[("events.k8s.io/v1", "Event")] = (_EVENT_COLUMNS, _event_row)

_DEFAULT: tuple[list[Column], Callable[[dict[str, Any]], list[Any]]] = (
    [
        ("Name", "string", 0, "Name must be unique within a namespace."),
        (
            "Created At",
            "date",
            0,
            "CreationTimestamp is a timestamp representing the server "
            "time when this object was created.",
        ),
    ],
    _default_row,
)


def _custom_resource_row(obj: dict[str, Any]) -> list[Any]:
    return [obj["metadata"]["name"], _age(obj)]


#: Custom resources without ``additionalPrinterColumns``: the apiextensions-apiserver's default
#: columns (``Name`` and an ``Age`` date column from ``.metadata.creationTimestamp``, which its
#: table convertor prints as a duration).
_CUSTOM_RESOURCE: tuple[list[Column], Callable[[dict[str, Any]], list[Any]]] = (
    [
        _NAME,
        (
            "Age",
            "date",
            0,
            "CreationTimestamp is a timestamp representing the server "
            "time when this object was created.",
        ),
    ],
    _custom_resource_row,
)


def _row_object(obj: dict[str, Any], include: str) -> dict[str, Any] | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    api_version: str,
    kind: str,
    objects: list[dict[str, Any]],
    resource_version: str,
    include_object: str = "Metadata",
) -> dict[str, Any]:
    """A ``meta.k8s.io/v1`` Table of ``objects``."""
    group = api_version.rpartition("/")[0]
    default = _CUSTOM_RESOURCE if group in CUSTOM_RESOURCE_GROUPS else _DEFAULT
    columns, row = _PRINTERS.get((api_version, kind), default)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": [
            {
                "name": n,
                "type": t,
                "format": "name" if n == "Name" else "",
                "description": d,
                "priority": p,
            }
            for n, t, p, d in columns
        ],
        "rows": [{"cells": row(o), "object": _row_object(o, include_object)} for o in objects],
    }
