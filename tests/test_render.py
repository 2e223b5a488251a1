"""Rendering: golden comparison with the seed write-up, determinism, versions, --limit."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.errors import UsageError
from fabric.intent import load_intent
from fabric.paths import ProjectPaths
from fabric.steps.render import (
    dump_documents,
    mask_secret,
    render_calico_objects,
    render_switch_config,
)
from fabric.workflows.render import render_all

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "tests" / "data" / "golden"
TWO_RACKS = REPO / "tests" / "data" / "inventories" / "two_racks"
PATHS = ProjectPaths.discover(REPO)


@pytest.fixture(scope="module")
def seed_intent() -> Any:
    return load_intent(PATHS).intent


@pytest.fixture(scope="module")
def seed_eos(seed_intent: Any) -> str:
    return render_switch_config(seed_intent.switch("eos-tor-001"), PATHS.templates)


def section(config: str, header: str) -> list[str]:
    """The lines of the top-level block starting with ``header`` (up to the closing ``!``)."""
    lines = config.splitlines()
    start = lines.index(header)
    end = next(i for i in range(start + 1, len(lines)) if lines[i] == "!")
    return lines[start:end]


def is_subsequence(needle: list[str], haystack: list[str]) -> bool:
    it = iter(haystack)
    return all(line in it for line in needle)


# --------------------------------------------------------------------------- golden


def test_calico_objects_equal_the_seed(seed_intent: Any) -> None:
    objects = render_calico_objects(seed_intent, PATHS.templates)
    golden = list(yaml.safe_load_all((GOLDEN / "seed_calico.yaml").read_text()))
    assert [o.body for o in objects] == golden
    assert [(o.host, o.kind, o.name) for o in objects] == [
        ("k8s-cluster", "BGPConfiguration", "default"),
        ("k8s-cluster", "BGPPeer", "global-peer"),
    ]
    # The text written to disk parses to the same objects.
    assert list(yaml.safe_load_all(dump_documents(objects))) == golden


def test_eos_router_bgp_block_contains_the_seed(seed_eos: str) -> None:
    seed = (GOLDEN / "seed_eos.cfg").read_text()
    want = section(seed, "router bgp 65535")
    got = section(seed_eos, "router bgp 65535")
    assert is_subsequence(want, got), got
    # What we add on top of the seed: router-id, descriptions, EOS's sub-block separator.
    extra = [line for line in got if line not in want]
    assert extra == [
        "   router-id 1.1.1.1",
        "   neighbor 172.21.1.8 description kube-controlplane-001",
        "   neighbor 172.21.1.18 description kube-worker-001",
        "   !",
    ]
    neighbors = {ln.split()[1] for ln in got if ln.strip().startswith("neighbor")}
    assert neighbors == {"172.21.1.8", "172.21.1.18"}


def test_eos_config_contains_every_seed_line_in_order(seed_eos: str) -> None:
    seed = (GOLDEN / "seed_eos.cfg").read_text().splitlines()
    assert is_subsequence(seed, seed_eos.splitlines())
    assert "vlan 3002" in seed_eos.splitlines()
    assert "interface Vlan3002\n   ip address 172.21.1.254/24\n!" in seed_eos
    assert "\nip routing\nip routing vrf management\n" in seed_eos
    assert "vrf instance management\n   rd 10:1\n" in seed_eos


# --------------------------------------------------------------------------- determinism


def test_render_is_byte_for_byte_deterministic(tmp_path: Path) -> None:
    a = render_all(PATHS, tmp_path / "a")
    b = render_all(PATHS, tmp_path / "b")
    files_a = sorted(
        p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file()
    )
    files_b = sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    assert (
        files_a
        == files_b
        == [
            Path("eos-tor-001/eos.cfg"),
            Path("k8s-cluster/calico.yaml"),
        ]
    )
    for f in files_a:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert [(x.host, x.size) for x in a.artifacts] == [(x.host, x.size) for x in b.artifacts]
    # Rendering again into the same folder changes nothing.
    again = render_all(PATHS, tmp_path / "a")
    assert [x.changed for x in again.artifacts] == [False, False]
    assert all(x.changed for x in a.artifacts)


def test_render_writes_nothing_when_limit_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nope"):
        render_all(PATHS, tmp_path / "out", ["nope"])
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("limit", "written"),
    [
        (["eos-tor-001"], ["eos-tor-001"]),
        (["arista_switches"], ["eos-tor-001"]),
        (["k8s_cluster"], ["k8s-cluster"]),
        (["calico_nodes"], []),  # the seed's nodes have no node-specific objects
        (["k8s-cluster", "arista_switches"], ["k8s-cluster", "eos-tor-001"]),
    ],
)
def test_limit_selects_hosts_and_groups(
    tmp_path: Path, limit: list[str], written: list[str]
) -> None:
    result = render_all(PATHS, tmp_path, limit)
    assert [a.host for a in result.artifacts] == written


# --------------------------------------------------------------------------- richer intents


@pytest.fixture(scope="module")
def two_racks() -> Any:
    return load_intent(ProjectPaths.discover(REPO, inventory=TWO_RACKS)).intent


def test_two_racks_calico_objects(two_racks: Any) -> None:
    objects = {
        (o.host, o.kind, o.name): o.body for o in render_calico_objects(two_racks, PATHS.templates)
    }
    assert list(objects) == [
        ("cluster", "BGPConfiguration", "default"),
        ("node-b1", "Node", "node-b1"),
        ("cluster", "BGPPeer", "rack-a"),
        ("node-b1", "BGPPeer", "node-b1-tor-b"),
    ]
    rack_a = objects[("cluster", "BGPPeer", "rack-a")]["spec"]
    assert rack_a == {
        "nodeSelector": "rack == 'a'",
        "peerIP": "10.1.1.1",
        "asNumber": 65010,
        "nextHopMode": "Self",
        "password": {"secretKeyRef": {"name": "bgp-passwords", "key": "rack-a"}},
    }
    assert objects[("node-b1", "Node", "node-b1")]["spec"] == {
        "bgp": {"ipv4Address": "10.1.2.21/24", "asNumber": 65101}
    }
    assert objects[("node-b1", "BGPPeer", "node-b1-tor-b")]["spec"]["node"] == "node-b1"


def test_two_racks_eos_peer_group_password_and_reflection(two_racks: Any) -> None:
    tor_a = render_switch_config(two_racks.switch("tor-a"), PATHS.templates)
    assert "   maximum-paths 4\n" in tor_a
    assert "   neighbor calico route-reflector-client\n" in tor_a
    assert (
        "   neighbor 10.1.1.11 peer group calico\n   neighbor 10.1.1.11 remote-as 65010\n" in tor_a
    )
    assert f"   neighbor calico password {mask_secret('env:FABRIC_BGP_PASSWORD')}\n" in tor_a
    tor_b = render_switch_config(
        two_racks.switch("tor-b"), PATHS.templates, {"env:FABRIC_BGP_PASSWORD": "resolved-pw"}
    )
    assert "   neighbor 10.1.2.21 remote-as 65101\n" in tor_b  # the eBGP node's own AS
    assert "   neighbor 10.1.2.21 password resolved-pw\n" in tor_b
    assert "route-reflector-client" not in tor_b


def test_unsupported_fields_are_left_out_for_older_calico(seed_intent: Any) -> None:
    cal = seed_intent.cluster.calico.model_copy(update={"version": "3.20"})
    cluster = seed_intent.cluster.model_copy(update={"calico": cal})
    intent = seed_intent.model_copy(update={"cluster": cluster})
    spec = render_calico_objects(intent, PATHS.templates)[0].body["spec"]
    assert "bindMode" not in spec  # 3.21+
    assert spec["listenPort"] == 178


def test_templates_fail_on_undefined_variables(tmp_path: Path, seed_intent: Any) -> None:
    shutil.copytree(PATHS.templates, tmp_path / "templates")
    tpl = tmp_path / "templates" / "arista_eos" / "bgp.j2"
    tpl.write_text(tpl.read_text() + "{{ switch.data.no_such_field }}\n")
    # an operator's template: a usage error naming the template, not jinja2's traceback
    with pytest.raises(
        UsageError, match=r"template arista_eos/bgp.j2: UndefinedError: .*no_such_field"
    ):
        render_switch_config(seed_intent.switch("eos-tor-001"), tmp_path / "templates")


def test_render_does_not_share_state_between_intents(seed_intent: Any) -> None:
    before = render_calico_objects(seed_intent, PATHS.templates)
    other = copy.deepcopy(seed_intent)
    render_calico_objects(other, PATHS.templates)
    assert render_calico_objects(seed_intent, PATHS.templates) == before
