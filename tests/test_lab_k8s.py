"""The lab's Kubernetes API server against the real ``kubernetes`` client and the real kubectl.

One server per module (HTTPS on a free 127.0.0.1 port, in a background thread with its own
event loop); every test names its objects uniquely so tests stay independent.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from conftest import require_tool
from kubernetes import client as kclient
from kubernetes import config as kconfig
from kubernetes import watch as kwatch
from kubernetes.client.exceptions import ApiException

from fabric.lab.k8s import KubeApiServer, KubeStore, random_token, write_kubeconfig
from fabric.lab.pki import server_context
from fabric.lab.seed import SEED_CALICO_YAML as SEED_YAML

pytestmark = pytest.mark.lab

CALICO = ("projectcalico.org", "v3")


@dataclass
class Lab:
    store: KubeStore
    server: KubeApiServer
    url: str
    token: str
    lab_dir: Path
    kubeconfig: Path
    changes: list[int] = field(default_factory=list)

    def api_client(self) -> kclient.ApiClient:
        return kconfig.new_client_from_config(config_file=str(self.kubeconfig))


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    lab_dir = tmp_path_factory.mktemp("k8s-lab")
    changes: list[int] = []
    store = KubeStore(lab_dir / "k8s", on_change=lambda: changes.append(1))
    token = random_token()
    server = KubeApiServer(store, token=token)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="k8s-lab", daemon=True)
    thread.start()
    runner = web.AppRunner(server.app(), shutdown_timeout=1.0)

    async def start() -> int:
        await runner.setup()
        ctx = server_context(lab_dir, "k8s", ["127.0.0.1"])
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        return int(runner.addresses[0][1])

    port = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=10)
    url = f"https://127.0.0.1:{port}"
    kubeconfig = lab_dir / "kubeconfig"
    write_kubeconfig(kubeconfig, server=url, ca_file=lab_dir / "ca.pem", token=token)
    yield Lab(store, server, url, token, lab_dir, kubeconfig, changes)

    async def stop() -> None:
        await runner.cleanup()

    asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)
    loop.close()


@pytest.fixture(scope="module")
def custom(kube: Lab) -> Iterator[kclient.CustomObjectsApi]:
    with kube.api_client() as api:
        yield kclient.CustomObjectsApi(api)


@pytest.fixture(scope="module")
def core(kube: Lab) -> Iterator[kclient.CoreV1Api]:
    with kube.api_client() as api:
        yield kclient.CoreV1Api(api)


def peer(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "projectcalico.org/v3",
        "kind": "BGPPeer",
        "metadata": {"name": name},
        "spec": {"peerIP": "172.21.1.254", "asNumber": 65535, **spec},
    }


def status_of(err: ApiException) -> dict[str, Any]:
    body = json.loads(err.body)
    assert body["kind"] == "Status"
    return dict(body)


# --------------------------------------------------------------------------- python client


def test_calico_crud_roundtrip(kube: Lab, custom: kclient.CustomObjectsApi) -> None:
    created = custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("crud-peer"))
    meta = created["metadata"]
    assert meta["name"] == "crud-peer"
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert meta["generation"] == 1
    rv1 = int(meta["resourceVersion"])

    got = custom.get_cluster_custom_object(*CALICO, "bgppeers", "crud-peer")
    assert got["spec"] == {"peerIP": "172.21.1.254", "asNumber": 65535}

    got["spec"]["asNumber"] = 65001
    replaced = custom.replace_cluster_custom_object(*CALICO, "bgppeers", "crud-peer", got)
    assert replaced["spec"]["asNumber"] == 65001
    assert int(replaced["metadata"]["resourceVersion"]) > rv1
    assert replaced["metadata"]["generation"] == 2
    assert replaced["metadata"]["uid"] == meta["uid"]

    patched = custom.patch_cluster_custom_object(
        *CALICO, "bgppeers", "crud-peer", {"spec": {"keepOriginalNextHop": True}}
    )
    assert patched["spec"] == {"peerIP": "172.21.1.254", "asNumber": 65001,
                               "keepOriginalNextHop": True}  # fmt: skip

    names = [o["metadata"]["name"] for o in
             custom.list_cluster_custom_object(*CALICO, "bgppeers")["items"]]  # fmt: skip
    assert "crud-peer" in names
    assert kube.store.get("projectcalico.org/v3", "BGPPeer", "crud-peer") is not None

    custom.delete_cluster_custom_object(*CALICO, "bgppeers", "crud-peer")
    with pytest.raises(ApiException) as exc:
        custom.get_cluster_custom_object(*CALICO, "bgppeers", "crud-peer")
    assert exc.value.status == 404
    assert status_of(exc.value) == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": 'bgppeers.projectcalico.org "crud-peer" not found', "reason": "NotFound",
        "details": {"name": "crud-peer", "group": "projectcalico.org", "kind": "bgppeers"},
        "code": 404,
    }  # fmt: skip


def test_no_op_write_keeps_resource_version(custom: kclient.CustomObjectsApi) -> None:
    created = custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("noop-peer"))
    again = custom.patch_cluster_custom_object(
        *CALICO, "bgppeers", "noop-peer", {"spec": {"asNumber": 65535}}
    )
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_create_twice_is_already_exists(custom: kclient.CustomObjectsApi) -> None:
    custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("dup-peer"))
    with pytest.raises(ApiException) as exc:
        custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("dup-peer"))
    assert exc.value.status == 409
    status = status_of(exc.value)
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'bgppeers.projectcalico.org "dup-peer" already exists'


def test_stale_resource_version_is_conflict(custom: kclient.CustomObjectsApi) -> None:
    first = custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("stale-peer"))
    custom.patch_cluster_custom_object(*CALICO, "bgppeers", "stale-peer", {"spec": {"asNumber": 1}})
    first["spec"]["asNumber"] = 2  # still carries the old resourceVersion
    with pytest.raises(ApiException) as exc:
        custom.replace_cluster_custom_object(*CALICO, "bgppeers", "stale-peer", first)
    assert exc.value.status == 409
    status = status_of(exc.value)
    assert status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on bgppeers.projectcalico.org "stale-peer": the object '
        "has been modified; please apply your changes to the latest version and try again"
    )
    stale_patch = {"metadata": {"resourceVersion": first["metadata"]["resourceVersion"]},
                   "spec": {"asNumber": 3}}  # fmt: skip
    with pytest.raises(ApiException) as exc:
        custom.patch_cluster_custom_object(*CALICO, "bgppeers", "stale-peer", stale_patch)
    assert exc.value.status == 409
    got = custom.get_cluster_custom_object(*CALICO, "bgppeers", "stale-peer")
    assert got["spec"]["asNumber"] == 1


def test_dry_run_stores_nothing(kube: Lab, custom: kclient.CustomObjectsApi) -> None:
    before_rv, before_changes = kube.store.resource_version, len(kube.changes)
    out = custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("dry-peer"), dry_run="All")
    assert out["metadata"]["name"] == "dry-peer" and out["metadata"]["uid"]
    with pytest.raises(ApiException) as exc:
        custom.get_cluster_custom_object(*CALICO, "bgppeers", "dry-peer")
    assert exc.value.status == 404
    # a dry run still validates
    with pytest.raises(ApiException) as exc:
        custom.create_cluster_custom_object(
            *CALICO, "bgppeers", peer("dry-bad", asNumber=-1), dry_run="All"
        )
    assert exc.value.status == 422
    assert (kube.store.resource_version, len(kube.changes)) == (before_rv, before_changes)


def test_strict_field_validation_names_unknown_fields(custom: kclient.CustomObjectsApi) -> None:
    body = peer("strict-peer", foo=1, password={"secretKeyRef": {"name": "s", "key": "k",
                                                                  "bar": 2}})  # fmt: skip
    with pytest.raises(ApiException) as exc:
        custom.create_cluster_custom_object(*CALICO, "bgppeers", body, field_validation="Strict")
    assert exc.value.status == 400
    status = status_of(exc.value)
    assert status["reason"] == "BadRequest"
    assert status["message"] == (
        'BGPPeer in version "v3" cannot be handled as a BGPPeer: strict decoding error: '
        'unknown field "spec.foo", unknown field "spec.password.secretKeyRef.bar"'
    )


def test_warn_field_validation_sends_warning_header_and_drops(
    custom: kclient.CustomObjectsApi,
) -> None:
    data, code, headers = custom.create_cluster_custom_object_with_http_info(
        *CALICO, "bgppeers", peer("warn-peer", foo=1), field_validation="Warn"
    )
    assert code == 201
    assert headers.get("Warning") == '299 - "unknown field \\"spec.foo\\""'
    assert "foo" not in data["spec"]


def test_ignore_field_validation_drops_silently(custom: kclient.CustomObjectsApi) -> None:
    data, _, headers = custom.create_cluster_custom_object_with_http_info(
        *CALICO, "bgppeers", peer("ignore-peer", foo=1), field_validation="Ignore"
    )
    assert headers.get("Warning") is None
    assert "foo" not in data["spec"]


@pytest.mark.parametrize(
    ("plural", "kind", "spec", "field", "detail"),
    [
        ("bgppeers", "BGPPeer", {"peerIP": "172.21.1.300", "asNumber": 1}, "spec.peerIP",
         'Invalid value: "172.21.1.300"'),
        ("bgppeers", "BGPPeer", {"peerIP": "10.0.0.1", "asNumber": 4294967296}, "spec.asNumber",
         "Invalid value: 4294967296"),
        ("bgpconfigurations", "BGPConfiguration", {"serviceClusterIPs": [{"cidr": "10.0.0.0/33"}]},
         "spec.serviceClusterIPs[0].cidr", 'Invalid value: "10.0.0.0/33"'),
        ("bgpconfigurations", "BGPConfiguration", {"bindMode": "Any"}, "spec.bindMode",
         'Unsupported value: "Any"'),
        ("ippools", "IPPool", {"cidr": "192.168.0/16"}, "spec.cidr",
         'Invalid value: "192.168.0/16"'),
    ],
)  # fmt: skip
def test_invalid_values_are_422(
    custom: kclient.CustomObjectsApi, plural: str, kind: str, spec: dict[str, Any], field: str,
    detail: str,
) -> None:  # fmt: skip
    body = {"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": {"name": "bad-one"},
            "spec": spec}  # fmt: skip
    with pytest.raises(ApiException) as exc:
        custom.create_cluster_custom_object(*CALICO, plural, body)
    assert exc.value.status == 422
    status = status_of(exc.value)
    assert status["reason"] == "Invalid"
    assert status["message"].startswith(f'{kind}.projectcalico.org "bad-one" is invalid: {field}: ')
    assert status["details"]["kind"] == kind
    causes = status["details"]["causes"]
    assert [c["field"] for c in causes] == [field]
    assert causes[0]["message"].startswith(detail)


def test_label_and_field_selectors(kube: Lab, core: kclient.CoreV1Api) -> None:
    pods = [
        ("sel-a", "kube-worker-001", {"app": "web", "tier": "front"}),
        ("sel-b", "kube-worker-001", {"app": "db"}),
        ("sel-c", "kube-controlplane-001", {"app": "web", "legacy": "yes"}),
    ]
    for name, node, labels in pods:
        core.create_namespaced_pod(
            "default",
            {"apiVersion": "v1", "kind": "Pod",
             "metadata": {"name": name, "labels": labels},
             "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]}},
        )  # fmt: skip

    def names(**kw: str) -> list[str]:
        items = core.list_namespaced_pod("default", **kw).items
        return sorted(p.metadata.name for p in items if p.metadata.name.startswith("sel-"))

    assert names(label_selector="app=web") == ["sel-a", "sel-c"]
    assert names(label_selector="app==web,tier") == ["sel-a"]
    assert names(label_selector="app!=web") == ["sel-b"]
    assert names(label_selector="app in (db, cache)") == ["sel-b"]
    assert names(label_selector="app notin (db)") == ["sel-a", "sel-c"]
    assert names(label_selector="!legacy,app") == ["sel-a", "sel-b"]
    assert names(field_selector="spec.nodeName=kube-worker-001") == ["sel-a", "sel-b"]
    assert names(field_selector="metadata.name!=sel-a,spec.nodeName==kube-worker-001") == ["sel-b"]
    all_ns = core.list_pod_for_all_namespaces(field_selector="metadata.namespace=default")
    assert {p.metadata.name for p in all_ns.items} >= {"sel-a", "sel-b", "sel-c"}
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_pod("default", field_selector="spec.foo=bar")
    assert exc.value.status == 400
    assert "field label not supported: spec.foo" in exc.value.body
    with pytest.raises(ApiException) as exc:
        core.list_namespaced_pod("default", label_selector="app in web")
    assert exc.value.status == 400


def test_json_patch_and_namespace_checks(core: kclient.CoreV1Api) -> None:
    core.create_namespaced_config_map(
        "kube-system", {"metadata": {"name": "jp"}, "data": {"a": "1", "b": "2"}}
    )
    out = core.patch_namespaced_config_map(
        "jp", "kube-system",
        [{"op": "replace", "path": "/data/a", "value": "9"}, {"op": "remove", "path": "/data/b"},
         {"op": "add", "path": "/data/c", "value": "3"}],
    )  # fmt: skip
    assert out.data == {"a": "9", "c": "3"}
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_config_map(
            "jp", "kube-system", [{"op": "test", "path": "/data/a", "value": "1"}]
        )
    assert exc.value.status == 422
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_config_map("no-such-ns", {"metadata": {"name": "x"}})
    assert exc.value.status == 404
    assert status_of(exc.value)["message"] == 'namespaces "no-such-ns" not found'


def test_secret_holds_bgp_password(core: kclient.CoreV1Api) -> None:
    core.create_namespaced_secret(
        "calico-system",
        {"metadata": {"name": "bgp-passwords"}, "type": "Opaque", "stringData": {"peer": "x"}},
    )
    got = core.read_namespaced_secret("bgp-passwords", "calico-system")
    assert got.type == "Opaque"
    assert got.data == {"peer": "eA=="}  # stringData is folded into base64 data
    assert got.string_data is None
    core.delete_namespaced_secret("bgp-passwords", "calico-system")
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_secret("bgp-passwords", "calico-system")
    assert exc.value.status == 404
    assert status_of(exc.value)["message"] == 'secrets "bgp-passwords" not found'


def test_server_side_apply_conflict_and_force(kube: Lab, custom: kclient.CustomObjectsApi) -> None:
    custom.create_cluster_custom_object(
        *CALICO, "bgppeers", peer("ssa-peer"), field_manager="deployer"
    )
    applied = peer("ssa-peer", asNumber=65001)
    with pytest.raises(ApiException) as exc:
        custom.patch_cluster_custom_object(
            *CALICO, "bgppeers", "ssa-peer", applied, field_manager="other",
            _content_type="application/apply-patch+yaml",
        )  # fmt: skip
    assert exc.value.status == 409
    status = status_of(exc.value)
    assert status["message"] == (
        'Apply failed with 1 conflict: conflict with "deployer" using projectcalico.org/v3: '
        ".spec.asNumber"
    )
    out = custom.patch_cluster_custom_object(
        *CALICO, "bgppeers", "ssa-peer", applied, field_manager="other", force=True,
        _content_type="application/apply-patch+yaml",
    )  # fmt: skip
    assert out["spec"]["asNumber"] == 65001
    managers = {(m["manager"], m["operation"]) for m in out["metadata"]["managedFields"]}
    assert managers == {("deployer", "Update"), ("other", "Apply")}
    # the applier drops a field it applied before: it is removed from the object
    smaller = {"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
               "metadata": {"name": "ssa-peer"}, "spec": {"keepOriginalNextHop": True}}  # fmt: skip
    custom.patch_cluster_custom_object(
        *CALICO, "bgppeers", "ssa-peer", applied, field_manager="other2",
        _content_type="application/apply-patch+yaml",
    )  # fmt: skip
    out = custom.patch_cluster_custom_object(
        *CALICO, "bgppeers", "ssa-peer", smaller, field_manager="other",
        _content_type="application/apply-patch+yaml",
    )  # fmt: skip
    # asNumber is still applied by other2; peerIP is still owned by deployer
    assert out["spec"] == {"peerIP": "172.21.1.254", "asNumber": 65001,
                           "keepOriginalNextHop": True}  # fmt: skip


def test_faults_fail_the_nth_write(kube: Lab, custom: kclient.CustomObjectsApi) -> None:
    kube.store.faults.fail_on_write, kube.store.faults.status = 2, 500
    custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("fault-1"))
    custom.get_cluster_custom_object(*CALICO, "bgppeers", "fault-1")  # reads do not count
    with pytest.raises(ApiException) as exc:
        custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("fault-2"))
    assert exc.value.status == 500
    assert status_of(exc.value)["reason"] == "InternalError"
    assert kube.store.get("projectcalico.org/v3", "BGPPeer", "fault-2") is None
    custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("fault-3"))
    kube.store.faults.fail_on_write, kube.store.faults.status = 1, 409
    with pytest.raises(ApiException) as exc:
        custom.patch_cluster_custom_object(
            *CALICO, "bgppeers", "fault-1", {"spec": {"asNumber": 7}}
        )
    assert exc.value.status == 409
    assert status_of(exc.value)["reason"] == "Conflict"
    assert kube.store.faults.fail_on_write is None


def test_wrong_token_is_unauthorized(kube: Lab) -> None:
    configuration = kclient.Configuration()
    configuration.host = kube.url
    configuration.ssl_ca_cert = str(kube.lab_dir / "ca.pem")
    configuration.api_key = {"authorization": "Bearer wrong"}
    with kclient.ApiClient(configuration) as api:
        with pytest.raises(ApiException) as exc:
            kclient.CoreV1Api(api).list_namespace()
        assert exc.value.status == 401
        with pytest.raises(ApiException) as exc:  # a wrong token is refused everywhere
            kclient.VersionApi(api).get_code()
        assert exc.value.status == 401
    anonymous = kclient.Configuration()
    anonymous.host = kube.url
    anonymous.ssl_ca_cert = str(kube.lab_dir / "ca.pem")
    with kclient.ApiClient(anonymous) as api:  # no token: /version is public
        assert kclient.VersionApi(api).get_code().git_version == "v1.28.2"
        with pytest.raises(ApiException) as exc:
            kclient.CoreV1Api(api).list_namespace()
        assert exc.value.status == 401


def test_watch_streams_changes(kube: Lab, custom: kclient.CustomObjectsApi) -> None:
    listed = custom.list_cluster_custom_object(*CALICO, "bgpfilters")
    rv = listed["metadata"]["resourceVersion"]
    body = {"apiVersion": "projectcalico.org/v3", "kind": "BGPFilter",
            "metadata": {"name": "watched"},
            "spec": {"exportV4": [{"action": "Reject", "matchOperator": "In",
                                   "cidr": "10.0.0.0/8"}]}}  # fmt: skip
    custom.create_cluster_custom_object(*CALICO, "bgpfilters", body)
    custom.delete_cluster_custom_object(*CALICO, "bgpfilters", "watched")
    events = []
    for event in kwatch.Watch().stream(
        custom.list_cluster_custom_object, *CALICO, "bgpfilters", resource_version=rv,
        timeout_seconds=1,
    ):  # fmt: skip
        events.append((event["type"], event["object"]["metadata"]["name"]))
        if len(events) == 2:
            break
    assert events == [("ADDED", "watched"), ("DELETED", "watched")]


def test_persistence_survives_restart(kube: Lab, custom: kclient.CustomObjectsApi) -> None:
    custom.create_cluster_custom_object(*CALICO, "bgppeers", peer("persist-peer"))
    reopened = KubeStore(kube.lab_dir / "k8s")
    assert reopened.resource_version == kube.store.resource_version
    got = reopened.get("projectcalico.org/v3", "BGPPeer", "persist-peer")
    assert got == kube.store.get("projectcalico.org/v3", "BGPPeer", "persist-peer")
    files = list((kube.lab_dir / "k8s" / "objects").rglob("persist-peer.json"))
    assert len(files) == 1


# --------------------------------------------------------------------------- real kubectl


@pytest.fixture(scope="module")
def kubectl(kube: Lab, tmp_path_factory: pytest.TempPathFactory) -> Any:
    binary = require_tool("kubectl")
    cache = tmp_path_factory.mktemp("kubectl-cache")

    def run(*args: str, stdin: str | None = None, check: bool = True) -> str:
        proc = subprocess.run(
            [binary, "--kubeconfig", str(kube.kubeconfig), "--cache-dir", str(cache), *args],
            input=stdin, capture_output=True, text=True, timeout=60,
            env={**os.environ, "HOME": str(cache)},
        )  # fmt: skip
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout + proc.stderr

    return run


def test_kubectl_apply_get_delete_seed(kube: Lab, kubectl: Any) -> None:
    out = kubectl("apply", "-f", "-", stdin=SEED_YAML)
    assert "bgpconfiguration.projectcalico.org/default created" in out
    assert "bgppeer.projectcalico.org/global-peer created" in out
    assert "unchanged" in kubectl("apply", "-f", "-", stdin=SEED_YAML)

    table = kubectl("get", "bgppeers", "global-peer").splitlines()
    assert table[0].split() == ["NAME", "CREATED", "AT"]
    assert table[1].split()[0] == "global-peer"

    got = yaml.safe_load(kubectl("get", "bgpconfigurations", "default", "-o", "yaml"))
    seed_config = next(yaml.safe_load_all(SEED_YAML))
    assert got["spec"] == seed_config["spec"]

    stored = kube.store.get("projectcalico.org/v3", "BGPPeer", "global-peer")
    assert stored is not None and stored["spec"] == {"peerIP": "172.21.1.254", "asNumber": 65535}

    out = kubectl("delete", "-f", "-", stdin=SEED_YAML)
    assert 'bgppeer.projectcalico.org "global-peer" deleted' in out
    assert kube.store.get("projectcalico.org/v3", "BGPPeer", "global-peer") is None


def test_kubectl_server_dry_run_changes_nothing(kube: Lab, kubectl: Any) -> None:
    rv = kube.store.resource_version
    out = kubectl("apply", "--dry-run=server", "-f", "-", stdin=SEED_YAML.replace("default", "dry"))
    assert "bgpconfiguration.projectcalico.org/dry created (server dry run)" in out
    assert kube.store.get("projectcalico.org/v3", "BGPConfiguration", "dry") is None
    assert kube.store.resource_version == rv


def test_kubectl_strict_validation_and_invalid(kubectl: Any) -> None:
    bad_field = SEED_YAML.replace("peerIP: 172.21.1.254", "peerIP: 172.21.1.254\n  foo: 1")
    out = kubectl("apply", "-f", "-", stdin=bad_field.replace("global-peer", "k-strict"),
                  check=False)  # fmt: skip
    assert 'strict decoding error: unknown field "spec.foo"' in out
    bad_value = SEED_YAML.replace("asNumber: 65535\n", "asNumber: 99999999999\n")
    out = kubectl("apply", "-f", "-", stdin=bad_value.replace("global-peer", "k-invalid"),
                  check=False)  # fmt: skip
    assert 'BGPPeer.projectcalico.org "k-invalid" is invalid: spec.asNumber' in out


def test_kubectl_server_side_apply(kube: Lab, kubectl: Any) -> None:
    doc = SEED_YAML.replace("global-peer", "ssa-kubectl")
    out = kubectl("apply", "--server-side", "-f", "-", stdin=doc)
    assert "bgppeer.projectcalico.org/ssa-kubectl serverside-applied" in out
    stored = kube.store.get("projectcalico.org/v3", "BGPPeer", "ssa-kubectl")
    assert stored is not None
    assert stored["metadata"]["managedFields"][0]["manager"] == "kubectl"
    kubectl("delete", "bgppeer", "ssa-kubectl")


def test_kubectl_tables_for_pods_and_services(kube: Lab, kubectl: Any) -> None:
    kube.store.put(
        {"apiVersion": "v1", "kind": "Pod",
         "metadata": {"name": "coredns-5dd5756b68-abcde", "namespace": "kube-system"},
         "spec": {"nodeName": "kube-worker-001",
                  "containers": [{"name": "coredns", "image": "coredns:v1.10.1"}]},
         "status": {"phase": "Running", "podIP": "192.168.181.6",
                    "containerStatuses": [{"name": "coredns", "ready": True,
                                           "restartCount": 0}]}}
    )  # fmt: skip
    kube.store.put(
        {"apiVersion": "v1", "kind": "Service",
         "metadata": {"name": "kube-dns", "namespace": "kube-system"},
         "spec": {"type": "ClusterIP", "clusterIP": "192.16.0.10",
                  "selector": {"k8s-app": "kube-dns"},
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP"}]}}
    )  # fmt: skip
    pods = kubectl("get", "pods", "-A", "-o", "wide").splitlines()
    assert pods[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP",
                               "NODE", "NOMINATED", "NODE", "READINESS", "GATES"]  # fmt: skip
    row = next(line.split() for line in pods if "coredns" in line)
    assert row[:5] == ["kube-system", "coredns-5dd5756b68-abcde", "1/1", "Running", "0"]
    assert row[6:10] == ["192.168.181.6", "kube-worker-001", "<none>", "<none>"]

    svcs = kubectl("get", "svc", "-A", "-o", "wide").splitlines()
    assert svcs[0].split() == ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP",
                               "PORT(S)", "AGE", "SELECTOR"]  # fmt: skip
    row = next(line.split() for line in svcs if "kube-dns" in line)
    assert row[:6] == ["kube-system", "kube-dns", "ClusterIP", "192.16.0.10", "<none>",
                       "53/UDP,53/TCP"]  # fmt: skip
    assert row[7] == "k8s-app=kube-dns"


def test_kubectl_client_side_apply_of_a_service_merges_ports(kube: Lab, kubectl: Any) -> None:
    svc = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: default
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, protocol: TCP}
  - {name: https, port: 443, protocol: TCP}
"""
    kubectl("apply", "-f", "-", stdin=svc)
    out = kubectl("apply", "-f", "-", stdin=svc.replace("port: 80,", "port: 8080,"))
    assert "service/web configured" in out
    stored = kube.store.get("v1", "Service", "web", "default")
    assert stored is not None
    assert stored["spec"]["ports"] == [
        {"name": "http", "port": 8080, "protocol": "TCP"},
        {"name": "https", "port": 443, "protocol": "TCP"},
    ]
    kubectl("delete", "-f", "-", stdin=svc)
    assert kube.store.get("v1", "Service", "web", "default") is None


