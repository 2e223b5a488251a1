"""``export containerlab``: the topology validates against containerlab's published schema.

The schema is vendored (tests/data/schemas/, source and version in its README). Beyond the
schema, the test checks what the schema cannot know: every link names a defined node, each
Calico node is cabled to its ToR switch, the startup-configs are our render, and the kind
config has one kind node per Calico node.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from fabric.cli import cli
from fabric.exports.containerlab import build_topology, write_topology
from fabric.intent import load_intent
from fabric.lab.generate import write_inventory
from fabric.paths import ProjectPaths
from fabric.steps.render import render_switch_config

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests/data/schemas/clab.schema.json").read_text(encoding="utf-8"))


def _validate(topology: dict[str, Any]) -> None:
    jsonschema.Draft7Validator(SCHEMA).validate(topology)


def _export(paths: ProjectPaths, out: Path) -> tuple[dict[str, Any], list[Path]]:
    export = build_topology(load_intent(paths).intent, paths.templates)
    written = write_topology(export, out)
    return yaml.safe_load(written[0].read_text(encoding="utf-8")), written


@pytest.fixture(params=["seed", "generated"])
def paths(request: pytest.FixtureRequest, tmp_path: Path) -> ProjectPaths:
    if request.param == "seed":
        return ProjectPaths.discover(root=ROOT)
    inventory = tmp_path / "inventory"
    write_inventory(inventory, switches=3, nodes=7)
    return ProjectPaths.discover(root=ROOT, inventory=inventory)


def test_topology_is_valid_containerlab(paths: ProjectPaths, tmp_path: Path) -> None:
    topo, written = _export(paths, tmp_path / "out")
    _validate(topo)
    intent = load_intent(paths).intent
    nodes = topo["topology"]["nodes"]
    # every file a node refers to was written
    for node in nodes.values():
        if "startup-config" in node:
            assert (tmp_path / "out" / node["startup-config"]).is_file()
    # switches: cEOS with our render as startup-config
    for switch in intent.switches:
        node = nodes[switch.name]
        assert node["kind"] == "arista_ceos"
        assert node["image"] == f"ceos:{switch.eos_version or '4.30.3M'}"
        config = (tmp_path / "out" / node["startup-config"]).read_text(encoding="utf-8")
        assert render_switch_config(switch, paths.templates).rstrip("\n") in config
        assert config.startswith(f"hostname {switch.name}\n") and config.endswith("end\n")
    # the kind cluster: one kind node per Calico node, each linked to its ToR switch
    kind = [n for n, v in nodes.items() if v["kind"] == "k8s-kind"]
    assert len(kind) == 1
    kind_config = yaml.safe_load(
        (tmp_path / "out" / nodes[kind[0]]["startup-config"]).read_text(encoding="utf-8")
    )
    roles = [n["role"] for n in kind_config["nodes"]]
    assert roles == ["control-plane"] + ["worker"] * (len(intent.nodes) - 1)
    assert kind_config["networking"]["podSubnet"] == str(intent.cluster.calico.pod_cidr)
    ext = {n: v for n, v in nodes.items() if v["kind"] == "ext-container"}
    assert len(ext) == len(intent.nodes)
    assert set(ext) == {f"{kind[0]}-control-plane"} | {
        f"{kind[0]}-worker{i if i > 1 else ''}" for i in range(1, len(intent.nodes))
    }
    cabled = {}
    for link in topo["topology"]["links"]:
        (a, a_if), (b, b_if) = (e.split(":") for e in link["endpoints"])
        assert a in nodes and b in nodes and b_if == "eth1"
        cabled[ext[b]["labels"]["fabric.calico-node"]] = (a, a_if, ext[b]["exec"][0])
    for node in intent.nodes:
        switch, _port, cmd = cabled[node.name]
        assert switch == node.tor
        assert cmd.startswith(f"ip addr add dev eth1 {node.bgp_ip}/")
    # interfaces are unique per switch
    ends = [e for link in topo["topology"]["links"] for e in link["endpoints"]]
    assert len(ends) == len(set(ends))
    assert len(written) == 2 + len(intent.switches)


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda t: t["topology"]["nodes"]["eos-tor-001"].update(kind="ceos-lab"), "unknown kind"),
        (lambda t: t["topology"].update(links=[{"endpoints": "a:eth1"}]), "endpoints not a list"),
        (lambda t: t.pop("topology"), "no topology"),
    ],
)
def test_schema_rejects_broken_topologies(mutate: Any, why: str, tmp_path: Path) -> None:
    topo, _ = _export(ProjectPaths.discover(root=ROOT), tmp_path)
    mutate(topo)
    with pytest.raises(jsonschema.ValidationError):
        _validate(topo)


def test_cli_export_containerlab(tmp_path: Path) -> None:
    out = tmp_path / "clab"
    res = CliRunner().invoke(cli, ["export", "containerlab", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert (out / "k8s-cluster.clab.yml").is_file()
    assert "kube-worker-001: k8s-cluster-worker eth1 <-> eos-tor-001 Ethernet2" in res.output
    _validate(yaml.safe_load((out / "k8s-cluster.clab.yml").read_text(encoding="utf-8")))
