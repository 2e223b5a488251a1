"""The few Kubernetes calls fabric makes for Calico, through either Calico API.

* ``v3``: the Calico API server's aggregated ``projectcalico.org/v3`` API.
* ``crd``: a cluster without the Calico API server (installed from manifests: Kubespray, most
  kubeadm guides): Calico's objects are the ``crd.projectcalico.org/v1`` custom resources,
  with the same kinds and specs.

In both, a Calico ``Node`` is not a resource of its own (the API server does not serve
``nodes.projectcalico.org``): its BGP settings are annotations of the core ``Node``
(libcalico-go's Kubernetes-datastore conversion: ``projectcalico.org/IPv4Address``,
``IPv6Address``, ``ASNumber``, ``RouteReflectorClusterID``). This client shows them as a Calico
``Node`` view (name, the core Node's resourceVersion, ``spec.bgp``) and writes them back as an
annotation patch; the rest of the core Node (labels, calico-node's other annotations, status)
is never touched.
* ``auto`` (:func:`resolve_api`): ``v3`` when the cluster serves it, else ``crd``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fabric.errors import ConflictError, RunFailedError, UnreachableError, UsageError
from fabric.steps.kubeapi import api_client
from fabric.steps.render import BGP_SECRET_NAME, BGP_SECRET_NAMESPACE

CalicoApi = Literal["v3", "crd"]
CALICO_API_CHOICES = ("auto", "v3", "crd")

#: group and version of each API
API_GROUPS: dict[CalicoApi, tuple[str, str]] = {
    "v3": ("projectcalico.org", "v3"),
    "crd": ("crd.projectcalico.org", "v1"),
}
PLURALS: dict[str, str] = {
    "BGPConfiguration": "bgpconfigurations",
    "BGPPeer": "bgppeers",
    "BGPFilter": "bgpfilters",
    "Node": "nodes",
    "BlockAffinity": "blockaffinities",
    "IPPool": "ippools",
    "ClusterInformation": "clusterinformations",
}
#: A Calico Node's ``spec.bgp`` fields as core Node annotations (Kubernetes datastore).
NODE_ANNOTATIONS: dict[str, str] = {
    "ipv4Address": "projectcalico.org/IPv4Address",
    "ipv6Address": "projectcalico.org/IPv6Address",
    "asNumber": "projectcalico.org/ASNumber",
    "routeReflectorClusterID": "projectcalico.org/RouteReflectorClusterID",
}
#: The core kind fabric writes besides the Calico ones (the BGP password Secret).
SECRET_KIND = "Secret"


def api_version(api: CalicoApi) -> str:
    """``group/version`` of a Calico API."""
    group, version = API_GROUPS[api]
    return f"{group}/{version}"


def node_view(core_node: dict[str, Any], api: CalicoApi = "crd") -> dict[str, Any]:
    """A core Node's Calico BGP annotations as a Calico ``Node`` (Kubernetes datastore)."""
    meta = core_node.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    bgp: dict[str, Any] = {}
    for field, key in NODE_ANNOTATIONS.items():
        value = annotations.get(key)
        if value not in (None, ""):
            bgp[field] = int(value) if field == "asNumber" and str(value).isdigit() else value
    view_meta = {"name": meta.get("name")}
    if meta.get("resourceVersion"):
        view_meta["resourceVersion"] = meta["resourceVersion"]
    return {
        "apiVersion": api_version(api),
        "kind": "Node",
        "metadata": view_meta,
        "spec": {"bgp": bgp} if bgp else {},
    }


def node_patch(view: dict[str, Any] | None) -> dict[str, Any]:
    """The annotation patch that makes a core Node show ``view``'s ``spec.bgp`` (None: none)."""
    bgp = ((view or {}).get("spec") or {}).get("bgp") or {}
    annotations = {
        key: (None if bgp.get(field) in (None, "") else str(bgp[field]))
        for field, key in NODE_ANNOTATIONS.items()
    }
    meta: dict[str, Any] = {"annotations": annotations}
    rv = ((view or {}).get("metadata") or {}).get("resourceVersion")
    if rv:
        meta["resourceVersion"] = rv  # a precondition: a concurrent change is a 409
    return {"metadata": meta}


