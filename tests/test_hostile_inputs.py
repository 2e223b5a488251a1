"""Issue 16: every input a user can give ends in a clear error, never a traceback or a hang.

One regression test per defect the issue lists (table-driven: each row is the defect's input,
the command line it was given to, the exit code and the words the one-line error must hold),
then the pieces that fixed them: :mod:`fabric.userfiles`, :mod:`fabric.safeyaml`, the state
database's identity and version, time ranges, empty environment variables, file modes.
The property-based suite over the same inputs is ``tests/test_hostile_properties.py``.
"""

from __future__ import annotations

import doctest
import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hostile import ROOT, assert_clean, make_project, run_cli

from fabric import safeyaml, userfiles
from fabric.errors import ParseError, UsageError
from fabric.inventory import apply_credentials, lab_endpoints_file
from fabric.parsing import parse
from fabric.parsing.engine import MAX_LINE
from fabric.paths import ProjectPaths, env_path, env_value
from fabric.safeyaml import YamlError
from fabric.scheduling.timespec import MAX_AHEAD, parse_duration, parse_time
from fabric.state_db import APPLICATION_ID, SCHEMA_VERSION, StateDB, StateDBError

BGP_HEAD = (
    "BGP summary information for VRF default\n"
    "Router identifier 10.0.0.1, local AS number 65001\n"
    "Neighbor V AS MsgRcvd MsgSent InQ OutQ Up/Down State PfxRcd PfxAcc\n"
)
BGP_SAMPLE = ROOT / "tests/data/parsers/arista_eos/show_ip_bgp_summary/ntc_show_ip_bgp_summary.txt"
#: A "billion laughs": 9 levels of 10 aliases, about 1.2 billion nodes once expanded.
ALIAS_BOMB = "\n".join(
    ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
)


@dataclass
class Case:
    """One defect of the issue: its input (written into a fresh project) and the expected end.

    ``build(project)`` writes the input and returns the command line; ``expect`` is the exit
    code; every string of ``says`` must be in the error output; ``check(project, ran)`` is
    any further assertion (a file left untouched, the same JSON as another encoding ...).
    """

    build: Callable[[Path], list[str]]
    expect: int
    says: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    check: Callable[[Path, Any], None] | None = None


