"""The inventory lock: one deploy/rollback at a time, failing fast and naming the holder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fabric.errors import LockHeldError
from fabric.locking import inventory_lock, lock_path, read_holder

HOLD = """
import sys, time
from pathlib import Path
from fabric.locking import inventory_lock
with inventory_lock(Path(sys.argv[1]), Path(sys.argv[2]), run_id="run-in-child"):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_second_holder_in_same_process_is_refused(tmp_path: Path) -> None:
    inv = tmp_path / "inventory"
    with inventory_lock(tmp_path, inv, run_id="r1") as me:
        assert me.pid == os.getpid()
        assert read_holder(lock_path(tmp_path, inv)) == me
        with (
            pytest.raises(LockHeldError, match=r"deploy run r1 by .+@.+ \(pid \d+\) since "),
            inventory_lock(tmp_path, inv, run_id="r2", action="rollback"),
        ):
            pass
    # Released: a new holder gets it; the holder file is gone in between.
    assert read_holder(lock_path(tmp_path, inv)) is None
    with inventory_lock(tmp_path, inv, run_id="r3", action="rollback") as me:
        assert me.run_id == "r3"


def test_other_inventories_are_independent(tmp_path: Path) -> None:
    with (
        inventory_lock(tmp_path, tmp_path / "a", run_id="r1"),
        inventory_lock(tmp_path, tmp_path / "b", run_id="r2") as b,
    ):
        assert b.run_id == "r2"


def test_lock_of_killed_process_is_released(tmp_path: Path) -> None:
    inv = tmp_path / "inventory"
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path), str(inv)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        with (
            pytest.raises(LockHeldError, match=f"run-in-child .*pid {child.pid}"),
            inventory_lock(tmp_path, inv, run_id="mine"),
        ):
            pass
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout:
            child.stdout.close()
    t0 = time.monotonic()
    with inventory_lock(tmp_path, inv, run_id="mine") as me:
        assert me.run_id == "mine"
    assert time.monotonic() - t0 < 1