def _versioned_kubectls() -> list[str]:
    """Other kubectl minor versions installed next to the default one (gcloud SDK layout)."""
    path = shutil.which("kubectl")
    if path is None:
        return []
    found = sorted(
        Path(os.path.realpath(path)).parent.glob("kubectl.1.*"),
        key=lambda p: int(p.name.rsplit(".", 1)[1]),
    )
    picked = (
        {found[0], found[-1], *(p for p in found if p.name == "kubectl.1.32")} if found else set()
    )
    return sorted(str(p) for p in picked)


@pytest.mark.parametrize("binary", _versioned_kubectls() or ["none"], ids=lambda p: Path(p).name)
def test_kubectl_versions_apply(kube: Lab, binary: str, tmp_path: Path) -> None:
    """kubectl <= 1.2x validates via /openapi/v2 (protobuf), later ones via /openapi/v3."""
    if binary == "none":
        pytest.skip("no versioned kubectl binaries next to kubectl (gcloud SDK layout only)")
    doc = SEED_YAML.replace("global-peer", "versions-peer").replace("default", "versions-config")
    base = [binary, "--kubeconfig", str(kube.kubeconfig), "--cache-dir", str(tmp_path)]
    env = {**os.environ, "HOME": str(tmp_path)}
    dry = subprocess.run([*base, "apply", "--dry-run=server", "-f", "-"], input=doc, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert "bgppeer.projectcalico.org/versions-peer created (server dry run)" in dry.stdout
    bad = subprocess.run([*base, "apply", "-f", "-"], input=doc.replace("asNumber: 65535\n",
                         "asNumber: 65535\n  bogus: 1\n"), env=env, capture_output=True,
                         text=True, timeout=60)  # fmt: skip
    assert bad.returncode != 0
    assert 'unknown field "spec.bogus"' in bad.stderr
    assert kube.store.get("projectcalico.org/v3", "BGPPeer", "versions-peer") is None


# --------------------------------------------------------------------------- batch/v1

CRON_JOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "nightly-check"},
    "spec": {
        "schedule": "0 6 * * 1-5",
        "timeZone": "Europe/Paris",
        "concurrencyPolicy": "Forbid",
        "jobTemplate": {
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "fabric", "image": "fabric-netops:1.0"}],
                    }
                },
            }
        },
    },
}


