"""The state database: deploy/rollback runs, per-host outcomes and pre-change snapshots.

One SQLite file (default ``<state>/state.db``, mode 0600) shared with the scheduler, which keeps
its own tables there. Three tables belong to this module:

``runs``
    one row per deploy or rollback: id, kind, times, user, host, pid, intent hash, options,
    outcome and the error that ended it.
``run_hosts``
    one row per host touched by a run: changed/committed/confirmed/rolled-back flags, the
    error, the (masked) diff printed to the operator and the EOS config session name (so
    another process can confirm or abort a pending commit-confirm).
``snapshots``
    the exact pre-change state: each switch's full running-config and each Calico object's
    full JSON, or its absence (``content`` NULL). Exact means secrets included, hence the
    file mode.

Every public method opens its own short connection, so the database may be used from Nornir's
worker threads and from several processes at once (SQLite serialises the writers).

The file says it is ours: SQLite's ``application_id`` is :data:`APPLICATION_ID` and its
``user_version`` the :data:`SCHEMA_VERSION` of the tables. :func:`prepare_state_db` (run by
:class:`StateDB` and by the scheduler's store before either uses the file) checks both before
anything is written: a file that is not SQLite, or an SQLite database of another program, is
refused with one line and left untouched; a database written by a newer version is refused;
an older one is migrated (version 0: a database from before the version was kept, holding only
our tables, is adopted).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import json
import os
import secrets
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from fabric.errors import UsageError
from fabric.models.outcome import FINAL_OUTCOMES, Outcome
from fabric.process import pid_alive
from fabric.userfiles import describe_os_error, private_dir

RunKind = Literal["deploy", "rollback", "compliance", "scheduled"]
SnapshotKind = Literal["eos_running_config", "calico_object"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    user TEXT NOT NULL,
    hostname TEXT NOT NULL,
    pid INTEGER NOT NULL,
    inventory TEXT NOT NULL,
    intent_hash TEXT NOT NULL,
    dry_run INTEGER NOT NULL,
    options TEXT NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT,
    parent_run TEXT
);
CREATE TABLE IF NOT EXISTS run_hosts (
    run_id TEXT NOT NULL REFERENCES runs(id),
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    changed INTEGER NOT NULL DEFAULT 0,
    committed INTEGER NOT NULL DEFAULT 0,
    confirmed INTEGER NOT NULL DEFAULT 0,
    rolled_back INTEGER NOT NULL DEFAULT 0,
    session TEXT,
    diff TEXT NOT NULL DEFAULT '',
    error TEXT,
    PRIMARY KEY (run_id, host)
);
CREATE TABLE IF NOT EXISTS snapshots (
    run_id TEXT NOT NULL REFERENCES runs(id),
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    content TEXT,
    taken TEXT NOT NULL,
    PRIMARY KEY (run_id, host, key)
);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started);
"""

#: SQLite ``application_id`` of a fabric state database: "FABR" in ASCII.
APPLICATION_ID = 0x46414252
#: Version of the schema (``PRAGMA user_version``): 1 = the tables above, the scheduler's and
#: APScheduler's. A file with a higher version is refused; a lower one migrated.
SCHEMA_VERSION = 1
#: Every table a fabric state database may hold: ours, the scheduler's
#: (:mod:`fabric.scheduling.store`), APScheduler's job store, SQLite's own.
KNOWN_TABLES = frozenset(
    {
        "runs",
        "run_hosts",
        "snapshots",
        "schedule_jobs",
        "schedule_job_runs",
        "apscheduler_jobs",
        "sqlite_sequence",
    }
)
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StateDBError(UsageError):
    """The state database file is not ours, not readable, or written by a newer version."""


def prepare_state_db(path: Path) -> None:
    """Make ``path`` a fabric state database: create it (mode 0600), or check it is one.

    A missing file is created (its folder with mode 0700 when missing too). An existing one is
    read, never written, until it proves to be ours (module docstring); then a version-0
    database is stamped and the tables are created if missing.

    Raises:
        StateDBError: a directory, an unreadable file, not SQLite, another program's database,
            or a newer schema version (one line naming the file).
    """
    try:
        if path.is_dir():
            raise StateDBError(f"{path}: is a directory; expected a state database file")
        if not path.exists():
            private_dir(path.parent)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        with path.open("rb") as fh:
            header = fh.read(100)
    except (OSError, ValueError, RuntimeError) as exc:
        raise StateDBError(f"{path}: {describe_os_error(exc)}; expected a state database") from None
    if header:
        _check_header(path, header)
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as conn, conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:  # another process upgraded it meanwhile
                raise StateDBError(_newer(path, version))
            conn.executescript(_SCHEMA)
            if version < SCHEMA_VERSION:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        if path.stat().st_mode & 0o077:  # ours: tighten it (it holds exact configurations)
            path.chmod(0o600)
    except (sqlite3.Error, UnicodeDecodeError) as exc:  # damaged: text that is not UTF-8 ...
        raise StateDBError(f"{path}: not a usable state database ({exc})") from None


