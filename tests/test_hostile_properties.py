"""Property-based: whatever a careless or hostile user gives, the CLI ends cleanly and in time.

Hypothesis feeds random bytes, truncations, invalid encodings, huge lines, recursive YAML and
mutated scalars to every parser (``parse``), the inventory loader (``validate``, ``run
render``), the check catalog loader (``run compliance --catalog``), saved-output folders
(``run compliance --from``) and the time options (``schedule ...``, ``run deploy
--confirm-within``). Each input must end in a documented exit code (docs/architecture.md,
"Inputs and limits"), with no traceback, within :data:`hostile.PER_INPUT_SECONDS` (a hard
SIGALRM limit: a regex stuck in backtracking is interrupted and reported).

Profiles: ``ci`` (the default: few, derandomized examples, so ``make test`` stays in budget)
and ``long`` (``FABRIC_HYPOTHESIS_PROFILE=long``: many more, random each run).
Nothing here contacts anything: ``--lab`` finds an empty lab folder, the inventory's real
addresses are never dialled (and the test session's loopback guard would refuse them).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hostile import ROOT, assert_clean, make_project, run_cli, time_limit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fabric import safeyaml
from fabric.parsing import PARSERS

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,  # the hard per-input limit of hostile.run_cli bounds the time instead
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=500,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("FABRIC_HYPOTHESIS_PROFILE") or "ci")


def scaled(n: int) -> settings:
    """``n`` examples in the ci profile, ``n`` times the long profile's factor otherwise."""
    current = settings()
    factor = 1 if current.max_examples == 25 else current.max_examples // 25
    return settings(current, max_examples=n * factor)


DATA = ROOT / "tests" / "data" / "parsers"
#: Every parser with the real samples of its command (``tests/data/parsers``).
SAMPLES: list[tuple[str, str, Path]] = [
    (p.platform, p.name, f)
    for p in PARSERS
    for f in sorted((DATA / p.template.removesuffix(".ttp")).glob("*.txt"))
    if not f.name.startswith("bad_")
]
#: Values a YAML scalar must never crash the loaders with.
WEIRD_SCALARS = [
    "!!int 0b_",
    "!!int 0x",
    "9" * 5000,
    "-" + "9" * 4400,
    "!!float 1e99999",
    "!!timestamp 2001-13-45",
    "2001-02-30",
    "!!binary '###'",
    "!!python/object:os.system ['true']",
    "!custom value",
    "!!map x",
    "!!seq x",
    "!!str [a]",
    "&r [a, *r]",
    "&m {a: *m}",
    "*undefined",
    "[" * 200 + "]" * 200,
    "{a: 1, a: 2}",
    "{? [a]: 1}",
    "<<: 5",
    "~",
    "[]",
    "{}",
    "''",
    "x" * 70_000,
    "\x00",
    ".nan",
    "-.inf",
    "0o777777777777777777777777777",
    "1_000_000",
    "1:20:30",
]
#: Units of a huge line: what made regexes backtrack, and what the templates look for.
LINE_UNITS = [
    " ",
    "a",
    "1",
    "1 ",
    ":",
    "a:",
    "|",
    "| ",
    "$ ",
    "#",
    "via ",
    "\t",
    "10.0.0.1 ",
    "x$ birdcl ",
    "(",
    "-",
    "/",
    "neighbor ",
    "B E ",
    "1.",
]


