"""Generated inventories: valid intent, and a seeded multi-rack lab that converges (eBGP, ECMP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fabric.intent import load_intent
from fabric.lab.generate import build_inventory, write_inventory
from fabric.paths import ProjectPaths


@pytest.mark.parametrize(("switches", "nodes"), [(1, 1), (3, 10), (200, 2000)])
def test_generated_inventory_passes_the_intent(tmp_path: Path, switches: int, nodes: int) -> None:
    write_inventory(tmp_path, switches=switches, nodes=nodes)
    intent = load_intent(ProjectPaths.discover(inventory=tmp_path)).intent
    assert intent is not None
    assert (len(intent.switches), len(intent.nodes)) == (switches, nodes)
    per_switch = {s.name: len(s.neighbors) for s in intent.switches}
    assert max(per_switch.values()) - min(per_switch.values()) <= 1
    assert intent.cluster.calico.node_to_node_mesh is (nodes <= 50)
    # every node peers with its own rack's switch only
    for node in intent.nodes[:50]:
        (peer,) = intent.peers_for(node)
        assert peer.peer_ip == intent.switch(node.tor).data.svi.ip


def test_build_inventory_rejects_impossible_sizes() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_inventory(switches=0, nodes=1)
    with pytest.raises(ValueError, match="1000 nodes per switch"):
        build_inventory(switches=1, nodes=1001)


@pytest.mark.lab
def test_seeded_generated_lab_converges(lab_factory: Any) -> None:
    lab = lab_factory(switches=3, nodes=9, seeded=True)
    assert len(lab.endpoints["hosts"]) == 3 + 9 + 1
    for i in (1, 2, 3):
        view = lab.switch_bgp_view(f"eos-tor-00{i}")
        assert view.local_as == 65000 + i
        assert [p.state for p in view.peers] == ["Established"] * 3
        # eBGP to AS 64512; the service CIDR over up to maximum-paths (4) equal paths
        service = next(r for r in view.routes if str(r.prefix) == "172.30.0.0/16")
        assert (service.code, service.distance, len(service.next_hops)) == ("B E", 20, 3)
        # With the mesh on and eBGP to the switch, every node re-advertises the blocks it
        # learned over the mesh (Calico exports every pool route to its BGP peers): each switch
        # holds all 9 blocks, each over its 3 nodes (equal AS paths), the owner among them.
        blocks = [r for r in view.routes if r.prefix.prefixlen == 26]
        assert len(blocks) == 9 and all(len(r.next_hops) == 3 for r in blocks)
        peers = {p.neighbor: p for p in view.peers}
        assert {p.prefixes_received for p in peers.values()} == {10}
    status = lab.node_status_text("node-00001")
    assert "| 10.0.0.1     | node specific     | up    |" in status
    assert status.count("node-to-node mesh") == 8
