"""The command line over the library: validate, run render, exit codes, lazy imports."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fabric.cli import main
from fabric.errors import UsageError
from fabric.paths import ProjectPaths
from fabric.rundefs import load_run_definition

REPO = Path(__file__).resolve().parent.parent


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out, out.err


def test_validate_seed_exits_0_and_prints_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_cli(["validate"], capsys)
    assert rc == 0
    assert "intent ok: 2 node(s), 1 switch(es), cluster k8s-cluster; 6 warning(s)" in out
    assert "warning: inventory/hosts.yaml: host k8s-cluster: field data.calico.listen_port: " in err
    assert "[listen-port]" in err
    assert err.count("warning: ") == 6


def test_validate_strict_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_cli(["validate", "--strict"], capsys)
    assert rc == 2
    assert "intent ok" not in out
    assert "host eos-tor-001: field data.switch.maximum_paths:" in err


def test_run_render_writes_and_prints_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run_cli(["run", "render", "--out", str(tmp_path)], capsys)
    assert rc == 0
    assert (tmp_path / "eos-tor-001" / "eos.cfg").is_file()
    assert (tmp_path / "k8s-cluster" / "calico.yaml").is_file()
    assert "eos-tor-001" in out and "k8s-cluster" in out
    assert "warning: " in err


def test_run_render_strict_fails_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    rc, _, _ = run_cli(["run", "render", "--out", str(out_dir), "--strict"], capsys)
    assert rc == 2
    assert not out_dir.exists()


def test_run_render_limit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, _ = run_cli(["run", "render", "--out", str(tmp_path), "--limit", "eos-tor-001"], capsys)
    assert rc == 0
    assert [p.name for p in tmp_path.iterdir()] == ["eos-tor-001"]


def test_run_render_unknown_limit_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, _, err = run_cli(["run", "render", "--out", str(tmp_path / "o"), "--limit", "nope"], capsys)
    assert rc == 2
    assert "--limit nope: no such host or group" in err
    assert not (tmp_path / "o").exists()


def test_unknown_run_definition_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run_cli(["run", "no-such-task"], capsys)
    assert rc == 2
    assert "no such run definition" in err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- render\n", "expected a mapping"),
        ("workflow: [render\n", "invalid YAML"),
        ("workflow: render\nextra: 1\n", "field extra: Extra inputs are not permitted"),
    ],
)
def test_malformed_run_definition_is_a_usage_error_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    paths = dataclasses.replace(ProjectPaths.discover(REPO), tasks=tmp_path)
    with pytest.raises(UsageError, match=f"bad.yaml: {message}"):
        load_run_definition("bad", paths)


def test_validate_other_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    inv = REPO / "tests" / "data" / "inventories" / "two_racks"
    rc, out, err = run_cli(["validate", "--strict", "--inventory", str(inv)], capsys)
    assert (rc, err) == (0, "")
    assert "3 node(s), 2 switch(es)" in out


# A fresh interpreter: what does importing the CLI and listing/loading its commands pull in?
_PROBE = r"""
import importlib.util, json, sys
import click
from fabric.cli import COMMANDS, WORKFLOWS, cli, run
ctx = click.Context(cli)
names = cli.list_commands(ctx)
loaded = []
for name in names:
    module = COMMANDS.get(name, "").partition(":")[0]
    if module and importlib.util.find_spec(module) is None:
        continue  # a feature that has not landed yet
    if cli.get_command(ctx, name) is not None:
        loaded.append(name)
run.list_commands(click.Context(run))
heavy = sorted(m for m in ("napalm", "kubernetes", "nornir_napalm", "netmiko", "paramiko")
               if m in sys.modules)
print(json.dumps({"names": names, "loaded": loaded, "heavy": heavy}))
"""


def test_listing_commands_does_not_import_napalm_or_kubernetes() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, cwd=REPO, check=True
    )
    result = json.loads(proc.stdout)
    assert "validate" in result["names"] and "validate" in result["loaded"]
    assert result["heavy"] == [], result
