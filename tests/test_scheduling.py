"""Scheduler mechanics: parsing, the job store, claims, misfires, restarts, two schedulers.

Process tests run ``python -m fabric scheduler`` for real (poll 0.2 s) over a state directory
in tmp_path, with a test job function from this module (``test_scheduling:append_line``,
importable in the child through PYTHONPATH).
"""

from __future__ import annotations

import doctest
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import fabric.scheduling.k8s
import fabric.scheduling.timespec
from fabric.cli import main
from fabric.errors import UsageError
from fabric.paths import ProjectPaths
from fabric.scheduling import (
    add_job,
    cancel_job,
    confirm_run,
    get_job,
    job_runs,
    list_jobs,
    schedule_confirm_window,
)
from fabric.scheduling.timespec import (
    parse_duration,
    parse_time,
    to_utc_iso,
    validate_cron,
)
from fabric.state_db import StateDB

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
FUNC = "test_scheduling:append_line"


def append_line(path: str, tag: str, sleep: float = 0.0, fail: bool = False) -> dict[str, Any]:
    """Test job: append ``tag pid`` to ``path`` (after ``sleep``); raise when ``fail``."""
    if fail:
        raise RuntimeError(f"job {tag} failed on purpose")
    time.sleep(sleep)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{tag} {os.getpid()}\n")
    return {"outcome": "ok", "run_id": None, "report_path": path, "message": f"wrote {tag}"}


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProjectPaths:
    monkeypatch.setenv("FABRIC_STATE_DIR", str(tmp_path / "state"))
    return ProjectPaths.discover(root=ROOT)


def at_in(seconds: float) -> dict[str, Any]:
    return {"type": "date", "at": to_utc_iso(datetime.now(UTC) + timedelta(seconds=seconds))}


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out, err


# ------------------------------------------------------------------------------ parsing


def test_doctests() -> None:
    for mod in (fabric.scheduling.timespec, fabric.scheduling.k8s):
        res = doctest.testmod(mod)
        assert res.failed == 0 and res.attempted > 0, mod.__name__


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), (" 2W ", 1209600)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "5", "5x", "m5", "-5m", "0s", "1.5h", "15 m", "1h-2m"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="duration"):
        parse_duration(text)


