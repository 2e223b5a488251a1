"""IPv6 parser benchmark: 100,000-route ``show ipv6 route`` next to ``show ip route``.

Run: ``.venv/bin/python bench/bench_parsers_ipv6.py [--routes N] [--repeat K]``.

Both tables are generated with the same shape, as EOS 4.3x prints them (route line, then one
line per next hop): a quarter connected routes, the rest BGP/IS-IS routes with one to eight
ECMP next hops (1.6 per route on average), over the same number of distinct next hops. The
IPv4 table's next hops are ``via 172.16.X.Y, EthernetN``; the IPv6 table's are mostly
link-local ``via fe80::X:Y, EthernetN`` and some global ``via fd00:21::X, Vlan3002``, its
connected routes ``[0/0]`` with ``via EthernetN, directly connected``.

Each parse is :func:`fabric.parsing.parse` (text -> validated models) in a fresh subprocess
(peak MB = ru_maxrss above the process's baseline after imports; CPU seconds are the steadier
figure on a shared machine), repeated ``--repeat`` times alternately; the median of each is
reported with the ratio IPv6 / IPv4. Target: IPv6 within 1.2x of IPv4 (CPU and memory).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.2

_LEGEND4 = [
    "Source Codes:",
    "       C - connected, S - static, K - kernel,",
    "       B I - iBGP, B E - eBGP, R - RIP, I L1 - IS-IS level 1,",
    "       I L2 - IS-IS level 2, O3 - OSPFv3, A B - BGP Aggregate,",
]
_LEGEND6 = [
    "Source Codes:",
    "       C - connected, S - static, K - kernel, O3 - OSPFv3,",
    "       B - Other BGP Routes, A B - BGP Aggregate, R - RIP,",
    "       I L1 - IS-IS level 1, I L2 - IS-IS level 2, DH - DHCP,",
]


def _ecmp(i: int) -> int:
    """Paths of route ``i`` (not connected): mostly one or two, every 16th eight."""
    return 8 if i % 16 == 1 else 1 + (i % 2)


def gen_routes4(n: int) -> str:
    """``show ip route`` of ``n`` routes, newer EOS layout."""
    lines = ["", "VRF: default", *_LEGEND4, "", "Gateway of last resort is not set", ""]
    for i in range(n):
        prefix = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"
        if i % 4 == 0:
            lines += [f" C        {prefix}", f"           directly connected, Ethernet{i % 48 + 1}"]
            continue
        lines.append(
            f" B E      {prefix} [200/0]" if i % 4 != 3 else f" I L2     {prefix} [115/20]"
        )
        for k in range(_ecmp(i)):
            lines.append(f"           via 172.16.{(i + k) % 250}.{k + 1}, Ethernet{k + 1}")
    return "\n".join(lines) + "\n"


def gen_routes6(n: int) -> str:
    """``show ipv6 route`` of ``n`` routes: link-local and global next hops, ECMP."""
    lines = ["", "VRF: default", f"Displaying {n} of {n} IPv6 routing table entries", *_LEGEND6]
    lines.append("")
    for i in range(n):
        prefix = f"fd00:{(i >> 16) & 255:x}:{(i >> 8) & 255:x}:{i & 255:x}::/64"
        if i % 4 == 0:
            lines += [
                f" C        {prefix} [0/0]",
                f"           via Ethernet{i % 48 + 1}, directly connected",
            ]
            continue
        lines.append(f" B E      {prefix} [20/0]" if i % 4 != 3 else f" I L2     {prefix} [115/20]")
        for k in range(_ecmp(i)):
            if i % 8 == 2:  # iBGP-learnt: a global next hop on the node subnet
                lines.append(f"           via fd00:21::{(i + k) % 250:x}:{k + 1}, Vlan3002")
            else:
                lines.append(f"           via fe80::{(i + k) % 250:x}:{k + 1}, Ethernet{k + 1}")
    return "\n".join(lines) + "\n"


CHILD = r"""
import json, resource, sys, time
command, path = sys.argv[1:3]
text = open(path).read()
from fabric.parsing import find_parser, parse, parsers_dir
from fabric.parsing.engine import load_template
load_template(parsers_dir() / find_parser("arista_eos", command).template)  # compiled, as in use
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
state = parse("arista_eos", command, text)
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
routes = state.vrfs["default"].routes
hops = sum(len(r.next_hops) for r in routes)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
print(json.dumps({"secs": secs, "cpu": cpu, "peak_mb": peak / 1024, "routes": len(routes),
                  "hops": hops}))
"""


def run(command: str, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, command, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    args.add_argument("--routes", type=int, default=100_000)
    args.add_argument("--repeat", type=int, default=3)
    opts = args.parse_args()
    cases = {
        "show ip route": gen_routes4(opts.routes),
        "show ipv6 route": gen_routes6(opts.routes),
    }
    runs: dict[str, list[dict[str, float]]] = {command: [] for command in cases}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for command, text in cases.items():
            paths[command] = Path(tmp) / (command.replace(" ", "_") + ".txt")
            paths[command].write_text(text)
        for _ in range(opts.repeat):  # alternate, so both see the same load
            for command, path in paths.items():
                runs[command].append(run(command, path))
    median = {
        command: {key: statistics.median(r[key] for r in rs) for key in rs[0]}
        for command, rs in runs.items()
    }
    print(f"{'text':34} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'routes':>7} {'hops':>7}  MB")
    for command, m in median.items():
        size = len(cases[command]) / 1e6
        label = f"{opts.routes:,} routes, {command}"
        print(
            f"{label:34} {m['secs']:7.3f} {m['cpu']:7.3f} {m['peak_mb']:8.1f} "
            f"{m['routes']:7.0f} {m['hops']:7.0f}  {size:.1f}"
        )
    v4, v6 = median["show ip route"], median["show ipv6 route"]
    cpu_ratio = v6["cpu"] / v4["cpu"]
    mem_ratio = v6["peak_mb"] / v4["peak_mb"] if v4["peak_mb"] else float("inf")
    print(f"IPv6 / IPv4: cpu {cpu_ratio:.2f}x, peak memory {mem_ratio:.2f}x (target <= {TARGET}x)")
    result = {
        "bench": "parsers_ipv6",
        "routes": opts.routes,
        "ipv4_cpu_s": round(v4["cpu"], 3),
        "ipv6_cpu_s": round(v6["cpu"], 3),
        "ipv4_peak_mb": round(v4["peak_mb"], 1),
        "ipv6_peak_mb": round(v6["peak_mb"], 1),
        "cpu_ratio": round(cpu_ratio, 2),
        "memory_ratio": round(mem_ratio, 2),
        "ok": cpu_ratio <= TARGET and mem_ratio <= TARGET,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
