"""Run every ``bench/bench_*.py`` in turn and print their results.

Each benchmark is a script that prints what it measured and, as its last ``RESULT {json}``
line, a machine-readable summary (with an ``ok`` flag: targets met). This runner shows each
benchmark's output as it comes, then a summary table, and writes all results to
``bench/results/latest.json`` (not committed). Exit status: 0 when every benchmark ran
(targets missed are reported, not fatal), 1 when one crashed or timed out.

Usage: ``python bench/run_all.py [-k SUBSTRING] [--timeout SECONDS]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent


def run_one(script: Path, timeout: float) -> dict[str, Any]:
    print(f"=== {script.name}", flush=True)
    t = time.perf_counter()
    result: dict[str, Any] = {"script": script.name}
    try:
        proc = subprocess.Popen(
            [sys.executable, str(script)],
            cwd=BENCH.parent,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"  {line}", end="", flush=True)
            if line.startswith("RESULT "):
                result["result"] = json.loads(line[len("RESULT ") :])
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = -1
        result["error"] = f"timed out after {timeout:.0f} s"
    result["rc"] = rc
    result["seconds"] = round(time.perf_counter() - t, 1)
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="", help="only benchmarks whose file name contains this")
    ap.add_argument("--timeout", type=float, default=1800)
    args = ap.parse_args()
    scripts = sorted(p for p in BENCH.glob("bench_*.py") if args.k in p.name)
    results = [run_one(s, args.timeout) for s in scripts]
    print("\n=== summary")
    print(f"{'benchmark':28s} {'rc':>4s} {'time':>8s}  targets")
    failed = False
    for r in results:
        res = r.get("result")
        verdict = "met" if res and res.get("ok") else "MISSED" if res else "no RESULT line"
        if r["rc"] != 0:
            failed = True
            verdict = r.get("error", "crashed")
        print(f"{r['script']:28s} {r['rc']:>4d} {r['seconds']:>7.1f}s  {verdict}")
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
