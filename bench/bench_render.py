"""Benchmark: validate + render a generated inventory of 5,000 nodes and 100 switches.

Targets (issue 2): under 3 s and under 300 MB peak memory. The measurement runs in a fresh
child process per repetition (cold: imports and template compilation included in the process,
not in the timed section, which starts at reading the inventory), reporting wall time per phase
and the child's peak RSS (``ru_maxrss``, whole process: interpreter and libraries included).

Usage: ``python bench/bench_render.py [--nodes N] [--switches S] [--repeat R]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent


def generate(dest: Path, *, nodes: int, switches: int) -> None:
    """Write a valid inventory: one /24 per switch, per-rack selector peers, 10% eBGP nodes."""
    inv = dest / "inventory"
    inv.mkdir(parents=True)
    for name in ("groups.yaml", "defaults.yaml"):
        (inv / name).write_text((REPO / "inventory" / name).read_text())
    hosts: dict[str, Any] = {}
    per = -(-nodes // switches)
    peers = []
    for s in range(switches):
        rack = f"r{s:03d}"
        hosts[f"tor-{s:03d}"] = {
            "hostname": f"10.3.{s // 250}.{s % 250 + 1}",
            "groups": ["arista_switches"],
            "data": {
                "eos_version": "4.30.3M",
                "switch": {
                    "asn": 65010,
                    "router_id": f"10.255.{s // 250}.{s % 250 + 1}",
                    "peering_vlan": 1000 + s,
                    "svi": f"10.1.{s}.1/24",
                    "maximum_paths": 8,
                    "peer_group": "calico",
                    "access_ports": [f"Ethernet{i}" for i in range(1, 9)],
                },
            },
        }
        peers.append(
            {
                "name": f"rack-{rack}",
                "peer_ip": f"10.1.{s}.1",
                "as_number": 65010,
                "node_selector": f"rack == '{rack}'",
            }
        )
    for n in range(nodes):
        s, j = divmod(n, per)
        node: dict[str, Any] = {
            "bgp_ip": f"10.1.{s}.{10 + j}",
            "mgmt_ip": f"10.2.{s}.{10 + j}",
            "tor": f"tor-{s:03d}",
            "labels": {"rack": f"r{s:03d}"},
        }
        if n % 10 == 0:
            node["as_number"] = 65100 + s
        hosts[f"node-{n:05d}"] = {
            "hostname": f"10.2.{s}.{10 + j}",
            "groups": ["calico_nodes"],
            "data": {"node": node},
        }
    hosts["cluster"] = {
        "hostname": "10.2.0.10",
        "groups": ["k8s_cluster"],
        "data": {
            "calico": {
                "version": "3.30",
                "as_number": 65010,
                "pod_cidr": "10.64.0.0/12",
                "service_cluster_cidrs": ["10.96.0.0/12"],
                "node_to_node_mesh": False,
                "peers": peers,
            }
        },
    }
    # Switches are route reflectors (the mesh is off).
    for h in hosts.values():
        sw = h["data"].get("switch")
        if sw:
            sw["route_reflector"] = True
    (inv / "hosts.yaml").write_text(yaml.safe_dump(hosts, sort_keys=False))


def child(root: Path, out: Path) -> None:
    """One measured run (in a fresh process)."""
    from fabric.intent import build_intent, load_checked_inventory
    from fabric.paths import ProjectPaths
    from fabric.workflows.render import render_all

    paths = ProjectPaths.discover(root)
    t0 = time.perf_counter()
    raw, issues = load_checked_inventory(paths)
    t1 = time.perf_counter()
    report = build_intent(raw, issues)
    t2 = time.perf_counter()
    assert report.intent is not None, report.errors[:5]
    result = render_all(paths, out)
    t3 = time.perf_counter()
    print(
        json.dumps(
            {
                "load_s": t1 - t0,
                "validate_s": t2 - t1,
                "render_all_s": t3 - t2,  # load + validate + render + write, again, end to end
                "files": len(result.artifacts),
                "warnings": len(report.warnings),
                "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=5000)
    ap.add_argument("--switches", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=2, metavar=("ROOT", "OUT"))
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root, nodes=args.nodes, switches=args.switches)
        os.symlink(REPO / "templates", root / "templates")
        size = (root / "inventory" / "hosts.yaml").stat().st_size
        runs = []
        for i in range(args.repeat):
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(root), str(root / f"build{i}")],
                capture_output=True,
                text=True,
                check=True,
            )
            runs.append(json.loads(proc.stdout))
        # Determinism at scale: every run wrote the same bytes.
        same = all(
            (root / "build0" / f.relative_to(root / "build0")).read_bytes()
            == (root / f"build{i}" / f.relative_to(root / "build0")).read_bytes()
            for i in range(1, args.repeat)
            for f in (root / "build0").rglob("*")
            if f.is_file()
        )
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    e2e = med["render_all_s"]
    print(
        f"render {args.nodes} nodes / {args.switches} switches (hosts.yaml {size / 1e6:.1f} MB), "
        f"median of {args.repeat} fresh processes:"
    )
    print(
        f"  load+dup-check {med['load_s']:.3f} s, validate+build {med['validate_s']:.3f} s, "
        f"end-to-end render_all {e2e:.3f} s (target < 3 s), {int(med['files'])} files, "
        f"peak RSS {med['maxrss_mb']:.0f} MB (target < 300 MB), deterministic={same}"
    )
    result = {
        "bench": "render",
        "nodes": args.nodes,
        "switches": args.switches,
        "median": med,
        "deterministic": same,
        "ok": e2e < 3 and med["maxrss_mb"] < 300 and same,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
