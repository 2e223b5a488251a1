"""``import fabric`` must be this project, not the PyPI SSH library of the same import name."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import fabric

REPO = Path(__file__).resolve().parent.parent


def test_import_fabric_is_this_project() -> None:
    assert fabric.PROJECT == "fabric-netops"
    assert fabric.__file__ is not None
    assert Path(fabric.__file__).resolve() == REPO / "fabric" / "__init__.py"


def test_installed_distribution_is_fabric_netops() -> None:
    dist = importlib.metadata.distribution("fabric-netops")
    assert dist.metadata["Name"] == "fabric-netops"
    assert dist.version == fabric.__version__
    # The distribution provides the ``fabric`` package (editable or not) ...
    top = (dist.read_text("top_level.txt") or "").split()
    files = [str(f) for f in dist.files or []]
    assert "fabric" in top or any("fabric" in f for f in files)
    # ... and no distribution called "fabric" (the SSH library) is installed next to it.
    names = {d.metadata["Name"].lower() for d in importlib.metadata.distributions()}
    assert "fabric" not in names


def test_import_from_another_directory_resolves_here(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import fabric; print(fabric.PROJECT, fabric.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == "fabric-netops"
    assert Path(out[1]).resolve() == REPO / "fabric" / "__init__.py"