def test_parse_time_forms() -> None:
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert parse_time("2026-11-27T06:00:00Z", now=now) == datetime(2026, 11, 27, 6, tzinfo=UTC)
    offset = parse_time("2026-11-26T13:00+02:00", now=now)
    assert offset == datetime(2026, 11, 26, 11, tzinfo=UTC)
    naive = parse_time("2026-11-28T06:00", now=now)
    assert naive == datetime(2026, 11, 28, 6).astimezone().astimezone(UTC)
    clock = parse_time("06:00", now=now)
    assert now < clock <= now + timedelta(days=1)
    assert clock.astimezone().strftime("%H:%M") == "06:00"


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("2020-01-01T00:00:00Z", "in the past"),
        ("tomorrow", "invalid time"),
        ("25:00", "hours 0-23"),
        ("2026-13-01", "invalid time"),
    ],
)
def test_parse_time_rejects(text: str, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        parse_time(text, now=datetime(2026, 11, 26, tzinfo=UTC))


def test_validate_cron() -> None:
    assert validate_cron("*/15  *  * * *") == "*/15 * * * *"
    for bad in ("* * * *", "61 * * * *", "* * * * mon-xyz", "every day"):
        with pytest.raises(UsageError, match="cron"):
            validate_cron(bad)
    with pytest.raises(UsageError, match="time zone"):
        validate_cron("0 6 * * *", "Mars/Olympus")


# ---------------------------------------------------------------------- store and CLI


def test_db_mode_and_add_list_cancel(paths: ProjectPaths) -> None:
    out = paths.state / "out.txt"
    job = add_job(
        paths, kind="probe", func=FUNC, params={"path": str(out), "tag": "a"}, trigger=at_in(60)
    )
    db = paths.state / "state.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert job.job_id.startswith("probe-")
    assert job.next_run is not None
    assert abs((job.next_run - datetime.now(UTC)).total_seconds() - 60) < 5
    listed = list_jobs(paths)
    assert [j.job_id for j in listed] == [job.job_id]
    assert listed[0].record.scheduled_by
    assert listed[0].record.params == {"path": str(out), "tag": "a"}
    cancelled = cancel_job(paths, job.job_id)
    assert cancelled.record.status == "cancelled"
    assert list_jobs(paths) == []
    assert [j.record.status for j in list_jobs(paths, include_ended=True)] == ["cancelled"]
    with pytest.raises(UsageError, match="no longer pending"):
        cancel_job(paths, job.job_id)
    with pytest.raises(UsageError, match="no scheduled job"):
        get_job(paths, "nope")


def test_add_job_rejects_past_and_duplicate(paths: ProjectPaths) -> None:
    params = {"path": "/dev/null", "tag": "x"}
    with pytest.raises(UsageError, match="in the past"):
        add_job(paths, kind="probe", func=FUNC, params=params, trigger=at_in(-5))
    add_job(paths, kind="probe", func=FUNC, params=params, trigger=at_in(60), job_id="fixed")
    with pytest.raises(UsageError, match="already scheduled"):
        add_job(paths, kind="probe", func=FUNC, params=params, trigger=at_in(60), job_id="fixed")
    with pytest.raises(UsageError, match="not been supplied"):
        add_job(paths, kind="probe", func=FUNC, params={}, trigger=at_in(60))
    with pytest.raises(UsageError, match="unknown job kind"):
        add_job(paths, kind="nonsense", params={}, trigger=at_in(60))


def test_cli_compliance_list_json_cancel(
    paths: ProjectPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(["schedule", "compliance", "--every", "15m", "--lab"], capsys)
    assert code == 0, out
    assert "every 15m" in out
    code, out, _ = cli(["schedule", "compliance", "--cron", "0 6 * * 1-5", "--tz", "UTC"], capsys)
    assert code == 0
    code, out, _ = cli(["schedule", "list", "--output", "json"], capsys)
    assert code == 0
    jobs = json.loads(out)
    assert [j["schedule"] for j in jobs] == ["every 15m", "cron '0 6 * * 1-5' (UTC)"] or [
        j["schedule"] for j in jobs
    ] == ["cron '0 6 * * 1-5' (UTC)", "every 15m"]
    every = next(j for j in jobs if j["trigger"]["type"] == "interval")
    assert every["kind"] == "compliance" and every["params"]["lab"] is True
    next_run = datetime.fromisoformat(every["next_run"].replace("Z", "+00:00"))
    assert timedelta(minutes=14) < next_run - datetime.now(UTC) <= timedelta(minutes=15)
    assert every["next_run"].endswith("Z")  # stored and exported in UTC
    code, out, _ = cli(["schedule", "list"], capsys)
    assert code == 0 and every["id"] in out
    code, out, _ = cli(["schedule", "cancel", every["id"]], capsys)
    assert code == 0 and "cancelled" in out
    code, out, _ = cli(["schedule", "list", "--output", "json"], capsys)
    assert [j["id"] for j in json.loads(out)] == [j["id"] for j in jobs if j is not every]
    code, _, err = cli(["schedule", "cancel", every["id"]], capsys)
    assert code == 2 and "no longer pending" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["schedule", "rollback", "--run", "r1", "--in", "5x"], "invalid duration"),
        (["schedule", "rollback", "--run", "r1", "--at", "2020-01-01T00:00Z"], "in the past"),
        (["schedule", "rollback", "--run", "r1"], "exactly one of --at"),
        (["schedule", "rollback", "--run", "r1", "--in", "5m", "--at", "06:00"], "exactly one"),
        (["schedule", "rollback", "--run", "r1", "--in", "5m"], "no run 'r1'"),
        (["schedule", "deploy", "--at", "yesterday"], "invalid time"),
        (["schedule", "deploy", "--in", "1h", "--confirm-within", "0s"], "longer than zero"),
        (["schedule", "compliance", "--cron", "61 * * * *"], "invalid cron"),
        (["schedule", "compliance", "--cron", "* * *"], "5 fields"),
        (["schedule", "compliance", "--every", "15m", "--cron", "* * * * *"], "exactly one"),
        (["schedule", "compliance", "--every", "soon"], "invalid duration"),
        (["schedule", "compliance", "--cron", "0 6 * * *", "--tz", "Nowhere/X"], "time zone"),
        (["schedule", "compliance", "--every", "5m", "--grace", "0m"], "longer than zero"),
        (["schedule", "cancel", "nope"], "no scheduled job"),
        (["confirm", "nope"], "no confirm-within window"),
        (["schedule", "exec", "compliance", "--params", "[1"], "invalid JSON"),
        (["schedule", "exec", "nonsense"], "unknown job kind"),
    ],
)
def test_cli_bad_input_exit_2(
    paths: ProjectPaths, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = cli(argv, capsys)
    assert code == 2, err
    assert message in err
    assert list_jobs(paths) == []


def test_schedule_rollback_of_known_run(
    paths: ProjectPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    db = StateDB(paths.state / "state.db")
    db.create_run(
        "20261126-100000-abcdef",
        kind="deploy",
        inventory="inventory",
        intent_hash="x",
        dry_run=False,
        options={},
    )
    code, out, err = cli(
        ["schedule", "rollback", "--run", "20261126-100000-abcdef", "--in", "2h", "--lab"], capsys
    )
    assert code == 0, err
    assert "scheduled rollback-" in out
    (job,) = list_jobs(paths)
    assert job.record.kind == "rollback"
    assert job.record.params == {"run_id": "20261126-100000-abcdef", "lab": True}
    assert job.record.trigger["type"] == "date"
    assert job.next_run is not None
    assert timedelta(minutes=119) < job.next_run - datetime.now(UTC) <= timedelta(hours=2)


def test_confirm_window(paths: ProjectPaths, capsys: pytest.CaptureFixture[str]) -> None:
    job_id = schedule_confirm_window(paths, "run-1", 300, lab=True)
    assert job_id == "confirm-run-1"
    (job,) = list_jobs(paths)
    assert job.record.kind == "confirm-rollback"
    assert job.record.params["run_id"] == "run-1"
    with pytest.raises(UsageError, match="already scheduled"):
        schedule_confirm_window(paths, "run-1", 300)
    code, out, _ = cli(["confirm", "run-1"], capsys)
    assert code == 0 and "confirm-run-1 cancelled" in out
    assert list_jobs(paths) == []
    assert get_job(paths, job_id).record.status == "confirmed"
    code, _, err = cli(["confirm", "run-1"], capsys)
    assert code == 2 and "already confirmed" in err
    with pytest.raises(UsageError, match="longer than zero"):
        schedule_confirm_window(paths, "run-2", 0)


# ------------------------------------------------------------------- scheduler processes


class Scheduler:
    """``python -m fabric scheduler`` in a child process, logging to a file."""

    def __init__(self, paths: ProjectPaths, log: Path) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
            "FABRIC_STATE_DIR": str(paths.state),
            "FABRIC_ROOT": str(paths.root),
        }
        self.log = log
        self._fh = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fabric", "scheduler", "--poll", "0.2"],
            env=env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
        )
        wait_for(lambda: "started on" in self.text() or self.proc.poll() is not None, 20)
        assert self.proc.poll() is None, self.text()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._fh.close()


