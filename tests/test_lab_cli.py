"""``python -m fabric lab ...`` as an operator runs it: up --detach, status, fault, down."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent


def fabric(*args: str, lab_dir: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, FABRIC_LAB_DIR=str(lab_dir))
    res = subprocess.run(
        [sys.executable, "-m", "fabric", "lab", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )
    if check:
        assert res.returncode == 0, res.stdout + res.stderr
    return res


def inproc(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, lab_dir: Path, *args: str
) -> tuple[int, str, str]:
    """Run ``fabric lab ARGS`` in this process (fast: status and fault are HTTP clients)."""
    from fabric.cli import main

    monkeypatch.setenv("FABRIC_LAB_DIR", str(lab_dir))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["lab", *args])
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def lab_cli(
    detached: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Any:
    def run(*args: str) -> tuple[int, str, str]:
        return inproc(capsys, monkeypatch, detached, *args)

    return run


@pytest.fixture(scope="module")
def detached(tmp_path_factory: pytest.TempPathFactory) -> Any:
    lab_dir = tmp_path_factory.mktemp("cli") / "lab"
    out = fabric("up", "--detach", "--fresh", "--seeded", lab_dir=lab_dir)
    assert "1 switch(es), 2 node(s), 1 cluster" in out.stdout
    try:
        yield lab_dir
    finally:
        fabric("down", lab_dir=lab_dir, check=False)


def test_status_json_lists_every_endpoint(lab_cli: Any) -> None:
    code, out, _ = lab_cli("status", "--output", "json")
    status = json.loads(out)
    hosts = status["endpoints"]["hosts"]
    assert code == 0
    assert hosts["eos-tor-001"]["port"] == 8443 and hosts["eos-tor-001"]["password"]
    assert hosts["kube-worker-001"]["kind"] == "node"
    assert Path(hosts["k8s-cluster"]["kubeconfig"]).is_file()
    assert status["faults"] == {}


def test_status_text_does_not_print_passwords(lab_cli: Any) -> None:
    status = json.loads(lab_cli("status", "--output", "json")[1])
    code, text, _ = lab_cli("status")
    assert code == 0
    for host in status["endpoints"]["hosts"].values():
        assert host["hostname"] in text
        if "password" in host:
            assert host["password"] not in text
    assert "credentials.json" in text


def test_fault_and_clear(lab_cli: Any) -> None:
    code, out, _ = lab_cli("fault", "kube-worker-001", "bird-down")
    assert code == 0 and 'kube-worker-001: {"bird-down": {}}' in out
    code, out, _ = lab_cli(
        "fault", "eos-tor-001", "eapi-fail", "3", "--status", "http500", "--match", "commit"
    )
    assert '"count": 3' in out and '"match": "commit"' in out
    code, out, _ = lab_cli("fault", "kube-controlplane-001", "withhold-route", "192.16.0.0/12")
    assert code == 0
    assert 'kube-controlplane-001: {"withhold-route": {"prefixes": ["192.16.0.0/12"]}}' in out
    status = json.loads(lab_cli("status", "--output", "json")[1])
    assert set(status["faults"]) == {"kube-worker-001", "eos-tor-001", "kube-controlplane-001"}
    assert lab_cli("fault", "clear")[1].strip() == "no active faults"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fault", "eos-tor-001", "latency"), "needs a number"),
        (("fault", "k8s-cluster", "latency", "5"), "applies to switch hosts"),
        (("fault", "nope", "refuse"), "unknown lab host"),
        (("fault", "eos-tor-001"), "usage: lab fault HOST KIND"),
        (("fault", "kube-worker-001", "withhold-route"), "needs a prefix"),
        (("fault", "kube-worker-001", "withhold-route", "10.0.0.1/8"), "needs an IPv4 prefix"),
    ],
)
def test_fault_usage_errors_exit_2(lab_cli: Any, args: tuple[str, ...], message: str) -> None:
    code, _, err = lab_cli(*args)
    assert code == 2
    assert message in err


def test_second_up_is_refused(detached: Path) -> None:
    res = fabric("up", "--detach", lab_dir=detached, check=False)
    assert res.returncode == 2 and "already running" in res.stderr


def test_down_stops_the_process_and_keeps_state(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    fabric("up", "--detach", "--fresh", "--seeded", lab_dir=lab_dir)
    pid = json.loads((lab_dir / "endpoints.json").read_text())["pid"]
    assert fabric("down", lab_dir=lab_dir).stdout.strip() == "lab stopped"
    assert not (lab_dir / "endpoints.json").exists()
    stat = Path(f"/proc/{pid}/stat")
    assert not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] == "Z"
    assert (lab_dir / "state").is_dir()
    res = fabric("status", lab_dir=lab_dir, check=False)
    assert res.returncode == 2 and "no lab is running" in res.stderr
    fabric("up", "--detach", lab_dir=lab_dir)  # not fresh: the saved state comes back
    try:
        status = json.loads(fabric("status", "--output", "json", lab_dir=lab_dir).stdout)
        assert status["endpoints"]["pid"] != pid
    finally:
        fabric("down", lab_dir=lab_dir)


def test_foreground_up_stops_on_sigterm(tmp_path: Path) -> None:
    import signal
    import time

    lab_dir = tmp_path / "lab"
    env = dict(os.environ, FABRIC_LAB_DIR=str(lab_dir))
    proc = subprocess.Popen(
        [sys.executable, "-m", "fabric", "lab", "up", "--fresh"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not (lab_dir / "endpoints.json").exists():
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert json.loads((lab_dir / "endpoints.json").read_text())["pid"] == proc.pid
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "lab up (pid" in out and "lab stopped" in out
    assert not (lab_dir / "endpoints.json").exists()
