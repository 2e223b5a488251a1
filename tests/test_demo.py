"""The README's main job, end to end: ``python -m fabric demo`` on a fresh lab.

It runs the real command lines in their own processes (lab up, validate, deploy dry-run and
commit, compliance failing on the write-up's coredns pods, the fix, compliance passing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.lab
@pytest.mark.slow
def test_demo_replays_the_write_up(tmp_path: Path) -> None:
    env = {**os.environ, "FABRIC_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "200"}
    env.pop("FABRIC_LAB_DIR", None)
    report = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "fabric", "demo", "--down", "--report-dir", str(report)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=240,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, out
    # Step 5 found what the write-up found, and nothing else failed.
    before = out.split("== 6.")[0].split("== 5.")[1]
    assert "coredns-5dd5756b68-7v6jr on kube-worker-001 has IP 192.168.45.65" in before
    assert "coredns-5dd5756b68-rmnk2 on kube-worker-001 has IP 192.168.45.66" in before
    assert "compliance failed: VerifySwitchRoutes" in before
    # After the fix: the final report passes every check (warnings allowed), both sessions up.
    verdict = json.loads((report / "compliance.json").read_text())
    assert verdict["exit_code"] == 0, verdict
    statuses = {h["status"] for v in verdict["verdicts"] for h in v["hosts"]}
    assert statuses <= {"pass", "warn"}, statuses
    assert verdict["problems"] == [], verdict["problems"]
    for name in ("compliance.html", "compliance.junit.xml", "compliance.txt"):
        assert (report / name).stat().st_size > 0
    # --down stopped the lab: no endpoints file is left.
    assert not (tmp_path / "state" / "lab" / "endpoints.json").exists()
