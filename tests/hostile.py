"""What the hostile-input tests share: the CLI run as a user runs it, and how its end is judged.

:func:`run_cli` calls :func:`fabric.cli.main` in this process (as ``python -m fabric`` does,
exit codes and all) with its own stdin, stdout, stderr and environment, under a hard time
limit: a SIGALRM that interrupts even a regex stuck in backtracking. :func:`assert_clean`
then checks what issue 16 asks of every input: a documented exit code, no traceback, and an
error message when it fails.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from fabric.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED_FROM = ROOT / "examples" / "seed" / "after-global-peer"

#: Every input ends within this many seconds (the parsers' worst 64 KB line takes
#: milliseconds; the quadratic regex this guards against took minutes).
PER_INPUT_SECONDS = 10.0


class Hang(BaseException):
    """An input ran past :data:`PER_INPUT_SECONDS` (a BaseException: nothing swallows it)."""


@contextlib.contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Raise :class:`Hang` in this (the main) thread when the block runs past ``seconds``
    (default :data:`PER_INPUT_SECONDS`)."""
    seconds = PER_INPUT_SECONDS if seconds is None else seconds

    def alarm(signum: int, frame: object) -> None:
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Ran:
    """How one command line ended.

    Attributes:
        code: the exit code (None: an exception escaped ``main``, i.e. a traceback).
        stdout: what went to standard output.
        stderr: what went to standard error.
        escaped: the exception that escaped ``main``, formatted (empty when none did).
        seconds: wall time.
    """

    code: int | None
    stdout: str
    stderr: str
    escaped: str
    seconds: float


def run_cli(
    args: list[str], *, env: Mapping[str, str | None] | None = None, stdin: bytes | None = None
) -> Ran:
    """Run ``python -m fabric ARGS`` in this process; see the module docstring."""
    runner = CliRunner()
    start = time.perf_counter()
    code: int | None
    escaped = ""
    with runner.isolation(input=stdin, env=dict(env or {})) as (out, err, _):
        try:
            with time_limit():
                main(args)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except Hang:
            raise
        except BaseException:
            code, escaped = None, traceback.format_exc()
        sys.stdout.flush()  # what was written without click.echo is still buffered
        sys.stderr.flush()
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = err.getvalue().decode("utf-8", "replace")
    return Ran(code, stdout, stderr, escaped, time.perf_counter() - start)


def assert_clean(ran: Ran, allowed: set[int], args: list[str] | None = None) -> None:
    """A documented exit code, no traceback, and an error line for a failure."""
    where = f" for {args!r}" if args else ""
    assert not ran.escaped, f"a traceback{where}:\n{ran.escaped}"
    assert "Traceback (most recent call last)" not in ran.stderr, ran.stderr
    assert ran.code in allowed, (
        f"exit {ran.code}{where}, expected one of {sorted(allowed)}:\n{ran.stderr[-2000:]}"
    )
    if ran.code not in (0, None):
        assert ran.stderr.strip(), f"exit {ran.code}{where} without a message"


def make_project(dest: Path) -> dict[str, str]:
    """A project folder at ``dest`` (the repository's inventory, the seed's saved outputs).

    Returns the environment that points the CLI at it: its root, its own state folder and an
    empty lab folder (so ``--lab`` finds no lab and nothing is ever contacted).
    """
    shutil.copytree(ROOT / "inventory", dest / "inventory")
    shutil.copytree(SEED_FROM, dest / "seed")
    (dest / "lab").mkdir()
    return {
        "FABRIC_ROOT": str(dest),
        "FABRIC_STATE_DIR": str(dest / ".fabric"),
        "FABRIC_LAB_DIR": str(dest / "lab"),
    }