def _file(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def _parse(
    name: str, data: bytes, command: str = "show ip bgp summary"
) -> Callable[[Path], list[str]]:
    def build(p: Path) -> list[str]:
        return ["parse", "arista_eos", command, str(_file(p / name, data))]

    return build


def _inventory_edit(name: str, edit: Callable[[str], str]) -> Callable[[Path], list[str]]:
    def build(p: Path) -> list[str]:
        f = p / "inventory" / name
        f.write_text(edit(f.read_text()))
        return ["validate"]

    return build


def _replace_inventory_file(name: str, make: Callable[[Path], None]) -> Callable[[Path], list[str]]:
    def build(p: Path) -> list[str]:
        f = p / "inventory" / name
        f.unlink()
        make(f)
        return ["validate"]

    return build


def _catalog(text: str) -> Callable[[Path], list[str]]:
    def build(p: Path) -> list[str]:
        cat = _file(p / "catalog.yaml", text)
        return ["run", "compliance", "--from", str(p / "seed"), "--catalog", str(cat)]

    return build


def _from_edit(edit: Callable[[Path], None]) -> Callable[[Path], list[str]]:
    def build(p: Path) -> list[str]:
        edit(p / "seed")
        return ["run", "compliance", "--from", str(p / "seed"), "--output", "json"]

    return build


def _capture_is_a_directory(seed: Path) -> None:
    (seed / "eos-tor-001" / "show_ip_route.txt").unlink()
    (seed / "eos-tor-001" / "show_ip_route.txt").mkdir()
    (seed / "k8s-cluster" / "bgppeers.yaml").unlink()
    (seed / "k8s-cluster" / "bgppeers.yaml").mkdir()


def _items_null(seed: Path) -> None:
    (seed / "k8s-cluster" / "bgppeers.yaml").write_text("kind: BGPPeerList\nitems: null\n")


def _db(content: Callable[[Path], None]) -> Callable[[Path], list[str]]:
    def build(p: Path) -> list[str]:
        content(p / "other.db")
        return ["runs", "--db", str(p / "other.db")]

    return build


def _other_sqlite(path: Path) -> None:
    with sqlite3.connect(path) as c:  # an SQLite file of another program, with a "runs" table
        c.execute("CREATE TABLE runs (x INTEGER)")
        c.execute("CREATE TABLE notes (y TEXT)")
    c.close()


def _unchanged(name: str) -> Callable[[Path, Any], None]:
    """The file ``name`` is byte for byte what it was before the command (a hash of it)."""

    def check(p: Path, ran: Any) -> None:
        assert hashlib.sha256((p / name).read_bytes()).hexdigest() == BEFORE[name]

    return check


BEFORE: dict[str, str] = {}


def _same_json_as_utf8(p: Path, ran: Any) -> None:
    expected = parse("arista_eos", "show ip bgp summary", BGP_SAMPLE.read_text())
    assert json.loads(ran.stdout) == expected.model_dump(mode="json")


def _fast(p: Path, ran: Any) -> None:
    assert ran.seconds < 5, ran.seconds  # before: more than 30 s (see the report/bench)


def _from_report_names(what: str) -> Callable[[Path, Any], None]:
    def check(p: Path, ran: Any) -> None:
        assert what in ran.stdout, ran.stdout[-2000:]

    return check


_NUL = "\x00"

#: The defects of issue 16, in the order the issue lists them (plus the two "harmless" ones).
DEFECTS: dict[str, Case] = {
    # --- decoding
    "01-parse-binary-file": Case(
        _parse("bin.txt", b"\x00\xff\xfe binary \x80\x81"), 5, ("not UTF-8 text", "offset 1")
    ),
    "02-parse-utf16-file-is-decoded": Case(
        _parse("u16.txt", BGP_SAMPLE.read_text().encode("utf-16")), 0, (), check=_same_json_as_utf8
    ),
    "03-parse-invalid-utf8": Case(
        _parse("bad.txt", BGP_HEAD.encode() + b"10.0.0.2 4 \xe9\n"),
        5,
        (f"bad.txt: not UTF-8 text: invalid byte 0xe9 at offset {len(BGP_HEAD) + 11}",),
    ),
    "04-inventory-invalid-utf8": Case(
        _replace_inventory_file("groups.yaml", lambda f: _file(f, b"calico_nodes: {}\nx: \xe9\n")),
        2,
        ("groups.yaml", "not UTF-8 text", "offset 20", "[encoding]"),
    ),
    "05-run-definition-invalid-utf8": Case(
        lambda p: (
            _file(p / "tasks" / "bad.yaml", b"workflow: render\ndescription: \xe9\n"),
            ["run", "bad"],
        )[1],
        2,
        ("tasks/bad.yaml: not UTF-8 text", "offset 30"),
    ),
    # --- paths
    "06-inventory-file-is-a-directory": Case(
        _replace_inventory_file("groups.yaml", lambda f: f.mkdir()),
        2,
        ("groups.yaml", "is a directory", "expected a YAML file"),
    ),
    "07-symlink-loop": Case(
        lambda p: (os.symlink("loop", p / "loop"), ["validate", "--inventory", str(p / "loop")])[1],
        2,
        ("loop: is a symlink loop", "expected the inventory folder"),
    ),
    "07b-inventory-file-symlink-loop": Case(
        _replace_inventory_file("defaults.yaml", lambda f: os.symlink(f.name, f)),
        2,
        ("defaults.yaml", "is a symlink loop"),
    ),
    "08-run-name-too-long": Case(
        lambda p: ["run", "a" * 300], 2, ("the name is too long for a file in tasks/",)
    ),
    "08b-run-name-with-nul": Case(lambda p: ["run", f"a{_NUL}b"], 2, ("NUL byte",)),
    "09-from-capture-is-a-directory": Case(
        _from_edit(_capture_is_a_directory),
        5,
        ("not judged",),
        check=_from_report_names("is a directory"),
    ),
    "10-from-items-null": Case(
        # items: null is an empty list (Go's nil slice): the global peer is then missing
        _from_edit(_items_null),
        4,
        ("compliance failed", "VerifyCalicoObjectDrift"),
    ),
    # --- YAML
    "11-recursive-alias-sequence": Case(
        _inventory_edit("groups.yaml", lambda t: t + "\nx_rec: &r [a, [b, *r]]\n"),
        2,
        ("host x_rec", "recursive alias", "[yaml-limit]"),
    ),
    "12-recursive-alias-mapping": Case(
        _inventory_edit("groups.yaml", lambda t: t + "\nx_rec: &m {a: *m}\n"),
        2,
        ("host x_rec: field a:", "recursive alias"),
    ),
    "13-malformed-tagged-scalar-inventory": Case(
        _inventory_edit("groups.yaml", lambda t: t.replace("  port: 22", "  port: !!int 0b_")),
        2,
        ("groups.yaml: host calico_nodes: field port: line 4: invalid int value '0b_'",),
    ),
    "13b-malformed-tagged-scalar-catalog": Case(
        _catalog("checks:\n  - VerifySwitchRoutes: {vrf: !!int 0b_}\n"),
        2,
        ("catalog.yaml: line 2: field checks.0.VerifySwitchRoutes.vrf: invalid int value",),
    ),
    "14-5000-digit-integer-inventory": Case(
        _inventory_edit("groups.yaml", lambda t: t.replace("  port: 22", "  port: " + "9" * 5000)),
        2,
        ("host calico_nodes: field port: line 4", "4300 digits", "[invalid-value]"),
    ),
    "14b-5000-digit-integer-catalog": Case(
        _catalog("checks:\n  - VerifySwitchRoutes: {vrf: " + "9" * 5000 + "}\n"),
        2,
        ("catalog.yaml: line 2", "4300 digits"),
    ),
    # --- state database
    "15-db-not-sqlite": Case(
        _db(lambda f: _file(f, "not sqlite at all\n")),
        2,
        ("not a fabric state database (not an SQLite file)",),
        check=_unchanged("other.db"),
    ),
    "16-db-another-schema": Case(
        _db(_other_sqlite),
        2,
        ("not a fabric state database (it holds tables notes)",),
        check=_unchanged("other.db"),
    ),
    # --- times and durations
    "17-at-year-1": Case(
        lambda p: ["schedule", "deploy", "--at", "0001-01-01T00:00+01:00"],
        2,
        ("--at: time '0001-01-01T00:00+01:00' is out of range",),
    ),
    "17b-in-99999999d": Case(
        lambda p: ["schedule", "deploy", "--in", "99999999d"], 2, ("--in:", "at most 3650 days")
    ),
    "17c-duration-of-20-digits": Case(
        lambda p: ["schedule", "compliance", "--every", "12345678901234567890s"],
        2,
        ("--every:", "out of range"),
    ),
    "17d-confirm-within-20-digits": Case(
        lambda p: ["run", "deploy", "--lab", "--confirm-within", "12345678901234567890"],
        2,
        ("--confirm-within:", "out of range"),
    ),
    # --- the parser hang
    "18-one-megabyte-line": Case(
        _parse("big.txt", (BGP_HEAD + "x" + " " * 1_000_000 + "y\n").encode()),
        5,
        ("line 4 is 1,000,002 characters long",),
        check=_fast,
    ),
    "18b-long-line-of-spaces-under-the-limit": Case(
        # what made the regex quadratic, kept under the line limit: now linear
        _parse("spaces.txt", (BGP_HEAD + "x" + " " * 60_000 + "y\n").encode()),
        5,
        ("first unaccounted line: 'x",),
        check=_fast,
    ),
    # --- a check that cannot fail
    "19-empty-catalog": Case(
        _catalog("checks: []\n"), 2, ("field checks: an empty catalog runs nothing",)
    ),
    # --- the two that looked harmless
    "20-alias-bomb-inventory": Case(
        _inventory_edit("groups.yaml", lambda t: t + "\n" + ALIAS_BOMB + "\n"),
        2,
        ("aliases expand the document to", "refused unexpanded", "[yaml-limit]"),
        check=_fast,
    ),
    "20b-alias-bomb-catalog": Case(
        _catalog(ALIAS_BOMB + "\nchecks: [VerifySwitchRoutes]\n"),
        2,
        ("aliases expand the document to",),
        check=_fast,
    ),
    "21-empty-lab-dir-variable": Case(
        # FABRIC_LAB_DIR= (set, empty) must mean <state>/lab, not the working directory
        lambda p: ["run", "compliance", "--lab"],
        2,
        ("--lab given but no lab is running", ".fabric/lab/endpoints.json"),
        env={"FABRIC_LAB_DIR": ""},
    ),
    # --- found on the way: an operator's Jinja2 templates (``run render``)
    "x1-template-not-utf8": Case(
        lambda p: (
            _file(p / "templates/arista_eos/bgp.j2", b"hostname {{ x \xff\n"),
            ["run", "render", "--out", str(p / "build")],
        )[1],
        2,
        ("template arista_eos/bgp.j2: not UTF-8 text: invalid byte 0xff at offset 14",),
    ),
    "x2-template-undefined-variable": Case(
        lambda p: (
            _file(p / "templates/calico/node.yaml.j2", "{{ nope }}\n"),
            _file(p / "templates/calico/bgpconfiguration.yaml.j2", "{{ nope }}\n"),
            ["run", "render", "--out", str(p / "build")],
        )[2],
        2,
        ("template calico/bgpconfiguration.yaml.j2: UndefinedError: 'nope' is undefined",),
    ),
    "x3-output-folder-under-a-file": Case(
        lambda p: (_file(p / "afile", ""), ["run", "render", "--out", str(p / "afile" / "x")])[1],
        2,
        ("a part of the path is not a directory; cannot write the render of",),
    ),
}


@pytest.mark.parametrize("name", list(DEFECTS))
def test_issue16_regression(name: str, tmp_path: Path) -> None:
    case = DEFECTS[name]
    env = make_project(tmp_path)
    env.update(case.env)
    args = case.build(tmp_path)
    for f in tmp_path.glob("*.db"):
        BEFORE[f.name] = hashlib.sha256(f.read_bytes()).hexdigest()
    ran = run_cli(args, env=env)
    assert_clean(ran, {case.expect}, args)
    for words in case.says:
        assert words in ran.stderr, f"{words!r} not in:\n{ran.stderr}"
    if ran.code:
        # one line says what is wrong (a failed compliance run also prints its report)
        assert ran.stderr.strip().splitlines()[-1].lower().startswith("error"), ran.stderr
    if case.check is not None:
        case.check(tmp_path, ran)


# --------------------------------------------------------------------------- userfiles


def test_userfiles_doctests() -> None:
    for module in (userfiles, safeyaml):
        assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize(
    ("data", "text", "error"),
    [
        # without a BOM, UTF-16 is not guessed: ASCII in UTF-16 is valid UTF-8 (with NULs),
        # which the parsers then refuse line by line
        ("ip\n".encode("utf-16-le"), "i\x00p\x00\n\x00", None),
        (b"\xff\xfe" + "a\n".encode("utf-16-le"), "a\n", None),
        (b"\xfe\xff" + "a\n".encode("utf-16-be"), "a\n", None),
        (b"\xff\xfea", None, "not UTF-16-LE text: invalid byte 0x61 at offset 2"),
        (b"\xef\xbb\xbfa\n", "a\n", None),
        (b"ok\n\xc3", None, "invalid byte 0xc3 at offset 3"),
    ],
)
def test_device_output_decoding(data: bytes, text: str | None, error: str | None) -> None:
    if error is None:
        assert userfiles.decode_device_output(data, "out.txt") == text
    else:
        with pytest.raises(UsageError, match=error):
            userfiles.decode_device_output(data, "out.txt")


def test_a_fifo_is_refused_not_read_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        userfiles.read_text(fifo, "a YAML file")


# --------------------------------------------------------------------------- safeyaml

#: (document, problem kind or None when it loads, line, path)
YAML_CASES: list[tuple[str, str | None, int, tuple[str, ...]]] = [
    ("a: &x {b: 1}\nc: *x\n", None, 0, ()),
    ("a: &x {b: 1}\nc: {<<: *x, d: 2}\n", None, 0, ()),
    ("a: [1, 0x1f, 1.5, true, null, 2001-01-01]\n", None, 0, ()),
    ("x: &r [a, [b, *r]]\n", "alias", 1, ("x", "1", "1")),
    ("x:\n  y: &m {a: *m}\n", "alias", 2, ("x", "y", "a")),
    ("a:\n  port: !!int 0b_\n", "value", 2, ("a", "port")),
    ("a:\n  - b: " + "9" * 5000 + "\n", "value", 2, ("a", "0", "b")),
    ("a: 2001-13-45\n", "value", 1, ("a",)),
    ("a: !custom 1\n", "value", 1, ("a",)),
    ("{[a]: 1}\n", "value", 1, ()),
    ("[" * 101 + "]" * 101, "depth", 1, ()),
    ("a: [\n", "syntax", 2, ()),
    ("a: 1\n---\nb: 2\n", "syntax", 2, ()),
    (ALIAS_BOMB, "alias", 8, ()),
]


@pytest.mark.parametrize(("text", "kind", "line", "path"), YAML_CASES)
def test_safeyaml_refusals(text: str, kind: str | None, line: int, path: tuple[str, ...]) -> None:
    if kind is None:
        assert safeyaml.load(text, "f.yaml") == __import__("yaml").safe_load(text)
        return
    with pytest.raises(YamlError) as info:
        safeyaml.load(text, "f.yaml")
    (problem,) = info.value.problems
    assert (problem.kind, problem.line) == (kind, line), problem
    assert problem.path[: len(path)] == path, problem


def test_alias_expansion_limit_is_relative_to_the_document() -> None:
    # 20 references to a 10,000-node list: 200,000 nodes from 10,000 (20x): refused
    big = "base: &b [" + ", ".join(["x"] * 10_000) + "]\nuses: [" + ", ".join(["*b"] * 20) + "]\n"
    with pytest.raises(YamlError, match="more than 10 times"):
        safeyaml.load(big, "f.yaml")
    # 5 references (5x): within the limit, each use its own copy
    ok = big.replace(", ".join(["*b"] * 20), ", ".join(["*b"] * 5))
    data = safeyaml.load(ok, "f.yaml")
    assert len(data["uses"]) == 5 and data["uses"][0] is not data["uses"][1]


def test_load_all_reads_every_document() -> None:
    assert safeyaml.load_all("a: 1\n---\n---\nb: [*x]\n".replace("*x", "2"), "f") == [
        {"a": 1},
        None,
        {"b": [2]},
    ]


# --------------------------------------------------------------------------- parsing engine


@pytest.mark.parametrize("engine", ["lines", "ttp"])
def test_line_limit_names_the_line(engine: str) -> None:
    at_limit = BGP_HEAD + "x" * MAX_LINE + "\n"
    with pytest.raises(ParseError) as info:
        parse("arista_eos", "show ip bgp summary", at_limit, engine=engine)  # type: ignore[arg-type]
    assert "characters long" not in str(info.value)  # read, then not accounted for
    assert len(str(info.value)) < 400  # the message shows the line's start only
    over = BGP_HEAD + "x" * (MAX_LINE + 1) + "\n"
    with pytest.raises(ParseError, match="line 4 is 65,537 characters long"):
        parse("arista_eos", "show ip bgp summary", over, engine=engine)  # type: ignore[arg-type]


def test_a_hostile_neighbor_word_is_linear_and_still_split() -> None:
    # a 60 KB word before the address: the description split looks at its tail only
    head = BGP_HEAD.replace("Neighbor V", "Description Neighbor V")
    row = "x " + "b" * 60_000 + "10.0.0.2 4 65001 10 10 0 0 00:01:00 Estab 1 1\n"
    state = parse("arista_eos", "show ip bgp summary", head + row)
    peer = state.model_dump()["vrfs"]["default"]["peers"][0]
    assert (peer["neighbor"], len(peer["description"])) == ("10.0.0.2", 60_002)
    # a counter of 5,000 digits: more than int() reads; a ParseError, not a ValueError
    row = "10.0.0.2 4 65001 " + "9" * 5000 + " 10 0 0 00:01:00 Estab 1 1\n"
    with pytest.raises(ParseError, match="a value cannot be read"):
        parse("arista_eos", "show ip bgp summary", BGP_HEAD + row)


# --------------------------------------------------------------------------- state database


def _header(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:100]
    return int.from_bytes(head[68:72], "big"), int.from_bytes(head[60:64], "big")


def test_a_new_state_database_says_it_is_ours(tmp_path: Path) -> None:
    db = tmp_path / "state" / "state.db"
    StateDB(db)
    assert _header(db) == (APPLICATION_ID, SCHEMA_VERSION)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_a_state_database_from_before_the_version_is_adopted(tmp_path: Path) -> None:
    from fabric.state_db import _SCHEMA

    db = tmp_path / "state.db"
    with sqlite3.connect(db) as c:
        c.executescript(_SCHEMA)
    c.close()
    assert _header(db) == (0, 0)
    StateDB(db).list_runs()
    assert _header(db) == (APPLICATION_ID, SCHEMA_VERSION)


def test_a_newer_state_database_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    StateDB(db)
    with sqlite3.connect(db) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    c.close()
    before = db.read_bytes()
    with pytest.raises(StateDBError, match="written by a newer fabric-netops"):
        StateDB(db)
    assert db.read_bytes() == before


def test_the_scheduler_refuses_a_foreign_database_too(tmp_path: Path) -> None:
    from fabric.scheduling.store import open_engine

    paths = ProjectPaths.discover(root=tmp_path)
    db = paths.state / "state.db"
    _file(db, "SQLite format 3\x00" + "x" * 200)
    with pytest.raises(StateDBError, match="not a fabric state database"):
        open_engine(paths)


def test_the_scheduler_and_the_runs_share_one_database(tmp_path: Path) -> None:
    from fabric.scheduling.store import open_engine

    paths = ProjectPaths.discover(root=tmp_path)
    open_engine(paths).dispose()
    db = paths.state / "state.db"
    StateDB(db).list_runs()  # the scheduler's tables are known: the file is ours
    assert _header(db) == (APPLICATION_ID, SCHEMA_VERSION)


# --------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1s", True),
        ("3650d", True),
        ("3651d", False),
        ("521w", True),
        ("0s", False),
        ("0000000000000000000001s", True),
        ("1" * 5000 + "s", False),
        ("99999999d", False),
    ],
)
def test_duration_range(text: str, ok: bool) -> None:
    if ok:
        assert parse_duration(text, option="--in").total_seconds() >= 1
    else:
        with pytest.raises(UsageError, match=r"^--in: "):
            parse_duration(text, option="--in")


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:00+01:00", "9999-12-31T23:59-01:00", "9999-12-31T23:59:59", "2000-01-01"],
)
def test_times_outside_the_range_name_the_option(text: str) -> None:
    with pytest.raises(UsageError, match=r"^--at: "):
        parse_time(text, option="--at")


