"""``export anta-catalog``: the catalog ANTA's own loader accepts, per switch, from the intent.

No lab here: the catalog is built from inventories and checked with ANTA 1.10's catalog model
(``anta.catalog.AntaCatalog``), which refuses any input a test does not declare.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import subprocess
import sys
from pathlib import Path

import yaml
from click.testing import CliRunner

from fabric.exports.anta import build_anta_catalog
from fabric.intent import load_intent
from fabric.lab.generate import write_inventory
from fabric.models.intent import Intent
from fabric.paths import ProjectPaths

ROOT = Path(__file__).resolve().parent.parent
SEED_BLOCKS = {
    "kube-controlplane-001": [ipaddress.ip_network("192.168.170.0/24")],
    "kube-worker-001": [ipaddress.ip_network("192.168.181.0/24")],
}


def seed_intent() -> Intent:
    intent = load_intent(ProjectPaths.discover(ROOT)).intent
    assert intent is not None
    return intent


def anta_load(text: str) -> object:
    """ANTA's own catalog parser (raises on any unknown test or input)."""
    from anta.catalog import AntaCatalog

    return AntaCatalog.from_dict(yaml.safe_load(text))


def entries(text: str) -> list[tuple[str, dict[str, object]]]:
    data = yaml.safe_load(text)
    return [(name, inputs) for mod in data.values() for e in mod for name, inputs in e.items()]


def test_seed_catalog_is_valid_for_anta_and_states_the_intent() -> None:
    catalog = build_anta_catalog(seed_intent(), SEED_BLOCKS)
    text = catalog.to_yaml()
    loaded = anta_load(text)
    assert len(loaded.tests) == catalog.tests() == 3  # type: ignore[attr-defined]
    got = dict(entries(text))
    count = got["VerifyBGPPeerCount"]["address_families"]  # type: ignore[index]
    assert count == [
        {
            "afi": "ipv4",
            "safi": "unicast",
            "vrf": "default",
            "num_peers": 2,
            "check_peer_state": True,
        }
    ]
    specific = got["VerifyBGPSpecificPeers"]
    assert specific["address_families"][0]["peers"] == ["172.21.1.8", "172.21.1.18"]  # type: ignore[index]
    assert (
        "172.21.1.8 AS65535 (kube-controlplane-001)" in specific["result_overwrite"]["custom_field"]
    )  # type: ignore[index]
    routes = got["VerifyIPv4RoutePresencePerVRF"]["route_entries"]  # type: ignore[index]
    assert [(r["prefix"], r["description"]) for r in routes] == [
        ("192.168.170.0/24", "pod block kube-controlplane-001"),
        ("192.168.181.0/24", "pod block kube-worker-001"),
        ("192.16.0.0/12", "service cluster CIDR"),
    ]
    assert all(i["filters"] == {"tags": ["eos-tor-001"]} for _, i in entries(text))
    assert "Pod blocks are not checked" not in text


def test_without_blocks_only_service_cidrs_are_checked() -> None:
    text = build_anta_catalog(seed_intent()).to_yaml()
    anta_load(text)
    routes = dict(entries(text))["VerifyIPv4RoutePresencePerVRF"]["route_entries"]  # type: ignore[index]
    assert [r["prefix"] for r in routes] == ["192.16.0.0/12"]
    assert "# Pod blocks are not checked: export with --blocks-from-cluster." in text


def test_generated_inventory_gets_one_tagged_entry_per_switch_and_test(tmp_path: Path) -> None:
    inv = tmp_path / "inventory"
    write_inventory(inv, switches=3, nodes=7)
    paths = dataclasses.replace(ProjectPaths.discover(ROOT, inventory=inv), state=tmp_path)
    intent = load_intent(paths).intent
    assert intent is not None
    blocks = {
        n.name: [ipaddress.ip_network(f"10.200.{i}.0/26")] for i, n in enumerate(intent.nodes)
    }
    text = build_anta_catalog(intent, blocks).to_yaml()
    anta_load(text)
    by_switch: dict[str, dict[str, dict[str, object]]] = {}
    for name, inputs in entries(text):
        (tag,) = inputs["filters"]["tags"]  # type: ignore[index]
        assert name not in by_switch.setdefault(tag, {})
        by_switch[tag][name] = inputs
    assert set(by_switch) == {s.name for s in intent.switches}
    for sw in intent.switches:
        tests = by_switch[sw.name]
        peers = tests["VerifyBGPSpecificPeers"]["address_families"][0]["peers"]  # type: ignore[index]
        assert sorted(peers) == sorted(str(n.address) for n in sw.neighbors)
        count = tests["VerifyBGPPeerCount"]["address_families"][0]["num_peers"]  # type: ignore[index]
        assert count == len(sw.neighbors)
        routes = tests["VerifyIPv4RoutePresencePerVRF"]["route_entries"]  # type: ignore[index]
        want = {str(blocks[n.node][0]) for n in sw.neighbors} | {"172.30.0.0/16"}
        assert {r["prefix"] for r in routes} == want  # type: ignore[index]


def test_cli_writes_the_catalog(tmp_path: Path) -> None:
    from fabric.cli import cli

    out = tmp_path / "anta" / "catalog.yml"
    result = CliRunner().invoke(cli, ["export", "anta-catalog", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 test entries" in result.output
    assert out.read_text() == build_anta_catalog(seed_intent()).to_yaml()
    shown = CliRunner().invoke(cli, ["export", "anta-catalog"])
    assert shown.exit_code == 0 and shown.output == out.read_text()


def test_export_module_never_imports_the_lab() -> None:
    code = (
        "import json, sys; import fabric.exports.anta, fabric.cli.export; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('fabric.lab'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
