"""Every lab fault, seen through the real clients."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from fabric.errors import UsageError

pytestmark = pytest.mark.lab


def _node(lab: Any, transport: str = "http") -> Any:
    import pyeapi

    ep = lab.endpoints["hosts"]["eos-tor-001"]
    return pyeapi.connect(
        transport=transport,
        host=ep["hostname"],
        port=ep["http_port"] if transport == "http" else ep["port"],
        username=ep["username"],
        password=ep["password"],
        return_node=True,
        timeout=10,
    )


def _states(lab: Any) -> dict[str, str]:
    peers = _node(lab).enable("show ip bgp summary")[0]["result"]["vrfs"]["default"]["peers"]
    return {a: p["peerState"] for a, p in peers.items()}


@pytest.fixture(autouse=True)
def _clear(seeded_lab: Any) -> Any:
    yield
    seeded_lab.clear_faults()


@pytest.mark.parametrize("host", ["eos-tor-001", "kube-worker-001"])
def test_link_down_leaves_established_and_clear_restores(seeded_lab: Any, host: str) -> None:
    assert set(_states(seeded_lab).values()) == {"Established"}
    seeded_lab.fault(host, "link-down")
    states = _states(seeded_lab)
    if host == "eos-tor-001":
        assert states == {"172.21.1.8": "Connect", "172.21.1.18": "Connect"}
    else:
        assert states == {"172.21.1.8": "Established", "172.21.1.18": "Connect"}
    assert "Connect" in seeded_lab.node_status_text("kube-worker-001")
    seeded_lab.clear_faults(host)
    assert set(_states(seeded_lab).values()) == {"Established"}


def test_latency_delays_every_reply(seeded_lab: Any) -> None:
    node = _node(seeded_lab)
    seeded_lab.fault("eos-tor-001", "latency", ms=300)
    t0 = time.perf_counter()
    node.enable("show version")
    assert time.perf_counter() - t0 >= 0.3
    seeded_lab.clear_faults("eos-tor-001")
    t0 = time.perf_counter()
    node.enable("show version")
    assert time.perf_counter() - t0 < 0.3


def test_eapi_fail_on_the_nth_matching_call(seeded_lab: Any) -> None:
    import pyeapi.eapilib

    node = _node(seeded_lab)
    seeded_lab.fault("eos-tor-001", "eapi-fail", count=2, status="eapi", match="show version")
    node.enable("show hostname")  # does not match: not counted
    node.enable("show version")  # 1st match
    with pytest.raises(pyeapi.eapilib.CommandError):
        node.enable("show version")  # 2nd match fails
    node.enable("show version")  # one-shot
    seeded_lab.fault("eos-tor-001", "eapi-fail", count=1, status="http500")
    with pytest.raises((pyeapi.eapilib.ConnectionError, pyeapi.eapilib.CommandError)):
        node.enable("show version")


@pytest.mark.parametrize(
    ("host", "port_key"),
    [("eos-tor-001", "port"), ("kube-worker-001", "port"), ("k8s-cluster", "port")],
)
def test_refuse_closes_the_listener(seeded_lab: Any, host: str, port_key: str) -> None:
    ep = seeded_lab.endpoints["hosts"][host]
    seeded_lab.fault(host, "refuse")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((ep["hostname"], ep[port_key]), timeout=2).close()
    assert seeded_lab.faults() == {host: {"refuse": {}}}
    seeded_lab.clear_faults(host)
    socket.create_connection((ep["hostname"], ep[port_key]), timeout=2).close()


@pytest.mark.parametrize("status", [409, 500])
def test_k8s_fail_on_the_nth_write(seeded_lab: Any, status: int) -> None:
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException

    ep = seeded_lab.endpoints["hosts"]["k8s-cluster"]
    api = config.new_client_from_config(config_file=ep["kubeconfig"], context=ep["context"])
    custom = client.CustomObjectsApi(api)
    body = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "BGPPeer",
        "metadata": {"name": f"p{status}"},
        "spec": {"peerIP": "172.21.1.253", "asNumber": 65535},
    }
    try:
        seeded_lab.fault("k8s-cluster", "k8s-fail", count=1, status=status)
        with pytest.raises(ApiException) as err:
            custom.create_cluster_custom_object("projectcalico.org", "v3", "bgppeers", body)
        assert err.value.status == status
        custom.create_cluster_custom_object("projectcalico.org", "v3", "bgppeers", body)
        custom.delete_cluster_custom_object("projectcalico.org", "v3", "bgppeers", f"p{status}")
    finally:
        api.close()


@pytest.mark.parametrize(
    ("host", "kind", "message"),
    [
        ("nope", "link-down", "unknown lab host"),
        ("eos-tor-001", "explode", "unknown fault"),
        ("k8s-cluster", "bird-down", "applies to node hosts"),
        ("eos-tor-001", "k8s-fail", "applies to cluster hosts"),
        ("eos-tor-001", "withhold-route", "applies to node hosts"),
        ("kube-worker-001", "withhold-route", "needs an IPv4 prefix"),
    ],
)
def test_bad_faults_are_usage_errors(seeded_lab: Any, host: str, kind: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        seeded_lab.fault(host, kind)


def test_withhold_route_drops_one_prefix_while_sessions_stay_up(seeded_lab: Any) -> None:
    node = _node(seeded_lab)

    def counts() -> dict[str, tuple[str, int]]:
        peers = node.enable("show ip bgp summary")[0]["result"]["vrfs"]["default"]["peers"]
        return {a: (p["peerState"], p["prefixReceived"]) for a, p in peers.items()}

    def routes() -> set[str]:
        out = node.enable("show ip route")[0]["result"]["vrfs"]["default"]["routes"]
        return set(out)

    before, before_routes = counts(), routes()
    assert "192.168.181.0/24" in before_routes
    seeded_lab.fault("kube-worker-001", "withhold-route", prefix="192.168.181.0/24")
    assert seeded_lab.faults() == {
        "kube-worker-001": {"withhold-route": {"prefixes": ["192.168.181.0/24"]}}
    }
    after = counts()
    assert after["172.21.1.8"] == before["172.21.1.8"]
    assert after["172.21.1.18"] == ("Established", before["172.21.1.18"][1] - 1)
    assert routes() == before_routes - {"192.168.181.0/24"}
    text = node.enable("show ip route", encoding="text")[0]["result"]["output"]
    assert "192.168.181.0/24" not in text and "192.168.170.0/24" in text
    node_peers = seeded_lab.node_bgp_view("kube-worker-001").ipv4_peers
    assert node_peers and {(p.state, p.info) for p in node_peers} == {("up", "Established")}
    seeded_lab.clear_faults()
    assert counts() == before and routes() == before_routes
