"""A table of bad inventories, each a mutation of the shipped seed inventory.

Every case asserts the exact issue (file, host, field, code) from the library, the same file,
host and field in the CLI's message, exit code 2 for both ``validate`` and ``run render``, that
nothing was rendered, and that no connection (nor name lookup) was attempted.
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.cli import main
from fabric.errors import ValidationError
from fabric.intent import ERROR_CODES, check_inventory
from fabric.paths import ProjectPaths

REPO = Path(__file__).resolve().parent.parent
SEED = {
    name: yaml.safe_load((REPO / "inventory" / f"{name}.yaml").read_text())
    for name in ("hosts", "groups", "defaults")
}
SEED_TEXT = (REPO / "inventory" / "hosts.yaml").read_text()

Inv = dict[str, Any]
Mutation = Callable[[Inv], "Inv | str | None"]

H, G, D = "inventory/hosts.yaml", "inventory/groups.yaml", "inventory/defaults.yaml"
CP, WK, CL, SW = "kube-controlplane-001", "kube-worker-001", "k8s-cluster", "eos-tor-001"


def node(inv: Inv, name: str = WK) -> dict[str, Any]:
    return inv["hosts"][name]["data"]["node"]  # type: ignore[no-any-return]


def cal(inv: Inv) -> dict[str, Any]:
    return inv["hosts"][CL]["data"]["calico"]  # type: ignore[no-any-return]


def sw(inv: Inv, name: str = SW) -> dict[str, Any]:
    return inv["hosts"][name]["data"]["switch"]  # type: ignore[no-any-return]


def second_switch(inv: Inv, **extra: Any) -> None:
    """Add eos-tor-002 (AS 65535, 172.21.2.254/24) to the seed."""
    data = copy.deepcopy(inv["hosts"][SW])
    data["hostname"] = "172.21.0.31"
    data["data"]["switch"].update(
        {"router_id": "1.1.1.2", "svi": "172.21.2.254/24", "management_vrf": None}, **extra
    )
    inv["hosts"]["eos-tor-002"] = data


def text(old: str, new: str) -> Mutation:
    """A mutation of the hosts.yaml text (for YAML-level problems)."""

    def mutate(_: Inv) -> str:
        assert old in SEED_TEXT
        return SEED_TEXT.replace(old, new, 1)

    return mutate


def do(fn: Callable[[Inv], Any]) -> Mutation:
    def mutate(inv: Inv) -> None:
        fn(inv)

    return mutate


def set_(getter: Callable[[Inv], dict[str, Any]], key: str, value: Any) -> Mutation:
    return do(lambda inv: getter(inv).__setitem__(key, value))


def peer0(inv: Inv) -> dict[str, Any]:
    return cal(inv)["peers"][0]  # type: ignore[no-any-return]


def two_switches_worker_moved(inv: Inv) -> None:
    second_switch(inv)
    node(inv).update({"bgp_ip": "172.21.2.18", "tor": "eos-tor-002"})


def two_switches_no_tor(inv: Inv) -> None:
    second_switch(inv)
    del node(inv)["tor"]


# (id, mutation, (file, host, field, code))
def host_data(host: str, key: str, value: Any) -> Mutation:
    def mutate(inv: Inv) -> None:
        inv["hosts"][host]["data"][key] = value

    return mutate


def group_data(group: str, key: str, value: Any) -> Mutation:
    def mutate(inv: Inv) -> None:
        inv["groups"][group].setdefault("data", {})[key] = value

    return mutate


CASES: list[tuple[str, Mutation, tuple[str, str, str, str]]] = [
    # --- invalid values
    (
        "node-access-unknown",
        host_data(WK, "node_access", "telnet"),
        (H, WK, "data.node_access", "invalid-value"),
    ),
    (
        "node-access-in-group",
        group_data("calico_nodes", "node_access", "kubectl"),
        (G, "calico_nodes", "data.node_access", "invalid-value"),
    ),
    (
        "calico-api-unknown",
        host_data(CL, "calico_api", "v1"),
        (H, CL, "data.calico_api", "invalid-value"),
    ),
    (
        "ip-bad-octet",
        set_(node, "bgp_ip", "172.21.1.300"),
        (H, WK, "data.node.bgp_ip", "invalid-ip"),
    ),
    ("ip-integer", set_(node, "mgmt_ip", 12), (H, WK, "data.node.mgmt_ip", "invalid-ip")),
    ("svi-no-prefix", set_(sw, "svi", "172.21.1.254"), (H, SW, "data.switch.svi", "invalid-ip")),
    (
        "router-id-bad",
        set_(sw, "router_id", "1.1.1"),
        (H, SW, "data.switch.router_id", "invalid-ip"),
    ),
    (
        "cidr-host-bits",
        set_(cal, "pod_cidr", "192.168.0.1/16"),
        (H, CL, "data.calico.pod_cidr", "invalid-cidr"),
    ),
    (
        "cidr-no-prefix",
        set_(cal, "service_cluster_cidrs", ["10.96.0.0"]),
        (H, CL, "data.calico.service_cluster_cidrs.0", "invalid-cidr"),
    ),
    (
        "asn-too-big",
        set_(cal, "as_number", 4294967296),
        (H, CL, "data.calico.as_number", "invalid-asn"),
    ),
    (
        "asn-text",
        set_(peer0, "as_number", "65x"),
        (H, CL, "data.calico.peers.0.as_number", "invalid-asn"),
    ),
    ("asn-bool", set_(sw, "asn", True), (H, SW, "data.switch.asn", "invalid-asn")),
    (
        "asn-node-negative",
        set_(node, "as_number", -1),
        (H, WK, "data.node.as_number", "invalid-asn"),
    ),
    (
        "vlan-4095",
        set_(sw, "peering_vlan", 4095),
        (H, SW, "data.switch.peering_vlan", "invalid-vlan"),
    ),
    ("vlan-0", set_(sw, "peering_vlan", 0), (H, SW, "data.switch.peering_vlan", "invalid-vlan")),
    ("version-float", set_(cal, "version", 3.3), (H, CL, "data.calico.version", "invalid-version")),
    (
        "peer-name-upper",
        set_(peer0, "name", "Global_Peer"),
        (H, CL, "data.calico.peers.0.name", "invalid-name"),
    ),
    (
        "community-out-of-range",
        do(lambda inv: cal(inv)["communities"][0].update(value="65535:300:4294967296")),
        (H, CL, "data.calico.communities.0.value", "invalid-community"),
    ),
    # --- unknown keys, structure
    (
        "unknown-node-key",
        set_(node, "bgp_addr", "172.21.1.18"),
        (H, WK, "data.node.bgp_addr", "unknown-key"),
    ),
    ("unknown-calico-key", set_(cal, "mesh", True), (H, CL, "data.calico.mesh", "unknown-key")),
    (
        "unknown-host-key",
        do(lambda inv: inv["hosts"][WK].update(hostnme="x")),
        (H, WK, "hostnme", "unknown-key"),
    ),
    (
        "unknown-data-key",
        do(lambda inv: inv["hosts"][WK]["data"].update(nod={})),
        (H, WK, "data.nod", "unknown-key"),
    ),
    (
        "unknown-group-data-key",
        do(lambda inv: inv["groups"]["calico_nodes"]["data"].update(foo=1)),
        (G, "calico_nodes", "data.foo", "unknown-key"),
    ),
    (
        "unknown-group",
        set_(lambda inv: inv["hosts"][WK], "groups", ["calico_nodez"]),
        (H, WK, "groups", "unknown-group"),
    ),
    (
        "unknown-role",
        set_(lambda inv: inv["hosts"][WK]["data"], "role", "router"),
        (H, WK, "data.role", "unknown-role"),
    ),
    (
        "missing-field",
        do(lambda inv: sw(inv).pop("asn")),
        (H, SW, "data.switch.asn", "missing-field"),
    ),
    ("not-a-mapping", set_(lambda inv: inv["hosts"], WK, "oops"), (H, WK, "-", "not-a-mapping")),
    (
        "value-from-group",
        do(
            lambda inv: (
                inv["groups"]["calico_nodes"]["data"].update(node={"bgp_ip": "x"})
                or inv["hosts"][WK]["data"].pop("node")
            )
        ),
        (G, "calico_nodes", "data.node.bgp_ip", "invalid-ip"),
    ),
    ("no-cluster", do(lambda inv: inv["hosts"].pop(CL)), (H, "-", "data.role", "no-cluster")),
    (
        "duplicate-cluster",
        do(lambda inv: inv["hosts"].update({"k8s-cluster-2": copy.deepcopy(inv["hosts"][CL])})),
        (H, "k8s-cluster-2", "data.role", "duplicate-cluster"),
    ),
    ("invalid-yaml", text("kube-worker-001:\n", "kube-worker-001: [\n"), (H, "-", "-", "yaml")),
    # --- duplicates
    (
        "duplicate-host-yaml",
        text(
            "k8s-cluster:\n",
            "kube-worker-001:\n  hostname: 172.21.0.19\n  groups: [calico_nodes]\n"
            "  data:\n    node:\n      bgp_ip: 172.21.1.19\n\nk8s-cluster:\n",
        ),
        (H, WK, "-", "duplicate-host"),
    ),
    (
        "duplicate-key-yaml",
        text(
            "      bgp_ip: 172.21.1.18\n", "      bgp_ip: 172.21.1.18\n      bgp_ip: 172.21.1.28\n"
        ),
        (H, WK, "data.node.bgp_ip", "duplicate-key"),
    ),
    (
        "duplicate-bgp-ip",
        set_(node, "bgp_ip", "172.21.1.8"),
        (H, WK, "data.node.bgp_ip", "duplicate-ip"),
    ),
    (
        "duplicate-mgmt-ip",
        set_(node, "mgmt_ip", "172.21.0.8"),
        (H, WK, "data.node.mgmt_ip", "duplicate-ip"),
    ),
    (
        "duplicate-peer-name",
        set_(
            node, "peers", [{"name": "global-peer", "peer_ip": "172.21.1.254", "as_number": 65535}]
        ),
        (H, WK, "data.node.peers.0.name", "duplicate-peer-name"),
    ),
    (
        "duplicate-community",
        do(
            lambda inv: cal(inv)["communities"].append(
                {"name": "bgp-large-community", "value": "1:2"}
            )
        ),
        (H, CL, "data.calico.communities.1.name", "duplicate-community"),
    ),
    (
        "duplicate-router-id",
        do(lambda inv: second_switch(inv, router_id="1.1.1.1")),
        (H, "eos-tor-002", "data.switch.router_id", "duplicate-router-id"),
    ),
    # --- addressing between the sides
    (
        "ip-outside-subnet",
        set_(node, "bgp_ip", "172.21.2.18"),
        (H, WK, "data.node.bgp_ip", "ip-outside-subnet"),
    ),
    ("ip-is-svi", set_(node, "bgp_ip", "172.21.1.254"), (H, WK, "data.node.bgp_ip", "ip-is-svi")),
    (
        "ip-broadcast",
        set_(node, "bgp_ip", "172.21.1.255"),
        (H, WK, "data.node.bgp_ip", "ip-not-usable"),
    ),
    (
        "svi-network-address",
        set_(sw, "svi", "172.21.1.0/24"),
        (H, SW, "data.switch.svi", "ip-not-usable"),
    ),
    (
        "peer-ip-not-svi",
        set_(peer0, "peer_ip", "172.21.1.253"),
        (H, CL, "data.calico.peers.0.peer_ip", "peer-ip-not-svi"),
    ),
    (
        "peer-as-mismatch",
        set_(peer0, "as_number", 65001),
        (H, CL, "data.calico.peers.0.as_number", "peer-as-mismatch"),
    ),
    (
        "switch-as-mismatch",
        set_(sw, "asn", 65001),
        (H, CL, "data.calico.peers.0.as_number", "peer-as-mismatch"),
    ),
    ("no-peer", set_(cal, "peers", []), (H, CP, "data.node.tor", "no-peer")),
    (
        "peer-wrong-switch",
        do(two_switches_worker_moved),
        (H, CL, "data.calico.peers.0.peer_ip", "peer-wrong-switch"),
    ),
    ("unknown-tor", set_(node, "tor", "eos-tor-999"), (H, WK, "data.node.tor", "unknown-tor")),
    ("missing-tor", do(two_switches_no_tor), (H, WK, "data.node.tor", "missing-tor")),
    (
        "invalid-node-name",
        do(lambda inv: inv["hosts"].update({"Kube_Worker": inv["hosts"].pop(WK)})),
        (H, "Kube_Worker", "-", "invalid-name"),
    ),
    # --- CIDRs
    (
        "service-overlaps-pod",
        set_(cal, "service_cluster_cidrs", ["192.168.128.0/17"]),
        (H, CL, "data.calico.service_cluster_cidrs.0", "cidr-overlap"),
    ),
    (
        "pod-overlaps-peering",
        set_(cal, "pod_cidr", "172.21.0.0/16"),
        (H, CL, "data.calico.pod_cidr", "cidr-overlap"),
    ),
    (
        "lb-overlaps-mgmt-ip",
        do(
            lambda inv: (
                cal(inv).update(service_loadbalancer_cidrs=["172.21.0.16/28"]),
                sw(inv).update(management_vrf=None),
            )
        ),
        (H, CL, "data.calico.service_loadbalancer_cidrs.0", "cidr-overlap"),
    ),
    (
        "block-size",
        do(
            lambda inv: cal(inv).update(
                pod_cidr="192.168.0.0/24", block_size=20, prefix_advertisements=[]
            )
        ),
        (H, CL, "data.calico.block_size", "block-size"),
    ),
    (
        "unknown-community",
        do(
            lambda inv: cal(inv)["prefix_advertisements"][0]["communities"].__setitem__(
                0, "bgp-lrage-community"
            )
        ),
        (H, CL, "data.calico.prefix_advertisements.0.communities.0", "unknown-community"),
    ),
    # --- Calico versions
    (
        "v326-local-workload-ip",
        set_(cal, "local_workload_peering_ip_v4", "169.254.0.179"),
        (H, CL, "data.calico.local_workload_peering_ip_v4", "calico-field-unsupported"),
    ),
    (
        "v326-next-hop-mode",
        set_(peer0, "next_hop_mode", "Keep"),
        (H, CL, "data.calico.peers.0.next_hop_mode", "calico-field-unsupported"),
    ),
    (
        "v320-bind-mode",
        do(lambda inv: cal(inv).update(version="3.20", bind_mode="NodeIP")),
        (H, CL, "data.calico.bind_mode", "calico-field-unsupported"),
    ),
    (
        "v312-communities",
        set_(cal, "version", "3.12"),
        (H, CL, "data.calico.communities", "calico-field-unsupported"),
    ),
    (
        "v330-both-next-hop-fields",
        do(
            lambda inv: (
                cal(inv).update(version="3.30"),
                peer0(inv).update(keep_original_next_hop=True, next_hop_mode="Keep"),
            )
        ),
        (H, CL, "data.calico.peers.0.keep_original_next_hop", "conflicting-fields"),
    ),
    # --- secrets
    (
        "inline-peer-password",
        set_(peer0, "password", "S3cr3t-inline"),
        (H, CL, "data.calico.peers.0.password", "inline-password"),
    ),
    (
        "password-ref-not-ref",
        set_(peer0, "password_ref", "S3cr3t-inline"),
        (H, CL, "data.calico.peers.0.password_ref", "inline-password"),
    ),
    (
        "host-password",
        do(lambda inv: inv["hosts"][SW].update(password="S3cr3t-inline")),
        (H, SW, "password", "inline-password"),
    ),
    (
        "defaults-connection-password",
        do(
            lambda inv: inv["defaults"].update(
                connection_options={"napalm": {"password": "S3cr3t-inline"}}
            )
        ),
        (D, "defaults", "connection_options.napalm.password", "inline-password"),
    ),
    (
        "group-bgp-password",
        do(
            lambda inv: inv["groups"]["arista_switches"]["data"].update(
                x_bgp_password="S3cr3t-inline"
            )
        ),
        (G, "arista_switches", "data.x_bgp_password", "inline-password"),
    ),
    (
        "secret-file-in-repo",
        do(
            lambda inv: (
                sw(inv).update(bgp_password_ref="file:inventory/bgp.key"),
                peer0(inv).update(password_ref="env:FABRIC_BGP_PASSWORD"),
            )
        ),
        (H, SW, "data.switch.bgp_password_ref", "secret-in-repo"),
    ),
    (
        "password-one-sided",
        set_(sw, "bgp_password_ref", "env:FABRIC_BGP_PASSWORD"),
        (H, CL, "data.calico.peers.0.password_ref", "password-one-sided"),
    ),
]


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Record (and refuse) every connection or name lookup made while the test runs."""
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def fn(*args: Any, **kwargs: Any) -> Any:
            attempts.append(f"{what}{args[1:] if what != 'getaddrinfo' else args}")
            raise OSError(f"test: {what} refused")

        return fn

    monkeypatch.setattr(socket.socket, "connect", refuse("connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("connect_ex"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    yield attempts


def write_inventory(root: Path, mutation: Mutation) -> None:
    inv = copy.deepcopy(SEED)
    result = mutation(inv)
    d = root / "inventory"
    d.mkdir(parents=True)
    for name in ("groups", "defaults"):
        (d / f"{name}.yaml").write_text(yaml.safe_dump(inv[name], sort_keys=False))
    hosts = result if isinstance(result, str) else yaml.safe_dump(inv["hosts"], sort_keys=False)
    (d / "hosts.yaml").write_text(hosts)
    for shared in ("tasks", "templates"):
        (root / shared).symlink_to(REPO / shared)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out + out.err


def test_table_is_large_and_covers_the_issue() -> None:
    assert len(CASES) >= 30
    assert len({c[0] for c in CASES}) == len(CASES)
    codes = {c[2][3] for c in CASES}
    required = {
        "invalid-ip", "invalid-cidr", "invalid-asn", "invalid-vlan", "unknown-key",
        "duplicate-host", "duplicate-ip", "ip-outside-subnet", "peer-ip-not-svi",
        "peer-as-mismatch", "cidr-overlap", "calico-field-unsupported", "inline-password",
    }  # fmt: skip
    assert required <= codes
    assert codes <= ERROR_CODES


@pytest.mark.parametrize(("case", "mutation", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_inventory(
    case: str,
    mutation: Mutation,
    expected: tuple[str, str, str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_connections: list[str],
) -> None:
    write_inventory(tmp_path, mutation)
    monkeypatch.setenv("FABRIC_ROOT", str(tmp_path))
    file, host, fld, code = expected

    # The library: the exact issue, as an error, and no intent.
    try:
        report = check_inventory(ProjectPaths.discover())
        errors = report.errors
        assert report.intent is None
    except ValidationError as exc:  # unreadable files raise at once
        errors = exc.issues
    found = [(i.file, i.host, i.field, i.code) for i in errors]
    assert (file, host, fld, code) in found, found
    assert len(found) <= 3, found  # the cause, plus at most its direct consequences
    assert all(i.code in ERROR_CODES for i in errors)

    # The CLI: exit 2, the message names file, host and field; nothing rendered.
    rc, out = run_cli(["validate"], capsys)
    assert rc == 2
    assert f"{file}: host {host}: field {fld}:" in out
    assert "S3cr3t-inline" not in out
    build = tmp_path / "build"
    rc, out = run_cli(["run", "render", "--out", str(build)], capsys)
    assert rc == 2
    assert f"{file}: host {host}: field {fld}:" in out
    assert not build.exists()
    assert no_connections == []
