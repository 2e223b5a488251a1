"""Benchmark: the same switch expectations checked by ANTA and by our compliance, side by side.

A lab of 200 switches and 2,000 nodes (``bench_compliance``'s lab process: every switch's
rendered config loaded, the Calico objects stored), 20 ms eAPI latency on every switch. Then,
in one run, each a fresh process timed from outside (wall, and the CPU seconds of the process
and of the lab process):

* **ANTA**: ``anta nrfu`` (ANTA 1.10, JSON report) with the catalog of
  ``python -m fabric export anta-catalog --blocks-from-cluster --lab``: per switch the BGP peer
  count, each peer Established with IPv4 negotiated, and the routes of its nodes' pod blocks
  and of the service CIDR (3 tests a switch, over verified HTTPS);
* **ours**: compliance limited to the switch checks (``VerifySwitchBgpNeighbors``,
  ``VerifySwitchRoutes``) over the switches and the cluster: ``show ip bgp summary`` and
  ``show ip route`` of each switch, the cluster's IPAM blocks and pods (the expectations are
  read at run time, where ANTA's were baked into the catalog), Nornir with 100 workers.

Both must pass (every test/check green) for the timing to count. Reported: best wall of
``--repeat`` runs per tool, the CPU of that run, and the ours/ANTA ratios.

Usage: ``python bench/bench_anta.py [--switches 200] [--nodes 2000] [--latency-ms 20]
[--repeat 2] [--workers 100]``. Loopback only: the guard is installed first.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH))

os.environ["FABRIC_LAB_ONLY"] = "1"

SWITCH_CHECKS: list[Any] = [
    {"VerifySwitchBgpNeighbors": {"vrf": "default", "check_prefixes": True}},
    {"VerifySwitchRoutes": {"vrf": "default", "require_ecmp": False, "check_pods": True}},
]


def run_ours(inventory: Path, workers: int) -> int:
    """Child process: our compliance over the switches and the cluster, switch checks only."""
    from fabric.safety import install_guard

    install_guard()
    from fabric.checks import Status, load_catalog
    from fabric.inventory import init_nornir
    from fabric.paths import ProjectPaths
    from fabric.steps.collect import ClusterState, SwitchState, collect_host_state
    from fabric.steps.eos import configure_napalm_tls
    from fabric.workflows.compliance import intent_hosts, prepare_state, report_from_state

    paths = ProjectPaths.discover(REPO, inventory=inventory)
    state = prepare_state(paths)
    roles = intent_hosts(state.intent)
    keep = {h for h, role in roles.items() if role in ("switch", "cluster")}
    nr = init_nornir(paths, lab=True, num_workers=workers)
    nr = nr.filter(filter_func=lambda h: h.name in keep)
    for name in keep:
        if roles[name] == "switch":
            configure_napalm_tls(nr.inventory.hosts[name], insecure=False, ca_file=None)
    try:
        results = nr.run(
            task=collect_host_state,
            switch_commands=("show ip bgp summary", "show ip route"),
            on_failed=True,
        )
    finally:
        nr.close_connections(on_good=True, on_failed=True)
    for host in keep:
        got = results[host][0].result
        if isinstance(got, SwitchState):
            state.switches[host] = got
        elif isinstance(got, ClusterState):
            state.cluster = got
        else:
            raise RuntimeError(f"{host}: not collected: {results[host][0].exception}")
    report = report_from_state(state, load_catalog(SWITCH_CHECKS, "bench"))
    hosts = {h.host: h.status for v in report.verdicts for h in v.hosts}
    bad = sorted(h for h, s in hosts.items() if s not in (Status.PASS, Status.WARN))
    print(json.dumps({"status": report.status.value, "hosts": len(hosts), "bad": bad[:5]}))
    return 0


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


@dataclasses.dataclass
class Run:
    wall_s: float
    cpu_s: float
    lab_cpu_s: float
    verdict: dict[str, Any]


def timed(lab: Any, argv: list[str], env: dict[str, str]) -> tuple[float, float, float, str]:
    """Run ``argv`` as a child; (wall, child CPU, lab CPU, stdout)."""
    c0, l0, t0 = _children_cpu(), lab.cpu(), time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, cwd=REPO, timeout=1800)
    wall = time.perf_counter() - t0
    cpu, lab_cpu = _children_cpu() - c0, lab.cpu() - l0
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{argv[:3]} exit {proc.returncode}: {proc.stderr[-2000:]}")
    return wall, cpu, lab_cpu, proc.stdout


def anta_inventory(endpoints: dict[str, Any], dest: Path) -> None:
    hosts = [
        {
            "host": ep["hostname"],
            "port": ep["port"],
            "name": name,
            "ssl_params": {"verify": True, "check_hostname": True},
        }
        for name, ep in endpoints["hosts"].items()
        if ep["kind"] == "switch"
    ]
    dest.write_text(json.dumps({"anta_inventory": {"hosts": hosts}}))


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--switches", type=int, default=200)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--ours", metavar="INVENTORY", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ours:
        return run_ours(Path(args.ours), args.workers)

    from fabric.safety import install_guard

    install_guard()
    from bench_compliance import Lab

    from fabric.lab.generate import write_inventory

    with tempfile.TemporaryDirectory(prefix="bench-anta-") as tmp_s:
        tmp = Path(tmp_s)
        inv = tmp / "inventory"
        write_inventory(inv, switches=args.switches, nodes=args.nodes)
        lab_dir = tmp / "lab"
        env = {**os.environ, "FABRIC_LAB_DIR": str(lab_dir), "FABRIC_STATE_DIR": str(tmp / "s")}
        os.environ.update(env)
        print(f"lab: {args.switches} switches x {args.nodes} nodes", flush=True)
        lab = Lab(inv, lab_dir)
        try:
            endpoints = json.loads((lab_dir / "endpoints.json").read_text())
            switch = next(e for e in endpoints["hosts"].values() if e["kind"] == "switch")
            catalog = tmp / "catalog.yml"
            export = [sys.executable, "-m", "fabric", "export", "anta-catalog"]
            export += ["--inventory", str(inv), "--blocks-from-cluster", "--lab"]
            subprocess.run(
                [*export, "--out", str(catalog)],
                env=env,
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            anta_inv = tmp / "anta.json"
            anta_inventory(endpoints, anta_inv)
            anta_env = {
                **env,
                "SSL_CERT_FILE": endpoints["ca_file"],
                "ANTA_USERNAME": switch["username"],
                "ANTA_PASSWORD": switch["password"],
            }
            anta = str(Path(sys.executable).parent / "anta")
            results = tmp / "anta-results.json"
            anta_argv = [anta, "nrfu", "-i", str(anta_inv), "--inventory-format", "json"]
            anta_argv += ["-c", str(catalog), "json", "-o", str(results)]
            ours_argv = [sys.executable, __file__, "--ours", str(inv)]
            ours_argv += ["--workers", str(args.workers)]
            lab.ask(latency_ms=args.latency_ms)
            best: dict[str, Run] = {}
            # Warm-up (imports, page cache), then alternate the tools.
            plan = ["anta", "ours"] + ["anta", "ours"] * args.repeat
            for i, tool in enumerate(plan):
                if tool == "anta":
                    wall, cpu, lab_cpu, _ = timed(lab, anta_argv, anta_env)
                    rows = json.loads(results.read_text())
                    verdict = {
                        "tests": len(rows),
                        "success": sum(1 for r in rows if r["result"] == "success"),
                    }
                    ok = verdict["tests"] == 3 * args.switches == verdict["success"]
                else:
                    wall, cpu, lab_cpu, out = timed(lab, ours_argv, env)
                    verdict = json.loads(out.strip().splitlines()[-1])
                    ok = verdict["status"] in ("pass", "warn") and not verdict["bad"]
                label = "warm-up" if i < 2 else "run"
                print(
                    f"  {tool:5s} {label:7s} wall {wall:6.2f} s  CPU {cpu:6.2f} s  "
                    f"lab CPU {lab_cpu:6.2f} s  {verdict}",
                    flush=True,
                )
                if not ok:
                    raise RuntimeError(f"{tool} did not pass: {verdict}")
                if i >= 2 and (tool not in best or wall < best[tool].wall_s):
                    best[tool] = Run(round(wall, 2), round(cpu, 2), round(lab_cpu, 2), verdict)
        finally:
            lab.close()

    a, o = best["anta"], best["ours"]
    head = {
        "switches": args.switches,
        "nodes": args.nodes,
        "latency_ms": args.latency_ms,
        "anta": dataclasses.asdict(a),
        "ours": dataclasses.asdict(o),
        "wall_ratio_ours_to_anta": round(o.wall_s / a.wall_s, 2),
        "cpu_ratio_ours_to_anta": round(o.cpu_s / a.cpu_s, 2),
        "lab_cpu_ratio_ours_to_anta": round(o.lab_cpu_s / a.lab_cpu_s, 2),
        "ok": o.wall_s <= a.wall_s,
    }
    print("RESULT " + json.dumps(head))
    return 0


if __name__ == "__main__":
    sys.exit(main())
