"""The state database: runs, hosts, exact snapshots, file mode."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fabric.errors import UsageError
from fabric.state_db import HostRow, Snapshot, StateDB, new_run_id, utcnow


def _run(db: StateDB, run_id: str | None = None) -> str:
    rid = run_id or new_run_id()
    db.create_run(
        rid,
        kind="deploy",
        inventory="/inv",
        intent_hash="abc",
        dry_run=False,
        options={"mode": "replace", "revert_in": 60},
    )
    return rid


def test_file_mode_is_0600_even_if_created_loose(tmp_path: Path) -> None:
    p = tmp_path / "sub" / "state.db"
    StateDB(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    p.chmod(0o644)
    StateDB(p)
    assert stat.S_IMODE(p.stat().st_mode) == 0o600


def test_snapshot_round_trip_is_exact(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    rid = _run(db)
    config = "hostname sw\n   neighbor 10.0.0.1 password 7 s3cr3t\u00e9\n!\n\n"
    db.save_snapshots(
        rid,
        [
            Snapshot("sw1", "eos_running_config", "running-config", config, utcnow()),
            Snapshot("k8s", "calico_object", "BGPPeer/global-peer", None, utcnow()),
        ],
    )
    rec = db.get_run(rid)
    by_key = {s.key: s for s in rec.snapshots}
    assert by_key["running-config"].content == config
    assert by_key["BGPPeer/global-peer"].content is None
    # Listing never carries snapshots; JSON says only whether each was present.
    assert db.list_runs()[0].snapshots == []
    js = rec.to_json(snapshots=True)
    assert {s["key"]: s["present"] for s in js["snapshots"]} == {
        "BGPPeer/global-peer": False,
        "running-config": True,
    }
    assert "s3cr3t" not in str(js)


def test_hosts_outcome_and_listing_order(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    first = _run(db, "20260101-000000-aaaaaa")
    second = _run(db, "20260101-000001-bbbbbb")
    db.save_host(first, HostRow("sw1", "switch", changed=True, committed=True, session="s1"))
    db.save_host(first, HostRow("sw1", "switch", changed=True, committed=True, confirmed=True))
    db.finish_run(first, "ok")
    rec = db.get_run(first)
    assert rec.outcome == "ok" and rec.finished is not None
    assert len(rec.hosts) == 1 and rec.hosts[0].confirmed and rec.hosts[0].session is None
    assert rec.options == {"mode": "replace", "revert_in": 60}
    assert [r.id for r in db.list_runs()] == [second, first]
    with pytest.raises(ValueError, match="unknown outcome"):
        db.finish_run(first, "great")


def test_unknown_run_is_a_usage_error(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    with pytest.raises(UsageError, match="no run 'nope'"):
        db.get_run("nope")


def test_running_run_of_a_dead_process_shows_interrupted(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    code = (
        "import sys; from pathlib import Path; from fabric.state_db import StateDB;"
        "StateDB(Path(sys.argv[1])).create_run('dead', kind='deploy', inventory='i',"
        " intent_hash='h', dry_run=False, options={})"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "state.db")], check=True)
    rec = db.get_run("dead")
    assert rec.outcome == "running"
    assert rec.display_outcome == "interrupted"
    mine = db.get_run(_run(db))
    assert mine.pid == os.getpid() and mine.display_outcome == "running"
