"""Scheduled jobs against the lab: rollback windows, confirm, scheduled compliance, K8s export.

A real ``python -m fabric scheduler`` process runs the jobs; the lab (module scope, fresh:
factory switches, no Calico BGP objects) is reached over loopback sockets.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_scheduling import Scheduler, cli, outcomes, wait_for

from fabric.paths import ProjectPaths
from fabric.scheduling import confirm_job_id, get_job, job_runs, list_jobs, schedule_confirm_window
from fabric.state_db import StateDB
from fabric.workflows.deploy import DeployOptions, DeployReport, deploy
from fabric.workflows.rollback import RollbackOptions, rollback

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parent.parent
SWITCH = "eos-tor-001"
CALICO_KINDS = ("BGPConfiguration", "BGPPeer")


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProjectPaths:
    monkeypatch.setenv("FABRIC_STATE_DIR", str(tmp_path / "state"))
    return ProjectPaths.discover(root=ROOT)


@pytest.fixture
def scheduler(paths: ProjectPaths, tmp_path: Path) -> Iterator[Callable[[], Scheduler]]:
    started: list[Scheduler] = []

    def start() -> Scheduler:
        s = Scheduler(paths, tmp_path / f"scheduler-{len(started)}.log")
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


def state(lab: Any) -> dict[str, Any]:
    """Both sides: the switch's running-config and the Calico BGP objects."""
    objects = {
        kind: sorted(
            (
                {k: v for k, v in o.items() if k != "metadata"} | {"name": o["metadata"]["name"]}
                for o in lab.cluster_objects(kind)
            ),
            key=lambda o: o["name"],
        )
        for kind in CALICO_KINDS
    }
    return {"switch": lab.switch_running_config(SWITCH), "calico": objects}


def deployed(paths: ProjectPaths, **kwargs: Any) -> DeployReport:
    # the library API takes the scheduler as a collaborator (the CLI passes the same one)
    opts = DeployOptions(
        lab=True, commit=True, gate_timeout=30, schedule_confirm=schedule_confirm_window, **kwargs
    )
    report = deploy(paths, opts)
    assert report.outcome == "ok", report.error
    return report


@pytest.fixture
def clean_lab(lab: Any, paths: ProjectPaths) -> Iterator[Any]:
    """The lab in its fresh state before and after the test."""
    before = state(lab)
    yield lab
    if state(lab) != before:
        last = StateDB(paths.state / "state.db").list_runs()
        deploys = [r for r in last if r.kind == "deploy" and r.outcome == "ok"]
        for r in deploys:
            rollback(paths, r.id, RollbackOptions(lab=True, commit=True))
    assert state(lab) == before


def test_confirm_window_expiry_rolls_back_both_sides(
    clean_lab: Any, paths: ProjectPaths, scheduler: Callable[[], Scheduler]
) -> None:
    before = state(clean_lab)
    report = deployed(paths, confirm_within=1.0)
    assert report.confirm_job == confirm_job_id(report.run_id)
    job = get_job(paths, report.confirm_job)
    assert job.record.kind == "confirm-rollback" and job.record.params["lab"] is True
    after = state(clean_lab)
    assert after["switch"] != before["switch"]
    assert after["calico"]["BGPPeer"] and not before["calico"]["BGPPeer"]

    s = scheduler()
    assert wait_for(lambda: outcomes(paths, report.confirm_job) == ["ok"], 30), s.text()
    assert state(clean_lab) == before  # both sides restored to the snapshot
    (run,) = job_runs(paths, report.confirm_job)
    db = StateDB(paths.state / "state.db")
    assert run.run_id is not None
    rb = db.get_run(run.run_id, with_snapshots=False)
    assert rb.kind == "rollback" and rb.outcome == "ok"
    assert db.get_run(report.run_id, with_snapshots=False).outcome == "rolled-back"
    sched = [r for r in db.list_runs() if r.kind == "scheduled"]
    assert [r.options["job_id"] for r in sched] == [report.confirm_job]
    assert sched[0].outcome == "ok"
    assert f"job {report.confirm_job} (confirm-rollback)" in s.text()


