"""Test-wide setup.

The loopback guard is installed for the whole test session: no test can send a packet outside
127.0.0.0/8 (the inventory holds real-world addresses as data). ``test_safety.py`` proves the
guard refuses.
"""

from __future__ import annotations

import os
import shutil

import pytest

from fabric.safety import install_guard

os.environ["FABRIC_LAB_ONLY"] = "1"
install_guard()

pytest_plugins = ["fabric.lab.pytest_plugin"]


def require_tool(name: str) -> str:
    """Path of an external tool; skip without it, but fail in CI (FABRIC_REQUIRE_TOOLS=1)."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("FABRIC_REQUIRE_TOOLS") == "1":
            pytest.fail(f"{name} is required (FABRIC_REQUIRE_TOOLS=1) but not installed")
        pytest.skip(f"{name} not installed")
    return path
