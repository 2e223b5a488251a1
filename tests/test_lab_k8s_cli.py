"""``lab up --calico-api``: the mode is served, remembered by the lab directory, and refused
when a saved state was made in the other mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.lab, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


def _lab(*args: str, lab_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fabric", "lab", *args, "--lab-dir", str(lab_dir)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "FABRIC_STATE_DIR": str(lab_dir.parent / "state")},
    )  # fmt: skip


def test_calico_api_mode_is_kept_by_the_lab_directory(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    up = _lab("up", "--detach", "--fresh", "--calico-api", "crd", lab_dir=lab_dir)
    assert up.returncode == 0, up.stdout + up.stderr
    try:
        endpoints = json.loads((lab_dir / "endpoints.json").read_text())
        assert endpoints["hosts"]["k8s-cluster"]["calico_api"] == "crd"
    finally:
        assert _lab("down", lab_dir=lab_dir).returncode == 0
    assert (lab_dir / "state" / "calico_api").read_text() == "crd\n"
    refused = _lab("up", "--detach", "--calico-api", "v3", lab_dir=lab_dir)
    assert refused.returncode == 2
    assert "made with --calico-api crd" in refused.stderr
    assert "--fresh to switch to v3" in refused.stderr
    bad = _lab("up", "--calico-api", "v2", lab_dir=lab_dir)
    assert bad.returncode == 2 and "'v2' is not one of 'v3', 'crd'" in bad.stderr
