"""Benchmark: deploy (commit, gate, confirm) to a lab of 100 switches and 1,000 nodes.

Every switch answers eAPI with injected latency (default 50 ms). Reported, in one run:

* wall time of the whole deploy and of each stage (from the progress callback);
* eAPI round trips actually made per switch (counted at pyeapi's ``send``), and gate polls;
* the lower bound ``round trips per switch x latency x switches / workers`` and the ratio
  wall / lower bound (issue 5 target: within 2x). The node side of the gate (SSH to every node,
  no injected latency) is part of the wall time but not of the bound; its stage time is shown;
* the floor: the same deploy on a fresh lab with 0 ms latency (``--no-floor`` skips it), the
  CPU seconds of this process (lab and client share it) for both, and the ratio against a
  CPU-aware bound ``floor + latency bound``.

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
    ap.add_argument("--no-floor", action="store_true", help="skip the 0 ms latency run")
    args = ap.parse_args()
    result = run_once(args, args.latency_ms)
    if not args.no_floor and args.latency_ms > 0:
        floor = run_once(args, 0.0)
        bound = float(result["lower_bound_s"])
        result["floor_0ms_wall_s"] = floor["deploy_wall_s"]
        result["floor_0ms_cpu_s"] = floor["deploy_cpu_s"]
        result["floor_0ms_stages_s"] = floor["stages_s"]
        cpu_bound = float(floor["deploy_wall_s"]) + bound
        result["cpu_aware_bound_s"] = round(cpu_bound, 2)
        result["ratio_to_cpu_aware_bound"] = round(float(result["deploy_wall_s"]) / cpu_bound, 2)
    # The target: within 2x of the latency lower bound.
    result["ok"] = result["outcome"] == "ok" and float(result["ratio_to_lower_bound"]) <= 2.0
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>30}: {v}")
        print("RESULT " + json.dumps(result))
    return 0 if result["outcome"] == "ok" else 1


def run_once(args: argparse.Namespace, latency_ms: float) -> dict[str, Any]:
    """One deploy on a fresh lab with ``latency_ms`` on every switch; the measurements."""
    from _eapi_count import count_eapi_requests

    from fabric.safety import install_guard

    install_guard()
    with count_eapi_requests() as counts:
        return _deploy_on_fresh_lab(args, latency_ms, counts)


def _deploy_on_fresh_lab(
    args: argparse.Namespace, latency_ms: float, counts: Counter[str]
) -> dict[str, Any]:
    import resource

    from fabric.lab.generate import write_inventory
    from fabric.lab.runtime import LabRuntime
    from fabric.paths import ProjectPaths
    from fabric.workflows.deploy import DeployOptions, deploy

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
                if latency_ms > 0:
                    lab.fault(sw, "latency", ms=latency_ms)
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

            ru0 = resource.getrusage(resource.RUSAGE_SELF)
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
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime
            stages[str(last[1])] = (
                stages.get(str(last[1]), 0.0) + time.perf_counter() - float(last[0])
            )
            deploy_counts = dict(counts)  # before the collection below adds its own requests
            collection = _one_collection(paths, args.workers)
        finally:
            lab.stop()
    per_switch = [deploy_counts.get(lab.endpoints["hosts"][s]["hostname"], 0) for s in switches]
    rt = max(per_switch) if per_switch else 0
    lat = latency_ms / 1000.0
    waves = -(-len(switches) // args.workers)  # ceil: the last wave is partial
    bound = rt * lat * len(switches) / args.workers
    bound_waves = rt * lat * waves
    result = {
        "switches": args.switches,
        "nodes": args.nodes,
        "latency_ms": latency_ms,
        "workers": args.workers,
        "outcome": rep.outcome,
        "lab_start_s": round(lab_start, 2),
        "deploy_wall_s": round(wall, 2),
        "deploy_cpu_s": round(cpu, 2),
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "gate_polls": gate_polls[0],
        # the issue 10 target: the gate no slower than one collection of the hosts it touched
        "one_collection_s": round(collection, 2),
        "gate_to_collection": round(stages.get("gate", 0.0) / collection, 2)
        if collection
        else None,
        "eapi_round_trips_per_switch": rt,
        "lower_bound_s": round(bound, 2),
        "ratio_to_lower_bound": round(wall / bound, 2) if bound else None,
        "lower_bound_whole_waves_s": round(bound_waves, 2),
        # the bound of the previous design (12 requests per switch), for comparison
        "lower_bound_12_requests_s": round(12 * lat * len(switches) / args.workers, 2),
    }
    return result


def _one_collection(paths: Any, workers: int) -> float:
    """Seconds of one collection of every switch (the gate's commands) and node, as the gate
    reads them: the baseline the gate is measured against, on the same lab, just after it."""
    from fabric.checks.evidence import Evidence
    from fabric.intent import load_intent
    from fabric.runs.collection import collect_into
    from fabric.runs.connect import open_nornir
    from fabric.steps.collect.outputs import GATE_SWITCH_COMMANDS
    from fabric.steps.collect.ssh import ssh_client_loop

    intent = load_intent(paths).intent
    assert intent is not None
    hosts: dict[str, Any] = {s.name: "switch" for s in intent.switches}
    hosts.update({n.name: "calico_node" for n in intent.nodes})
    nr, _ = open_nornir(
        paths, lab=True, workers=workers, dry_run=True, insecure=False, ca_file=None
    )
    evidence = Evidence(intent=intent)
    t = time.perf_counter()
    try:
        with ssh_client_loop():
            collect_into(evidence, nr, hosts, switch_commands=GATE_SWITCH_COMMANDS)
    finally:
        nr.close_connections()
    assert not evidence.failures, list(evidence.failures.values())[:3]
    return time.perf_counter() - t


if __name__ == "__main__":
    sys.exit(main())
