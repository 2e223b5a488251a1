"""Minimal OpenAPI documents: just enough for kubectl to leave validation to the server.

Before ``kubectl apply``/``create`` sends ``fieldValidation=Strict`` it checks that the server's
OpenAPI document declares that query parameter on the PATCH operation of the object's
group/version/kind (``k8s.io/cli-runtime/pkg/resource/query_param_verifier*.go``). kubectl up
to 1.2x reads ``/openapi/v2`` as protobuf (gnostic ``openapi.v2.Document``); later versions read
``/openapi/v3`` (JSON) first. Both documents here declare, per resource, the PATCH (and the
other write) operations with the ``x-kubernetes-group-version-kind`` extension and the
``dryRun``, ``fieldManager``, ``fieldValidation`` and ``force`` query parameters. They carry no
schemas: kubectl then computes client-side apply patches from its compiled-in types (core kinds)
or as JSON merge patches (Calico kinds), exactly as it does for a server without schemas.

The protobuf encoding is written by hand (field numbers from gnostic's ``OpenAPIv2.proto``):
the document is small and fixed, and it saves a protobuf dependency.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fabric.lab.k8s import resources

_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force")
_GVK = "x-kubernetes-group-version-kind"
V2_CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


# --------------------------------------------------------------------------- protobuf encoding


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _str(field: int, text: str) -> bytes:
    return _bytes(field, text.encode())


def _bool(field: int, value: bool) -> bytes:
    return _varint(field << 3) + _varint(int(value))


def _gvk_yaml(rtype: resources.ResourceType) -> str:
    return f"group: {json.dumps(rtype.group)}\nkind: {rtype.kind}\nversion: {rtype.version}\n"


def _v2_operation(rtype: resources.ResourceType) -> bytes:
    """``Operation`` with the query parameters, a 200 response and the GVK extension."""
    out = b""
    for name in _QUERY_PARAMS:
        # QueryParameterSubSchema: in=2, name=4, type=6, unique_items=20
        query = _str(2, "query") + _str(4, name) + _str(6, "string") + _bool(20, True)
        non_body = _bytes(3, query)  # NonBodyParameter.query_parameter_sub_schema
        parameter = _bytes(2, non_body)  # Parameter.non_body_parameter
        out += _bytes(8, _bytes(1, parameter))  # Operation.parameters[ParametersItem.parameter]
    response = _bytes(1, _str(1, "OK"))  # ResponseValue.response{description}
    out += _bytes(9, _bytes(1, _str(1, "200") + _bytes(2, response)))  # Operation.responses
    extension = _str(1, _GVK) + _bytes(2, _str(2, _gvk_yaml(rtype)))  # NamedAny{name, Any.yaml}
    out += _bytes(13, extension)  # Operation.vendor_extension
    return out


def _item_path(rtype: resources.ResourceType) -> str:
    prefix = f"/apis/{rtype.group}/{rtype.version}" if rtype.group else f"/api/{rtype.version}"
    ns = "/namespaces/{namespace}" if rtype.namespaced else ""
    return f"{prefix}{ns}/{rtype.plural}/{{name}}"


def openapi_v2_protobuf(
    version: str, rtypes: Iterable[resources.ResourceType] = resources.RESOURCES
) -> bytes:
    """The ``/openapi/v2`` document of ``rtypes``, protobuf-encoded (:data:`V2_CONTENT_TYPE`)."""
    paths = b""
    for r in rtypes:
        op = _v2_operation(r)
        # PathItem: put=3, patch=8
        path_item = _bytes(3, op) + _bytes(8, op)
        paths += _bytes(2, _str(1, _item_path(r)) + _bytes(2, path_item))  # Paths.path
    info = _str(1, "Kubernetes") + _str(2, version)
    return _str(1, "2.0") + _bytes(2, info) + _bytes(8, paths)


# --------------------------------------------------------------------------- OpenAPI v3


def openapi_v3_root(
    rtypes: Iterable[resources.ResourceType] = resources.RESOURCES,
) -> dict[str, Any]:
    """The ``/openapi/v3`` discovery document: one entry per group/version of ``rtypes``."""
    paths = {}
    for group, versions in resources.group_versions(rtypes).items():
        for v in versions:
            gv = f"apis/{group}/{v}" if group else f"api/{v}"
            paths[gv] = {"serverRelativeURL": f"/openapi/v3/{gv}?hash=fabric-lab-{v}"}
    return {"paths": paths}


def openapi_v3_document(
    group: str,
    version: str,
    kube_version: str,
    rtypes: Iterable[resources.ResourceType] = resources.RESOURCES,
) -> dict[str, Any]:
    """The OpenAPI v3 document of one group/version of ``rtypes`` (operations, no schemas)."""
    query = [
        {"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
        for n in _QUERY_PARAMS
    ]
    ok = {"200": {"description": "OK"}}
    paths: dict[str, Any] = {}
    for r in rtypes:
        if r.group != group or r.version != version:
            continue
        gvk = {"group": r.group, "version": r.version, "kind": r.kind}

        def op(action: str, params: list[dict[str, Any]], gvk: dict[str, str] = gvk) -> Any:
            return {
                "x-kubernetes-action": action,
                _GVK: gvk,
                "parameters": params,
                "responses": ok,
            }

        item = _item_path(r)
        paths[item] = {
            "get": op("get", []),
            "put": op("put", query),
            "patch": op("patch", query),
            "delete": op("delete", []),
        }
        paths[item.rsplit("/", 1)[0]] = {"get": op("list", []), "post": op("post", query)}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": kube_version},
        "paths": paths,
        "components": {"schemas": {}},
    }
