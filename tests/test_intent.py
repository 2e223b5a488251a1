"""The seed inventory's intent and warnings, and rules the error table does not show."""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.errors import Issue, ValidationError
from fabric.intent import (
    ERROR_CODES,
    WARNING_CODES,
    asn_reserved,
    build_intent,
    check_inventory,
    cidr_private,
    load_checked_inventory,
    load_intent,
)
from fabric.models.intent import CALICO_FIELD_SINCE, supported_fields
from fabric.paths import ProjectPaths

REPO = Path(__file__).resolve().parent.parent
SEED = {
    n: yaml.safe_load((REPO / "inventory" / f"{n}.yaml").read_text())
    for n in ("hosts", "groups", "defaults")
}
H = "inventory/hosts.yaml"


@pytest.fixture(scope="module")
def seed_report() -> Any:
    return check_inventory(ProjectPaths.discover(REPO))


def where(issues: list[Issue]) -> set[tuple[str, str, str, str]]:
    return {(i.file, i.host, i.field, i.code) for i in issues}


def check(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Any:
    inv = copy.deepcopy(SEED)
    mutate(inv)
    d = tmp_path / "inventory"
    d.mkdir()
    for name, content in inv.items():
        (d / f"{name}.yaml").write_text(yaml.safe_dump(content, sort_keys=False))
    return check_inventory(ProjectPaths.discover(tmp_path))


def cal(inv: dict[str, Any]) -> dict[str, Any]:
    return inv["hosts"]["k8s-cluster"]["data"]["calico"]  # type: ignore[no-any-return]


def sw(inv: dict[str, Any]) -> dict[str, Any]:
    return inv["hosts"]["eos-tor-001"]["data"]["switch"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- the seed


def test_seed_builds_the_intent(seed_report: Any) -> None:
    intent = seed_report.intent
    assert seed_report.errors == []
    assert [n.name for n in intent.nodes] == ["kube-controlplane-001", "kube-worker-001"]
    assert [str(n.bgp_ip) for n in intent.nodes] == ["172.21.1.8", "172.21.1.18"]
    (switch,) = intent.switches
    assert switch.name == "eos-tor-001"
    assert [(str(n.address), n.remote_as) for n in switch.neighbors] == [
        ("172.21.1.8", 65535),
        ("172.21.1.18", 65535),
    ]
    assert str(switch.data.svi) == "172.21.1.254/24"
    assert switch.data.peering_vlan == 3002
    assert intent.cluster.calico.listen_port == 178
    assert intent.cluster.kubeconfig == "~/.kube/config"
    assert [p.name for p in intent.peers_for(intent.node("kube-worker-001"))] == ["global-peer"]


def test_seed_warnings_are_exactly_the_four_findings(seed_report: Any) -> None:
    assert where(seed_report.warnings) == {
        (H, "k8s-cluster", "data.calico.as_number", "asn-reserved"),
        (H, "k8s-cluster", "data.calico.peers.0.as_number", "asn-reserved"),
        (H, "eos-tor-001", "data.switch.asn", "asn-reserved"),
        (H, "k8s-cluster", "data.calico.service_cluster_cidrs.0", "cidr-public"),
        (H, "k8s-cluster", "data.calico.listen_port", "listen-port"),
        (H, "eos-tor-001", "data.switch.maximum_paths", "no-maximum-paths"),
    }
    messages = " ".join(i.message for i in seed_report.warnings)
    for fact in ("AS 65535", "192.16.0.0/12", "178", "maximum-paths"):
        assert fact in messages


def test_load_intent_strict_raises_on_seed_warnings() -> None:
    paths = ProjectPaths.discover(REPO)
    assert load_intent(paths).intent is not None
    with pytest.raises(ValidationError) as exc:
        load_intent(paths, strict=True)
    assert {i.code for i in exc.value.issues} == {
        "asn-reserved",
        "cidr-public",
        "listen-port",
        "no-maximum-paths",
    }
    assert exc.value.exit_code == 2


def test_every_code_is_documented() -> None:
    doc = (REPO / "docs" / "inventory.md").read_text()
    missing = [c for c in sorted(ERROR_CODES | WARNING_CODES) if f"`{c}`" not in doc]
    assert missing == []


def test_version_table_is_documented() -> None:
    doc = (REPO / "docs" / "inventory.md").read_text()
    for kind, fields in CALICO_FIELD_SINCE.items():
        for fld, since in fields.items():
            if since:
                assert f"| {kind} | `{fld}` | 3.{since} |" in doc


# --------------------------------------------------------------------------- warnings


def set_asn(inv: dict[str, Any], asn: int) -> None:
    cal(inv)["as_number"] = asn
    cal(inv)["peers"][0]["as_number"] = asn
    sw(inv)["asn"] = asn
    cal(inv)["communities"] = []
    cal(inv)["prefix_advertisements"] = []


@pytest.mark.parametrize("asn", [0, 23456, 64496, 64511, 65535, 65536, 65551, 4294967295])
def test_reserved_asn_warns(tmp_path: Path, asn: int) -> None:
    report = check(tmp_path, lambda inv: set_asn(inv, asn))
    assert report.errors == []
    assert (H, "eos-tor-001", "data.switch.asn", "asn-reserved") in where(report.warnings)
    assert f"AS {asn} " in report.warnings[0].message


@pytest.mark.parametrize("asn", [1, 64512, 65534, 65552, 4200000000])
def test_usable_asn_does_not_warn(tmp_path: Path, asn: int) -> None:
    report = check(tmp_path, lambda inv: set_asn(inv, asn))
    assert "asn-reserved" not in {i.code for i in report.issues}


def test_asn_helpers() -> None:
    assert asn_reserved(64511) and not asn_reserved(64512)
    assert cidr_private(ipaddress.IPv4Network("172.31.0.0/16"))
    assert not cidr_private(ipaddress.IPv4Network("172.32.0.0/16"))
    assert not cidr_private(ipaddress.IPv4Network("100.128.0.0/16"))


def test_public_pod_cidr_warns_and_private_does_not(tmp_path: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        cal(inv)["pod_cidr"] = "8.8.0.0/16"
        cal(inv)["service_cluster_cidrs"] = ["100.64.0.0/16"]
        cal(inv)["prefix_advertisements"] = []

    report = check(tmp_path, mutate)
    public = {i.field for i in report.warnings if i.code == "cidr-public"}
    assert public == {"data.calico.pod_cidr"}


def test_external_and_lb_ranges_may_be_public(tmp_path: Path) -> None:
    report = check(
        tmp_path, lambda inv: cal(inv).update(service_loadbalancer_cidrs=["203.0.113.0/24"])
    )
    assert [i.field for i in report.issues if i.code == "cidr-public"] == [
        "data.calico.service_cluster_cidrs.0"
    ]


def test_listen_port_matched_by_switch_does_not_warn(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: sw(inv).update(neighbor_port=178))
    assert "listen-port" not in {i.code for i in report.issues}


def test_listen_port_mismatched_switch_setting_warns_on_switch(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: sw(inv).update(neighbor_port=179))
    assert where(i for i in report.warnings if i.code == "listen-port") == {  # type: ignore[arg-type]
        (H, "eos-tor-001", "data.switch.neighbor_port", "listen-port")
    }


def test_listen_port_179_does_not_warn(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: cal(inv).update(listen_port=179))
    assert "listen-port" not in {i.code for i in report.issues}


def test_maximum_paths_silences_ecmp_warning(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: sw(inv).update(maximum_paths=2))
    assert "no-maximum-paths" not in {i.code for i in report.issues}


def test_no_service_cidr_no_ecmp_warning(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: cal(inv).update(service_cluster_cidrs=[]))
    assert "no-maximum-paths" not in {i.code for i in report.issues}


def test_mesh_off_with_ibgp_tor_warns(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: cal(inv).update(node_to_node_mesh=False))
    assert report.errors == []
    (w,) = [i for i in report.warnings if i.code == "mesh-off-no-replacement"]
    assert (w.file, w.host, w.field) == (H, "k8s-cluster", "data.calico.node_to_node_mesh")
    assert "2 node(s)" in w.message


def test_mesh_off_with_route_reflecting_switch_is_fine(tmp_path: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        cal(inv)["node_to_node_mesh"] = False
        sw(inv)["route_reflector"] = True

    assert "mesh-off-no-replacement" not in {i.code for i in check(tmp_path, mutate).issues}


def test_mesh_off_with_ebgp_nodes_is_fine(tmp_path: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        cal(inv)["node_to_node_mesh"] = False
        cal(inv)["as_number"] = 65100
        cal(inv)["communities"] = []
        cal(inv)["prefix_advertisements"] = []

    report = check(tmp_path, mutate)
    assert report.errors == []
    assert "mesh-off-no-replacement" not in {i.code for i in report.issues}


def test_two_racks_inventory_is_clean() -> None:
    inv = REPO / "tests" / "data" / "inventories" / "two_racks"
    report = check_inventory(ProjectPaths.discover(REPO, inventory=inv))
    assert report.issues == []
    intent = report.intent
    assert {s.name: [n.node for n in s.neighbors] for s in intent.switches} == {
        "tor-a": ["node-a1", "node-a2"],
        "tor-b": ["node-b1"],
    }
    assert intent.node("node-b1").as_number == 65101
    assert [p.name for p in intent.peers_for(intent.node("node-a1"))] == ["rack-a"]
    assert [p.name for p in intent.peers_for(intent.node("node-b1"))] == ["node-b1-tor-b"]


# --------------------------------------------------------------------------- loading


def test_duplicate_host_in_groups_and_defaults_keys(tmp_path: Path) -> None:
    d = tmp_path / "inventory"
    d.mkdir()
    (d / "hosts.yaml").write_text((REPO / "inventory" / "hosts.yaml").read_text())
    groups = (REPO / "inventory" / "groups.yaml").read_text()
    (d / "groups.yaml").write_text(groups + "\nk8s_cluster:\n  data: {role: cluster}\n")
    (d / "defaults.yaml").write_text("data: {}\ndata: {}\n")
    _, issues = load_checked_inventory(ProjectPaths.discover(tmp_path))
    assert where(issues) == {
        ("inventory/groups.yaml", "k8s_cluster", "-", "duplicate-group"),
        ("inventory/defaults.yaml", "defaults", "data", "duplicate-key"),
    }
    assert "line " in issues[0].message


def test_null_password_is_not_a_secret(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: inv["hosts"]["eos-tor-001"].update(password=None))
    assert report.issues and report.errors == []


def test_secret_file_outside_repo_is_accepted(tmp_path: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        sw(inv)["bgp_password_ref"] = "file:/etc/fabric/bgp.key"
        cal(inv)["peers"][0]["password_ref"] = "file:/etc/fabric/bgp.key"

    assert check(tmp_path, mutate).errors == []


def test_user_data_keys_with_x_prefix_are_allowed(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: inv["hosts"]["eos-tor-001"]["data"].update(x_site="a"))
    assert report.errors == []


def test_asdot_asn_is_accepted(tmp_path: Path) -> None:
    report = check(tmp_path, lambda inv: sw(inv).update(asn="0.65535"))
    assert report.intent is not None
    assert report.intent.switches[0].data.asn == 65535


def test_unparsable_selector_counts_as_matching(tmp_path: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        cal(inv)["peers"][0]["node_selector"] = "has(rack)"

    report = check(tmp_path, mutate)
    assert report.errors == []


def test_selector_excluding_a_node_leaves_it_without_peer(tmp_path: Path) -> None:
    def mutate(inv: dict[str, Any]) -> None:
        cal(inv)["peers"][0]["node_selector"] = "rack == 'a'"
        inv["hosts"]["kube-worker-001"]["data"]["node"]["labels"] = {"rack": "a"}

    report = check(tmp_path, mutate)
    assert where(report.errors) == {(H, "kube-controlplane-001", "data.node.tor", "no-peer")}


def test_version_table() -> None:
    assert "localWorkloadPeeringIPV4" in supported_fields("BGPConfiguration", "3.30")
    assert "nextHopMode" not in supported_fields("BGPPeer", "3.29")
    assert "nextHopMode" in supported_fields("BGPPeer", "3.30")
    assert "bindMode" not in supported_fields("BGPConfiguration", "3.20")


def test_build_intent_is_pure_over_raw() -> None:
    raw, issues = load_checked_inventory(ProjectPaths.discover(REPO))
    a = build_intent(raw, issues)
    b = build_intent(raw, issues)
    assert a.intent == b.intent
    assert a.issues == b.issues


def test_intent_lookups_follow_model_copy_and_ignore_the_index() -> None:
    paths = ProjectPaths.discover(REPO)
    a = load_intent(paths).intent
    b = load_intent(paths).intent
    assert a is not None and b is not None
    a.switch("eos-tor-001")  # builds a's index only
    assert a == b
    moved = a.model_copy(
        update={"switches": [a.switch("eos-tor-001").model_copy(update={"name": "tor-x"})]}
    )
    assert moved.switch("tor-x").name == "tor-x"
    with pytest.raises(KeyError):
        moved.switch("eos-tor-001")
    assert moved != a
