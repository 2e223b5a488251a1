"""The resource types the simulated API server knows, with their field schemas.

Each :class:`ResourceType` carries what discovery, routing and validation need: group, version,
kind, plural, scope and a small structural schema of the known fields. The schema is used for
``fieldValidation`` (unknown fields) only; value checks live in :mod:`fabric.lab.k8s.validation`.

Schema nodes:

* ``ANY`` -- any value, nothing below it is checked (free-form maps, core specs);
* ``LEAF`` -- a scalar;
* ``Obj({...})`` -- an object with known keys, each mapped to a schema node;
* ``ListOf(node)`` -- a list whose items follow ``node``;
* ``MapOf(node)`` -- an object with arbitrary keys whose values follow ``node``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final


class _Any:
    def __repr__(self) -> str:
        return "ANY"


class _Leaf:
    def __repr__(self) -> str:
        return "LEAF"


ANY: Final = _Any()
LEAF: Final = _Leaf()


@dataclass(frozen=True)
class Obj:
    """An object schema with known keys."""

    fields: dict[str, Schema]


@dataclass(frozen=True)
class ListOf:
    """A list schema."""

    item: Schema


@dataclass(frozen=True)
class MapOf:
    """A map with arbitrary keys."""

    value: Schema


Schema = _Any | _Leaf | Obj | ListOf | MapOf

CALICO_GROUP: Final = "projectcalico.org"
CALICO_VERSION: Final = "v3"
CALICO_API_VERSION: Final = f"{CALICO_GROUP}/{CALICO_VERSION}"
#: Calico's custom resources: the storage of every Calico object in a Kubernetes-datastore cluster,
#: served by the API server itself (``manifests/crds.yaml``); the ``projectcalico.org/v3`` API is
#: the Calico API server's aggregated view on top of them.
CRD_GROUP: Final = "crd.projectcalico.org"
CRD_API_VERSION: Final = f"{CRD_GROUP}/v1"
#: The Tigera operator's resources (``Installation``, ``APIServer``).
OPERATOR_GROUP: Final = "operator.tigera.io"
OPERATOR_API_VERSION: Final = f"{OPERATOR_GROUP}/v1"
#: Groups whose kinds are custom resources (served from CustomResourceDefinitions).
CUSTOM_RESOURCE_GROUPS: Final = frozenset({CRD_GROUP, OPERATOR_GROUP})

_SECRET_KEY_REF = Obj({"secretKeyRef": Obj({"name": LEAF, "key": LEAF, "optional": LEAF})})
_CIDR_BLOCK = ListOf(Obj({"cidr": LEAF}))

METADATA: Final = Obj(
    {
        "name": LEAF,
        "generateName": LEAF,
        "namespace": LEAF,
        "selfLink": LEAF,
        "uid": LEAF,
        "resourceVersion": LEAF,
        "generation": LEAF,
        "creationTimestamp": LEAF,
        "deletionTimestamp": LEAF,
        "deletionGracePeriodSeconds": LEAF,
        "labels": MapOf(LEAF),
        "annotations": MapOf(LEAF),
        "ownerReferences": ListOf(ANY),
        "finalizers": ListOf(LEAF),
        "managedFields": ListOf(ANY),
    }
)

BGP_CONFIGURATION_SPEC: Final = Obj(
    {
        "logSeverityScreen": LEAF,
        "nodeToNodeMeshEnabled": LEAF,
        "nodeMeshMaxRestartTime": LEAF,
        "nodeMeshPassword": _SECRET_KEY_REF,
        "asNumber": LEAF,
        "serviceClusterIPs": _CIDR_BLOCK,
        "serviceExternalIPs": _CIDR_BLOCK,
        "serviceLoadBalancerIPs": _CIDR_BLOCK,
        "listenPort": LEAF,
        "bindMode": LEAF,
        "communities": ListOf(Obj({"name": LEAF, "value": LEAF})),
        "prefixAdvertisements": ListOf(Obj({"cidr": LEAF, "communities": ListOf(LEAF)})),
        "localWorkloadPeeringIPV4": LEAF,
        "localWorkloadPeeringIPV6": LEAF,
        "ignoredInterfaces": ListOf(LEAF),
        "nodeSelector": LEAF,
        "programClusterRoutes": LEAF,
    }
)

BGP_PEER_SPEC: Final = Obj(
    {
        "node": LEAF,
        "nodeSelector": LEAF,
        "peerIP": LEAF,
        "peerSelector": LEAF,
        "asNumber": LEAF,
        "password": _SECRET_KEY_REF,
        "sourceAddress": LEAF,
        "keepOriginalNextHop": LEAF,
        "maxRestartTime": LEAF,
        "filters": ListOf(LEAF),
        "numAllowedLocalASNumbers": LEAF,
        "ttlSecurity": LEAF,
        "reachableBy": LEAF,
        "localWorkloadSelector": LEAF,
        "nextHopMode": LEAF,
        "reversePeering": LEAF,
    }
)

_FILTER_RULE = ListOf(
    Obj(
        {
            "cidr": LEAF,
            "prefixLength": Obj({"min": LEAF, "max": LEAF}),
            "matchOperator": LEAF,
            "source": LEAF,
            "interface": LEAF,
            "action": LEAF,
        }
    )
)
BGP_FILTER_SPEC: Final = Obj(
    {
        "exportV4": _FILTER_RULE,
        "importV4": _FILTER_RULE,
        "exportV6": _FILTER_RULE,
        "importV6": _FILTER_RULE,
    }
)

IP_POOL_SPEC: Final = Obj(
    {
        "cidr": LEAF,
        "vxlanMode": LEAF,
        "ipipMode": LEAF,
        "natOutgoing": LEAF,
        "disabled": LEAF,
        "disableBGPExport": LEAF,
        "blockSize": LEAF,
        "nodeSelector": LEAF,
        "allowedUses": ListOf(LEAF),
        "assignmentMode": LEAF,
        "ipip": Obj({"enabled": LEAF, "mode": LEAF}),
        "nat-outgoing": LEAF,
    }
)

CALICO_NODE_SPEC: Final = Obj(
    {
        "bgp": Obj(
            {
                "asNumber": LEAF,
                "ipv4Address": LEAF,
                "ipv6Address": LEAF,
                "ipv4IPIPTunnelAddr": LEAF,
                "routeReflectorClusterID": LEAF,
            }
        ),
        "ipv4VXLANTunnelAddr": LEAF,
        "ipv6VXLANTunnelAddr": LEAF,
        "vxlanTunnelMACAddr": LEAF,
        "vxlanTunnelMACAddrV6": LEAF,
        "orchRefs": ListOf(Obj({"nodeName": LEAF, "orchestrator": LEAF})),
        "wireguard": Obj({"interfaceIPv4Address": LEAF, "interfaceIPv6Address": LEAF}),
        "addresses": ListOf(Obj({"address": LEAF, "type": LEAF})),
    }
)

BLOCK_AFFINITY_SPEC: Final = Obj(
    {"state": LEAF, "node": LEAF, "cidr": LEAF, "deleted": LEAF, "type": LEAF}
)


#: ``PodTemplateSpec``: the pod spec itself is not checked (like core ``Pod`` specs).
_POD_TEMPLATE = Obj({"metadata": METADATA, "spec": ANY})

#: ``batch/v1`` ``JobSpec`` (Kubernetes 1.28).
JOB_SPEC: Final = Obj(
    {
        "parallelism": LEAF,
        "completions": LEAF,
        "activeDeadlineSeconds": LEAF,
        "podFailurePolicy": ANY,
        "backoffLimit": LEAF,
        "backoffLimitPerIndex": LEAF,
        "maxFailedIndexes": LEAF,
        "selector": ANY,
        "manualSelector": LEAF,
        "template": _POD_TEMPLATE,
        "ttlSecondsAfterFinished": LEAF,
        "completionMode": LEAF,
        "suspend": LEAF,
        "podReplacementPolicy": LEAF,
    }
)

#: ``batch/v1`` ``CronJobSpec`` (Kubernetes 1.28).
CRON_JOB_SPEC: Final = Obj(
    {
        "schedule": LEAF,
        "timeZone": LEAF,
        "startingDeadlineSeconds": LEAF,
        "concurrencyPolicy": LEAF,
        "suspend": LEAF,
        "jobTemplate": Obj({"metadata": METADATA, "spec": JOB_SPEC}),
        "successfulJobsHistoryLimit": LEAF,
        "failedJobsHistoryLimit": LEAF,
    }
)


_EVENT_SOURCE = Obj({"component": LEAF, "host": LEAF})
#: ``core/v1`` Event: its fields are top-level (no spec).
CORE_EVENT_FIELDS: Final[dict[str, Schema]] = {
    "involvedObject": ANY,
    "reason": LEAF,
    "message": LEAF,
    "source": _EVENT_SOURCE,
    "firstTimestamp": LEAF,
    "lastTimestamp": LEAF,
    "count": LEAF,
    "type": LEAF,
    "eventTime": LEAF,
    "series": ANY,
    "action": LEAF,
    "related": ANY,
    "reportingComponent": LEAF,
    "reportingInstance": LEAF,
}
#: ``events.k8s.io/v1`` Event.
EVENT_FIELDS: Final[dict[str, Schema]] = {
    "eventTime": LEAF,
    "series": ANY,
    "reportingController": LEAF,
    "reportingInstance": LEAF,
    "action": LEAF,
    "reason": LEAF,
    "regarding": ANY,
    "related": ANY,
    "note": LEAF,
    "type": LEAF,
    "deprecatedSource": _EVENT_SOURCE,
    "deprecatedFirstTimestamp": LEAF,
    "deprecatedLastTimestamp": LEAF,
    "deprecatedCount": LEAF,
}


@dataclass(frozen=True)
class ResourceType:
    """One API resource (a kind in a group/version) as the server serves it.

    Attributes:
        group: API group, ``""`` for the core group.
        version: API version within the group.
        kind: the object kind, e.g. ``BGPPeer``.
        plural: the URL resource name, e.g. ``bgppeers``.
        singular: the singular resource name.
        namespaced: whether objects live in a namespace.
        short_names: kubectl short names.
        top: schema of the top-level fields besides apiVersion/kind/metadata.
        categories: discovery categories (``all`` puts a kind into ``kubectl get all``).
        openapi: a custom resource's ``openAPIV3Schema`` (from its CustomResourceDefinition),
            whose types, enums and required fields the server enforces like the real one.
        has_status: whether the ``status`` subresource exists (custom resources: only when
            their CRD declares it; Calico's do not).
    """

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    top: dict[str, Schema] = field(default_factory=dict)
    categories: tuple[str, ...] = ()
    openapi: Mapping[str, Any] | None = None
    has_status: bool = True

    @property
    def api_version(self) -> str:
        """``group/version``, or just ``version`` for the core group."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def schema(self) -> Obj:
        """The whole-object schema."""
        return Obj({"apiVersion": LEAF, "kind": LEAF, "metadata": METADATA, **self.top})


def _calico(kind: str, plural: str, spec: Schema, short: tuple[str, ...] = ()) -> ResourceType:
    return ResourceType(
        group=CALICO_GROUP,
        version=CALICO_VERSION,
        kind=kind,
        plural=plural,
        singular=kind.lower(),
        namespaced=False,
        short_names=short,
        top={"spec": spec, "status": ANY},
    )


CLUSTER_INFORMATION_SPEC: Final = Obj(
    {
        "calicoVersion": LEAF,
        "clusterGUID": LEAF,
        "clusterType": LEAF,
        "datastoreReady": LEAF,
        "variant": LEAF,
    }
)

CUSTOM_RESOURCE_DEFINITION: Final = ResourceType(
    "apiextensions.k8s.io",
    "v1",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    "customresourcedefinition",
    False,
    ("crd", "crds"),
    {"spec": ANY, "status": ANY},
)

_DATA = Path(__file__).with_name("data")
#: Calico 3.26.4 ``manifests/crds.yaml`` and Tigera operator 1.30.11 CRDs, descriptions removed
#: (sources in docs/lab.md).
CALICO_CRDS_FILE: Final = _DATA / "calico-crds-v3.26.4.json"
OPERATOR_CRDS_FILE: Final = _DATA / "operator-crds-v1.30.11.json"


@functools.cache
def custom_resource_definitions() -> tuple[dict[str, Any], ...]:
    """The CustomResourceDefinition objects of Calico's and the operator's custom resources.

    Each is the published manifest (without descriptions; the operator's large pod-template
    overrides are kept as preserve-unknown-fields objects) plus the status a real API server
    reports once it serves the CRD (``NamesAccepted``, ``Established``).
    """
    out: list[dict[str, Any]] = []
    for path in (CALICO_CRDS_FILE, OPERATOR_CRDS_FILE):
        for crd in json.loads(path.read_text(encoding="utf-8")):
            names = dict(crd["spec"]["names"])
            names.setdefault("listKind", names["kind"] + "List")
            crd = {**crd, "spec": {**crd["spec"], "names": names}}
            crd["status"] = {
                "acceptedNames": names,
                "conditions": [
                    {
                        "type": "NamesAccepted",
                        "status": "True",
                        "reason": "NoConflicts",
                        "message": "no conflicts found",
                        "lastTransitionTime": "2023-10-01T00:00:00Z",
                    },
                    {
                        "type": "Established",
                        "status": "True",
                        "reason": "InitialNamesAccepted",
                        "message": "the initial names have been accepted",
                        "lastTransitionTime": "2023-10-01T00:00:00Z",
                    },
                ],
                "storedVersions": [v["name"] for v in crd["spec"]["versions"] if v["storage"]],
            }
            out.append(crd)
    return tuple(out)


def schema_from_openapi(node: Mapping[str, Any]) -> Schema:
    """The structural schema of an OpenAPI v3 schema node (which fields are known).

    >>> schema_from_openapi({"type": "object", "properties": {"a": {"type": "string"}}})
    Obj(fields={'a': LEAF})
    """
    if node.get("x-kubernetes-preserve-unknown-fields"):
        return ANY
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties")
        if isinstance(props, Mapping):
            return Obj({str(k): schema_from_openapi(v) for k, v in props.items()})
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            return MapOf(schema_from_openapi(extra))
        return ANY
    if kind == "array":
        items = node.get("items")
        return ListOf(schema_from_openapi(items)) if isinstance(items, Mapping) else ANY
    return LEAF


def _custom_type(crd: Mapping[str, Any]) -> ResourceType:
    spec = crd["spec"]
    names = spec["names"]
    version = next(v for v in spec["versions"] if v.get("served", True))
    root = version["schema"]["openAPIV3Schema"]
    props = root.get("properties") or {}
    top = {
        k: schema_from_openapi(v)
        for k, v in props.items()
        if k not in ("apiVersion", "kind", "metadata")
    }
    return ResourceType(
        group=spec["group"],
        version=version["name"],
        kind=names["kind"],
        plural=names["plural"],
        singular=names.get("singular", names["kind"].lower()),
        namespaced=spec["scope"] == "Namespaced",
        short_names=tuple(names.get("shortNames") or ()),
        top=top,
        categories=tuple(names.get("categories") or ()),
        openapi=root,
        has_status="status" in (version.get("subresources") or {}),
    )


def custom_resource_types() -> tuple[ResourceType, ...]:
    """A resource type per custom resource definition (:func:`custom_resource_definitions`)."""
    return tuple(_custom_type(crd) for crd in custom_resource_definitions())


_BUILTIN_RESOURCES: Final[tuple[ResourceType, ...]] = (
    ResourceType(
        "",
        "v1",
        "Namespace",
        "namespaces",
        "namespace",
        False,
        ("ns",),
        {"spec": ANY, "status": ANY},
    ),
    ResourceType("", "v1", "Node", "nodes", "node", False, ("no",), {"spec": ANY, "status": ANY}),
    ResourceType(
        "", "v1", "Pod", "pods", "pod", True, ("po",), {"spec": ANY, "status": ANY}, ("all",)
    ),
    ResourceType(
        "",
        "v1",
        "Service",
        "services",
        "service",
        True,
        ("svc",),
        {"spec": ANY, "status": ANY},
        ("all",),
    ),
    ResourceType(
        "",
        "v1",
        "Secret",
        "secrets",
        "secret",
        True,
        (),
        {"data": MapOf(LEAF), "stringData": MapOf(LEAF), "type": LEAF, "immutable": LEAF},
    ),
    ResourceType(
        "",
        "v1",
        "ConfigMap",
        "configmaps",
        "configmap",
        True,
        ("cm",),
        {"data": MapOf(LEAF), "binaryData": MapOf(LEAF), "immutable": LEAF},
    ),
    ResourceType(
        "batch", "v1", "Job", "jobs", "job", True, (), {"spec": JOB_SPEC, "status": ANY}, ("all",)
    ),
    ResourceType(
        "batch",
        "v1",
        "CronJob",
        "cronjobs",
        "cronjob",
        True,
        ("cj",),
        {"spec": CRON_JOB_SPEC, "status": ANY},
        ("all",),
    ),
    # apps/v1 workloads, events, endpoints (fabric/lab/k8s/controllers.py keeps them current)
    *(
        ResourceType(
            "apps",
            "v1",
            kind,
            plural,
            kind.lower(),
            True,
            short,
            {"spec": ANY, "status": ANY},
            ("all",),
        )
        for kind, plural, short in (
            ("Deployment", "deployments", ("deploy",)),
            ("ReplicaSet", "replicasets", ("rs",)),
            ("DaemonSet", "daemonsets", ("ds",)),
        )
    ),
    ResourceType("", "v1", "Event", "events", "event", True, ("ev",), CORE_EVENT_FIELDS),
    ResourceType("events.k8s.io", "v1", "Event", "events", "event", True, ("ev",), EVENT_FIELDS),
    ResourceType(
        "", "v1", "Endpoints", "endpoints", "endpoints", True, ("ep",), {"subsets": ListOf(ANY)}
    ),
    ResourceType(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        "endpointslice",
        True,
        (),
        {"addressType": LEAF, "endpoints": ListOf(ANY), "ports": ListOf(ANY)},
    ),
    _calico("BGPConfiguration", "bgpconfigurations", BGP_CONFIGURATION_SPEC, ("bgpconfig",)),
    _calico("BGPPeer", "bgppeers", BGP_PEER_SPEC),
    _calico("BGPFilter", "bgpfilters", BGP_FILTER_SPEC),
    _calico("IPPool", "ippools", IP_POOL_SPEC),
    _calico("Node", "nodes", CALICO_NODE_SPEC, ("cnode",)),
    _calico("BlockAffinity", "blockaffinities", BLOCK_AFFINITY_SPEC),
)

#: Every resource type the lab knows: the built-in ones above, Calico's ``projectcalico.org/v3``
#: ``ClusterInformation``, Calico's custom resources (``crd.projectcalico.org/v1``), the Tigera
#: operator's (``operator.tigera.io/v1``) and ``CustomResourceDefinition`` itself. Which of them a
#: lab serves depends on its Calico API mode (:func:`served`).
RESOURCES: Final[tuple[ResourceType, ...]] = (
    *_BUILTIN_RESOURCES,
    _calico("ClusterInformation", "clusterinformations", CLUSTER_INFORMATION_SPEC),
    CUSTOM_RESOURCE_DEFINITION,
    *custom_resource_types(),
)

_BY_KIND: Final = {(r.api_version, r.kind): r for r in RESOURCES}
_BY_PLURAL: Final = {(r.group, r.version, r.plural): r for r in RESOURCES}


def by_kind(api_version: str, kind: str) -> ResourceType | None:
    """The resource type of ``kind`` in ``api_version`` (e.g. ``projectcalico.org/v3``)."""
    return _BY_KIND.get((api_version, kind))


def by_plural(group: str, version: str, plural: str) -> ResourceType | None:
    """The resource type served at ``.../group/version/plural``."""
    return _BY_PLURAL.get((group, version, plural))


def groups() -> dict[str, list[str]]:
    """Every API group (``""`` is core) mapped to its versions."""
    out: dict[str, list[str]] = {}
    for r in RESOURCES:
        versions = out.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return out


#: Calico API modes of a lab: ``v3`` serves the Calico API server's aggregated
#: ``projectcalico.org/v3`` API; ``crd`` is a cluster without it, where Calico's objects are the
#: ``crd.projectcalico.org/v1`` custom resources.
CALICO_API_MODES: Final = ("v3", "crd")


def served(calico_api: str = "v3") -> tuple[ResourceType, ...]:
    """The resource types a lab serves in a Calico API mode (see :data:`CALICO_API_MODES`).

    Both modes serve the CustomResourceDefinitions and the operator's resources; ``v3`` serves
    the aggregated ``projectcalico.org/v3`` group (and not the custom resources under it, which
    the lab does not alias), ``crd`` serves ``crd.projectcalico.org/v1`` and no v3 group.

    >>> sorted({r.group for r in served("crd")} & {CALICO_GROUP, CRD_GROUP})
    ['crd.projectcalico.org']
    """
    if calico_api not in CALICO_API_MODES:
        raise ValueError(f"calico_api is one of {', '.join(CALICO_API_MODES)}, not {calico_api!r}")
    hidden = CRD_GROUP if calico_api == "v3" else CALICO_GROUP
    return tuple(r for r in RESOURCES if r.group != hidden)


def group_versions(rtypes: Iterable[ResourceType]) -> dict[str, list[str]]:
    """The API groups (``""`` is core) of ``rtypes`` mapped to their versions."""
    out: dict[str, list[str]] = {}
    for r in rtypes:
        versions = out.setdefault(r.group, [])
        if r.version not in versions:
            versions.append(r.version)
    return out


def unknown_fields(value: object, schema: Schema, path: str = "") -> list[str]:
    """Dotted paths of every field of ``value`` that ``schema`` does not know.

    List items are written as ``path[i]``, like the Kubernetes strict decoder does.

    >>> unknown_fields({"spec": {"peerIP": "1.1.1.1", "foo": 1}},
    ...                Obj({"spec": BGP_PEER_SPEC}))
    ['spec.foo']
    """
    out: list[str] = []
    if isinstance(schema, Obj) and isinstance(value, dict):
        for key, sub in value.items():
            child = f"{path}.{key}" if path else str(key)
            if key not in schema.fields:
                out.append(child)
            else:
                out.extend(unknown_fields(sub, schema.fields[key], child))
    elif isinstance(schema, ListOf) and isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(unknown_fields(item, schema.item, f"{path}[{i}]"))
    elif isinstance(schema, MapOf) and isinstance(value, dict):
        for key, sub in value.items():
            out.extend(unknown_fields(sub, schema.value, f"{path}.{key}"))
    return out


def drop_fields(value: object, schema: Schema) -> object:
    """A copy of ``value`` without the fields ``schema`` does not know (for Ignore and Warn)."""
    if isinstance(schema, Obj) and isinstance(value, dict):
        return {k: drop_fields(v, schema.fields[k]) for k, v in value.items() if k in schema.fields}
    if isinstance(schema, ListOf) and isinstance(value, list):
        return [drop_fields(v, schema.item) for v in value]
    if isinstance(schema, MapOf) and isinstance(value, dict):
        return {k: drop_fields(v, schema.value) for k, v in value.items()}
    return value