def _newer(path: Path, version: int) -> str:
    return (
        f"{path}: a state database of schema version {version}, written by a newer "
        f"fabric-netops (this one reads up to version {SCHEMA_VERSION}); refusing to use it"
    )


def _check_header(path: Path, header: bytes) -> None:
    """Refuse a non-empty file that is not a fabric state database (read-only checks)."""
    if not header.startswith(_SQLITE_MAGIC) or len(header) < 100:
        raise StateDBError(f"{path}: not a fabric state database (not an SQLite file)")
    app_id = int.from_bytes(header[68:72], "big")
    version = int.from_bytes(header[60:64], "big", signed=True)
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise StateDBError(_newer(path, version))
        return
    if app_id != 0:
        raise StateDBError(
            f"{path}: not a fabric state database (an SQLite file of another program, "
            f"application id 0x{app_id:08x})"
        )
    # version 0: ours from before the version was kept, an empty database, or someone else's
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            runs = {r[1] for r in conn.execute("PRAGMA table_info(runs)")}
    except (sqlite3.Error, UnicodeDecodeError) as exc:
        raise StateDBError(f"{path}: not a fabric state database ({exc})") from None
    foreign = sorted(tables - KNOWN_TABLES)
    if foreign:
        shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
        raise StateDBError(f"{path}: not a fabric state database (it holds tables {shown})")
    if "runs" in tables and not {"id", "kind", "started", "outcome"} <= runs:
        raise StateDBError(f"{path}: not a fabric state database (its runs table is not ours)")


def utcnow() -> str:
    """The current UTC time as ISO 8601 with seconds (``2026-11-26T10:00:00Z``)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_run_id() -> str:
    """A sortable, unique run id: ``YYYYMMDD-HHMMSS-xxxxxx`` (UTC, random suffix)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{now}-{secrets.token_hex(3)}"


