"""Pytest fixtures that start the lab on loopback (loaded by tests/conftest.py).

* ``lab``: the project inventory's lab, fresh (factory switches, the write-up's pods and nodes,
  no Calico BGP object), module scope.
* ``seeded_lab``: the same with the write-up's switch config and Calico objects applied.
* ``lab_factory(**kwargs)``: start more labs (custom inventory, generated scale inventory);
  every lab it started stops at the end of the module.

While a lab fixture is active, ``FABRIC_LAB_DIR`` points at its lab directory (the last one
started), so ``init_nornir(paths, lab=True)`` and ``--lab`` find it, and ``FABRIC_STATE_DIR``
points at a temporary state directory of the module, so nothing writes ``.fabric/`` in the
checkout. Both variables are restored when the fixture ends.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fabric.paths import ProjectPaths

LabFactory = Callable[..., Any]
_ENV = ("FABRIC_LAB_DIR", "FABRIC_STATE_DIR")


class _Labs:
    def __init__(self, tmp: pytest.TempPathFactory) -> None:
        self.tmp = tmp
        self.started: list[Any] = []
        self.saved_env = {name: os.environ.get(name) for name in _ENV}
        os.environ["FABRIC_STATE_DIR"] = str(tmp.mktemp("state"))

    def make(
        self,
        *,
        inventory: Path | None = None,
        seeded: bool = False,
        switches: int | None = None,
        nodes: int | None = None,
        root: Path | None = None,
        address_base: int | None = None,
        **options: Any,
    ) -> Any:
        from fabric.lab.generate import write_inventory
        from fabric.lab.runtime import LabRuntime

        base = self.tmp.mktemp("lab")
        if switches is not None or nodes is not None:
            inventory = base / "inventory"
            write_inventory(inventory, switches=switches or 1, nodes=nodes or 2)
        paths = ProjectPaths.discover(root=root, inventory=inventory)
        lab = LabRuntime(
            paths, base / "lab", fresh=True, seeded=seeded, address_base=address_base, **options
        )
        lab.start()
        self.started.append(lab)
        os.environ["FABRIC_LAB_DIR"] = str(lab.lab_dir)
        return lab

    def close(self) -> None:
        for lab in reversed(self.started):
            lab.stop()
        for name, value in self.saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def lab_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabFactory]:
    """Start labs: ``lab_factory(inventory=PATH | switches=N, nodes=M, seeded=False, ...)``.

    Other keyword arguments go to :class:`~fabric.lab.runtime.LabRuntime`: ``calico_api="crd"``,
    ``calico_namespace="kube-system"``, ``autodetection={...}``, ``calico_version="v3.27.0"``.
    """
    labs = _Labs(tmp_path_factory)
    try:
        yield labs.make
    finally:
        labs.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh lab of the project inventory (a ``fabric.lab.runtime.LabRuntime``)."""
    labs = _Labs(tmp_path_factory)
    try:
        yield labs.make()
    finally:
        labs.close()


@pytest.fixture(scope="module")
def seeded_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A lab of the project inventory with the write-up's configs applied on both sides."""
    labs = _Labs(tmp_path_factory)
    try:
        yield labs.make(seeded=True)
    finally:
        labs.close()
