"""The simulated Kubernetes API server (aiohttp) over a :class:`~fabric.lab.k8s.store.KubeStore`.

What it serves, and how it answers, follows the real API server closely enough for the
``kubernetes`` Python client and the real ``kubectl``:

* ``/version``, ``/healthz``, ``/livez``, ``/readyz`` (anonymous, like the real server);
* legacy discovery (``/api``, ``/api/v1``, ``/apis``, ``/apis/G``, ``/apis/G/V``): kubectl asks
  for aggregated discovery first and falls back when the answer is plain ``application/json``;
* ``/openapi/v3`` and one document per group/version that declares, per resource, the PATCH
  operation with its ``fieldValidation`` parameter: kubectl then leaves validation to the
  server (``fieldValidation=Strict``) instead of fetching schemas (``/openapi/v2`` is 404, which
  kubectl tolerates);
* GET, LIST (label and field selectors, Table output), WATCH, POST, PUT, PATCH (merge,
  strategic-as-merge, JSON patch, server-side apply), DELETE, DELETE collection;
* errors as ``Status`` objects: 400 BadRequest, 401 Unauthorized, 404 NotFound,
  409 AlreadyExists/Conflict, 410 Gone, 415 UnsupportedMediaType, 422 Invalid, 500 InternalError.
* the pod subresources ``exec`` (WebSocket with the channel protocols v4/v5,
  :mod:`fabric.lab.k8s.podexec`; SPDY/3.1 for kubectl < 1.30, :mod:`fabric.lab.k8s.spdy`) and
  ``log``, answered by a :class:`~fabric.lab.k8s.podexec.PodBackend`;
* which Calico API it serves depends on ``calico_api`` (:func:`fabric.lab.k8s.resources.served`):
  ``v3``, the Calico API server's aggregated ``projectcalico.org/v3``, or ``crd``, a cluster
  without it where Calico's objects are the ``crd.projectcalico.org/v1`` custom resources;
  CustomResourceDefinitions and the Tigera operator's kinds are served in both.

Every request but the anonymous ones needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import hmac
import json
import random
import string
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import yaml
from aiohttp import web

from fabric.lab.k8s import (
    defaults,
    openapi,
    podexec,
    resources,
    selectors,
    spdy,
    tables,
    validation,
)
from fabric.lab.k8s.patch import (
    ApplyConflictError,
    PatchError,
    json_patch,
    merge_patch,
    server_side_apply,
    strategic_merge_patch,
    strip_directives,
    track_update,
)
from fabric.lab.k8s.podexec import PodBackend, SubresourceError
from fabric.lab.k8s.resources import CALICO_GROUP, ResourceType
from fabric.lab.k8s.store import KubeStore, now_rfc3339

KUBE_VERSION = {
    "major": "1",
    "minor": "28",
    "gitVersion": "v1.28.2",
    "gitCommit": "89a4ea3e1e4ddd7f7572286090359983e0387b2f",
    "gitTreeState": "clean",
    "buildDate": "2023-09-13T09:29:07Z",
    "goVersion": "go1.20.8",
    "compiler": "gc",
    "platform": "linux/amd64",
}
_ANONYMOUS = frozenset({"/version", "/version/", "/healthz", "/livez", "/readyz"})
_HISTORY = 2000
_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_JSON = "application/json"
#: Core kinds whose registry sets ``ReturnDeletedObject`` (DELETE answers with the object).
_RETURNS_DELETED = frozenset({"Pod", "Service"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An error answered as a Kubernetes ``Status`` object."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The ``Status`` JSON."""
        out: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            out["details"] = self.details
        out["code"] = self.code
        return out


def _qualified(rtype: ResourceType) -> str:
    return f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural


def _details(rtype: ResourceType, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if rtype.group:
        out["group"] = rtype.group
    out["kind"] = rtype.plural
    return out


def not_found(rtype: ResourceType, name: str) -> ApiError:
    """404 NotFound for one object."""
    return ApiError(
        404, "NotFound", f'{_qualified(rtype)} "{name}" not found', _details(rtype, name)
    )


def conflict(rtype: ResourceType, name: str) -> ApiError:
    """409 Conflict for a stale resourceVersion."""
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(rtype)} "{name}": the object has been '
        "modified; please apply your changes to the latest version and try again",
        _details(rtype, name),
    )


def _resource_missing() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


@dataclass
class Target:
    """What a resource URL names."""

    rtype: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


