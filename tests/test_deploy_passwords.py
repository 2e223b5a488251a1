"""BGP passwords end to end against the lab: the Secret, both sides, masking, gate, rollback.

One fresh lab of a copy of the project inventory where the switch has ``bgp_password_ref`` and
the cluster's global peer ``password_ref`` (both ``env:FABRIC_TEST_BGP_PW``). The tests run in
order: dry-run (CLI), deploy --commit (CLI, JSON), what is stored and rendered, a password
change whose switch side is edited to another value mid-run (the gate fails, both sides roll
back), and ``rollback`` of the first deploy (the Secret did not exist: it is deleted).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from fabric.cli import cli
from fabric.paths import ProjectPaths
from fabric.state_db import StateDB
from fabric.steps.calico import MASK, MASK_CHANGED
from fabric.workflows.deploy import DeployOptions, deploy
from fabric.workflows.rollback import RollbackOptions, rollback

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
SW = "eos-tor-001"
CLUSTER = "k8s-cluster"
NODES = ("kube-controlplane-001", "kube-worker-001")
ENV_VAR = "FABRIC_TEST_BGP_PW"
PW = "s3cr3t-Pw-4a1b"
PW2 = "n3w-Pw-77c9e"
OTHER = "0ther-side-Pw-x"
SECRET_KEY = "global-peer"


@dataclasses.dataclass
class Env:
    lab: Any
    paths: ProjectPaths
    inv: Path
    db: Path
    tmp: Path
    state: dict[str, Any]


@pytest.fixture(scope="module")
def env(lab_factory: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("passwords")
    inv = tmp / "inventory"
    shutil.copytree(ROOT / "inventory", inv)
    hosts = yaml.safe_load((inv / "hosts.yaml").read_text())
    hosts[SW]["data"]["switch"]["bgp_password_ref"] = f"env:{ENV_VAR}"
    peers = hosts[CLUSTER]["data"]["calico"]["peers"]
    assert [p["name"] for p in peers] == [SECRET_KEY]
    peers[0]["password_ref"] = f"env:{ENV_VAR}"
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    saved = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = PW
    lab = lab_factory(inventory=inv)
    paths = dataclasses.replace(ProjectPaths.discover(ROOT, inventory=inv), state=tmp / "state")
    try:
        yield Env(lab, paths, inv, tmp / "state" / "state.db", tmp, {})
    finally:
        if saved is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = saved


def secret(e: Env) -> dict[str, Any] | None:
    found = [
        o
        for o in e.lab.cluster_objects("Secret", "v1")
        if o["metadata"]["name"] == "bgp-passwords"
        and o["metadata"].get("namespace") == "calico-system"
    ]
    assert len(found) <= 1
    return found[0] if found else None


def secret_value(e: Env) -> str:
    s = secret(e)
    assert s is not None and s["type"] == "Opaque"
    assert set(s["data"]) == {SECRET_KEY}
    return base64.b64decode(s["data"][SECRET_KEY]).decode()


def established(e: Env) -> bool:
    """Every session up on both sides (the switch's view and each node's BIRD view)."""
    view = e.lab.switch_bgp_view(SW)
    if not view.peers or any(p.state != "Established" for p in view.peers):
        return False
    for node in NODES:
        peers = e.lab.node_bgp_view(node).ipv4_peers
        if not any(p.peer_address == "172.21.1.254" and p.info == "Established" for p in peers):
            return False
    return True


def no_secret(text: str, *values: str) -> None:
    """None of the password values (nor their base64) appears in ``text``."""
    for v in values or (PW, PW2, OTHER):
        assert v not in text
        assert base64.b64encode(v.encode()).decode() not in text


def cli_run(e: Env, capfd: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the CLI; returns (exit code, everything printed on stdout and stderr)."""
    res = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    out, err = capfd.readouterr()
    return res.exit_code, res.output + out + err


def deploy_args(e: Env, *extra: str) -> list[str]:
    return ["run", "deploy", "--lab", "--inventory", str(e.inv), "--db", str(e.db), *extra]


