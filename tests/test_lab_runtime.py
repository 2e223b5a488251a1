"""The lab runtime end to end: real clients (pyeapi, napalm, kubernetes, paramiko) on loopback."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.lab


def _eapi(lab: Any, host: str, *cmds: str, fmt: str = "json") -> list[Any]:
    import pyeapi

    ep = lab.endpoints["hosts"][host]
    node = pyeapi.connect(
        transport="http",
        host=ep["hostname"],
        port=ep["http_port"],
        username=ep["username"],
        password=ep["password"],
        return_node=True,
    )
    return [r["result"] for r in node.run_commands(list(cmds), encoding=fmt)]


def test_endpoints_file_written_private_and_loopback(lab: Any) -> None:
    f = Path(lab.lab_dir) / "endpoints.json"
    data = json.loads(f.read_text())
    assert data == lab.endpoints
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert set(data["hosts"]) == {
        "eos-tor-001",
        "kube-controlplane-001",
        "kube-worker-001",
        "k8s-cluster",
    }
    addrs = [h["hostname"] for h in data["hosts"].values()]
    assert len(set(addrs)) == len(addrs)
    assert all(a.startswith("127.") for a in addrs)
    assert data["hosts"]["eos-tor-001"]["kind"] == "switch"
    assert Path(data["hosts"]["k8s-cluster"]["kubeconfig"]).is_file()
    creds = Path(lab.lab_dir) / "credentials.json"
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600


def test_fresh_lab_has_no_bgp(lab: Any) -> None:
    assert "router bgp" not in lab.switch_running_config("eos-tor-001")
    assert lab.cluster_objects("BGPPeer") == []
    assert lab.cluster_objects("BGPConfiguration") == []
    names = {p["metadata"]["name"] for p in lab.cluster_objects("Pod")}
    assert "coredns-5dd5756b68-7v6jr" in names
    blocks = {b["spec"]["node"]: b["spec"]["cidr"] for b in lab.cluster_objects("BlockAffinity")}
    assert blocks == {
        "kube-controlplane-001": "192.168.170.0/24",
        "kube-worker-001": "192.168.181.0/24",
    }


def test_fresh_lab_node_shows_only_the_mesh(lab: Any) -> None:
    text = lab.node_status_text("kube-controlplane-001")
    assert "| 172.21.0.18  | node-to-node mesh | up    |" in text
    assert "global" not in text