def test_ten_years_ahead_is_the_limit() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time((now + MAX_AHEAD).isoformat(), now=now) == now + MAX_AHEAD
    with pytest.raises(UsageError, match="at most 3650 days"):
        parse_time((now + MAX_AHEAD + timedelta(seconds=1)).isoformat(), now=now)


# --------------------------------------------------------------------------- environment, modes


def test_empty_environment_variables_mean_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fabric.cli.lab import lab_dir_for

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FABRIC_LAB_DIR", "")
    monkeypatch.setenv("FABRIC_STATE_DIR", "")
    monkeypatch.setenv("FABRIC_ROOT", "")
    assert env_value("FABRIC_LAB_DIR") is None and env_path("FABRIC_LAB_DIR") is None
    paths = ProjectPaths.discover(root=tmp_path)
    assert paths.state == tmp_path / ".fabric"
    assert lab_dir_for(paths, None) == tmp_path / ".fabric" / "lab"
    assert lab_endpoints_file(paths) == tmp_path / ".fabric" / "lab" / "endpoints.json"


def test_empty_credential_variables_do_not_blank_the_inventory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = SimpleNamespace(platform="eos", username="ops", password=None)
    nr = SimpleNamespace(inventory=SimpleNamespace(hosts={"sw-1": host}))
    monkeypatch.setenv("FABRIC_EOS_USERNAME", "")
    monkeypatch.setenv("FABRIC_SW_1_PASSWORD", "")
    monkeypatch.setenv("FABRIC_EOS_PASSWORD", "from-env")
    apply_credentials(nr)  # type: ignore[arg-type]
    assert (host.username, host.password) == ("ops", "from-env")