def test_confirm_cancels_the_rollback(
    clean_lab: Any,
    paths: ProjectPaths,
    scheduler: Callable[[], Scheduler],
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = deployed(paths, confirm_within=1.5)
    after = state(clean_lab)
    code, out, err = cli(["confirm", report.run_id], capsys)
    assert code == 0, err
    assert f"rollback job confirm-{report.run_id} cancelled" in out
    scheduler()
    time.sleep(2.5)  # well past the window
    assert job_runs(paths, confirm_job_id(report.run_id)) == []
    assert state(clean_lab) == after  # still deployed
    assert get_job(paths, confirm_job_id(report.run_id)).record.status == "confirmed"
    code, _, err = cli(["confirm", report.run_id], capsys)
    assert code == 2 and "already confirmed" in err


def test_scheduled_rollback_restores_snapshot(
    clean_lab: Any,
    paths: ProjectPaths,
    scheduler: Callable[[], Scheduler],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = state(clean_lab)
    report = deployed(paths)
    assert state(clean_lab) != before
    code, out, err = cli(["schedule", "rollback", "--run", report.run_id, "--in", "1s"], capsys)
    assert code == 0, err
    assert "scheduled rollback-" in out
    (job,) = list_jobs(paths)
    scheduler()
    assert wait_for(lambda: outcomes(paths, job.job_id) == ["ok"], 30)
    assert state(clean_lab) == before


def test_scheduled_compliance_writes_its_report(
    clean_lab: Any,
    paths: ProjectPaths,
    scheduler: Callable[[], Scheduler],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    deployed(paths)
    reports = tmp_path / "reports"
    code, out, err = cli(
        ["schedule", "compliance", "--every", "1s", "--lab", "--report-dir", str(reports)], capsys
    )
    assert code == 0, err
    assert "every 1s" in out
    (job,) = list_jobs(paths)
    scheduler()
    assert wait_for(lambda: len(job_runs(paths, job.job_id)) >= 1, 30)
    assert wait_for(lambda: job_runs(paths, job.job_id)[0].outcome != "running", 60)
    code, _, _ = cli(["schedule", "cancel", job.job_id], capsys)
    assert code == 0
    run = job_runs(paths, job.job_id)[0]
    assert run.report_path is not None
    folder = Path(run.report_path)
    assert folder.parent == reports
    names = {p.name for p in folder.iterdir()}
    assert names == {
        "compliance.json",
        "compliance.txt",
        "compliance.junit.xml",
        "compliance.html",
    }
    data = json.loads((folder / "compliance.json").read_text())
    assert data["mode"] == "online" and data["verdicts"]
    assert run.outcome == ("ok" if data["exit_code"] == 0 else "failed")
    assert f"{data['counts']['passed']} passed" in (run.message or "")


def test_export_accepted_by_kubectl_server_dry_run(
    lab: Any, paths: ProjectPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    from conftest import require_tool

    kubectl = require_tool("kubectl")
    for argv in (
        ["schedule", "compliance", "--every", "15m"],
        ["schedule", "compliance", "--cron", "0 6 * * 1-5", "--tz", "Europe/Paris"],
        ["schedule", "deploy", "--in", "2h", "--limit", SWITCH],
    ):
        assert cli(argv, capsys)[0] == 0
    code, manifests, err = cli(["schedule", "export", "--k8s", "--namespace", "default"], capsys)
    assert code == 0, err
    ep = lab.endpoints["hosts"]["k8s-cluster"]
    base = [kubectl, "--kubeconfig", ep["kubeconfig"], "--context", ep["context"]]
    resources = subprocess.run(
        [*base, "api-resources", "--api-group=batch", "-o", "name"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert {"cronjobs.batch", "jobs.batch"} <= set(resources.stdout.split()), resources.stderr
    res = subprocess.run(
        [*base, "apply", "--dry-run=server", "-f", "-"],
        input=manifests,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("(server dry run)") == 3


def test_scheduled_deploy_with_confirm_window(
    clean_lab: Any,
    paths: ProjectPaths,
    scheduler: Callable[[], Scheduler],
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = state(clean_lab)
    code, out, err = cli(
        ["schedule", "deploy", "--in", "1s", "--lab", "--confirm-within", "4s"], capsys
    )
    assert code == 0, err
    assert "scheduled deploy-" in out
    (job,) = list_jobs(paths)
    assert job.record.params == {"lab": True, "limit": [], "confirm_within": 4}
    scheduler()
    assert wait_for(lambda: outcomes(paths, job.job_id) == ["ok"], 30)
    (run,) = job_runs(paths, job.job_id)
    assert run.run_id is not None
    deploy_run = StateDB(paths.state / "state.db").get_run(run.run_id, with_snapshots=False)
    assert deploy_run.kind == "deploy" and deploy_run.options["lab"] is True
    assert state(clean_lab) != before  # deployed by the scheduler ...
    confirm = confirm_job_id(run.run_id)
    assert wait_for(lambda: outcomes(paths, confirm) == ["ok"], 30)
    assert state(clean_lab) == before  # ... and rolled back when nobody confirmed
