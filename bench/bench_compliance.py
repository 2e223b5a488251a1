"""Benchmark: online compliance of a lab of 200 switches and 2,000 nodes, 20 ms eAPI latency.

The lab runs in its own process (so its SSH/eAPI servers do not share this process's GIL) and
is brought to the intended state first (every switch's rendered config loaded, the Calico
objects stored), then each switch gets the injected eAPI latency. Reported, in one run:

* wall time of ``run_compliance`` (collection of every host + all checks) and of the checks alone;
* eAPI round trips per switch (counted at pyeapi's ``send``);
* the lower bound ``round trips per switch x latency x switches / workers`` and the ratio
  wall / lower bound (issue 6 target: within 1.5x). Nodes (SSH) and the cluster have no
  injected latency: they are in the wall time but not in the bound. To separate the two, the
  same run is repeated without latency: ``latency_cost_s`` = best wall(latency) - best
  wall(no latency) is what the latency actually added, compared with the bound.

Usage: ``python bench/bench_compliance.py [--switches 200] [--nodes 2000] [--latency-ms 20]
[--workers 100]``. Loopback only: the loopback guard is installed before anything starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
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


def serve_lab(inv: Path, lab_dir: Path) -> None:
    """Child process: start the lab, apply the intent, then serve until stdin closes."""
    from fabric.safety import install_guard

    install_guard()
    from fabric.intent import load_intent
    from fabric.lab.runtime import LabRuntime
    from fabric.paths import ProjectPaths
    from fabric.steps.render import render_calico_objects, render_switch_config

    paths = ProjectPaths.discover(REPO, inventory=inv)
    t0 = time.perf_counter()
    lab = LabRuntime(paths, lab_dir, fresh=True)
    lab.start()
    started = time.perf_counter() - t0
    intent = load_intent(paths).intent
    assert intent is not None
    for sw in intent.switches:
        base = lab.switch_running_config(sw.name).replace("\nend\n", "\n")
        lab.load_switch_config(sw.name, base + render_switch_config(sw, paths.templates) + "end\n")
    for obj in render_calico_objects(intent, paths.templates):
        lab.put_object(obj.body)
    print(json.dumps({"ready": True, "lab_start_s": round(started, 2)}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        for sw in intent.switches:
            if cmd["latency_ms"]:
                lab.fault(sw.name, "latency", ms=cmd["latency_ms"])
            else:
                lab.clear_faults(sw.name)
        print(json.dumps({"ok": True}), flush=True)
    lab.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--switches", type=int, default=200)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument(
        "--serve-lab", nargs=2, metavar=("INVENTORY", "LAB_DIR"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.serve_lab:
        serve_lab(Path(args.serve_lab[0]), Path(args.serve_lab[1]))
        return 0

    from fabric.safety import install_guard

    install_guard()
    import pyeapi.eapilib

    from fabric.checks import Status
    from fabric.lab.generate import write_inventory
    from fabric.paths import ProjectPaths
    from fabric.workflows.compliance import ComplianceOptions, run_compliance

    counts: Counter[str] = Counter()
    lock = threading.Lock()
    orig_send = pyeapi.eapilib.EapiConnection.send

    def send(self: Any, data: Any) -> Any:
        with lock:
            counts[str(getattr(self.transport, "host", "?"))] += 1
        return orig_send(self, data)

    pyeapi.eapilib.EapiConnection.send = send  # type: ignore[method-assign]

    with tempfile.TemporaryDirectory(prefix="bench-compliance-") as tmp_s:
        tmp = Path(tmp_s)
        inv = tmp / "inventory"
        write_inventory(inv, switches=args.switches, nodes=args.nodes)
        paths = dataclasses.replace(ProjectPaths.discover(REPO, inventory=inv), state=tmp / "state")
        os.environ["FABRIC_LAB_DIR"] = str(tmp / "lab")
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve-lab", str(inv), str(tmp / "lab")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None and child.stdout is not None
        try:
            ready = json.loads(child.stdout.readline())
            runs: dict[str, dict[str, Any]] = {}
            # A warm-up run first (imports, TLS contexts); then each setting twice, best kept.
            plan = [("warm_up", 0.0)] + [("no_latency", 0.0), ("latency", args.latency_ms)] * 2
            for label, lat in plan:
                child.stdin.write(json.dumps({"latency_ms": lat}) + "\n")
                child.stdin.flush()
                json.loads(child.stdout.readline())
                counts.clear()
                t = time.perf_counter()
                rep = run_compliance(paths, ComplianceOptions(lab=True, workers=args.workers))
                wall = time.perf_counter() - t
                print(f"  {label}: {wall:.2f} s, {rep.status.value}", flush=True)
                if label in runs and runs[label]["wall_s"] <= wall:
                    continue
                runs[label] = {
                    "wall_s": round(wall, 2),
                    "status": rep.status.value,
                    "problems": len(rep.problems),
                    "failed_checks": [v.check for v in rep.verdicts if v.status == Status.FAIL],
                    "round_trips_per_switch": max(counts.values()) if counts else 0,
                }
            del runs["warm_up"]
            # The checks alone, on the state of the last run (pure functions): re-judge offline.
            raw = tmp / "raw"
            run_compliance(paths, ComplianceOptions(lab=True, workers=args.workers, save_raw=raw))
            t = time.perf_counter()
            offline = run_compliance(paths, ComplianceOptions(from_dir=raw))
            offline_s = time.perf_counter() - t
            # The checks alone (pure functions of the parsed state).
            from fabric.checks import load_catalog
            from fabric.workflows.compliance import judge, load_offline, prepare_state

            state = prepare_state(paths)
            load_offline(state, raw)
            checks = load_catalog(None)
            t = time.perf_counter()
            judge(state, checks)
            checks_s = time.perf_counter() - t
        finally:
            child.stdin.close()
            child.wait(timeout=120)
    rt = runs["latency"]["round_trips_per_switch"]
    lat = args.latency_ms / 1000.0
    bound = rt * lat * args.switches / args.workers
    wall = runs["latency"]["wall_s"]
    added = wall - runs["no_latency"]["wall_s"]
    result = {
        "switches": args.switches,
        "nodes": args.nodes,
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "lab_start_s": ready["lab_start_s"],
        "runs": runs,
        "offline_parse_and_checks_s": round(offline_s, 2),
        "offline_status": offline.status.value,
        "checks_only_s": round(checks_s, 3),
        "eapi_round_trips_per_switch": rt,
        "lower_bound_s": round(bound, 3),
        "ratio_to_lower_bound": round(wall / bound, 2) if bound else None,
        "latency_cost_s": round(added, 2),
        "latency_cost_ratio_to_bound": round(added / bound, 2) if bound else None,
    }
    for k, v in result.items():
        print(f"{k:>30}: {v}")
    result["ok"] = bool(bound) and wall / bound <= 1.5
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