def opts(e: Env, **kw: Any) -> DeployOptions:
    base: dict[str, Any] = {
        "lab": True,
        "commit": True,
        "revert_in": 30,
        "gate_timeout": 15,
        "gate_interval": 0.3,
        "db": e.db,
        "device_timeout": 5,
    }
    base.update(kw)
    return DeployOptions(**base)


# --------------------------------------------------------------------------- tests


def test_dry_run_shows_the_secret_key_never_its_value(
    env: Env, capfd: pytest.CaptureFixture[str]
) -> None:
    assert secret(env) is None
    code, text = cli_run(env, capfd, *deploy_args(env))
    assert code == 0, text
    no_secret(text)
    assert "Secret/bgp-passwords" in text
    assert f"+  {SECRET_KEY}: '{MASK}'" in text
    assert "password <secret" not in text  # the switch diff is masked by mask_secrets
    code, text = cli_run(env, capfd, *deploy_args(env, "--output", "json"))
    assert code == 0, text
    no_secret(text)
    rep = json.loads(text[text.index("{") :])
    assert rep["outcome"] == "dry-run"
    diff = next(h["diff"] for h in rep["hosts"] if h["host"] == CLUSTER)
    # the Secret is planned before the peer that references it
    assert diff.index("Secret/bgp-passwords") < diff.index("BGPPeer/global-peer")
    assert "secretKeyRef" in diff
    assert secret(env) is None  # a dry-run writes nothing


def test_deploy_creates_the_secret_and_both_sides_come_up(
    env: Env, capfd: pytest.CaptureFixture[str]
) -> None:
    code, text = cli_run(
        env, capfd, *deploy_args(env, "--commit", "--gate-timeout", "20", "--output", "json")
    )
    no_secret(text)
    rep = json.loads(text[text.index("{") :])
    assert code == 0 and rep["outcome"] == "ok", text
    assert secret_value(env) == PW
    running = env.lab.switch_running_config(SW)
    pw_lines = [ln.strip() for ln in running.splitlines() if " password " in ln]
    assert pw_lines and all(ln.endswith(f" password {PW}") for ln in pw_lines), pw_lines
    assert established(env)
    peer = next(
        o for o in env.lab.cluster_objects("BGPPeer") if o["metadata"]["name"] == SECRET_KEY
    )
    assert peer["spec"]["password"] == {
        "secretKeyRef": {"name": "bgp-passwords", "key": SECRET_KEY}
    }
    rec = StateDB(env.db).get_run(rep["run_id"])
    snaps = {(s.host, s.key): s.content for s in rec.snapshots}
    assert snaps[(CLUSTER, "Secret/bgp-passwords")] is None  # it did not exist
    env.state["first_run"] = rep["run_id"]


def test_no_value_in_runs_show_or_rendered_files(
    env: Env, capfd: pytest.CaptureFixture[str]
) -> None:
    run = env.state["first_run"]
    for args in (
        ["runs", "--db", str(env.db)],
        ["runs", "--db", str(env.db), "--output", "json"],
        ["runs", "show", run, "--db", str(env.db)],
        ["runs", "show", run, "--db", str(env.db), "--output", "json"],
    ):
        code, text = cli_run(env, capfd, *args)
        assert code == 0, text
        no_secret(text)
        if "show" in args or "json" in args:  # (the runs table may cut the id at 80 columns)
            assert run in text
    out = env.tmp / "build"
    code, text = cli_run(
        env, capfd, "run", "render", "--out", str(out), "--inventory", str(env.inv)
    )
    assert code == 0, text
    no_secret(text)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    rendered = "\n".join(p.read_text() for p in files)
    no_secret(rendered)
    assert "secretKeyRef" in rendered


def test_second_deploy_is_no_change(env: Env) -> None:
    rep = deploy(env.paths, opts(env))
    assert rep.outcome == "no-change", rep.to_json()
    assert not any(h.diff for h in rep.hosts)


