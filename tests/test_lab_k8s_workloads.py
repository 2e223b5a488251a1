"""Workloads, events and endpoints of the lab's cluster, read with the real ``kubectl``.

One fresh lab of the project inventory (the write-up's pods) serves the module: kubectl lists
the Deployments, DaemonSets and ReplicaSets that own the pods, the events the lab records, the
services' Endpoints and EndpointSlices; ``kubectl describe`` of a pod, a deployment and a node
works; a deleted coredns pod is replaced by its ReplicaSet, with the events that say so.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest
from conftest import require_tool

from fabric.lab.k8s import controllers

pytestmark = pytest.mark.lab

CLUSTER = "k8s-cluster"
WORKER = "kube-worker-001"


def _kubectl(lab: Any, *args: str) -> str:
    kubectl = require_tool("kubectl")
    ep = lab.endpoints["hosts"][CLUSTER]
    res = subprocess.run(
        [kubectl, "--kubeconfig", ep["kubeconfig"], *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def _rows(text: str) -> list[list[str]]:
    """kubectl's table output split into columns (headers first)."""
    return [line.split() for line in text.strip().splitlines()]


# (kubectl get args, header, a row that must be there: first cells)
LISTINGS = [
    (
        ["get", "deployments", "-n", "kube-system"],
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["coredns", "2/2", "2", "2"],
    ),
    (
        ["get", "replicasets", "-n", "kube-system"],
        ["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        ["coredns-5dd5756b68", "2", "2", "2"],
    ),
    (
        ["get", "daemonsets", "-n", "calico-system"],
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE",
            "SELECTOR",
            "AGE",
        ],
        ["calico-node", "2", "2", "2", "2", "2", "<none>"],
    ),
    (
        ["get", "ds", "-n", "kube-system", "-o", "wide"],
        [
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE",
            "SELECTOR",
            "AGE",
            "CONTAINERS",
            "IMAGES",
            "SELECTOR",
        ],
        ["kube-proxy", "2", "2", "2", "2", "2", "<none>"],
    ),
    (
        ["get", "endpoints", "-n", "kube-system"],
        ["NAME", "ENDPOINTS", "AGE"],
        ["kube-dns", "192.168.45.65:53,192.168.45.66:53,192.168.45.65:53", "+", "3", "more..."],
    ),
    (
        ["get", "endpointslices", "-n", "kube-system"],
        ["NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE"],
        ["IPv4", "53,53,9153", "192.168.45.65,192.168.45.66"],
    ),
]


@pytest.mark.parametrize(
    ("args", "header", "row"), LISTINGS, ids=[" ".join(a) for a, _h, _r in LISTINGS]
)
def test_kubectl_lists(lab: Any, args: list[str], header: list[str], row: list[str]) -> None:
    rows = _rows(_kubectl(lab, *args))
    assert rows[0] == header
    if row[0] == "IPv4":  # slice names end in a generated suffix
        assert any(r[1 : 1 + len(row)] == row and r[0].startswith("kube-dns-") for r in rows[1:])
    else:
        assert any(r[: len(row)] == row for r in rows[1:]), rows


def test_apiserver_endpoints_are_the_control_plane(lab: Any) -> None:
    control_plane = next(
        n
        for n in lab.cluster_objects("Node", "v1")
        if "node-role.kubernetes.io/control-plane" in n["metadata"]["labels"]
    )
    ip = next(
        a["address"] for a in control_plane["status"]["addresses"] if a["type"] == "InternalIP"
    )
    rows = _rows(_kubectl(lab, "get", "endpoints", "kubernetes"))
    assert rows[1][:2] == ["kubernetes", f"{ip}:6443"]
    rows = _rows(_kubectl(lab, "get", "endpointslices", "kubernetes"))
    assert rows[1][:4] == ["kubernetes", "IPv4", "6443", ip]