def resolve_api(client: Any, wanted: str = "auto") -> CalicoApi:
    """The Calico API to use: ``wanted``, or for ``auto`` what the cluster serves.

    ``client`` is a ``kubernetes.client.ApiClient``; ``auto`` reads API discovery once.

    Raises:
        UsageError: ``wanted`` is not auto, v3 or crd.
        UnreachableError: discovery failed, or the cluster serves neither Calico API.
    """
    from kubernetes.client import ApisApi
    from kubernetes.client.exceptions import ApiException

    if wanted in ("v3", "crd"):
        return wanted  # type: ignore[return-value]
    if wanted != "auto":
        raise UsageError(f"--calico-api {wanted}: must be one of {', '.join(CALICO_API_CHOICES)}")
    try:
        groups = ApisApi(client).get_api_versions(_request_timeout=30)
    except ApiException as exc:
        raise UnreachableError(f"API discovery: HTTP {exc.status} {exc.reason}") from exc
    except Exception as exc:  # urllib3 connection errors and friends
        raise UnreachableError(f"API discovery: {type(exc).__name__}: {exc}") from exc
    served = {(g.name, v.version) for g in groups.groups or [] for v in g.versions or []}
    for api in API_GROUPS:
        if API_GROUPS[api] in served:
            return api
    raise UnreachableError(
        "the cluster serves no Calico API (neither projectcalico.org/v3 nor "
        "crd.projectcalico.org/v1): is Calico installed?"
    )


def describe_api(api: CalicoApi, wanted: str) -> str:
    """One line saying which Calico API a run uses and why."""
    why = (
        "chosen"
        if wanted != "auto"
        else ("served by the cluster" if api == "v3" else "no Calico API server: custom resources")
    )
    return f"Calico API {api_version(api)} ({why})"


def _status_message(exc: Any) -> str:
    try:
        body = json.loads(exc.body)
        return str(body.get("message") or body.get("reason") or exc.reason)
    except (TypeError, ValueError, AttributeError):
        return str(exc.reason)