def test_switch_side_mismatch_fails_the_gate_and_restores_the_secret(env: Env) -> None:
    before_secret = secret(env)
    before_running = env.lab.switch_running_config(SW)
    os.environ[ENV_VAR] = PW2
    try:
        plan = deploy(env.paths, opts(env, commit=False))
        cal = plan.host(CLUSTER).diff
        assert f"-  {SECRET_KEY}: '{MASK}'" in cal and f"+  {SECRET_KEY}: '{MASK_CHANGED}'" in cal
        no_secret(json.dumps(plan.to_json()))

        edited: list[str] = []

        def progress(stage: str, host: str | None, msg: str) -> None:
            # once the new Secret is in place, the switch side gets another password
            if stage == "apply" and msg.startswith("Secret/bgp-passwords") and not edited:
                text = env.lab.switch_running_config(SW)
                assert PW2 in text
                env.lab.load_switch_config(SW, text.replace(f"password {PW2}", f"password {OTHER}"))
                edited.append(msg)

        rep = deploy(env.paths, opts(env, gate_timeout=3, progress=progress))
    finally:
        os.environ[ENV_VAR] = PW
    assert edited
    assert rep.outcome == "rolled-back", rep.to_json()
    assert rep.gate_problems
    no_secret(json.dumps(rep.to_json()))
    assert rep.host(CLUSTER).rolled_back and rep.host(SW).rolled_back
    # the Secret is back exactly (data, type, labels), the switch byte-identical
    after = secret(env)
    assert after is not None and before_secret is not None
    assert after["data"] == before_secret["data"] and after["type"] == before_secret["type"]
    assert secret_value(env) == PW
    assert env.lab.switch_running_config(SW) == before_running
    # the snapshot of the Secret is its exact prior object (in the 0600 database)
    rec = StateDB(env.db).get_run(rep.run_id)
    snap = next(s for s in rec.snapshots if s.key == "Secret/bgp-passwords")
    assert snap.content is not None and json.loads(snap.content) == before_secret
    assert env.db.stat().st_mode & 0o077 == 0
    deadline_ok = _wait(lambda: established(env), 10)
    assert deadline_ok


def test_concurrent_change_of_the_secret_is_a_conflict_not_overwritten(env: Env) -> None:
    before_running = env.lab.switch_running_config(SW)
    theirs: dict[str, Any] = {}

    def progress(stage: str, host: str | None, msg: str) -> None:
        if stage == "commit" and host == SW and not theirs:
            obj = secret(env)
            assert obj is not None
            obj["metadata"].setdefault("labels", {})["changed-by"] = "someone-else"
            theirs.update(env.lab.put_object(obj))

    os.environ[ENV_VAR] = PW2
    try:
        rep = deploy(env.paths, opts(env, progress=progress))
    finally:
        os.environ[ENV_VAR] = PW
    assert theirs
    assert rep.outcome == "rolled-back", rep.to_json()
    assert "conflict (409)" in (rep.host(CLUSTER).error or "")
    assert "Secret/bgp-passwords" in (rep.host(CLUSTER).error or "")
    no_secret(json.dumps(rep.to_json()))
    now = secret(env)
    assert now is not None and now["metadata"]["labels"] == {"changed-by": "someone-else"}
    assert secret_value(env) == PW  # their object stays, ours was never written
    assert rep.host(SW).rolled_back
    assert env.lab.switch_running_config(SW) == before_running


def test_rollback_deletes_a_secret_that_did_not_exist(
    env: Env, capfd: pytest.CaptureFixture[str]
) -> None:
    run = env.state["first_run"]
    code, text = cli_run(
        env,
        capfd,
        "run",
        "rollback",
        "--run",
        run,
        "--lab",
        "--inventory",
        str(env.inv),
        "--db",
        str(env.db),
    )
    assert code == 0, text
    no_secret(text)
    assert re.search(rf"-\s+{SECRET_KEY}: '\*+'", text), text
    assert secret(env) is not None  # dry-run
    rep = rollback(env.paths, run, RollbackOptions(lab=True, commit=True, db=env.db))
    assert rep.outcome == "ok", rep.to_json()
    no_secret(json.dumps(rep.to_json()))
    assert secret(env) is None
    assert " password " not in env.lab.switch_running_config(SW)


def _wait(pred: Any, timeout: float) -> bool:
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return bool(pred())