def test_owners_chain_from_pod_to_deployment(lab: Any) -> None:
    pods = lab.cluster_objects("Pod")
    replica_sets = lab.cluster_objects("ReplicaSet", "apps/v1")
    deployments = lab.cluster_objects("Deployment", "apps/v1")
    coredns = [p for p in pods if p["metadata"]["name"].startswith("coredns-")]
    assert len(coredns) == 2
    for pod in coredns:
        ref = controllers.controller_of(pod)
        assert ref is not None
        rs = next(r for r in replica_sets if r["metadata"]["name"] == ref["name"])
        assert ref["uid"] == rs["metadata"]["uid"]
        dep_ref = controllers.controller_of(rs)
        assert dep_ref is not None
        dep = next(d for d in deployments if d["metadata"]["name"] == dep_ref["name"])
        assert dep_ref["uid"] == dep["metadata"]["uid"] and dep["metadata"]["name"] == "coredns"
    # every ReplicaSet or DaemonSet a pod names exists
    owners = {
        (r["kind"], p["metadata"]["namespace"], r["name"])
        for p in pods
        for r in p["metadata"].get("ownerReferences") or []
        if r["kind"] != "Node"
    }
    known = {
        (o["kind"], o["metadata"]["namespace"], o["metadata"]["name"])
        for kind in ("ReplicaSet", "DaemonSet")
        for o in lab.cluster_objects(kind, "apps/v1")
    }
    assert owners == known


def test_describe_deployment_and_node(lab: Any) -> None:
    dep = _kubectl(lab, "describe", "deployment", "coredns", "-n", "kube-system")
    assert "Replicas:               2 desired | 2 updated | 2 total | 2 available" in dep
    assert "NewReplicaSet:   coredns-5dd5756b68 (2/2 replicas created)" in dep
    node = _kubectl(lab, "describe", "node", WORKER)
    assert f"Name:               {WORKER}" in node
    assert "coredns-5dd5756b68-" in node  # the non-terminated pods on the node


def test_deleted_coredns_pod_is_replaced_with_events(lab: Any) -> None:
    before = {
        p["metadata"]["name"]
        for p in lab.cluster_objects("Pod")
        if p["metadata"]["name"].startswith("coredns-")
    }
    victim = min(before)
    _kubectl(lab, "delete", "pod", victim, "-n", "kube-system")
    deadline = time.monotonic() + 10
    while True:
        names = [
            p["metadata"]["name"]
            for p in lab.cluster_objects("Pod")
            if p["metadata"]["name"].startswith("coredns-5dd5756b68-")
        ]
        if len(names) == 2 and victim not in names:
            break
        assert time.monotonic() < deadline, names
        time.sleep(0.05)
    (new,) = set(names) - before  # the replacement, whatever its random suffix sorts as
    events = json.loads(_kubectl(lab, "get", "events", "-n", "kube-system", "-o", "json"))
    seen = {
        (e["involvedObject"]["kind"], e["involvedObject"]["name"], e["reason"], e["message"])
        for e in events["items"]
    }
    assert ("ReplicaSet", "coredns-5dd5756b68", "SuccessfulCreate", f"Created pod: {new}") in seen
    assert ("Pod", victim, "Killing", "Stopping container coredns") in seen
    node = next(
        p["spec"]["nodeName"] for p in lab.cluster_objects("Pod") if p["metadata"]["name"] == new
    )
    assert (
        "Pod",
        new,
        "Scheduled",
        f"Successfully assigned kube-system/{new} to {node}",
    ) in seen
    # the same events in the events.k8s.io API, and in kubectl's table and describe
    modern = json.loads(
        _kubectl(lab, "get", "events.v1.events.k8s.io", "-n", "kube-system", "-o", "json")
    )
    assert {(e["regarding"]["name"], e["reason"]) for e in modern["items"]} >= {
        (new, "Scheduled"),
        (victim, "Killing"),
    }
    table = _kubectl(lab, "get", "events", "-n", "kube-system")
    assert _rows(table)[0] == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert f"replicaset/coredns-5dd5756b68   Created pod: {new}" in table
    described = _kubectl(lab, "describe", "pod", new, "-n", "kube-system")
    assert "Controlled By:  ReplicaSet/coredns-5dd5756b68" in described
    assert f"Successfully assigned kube-system/{new} to {node}" in described
    assert "Started container coredns" in described
    # the endpoints follow: the new pod's address replaces the deleted one's
    ips = {
        p["status"]["podIP"]
        for p in lab.cluster_objects("Pod")
        if p["metadata"]["name"].startswith("coredns-5dd5756b68-")
    }
    endpoints = next(
        e for e in lab.cluster_objects("Endpoints") if e["metadata"]["name"] == "kube-dns"
    )
    assert {a["ip"] for a in endpoints["subsets"][0]["addresses"]} == ips
