"""Deploy and rollback against the lab: every test asserts the final state of every device.

One fresh lab for the module; the tests run in order and each leaves the lab in a known state:
A-C take it from empty to the seed's state, D rolls back and redeploys, E-J inject faults into
a changed intent (``maximum-paths 2`` on the switch, ``logSeverityScreen: Debug`` in Calico)
and check that the devices end where they started.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.errors import ExitCode, LockHeldError
from fabric.paths import ProjectPaths
from fabric.state_db import StateDB
from fabric.workflows.deploy import DeployOptions, DeployReport, deploy
from fabric.workflows.rollback import RollbackOptions, rollback

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
SW = "eos-tor-001"
CLUSTER = "k8s-cluster"
SEED_ROUTES = {"192.16.0.0/12", "192.168.170.0/24", "192.168.181.0/24"}


@dataclasses.dataclass
class Env:
    lab: Any
    paths: ProjectPaths
    variant: ProjectPaths
    db: Path
    state: dict[str, Any]


@pytest.fixture(scope="module")
def env(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Env:
    tmp = tmp_path_factory.mktemp("deploy")
    inv = tmp / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts[SW]["data"]["switch"]["maximum_paths"] = 2
    hosts[CLUSTER]["data"]["calico"]["log_severity_screen"] = "Debug"
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    paths = dataclasses.replace(ProjectPaths.discover(ROOT), state=tmp / "state")
    variant = dataclasses.replace(paths, inventory=inv)
    return Env(lab, paths, variant, tmp / "state" / "state.db", {})


def opts(e: Env, **kw: Any) -> DeployOptions:
    base: dict[str, Any] = {
        "lab": True,
        "commit": True,
        "revert_in": 30,
        "gate_timeout": 15,
        "gate_interval": 0.5,
        "db": e.db,
        "device_timeout": 5,
    }
    base.update(kw)
    return DeployOptions(**base)


def calico(e: Env) -> dict[str, dict[str, Any]]:
    """Calico objects by Kind/name, without server fields."""
    out: dict[str, dict[str, Any]] = {}
    for kind in ("BGPConfiguration", "BGPPeer", "Node"):
        for o in e.lab.cluster_objects(kind):
            o = copy.deepcopy(o)
            for f in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
                o["metadata"].pop(f, None)
            out[f"{kind}/{o['metadata']['name']}"] = o
    return out


def open_sessions(e: Env) -> dict[str, str]:
    """Config sessions of the switch that are not completed (over eAPI, like an operator)."""
    import napalm

    ep = e.lab.endpoints["hosts"][SW]
    dev = napalm.get_network_driver("eos")(
        ep["hostname"],
        ep["username"],
        ep["password"],
        optional_args={"transport": "http", "port": ep["http_port"]},
    )
    dev.open()
    try:
        sessions = dev.device.run_commands(["show configuration sessions"])[0]["sessions"]
    finally:
        dev.close()
    return {n: s["state"] for n, s in sessions.items() if s["state"] != "completed"}


def wait_for(pred: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return bool(pred())


def assert_unchanged(e: Env, running: str, objects: dict[str, Any]) -> None:
    assert e.lab.switch_running_config(SW) == running
    assert calico(e) == objects
    assert open_sessions(e) == {}


# --------------------------------------------------------------------------- A-D


def test_dry_run_changes_nothing_and_leaves_no_session(env: Env) -> None:
    env.state["empty_running"] = env.lab.switch_running_config(SW)
    env.state["empty_calico"] = calico(env)
    rep = deploy(env.paths, opts(env, commit=False))
    assert rep.ok and rep.outcome == "dry-run" and rep.exit_code == ExitCode.OK
    assert not any(h.changed or h.committed for h in rep.hosts)
    assert "+router bgp 65535" in rep.host(SW).diff
    assert "+  name: global-peer" in rep.host(CLUSTER).diff
    assert_unchanged(env, env.state["empty_running"], env.state["empty_calico"])


def test_deploy_from_empty_reaches_the_seed_state(env: Env) -> None:
    rep = deploy(env.paths, opts(env))
    assert rep.outcome == "ok", rep.to_json()
    assert rep.tls.startswith("verified (CA ")
    assert all(h.changed and h.committed and h.confirmed for h in rep.hosts)
    running = env.lab.switch_running_config(SW)
    for line in (
        "router bgp 65535",
        "   neighbor 172.21.1.8 remote-as 65535",
        "   neighbor 172.21.1.18 remote-as 65535",
        "      neighbor 172.21.1.8 activate",
        "ip routing",
        "interface Vlan3002",
        "username admin",
        "management api http-commands",
    ):
        assert line in running.splitlines() or any(
            x.startswith(line) for x in running.splitlines()
        ), line
    assert "no ip routing" not in running
    # confirmed and written to startup-config (same text after the "! Command:" header)
    startup = env.lab.switch_startup_config(SW)
    assert startup.splitlines()[1:] == running.splitlines()[1:]
    objs = calico(env)
    assert objs["BGPPeer/global-peer"]["spec"] == {"peerIP": "172.21.1.254", "asNumber": 65535}
    assert objs["BGPConfiguration/default"]["spec"]["serviceClusterIPs"] == [
        {"cidr": "192.16.0.0/12"}
    ]
    view = env.lab.switch_bgp_view(SW)
    assert {p.neighbor: p.state for p in view.peers} == {
        "172.21.1.8": "Established",
        "172.21.1.18": "Established",
    }
    assert {str(r.prefix) for r in view.routes} >= SEED_ROUTES  # (+ coredns /32s: pre-fix)
    for node in ("kube-controlplane-001", "kube-worker-001"):
        peers = env.lab.node_bgp_view(node).ipv4_peers
        assert any(p.peer_address == "172.21.1.254" and p.info == "Established" for p in peers)
    assert open_sessions(env) == {}
    rec = StateDB(env.db).get_run(rep.run_id)
    assert rec.outcome == "ok"
    snaps = {(s.host, s.key): s.content for s in rec.snapshots}
    assert snaps[(SW, "running-config")] == env.state["empty_running"]
    assert snaps[(CLUSTER, "BGPPeer/global-peer")] is None
    env.state["seed_run"] = rep.run_id
    env.state["seed_running"] = running
    env.state["seed_calico"] = objs


def test_second_deploy_reports_no_change(env: Env) -> None:
    rep = deploy(env.paths, opts(env))
    assert rep.outcome == "no-change" and rep.ok
    assert not any(h.changed or h.diff for h in rep.hosts)
    assert_unchanged(env, env.state["seed_running"], env.state["seed_calico"])


def test_rollback_restores_byte_identical_state(env: Env) -> None:
    run = env.state["seed_run"]
    preview = rollback(env.paths, run, RollbackOptions(lab=True, db=env.db))
    assert preview.outcome == "dry-run"
    assert "-router bgp 65535" in preview.host(SW).diff
    assert "BGPPeer/global-peer" in preview.host(CLUSTER).diff
    assert_unchanged(env, env.state["seed_running"], env.state["seed_calico"])

    rep = rollback(env.paths, run, RollbackOptions(lab=True, commit=True, db=env.db))
    assert rep.outcome == "ok", rep.to_json()
    assert env.lab.switch_running_config(SW) == env.state["empty_running"]  # byte-identical
    assert calico(env) == env.state["empty_calico"]
    assert StateDB(env.db).get_run(run).outcome == "rolled-back"

    again = deploy(env.paths, opts(env))
    assert again.outcome == "ok"
    assert env.lab.switch_running_config(SW) == env.state["seed_running"]
    assert calico(env) == env.state["seed_calico"]


# --------------------------------------------------------------------------- faults


def test_commit_error_on_the_switch_changes_nothing(env: Env) -> None:
    env.lab.fault(SW, "eapi-fail", count=1, status="eapi", match="commit")
    try:
        rep = deploy(env.variant, opts(env))
    finally:
        env.lab.clear_faults()
    assert rep.outcome in ("rolled-back", "failed") and rep.exit_code == ExitCode.RUN_FAILED
    assert rep.host(SW).error and not rep.host(SW).committed
    assert not rep.host(CLUSTER).committed  # Calico is never applied after a failed commit
    assert_unchanged(env, env.state["seed_running"], env.state["seed_calico"])


def test_switch_unreachable_after_commit_reverts_by_its_timer(env: Env) -> None:
    def progress(stage: str, host: str | None, msg: str) -> None:
        if stage == "commit" and host == SW:
            env.lab.fault(SW, "refuse")

    try:
        rep = deploy(env.variant, opts(env, revert_in=3, gate_timeout=1, progress=progress))
        assert rep.outcome == "failed" and not rep.ok
        assert any(SW in p for p in rep.gate_problems)
        assert "commit timer reverts it" in (rep.host(SW).error or "")
        assert rep.host(CLUSTER).rolled_back
        assert wait_for(lambda: env.lab.switch_running_config(SW) == env.state["seed_running"], 8)
    finally:
        env.lab.clear_faults()
    assert_unchanged(env, env.state["seed_running"], env.state["seed_calico"])


@pytest.mark.parametrize("status", [409, 500])
def test_kubernetes_error_on_apply_rolls_back_the_switch(env: Env, status: int) -> None:
    def progress(stage: str, host: str | None, msg: str) -> None:
        if stage == "commit" and host == SW:
            env.lab.fault(CLUSTER, "k8s-fail", count=1, status=status)

    try:
        rep = deploy(env.variant, opts(env, progress=progress))
    finally:
        env.lab.clear_faults()
    assert rep.outcome == "rolled-back", rep.to_json()
    err = rep.host(CLUSTER).error or ""
    assert ("conflict (409)" if status == 409 else "HTTP 500") in err
    assert rep.host(SW).committed and rep.host(SW).rolled_back and not rep.host(SW).confirmed
    assert_unchanged(env, env.state["seed_running"], env.state["seed_calico"])


def test_gate_fails_when_a_node_runs_another_as(env: Env) -> None:
    # What kube-worker-001 really runs (a Calico Node override the intent does not know).
    env.lab.put_object(
        {
            "apiVersion": "projectcalico.org/v3",
            "kind": "Node",
            "metadata": {"name": "kube-worker-001"},
            "spec": {"bgp": {"ipv4Address": "172.21.1.18/24", "asNumber": 64999}},
        }
    )
    before = calico(env)
    try:
        rep = deploy(env.variant, opts(env, gate_timeout=2))
        assert rep.outcome == "rolled-back", rep.to_json()
        assert any("172.21.1.18" in p and "Established" in p for p in rep.gate_problems)
        assert rep.host(SW).rolled_back and rep.host(CLUSTER).rolled_back
        assert_unchanged(env, env.state["seed_running"], before)
    finally:
        env.lab.delete_object("Node", "kube-worker-001")
    assert calico(env) == env.state["seed_calico"]


def _fabric(e: Env, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "FABRIC_STATE_DIR": str(e.paths.state), **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "fabric", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_killed_between_commit_and_confirm_then_rollback_from_another_process(env: Env) -> None:
    inv = str(env.variant.inventory)
    proc = _fabric(
        env,
        # a timer long enough for the preview below to start, read and diff on a loaded machine
        "run", "deploy", "--lab", "--commit", "--revert-in", "20", "--gate-timeout", "10",
        "--db", str(env.db), "--inventory", inv,
        FABRIC_DEPLOY_KILL_AT="before-confirm",
    )  # fmt: skip
    assert proc.returncode == -9, proc.stderr
    run = StateDB(env.db).list_runs(limit=1)[0]
    assert run.kind == "deploy" and run.display_outcome == "interrupted"
    assert "   maximum-paths 2" in env.lab.switch_running_config(SW)  # pending, unconfirmed
    assert calico(env)["BGPConfiguration/default"]["spec"]["logSeverityScreen"] == "Debug"

    # A preview from another process while the commit-confirm is still pending.
    preview = _fabric(env, "run", "rollback", "--run", run.id, "--lab", "--db", str(env.db))
    assert preview.returncode == 0, preview.stderr
    assert "will be aborted" in preview.stdout and "-   maximum-paths 2" in preview.stdout
    # The switch's own timer reverts it.
    assert wait_for(lambda: env.lab.switch_running_config(SW) == env.state["seed_running"], 25)
    # The Calico change stays until a rollback restores it, from yet another process.
    done = _fabric(
        env, "run", "rollback", "--run", run.id, "--commit", "--lab", "--db", str(env.db),
        "--output", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert_unchanged(env, env.state["seed_running"], env.state["seed_calico"])


def test_two_concurrent_deploys_never_both_write(env: Env) -> None:
    second: list[BaseException | DeployReport] = []

    def progress(stage: str, host: str | None, msg: str) -> None:
        if stage == "commit" and host == SW and not second:
            try:
                second.append(deploy(env.variant, opts(env)))
            except LockHeldError as exc:
                second.append(exc)

    first = deploy(env.variant, opts(env, progress=progress))
    assert first.outcome == "ok", first.to_json()
    assert len(second) == 1 and isinstance(second[0], LockHeldError)
    assert f"deploy run {first.run_id}" in str(second[0])
    runs = [r for r in StateDB(env.db).list_runs(limit=100) if r.id == first.run_id]
    assert len(runs) == 1
    assert "   maximum-paths 2" in env.lab.switch_running_config(SW)
    assert calico(env)["BGPConfiguration/default"]["spec"]["logSeverityScreen"] == "Debug"
    assert open_sessions(env) == {}


def _main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``python -m fabric ARGS`` in-process: exit code, stdout, stderr."""
    from fabric.cli import main

    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def cli_env(env: Env, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI pointed at the module's state; returns a CA bundle that is not the lab's."""
    from fabric.lab.pki import ensure_ca

    monkeypatch.setenv("FABRIC_STATE_DIR", str(env.paths.state))
    monkeypatch.setenv("COLUMNS", "200")
    ca, _key = ensure_ca(tmp_path / "other-ca")
    return ca


def _row(out: str, host: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("│ " + host + " "))


def test_cli_insecure_says_so_and_connects_without_the_ca(
    env: Env, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The lab runs the variant now (the previous test deployed it).
    running = env.lab.switch_running_config(SW)
    assert "   maximum-paths 2" in running
    args = ["run", "deploy", "--lab", "--limit", SW, "--db", str(env.db)]
    # a CA that did not sign the lab's certificates: ignored with --insecure
    code, out, err = _main([*args, "--insecure", "--ca-file", str(cli_env)], capsys)
    assert code == 0, out + err
    assert "TLS certificate verification is OFF (--insecure)" in err
    assert "TLS NOT VERIFIED (--insecure)" in out
    # the dry-run table says what WOULD change: the seed drops maximum-paths 2
    assert "would change" in _row(out, SW), out
    assert "-   maximum-paths 2" in out
    assert env.lab.switch_running_config(SW) == running and open_sessions(env) == {}
    # planning what the lab already runs: nothing would change
    code, out, err = _main([*args, "--inventory", str(env.variant.inventory)], capsys)
    assert code == 0, out + err
    assert "no change" in _row(out, SW) and "would change" not in out, out


def test_cli_wrong_ca_is_a_clear_tls_error_exit_5(
    env: Env, cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "deploy", "--lab", "--limit", SW, "--db", str(env.db)]
    code, out, err = _main([*args, "--ca-file", str(cli_env), "--output", "json"], capsys)
    assert code == ExitCode.UNREACHABLE, out + err
    rep = json.loads(out)
    assert rep["outcome"] == "failed" and rep["tls"] == f"verified (CA {cli_env})"
    error = rep["hosts"][0]["error"]
    assert rep["hosts"][0]["host"] == SW and "CERTIFICATE_VERIFY_FAILED" in error, error
    assert open_sessions(env) == {}