def _job(name: str, **template_spec: Any) -> dict[str, Any]:
    pod_spec = {
        "restartPolicy": "Never",
        "containers": [{"name": "c", "image": "busybox"}],
        **template_spec,
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {"template": {"spec": pod_spec}},
    }


def test_cron_job_and_job_roundtrip_with_defaults(kube: Lab) -> None:
    with kube.api_client() as api:
        batch = kclient.BatchV1Api(api)
        made = batch.create_namespaced_cron_job("default", CRON_JOB)
        assert made.spec.schedule == "0 6 * * 1-5" and made.spec.time_zone == "Europe/Paris"
        # the client's values stay, the server fills in the rest
        assert made.spec.concurrency_policy == "Forbid"
        assert (made.spec.suspend, made.spec.successful_jobs_history_limit) == (False, 3)
        assert made.spec.failed_jobs_history_limit == 1
        container = made.spec.job_template.spec.template.spec.containers[0]
        assert container.image_pull_policy == "IfNotPresent"
        assert made.metadata.namespace == "default" and made.metadata.uid
        listed = batch.list_namespaced_cron_job("default").items
        assert [c.metadata.name for c in listed] == ["nightly-check"]

        job = batch.create_namespaced_job("default", _job("once"))
        assert (job.spec.completions, job.spec.parallelism, job.spec.backoff_limit) == (1, 1, 6)
        assert job.spec.completion_mode == "NonIndexed"
        assert job.spec.template.spec.containers[0].image_pull_policy == "Always"
        assert batch.read_namespaced_job("once", "default").metadata.uid == job.metadata.uid
        stored = kube.store.get("batch/v1", "Job", "once", "default")
        assert stored is not None and stored["spec"]["backoffLimit"] == 6

        out = batch.delete_namespaced_job("once", "default")
        assert out["kind"] == "Status" and out["status"] == "Success"
        assert kube.store.get("batch/v1", "Job", "once", "default") is None
        batch.delete_namespaced_cron_job("nightly-check", "default")
        assert batch.list_namespaced_cron_job("default").items == []


