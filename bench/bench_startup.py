"""Benchmark: cold start of ``python -m fabric --help`` against ``python -c "import nornir"``.

Both are measured in the same run, alternating, several repetitions each; the median wall
time is reported (target: ``--help`` under 0.5 s). ``validate --help`` is measured too: it
loads only the command it shows. A fresh interpreter also reports which heavy libraries
``--help`` imported (napalm and kubernetes must not be among them).

Usage: ``python bench/bench_startup.py [--repeat N]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("napalm", "kubernetes", "nornir", "nornir_napalm", "paramiko", "netmiko", "pydantic")

NORNIR = "python -c 'import nornir'"

CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    NORNIR: [sys.executable, "-c", "import nornir"],
    "python -m fabric --help": [sys.executable, "-m", "fabric", "--help"],
    "python -m fabric validate --help": [sys.executable, "-m", "fabric", "validate", "--help"],
}

_PROBE = """
import runpy, sys
sys.argv = ["fabric", "--help"]
try:
    runpy.run_module("fabric", run_name="__main__")
except SystemExit:
    pass
print("HEAVY", " ".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


def time_once(cmd: list[str]) -> tuple[float, int]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, check=False)
    return time.perf_counter() - t, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    times: dict[str, list[float]] = {k: [] for k in CASES}
    rcs: dict[str, int] = {}
    for cmd in CASES.values():  # warm the OS file cache once
        time_once(cmd)
    for _ in range(args.repeat):
        for name, cmd in CASES.items():
            dt, rc = time_once(cmd)
            times[name].append(dt)
            rcs[name] = rc
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=HEAVY)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    heavy_line = [ln for ln in probe.stderr.splitlines() if ln.startswith("HEAVY")]
    heavy = heavy_line[-1].split()[1:] if heavy_line else ["<probe failed>"]
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"cold start, median of {args.repeat} (min..max):")
    for name in CASES:
        v = times[name]
        print(f"  {name:36s} {med[name]:.3f} s  ({min(v):.3f}..{max(v):.3f})  rc={rcs[name]}")
    helps = med["python -m fabric --help"]
    print(
        f"  --help / import nornir = {helps / med[NORNIR]:.2f}; "
        f"heavy modules imported by --help: {heavy or 'none'}"
    )
    ok = helps < 0.5 and rcs["python -m fabric --help"] == 0
    ok = ok and not {"napalm", "kubernetes"} & set(heavy)
    print(
        "RESULT "
        + json.dumps({"bench": "startup", "median_s": med, "rc": rcs, "heavy": heavy, "ok": ok})
    )


if __name__ == "__main__":
    main()
