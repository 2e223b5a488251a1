"""pid_alive: the one liveness test behind locks, runs, schedulers and the detached lab."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from fabric.process import pid_alive


def test_own_process_is_alive() -> None:
    assert pid_alive(os.getpid())


def test_zombie_and_reaped_children_are_not_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    # Exited but not yet reaped: a zombie, which must count as ended.
    while pid_alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not pid_alive(child.pid)
    assert child.poll() == 0  # reaps it
    assert not pid_alive(child.pid)


def test_running_child_is_alive() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert pid_alive(child.pid)
    finally:
        child.kill()
        child.wait()