def test_lab_key_folders_are_private(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    from fabric.lab.pki import ensure_ca, issue_cert

    lab_dir = tmp_path / "lab"
    _ca_cert, ca_key = ensure_ca(lab_dir)
    _cert, key = issue_cert(lab_dir, "sw", ["127.0.0.1"])
    assert stat.S_IMODE(lab_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    for secret in (ca_key, key):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600


# --------------------------------------------------------------------------- the judge itself


def test_the_judge_sees_a_traceback_and_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    """assert_clean fails on an escaped exception; run_cli interrupts what runs too long."""
    import hostile

    import fabric.parsing

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(fabric.parsing, "parse", boom)
    ran = run_cli(["parse", "calico", "calicoctl node status"], stdin=b"x\n")
    assert ran.code is None and "RuntimeError: a bug" in ran.escaped
    with pytest.raises(AssertionError, match="a traceback"):
        assert_clean(ran, {0, 5})

    def slow(*args: object, **kwargs: object) -> None:
        import time

        time.sleep(5)

    monkeypatch.setattr(fabric.parsing, "parse", slow)
    monkeypatch.setattr(hostile, "PER_INPUT_SECONDS", 0.2)
    with pytest.raises(hostile.Hang):
        run_cli(["parse", "calico", "calicoctl node status"], stdin=b"x\n")
