"""The installed package works from a user's own folder, without extras.

The wheel is built from this checkout and installed, without extras, into a fresh venv; the
commands then run from a folder outside the checkout that holds only an ``inventory/``. The
shipped run definitions, templates and parsers come from the wheel. The seeded lab runs from
the development venv (the ``seeded_lab`` fixture), as a user's lab would run beside them.

Slow (it installs the dependencies with pip): run by ``make test`` and CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.lab]
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("install")
    wheels = tmp / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        cwd=tmp,
    )
    (wheel,) = wheels.glob("fabric_netops-*.whl")
    env_dir = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)],
        check=True,
        cwd=tmp,
    )
    yield env_dir


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("my-fabric")
    shutil.copytree(ROOT / "inventory", folder / "inventory")
    return folder


def run(venv: Path, project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FABRIC_")}
    clean.update(FABRIC_LAB_ONLY="1", **env)
    return subprocess.run(
        [str(venv / "bin" / "python"), "-m", "fabric", *args],
        cwd=project,
        env=clean,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_fabric_comes_from_the_wheel_not_the_checkout(venv: Path, project: Path) -> None:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import fabric, fabric.paths as p; "
            "print(fabric.__file__); print(p.packaged_defaults())",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert str(venv) in out[0] and str(ROOT) not in out[0]
    assert out[1].endswith("fabric/_defaults")


def test_validate_render_parse_and_init_from_a_users_folder(venv: Path, project: Path) -> None:
    assert run(venv, project, "validate").returncode == 0
    rendered = run(venv, project, "run", "render")
    assert rendered.returncode == 0, rendered.stderr
    assert "router bgp 65535" in (project / "build" / "eos-tor-001" / "eos.cfg").read_text()
    sample = (
        ROOT / "examples" / "seed" / "after-global-peer" / "eos-tor-001" / "show_ip_bgp_summary.txt"
    )
    parsed = run(venv, project, "parse", "arista_eos", "show ip bgp summary", str(sample))
    assert parsed.returncode == 0 and '"172.21.1.8"' in parsed.stdout, parsed.stderr
    new = project / "new-project"
    assert run(venv, project, "init", str(new)).returncode == 0
    assert run(venv, new, "validate").returncode == 0


def test_a_project_file_overrides_the_shipped_one(venv: Path, project: Path) -> None:
    own = project / "templates" / "arista_eos" / "bgp.j2"
    own.parent.mkdir(parents=True)
    own.write_text("! my own template for {{ switch.name }}\n")
    try:
        assert run(venv, project, "run", "render").returncode == 0
        assert (project / "build" / "eos-tor-001" / "eos.cfg").read_text() == (
            "! my own template for eos-tor-001\n"
        )
        # the Calico templates still come from the wheel
        assert "BGPConfiguration" in (project / "build" / "k8s-cluster" / "calico.yaml").read_text()
    finally:
        shutil.rmtree(project / "templates")


def test_a_missing_run_definition_is_one_line(venv: Path, project: Path) -> None:
    out = run(venv, project, "run", "nosuch")
    assert out.returncode == 2
    assert (
        "tasks/nosuch.yaml: no such run definition (known: compliance, deploy, render, rollback)"
        in out.stderr
    )
    assert "Traceback" not in out.stderr


def test_compliance_against_the_lab_has_the_documented_exit_code(
    venv: Path, project: Path, seeded_lab: Any
) -> None:
    out = run(venv, project, "run", "compliance", "--lab", FABRIC_LAB_DIR=str(seeded_lab.lab_dir))
    # the seed as the write-up found it: coredns outside its blocks, compliance fails (4)
    assert out.returncode == 4, out.stdout + out.stderr
    assert "coredns" in out.stdout


def test_lab_without_its_extra_is_one_line_naming_the_extra(venv: Path, project: Path) -> None:
    # aiohttp arrives with the kubernetes client today; without it, the lab must say what to do
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-q", "-y", "aiohttp"],
        check=True,
    )
    out = run(venv, project, "lab", "up")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: the lab needs aiohttp, which this installation lacks: "
        "pip install 'fabric-netops[lab]'"
    ]
    assert run(venv, project, "validate").returncode == 0  # the core does not need it
