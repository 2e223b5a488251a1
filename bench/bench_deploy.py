"""Benchmark: deploy (commit, gate, confirm) to a lab of 100 switches and 1,000 nodes.

Every switch answers eAPI with injected latency (default 50 ms). Reported, in one run:

* wall time of the whole deploy and of each stage (from the progress callback);
* eAPI round trips actually made per switch (counted at pyeapi's ``send``), and gate polls;
* the lower bound ``round trips per switch x latency x switches / workers`` and the ratio
  wall / lower bound (issue 5 target: within 2x). The node side of the gate (SSH to every node,
  no injected latency) is part of the wall time but not of the bound; its stage time is shown.

Usage: ``python bench/bench_deploy.py [--switches 100] [--nodes 1000] [--latency-ms 50]
[--workers 50]``. Loopback only: the loopback guard is installed before anything starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

os.environ["FABRIC_LAB_ONLY"] = "1"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--switches", type=int, default=100)
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--workers", type=int, default=50)
    ap.add_argument("--json", action="store_true", help="print the result as JSON only")
    args = ap.parse_args()

    from fabric.safety import install_guard

    install_guard()
    import pyeapi.eapilib

    from fabric.lab.generate import write_inventory
    from fabric.lab.runtime import LabRuntime
    from fabric.paths import ProjectPaths
    from fabric.workflows.deploy import DeployOptions, deploy

    # Count eAPI requests per switch (by the connection's host address).
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    orig_send = pyeapi.eapilib.EapiConnection.send

    def send(self: Any, data: Any) -> Any:
        with lock:
            counts[str(getattr(self.transport, "host", "?"))] += 1
        return orig_send(self, data)

    pyeapi.eapilib.EapiConnection.send = send  # type: ignore[method-assign]

    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as tmp_s:
        tmp = Path(tmp_s)
        inv = tmp / "inventory"
        write_inventory(inv, switches=args.switches, nodes=args.nodes)
        paths = dataclasses.replace(ProjectPaths.discover(REPO, inventory=inv), state=tmp / "state")
        os.environ["FABRIC_LAB_DIR"] = str(tmp / "lab")
        t0 = time.perf_counter()
        lab = LabRuntime(paths, tmp / "lab", fresh=True)
        lab.start()
        lab_start = time.perf_counter() - t0
        try:
            switches = [h for h, ep in lab.endpoints["hosts"].items() if ep["kind"] == "switch"]
            for sw in switches:
                lab.fault(sw, "latency", ms=args.latency_ms)
            stages: dict[str, float] = {}
            last = [time.perf_counter(), "start"]
            gate_polls = [0]

            def progress(stage: str, host: str | None, msg: str) -> None:
                now = time.perf_counter()
                if stage != last[1]:
                    stages[str(last[1])] = stages.get(str(last[1]), 0.0) + now - float(last[0])
                    last[0], last[1] = now, stage
                if stage == "gate":
                    gate_polls[0] += 1

            t1 = time.perf_counter()
            rep = deploy(
                paths,
                DeployOptions(
                    lab=True,
                    commit=True,
                    revert_in=600,
                    gate_timeout=300,
                    gate_interval=1.0,
                    workers=args.workers,
                    progress=progress,
                ),
            )
            wall = time.perf_counter() - t1
            stages[str(last[1])] = (
                stages.get(str(last[1]), 0.0) + time.perf_counter() - float(last[0])
            )
        finally:
            lab.stop()
    per_switch = [counts[lab.endpoints["hosts"][s]["hostname"]] for s in switches]
    rt = max(per_switch) if per_switch else 0
    lat = args.latency_ms / 1000.0
    waves = -(-len(switches) // args.workers)  # ceil: the last wave is partial
    bound = rt * lat * len(switches) / args.workers
    bound_waves = rt * lat * waves
    result = {
        "switches": args.switches,
        "nodes": args.nodes,
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "outcome": rep.outcome,
        "lab_start_s": round(lab_start, 2),
        "deploy_wall_s": round(wall, 2),
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "gate_polls": gate_polls[0],
        "eapi_round_trips_per_switch": rt,
        "lower_bound_s": round(bound, 2),
        "ratio_to_lower_bound": round(wall / bound, 2) if bound else None,
        "lower_bound_whole_waves_s": round(bound_waves, 2),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>30}: {v}")
    return 0 if rep.ok else 1


if __name__ == "__main__":
    sys.exit(main())
