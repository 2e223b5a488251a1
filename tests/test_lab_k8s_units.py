"""Unit tests of the lab Kubernetes API's pieces (no server): selectors, patches, server-side
apply, validation, tables, the store and the OpenAPI v2 protobuf document."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from fabric.lab.k8s import KubeStore, resources, selectors, tables, validation
from fabric.lab.k8s.openapi import openapi_v2_protobuf, openapi_v3_document
from fabric.lab.k8s.patch import (
    ApplyConflictError,
    PatchError,
    json_patch,
    merge_patch,
    read_managers,
    server_side_apply,
    strategic_merge_patch,
    track_update,
)

# --------------------------------------------------------------------------- selectors

LABELS = {"app": "web", "tier": "front", "rank": "3"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("app in (db, web)", True),
        ("app in (db)", False),
        ("app notin (db)", True),
        ("missing notin (db)", True),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("app=web,tier=front", True),
        ("app=web, tier=back", False),
        ("rank>2", True),
        ("rank<3", False),
    ],
)
def test_label_selector(selector: str, expected: bool) -> None:
    reqs = selectors.parse_label_selector(selector)
    assert selectors.match_labels(reqs, LABELS) is expected


@pytest.mark.parametrize("bad", ["app in web", "a=b=c", "=x", "rank>x"])
def test_label_selector_errors(bad: str) -> None:
    with pytest.raises(selectors.SelectorError):
        selectors.parse_label_selector(bad)


def test_field_selector_and_supported_fields() -> None:
    pod = {"metadata": {"name": "p", "namespace": "kube-system"}, "spec": {"nodeName": "n1"}}
    reqs = selectors.parse_field_selector("spec.nodeName=n1,metadata.namespace!=default")
    selectors.check_fields(reqs, "Pod")
    assert selectors.match_fields(reqs, pod)
    assert not selectors.match_fields(selectors.parse_field_selector("metadata.name==q"), pod)
    with pytest.raises(selectors.SelectorError, match=r"field label not supported: spec\.nodeName"):
        selectors.check_fields(reqs, "BGPPeer")


# --------------------------------------------------------------------------- patches


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": 1}, {"a": None}, {}),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": None, "d": 3}}, {"a": {"c": 2, "d": 3}}),
        ({"a": [1, 2]}, {"a": [3]}, {"a": [3]}),
        ({"a": 1}, {"b": {"c": None}}, {"a": 1, "b": {}}),
    ],
)
def test_merge_patch(target: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(target, patch) == expected


def test_json_patch_operations_and_errors() -> None:
    doc = {"spec": {"list": [1, 2], "a": "x"}}
    out = json_patch(
        doc,
        [
            {"op": "add", "path": "/spec/list/-", "value": 3},
            {"op": "add", "path": "/spec/list/0", "value": 0},
            {"op": "copy", "from": "/spec/a", "path": "/spec/b"},
            {"op": "move", "from": "/spec/a", "path": "/spec/c"},
            {"op": "test", "path": "/spec/c", "value": "x"},
            {"op": "replace", "path": "/spec/b", "value": "y"},
            {"op": "remove", "path": "/spec/list/1"},
        ],
    )
    assert out == {"spec": {"list": [0, 2, 3], "b": "y", "c": "x"}}
    assert doc == {"spec": {"list": [1, 2], "a": "x"}}  # the input is not modified
    for bad in (
        [{"op": "remove", "path": "/spec/nope"}],
        [{"op": "replace", "path": "/nope/x", "value": 1}],
        [{"op": "test", "path": "/spec/a", "value": "z"}],
        [{"op": "frob", "path": "/spec"}],
        {"op": "add"},
    ):
        with pytest.raises(PatchError):
            json_patch(doc, bad)


def test_strategic_merge_patch_as_kubectl_sends_it() -> None:
    svc = {"spec": {"selector": {"app": "web"}, "ports": [
        {"name": "http", "port": 80, "protocol": "TCP"},
        {"name": "https", "port": 443, "protocol": "TCP"}]}}  # fmt: skip
    patch = {"spec": {
        "$setElementOrder/ports": [{"port": 8080}, {"port": 443}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"},
                  {"$patch": "delete", "port": 80}]}}  # fmt: skip
    out = strategic_merge_patch(svc, patch)
    assert out["spec"]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"},
                                    {"name": "https", "port": 443, "protocol": "TCP"}]  # fmt: skip
    pod = {"spec": {"containers": [{"name": "a", "image": "x", "ports": [{"containerPort": 1}]},
                                   {"name": "b", "image": "y"}]},
           "metadata": {"finalizers": ["f1", "f2"]}}  # fmt: skip
    patch = {"spec": {"containers": [{"name": "a", "image": "x2",
                                      "ports": [{"containerPort": 2}]}]},
             "metadata": {"$deleteFromPrimitiveList/finalizers": ["f1"]}}  # fmt: skip
    out = strategic_merge_patch(pod, patch)
    assert out["spec"]["containers"] == [
        {"name": "a", "image": "x2", "ports": [{"containerPort": 1}, {"containerPort": 2}]},
        {"name": "b", "image": "y"},
    ]
    assert out["metadata"]["finalizers"] == ["f2"]
    assert strategic_merge_patch({"a": {"b": 1, "c": 2}}, {"a": {"$patch": "replace", "d": 3}}) == {
        "a": {"d": 3}
    }


def _peer(**spec: Any) -> dict[str, Any]:
    return {"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
            "metadata": {"name": "p"}, "spec": spec}  # fmt: skip


def test_server_side_apply_ownership() -> None:
    live = track_update(None, _peer(peerIP="10.0.0.1", asNumber=1), "deploy")
    # same values: no conflict, shared ownership
    out = server_side_apply(live, _peer(peerIP="10.0.0.1"), "ops", force=False)
    owners = {m.manager: m.paths for m in read_managers(out)}
    assert owners == {"deploy": {("spec", "peerIP"), ("spec", "asNumber")},
                      "ops": {("spec", "peerIP")}}  # fmt: skip
    # a different value conflicts, naming manager and field
    with pytest.raises(ApplyConflictError) as exc:
        server_side_apply(out, _peer(asNumber=2), "ops", force=False)
    assert exc.value.conflicts == [("deploy", "projectcalico.org/v3", ".spec.asNumber")]
    # two conflicts are listed per manager
    with pytest.raises(ApplyConflictError) as exc:
        server_side_apply(out, _peer(asNumber=2, peerIP="10.0.0.2"), "ops2", force=False)
    assert str(exc.value).splitlines() == [
        "Apply failed with 3 conflicts:",
        ' conflicts with "deploy" using projectcalico.org/v3:',
        "- .spec.asNumber",
        "- .spec.peerIP",
        ' conflicts with "ops" using projectcalico.org/v3:',
        "- .spec.peerIP",
    ]
    # force takes the field
    forced = server_side_apply(out, _peer(asNumber=2), "ops", force=True)
    owners = {m.manager: m.paths for m in read_managers(forced)}
    assert owners["deploy"] == {("spec", "peerIP")}
    assert owners["ops"] == {("spec", "asNumber")}
    assert forced["spec"] == {"peerIP": "10.0.0.1", "asNumber": 2}
    # dropping an applied field that nobody else owns removes it
    dropped = server_side_apply(forced, _peer(keepOriginalNextHop=True), "ops", force=False)
    assert dropped["spec"] == {"peerIP": "10.0.0.1", "keepOriginalNextHop": True}


def test_track_update_moves_changed_fields() -> None:
    live = server_side_apply(None, _peer(peerIP="10.0.0.1", asNumber=1), "kubectl", force=False)
    changed = json.loads(json.dumps(live))
    changed["spec"]["asNumber"] = 5
    out = track_update(live, changed, "editor")
    owners = {(m.manager, m.operation): m.paths for m in read_managers(out)}
    assert owners == {("kubectl", "Apply"): {("spec", "peerIP")},
                      ("editor", "Update"): {("spec", "asNumber")}}  # fmt: skip


# --------------------------------------------------------------------------- validation

SEED_CONFIG = {
    "apiVersion": "projectcalico.org/v3",
    "kind": "BGPConfiguration",
    "metadata": {"name": "default"},
    "spec": {
        "logSeverityScreen": "Info", "nodeToNodeMeshEnabled": True,
        "nodeMeshMaxRestartTime": "120s", "asNumber": 65535,
        "serviceClusterIPs": [{"cidr": "192.16.0.0/12"}], "listenPort": 178, "bindMode": "None",
        "communities": [{"name": "bgp-large-community", "value": "65535:300:100"}],
        "prefixAdvertisements": [{"cidr": "192.168.0.0/16",
                                  "communities": ["bgp-large-community", "65535:120"]}],
    },
}  # fmt: skip


def _rtype(kind: str) -> resources.ResourceType:
    rtype = resources.by_kind("projectcalico.org/v3", kind)
    assert rtype is not None
    return rtype


def test_seed_objects_are_valid_and_known() -> None:
    rtype = _rtype("BGPConfiguration")
    assert validation.validate(rtype, SEED_CONFIG) == []
    assert resources.unknown_fields(SEED_CONFIG, rtype.schema()) == []
    peer = _peer(peerIP="172.21.1.254", asNumber=65535)
    assert validation.validate(_rtype("BGPPeer"), peer) == []


@pytest.mark.parametrize(
    ("kind", "spec", "field"),
    [
        ("BGPConfiguration", {"asNumber": -1}, "spec.asNumber"),
        ("BGPConfiguration", {"asNumber": "65536.1"}, "spec.asNumber"),
        ("BGPConfiguration", {"listenPort": 70000}, "spec.listenPort"),
        ("BGPConfiguration", {"logSeverityScreen": "Loud"}, "spec.logSeverityScreen"),
        ("BGPConfiguration", {"nodeMeshMaxRestartTime": "2 min"}, "spec.nodeMeshMaxRestartTime"),
        ("BGPConfiguration", {"communities": [{"name": "c", "value": "1:2:3:4"}]},
         "spec.communities[0].value"),
        ("BGPConfiguration", {"prefixAdvertisements": [{"cidr": "10.0.0.0/8",
                                                        "communities": ["undefined"]}]},
         "spec.prefixAdvertisements[0].communities[0]"),
        ("BGPPeer", {"peerIP": "10.0.0.1:99999", "asNumber": 1}, "spec.peerIP"),
        ("BGPPeer", {"peerIP": "10.0.0.1", "asNumber": 1, "sourceAddress": "Any"},
         "spec.sourceAddress"),
        ("BGPPeer", {"peerIP": "10.0.0.1"}, "spec.asNumber"),
        ("BGPPeer", {"peerIP": "10.0.0.1", "asNumber": 1, "password": {"secretKeyRef": {}}},
         "spec.password.secretKeyRef.name"),
        ("IPPool", {"cidr": "10.0.0.0/8", "blockSize": 8}, "spec.blockSize"),
        ("Node", {"bgp": {"ipv4Address": "10.0.0.1/40"}}, "spec.bgp.ipv4Address"),
        ("BlockAffinity", {"node": "n", "cidr": "10.0.0.0/24", "state": "odd"}, "spec.state"),
        ("BGPFilter", {"exportV4": [{"cidr": "10.0.0.0/8", "matchOperator": "In"}]},
         "spec.exportV4[0].action"),
    ],
)  # fmt: skip
def test_invalid_values(kind: str, spec: dict[str, Any], field: str) -> None:
    obj = {"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": {"name": "x"},
           "spec": spec}  # fmt: skip
    errors = validation.validate(_rtype(kind), obj)
    assert field in [e.field for e in errors]


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("Pod", {"spec": {}}, "spec.containers"),
        ("Pod", {"spec": {"containers": [{"name": "a"}]}}, "spec.containers[0].image"),
        ("Service", {"spec": {"ports": [{"port": 70000}]}}, "spec.ports[0].port"),
        ("Service", {"spec": {"type": "ClusterIP"}}, "spec.ports"),
        ("Secret", {"data": {"k": "not base64!"}}, "data[k]"),
    ],
)
def test_invalid_core_objects(kind: str, body: dict[str, Any], field: str) -> None:
    rtype = resources.by_kind("v1", kind)
    assert rtype is not None
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}, **body}
    assert field in [e.field for e in validation.validate(rtype, obj)]
    if kind == "Secret":  # a secret's value never appears in an error
        assert "not base64" not in " ".join(str(e) for e in validation.validate(rtype, obj))


def test_invalid_name() -> None:
    errs = validation.validate(_rtype("BGPPeer"), {**_peer(peerIP="1.1.1.1", asNumber=1),
                                                   "metadata": {"name": "Bad_Name"}})  # fmt: skip
    assert [str(e) for e in errs] == [
        'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist '
        "of lower case alphanumeric characters, '-' or '.', and must start and end with an "
        "alphanumeric character"
    ]


def test_unknown_and_dropped_fields() -> None:
    obj = {**SEED_CONFIG, "extra": 1,
           "spec": {**SEED_CONFIG["spec"], "communities": [{"name": "a", "value": "1:2",
                                                            "bogus": True}]}}  # fmt: skip
    schema = _rtype("BGPConfiguration").schema()
    assert sorted(resources.unknown_fields(obj, schema)) == ["extra", "spec.communities[0].bogus"]
    dropped = resources.drop_fields(obj, schema)
    assert resources.unknown_fields(dropped, schema) == []
    assert isinstance(dropped, dict) and dropped["spec"]["communities"] == [
        {"name": "a", "value": "1:2"}
    ]


# --------------------------------------------------------------------------- tables


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(-5, "<invalid>"), (0, "0s"), (119, "119s"), (120, "2m"), (185, "3m5s"), (600, "10m"),
     (3 * 3600, "3h"), (3 * 3600 + 120, "3h2m"), (30 * 3600, "30h"), (50 * 3600, "2d2h"),
     (10 * 86400, "10d"), (800 * 86400, "2y70d"), (9 * 365 * 86400, "9y")],
)  # fmt: skip
def test_human_duration(seconds: int, text: str) -> None:
    assert tables.human_duration(seconds) == text


def test_pod_table_row() -> None:
    finished = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pod = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default",
                     "creationTimestamp": "2020-01-01T00:00:00Z"},
        "spec": {"nodeName": "n1", "containers": [{"name": "a"}, {"name": "b"}]},
        "status": {"phase": "Running", "podIP": "192.168.1.5", "containerStatuses": [
            {"name": "a", "ready": True, "restartCount": 2,
             "lastState": {"terminated": {"finishedAt": finished}}},
            {"name": "b", "ready": False, "restartCount": 0,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        ]},
    }  # fmt: skip
    table = tables.to_table("v1", "Pod", [pod], "7")
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert [c["priority"] for c in table["columnDefinitions"]][5:] == [1, 1, 1, 1]
    cells = table["rows"][0]["cells"]
    assert cells[:4] == ["web", "1/2", "CrashLoopBackOff", "2 (5m ago)"]
    assert cells[5:] == ["192.168.1.5", "n1", "<none>", "<none>"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


# --------------------------------------------------------------------------- store


def test_store_writes_and_no_ops(tmp_path: Path) -> None:
    calls: list[int] = []
    store = KubeStore(tmp_path, on_change=lambda: calls.append(1))
    assert store.get("v1", "Namespace", "kube-system") is not None
    first = store.put(_peer(peerIP="10.0.0.1", asNumber=1))
    assert first["metadata"]["generation"] == 1 and len(calls) == 1
    again = store.put(_peer(peerIP="10.0.0.1", asNumber=1))
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert len(calls) == 1
    second = store.put(_peer(peerIP="10.0.0.1", asNumber=2))
    assert second["metadata"]["generation"] == 2
    assert second["metadata"]["uid"] == first["metadata"]["uid"]
    # reads are copies
    got = store.get("projectcalico.org/v3", "BGPPeer", "p")
    assert got is not None
    got["spec"]["asNumber"] = 99
    assert store.get("projectcalico.org/v3", "BGPPeer", "p") == second
    assert not list(tmp_path.rglob("*.tmp"))


def test_store_namespace_delete_cascades_and_restart_keeps_rv(tmp_path: Path) -> None:
    store = KubeStore(tmp_path)
    store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    store.put({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "c", "namespace": "team"}})  # fmt: skip
    store.put({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    assert [o["metadata"]["namespace"] for o in store.list("v1", "ConfigMap")] == [
        "default",
        "team",
    ]
    assert store.delete("v1", "Namespace", "team")
    assert not store.delete("v1", "Namespace", "team")
    assert [o["metadata"]["namespace"] for o in store.list("v1", "ConfigMap")] == ["default"]
    reopened = KubeStore(tmp_path)
    assert reopened.resource_version == store.resource_version
    assert reopened.list("v1", "ConfigMap") == store.list("v1", "ConfigMap")
    assert reopened.get("v1", "ConfigMap", "c", "team") is None


# --------------------------------------------------------------------------- OpenAPI


def _decode(data: bytes) -> list[tuple[int, Any]]:
    """A generic protobuf wire decoder: (field, varint or bytes) pairs."""
    out: list[tuple[int, Any]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(data):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            out.append((field, varint()))
        elif wire == 2:
            n = varint()
            out.append((field, data[i : i + n]))
            i += n
        else:
            raise AssertionError(f"unexpected wire type {wire}")
    return out


def _first(msg: bytes, field: int) -> bytes:
    return next(v for f, v in _decode(msg) if f == field)


def test_openapi_v2_declares_field_validation_per_kind() -> None:
    doc = openapi_v2_protobuf("v1.28.2")
    assert _first(doc, 1) == b"2.0"
    found: dict[str, tuple[str, list[str]]] = {}
    for field, path in _decode(_first(doc, 8)):  # Paths.path (NamedPathItem)
        assert field == 2
        name = _first(path, 1).decode()
        patch = _first(_first(path, 2), 8)  # PathItem.patch
        ext = _first(patch, 13)  # Operation.vendor_extension
        assert _first(ext, 1) == b"x-kubernetes-group-version-kind"
        gvk = _first(_first(ext, 2), 2).decode()  # Any.yaml
        params = [
            _first(_first(_first(_first(p, 1), 2), 3), 4).decode()  # ...QueryParameter.name
            for f, p in _decode(patch) if f == 8
        ]  # fmt: skip
        found[name] = (gvk, params)
    gvk, params = found["/apis/projectcalico.org/v3/bgppeers/{name}"]
    assert gvk == 'group: "projectcalico.org"\nkind: BGPPeer\nversion: v3\n'
    assert "fieldValidation" in params
    assert "/api/v1/namespaces/{namespace}/pods/{name}" in found
    assert len(found) == len(resources.RESOURCES)


def test_openapi_v3_document() -> None:
    doc = openapi_v3_document("projectcalico.org", "v3", "v1.28.2")
    patch = doc["paths"]["/apis/projectcalico.org/v3/bgpconfigurations/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "projectcalico.org", "version": "v3", "kind": "BGPConfiguration"
    }  # fmt: skip
    assert {"name": "fieldValidation", "in": "query",
            "schema": {"type": "string", "uniqueItems": True}} in patch["parameters"]  # fmt: skip
