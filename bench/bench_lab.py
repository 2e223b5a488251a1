"""Lab scale benchmark: 200 switches and 2,000 nodes in one process.

Measures, in one run: start-up time (``LabRuntime.start`` until every endpoint answers and
endpoints.json is written; target < 30 s), peak RSS (target < 2 GB), the eAPI round trip of
one ``show version`` (median of many, HTTP and HTTPS, no injected latency), and the cost of a
simulation recompute after a change (``show ip bgp summary`` right after a commit).

    .venv/bin/python bench/bench_lab.py [--switches 200] [--nodes 2000] [--calls 200]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fabric.lab.generate import write_inventory
from fabric.lab.runtime import LabRuntime
from fabric.paths import ProjectPaths
from fabric.safety import install_guard


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _median_ms(fn, calls: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up (TLS handshake, connection pool)
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--switches", type=int, default=200)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--calls", type=int, default=200)
    args = ap.parse_args()
    install_guard()
    import pyeapi

    with tempfile.TemporaryDirectory(prefix="fabric-bench-lab-") as tmp:
        inv = Path(tmp) / "inventory"
        write_inventory(inv, switches=args.switches, nodes=args.nodes)
        paths = ProjectPaths.discover(inventory=inv)
        lab = LabRuntime(paths, Path(tmp) / "lab", fresh=True, seeded=True)
        rss_before = _rss_mb()
        t0 = time.perf_counter()
        lab.start(timeout=300)
        startup = time.perf_counter() - t0
        ep = lab.endpoints["hosts"]["eos-tor-001"]
        results: dict[str, float | int] = {
            "switches": args.switches,
            "nodes": args.nodes,
            "startup_s": round(startup, 2),
        }
        try:
            for transport, port in (("http", ep["http_port"]), ("https", ep["port"])):
                node = pyeapi.connect(
                    transport=transport,
                    host=ep["hostname"],
                    port=port,
                    username=ep["username"],
                    password=ep["password"],
                    return_node=True,
                )
                if transport == "https":
                    # pyeapi does not verify by default; the CA is lab-only anyway.
                    pass
                results[f"eapi_show_version_{transport}_median_ms"] = round(
                    _median_ms(lambda n=node: n.enable("show version"), args.calls), 2
                )
            node = pyeapi.connect(
                transport="http",
                host=ep["hostname"],
                port=ep["http_port"],
                username=ep["username"],
                password=ep["password"],
                return_node=True,
            )
            summary = node.enable("show ip bgp summary")[0]["result"]["vrfs"]["default"]["peers"]
            results["tor1_established"] = sum(
                1 for p in summary.values() if p["peerState"] == "Established"
            )
            # Cost of one recompute: change the config, then ask for the summary.
            t1 = time.perf_counter()
            node.config(["router bgp 65001", "maximum-paths 8"])
            node.enable("show ip bgp summary")
            results["commit_then_summary_ms"] = round((time.perf_counter() - t1) * 1000, 1)
            t2 = time.perf_counter()
            lab.sim_result()
            results["sim_cached_ms"] = round((time.perf_counter() - t2) * 1000, 2)
            # The fault itself recomputes (calico-node's log records the change when it
            # happens), so the clock covers both.
            t3 = time.perf_counter()
            lab.fault("eos-tor-002", "link-down")
            lab.sim_result()
            results["sim_recompute_ms"] = round((time.perf_counter() - t3) * 1000, 1)
        finally:
            lab.stop()
        results["peak_rss_mb"] = round(_rss_mb(), 1)
        results["rss_before_start_mb"] = round(rss_before, 1)
        results["startup_target_ok"] = int(startup < 30)
        results["rss_target_ok"] = int(_rss_mb() < 2048)
    results["ok"] = bool(results["startup_target_ok"] and results["rss_target_ok"])
    print(json.dumps(results, indent=2))
    print("RESULT " + json.dumps(results))
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