@pytest.mark.parametrize(
    ("kind", "body", "field", "reason"),
    [
        ("CronJob", {"schedule": "61 * *"}, "spec.schedule", "FieldValueInvalid"),
        ("CronJob", {"schedule": "TZ=UTC 0 6 * * *"}, "spec.schedule", "FieldValueInvalid"),
        ("CronJob", {"timeZone": "Mars/Olympus"}, "spec.timeZone", "FieldValueInvalid"),
        ("CronJob", {"concurrencyPolicy": "Sometimes"}, "spec.concurrencyPolicy",
         "FieldValueNotSupported"),
        ("Job", {"restartPolicy": "Always"}, "spec.template.spec.restartPolicy",
         "FieldValueNotSupported"),
        ("Job", {"containers": []}, "spec.template.spec.containers", "FieldValueRequired"),
    ],
)  # fmt: skip
def test_invalid_batch_objects_are_422(
    kube: Lab, kind: str, body: dict[str, Any], field: str, reason: str
) -> None:
    if kind == "CronJob":
        obj = json.loads(json.dumps(CRON_JOB))
        obj["metadata"]["name"] = "bad-cron"
        obj["spec"].update(body)
    else:
        obj = _job("bad-job", **body)
    with kube.api_client() as api, pytest.raises(ApiException) as exc:
        batch = kclient.BatchV1Api(api)
        create = (
            batch.create_namespaced_cron_job if kind == "CronJob" else batch.create_namespaced_job
        )
        create("default", obj)
    assert exc.value.status == 422
    causes = status_of(exc.value)["details"]["causes"]
    assert [(c["field"], c["reason"]) for c in causes] == [(field, reason)]
    assert kube.store.list("batch/v1", kind) == []