def current_user() -> str:
    """Login name of the operator, best effort."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return str(os.getuid())


@dataclass
class HostRow:
    """What happened to one host in one run."""

    host: str
    kind: str
    changed: bool = False
    committed: bool = False
    confirmed: bool = False
    rolled_back: bool = False
    session: str | None = None
    diff: str = ""
    error: str | None = None


@dataclass
class Snapshot:
    """One stored pre-change state: a running-config or one Calico object (None: absent)."""

    host: str
    kind: str
    key: str
    content: str | None
    taken: str


@dataclass
class RunRecord:
    """One run with its hosts (and, when asked for, its snapshots)."""

    id: str
    kind: str
    started: str
    finished: str | None
    user: str
    hostname: str
    pid: int
    inventory: str
    intent_hash: str
    dry_run: bool
    options: dict[str, Any]
    outcome: Outcome
    error: str | None = None
    parent_run: str | None = None
    hosts: list[HostRow] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)

    def host(self, name: str) -> HostRow | None:
        """The row of host ``name``, if the run touched it."""
        return next((h for h in self.hosts if h.host == name), None)

    def process_alive(self) -> bool:
        """Whether the process that ran this run still runs (same machine only)."""
        if self.hostname != socket.gethostname():
            return True  # cannot tell: assume alive
        return pid_alive(self.pid)

    @property
    def display_outcome(self) -> Outcome:
        """The outcome, ``interrupted`` for a ``running`` run whose process is gone."""
        if self.outcome is Outcome.RUNNING and not self.process_alive():
            return Outcome.INTERRUPTED
        return self.outcome

    def to_json(self, *, snapshots: bool = False) -> dict[str, Any]:
        """JSON-ready dict; snapshot contents only with ``snapshots`` (they hold secrets)."""
        d = asdict(self)
        d["outcome"] = self.display_outcome
        if snapshots:
            d["snapshots"] = [
                {"host": s.host, "kind": s.kind, "key": s.key, "present": s.content is not None}
                for s in self.snapshots
            ]
        else:
            d.pop("snapshots")
        return d


class StateDB:
    """Access to the runs/snapshots tables of one SQLite file.

    Args:
        path: the database file; created with mode 0600 (and its folder) when missing.

    Raises:
        StateDBError: the file is not a fabric state database (:func:`prepare_state_db`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        prepare_state_db(path)

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = sqlite3.connect(self.path, timeout=30)
        except sqlite3.Error as exc:
            raise StateDBError(f"{self.path}: cannot open the state database ({exc})") from None
        conn.row_factory = sqlite3.Row
        try:
            with conn:
                yield conn
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # damaged after the check
            raise StateDBError(f"{self.path}: state database error: {exc}") from None
        except (ValueError, TypeError, LookupError) as exc:  # a row this version cannot read
            raise StateDBError(f"{self.path}: a row this version cannot read: {exc}") from None
        finally:
            conn.close()

    # ------------------------------------------------------------------ runs

    def create_run(
        self,
        run_id: str,
        *,
        kind: RunKind,
        inventory: str,
        intent_hash: str,
        dry_run: bool,
        options: dict[str, Any],
        parent_run: str | None = None,
    ) -> RunRecord:
        """Insert a new run in state ``running`` and return it."""
        rec = RunRecord(
            id=run_id,
            kind=kind,
            started=utcnow(),
            finished=None,
            user=current_user(),
            hostname=socket.gethostname(),
            pid=os.getpid(),
            inventory=inventory,
            intent_hash=intent_hash,
            dry_run=dry_run,
            options=options,
            outcome=Outcome.RUNNING,
            parent_run=parent_run,
        )
        with self._conn() as c:
            c.execute(
                "INSERT INTO runs (id, kind, started, user, hostname, pid, inventory, intent_hash,"
                " dry_run, options, outcome, parent_run) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    rec.id,
                    rec.kind,
                    rec.started,
                    rec.user,
                    rec.hostname,
                    rec.pid,
                    rec.inventory,
                    rec.intent_hash,
                    int(dry_run),
                    json.dumps(options, sort_keys=True, default=str),
                    rec.outcome,
                    parent_run,
                ),
            )
        return rec

    def finish_run(self, run_id: str, outcome: Outcome, error: str | None = None) -> None:
        """Record the end of a run."""
        if outcome not in FINAL_OUTCOMES:
            raise ValueError(f"unknown outcome {outcome!r}")
        with self._conn() as c:
            c.execute(
                "UPDATE runs SET finished = ?, outcome = ?, error = ? WHERE id = ?",
                (utcnow(), outcome, error, run_id),
            )

    def set_outcome(self, run_id: str, outcome: Outcome) -> None:
        """Change the outcome of a finished run (e.g. ``rolled-back`` after a later rollback)."""
        with self._conn() as c:
            c.execute("UPDATE runs SET outcome = ? WHERE id = ?", (outcome, run_id))

    def save_host(self, run_id: str, row: HostRow) -> None:
        """Insert or replace the row of one host."""
        with self._conn() as c:
            c.execute(
                "INSERT OR REPLACE INTO run_hosts (run_id, host, kind, changed, committed,"
                " confirmed, rolled_back, session, diff, error) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    run_id,
                    row.host,
                    row.kind,
                    int(row.changed),
                    int(row.committed),
                    int(row.confirmed),
                    int(row.rolled_back),
                    row.session,
                    row.diff,
                    row.error,
                ),
            )

    def save_snapshots(self, run_id: str, snapshots: list[Snapshot]) -> None:
        """Store exact pre-change states (one transaction)."""
        with self._conn() as c:
            c.executemany(
                "INSERT OR REPLACE INTO snapshots (run_id, host, kind, key, content, taken)"
                " VALUES (?,?,?,?,?,?)",
                [(run_id, s.host, s.kind, s.key, s.content, s.taken) for s in snapshots],
            )

    def get_run(self, run_id: str, *, with_snapshots: bool = True) -> RunRecord:
        """Load one run with its hosts and snapshots.

        Raises:
            UsageError: no run has this id.
        """
        with self._conn() as c:
            row = c.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
            if row is None:
                raise UsageError(f"no run {run_id!r} in {self.path}")
            rec = _run_from_row(row)
            rec.hosts = [
                _host_from_row(r)
                for r in c.execute(
                    "SELECT * FROM run_hosts WHERE run_id = ? ORDER BY host", (run_id,)
                )
            ]
            if with_snapshots:
                rec.snapshots = [
                    Snapshot(r["host"], r["kind"], r["key"], r["content"], r["taken"])
                    for r in c.execute(
                        "SELECT * FROM snapshots WHERE run_id = ? ORDER BY host, key", (run_id,)
                    )
                ]
        return rec

    def list_runs(self, limit: int = 50) -> list[RunRecord]:
        """The most recent runs first, with their hosts (no snapshots)."""
        with self._conn() as c:
            rows = c.execute(
                "SELECT * FROM runs ORDER BY started DESC, id DESC LIMIT ?", (limit,)
            ).fetchall()
            out = [_run_from_row(r) for r in rows]
            for rec in out:
                rec.hosts = [
                    _host_from_row(r)
                    for r in c.execute(
                        "SELECT * FROM run_hosts WHERE run_id = ? ORDER BY host", (rec.id,)
                    )
                ]
        return out


def _run_from_row(row: sqlite3.Row) -> RunRecord:
    return RunRecord(
        id=row["id"],
        kind=row["kind"],
        started=row["started"],
        finished=row["finished"],
        user=row["user"],
        hostname=row["hostname"],
        pid=row["pid"],
        inventory=row["inventory"],
        intent_hash=row["intent_hash"],
        dry_run=bool(row["dry_run"]),
        options=json.loads(row["options"]),
        outcome=Outcome(row["outcome"]),
        error=row["error"],
        parent_run=row["parent_run"],
    )


def _host_from_row(r: sqlite3.Row) -> HostRow:
    return HostRow(
        host=r["host"],
        kind=r["kind"],
        changed=bool(r["changed"]),
        committed=bool(r["committed"]),
        confirmed=bool(r["confirmed"]),
        rolled_back=bool(r["rolled_back"]),
        session=r["session"],
        diff=r["diff"],
        error=r["error"],
    )


def default_db_path(state: Path) -> Path:
    """``<state>/state.db``."""
    return state / "state.db"
