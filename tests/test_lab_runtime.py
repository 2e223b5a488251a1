"""The lab runtime end to end: real clients (pyeapi, napalm, kubernetes, paramiko) on loopback."""

from __future__ import annotations

import json
import stat
import time
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
    result: list[Any] = node.run_commands(list(cmds), encoding=fmt)
    return result


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


def test_fixture_points_state_and_lab_dir_away_from_the_checkout(lab: Any) -> None:
    import os

    from fabric.paths import ProjectPaths

    root = Path(__file__).resolve().parent.parent
    state = Path(os.environ["FABRIC_STATE_DIR"])
    assert not state.is_relative_to(root) and state.is_dir()
    assert ProjectPaths.discover(root=root).state == state.resolve()
    assert Path(os.environ["FABRIC_LAB_DIR"]) == Path(lab.lab_dir)


def test_fixture_env_is_restored(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from fabric.lab.pytest_plugin import _Labs

    monkeypatch.setenv("FABRIC_STATE_DIR", "/somewhere/else")
    monkeypatch.delenv("FABRIC_LAB_DIR", raising=False)
    labs = _Labs(tmp_path_factory)
    assert os.environ["FABRIC_STATE_DIR"] != "/somewhere/else"
    os.environ["FABRIC_LAB_DIR"] = "/tmp/a-lab"  # as make() does
    labs.close()
    assert os.environ["FABRIC_STATE_DIR"] == "/somewhere/else"
    assert "FABRIC_LAB_DIR" not in os.environ


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


# --------------------------------------------------------------------------- seeded lab


def _summary(lab: Any, host: str = "eos-tor-001") -> dict[str, Any]:
    peers: dict[str, Any] = _eapi(lab, host, "show ip bgp summary")[0]["vrfs"]["default"]["peers"]
    return peers


def test_seeded_switch_summary_and_routes_over_eapi(seeded_lab: Any) -> None:
    peers = _summary(seeded_lab)
    assert {a: (p["peerState"], p["prefixReceived"]) for a, p in peers.items()} == {
        "172.21.1.8": ("Established", 2),
        "172.21.1.18": ("Established", 4),  # block, service CIDR, coredns 192.168.45.65/66
    }
    text = _eapi(seeded_lab, "eos-tor-001", "show ip route", fmt="text")[0]["output"]
    assert " B I      192.168.170.0/24 [200/0]" in text or "B I" in text
    assert "192.168.181.0/24" in text and "via 172.21.1.18, Vlan3002" in text
    assert "192.16.0.0/12" in text and "via 172.21.1.8, Vlan3002" in text


def test_napalm_eos_driver_reads_the_seeded_switch(seeded_lab: Any) -> None:
    from napalm import get_network_driver

    ep = seeded_lab.endpoints["hosts"]["eos-tor-001"]
    dev = get_network_driver("eos")(
        ep["hostname"],
        ep["username"],
        ep["password"],
        optional_args={
            "transport": "https",
            "port": ep["port"],
            "ca_file": seeded_lab.endpoints["ca_file"],
        },
    )
    dev.open()
    try:
        facts = dev.get_facts()
        assert facts["hostname"] == "eos-tor-001"
        assert facts["os_version"].startswith("4.30.3M")
        text = dev.cli(["show ip bgp summary"])["show ip bgp summary"]
        rows = {line.split()[0]: line.split() for line in text.splitlines() if "Estab" in line}
        assert set(rows) == {"172.21.1.8", "172.21.1.18"}
        assert rows["172.21.1.18"][-2:] == ["4", "4"]
        # A change through napalm's config session moves the simulation.
        dev.load_merge_candidate(config="router bgp 65535\n   neighbor 172.21.1.8 shutdown\n")
        assert "+   neighbor 172.21.1.8 shutdown" in dev.compare_config()
        dev.commit_config()
        assert _summary(seeded_lab)["172.21.1.8"]["peerState"] == "Idle"
        assert "start" in seeded_lab.node_status_text("kube-controlplane-001")
        dev.rollback()
        assert _summary(seeded_lab)["172.21.1.8"]["peerState"] == "Established"
    finally:
        dev.close()


def _kube(lab: Any) -> Any:
    from kubernetes import client, config

    ep = lab.endpoints["hosts"]["k8s-cluster"]
    api = config.new_client_from_config(config_file=ep["kubeconfig"], context=ep["context"])
    return client, api


def test_kubernetes_client_changes_the_simulation(seeded_lab: Any) -> None:
    client, api = _kube(seeded_lab)
    custom = client.CustomObjectsApi(api)
    try:
        peers = custom.list_cluster_custom_object("projectcalico.org", "v3", "bgppeers")
        assert [p["metadata"]["name"] for p in peers["items"]] == ["global-peer"]
        custom.delete_cluster_custom_object("projectcalico.org", "v3", "bgppeers", "global-peer")
        assert _summary(seeded_lab)["172.21.1.8"]["peerState"] == "Active"
        assert "global" not in seeded_lab.node_status_text("kube-worker-001")
        body = {
            "apiVersion": "projectcalico.org/v3",
            "kind": "BGPPeer",
            "metadata": {"name": "global-peer"},
            "spec": {"peerIP": "172.21.1.254", "asNumber": 65535},
        }
        custom.create_cluster_custom_object("projectcalico.org", "v3", "bgppeers", body)
        assert _summary(seeded_lab)["172.21.1.8"]["peerState"] == "Established"
    finally:
        api.close()


def test_deleting_coredns_recreates_it_inside_the_blocks(lab_factory: Any) -> None:
    lab = lab_factory(seeded=True)
    client, api = _kube(lab)
    core = client.CoreV1Api(api)
    try:
        for name in ("coredns-5dd5756b68-7v6jr", "coredns-5dd5756b68-rmnk2"):
            core.delete_namespaced_pod(name, "kube-system")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pods = [
                p
                for p in lab.cluster_objects("Pod")
                if p["metadata"]["name"].startswith("coredns-")
            ]
            if len(pods) == 2 and all(p["status"].get("podIP") for p in pods):
                break
            time.sleep(0.05)
        by_node = {p["spec"]["nodeName"]: p["status"]["podIP"] for p in pods}
        # The write-up: 192.168.181.6 on the worker, 192.168.170.4 on the control plane.
        assert by_node == {
            "kube-worker-001": "192.168.181.6",
            "kube-controlplane-001": "192.168.170.4",
        }
        assert all(p["metadata"]["name"] not in ("coredns-5dd5756b68-7v6jr",) for p in pods)
        peers = _summary(lab)
        assert (peers["172.21.1.8"]["prefixReceived"], peers["172.21.1.18"]["prefixReceived"]) == (
            2,
            2,
        )
        # A new pod pinned by node affinity gets the next address of that node's block.
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "test-1", "namespace": "default"},
            "spec": {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": "kubernetes.io/hostname",
                                            "operator": "In",
                                            "values": ["kube-controlplane-001"],
                                        }
                                    ]
                                }
                            ]
                        }
                    }
                },
                "containers": [{"name": "test-1", "image": "busybox"}],
            },
        }
        core.create_namespaced_pod("default", pod)
        deadline = time.monotonic() + 5
        ip = None
        while time.monotonic() < deadline and ip is None:
            got = core.read_namespaced_pod("test-1", "default")
            ip = got.status.pod_ip if got.status else None
            time.sleep(0.05)
        assert ip == "192.168.170.5"
    finally:
        api.close()


