"""Benchmark: online compliance of a lab of 200 switches and 2,000 nodes, 20 ms eAPI latency.

For each case (default ``200x2000`` and ``20x200``: switches x nodes) the lab runs in its own
process (its SSH/eAPI/API servers on one event loop there, not sharing this process's GIL),
brought to the intended state (every switch's rendered config loaded, the Calico objects
stored); each switch then gets the injected eAPI latency. Reported, per case, from one run:

* wall time of ``run_compliance`` (collection of every host + all checks), best of
  ``--repeat``, with and without latency, and the CPU seconds each process spent in that run
  (``client_cpu_s``: this process, every thread; ``lab_cpu_s``: the lab process);
* eAPI round trips per switch (counted at pyeapi's ``send``);
* three floors, and the wall's ratio to each:

  - ``issue_bound_s``: the issue's lower bound, 4 round trips x latency x switches / workers
    (0.16 s for 200 switches, 20 ms, 100 workers);
  - ``latency_bound_s``: the same with the round trips now measured, per worker wave
    (``ceil(switches / workers)``);
  - ``cpu_floor_s``: transport CPU only, measured here per connection (a pass that opens each
    node's SSH session and runs its command, and each switch's eAPI session and its commands,
    with no Nornir, parsing or checks), ``(client + lab) x hosts / cores``, and at least each
    process's share alone (each runs its Python on about one core: the GIL, the lab's single
    event loop). ``floor_s`` = the largest of these.

* the checks alone and parse + checks offline (the state saved by the warm-up run).

Usage: ``python bench/bench_compliance.py [--case 200x2000] [--case 20x200] [--latency-ms 20]
[--workers 100] [--repeat 2] [--cores N]``. Loopback only: the guard is installed first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

os.environ["FABRIC_LAB_ONLY"] = "1"

ISSUE_ROUND_TRIPS = 4


def serve_lab(inv: Path, lab_dir: Path) -> None:
    """Child process: start the lab, apply the intent, then obey stdin until it closes.

    A line ``{"latency_ms": X}`` sets (0: clears) every switch's latency; ``{"cpu": true}``
    answers this process's CPU seconds so far (every thread).
    """
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
        if cmd.get("cpu"):
            print(json.dumps({"cpu_s": time.process_time()}), flush=True)
            continue
        for sw in intent.switches:
            if cmd["latency_ms"]:
                lab.fault(sw.name, "latency", ms=cmd["latency_ms"])
            else:
                lab.clear_faults(sw.name)
        print(json.dumps({"ok": True}), flush=True)
    lab.stop()


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Lab:
    """The lab child process, driven over its stdin/stdout."""

    def __init__(self, inv: Path, lab_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-lab", str(inv), str(lab_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the lab process ended")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def ask(self, **cmd: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def cpu(self) -> float:
        return float(self.ask(cpu=True)["cpu_s"])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=120)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class Meter:
    """CPU seconds of this process and of the lab, and wall time, over a block."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.wall = self.client = self.server = 0.0

    def __enter__(self) -> Meter:
        self._c, self._s, self._t = _self_cpu(), self.lab.cpu(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t
        self.client = _self_cpu() - self._c
        self.server = self.lab.cpu() - self._s


def transport_costs(paths: Any, lab: Lab, workers: int) -> dict[str, float]:
    """CPU per connection of the transports alone (ms): SSH per node, eAPI per switch."""
    from fabric.adapters.eapi import configure_napalm_tls, run_eapi
    from fabric.inventory import init_nornir
    from fabric.models.observed import DEFAULT_NODE_COMMAND
    from fabric.steps.collect import host_role
    from fabric.steps.collect.outputs import SWITCH_COMMANDS
    from fabric.steps.collect.ssh import run_ssh_command, ssh_client_loop

    nr = init_nornir(paths, lab=True, num_workers=workers)
    nodes = [h for h in nr.inventory.hosts.values() if host_role(h) == "calico_node"]
    switches = [h for h in nr.inventory.hosts.values() if host_role(h) == "switch"]
    for h in switches:  # as compliance does: verified TLS, keep-alive
        configure_napalm_tls(h, insecure=False, ca_file=None)

    def ssh(h: Any) -> int:
        cmd = str(h.get("node_status_command") or DEFAULT_NODE_COMMAND)
        return len(run_ssh_command(h, cmd)[1])

    def eapi(h: Any) -> int:
        dev = h.get_connection("napalm", nr.config)
        try:
            return len(run_eapi(dev, list(SWITCH_COMMANDS), encoding="text"))
        finally:
            h.close_connection("napalm")

    with ThreadPoolExecutor(workers) as pool:
        with ssh_client_loop(), Meter(lab) as m_ssh:
            assert all(pool.map(ssh, nodes))
        with Meter(lab) as m_eapi:
            assert all(pool.map(eapi, switches))
    return {
        "ssh_client_ms_per_node": 1000 * m_ssh.client / len(nodes),
        "ssh_lab_ms_per_node": 1000 * m_ssh.server / len(nodes),
        "ssh_pass_wall_s": m_ssh.wall,
        "eapi_client_ms_per_switch": 1000 * m_eapi.client / len(switches),
        "eapi_lab_ms_per_switch": 1000 * m_eapi.server / len(switches),
        "eapi_pass_wall_s": m_eapi.wall,
    }


def run_case(switches: int, nodes: int, args: argparse.Namespace) -> dict[str, Any]:
    from _eapi_count import count_eapi_requests

    from fabric.checks import Status, load_catalog
    from fabric.lab.generate import write_inventory
    from fabric.paths import ProjectPaths
    from fabric.workflows.compliance import (
        ComplianceOptions,
        judge,
        load_offline,
        prepare_state,
        run_compliance,
    )

    print(f"case {switches} switches x {nodes} nodes", flush=True)
    with (
        count_eapi_requests() as counts,
        tempfile.TemporaryDirectory(prefix="bench-compliance-") as tmp_s,
    ):
        tmp = Path(tmp_s)
        inv = tmp / "inventory"
        write_inventory(inv, switches=switches, nodes=nodes)
        paths = dataclasses.replace(ProjectPaths.discover(REPO, inventory=inv), state=tmp / "state")
        os.environ["FABRIC_LAB_DIR"] = str(tmp / "lab")
        lab = Lab(inv, tmp / "lab")
        try:
            raw = tmp / "raw"
            # Warm-up (imports, TLS contexts), saving every raw output for the offline part.
            lab.ask(latency_ms=0)
            run_compliance(paths, ComplianceOptions(lab=True, workers=args.workers, save_raw=raw))
            costs = transport_costs(paths, lab, args.workers)
            runs: dict[str, dict[str, Any]] = {}
            plan = [("no_latency", 0.0), ("latency", args.latency_ms)] * args.repeat
            for label, lat in plan:
                lab.ask(latency_ms=lat)
                counts.clear()
                with Meter(lab) as m:
                    rep = run_compliance(paths, ComplianceOptions(lab=True, workers=args.workers))
                print(
                    f"  {label}: {m.wall:.2f} s, {rep.status.value}, CPU client "
                    f"{m.client:.2f} s, lab {m.server:.2f} s",
                    flush=True,
                )
                if label in runs and runs[label]["wall_s"] <= m.wall:
                    continue
                runs[label] = {
                    "wall_s": round(m.wall, 3),
                    "client_cpu_s": round(m.client, 2),
                    "lab_cpu_s": round(m.server, 2),
                    "status": rep.status.value,
                    "problems": len(rep.problems),
                    "failed_checks": [v.check for v in rep.verdicts if v.status == Status.FAIL],
                    "round_trips_per_switch": max(counts.values()) if counts else 0,
                }
            t = time.perf_counter()
            offline = run_compliance(paths, ComplianceOptions(from_dir=raw))
            offline_s = time.perf_counter() - t
            state = prepare_state(paths)
            load_offline(state, raw)
            checks = load_catalog(None)
            t = time.perf_counter()
            judge(state, checks)
            checks_s = time.perf_counter() - t
        finally:
            lab.close()

    lat = args.latency_ms / 1000.0
    rt = runs["latency"]["round_trips_per_switch"]
    issue_bound = ISSUE_ROUND_TRIPS * lat * switches / args.workers
    latency_bound = rt * lat * math.ceil(switches / args.workers)
    ssh_ms = costs["ssh_client_ms_per_node"] + costs["ssh_lab_ms_per_node"]
    eapi_ms = costs["eapi_client_ms_per_switch"] + costs["eapi_lab_ms_per_switch"]
    cpu_total = (ssh_ms * nodes + eapi_ms * switches) / 1000
    # Each process runs its Python on about one core (the GIL; the lab is one event loop).
    lab_single = (
        costs["ssh_lab_ms_per_node"] * nodes + costs["eapi_lab_ms_per_switch"] * switches
    ) / 1000
    client_single = (
        costs["ssh_client_ms_per_node"] * nodes + costs["eapi_client_ms_per_switch"] * switches
    ) / 1000
    cpu_floor = max(cpu_total / args.cores, lab_single, client_single)
    floor = max(latency_bound, cpu_floor)
    wall = runs["latency"]["wall_s"]
    return {
        "switches": switches,
        "nodes": nodes,
        "latency_ms": args.latency_ms,
        "workers": args.workers,
        "cores": args.cores,
        "lab_start_s": lab.ready["lab_start_s"],
        "runs": runs,
        "transport_cpu_ms": {k: round(v, 3) for k, v in costs.items()},
        "offline_parse_and_checks_s": round(offline_s, 2),
        "offline_status": offline.status.value,
        "checks_only_s": round(checks_s, 3),
        "eapi_round_trips_per_switch": rt,
        "issue_bound_s": round(issue_bound, 3),
        "latency_bound_s": round(latency_bound, 3),
        "cpu_floor_s": round(cpu_floor, 3),
        "floor_s": round(floor, 3),
        "wall_s": wall,
        "ratio_to_issue_bound": round(wall / issue_bound, 2),
        "ratio_to_latency_bound": round(wall / latency_bound, 2),
        "ratio_to_floor": round(wall / floor, 2),
        "latency_cost_s": round(wall - runs["no_latency"]["wall_s"], 3),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--case",
        action="append",
        metavar="SWITCHESxNODES",
        help="a lab size (repeatable; default 200x2000 and 20x200)",
    )
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    ap.add_argument(
        "--serve-lab", nargs=2, metavar=("INVENTORY", "LAB_DIR"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.serve_lab:
        serve_lab(Path(args.serve_lab[0]), Path(args.serve_lab[1]))
        return 0

    from fabric.safety import install_guard

    install_guard()
    cases = [tuple(int(x) for x in c.lower().split("x")) for c in args.case or []]
    results = [run_case(s, n, args) for s, n in cases or [(200, 2000), (20, 200)]]
    for res in results:
        print()
        for k, v in res.items():
            print(f"{k:>28}: {v}")
    head = dict(results[0])
    head["cases"] = results[1:]
    head["ok"] = head["ratio_to_issue_bound"] <= 1.5
    print("RESULT " + json.dumps(head))
    return 0


if __name__ == "__main__":
    sys.exit(main())
