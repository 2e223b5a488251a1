"""The project's Nornir inventory plugin builds exactly what SimpleInventory builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from nornir import InitNornir

from fabric.inventory import init_nornir
from fabric.paths import ProjectPaths

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "inventory",
    [ROOT / "inventory", ROOT / "tests" / "data" / "inventories" / "two_racks"],
    ids=["seed", "two_racks"],
)
def test_fabric_inventory_equals_simple_inventory(
    inventory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the inventory is built: nothing connects (the socket guard stays installed), so the
    # init-time refusal of non-loopback addresses is lifted for this comparison.
    monkeypatch.delenv("FABRIC_LAB_ONLY", raising=False)
    paths = ProjectPaths.discover(root=ROOT, inventory=inventory)
    ours = init_nornir(paths)
    nornirs = InitNornir(
        inventory={
            "plugin": "SimpleInventory",
            "options": {
                "host_file": str(inventory / "hosts.yaml"),
                "group_file": str(inventory / "groups.yaml"),
                "defaults_file": str(inventory / "defaults.yaml"),
            },
        },
        logging={"enabled": False},
    )
    assert ours.inventory.dict() == nornirs.inventory.dict()
    # Inherited values resolve through the same parent groups.
    for name, host in ours.inventory.hosts.items():
        other = nornirs.inventory.hosts[name]
        assert host.platform == other.platform
        assert host.get("role") == other.get("role")
        assert [g.name for g in host.groups] == [g.name for g in other.groups]