def test_state_survives_down_and_up(tmp_path: Path) -> None:
    from fabric.lab.runtime import LabRuntime
    from fabric.paths import ProjectPaths

    paths = ProjectPaths.discover()
    first = LabRuntime(paths, tmp_path / "lab", fresh=True, seeded=True)
    first.start()
    try:
        first.delete_object("BGPPeer", "global-peer")
        first.load_switch_config(
            "eos-tor-001",
            first.switch_running_config("eos-tor-001").replace(
                "\nend\n", "\nhostname tor-renamed\n"
            ),
        )
    finally:
        first.stop()
    assert not (tmp_path / "lab" / "endpoints.json").exists()
    again = LabRuntime(paths, tmp_path / "lab", fresh=False)
    again.start()
    try:
        assert "hostname tor-renamed" in again.switch_running_config("eos-tor-001")
        assert again.cluster_objects("BGPPeer") == []
        assert again.cluster_objects("BGPConfiguration")[0]["spec"]["asNumber"] == 65535
        assert (
            again.endpoints["hosts"]["eos-tor-001"]["password"]
            == first.endpoints["hosts"]["eos-tor-001"]["password"]
        )
    finally:
        again.stop()
    fresh = LabRuntime(paths, tmp_path / "lab", fresh=True)
    fresh.start()
    try:
        assert "router bgp" not in fresh.switch_running_config("eos-tor-001")
        assert fresh.cluster_objects("BGPConfiguration") == []
    finally:
        fresh.stop()
