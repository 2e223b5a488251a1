"""Benchmark: compliance of 200 switches and 2,000 nodes (20 ms eAPI latency), nodes read with
``--node-access exec`` next to ``ssh``, in one run.

The lab runs in its own process (bench_compliance's), brought to the intended state, each
switch with the injected latency. Each access mode runs ``run_compliance`` ``--repeat`` times,
alternating; reported: the best wall time of each, this process's CPU seconds in that run
(``client_cpu_s``) and the lab's (``lab_cpu_s``), and the ratios exec / ssh. Target: exec no
slower than ssh.

Usage: ``python bench/bench_node_access.py [--switches 200] [--nodes 2000] [--latency-ms 20]
[--workers 100] [--repeat 2]``. Loopback only: the guard is installed first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

os.environ["FABRIC_LAB_ONLY"] = "1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--switches", type=int, default=200)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()

    from bench_compliance import Lab, Meter

    from fabric.lab.generate import write_inventory
    from fabric.paths import ProjectPaths
    from fabric.safety import install_guard
    from fabric.workflows.compliance import ComplianceOptions, run_compliance

    install_guard()
    with tempfile.TemporaryDirectory(prefix="bench-access-") as tmp_s:
        tmp = Path(tmp_s)
        inv = tmp / "inventory"
        write_inventory(inv, switches=args.switches, nodes=args.nodes)
        paths = dataclasses.replace(ProjectPaths.discover(REPO, inventory=inv), state=tmp / "st")
        os.environ["FABRIC_LAB_DIR"] = str(tmp / "lab")
        lab = Lab(inv, tmp / "lab")
        try:
            lab.ask(latency_ms=args.latency_ms)
            best: dict[str, dict[str, Any]] = {}
            for _ in range(args.repeat):
                for access in ("ssh", "exec"):
                    opts = ComplianceOptions(lab=True, workers=args.workers, node_access=access)
                    with Meter(lab) as m:
                        report = run_compliance(paths, opts)
                    assert not report.problems, [p.message for p in report.problems][:3]
                    run = {"wall_s": m.wall, "client_cpu_s": m.client, "lab_cpu_s": m.server}
                    if access not in best or m.wall < best[access]["wall_s"]:
                        best[access] = run
        finally:
            lab.close()
    result: dict[str, Any] = {
        "switches": args.switches,
        "nodes": args.nodes,
        "latency_ms": args.latency_ms,
        **{a: {k: round(v, 2) for k, v in r.items()} for a, r in best.items()},
        "wall_exec_over_ssh": round(best["exec"]["wall_s"] / best["ssh"]["wall_s"], 2),
        "client_cpu_exec_over_ssh": round(
            best["exec"]["client_cpu_s"] / best["ssh"]["client_cpu_s"], 2
        ),
    }
    result["ok"] = result["wall_exec_over_ssh"] <= 1.0
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