def test_unknown_job_spec_field_is_rejected_by_strict_validation(kube: Lab, kubectl: Any) -> None:
    obj = _job("strict-job")
    obj["spec"]["retries"] = 3
    out = kubectl("apply", "-f", "-", stdin=yaml.safe_dump(obj), check=False)
    assert 'strict decoding error: unknown field "spec.retries"' in out
    assert kube.store.get("batch/v1", "Job", "strict-job", "default") is None


def test_kubectl_lists_batch_resources(kubectl: Any) -> None:
    names = kubectl("api-resources", "--api-group=batch", "-o", "name").split()
    assert names == ["cronjobs.batch", "jobs.batch"]
    out = kubectl("apply", "-f", "-", stdin=yaml.safe_dump(CRON_JOB))
    assert "cronjob.batch/nightly-check created" in out
    assert "unchanged" in kubectl("apply", "-f", "-", stdin=yaml.safe_dump(CRON_JOB))
    assert 'cronjob.batch "nightly-check" deleted' in kubectl("delete", "cronjob", "nightly-check")


# --------------------------------------------------------------------------- DELETE


def _pod(name: str, node: str | None = "kube-worker-001") -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


@pytest.fixture
def events(kube: Lab) -> Iterator[list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []

    def record(event: str, obj: dict[str, Any]) -> None:
        seen.append((event, f"{obj['kind']}/{obj['metadata']['name']}"))

    kube.store.add_watcher(record)
    yield seen
    kube.store.remove_watcher(record)


def test_delete_pod_answers_with_the_terminating_pod(
    kube: Lab, core: kclient.CoreV1Api, events: list[tuple[str, str]]
) -> None:
    core.create_namespaced_pod("default", _pod("del-graceful"))
    out = core.delete_namespaced_pod("del-graceful", "default")  # no _preload_content=False
    assert isinstance(out, kclient.V1Pod)
    assert out.metadata.name == "del-graceful" and out.metadata.deletion_grace_period_seconds == 30
    assert out.metadata.deletion_timestamp is not None
    assert kube.store.get("v1", "Pod", "del-graceful", "default") is None
    assert events[-2:] == [("MODIFIED", "Pod/del-graceful"), ("DELETED", "Pod/del-graceful")]

    core.create_namespaced_pod("default", _pod("del-now"))
    out = core.delete_namespaced_pod("del-now", "default", grace_period_seconds=0)
    assert out.metadata.name == "del-now" and out.metadata.deletion_timestamp is None
    assert events[-1] == ("DELETED", "Pod/del-now")

    core.create_namespaced_pod("default", _pod("del-dry"))
    out = core.delete_namespaced_pod("del-dry", "default", dry_run="All")
    assert out.metadata.deletion_timestamp is not None
    assert kube.store.get("v1", "Pod", "del-dry", "default") is not None
    core.delete_namespaced_pod("del-dry", "default")


def test_unscheduled_pod_is_deleted_immediately(kube: Lab, core: kclient.CoreV1Api) -> None:
    core.create_namespaced_pod("default", _pod("del-pending", node=None))
    out = core.delete_namespaced_pod("del-pending", "default")
    assert out.metadata.name == "del-pending" and out.metadata.deletion_timestamp is None
    assert kube.store.get("v1", "Pod", "del-pending", "default") is None


def test_delete_service_returns_it_and_config_map_returns_status(
    kube: Lab, core: kclient.CoreV1Api
) -> None:
    svc = {"metadata": {"name": "del-svc"}, "spec": {"ports": [{"port": 80}]}}
    uid = core.create_namespaced_service("default", svc).metadata.uid
    out = core.delete_namespaced_service("del-svc", "default")
    assert isinstance(out, kclient.V1Service) and out.metadata.uid == uid
    core.create_namespaced_config_map("default", {"metadata": {"name": "del-cm"}})
    status = core.delete_namespaced_config_map("del-cm", "default")
    assert status["status"] == "Success"
    assert status["details"] == {
        "name": "del-cm",
        "kind": "configmaps",
        "uid": status["details"]["uid"],
    }


def test_finalizers_hold_the_object_until_removed(kube: Lab, core: kclient.CoreV1Api) -> None:
    cm = {"metadata": {"name": "del-fin", "finalizers": ["example.com/keep"]}, "data": {"a": "1"}}
    core.create_namespaced_config_map("default", cm)
    out = core.delete_namespaced_config_map("del-fin", "default")
    assert out["kind"] == "ConfigMap" and out["metadata"]["deletionTimestamp"]
    held = core.read_namespaced_config_map("del-fin", "default")
    assert held.metadata.deletion_timestamp is not None and held.data == {"a": "1"}
    core.patch_namespaced_config_map("del-fin", "default", {"metadata": {"finalizers": None}})
    assert kube.store.get("v1", "ConfigMap", "del-fin", "default") is None


def test_delete_namespace_is_terminating_and_takes_its_content(
    kube: Lab, core: kclient.CoreV1Api
) -> None:
    core.create_namespace({"metadata": {"name": "del-ns"}})
    core.create_namespaced_config_map("del-ns", {"metadata": {"name": "inside"}})
    out = core.delete_namespace("del-ns")
    assert out["kind"] == "Namespace" and out["status"]["phase"] == "Terminating"
    assert out["metadata"]["deletionTimestamp"]
    assert kube.store.get("v1", "Namespace", "del-ns") is None
    assert kube.store.get("v1", "ConfigMap", "inside", "del-ns") is None


def test_kubectl_delete_pod_waits_for_it(kube: Lab, kubectl: Any) -> None:
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(_pod("del-kubectl")))
    out = kubectl("delete", "pod", "del-kubectl", "--timeout=20s")
    assert 'pod "del-kubectl" deleted' in out
    assert kube.store.get("v1", "Pod", "del-kubectl", "default") is None