@st.composite
def huge_line(draw: st.DrawFn) -> bytes:
    unit = draw(st.sampled_from(LINE_UNITS))
    length = draw(st.sampled_from([1_000, 20_000, 65_000, 70_000]))
    head = draw(st.sampled_from(["", "10.0.0.1 ", "x ", "via ", "|", "router bgp 65001 "]))
    tail = draw(st.sampled_from(["", " 4 65001 10 10 0 0 00:01:00 Estab 1 1", "b", "|"]))
    return (head + unit * (length // len(unit)) + tail).encode()


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """``original`` after one or two hostile edits."""
    data = original
    for _ in range(draw(st.integers(1, 2))):
        op = draw(
            st.sampled_from(
                ["truncate", "insert", "invalid", "huge", "utf16", "crlf", "dup", "scalar", "flip"]
            )
        )
        at = draw(st.integers(0, len(data)))
        if op == "truncate":
            data = data[:at]
        elif op == "insert":
            data = data[:at] + draw(st.binary(min_size=1, max_size=40)) + data[at:]
        elif op == "invalid":
            bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xfe\xff"]))
            data = data[:at] + bad + data[at:]
        elif op == "huge":
            line_start = data.rfind(b"\n", 0, at) + 1
            data = data[:line_start] + draw(huge_line()) + b"\n" + data[line_start:]
        elif op == "utf16":
            text = data.decode("utf-8", "replace")
            data = text.encode(draw(st.sampled_from(["utf-16", "utf-16-be", "utf-16-le"])))
        elif op == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif op == "dup":
            lines = data.split(b"\n")
            i = draw(st.integers(0, max(0, len(lines) - 1)))
            data = b"\n".join(lines[:i] + [lines[i]] * draw(st.integers(2, 50)) + lines[i:])
        elif op == "scalar":
            data = _mutate_scalar(draw, data)
        else:
            if data:
                i = min(at, len(data) - 1)
                data = data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
    return data


def _mutate_scalar(draw: st.DrawFn, data: bytes) -> bytes:
    """Replace one value (after ``: `` in YAML, a number or word in text) by a weird one."""
    text = data.decode("utf-8", "replace")
    spots = [i + 2 for i in range(len(text) - 1) if text[i : i + 2] == ": "]
    if not spots:
        spots = [i for i, c in enumerate(text) if c.isdigit()][:200] or [0]
    at = draw(st.sampled_from(spots))
    end = text.find("\n", at)
    end = len(text) if end < 0 else end
    value = draw(st.one_of(st.sampled_from(WEIRD_SCALARS), st.text(max_size=30)))
    return (text[:at] + value + text[end:]).encode("utf-8", "surrogatepass")


def arg_text(max_size: int) -> st.SearchStrategy[str]:
    """What a shell can pass as an argument: any bytes but NUL, decoded as Python decodes argv
    (invalid UTF-8 becomes lone surrogates), or any text without NUL."""
    return st.one_of(
        st.binary(max_size=max_size).filter(lambda b: b"\x00" not in b).map(os.fsdecode),
        st.text(
            st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
            max_size=max_size,
        ),
    )


@contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder per example (hypothesis reruns the test body many times).

    In memory when the machine has /dev/shm: the state database's fsyncs then cost nothing,
    which keeps the suite's time the time of the code under test.
    """
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="fabric-hostile-", dir=shm) as d:
        yield Path(d)


# --------------------------------------------------------------------------- parsers


@scaled(250)
@given(
    sample=st.sampled_from(SAMPLES),
    how=st.sampled_from(["mutated", "random", "huge"]),
    data=st.data(),
)
def test_every_parser_ends_cleanly(
    sample: tuple[str, str, Path], how: str, data: st.DataObject
) -> None:
    platform, command, path = sample
    if how == "random":
        raw = data.draw(st.binary(max_size=2000))
    elif how == "huge":
        raw = path.read_bytes() + data.draw(huge_line()) + b"\n"
    else:
        raw = data.draw(mutated(path.read_bytes()))
    with scratch() as d:
        f = d / "output.txt"
        f.write_bytes(raw)
        args = ["parse", platform, command, str(f)]
        ran = run_cli(args)
    assert_clean(ran, {0, 5}, args)
    if ran.code == 0:
        json.loads(ran.stdout)


@scaled(16)
@given(sample=st.sampled_from(SAMPLES), codec=st.sampled_from(["utf-16", "utf-8-sig"]))
def test_utf16_and_bom_output_reads_as_utf8(sample: tuple[str, str, Path], codec: str) -> None:
    platform, command, path = sample
    text = path.read_text()
    utf8 = run_cli(["parse", platform, command], stdin=text.encode())
    other = run_cli(["parse", platform, command], stdin=text.encode(codec))
    assert (other.code, other.stdout) == (utf8.code, utf8.stdout)


# --------------------------------------------------------------------------- inventory


@scaled(60)
@given(
    name=st.sampled_from(["hosts.yaml", "groups.yaml", "defaults.yaml"]),
    how=st.sampled_from(["mutated", "random", "append"]),
    data=st.data(),
)
def test_the_inventory_loader_ends_cleanly(name: str, how: str, data: st.DataObject) -> None:
    with scratch() as d:
        env = make_project(d)
        f = d / "inventory" / name
        if how == "random":
            f.write_bytes(data.draw(st.binary(max_size=2000)))
        elif how == "append":
            snippet = data.draw(st.sampled_from(WEIRD_SCALARS))
            f.write_bytes(f.read_bytes() + f"\nx_zz: {snippet}\n".encode("utf-8", "surrogatepass"))
        else:
            f.write_bytes(data.draw(mutated(f.read_bytes())))
        ran = run_cli(["validate"], env=env)
        assert_clean(ran, {0, 2}, ["validate", name])
        if ran.code == 0:
            # valid: Nornir reads the same files (FabricInventory) for a render
            out = str(d / "build")
            assert_clean(run_cli(["run", "render", "--out", out], env=env), {0, 2})


# --------------------------------------------------------------------------- catalogs

CATALOG = (ROOT / "tasks" / "compliance.yaml").read_bytes()


@scaled(50)
@given(
    how=st.sampled_from(["mutated", "random", "structure"]),
    data=st.data(),
)
def test_the_catalog_loader_ends_cleanly(how: str, data: st.DataObject) -> None:
    if how == "random":
        raw = data.draw(st.binary(max_size=1000))
    elif how == "structure":
        checks = data.draw(
            st.sampled_from(
                [
                    "[]",
                    "5",
                    "null",
                    "[VerifySwitchRoutes, 5]",
                    "[{VerifySwitchRoutes: {vrf: [1]}}]",
                    "[{Nope: {}}]",
                    "[{VerifySwitchRoutes: {}, VerifyNodeBgpPeers: {}}]",
                    "[{VerifyIntentLint: {overrides: {x: y}}}]",
                ]
            )
        )
        raw = f"checks: {checks}\n".encode()
    else:
        raw = data.draw(mutated(CATALOG))
    with scratch() as d:
        env = make_project(d)
        (d / "catalog.yaml").write_bytes(raw)
        args = [
            "run",
            "compliance",
            "--from",
            str(d / "seed"),
            "--catalog",
            str(d / "catalog.yaml"),
        ]
        ran = run_cli([*args, "--output", "json"], env=env)
    assert_clean(ran, {0, 2, 4, 5}, args)


# --------------------------------------------------------------------------- --from folders

CAPTURES = sorted(
    p.relative_to(ROOT / "examples/seed/after-global-peer")
    for p in (ROOT / "examples/seed/after-global-peer").rglob("*")
    if p.is_file()
)


@scaled(60)
@given(
    capture=st.sampled_from(CAPTURES),
    how=st.sampled_from(["mutated", "random", "directory", "missing", "json", "utf16"]),
    data=st.data(),
)
def test_saved_output_folders_end_cleanly(capture: Path, how: str, data: st.DataObject) -> None:
    with scratch() as d:
        env = make_project(d)
        f = d / "seed" / capture
        if how == "random":
            f.write_bytes(data.draw(st.binary(max_size=2000)))
        elif how == "directory":
            f.unlink()
            f.mkdir()
        elif how == "missing":
            f.unlink()
        elif how == "utf16":
            f.write_bytes(f.read_text().encode("utf-16"))
        elif how == "json":
            doc = data.draw(
                st.sampled_from(
                    [
                        '{"kind": "List", "items": null}',
                        '{"items": 5}',
                        "[1, 2]",
                        '"text"',
                        "[" * 5000 + "]" * 5000,
                        '[{"metadata": 5}]',
                        '[{"metadata": {"name": 5}, "spec": {"peerIP": 7}}]',
                        "1" * 5000,
                    ]
                )
            )
            f.unlink()
            f.with_suffix(".json").write_text(doc)
        else:
            f.write_bytes(data.draw(mutated(f.read_bytes())))
        args = ["run", "compliance", "--from", str(d / "seed"), "--output", "json"]
        ran = run_cli(args, env=env)
    assert_clean(ran, {0, 4, 5}, [*args, str(capture), how])


# --------------------------------------------------------------------------- times

DURATIONS = st.one_of(
    arg_text(30),
    st.builds(
        lambda n, u: f"{n}{u}",
        st.integers(-(10**25), 10**25),
        st.sampled_from(["s", "m", "h", "d", "w", "", "x", "S"]),
    ),
    st.builds(lambda a, b: f"{a}h{b}m", st.integers(0, 10**20), st.integers(0, 10**20)),
    st.sampled_from(["1" * 5000 + "s", "nan", "inf", "1e400", "-0", "0.5", "1.5h"]),
)
TIMES = st.one_of(
    arg_text(40),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda t: t.isoformat()),
    st.builds(
        lambda d, h: f"{d.isoformat()}T00:00{h:+03d}:00",
        st.dates(),
        st.integers(-23, 23),
    ),
    st.builds(lambda h, m: f"{h}:{m:02d}", st.integers(0, 99), st.integers(0, 99)),
)
CRON_FIELD = st.one_of(
    st.sampled_from(
        ["*", "*/0", "*/15", "0", "59", "60", "1-5", "5-1", "99999999999999999999", "?", "L"]
    ),
    st.text(alphabet="0123456789*/-,", min_size=1, max_size=8),
)


@scaled(80)
@given(
    option=st.sampled_from(
        [
            "--at",
            "--in",
            "--every",
            "--grace",
            "--confirm-within",
            "--cron",
            "--tz",
            "--revert-in",
            "--gate-timeout",
        ]
    ),
    data=st.data(),
)
def test_time_options_end_cleanly(option: str, data: st.DataObject) -> None:
    if option == "--at":
        args = ["schedule", "deploy", "--at", data.draw(TIMES)]
    elif option == "--in":
        args = ["schedule", "deploy", "--in", data.draw(DURATIONS)]
    elif option == "--every":
        args = ["schedule", "compliance", "--every", data.draw(DURATIONS)]
    elif option == "--grace":
        args = ["schedule", "compliance", "--every", "1h", "--grace", data.draw(DURATIONS)]
    elif option == "--cron":
        expr = " ".join(data.draw(st.lists(CRON_FIELD, min_size=4, max_size=6)))
        args = ["schedule", "compliance", "--cron", expr]
    elif option == "--tz":
        zone = data.draw(
            st.one_of(arg_text(300), st.sampled_from(["America", "UTC/", "../x", "Europe/Paris"]))
        )
        args = ["schedule", "compliance", "--cron", "0 * * * *", "--tz", zone]
    else:
        # --lab with an empty lab folder: a valid value ends in "no lab is running" (exit 2)
        value = data.draw(
            DURATIONS
            if option == "--confirm-within"
            else st.one_of(arg_text(20), st.integers().map(str), st.floats().map(str))
        )
        args = ["run", "deploy", "--lab", option, value]
    with scratch() as d:
        env = make_project(d)
        ran = run_cli(args, env=env)
    assert_clean(ran, {0, 2}, args)


# --------------------------------------------------------------------------- YAML itself


@scaled(200)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.lists(
            st.sampled_from(
                [
                    "a: ",
                    "- ",
                    "&x ",
                    "*x ",
                    "[",
                    "]",
                    "{",
                    "}",
                    ", ",
                    "\n",
                    "  ",
                    "!!int ",
                    "0b_",
                    "<<: ",
                    "? ",
                    "---\n",
                    "x",
                    "1",
                ]
            ),
            max_size=60,
        ).map("".join),
        st.sampled_from(WEIRD_SCALARS).map(lambda v: f"a: {v}\n"),
    )
)
def test_safeyaml_returns_or_refuses(text: str) -> None:
    with time_limit():
        try:
            safeyaml.load_all(text, "f.yaml")
        except safeyaml.YamlError as exc:
            assert exc.problems and str(exc).startswith("f.yaml: ")


def test_profiles_are_bounded() -> None:
    # the ci profile is what `make test` runs; the long one is opt-in
    if not os.environ.get("FABRIC_HYPOTHESIS_PROFILE"):
        assert settings().max_examples == 25 and settings().derandomize


@pytest.fixture(autouse=True, scope="module")
def _no_stray_state() -> Iterator[None]:
    """Nothing written into the repository (every example works in its own scratch folder)."""
    before = set(os.listdir(ROOT))
    yield
    assert set(os.listdir(ROOT)) - before == set()


# --------------------------------------------------------------------------- state database


def _real_state_db(path: Path) -> bytes:
    """A state database with a run and a scheduled job in it, as bytes."""
    from fabric.paths import ProjectPaths
    from fabric.scheduling.store import open_engine
    from fabric.state_db import StateDB

    db = StateDB(path)
    db.create_run(
        "r1", kind="deploy", inventory="inventory", intent_hash="h", dry_run=True, options={}
    )
    open_engine(ProjectPaths.discover(root=path.parent.parent)).dispose()
    return path.read_bytes()


@scaled(40)
@given(
    how=st.sampled_from(["random", "flip", "truncate"]),
    command=st.sampled_from(
        [
            ["runs"],
            ["runs", "show", "r1"],
            ["schedule", "list"],
            ["run", "rollback", "--run", "r1", "--lab"],
        ]
    ),
    data=st.data(),
)
def test_damaged_state_databases_end_cleanly(
    how: str, command: list[str], data: st.DataObject
) -> None:
    with scratch() as d:
        env = make_project(d)
        db = d / ".fabric" / "state.db"
        original = _real_state_db(db)
        if how == "random":
            raw = data.draw(st.binary(max_size=4000))
        elif how == "truncate":
            raw = original[: data.draw(st.integers(0, len(original)))]
        else:
            raw = bytearray(original)
            for _ in range(data.draw(st.integers(1, 20))):
                i = data.draw(st.integers(0, len(raw) - 1))
                raw[i] ^= data.draw(st.integers(1, 255))
            raw = bytes(raw)
        db.write_bytes(raw)
        ran = run_cli(command, env=env)
    assert_clean(ran, {0, 2}, [*command, how])
