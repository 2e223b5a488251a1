"""Hostile device output: how long a parse takes on lines built to make regexes backtrack.

Run: ``.venv/bin/python bench/bench_hostile.py [--baseline REV] [--limit SECONDS]``.
The clock runs around :func:`fabric.parsing.parse` only (the template is compiled before).
Issue 16 measured a 1 MB line inside ``show ip bgp summary`` running for more than 30 s. Each
case runs :func:`fabric.parsing.parse` in a fresh subprocess, killed after ``--limit`` seconds
(default 60; reported as ``>60``). Compared in the same run, on the same machine:

* ``normal``: a 2,000-peer ``show ip bgp summary`` (the yardstick the ratios divide by);
* ``1 MB line``: one line of a megabyte (spaces between two words) after a table header;
* ``64 KB spaces``: the same under the 64 KB line limit (what the regex choked on);
* ``64 KB word``: a peer row whose neighbor word is 60,000 characters (the description split);
* ``worst 64 KB line``: for every parser, the slowest of the line families below.

With ``--baseline REV`` (a git revision), each case also runs on that revision's ``fabric/``
and ``parsers/`` (``git archive``): before and after in one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_parsers import checkout, gen_bgp  # the sibling benchmark's helpers

ROOT = Path(__file__).resolve().parent.parent
HEAD = (
    "BGP summary information for VRF default\n"
    "Router identifier 10.0.0.1, local AS number 65001\n"
    "Neighbor V AS MsgRcvd MsgSent InQ OutQ Up/Down State PfxRcd PfxAcc\n"
)
DESC_HEAD = HEAD.replace("Neighbor V", "Description Neighbor V")
ROW = " 4 65001 10 10 0 0 00:01:00 Estab 1 1"
#: Line families of about 60,000 characters: the units regexes and splits stumble on.
FAMILIES = {
    "spaces": "a" + " " * 60_000 + "b",
    "tokens": "1 " * 30_000,
    "colons": "a:" * 30_000,
    "pipes": "| " * 30_000,
    "prompts": "x$ birdcl " * 6_000,
    "via": "via " * 15_000,
    "digits": "1" * 60_000,
}

CHILD = r"""
import json, sys, time
platform, command, path = sys.argv[1:4]
text = open(path).read()
from fabric.parsing import find_parser, load_template, parse, template_file
load_template(template_file(find_parser(platform, command)))  # compiled before the clock runs
t0 = time.perf_counter()
try:
    parse(platform, command, text)
    err = None
except Exception as exc:
    err = type(exc).__name__
print(json.dumps({"secs": time.perf_counter() - t0, "error": err}))
"""


def run(platform: str, command: str, text: str, cwd: Path, limit: float, tmp: Path) -> float:
    """Seconds one parse takes (``inf`` when killed after ``limit``)."""
    path = tmp / "input.txt"
    path.write_text(text)
    try:
        out = subprocess.run(
            [sys.executable, "-c", CHILD, platform, command, str(path)],
            capture_output=True,
            text=True,
            cwd=cwd,
            check=True,
            timeout=limit,
            env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"},
        )
    except subprocess.TimeoutExpired:
        return float("inf")
    secs: float = json.loads(out.stdout.strip().splitlines()[-1])["secs"]
    return secs


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    args.add_argument("--baseline", metavar="REV", help="also run this git revision")
    args.add_argument("--limit", type=float, default=60.0, help="seconds before a run is killed")
    opts = args.parse_args()
    from fabric.parsing import PARSERS

    cases: list[tuple[str, str, str, str]] = [
        ("normal (2,000 peers)", "arista_eos", "show ip bgp summary", gen_bgp(2_000)),
        ("1 MB line", "arista_eos", "show ip bgp summary", HEAD + "x" + " " * 1_000_000 + "y\n"),
        ("64 KB spaces", "arista_eos", "show ip bgp summary", HEAD + FAMILIES["spaces"] + "\n"),
        (
            "64 KB word",
            "arista_eos",
            "show ip bgp summary",
            DESC_HEAD + "x " + "a:" * 30_000 + "10.0.0.2" + ROW + "\n",
        ),
    ]
    for p in PARSERS:
        for family, line in FAMILIES.items():
            cases.append((f"worst 64 KB line|{p.name}|{family}", p.platform, p.name, line + "\n"))
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        trees = [("now", ROOT)]
        if opts.baseline:
            trees.append((f"@{opts.baseline[:7]}", checkout(opts.baseline, tmp / "baseline")))
        times: dict[str, dict[str, float]] = {}
        for label, platform, command, text in cases:
            for name, cwd in trees:
                secs = run(platform, command, text, cwd, opts.limit, tmp)
                times.setdefault(label, {})[name] = secs
    normal = times["normal (2,000 peers)"]
    rows: dict[str, dict[str, float]] = {}
    for label, by_tree in times.items():
        if label.startswith("worst 64 KB line|"):
            _, command, _family = label.split("|")
            key = f"worst 64 KB line ({command})"
            for name, secs in by_tree.items():
                rows.setdefault(key, {})[name] = max(rows.get(key, {}).get(name, 0.0), secs)
        else:
            rows[label] = by_tree

    def shown(secs: float) -> str:
        return f">{opts.limit:.0f}" if secs == float("inf") else f"{secs:.3f}"

    names = [n for n, _ in trees]
    print(f"{'case':55}" + "".join(f" {n + ' s':>12} {'/normal':>8}" for n in names))
    for label, by_tree in rows.items():
        cells = "".join(f" {shown(by_tree[n]):>12} {by_tree[n] / normal[n]:8.2f}" for n in names)
        print(f"{label:55}{cells}")
    worst = max(v["now"] / normal["now"] for k, v in rows.items() if not k.startswith("normal"))
    result: dict[str, Any] = {
        "bench": "hostile",
        "one_mb_line_s": round(rows["1 MB line"]["now"], 4),
        "worst_hostile_over_normal": round(worst, 3),
        # linear: no hostile 64 KB line costs more than twice a real 180 KB, 2,000-peer table
        # (the quadratic regex made one cost minutes)
        "ok": worst < 2.0,
    }
    if opts.baseline:
        before = rows["1 MB line"][names[1]]
        result["one_mb_line_s_baseline"] = None if before == float("inf") else round(before, 3)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