@dataclass
class _Watch:
    rtype: ResourceType
    namespace: str | None
    name: str | None
    labels: list[selectors.Requirement]
    fields: list[selectors.FieldRequirement]
    queue: asyncio.Queue[tuple[str, dict[str, Any]] | None]

    def wants(self, obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata", {})
        return (
            obj.get("apiVersion") == self.rtype.api_version
            and obj.get("kind") == self.rtype.kind
            and (self.namespace is None or meta.get("namespace") == self.namespace)
            and (self.name is None or meta.get("name") == self.name)
            and selectors.match_labels(self.labels, meta.get("labels"))
            and selectors.match_fields(self.fields, obj)
        )


def _parse_target(
    path: str,
    lookup: Callable[[str, str, str], ResourceType | None] = resources.by_plural,
) -> Target | None:
    """Map ``/api/v1/...`` or ``/apis/G/V/...`` to a :class:`Target` (None: not a resource).

    ``lookup(group, version, plural)`` finds the resource type (the server passes the types it
    serves).
    """
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and not (group == "" and rest[2] == "status"):
        namespace, rest = rest[1], rest[2:]
    rtype = lookup(group, version, rest[0])
    if rtype is None or len(rest) > 3:
        return None
    if namespace is not None and not rtype.namespaced:
        return None
    name = rest[1] if len(rest) >= 2 else None
    sub = rest[2] if len(rest) == 3 else None
    if sub is not None and (sub != "status" or not rtype.has_status):
        return None
    return Target(rtype, namespace, name, sub)


class KubeApiServer:
    """The HTTP(S) front of a :class:`KubeStore`.

    Args:
        store: the object store (shared with the simulation).
        token: the bearer token every non-anonymous request must carry.
    """

    def __init__(
        self,
        store: KubeStore,
        *,
        token: str,
        calico_api: str = "v3",
        pods: PodBackend | None = None,
    ) -> None:
        self.store = store
        self._token = token
        self.calico_api = calico_api
        #: The resource types this server serves (its Calico API mode decides the Calico groups).
        self.served: tuple[ResourceType, ...] = resources.served(calico_api)
        self._groups = resources.group_versions(self.served)
        self._by_plural = {(r.group, r.version, r.plural): r for r in self.served}
        self._pods = pods
        self._history: collections.deque[tuple[int, str, dict[str, Any]]] = collections.deque(
            maxlen=_HISTORY
        )
        self._watches: list[_Watch] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._transports: weakref.WeakSet[asyncio.Transport] = weakref.WeakSet()
        store.add_watcher(self._on_event)

    # ------------------------------------------------------------------ app

    def app(self) -> web.Application:
        """The aiohttp application (serve it with TLS from ``fabric.lab.pki.server_context``)."""
        app = web.Application(middlewares=[self._middleware], client_max_size=16 * 1024 * 1024)
        app.router.add_get("/version", self._version)
        app.router.add_get("/version/", self._version)
        for health in ("/healthz", "/livez", "/readyz"):
            app.router.add_get(health, self._ok)
        app.router.add_get("/api", self._api_versions)
        app.router.add_get("/api/", self._api_versions)
        app.router.add_get("/apis", self._api_groups)
        app.router.add_get("/apis/", self._api_groups)
        app.router.add_get("/openapi/v2", self._openapi_v2)
        app.router.add_get("/openapi/v3", self._openapi_root)
        app.router.add_get("/openapi/v3/{gv:.+}", self._openapi_gv)
        pod_sub = "/api/v1/namespaces/{namespace}/pods/{name}/"
        app.router.add_route("*", pod_sub + "exec", self._pod_exec)
        app.router.add_route("GET", pod_sub + "log", self._pod_log)
        app.router.add_route("*", "/api/{tail:.+}", self._dispatch)
        app.router.add_route("*", "/apis/{tail:.+}", self._dispatch)
        app.on_startup.append(self._on_startup)
        app.on_shutdown.append(self._on_shutdown)
        return app

    async def _on_startup(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()

    def abort_connections(self) -> None:
        """Drop every open client connection now (e.g. to model "connection refused").

        Stopping a site only closes its listener; clients with a keep-alive connection would go
        on using it. Call on the server's event loop.
        """
        for transport in list(self._transports):
            transport.abort()

    async def _on_shutdown(self, app: web.Application) -> None:
        for w in list(self._watches):
            w.queue.put_nowait(None)
        # Idle keep-alive TLS connections would otherwise wait (up to 30 s) for the client's
        # close_notify, and leak their socket if the loop stops first.
        self.abort_connections()
        await asyncio.sleep(0)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.transport is not None:
            self._transports.add(request.transport)
        try:
            auth = request.headers.get("Authorization")
            # Like the real server: no credentials = anonymous (public paths only); wrong
            # credentials = 401 everywhere.
            if auth is not None or request.path not in _ANONYMOUS:
                # the scheme is case-insensitive (RFC 7235): the client's in-cluster loader
                # sends "bearer <token>"
                scheme, _, token = (auth or "").partition(" ")
                if scheme.lower() != "bearer" or not hmac.compare_digest(
                    token.encode(), self._token.encode()
                ):
                    raise ApiError(401, "Unauthorized", "Unauthorized")
            return await handler(request)
        except ApiError as err:
            return web.json_response(err.status(), status=err.code)
        except web.HTTPNotFound:
            return web.json_response(_resource_missing().status(), status=404)
        except web.HTTPMethodNotAllowed:
            denied = ApiError(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                {},
            )
            return web.json_response(denied.status(), status=405)

    # ------------------------------------------------------------------ events

    def _on_event(self, event: str, obj: dict[str, Any]) -> None:
        rv = int(obj["metadata"]["resourceVersion"])
        self._history.append((rv, event, obj))
        loop = self._loop
        if loop is None or not self._watches:
            return
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            loop.call_soon_threadsafe(self._fan_out, event, obj)

    def _fan_out(self, event: str, obj: dict[str, Any]) -> None:
        for w in self._watches:
            if w.wants(obj):
                w.queue.put_nowait((event, obj))

    # ------------------------------------------------------------------ simple endpoints

    async def _version(self, request: web.Request) -> web.Response:
        return web.json_response(KUBE_VERSION)

    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response(text="ok", content_type="text/plain")

    async def _api_versions(self, request: web.Request) -> web.Response:
        host = request.host
        return web.json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
            }
        )

    @staticmethod
    def _group_json(group: str, versions: list[str]) -> dict[str, Any]:
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": entries, "preferredVersion": entries[0]}

    async def _api_groups(self, request: web.Request) -> web.Response:
        groups = [self._group_json(g, v) for g, v in self._groups.items() if g]
        return web.json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        items: list[dict[str, Any]] = []
        for r in self.served:
            if r.group != group or r.version != version:
                continue
            entry: dict[str, Any] = {
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": _VERBS,
            }
            if r.short_names:
                entry["shortNames"] = list(r.short_names)
            if r.categories:
                entry["categories"] = list(r.categories)
            items.append(entry)
            if not r.has_status:
                continue
            items.append(
                {
                    "name": f"{r.plural}/status",
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
        gv = f"{group}/{version}" if group else version
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": gv,
            "resources": items,
        }

    def _discovery(self, path: str) -> dict[str, Any] | None:
        parts = [p for p in path.split("/") if p]
        known = self._groups
        if parts == ["api", "v1"]:
            return self._resource_list("", "v1")
        if len(parts) == 2 and parts[0] == "apis" and parts[1] in known and parts[1]:
            return {
                "kind": "APIGroup",
                "apiVersion": "v1",
                **self._group_json(parts[1], known[parts[1]]),
            }
        if len(parts) == 3 and parts[0] == "apis" and parts[2] in known.get(parts[1], []):
            return self._resource_list(parts[1], parts[2])
        return None

    # ------------------------------------------------------------------ OpenAPI v3

    async def _openapi_v2(self, request: web.Request) -> web.Response:
        return web.Response(
            body=openapi.openapi_v2_protobuf(KUBE_VERSION["gitVersion"], self.served),
            headers={"Content-Type": openapi.V2_CONTENT_TYPE},
        )

    async def _openapi_root(self, request: web.Request) -> web.Response:
        return web.json_response(openapi.openapi_v3_root(self.served))

    async def _openapi_gv(self, request: web.Request) -> web.Response:
        gv = request.match_info["gv"].strip("/")
        parts = gv.split("/")
        if parts[0] == "api" and len(parts) == 2:
            group, version = "", parts[1]
        elif parts[0] == "apis" and len(parts) == 3:
            group, version = parts[1], parts[2]
        else:
            raise _resource_missing()
        if version not in self._groups.get(group, []):
            raise _resource_missing()
        doc = openapi.openapi_v3_document(group, version, KUBE_VERSION["gitVersion"], self.served)
        return web.json_response(doc)

    # ------------------------------------------------------------------ dispatch

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            disc = self._discovery(request.path)
            if disc is not None:
                return web.json_response(disc)
        target = _parse_target(request.path, lambda g, v, p: self._by_plural.get((g, v, p)))
        if target is None:
            raise _resource_missing()
        method = request.method
        if method == "GET":
            if target.name is None:
                if _truthy(request.query.get("watch")):
                    return await self._watch(request, target)
                return self._respond(request, target, self._list(request, target))
            obj = self.store.get(
                target.rtype.api_version, target.rtype.kind, target.name, target.namespace
            )
            if obj is None:
                raise not_found(target.rtype, target.name)
            return self._respond(request, target, obj)
        if method not in ("POST", "PUT", "PATCH", "DELETE"):
            raise web.HTTPMethodNotAllowed(method, ["GET", "POST", "PUT", "PATCH", "DELETE"])
        if method == "POST" and target.name is not None:
            raise web.HTTPMethodNotAllowed(method, ["GET", "PUT", "PATCH", "DELETE"])
        if method in ("PUT", "PATCH") and target.name is None:
            raise web.HTTPMethodNotAllowed(method, ["GET", "POST", "DELETE"])
        body = await request.read()
        self._check_fault(target, body)
        warnings: list[str] = []
        if method == "POST":
            obj, status = self._create(request, target, body, warnings), 201
        elif method == "PUT":
            obj, status = self._update(request, target, body, warnings)
        elif method == "PATCH":
            obj, status = self._patch(request, target, body, warnings)
        else:
            obj, status = self._delete(request, target, body), 200
        resp = web.json_response(obj, status=status)
        for w in warnings:
            resp.headers.add("Warning", f"299 - {json.dumps(w)}")
        return resp

    def _respond(self, request: web.Request, target: Target, obj: dict[str, Any]) -> web.Response:
        accept = request.headers.get("Accept", "")
        if "as=Table" in accept:
            items = obj.get("items", [obj])
            rv = obj.get("metadata", {}).get("resourceVersion", str(self.store.resource_version))
            table = tables.to_table(
                target.rtype.api_version,
                target.rtype.kind,
                items,
                rv,
                request.query.get("includeObject", "Metadata"),
            )
            return web.json_response(table)
        return web.json_response(obj)

    # ------------------------------------------------------------------ pod exec and log

    def _pod_for(self, request: web.Request) -> dict[str, Any]:
        name = request.match_info["name"]
        pod = self.store.get("v1", "Pod", name, request.match_info["namespace"])
        if pod is None:
            rtype = resources.by_kind("v1", "Pod")
            assert rtype is not None
            raise not_found(rtype, name)
        return pod

    async def _pod_exec(self, request: web.Request) -> web.StreamResponse:
        """``pods/NAME/exec``: a channel WebSocket (see :mod:`fabric.lab.k8s.podexec`)."""
        if request.method not in ("GET", "POST"):
            raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST"])
        pod = self._pod_for(request)
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        try:
            command, stdin, stdout, stderr, tty = podexec.exec_options(request)
            container = podexec.container_for(pod, request.query.get("container"))
            if not (pod.get("spec") or {}).get("nodeName"):
                raise SubresourceError(
                    400, "BadRequest", f"pod {name} does not have a host assigned"
                )

            async def run() -> podexec.ExecResult:
                current = self.store.get("v1", "Pod", name, namespace) or pod
                if self._pods is None:
                    return podexec.ExecResult(runtime_error=podexec.oci_not_found(command[0]))
                return self._pods.exec(current, container, command)

            streams = (stdin, stdout, stderr, tty)
            if spdy.is_spdy(request):
                return await spdy.serve_spdy_exec(request, command, streams, run)
            return await podexec.serve_exec(request, command, streams, run)
        except SubresourceError as err:
            raise ApiError(err.code, err.reason, err.message) from err

    async def _pod_log(self, request: web.Request) -> web.StreamResponse:
        """``pods/NAME/log``: the container's lines as text (``follow`` streams)."""
        pod = self._pod_for(request)
        namespace, name = request.match_info["namespace"], request.match_info["name"]
        try:
            container = podexec.container_for(pod, request.query.get("container"))

            def read() -> list[podexec.LogLine] | None:
                current = self.store.get("v1", "Pod", name, namespace)
                if current is None:
                    return None
                return self._pods.logs(current, container) if self._pods is not None else []

            return await podexec.serve_log(request, read, time.time)
        except SubresourceError as err:
            raise ApiError(err.code, err.reason, err.message) from err

    # ------------------------------------------------------------------ faults

    def _check_fault(self, target: Target, body: bytes) -> None:
        faults = self.store.faults
        if faults.fail_on_write is None:
            return
        if faults.fail_on_write > 1:
            faults.fail_on_write -= 1
            return
        faults.fail_on_write = None
        name = target.name
        if name is None:
            with contextlib.suppress(Exception):
                name = str(json.loads(body or b"{}").get("metadata", {}).get("name") or "")
        if faults.status == 409:
            raise conflict(target.rtype, name or "")
        raise ApiError(
            500,
            "InternalError",
            "Internal error occurred: injected lab fault",
            {"causes": [{"message": "injected lab fault"}]},
        )

    # ------------------------------------------------------------------ reads

    def _selected(self, request: web.Request, target: Target) -> list[dict[str, Any]]:
        rtype = target.rtype
        try:
            labels = selectors.parse_label_selector(request.query.get("labelSelector", ""))
            fields = selectors.parse_field_selector(request.query.get("fieldSelector", ""))
            selectors.check_fields(fields, rtype.kind)
        except selectors.SelectorError as err:
            raise _bad_request(str(err)) from err
        return [
            o
            for o in self.store.list(rtype.api_version, rtype.kind, target.namespace)
            if selectors.match_labels(labels, o.get("metadata", {}).get("labels"))
            and selectors.match_fields(fields, o)
        ]

    def _list(self, request: web.Request, target: Target) -> dict[str, Any]:
        rtype = target.rtype
        items = self._selected(request, target)
        return {
            "kind": f"{rtype.kind}List",
            "apiVersion": rtype.api_version,
            "metadata": {"resourceVersion": str(self.store.resource_version)},
            "items": items,
        }

    async def _watch(self, request: web.Request, target: Target) -> web.StreamResponse:
        try:
            labels = selectors.parse_label_selector(request.query.get("labelSelector", ""))
            fields = selectors.parse_field_selector(request.query.get("fieldSelector", ""))
            selectors.check_fields(fields, target.rtype.kind)
        except selectors.SelectorError as err:
            raise _bad_request(str(err)) from err
        self._loop = asyncio.get_running_loop()
        watch = _Watch(target.rtype, target.namespace, None, labels, fields, asyncio.Queue())
        rv_text = request.query.get("resourceVersion", "")
        initial: list[tuple[str, dict[str, Any]]] = []
        if rv_text in ("", "0"):
            initial = [("ADDED", o) for o in self._selected(request, target)]
        else:
            try:
                since = int(rv_text)
            except ValueError as err:
                raise _bad_request(f"invalid resource version: {rv_text}") from err
            oldest = self._history[0][0] if self._history else self.store.resource_version + 1
            if since + 1 < oldest and since < self.store.resource_version:
                raise ApiError(410, "Expired", f"too old resource version: {since} ({oldest - 1})")
            initial = [(e, o) for rv, e, o in self._history if rv > since and watch.wants(o)]
        as_table = "as=Table" in request.headers.get("Accept", "")
        include = request.query.get("includeObject", "Metadata")

        def encode(event: str, obj: dict[str, Any]) -> bytes:
            if as_table:
                rv = str(obj.get("metadata", {}).get("resourceVersion", ""))
                obj = tables.to_table(
                    target.rtype.api_version, target.rtype.kind, [obj], rv, include
                )
            return json.dumps({"type": event, "object": obj}).encode() + b"\n"

        timeout = float(request.query.get("timeoutSeconds") or 1800)
        resp = web.StreamResponse(headers={"Content-Type": _JSON})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        self._watches.append(watch)
        try:
            for event, obj in initial:
                await resp.write(encode(event, obj))
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(watch.queue.get(), remaining)
                except TimeoutError:
                    break
                if item is None:
                    break
                event, obj = item
                await resp.write(encode(event, obj))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._watches.remove(watch)
        with contextlib.suppress(ConnectionResetError):
            await resp.write_eof()
        return resp

    # ------------------------------------------------------------------ decoding

    @staticmethod
    def _decode(body: bytes, content_type: str) -> Any:
        try:
            if "yaml" in content_type:
                return yaml.safe_load(body.decode("utf-8"))
            return json.loads(body.decode("utf-8") or "null")
        except (ValueError, yaml.YAMLError) as err:
            raise _bad_request(f"couldn't get version/kind; json parse error: {err}") from err

    def _check_kind(self, target: Target, obj: Any) -> dict[str, Any]:
        rtype = target.rtype
        if not isinstance(obj, dict):
            raise _bad_request(
                "the body of the request was in an unknown format - "
                "accepted media types include: application/json, application/yaml"
            )
        obj.setdefault("apiVersion", rtype.api_version)
        obj.setdefault("kind", rtype.kind)
        if obj["apiVersion"] != rtype.api_version or obj["kind"] != rtype.kind:
            raise _bad_request(
                f"the API version in the data ({obj['apiVersion']}) does not match the expected "
                f"API version ({rtype.api_version})"
                if obj["apiVersion"] != rtype.api_version
                else f"the kind in the data ({obj['kind']}) does not match the expected kind "
                f"({rtype.kind})"
            )
        if not isinstance(obj.get("metadata", {}), dict):
            raise _bad_request("metadata must be an object")
        obj.setdefault("metadata", {})
        return obj

    @staticmethod
    def _field_validation(
        request: web.Request, rtype: ResourceType, obj: dict[str, Any], warnings: list[str]
    ) -> dict[str, Any]:
        mode = request.query.get("fieldValidation", "Warn") or "Warn"
        if mode not in ("Strict", "Warn", "Ignore"):
            raise _bad_request(
                f'fieldValidation must be one of "Ignore", "Warn", "Strict", got {mode!r}'
            )
        schema = rtype.schema()
        unknown = resources.unknown_fields(obj, schema)
        if not unknown:
            return obj
        if mode == "Strict":
            listed = ", ".join(f'unknown field "{u}"' for u in unknown)
            raise _bad_request(
                f'{rtype.kind} in version "{rtype.version}" cannot be handled as a '
                f"{rtype.kind}: strict decoding error: {listed}"
            )
        if mode == "Warn":
            warnings.extend(f'unknown field "{u}"' for u in unknown)
        dropped = resources.drop_fields(obj, schema)
        assert isinstance(dropped, dict)
        return dropped

    def _validate(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        errs = validation.validate(rtype, obj)
        if not errs:
            return
        name = str(obj.get("metadata", {}).get("name") or "")
        qualified = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
        joined = str(errs[0]) if len(errs) == 1 else "[" + ", ".join(str(e) for e in errs) + "]"
        details: dict[str, Any] = {"name": name}
        if rtype.group:
            details["group"] = rtype.group
        details["kind"] = rtype.kind
        details["causes"] = [
            {"reason": e.type, "message": e.body(), "field": e.field} for e in errs
        ]
        raise ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {joined}', details)

    @staticmethod
    def _dry_run(request: web.Request) -> bool:
        values = request.query.getall("dryRun", [])
        for v in values:
            if v != "All":
                raise _bad_request(f'Invalid dryRun value: "{v}": valid values are "All"')
        return bool(values)

    @staticmethod
    def _manager(request: web.Request, default_suffix: str = "") -> str:
        manager = request.query.get("fieldManager")
        if manager:
            return manager
        agent = request.headers.get("User-Agent", "unknown")
        return agent.split("/", 1)[0] + default_suffix

    def _namespace_for(self, target: Target, obj: dict[str, Any]) -> str | None:
        if not target.rtype.namespaced:
            obj["metadata"].pop("namespace", None)
            return None
        body_ns = obj["metadata"].get("namespace")
        ns = target.namespace or body_ns or "default"
        if body_ns and body_ns != ns:
            raise _bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                "request"
            )
        obj["metadata"]["namespace"] = ns
        return ns

    def _require_namespace(self, ns: str | None) -> None:
        if ns is not None and self.store.get("v1", "Namespace", ns) is None:
            raise ApiError(
                404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"}
            )

    def _finish(
        self,
        request: web.Request,
        rtype: ResourceType,
        old: dict[str, Any] | None,
        new: dict[str, Any],
    ) -> dict[str, Any]:
        """Default and validate, then store (or, on a dry run, only prepare) ``new``."""
        defaults.apply_defaults(new)
        self._validate(rtype, new)
        if self._dry_run(request):
            prepared = self.store.prepare(new, old)
            if old is None:
                prepared["metadata"].pop("resourceVersion", None)
            return prepared
        stored = self.store.commit(new)
        meta = stored["metadata"]
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            # the last finalizer is gone: the pending deletion completes
            self.store.remove(rtype.api_version, rtype.kind, meta["name"], meta.get("namespace"))
        return stored

    # ------------------------------------------------------------------ writes

    def _create(
        self, request: web.Request, target: Target, body: bytes, warnings: list[str]
    ) -> dict[str, Any]:
        rtype = target.rtype
        obj = self._check_kind(target, self._decode(body, request.content_type))
        obj = self._field_validation(request, rtype, obj, warnings)
        meta = obj["metadata"]
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = str(meta["generateName"]) + "".join(
                random.choice(_NAME_CHARS) for _ in range(5)
            )
        ns = self._namespace_for(target, obj)
        meta.pop("resourceVersion", None)
        meta.pop("uid", None)
        meta.pop("creationTimestamp", None)
        name = str(meta.get("name") or "")
        if name and self.store.get(rtype.api_version, rtype.kind, name, ns) is not None:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{_qualified(rtype)} "{name}" already exists',
                _details(rtype, name),
            )
        self._require_namespace(ns)
        track_update(None, obj, self._manager(request))
        return self._finish(request, rtype, None, obj)

    def _current(self, target: Target) -> dict[str, Any]:
        assert target.name is not None
        rtype = target.rtype
        old = self.store.get(rtype.api_version, rtype.kind, target.name, target.namespace)
        if old is None:
            raise not_found(rtype, target.name)
        return old

    def _check_identity(self, target: Target, obj: dict[str, Any], old: dict[str, Any]) -> None:
        assert target.name is not None
        meta = obj["metadata"]
        if meta.get("name", target.name) != target.name:
            raise _bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({target.name})"
            )
        meta["name"] = target.name
        self._namespace_for(target, obj)
        rv = meta.get("resourceVersion")
        if rv not in (None, "") and str(rv) != old["metadata"]["resourceVersion"]:
            raise conflict(target.rtype, target.name)

    @staticmethod
    def _merge_subresource(target: Target, old: dict[str, Any], new: dict[str, Any]) -> None:
        """A status write changes only the status; a main write keeps an omitted status."""
        if target.subresource == "status":
            status = new.get("status")
            new.clear()
            new.update(copy.deepcopy(old))
            if status is None:
                new.pop("status", None)
            else:
                new["status"] = status
        elif "status" not in new and "status" in old:
            new["status"] = copy.deepcopy(old["status"])

    def _update(
        self, request: web.Request, target: Target, body: bytes, warnings: list[str]
    ) -> tuple[dict[str, Any], int]:
        rtype = target.rtype
        obj = self._check_kind(target, self._decode(body, request.content_type))
        obj = self._field_validation(request, rtype, obj, warnings)
        old = self._current(target)
        self._check_identity(target, obj, old)
        self._merge_subresource(target, old, obj)
        obj["metadata"].setdefault("managedFields", old["metadata"].get("managedFields"))
        track_update(old, obj, self._manager(request))
        return self._finish(request, rtype, old, obj), 200

    def _patch(
        self, request: web.Request, target: Target, body: bytes, warnings: list[str]
    ) -> tuple[dict[str, Any], int]:
        rtype = target.rtype
        assert target.name is not None
        ctype = request.content_type
        patch = self._decode(body, ctype)
        if ctype == "application/apply-patch+yaml":
            return self._apply(request, target, patch, warnings)
        old = self._current(target)
        try:
            if ctype == "application/json-patch+json":
                new = json_patch(old, patch)
            elif ctype in (
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
            ):
                if not isinstance(patch, dict):
                    raise _bad_request("a merge patch must be a JSON object")
                if (
                    ctype.startswith("application/strategic")
                    and rtype.group in resources.CUSTOM_RESOURCE_GROUPS
                ):
                    # apiextensions-apiserver: no strategic merge patch for custom resources
                    raise ApiError(
                        415,
                        "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media "
                        "types include: application/json-patch+json, "
                        "application/merge-patch+json, application/apply-patch+yaml",
                    )
                if ctype.startswith("application/strategic") and rtype.group != CALICO_GROUP:
                    new = strategic_merge_patch(old, patch)
                else:
                    new = merge_patch(old, strip_directives(patch))
            else:
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted "
                    "media types include: application/json-patch+json, "
                    "application/merge-patch+json, application/apply-patch+yaml, "
                    "application/strategic-merge-patch+json",
                )
        except PatchError as err:
            raise ApiError(422, "Invalid", str(err)) from err
        new = self._check_kind(target, new)
        new = self._field_validation(request, rtype, new, warnings)
        self._check_identity(target, new, old)
        self._merge_subresource(target, old, new)
        track_update(old, new, self._manager(request))
        return self._finish(request, rtype, old, new), 200

    def _apply(
        self, request: web.Request, target: Target, applied: Any, warnings: list[str]
    ) -> tuple[dict[str, Any], int]:
        rtype = target.rtype
        assert target.name is not None
        manager = request.query.get("fieldManager")
        if not manager:
            raise _bad_request(
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is '
                "required for apply patch"
            )
        applied = self._check_kind(target, applied)
        applied = self._field_validation(request, rtype, applied, warnings)
        old = self.store.get(rtype.api_version, rtype.kind, target.name, target.namespace)
        meta = applied["metadata"]
        if meta.get("name", target.name) != target.name:
            raise _bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                f"({target.name})"
            )
        meta["name"] = target.name
        ns = self._namespace_for(target, applied)
        rv = meta.pop("resourceVersion", None)
        if (
            old is not None
            and rv not in (None, "")
            and str(rv) != old["metadata"]["resourceVersion"]
        ):
            raise conflict(rtype, target.name)
        if old is None:
            self._require_namespace(ns)
        try:
            new = server_side_apply(
                old, applied, manager, force=_truthy(request.query.get("force"))
            )
        except ApplyConflictError as err:
            raise ApiError(
                409,
                "Conflict",
                str(err),
                {
                    **_details(rtype, target.name),
                    "causes": [
                        {
                            "reason": "FieldManagerConflict",
                            "message": f'conflict with "{m}" using {v}',
                            "field": f,
                        }
                        for m, v, f in err.conflicts
                    ],
                },
            ) from err
        if old is not None:
            self._merge_subresource(target, old, new)
        return self._finish(request, rtype, old, new), 201 if old is None else 200

    def _delete(self, request: web.Request, target: Target, body: bytes) -> dict[str, Any]:
        rtype = target.rtype
        dry = self._dry_run(request)
        options: Any = {}
        with contextlib.suppress(ValueError):
            options = json.loads(body or b"{}")
        if not isinstance(options, dict):
            options = {}
        grace = _grace_period(request, options)
        if target.name is None:  # deletecollection
            items = self._selected(request, target)
            for o in items:
                self._delete_one(rtype, o, grace, dry)
            return {
                "kind": f"{rtype.kind}List",
                "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
                "items": items,
            }
        old = self._current(target)
        pre = options.get("preconditions") or {}
        if (
            pre.get("resourceVersion")
            and pre["resourceVersion"] != old["metadata"]["resourceVersion"]
        ):
            raise conflict(rtype, target.name)
        if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
            raise conflict(rtype, target.name)
        return self._delete_one(rtype, old, grace, dry)

    def _delete_one(
        self, rtype: ResourceType, old: dict[str, Any], grace: int | None, dry: bool
    ) -> dict[str, Any]:
        """Delete one object as the generic registry does; return the response body.

        * An object with ``metadata.finalizers`` only gets a ``deletionTimestamp`` and stays
          until an update removes the last finalizer (the object is returned).
        * A Pod on a node is deleted gracefully: it is returned with ``deletionTimestamp`` (now
          + the grace period) and ``deletionGracePeriodSeconds``; the lab's kubelet stops it
          at once, so the object is gone when the response is sent (a MODIFIED, then a DELETED
          event). ``gracePeriodSeconds=0`` or an unscheduled pod: immediate deletion.
        * A Namespace is returned ``Terminating`` (its content is deleted with it).
        * Otherwise the object is deleted now; Pods and Services (``ReturnDeletedObject``)
          answer with the deleted object, other kinds with a ``Status`` of success.
        """
        meta = old["metadata"]
        name, ns = str(meta["name"]), meta.get("namespace")
        marked = copy.deepcopy(old)
        mmeta = marked["metadata"]
        core = rtype.group == ""
        if meta.get("finalizers"):
            if not meta.get("deletionTimestamp"):
                mmeta["deletionTimestamp"] = now_rfc3339()
                mmeta["deletionGracePeriodSeconds"] = 0
                if not dry:
                    marked = self.store.commit(marked)
            return marked
        if core and rtype.kind == "Pod":
            spec = old.get("spec") or {}
            period = grace if grace is not None else spec.get("terminationGracePeriodSeconds", 30)
            if not spec.get("nodeName"):
                period = 0
            if isinstance(period, int) and period > 0:
                mmeta.setdefault("deletionTimestamp", now_rfc3339(period))
                mmeta.setdefault("deletionGracePeriodSeconds", period)
                if not dry:
                    marked = self.store.commit(marked)
                    self.store.remove(rtype.api_version, rtype.kind, name, ns)
                return marked
        if core and rtype.kind == "Namespace":
            mmeta["deletionTimestamp"] = now_rfc3339()
            marked.setdefault("status", {})["phase"] = "Terminating"
            if not dry:
                self.store.remove(rtype.api_version, rtype.kind, name, ns)
            return marked
        if not dry:
            self.store.remove(rtype.api_version, rtype.kind, name, ns)
        if core and rtype.kind in _RETURNS_DELETED:
            return old
        return {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {**_details(rtype, name), "uid": meta["uid"]},
        }


def _grace_period(request: web.Request, options: dict[str, Any]) -> int | None:
    """``gracePeriodSeconds`` from the query or the ``DeleteOptions`` body (None: default)."""
    value = request.query.get("gracePeriodSeconds", options.get("gracePeriodSeconds"))
    if value is None:
        return None
    try:
        return max(int(value), 0)
    except (TypeError, ValueError) as err:
        raise _bad_request(f"invalid gracePeriodSeconds: {value!r}") from err


def random_token(length: int = 40) -> str:
    """A random bearer token for a lab cluster."""
    alphabet = string.ascii_letters + string.digits
    return "".join(random.SystemRandom().choice(alphabet) for _ in range(length))
