"""The write-up replayed by hand on a fresh lab: eAPI config + ``kubectl apply``, then its outputs.

The write-up's outputs (collapsed whitespace, as published) and the lab's are parsed with the
project's parsers and compared as structure; timestamps, uptimes and counters are not compared.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool

from fabric.lab.seed import SEED_CALICO_YAML, SEED_SWITCH_BODY
from fabric.parsing import parse

pytestmark = pytest.mark.lab

# From the write-up (after the global peer; calicoctl on kube-controlplane-001 / kube-worker-001).
WRITEUP_NODE_STATUS = {
    "kube-controlplane-001": """Calico process is running.
IPv4 BGP status
+--------------+-------------------+-------+----------+-------------+
| PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO |
+--------------+-------------------+-------+----------+-------------+
| 172.21.0.18 | node-to-node mesh | up | 07:27:41 | Established |
| 172.21.1.254 | global | up | 07:33:10 | Established |
+--------------+-------------------+-------+----------+-------------+
IPv6 BGP status
No IPv6 peers found.
""",
    "kube-worker-001": """Calico process is running.
IPv4 BGP status
+--------------+-------------------+-------+----------+-------------+
| PEER ADDRESS | PEER TYPE | STATE | SINCE | INFO |
+--------------+-------------------+-------+----------+-------------+
| 172.21.0.8 | node-to-node mesh | up | 07:27:41 | Established |
| 172.21.1.254 | global | up | 07:33:10 | Established |
+--------------+-------------------+-------+----------+-------------+
IPv6 BGP status
No IPv6 peers found.
""",
}
WRITEUP_BGP_SUMMARY = """BGP summary information for VRF default
Router identifier 1.1.1.1, local AS number 65535
Neighbor Status Codes: m - Under maintenance
Neighbor V AS MsgRcvd MsgSent InQ OutQ Up/Down State PfxRcd PfxAcc
172.21.1.8 4 65535 16 15 0 0 00:09:28 Estab 3 3
172.21.1.18 4 65535 16 15 0 0 00:09:26 Estab 3 3
"""
#: The write-up's BGP routes (its Ethernet2 uplink routes are outside the seed's config).
WRITEUP_BGP_ROUTES = {
    ("192.16.0.0/12", "B I", "172.21.1.8", "Vlan3002"),
    ("192.168.170.0/24", "B I", "172.21.1.8", "Vlan3002"),
    ("192.168.181.0/24", "B I", "172.21.1.18", "Vlan3002"),
}


def _eapi(lab: Any) -> Any:
    import pyeapi

    ep = lab.endpoints["hosts"]["eos-tor-001"]
    return pyeapi.connect(
        transport="http",
        host=ep["hostname"],
        port=ep["http_port"],
        username=ep["username"],
        password=ep["password"],
        return_node=True,
    )


def _kubectl(lab: Any, *args: str, stdin: str | None = None) -> str:
    kubectl = require_tool("kubectl")
    ep = lab.endpoints["hosts"]["k8s-cluster"]
    res = subprocess.run(
        [kubectl, "--kubeconfig", ep["kubeconfig"], *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    return res.stdout


def _peers(text: str) -> list[tuple[str, str, str, str]]:
    model = parse("calico", "calicoctl node status", text).model_dump(mode="json")
    return [
        (p["peer_address"], p["peer_type"], p["state"], p["info"]) for p in model["ipv4"]["peers"]
    ]


def _summary(text: str) -> dict[str, tuple[int, str]]:
    model = parse("arista_eos", "show ip bgp summary", text).model_dump(mode="json")
    return {p["neighbor"]: (p["remote_as"], p["state"]) for p in model["vrfs"]["default"]["peers"]}


def _bgp_routes(text: str) -> set[tuple[str, str, str, str]]:
    model = parse("arista_eos", "show ip route", text).model_dump(mode="json")
    return {
        (r["prefix"], r["code"], nh["address"], nh["interface"])
        for r in model["vrfs"]["default"]["routes"]
        if r["code"].startswith("B")
        for nh in r["next_hops"]
    }


@pytest.fixture(scope="module")
def replayed(lab_factory: Any) -> Any:
    lab = lab_factory()
    lines = [ln.strip() for ln in SEED_SWITCH_BODY.splitlines() if ln.strip() not in ("", "!")]
    _eapi(lab).config(lines)
    out = _kubectl(lab, "apply", "--validate=false", "-f", "-", stdin=SEED_CALICO_YAML)
    assert "bgpconfiguration.projectcalico.org/default created" in out
    assert "bgppeer.projectcalico.org/global-peer created" in out
    return lab


@pytest.mark.parametrize("node", ["kube-controlplane-001", "kube-worker-001"])
def test_node_status_matches_the_write_up(replayed: Any, node: str) -> None:
    assert _peers(replayed.node_status_text(node)) == _peers(WRITEUP_NODE_STATUS[node])


def test_switch_summary_matches_the_write_up(replayed: Any) -> None:
    text = _eapi(replayed).run_commands(["show ip bgp summary"], encoding="text")[0]["output"]
    assert _summary(text) == _summary(WRITEUP_BGP_SUMMARY)


def test_routes_match_the_write_up_after_the_coredns_fix(replayed: Any) -> None:
    node = _eapi(replayed)
    before = _bgp_routes(node.run_commands(["show ip route"], encoding="text")[0]["output"])
    assert before == WRITEUP_BGP_ROUTES | {
        ("192.168.45.65/32", "B I", "172.21.1.18", "Vlan3002"),
        ("192.168.45.66/32", "B I", "172.21.1.18", "Vlan3002"),
    }
    out = _kubectl(
        replayed,
        "delete",
        "pods",
        "-n",
        "kube-system",
        "coredns-5dd5756b68-7v6jr",
        "coredns-5dd5756b68-rmnk2",
    )
    assert 'pod "coredns-5dd5756b68-7v6jr" deleted' in out
    deadline = time.monotonic() + 5
    after: set[tuple[str, str, str, str]] = set()
    while time.monotonic() < deadline:
        after = _bgp_routes(node.run_commands(["show ip route"], encoding="text")[0]["output"])
        if after == WRITEUP_BGP_ROUTES:
            break
        time.sleep(0.05)
    assert after == WRITEUP_BGP_ROUTES
    pods = _kubectl(replayed, "get", "pods", "-n", "kube-system", "-o", "wide")
    assert "192.168.181.6" in pods and "192.168.170.4" in pods


def test_kubectl_get_and_delete_of_the_seed_yaml(replayed: Any, tmp_path: Path) -> None:
    out = _kubectl(replayed, "get", "bgppeers.projectcalico.org", "-o", "name")
    assert out.split() == ["bgppeer.projectcalico.org/global-peer"]
    f = tmp_path / "seed.yaml"
    f.write_text(SEED_CALICO_YAML)
    _kubectl(replayed, "delete", "-f", str(f))
    assert "global" not in replayed.node_status_text("kube-worker-001")
    _kubectl(replayed, "apply", "-f", str(f))  # client-side validation against /openapi/v2
    assert "global" in replayed.node_status_text("kube-worker-001")
