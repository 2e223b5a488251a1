"""Parser benchmark: 100,000-route ``show ip route`` and 2,000-peer ``show ip bgp summary``.

Run: ``.venv/bin/python bench/bench_parsers.py`` (needs the ``bench`` extra: ntc-templates,
textfsm). Each parser runs in a fresh subprocess so peak memory (ru_maxrss, minus the
process's baseline after imports) is its own. Compared in the same run on the same text:

* ``fabric rows``: the line engine alone (text -> one matched row per line, every line
  accounted for): the stage comparable to what TextFSM returns;
* ``fabric lines``: :func:`fabric.parsing.parse` (line engine + assembler + pydantic models);
* ``fabric ttp``: the same with TTP's own engine (``engine="ttp"``);
* ``ntc textfsm``: ntc-templates' TextFSM template for the command (rows only, no models);
* with ``--baseline REV`` (a git revision), also ``lines @REV``: the library call of that
  revision (its ``fabric/`` and ``parsers/``, from ``git archive``), for old vs new in one run.

The route text mixes both next-hop layouts (same line, older EOS; following line, newer EOS)
and ECMP. ntc-templates' template rejects the newer layout (TextFSM "State Error"), so a second
route text with next hops on the route line only is timed for all three as well.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def gen_routes(n: int, *, newer_layout: bool) -> str:
    lines = [
        "VRF: default",
        "Codes: C - connected, S - static, K - kernel,",
        "       B I - iBGP, B E - eBGP",
        "",
        "Gateway of last resort is not set",
        "",
    ]
    for i in range(n):
        prefix = f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}/32"
        kind = i % 4
        if kind == 0:
            lines.append(f" C        {prefix} is directly connected, Ethernet{i % 48 + 1}")
        elif kind == 1 or not newer_layout:
            lines.append(f" B E      {prefix} [200/0] via 172.16.{i % 250}.1, Ethernet{i % 48 + 1}")
            if i % 8 == 1:
                for k in range(2, 5):
                    lines.append(
                        f"                                via 172.16.{i % 250}.{k}, Ethernet{k}"
                    )
        else:
            lines.append(f" B I      {prefix} [200/0]")
            for k in range(1, 3 if i % 8 else 9):
                lines.append(f"                           via 172.17.{i % 250}.{k}, Ethernet{k}")
    return "\n".join(lines) + "\n"


def gen_bgp(n: int) -> str:
    lines = [
        "BGP summary information for VRF default",
        "Router identifier 10.0.0.1, local AS number 65000",
        "Neighbor Status Codes: m - Under maintenance",
        "  Neighbor         V  AS           MsgRcvd   MsgSent  InQ OutQ  Up/Down State  "
        "PfxRcd PfxAcc",
    ]
    for i in range(n):
        addr = f"10.{(i >> 8) & 255}.{i & 255}.1"
        if i % 10 == 9:
            lines.append(
                f"  {addr:<16} 4  {65001 + i:<12} {0:>7} {0:>9} {0:>4} {0:>4}   1d23h Active"
            )
        else:
            lines.append(
                f"  {addr:<16} 4  {65001 + i:<12} {1234:>7} {1300:>9} {0:>4} {0:>4} 00:09:28 "
                f"Estab  {i % 50:<6} {i % 50}"
            )
    return "\n".join(lines) + "\n"


CHILD = r"""
import json, resource, sys, time
which, platform, command, path = sys.argv[1:5]
text = open(path).read()
if which.startswith("fabric"):
    from fabric.parsing import find_parser, parse, template_file
    from fabric.parsing.engine import load_template, run
    parser = find_parser(platform, command)
    template = load_template(template_file(parser))
else:
    from ntc_templates.parse import parse_output
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0, c0 = time.perf_counter(), time.process_time()
err = None
try:
    if which == "fabric rows":  # text -> matched rows (the TextFSM-comparable stage)
        kinds = {"route", "route_hop", "route_connected", "peer"}
        count = sum(r.kind in kinds for r in run(template, command, text))
    elif which.startswith("fabric"):  # text -> validated pydantic models (the library call)
        state = parse(platform, command, text, engine=which.split()[1])
        count = sum(len(getattr(v, "routes", None) or v.peers) for v in state.vrfs.values())
    else:
        count = len(parse_output(platform="arista_eos", command=command, data=text))
except Exception as exc:
    count, err = None, f"{type(exc).__name__}: {str(exc)[:70]}"
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
print(json.dumps({"secs": secs, "cpu": cpu, "peak_mb": peak / 1024, "count": count, "error": err}))
"""


def run(which: str, platform: str, command: str, path: Path, cwd: Path = ROOT) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, which, platform, command, str(path)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def checkout(rev: str, into: Path) -> Path:
    """``fabric/`` and ``parsers/`` of revision ``rev`` under ``into`` (imported from there)."""
    archive = subprocess.run(
        ["git", "archive", rev, "fabric", "parsers"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    into.mkdir()
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    args.add_argument("--baseline", metavar="REV", help="also time parse() of this git revision")
    opts = args.parse_args()
    cases = [
        (
            "show ip route",
            "100k routes, mixed layouts + ECMP",
            gen_routes(100_000, newer_layout=True),
        ),
        (
            "show ip route",
            "100k routes, next hop on the route line",
            gen_routes(100_000, newer_layout=False),
        ),
        ("show ip bgp summary", "2,000 peers", gen_bgp(2_000)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        parsers: list[tuple[str, str, Path]] = [
            (name, name, ROOT)
            for name in ("fabric rows", "fabric lines", "fabric ttp", "ntc textfsm")
        ]
        if opts.baseline:
            old = checkout(opts.baseline, Path(tmp) / "baseline")
            parsers.insert(2, (f"lines @{opts.baseline[:7]}", "fabric lines", old))
        print(
            f"{'text':42} {'parser':15} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'rows':>7}  note"
        )
        summary: dict[str, dict[str, Any]] = {}
        for command, label, text in cases:
            path = Path(tmp) / "input.txt"
            path.write_text(text)
            for name, which, cwd in parsers:
                r = run(which, "arista_eos", command, path, cwd)
                note = r["error"] or ""
                summary.setdefault(label, {})[name] = r
                print(
                    f"{label:42} {name:15} {r['secs']:7.3f} {r['cpu']:7.3f} "
                    f"{r['peak_mb']:8.1f} {r['count']!s:>7}  {note}"
                )
    # The targets: the full typed parse of 100,000 routes under 1.5 s, and faster than
    # TextFSM wherever TextFSM can read the text at all.
    routes = summary["100k routes, mixed layouts + ECMP"]["fabric lines"]
    beats = all(
        r["fabric lines"]["cpu"] < r["ntc textfsm"]["cpu"]
        for r in summary.values()
        if not r["ntc textfsm"]["error"]
    )
    result = {
        "bench": "parsers",
        "routes_100k_cpu_s": routes["cpu"],
        "routes_100k_peak_mb": round(routes["peak_mb"], 1),
        "faster_than_textfsm": beats,
        "ok": routes["error"] is None and routes["cpu"] < 1.5 and beats,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