class CalicoClient:
    """Calico objects (and the BGP password Secret) over the ``kubernetes`` client.

    Args:
        kubeconfig: path of the kubeconfig file, or ``in-cluster``.
        context: the context to use (None: the file's current context).
        insecure: do not verify the API server's certificate.
        api: ``auto`` (the default: :func:`resolve_api`), ``v3`` or ``crd``.
    """

    def __init__(
        self, kubeconfig: str, context: str | None, *, insecure: bool = False, api: str = "auto"
    ) -> None:
        from kubernetes import client

        self._api_client = api_client(kubeconfig, context, insecure=insecure)
        self.custom = client.CustomObjectsApi(self._api_client)
        self.core = client.CoreV1Api(self._api_client)
        self._exc = client.ApiException
        self.wanted = api
        try:
            self.api: CalicoApi = resolve_api(self._api_client, api)
        except BaseException:
            self.close()
            raise
        self.group, self.version = API_GROUPS[self.api]

    @property
    def description(self) -> str:
        """Which Calico API this client uses and why (one line)."""
        return describe_api(self.api, self.wanted)

    def api_version_of(self, kind: str) -> str:
        """The ``apiVersion`` objects of ``kind`` carry through this client."""
        return "v1" if kind == SECRET_KIND else api_version(self.api)

    def close(self) -> None:
        """Release the HTTP pool."""
        self._api_client.close()

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
        """A call answered as the server's JSON (exact, not a client model)."""
        resp = self._call(what, fn, *args, _preload_content=False, **kwargs)
        out: dict[str, Any] = json.loads(resp.data)
        return out

    @staticmethod
    def _kdd_node(kind: str) -> bool:
        # A Calico Node is its core Node's annotations in every Kubernetes-datastore cluster:
        # the Calico API server does not serve nodes.projectcalico.org either.
        return kind == "Node"

    # ------------------------------------------------------------------ reads

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        try:
            if kind == SECRET_KIND:
                return self._raw(
                    f"get {kind}/{name}",
                    self.core.read_namespaced_secret,
                    name,
                    BGP_SECRET_NAMESPACE,
                )
            if self._kdd_node(kind):
                core = self._raw(f"get Node/{name}", self.core.read_node, name)
                view = node_view(core, self.api)
                return view if view["spec"] else None
            return self._raw(
                f"get {kind}/{name}",
                self.custom.get_cluster_custom_object,
                self.group,
                self.version,
                PLURALS[kind],
                name,
            )
        except KeyError:
            return None

    def list(self, kind: str) -> list[dict[str, Any]]:
        """Every object of ``kind`` (Secrets: those of the BGP password namespace)."""
        if kind == SECRET_KIND:
            found = self.get(kind, BGP_SECRET_NAME)
            return [] if found is None else [found]
        if self._kdd_node(kind):
            nodes = self._raw("list nodes", self.core.list_node).get("items") or []
            return [v for v in (node_view(n, self.api) for n in nodes) if v["spec"]]
        res = self._raw(
            f"list {kind}",
            self.custom.list_cluster_custom_object,
            self.group,
            self.version,
            PLURALS[kind],
        )
        items: list[dict[str, Any]] = res.get("items") or []
        return items

    # ------------------------------------------------------------------ writes

    def _patch_node(self, name: str, view: dict[str, Any] | None, dry_run: bool) -> dict[str, Any]:
        kwargs = {"dry_run": "All"} if dry_run else {}
        try:
            core = self._raw(
                f"patch Node/{name} annotations",
                self.core.patch_node,
                name,
                node_patch(view),
                _content_type="application/merge-patch+json",
                **kwargs,
            )
        except KeyError:
            raise RunFailedError(f"Node/{name}: no such Kubernetes node") from None
        return node_view(core, self.api)

    def create(self, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """POST ``body`` (409 if it exists by now)."""
        kind, name = body["kind"], body["metadata"]["name"]
        kwargs = {"dry_run": "All"} if dry_run else {}
        if self._kdd_node(kind):
            return self._patch_node(name, body, dry_run)
        if kind == SECRET_KIND:
            ns = body["metadata"].get("namespace", BGP_SECRET_NAMESPACE)
            try:
                return self._raw(
                    f"create {kind}/{name}", self.core.create_namespaced_secret, ns, body, **kwargs
                )
            except KeyError:
                raise RunFailedError(f"create {kind}/{name}: namespace {ns} not found") from None
        return self._raw(
            f"create {kind}/{name}",
            self.custom.create_cluster_custom_object,
            self.group,
            self.version,
            PLURALS[kind],
            body,
            **kwargs,
        )

    def replace(self, body: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        """PUT ``body``; its ``metadata.resourceVersion`` makes a concurrent change a 409."""
        kind, name = body["kind"], body["metadata"]["name"]
        kwargs = {"dry_run": "All"} if dry_run else {}
        try:
            if self._kdd_node(kind):
                return self._patch_node(name, body, dry_run)
            if kind == SECRET_KIND:
                return self._raw(
                    f"replace {kind}/{name}",
                    self.core.replace_namespaced_secret,
                    name,
                    body["metadata"].get("namespace", BGP_SECRET_NAMESPACE),
                    body,
                    **kwargs,
                )
            return self._raw(
                f"replace {kind}/{name}",
                self.custom.replace_cluster_custom_object,
                self.group,
                self.version,
                PLURALS[kind],
                name,
                body,
                **kwargs,
            )
        except KeyError:
            raise ConflictError(f"replace {kind}/{name}: deleted concurrently") from None

    def delete(self, kind: str, name: str, *, resource_version: str | None = None) -> bool:
        """DELETE (with a resourceVersion precondition when given); False if already absent.

        A Calico Node of the Kubernetes datastore loses its BGP annotations (the core Node,
        which Kubernetes owns, stays).
        """
        if self._kdd_node(kind):
            meta: dict[str, Any] = {"name": name}
            if resource_version:
                meta["resourceVersion"] = resource_version
            try:
                self._patch_node(name, {"metadata": meta, "spec": {}}, dry_run=False)
            except RunFailedError:
                return False
            return True
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
                self.custom.delete_cluster_custom_object,
                self.group,
                self.version,
                PLURALS[kind],
                name,
                body=body or None,
                _preload_content=False,
            )
        except KeyError:
            return False
        return True