@pytest.fixture
def schedulers(paths: ProjectPaths, tmp_path: Path) -> Iterator[Callable[[], Scheduler]]:
    started: list[Scheduler] = []

    def start() -> Scheduler:
        s = Scheduler(paths, tmp_path / f"scheduler-{len(started)}.log")
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop(signal.SIGKILL)


def wait_for(cond: Callable[[], object], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return bool(cond())


def outcomes(paths: ProjectPaths, job_id: str) -> list[str]:
    return [r.outcome for r in job_runs(paths, job_id)]


def test_runs_job_logs_and_stops_cleanly_on_sigterm(
    paths: ProjectPaths, schedulers: Callable[[], Scheduler], tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    slow = add_job(
        paths,
        kind="probe",
        func=FUNC,
        params={"path": str(out), "tag": "slow", "sleep": 2.5},
        trigger=at_in(1),
    )
    s = schedulers()
    # A job added while the scheduler runs is picked up (poll) and fails cleanly.
    bad = add_job(
        paths,
        kind="probe",
        func=FUNC,
        params={"path": str(out), "tag": "bad", "fail": True},
        trigger=at_in(0.5),
    )
    assert wait_for(
        lambda: (
            outcomes(paths, bad.job_id) == ["failed"]
            and outcomes(paths, slow.job_id) == ["running"]
        ),
        10,
    )
    assert s.stop(signal.SIGTERM) == 0  # waits for the running job, then exits 0
    assert lines(out) == [f"slow {s.proc.pid}"]
    (run,) = job_runs(paths, slow.job_id)
    assert run.outcome == "ok" and run.report_path == str(out)
    assert run.started is not None and run.finished is not None
    assert abs((run.started - run.scheduled_for).total_seconds()) < 2
    assert outcomes(paths, bad.job_id) == ["failed"]
    assert "failed on purpose" in (job_runs(paths, bad.job_id)[0].message or "")
    log = s.text()
    assert "received SIGTERM" in log and "stopped" in log
    assert f"job {slow.job_id} (probe)" in log and ": ok" in log
    assert get_job(paths, slow.job_id).record.status == "done"
    # Recorded with the runs: one 'scheduled' run per occurrence.
    runs = StateDB(paths.state / "state.db").list_runs()
    sched_runs = {r.options["job_id"]: r for r in runs if r.kind == "scheduled"}
    assert sched_runs[slow.job_id].outcome == "ok"
    assert sched_runs[slow.job_id].options["scheduled_by"]
    assert sched_runs[bad.job_id].outcome == "failed"


def test_restart_persists_and_sigkill_runs_missed_job_within_grace(
    paths: ProjectPaths, schedulers: Callable[[], Scheduler], tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    first = schedulers()
    job = add_job(
        paths,
        kind="probe",
        func=FUNC,
        params={"path": str(out), "tag": "late"},
        trigger=at_in(1.5),
        grace=timedelta(seconds=30),
    )
    assert first.stop(signal.SIGKILL) == -signal.SIGKILL  # dies before the job is due
    time.sleep(2.5)  # the run time passes while no scheduler runs
    assert lines(out) == []
    second = schedulers()
    assert wait_for(lambda: outcomes(paths, job.job_id) == ["ok"], 10)
    assert lines(out) == [f"late {second.proc.pid}"]
    (run,) = job_runs(paths, job.job_id)
    assert run.started is not None and run.started - run.scheduled_for > timedelta(seconds=0.4)


def test_missed_outside_grace_is_recorded(
    paths: ProjectPaths, schedulers: Callable[[], Scheduler], tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    job = add_job(
        paths,
        kind="probe",
        func=FUNC,
        params={"path": str(out), "tag": "missed"},
        trigger=at_in(0.5),
        grace=timedelta(seconds=1),
    )
    time.sleep(2)
    s = schedulers()
    assert wait_for(lambda: outcomes(paths, job.job_id) == ["missed"], 10)
    (run,) = job_runs(paths, job.job_id)
    assert run.started is None and "grace time 1s" in (run.message or "")
    assert lines(out) == []
    assert get_job(paths, job.job_id).record.status == "done"
    assert wait_for(lambda: "missed" in s.text(), 5)


def test_sigkill_during_a_job_is_recorded_interrupted(
    paths: ProjectPaths, schedulers: Callable[[], Scheduler], tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    job = add_job(
        paths,
        kind="probe",
        func=FUNC,
        params={"path": str(out), "tag": "long", "sleep": 30},
        trigger=at_in(0.3),
    )
    first = schedulers()
    assert wait_for(lambda: outcomes(paths, job.job_id) == ["running"], 10)
    with pytest.raises(UsageError, match="running now"):
        cancel_job(paths, job.job_id)
    first.stop(signal.SIGKILL)
    second = schedulers()
    assert wait_for(lambda: outcomes(paths, job.job_id) == ["interrupted"], 10)
    (run,) = job_runs(paths, job.job_id)
    assert str(first.proc.pid) in (run.message or "")
    assert get_job(paths, job.job_id).record.status == "done"
    assert "interrupted" in second.text()
    assert lines(out) == []


def test_two_schedulers_run_each_occurrence_once(
    paths: ProjectPaths, schedulers: Callable[[], Scheduler], tmp_path: Path
) -> None:
    once, every = tmp_path / "once.txt", tmp_path / "every.txt"
    a, b = schedulers(), schedulers()
    one = add_job(
        paths, kind="probe", func=FUNC, params={"path": str(once), "tag": "o"}, trigger=at_in(1)
    )
    rep = add_job(
        paths,
        kind="probe",
        func=FUNC,
        params={"path": str(every), "tag": "e"},
        trigger={"type": "interval", "seconds": 1},
    )
    assert wait_for(lambda: len(lines(every)) >= 4, 15)
    cancel_job(paths, rep.job_id)
    time.sleep(0.5)
    assert a.stop() == 0 and b.stop() == 0
    assert len(lines(once)) == 1
    assert outcomes(paths, one.job_id) == ["ok"]
    runs = job_runs(paths, rep.job_id)
    assert len(lines(every)) == len(runs)
    assert len({r.scheduled_for for r in runs}) == len(runs)
    assert all(r.outcome == "ok" for r in runs)
    # Every run was made by one of the two schedulers.
    pids = {line.split()[1] for line in lines(every) + lines(once)}
    assert pids <= {str(a.proc.pid), str(b.proc.pid)}


# ----------------------------------------------------------------------- K8s export


def export_fixture_jobs(paths: ProjectPaths) -> dict[str, str]:
    ids = {}
    ids["every"] = add_job(
        paths,
        kind="compliance",
        params={"lab": False, "report_dir": "/reports"},
        trigger={"type": "interval", "seconds": 900},
    ).job_id
    ids["cron"] = add_job(
        paths,
        kind="compliance",
        params={"lab": False, "report_dir": None},
        trigger={"type": "cron", "expr": "0 6 * * 1-5", "tz": "Europe/Paris"},
        grace=timedelta(minutes=5),
    ).job_id
    ids["rollback"] = add_job(
        paths,
        kind="rollback",
        params={"run_id": "20261126-100000-abcdef", "lab": False},
        trigger=at_in(3600),
    ).job_id
    ids["odd"] = add_job(
        paths,
        kind="compliance",
        params={"lab": False, "report_dir": None},
        trigger={"type": "interval", "seconds": 2700},
    ).job_id
    ids["lab"] = add_job(
        paths, kind="compliance", params={"lab": True}, trigger={"type": "interval", "seconds": 60}
    ).job_id
    return ids


def test_export_k8s_manifests(paths: ProjectPaths, capsys: pytest.CaptureFixture[str]) -> None:
    ids = export_fixture_jobs(paths)
    code, out, err = cli(
        ["schedule", "export", "--k8s", "--image", "reg.example/fabric:1.0", "--state-pvc", "st"],
        capsys,
    )
    assert code == 0, err
    assert f"{ids['odd']}: every 45m has no crontab equivalent" in err
    assert f"job {ids['lab']} targets the local lab" in err
    docs = {
        d["metadata"]["annotations"]["fabric-netops/job-id"]: d for d in yaml.safe_load_all(out)
    }
    assert set(docs) == {ids["every"], ids["cron"], ids["rollback"]}

    every = docs[ids["every"]]
    assert every["kind"] == "CronJob" and every["apiVersion"] == "batch/v1"
    first = get_job(paths, ids["every"]).record.trigger["start"]
    minute = int(first[14:16]) % 15
    assert every["spec"]["schedule"] == f"{minute}-59/15 * * * *"
    assert every["spec"]["timeZone"] == "Etc/UTC"
    assert every["spec"]["concurrencyPolicy"] == "Forbid"
    assert every["spec"]["startingDeadlineSeconds"] == 600
    pod = every["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["image"] == "reg.example/fabric:1.0"
    assert c["command"] == ["python", "-m", "fabric"]
    assert c["args"][:3] == ["schedule", "exec", "compliance"]
    assert json.loads(c["args"][4]) == {"lab": False, "report_dir": "/reports"}
    assert c["envFrom"] == [{"secretRef": {"name": "fabric-netops-credentials"}}]
    assert pod["volumes"] == [{"name": "state", "persistentVolumeClaim": {"claimName": "st"}}]
    assert {"name": "FABRIC_STATE_DIR", "value": "/var/lib/fabric-netops"} in c["env"]

    cron = docs[ids["cron"]]
    assert cron["spec"]["schedule"] == "0 6 * * 1-5"
    assert cron["spec"]["timeZone"] == "Europe/Paris"
    assert cron["spec"]["startingDeadlineSeconds"] == 300

    rb = docs[ids["rollback"]]
    assert rb["kind"] == "Job"
    (c,) = rb["spec"]["template"]["spec"]["containers"]
    at = get_job(paths, ids["rollback"]).record.trigger["at"]
    assert c["args"][-2:] == ["--not-before", at]
    assert rb["spec"]["backoffLimit"] == 0
    for d in docs.values():
        assert len(d["metadata"]["name"]) <= 52
        assert d["metadata"]["name"].startswith("fabric-")
    # References only: no value of any credential variable is in the manifests.
    assert "value: " not in out.replace("value: /var/lib/fabric-netops", "")
    assert "PASSWORD" not in out


def test_exec_runs_job_function_now(
    paths: ProjectPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(["schedule", "exec", "deploy", "--params", '{"bogus": 1}'], capsys)
    assert code == 2 and "bad parameters" in err


def test_confirm_too_late(
    paths: ProjectPaths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    from fabric.errors import RunFailedError
    from fabric.scheduling import confirm_job_id, run_scheduler

    out_file = tmp_path / "out.txt"
    add_job(
        paths,
        kind="confirm-rollback",
        func=FUNC,
        params={"path": str(out_file), "tag": "rb"},
        trigger=at_in(0.3),
        job_id=confirm_job_id("r9"),
    )
    stop = threading.Event()
    t = threading.Thread(
        target=run_scheduler,
        args=(paths,),
        kwargs={"poll_interval": 0.1, "stop": stop, "handle_signals": False},
    )
    t.start()
    try:
        assert wait_for(lambda: outcomes(paths, confirm_job_id("r9")) == ["ok"], 10)
    finally:
        stop.set()
        t.join(10)
    assert not t.is_alive()
    with pytest.raises(RunFailedError, match="too late to confirm run 'r9': the rollback was ok"):
        confirm_run(paths, "r9")
    code, _, err = cli(["confirm", "r9"], capsys)
    assert code == 3 and "too late" in err
    code, out, _ = cli(["schedule", "history", "--output", "json"], capsys)
    assert code == 0
    (entry,) = json.loads(out)
    assert entry["job_id"] == "confirm-r9" and entry["outcome"] == "ok"
    assert entry["report_path"] == str(out_file) and entry["record_id"]
    code, out, _ = cli(["schedule", "history", "confirm-r9"], capsys)
    assert code == 0 and "confirm-r9" in out and "wrote rb" in out


def test_exec_claims_and_records_one_occurrence(
    paths: ProjectPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fabric.scheduling import JOB_FUNCTIONS
    from fabric.scheduling.service import run_job_once

    monkeypatch.setitem(JOB_FUNCTIONS, "probe", FUNC)
    out = tmp_path / "out.txt"
    when = datetime(2026, 11, 26, 6, tzinfo=UTC)
    params = {"path": str(out), "tag": "k8s"}
    result = run_job_once(paths, "probe", params, job_id="cj-1", scheduled_for=when)
    assert result["outcome"] == "ok" and lines(out) == [f"k8s {os.getpid()}"]
    with pytest.raises(UsageError, match="already run"):
        run_job_once(paths, "probe", params, job_id="cj-1", scheduled_for=when)
    assert lines(out) == [f"k8s {os.getpid()}"]
    (run,) = job_runs(paths, "cj-1")
    assert run.outcome == "ok" and run.scheduled_for == when and run.report_path == str(out)
    (rec,) = [r for r in StateDB(paths.state / "state.db").list_runs() if r.kind == "scheduled"]
    assert rec.outcome == "ok" and rec.options["job_kind"] == "probe"
    with pytest.raises(RuntimeError, match="on purpose"):
        run_job_once(paths, "probe", {**params, "fail": True}, job_id="cj-2")
    assert outcomes(paths, "cj-2") == ["failed"]
