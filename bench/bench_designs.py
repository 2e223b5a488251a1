"""Benchmark: a dual-homed fabric of 50 racks x 2 ToRs x 40 nodes (100 switches, 2,000 nodes).

The fabric is generated (``fabric.lab.generate.write_inventory(..., tors_per_rack=2)``: every
node peers over eBGP with both ToRs of its rack, which share the rack's subnet and AS). In one
run, each lab in its own process (its servers on one event loop, not sharing this process's
GIL), it reports:

* **lab start-up** of the dual-homed fabric: ``LabRuntime.start()`` until every endpoint
  answers (issue 11 target: under 30 s), then the time to bring it to the intent (every
  switch's rendered config loaded, the Calico objects stored, the first simulation computed);
* **compliance** with 20 ms eAPI latency on every switch: ``run_compliance`` on the dual-homed
  fabric and on a single-homed fabric of the same size (100 switches x 20 nodes each), best of
  ``--repeat`` each, and the ratio dual / single (target: at most 1.2);
* **rolling deploy**: on a fresh dual-homed lab (same latency), the all-at-once deploy
  (``--commit``), a rollback to the empty switches, then ``--batch-size 10`` (10 batches, the
  two ToRs of a pair never together): both walls side by side, and the stages of each.

Usage: ``python bench/bench_designs.py [--racks 50] [--nodes-per-rack 40] [--latency-ms 20]
[--workers 100] [--repeat 2] [--batch-size 10] [--no-deploy]``. Loopback only: the guard is
installed first. The last line is ``RESULT {json}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

os.environ["FABRIC_LAB_ONLY"] = "1"


def serve_lab(inv: Path, lab_dir: Path, intended: bool) -> None:
    """Child process: start the lab (brought to the intent if asked), then obey stdin.

    A line ``{"latency_ms": X}`` sets (0: clears) every switch's latency.
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
    t1 = time.perf_counter()
    if intended:
        for sw in intent.switches:
            base = lab.switch_running_config(sw.name).replace("\nend\n", "\n")
            text = base + render_switch_config(sw, paths.templates) + "end\n"
            lab.load_switch_config(sw.name, text)
        for obj in render_calico_objects(intent, paths.templates):
            lab.put_object(obj.body)
        lab.switch_bgp_view(intent.switches[0].name)  # the first simulation
    to_intent = time.perf_counter() - t1
    print(
        json.dumps({"start_s": round(started, 2), "to_intent_s": round(to_intent, 2)}),
        flush=True,
    )
    for line in sys.stdin:
        cmd = json.loads(line)
        for sw in intent.switches:
            if cmd["latency_ms"]:
                lab.fault(sw.name, "latency", ms=cmd["latency_ms"])
            else:
                lab.clear_faults(sw.name)
        print(json.dumps({"ok": True}), flush=True)
    lab.stop()


class Lab:
    """A lab child process, driven over its stdin/stdout."""

    def __init__(self, inv: Path, lab_dir: Path, *, intended: bool) -> None:
        mode = "intended" if intended else "fresh"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-lab", str(inv), str(lab_dir), mode],
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

    def latency(self, ms: float) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"latency_ms": ms}) + "\n")
        self.proc.stdin.flush()
        self._read()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=300)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _project(tmp: Path, name: str, racks: int, per_rack: int, tors: int) -> Any:
    from fabric.lab.generate import write_inventory
    from fabric.paths import ProjectPaths

    inv = tmp / name / "inventory"
    write_inventory(inv, switches=racks * 2, nodes=racks * per_rack, tors_per_rack=tors)
    return dataclasses.replace(
        ProjectPaths.discover(REPO, inventory=inv), state=tmp / name / "state"
    )


def compliance_case(paths: Any, args: argparse.Namespace, label: str) -> dict[str, Any]:
    """Best wall of ``run_compliance`` (with latency) on a lab brought to the intent."""
    from fabric.workflows.compliance import ComplianceOptions, run_compliance

    lab_dir = paths.state.parent / "lab"
    os.environ["FABRIC_LAB_DIR"] = str(lab_dir)
    lab = Lab(paths.inventory, lab_dir, intended=True)
    try:
        opts = ComplianceOptions(lab=True, workers=args.workers)
        lab.latency(0)
        run_compliance(paths, opts)  # warm-up (imports, TLS contexts, the first simulation)
        lab.latency(args.latency_ms)
        walls: list[float] = []
        status = ""
        for _ in range(args.repeat):
            t = time.perf_counter()
            rep = run_compliance(paths, opts)
            walls.append(time.perf_counter() - t)
            status = rep.status.value
            print(f"  compliance {label}: {walls[-1]:.2f} s, {status}", flush=True)
    finally:
        lab.close()
    return {
        "wall_s": round(min(walls), 3),
        "status": status,
        "lab_start_s": lab.ready["start_s"],
        "to_intent_s": lab.ready["to_intent_s"],
    }


def _timed_deploy(paths: Any, args: argparse.Namespace, batch: int | None) -> dict[str, Any]:
    from fabric.workflows.deploy import DeployOptions, deploy

    stages: dict[str, float] = {}
    last = [time.perf_counter(), "start"]

    def progress(stage: str, host: str | None, msg: str) -> None:
        now = time.perf_counter()
        if stage != last[1]:
            stages[str(last[1])] = stages.get(str(last[1]), 0.0) + now - float(last[0])
            last[0], last[1] = now, stage

    t = time.perf_counter()
    rep = deploy(
        paths,
        DeployOptions(
            lab=True,
            commit=True,
            workers=args.workers,
            gate_timeout=600,
            gate_interval=0.5,
            batch_size=batch,
            progress=progress,
        ),
    )
    wall = time.perf_counter() - t
    return {
        "wall_s": round(wall, 2),
        "outcome": str(rep.outcome),
        "error": rep.error,
        "batches": len(rep.batches) or 1,
        "run_id": rep.run_id,
        "stages_s": {k: round(v, 2) for k, v in stages.items() if v >= 0.05},
    }


def deploy_case(paths: Any, args: argparse.Namespace) -> dict[str, Any]:
    """All-at-once deploy, rollback, rolling deploy: on one fresh dual-homed lab."""
    from fabric.workflows.rollback import RollbackOptions, rollback

    lab_dir = paths.state.parent / "lab"
    os.environ["FABRIC_LAB_DIR"] = str(lab_dir)
    lab = Lab(paths.inventory, lab_dir, intended=False)
    try:
        lab.latency(args.latency_ms)
        whole = _timed_deploy(paths, args, None)
        print(f"  deploy all at once: {whole['wall_s']} s, {whole['outcome']}", flush=True)
        t = time.perf_counter()
        rb = rollback(paths, str(whole["run_id"]), RollbackOptions(lab=True, commit=True))
        rollback_s = time.perf_counter() - t
        print(f"  rollback: {rollback_s:.2f} s, {rb.outcome}", flush=True)
        rolling = _timed_deploy(paths, args, args.batch_size)
        print(
            f"  deploy --batch-size {args.batch_size}: {rolling['wall_s']} s, "
            f"{rolling['outcome']} ({rolling['batches']} batches)",
            flush=True,
        )
    finally:
        lab.close()
    return {
        "all_at_once": whole,
        "rollback_s": round(rollback_s, 2),
        "rollback_outcome": str(rb.outcome),
        "rolling": rolling,
        "rolling_over_all_at_once": round(float(rolling["wall_s"]) / float(whole["wall_s"]), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--racks", type=int, default=50)
    ap.add_argument("--nodes-per-rack", type=int, default=40)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--workers", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--no-deploy", action="store_true", help="skip the deploy comparison")
    ap.add_argument("--serve-lab", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_lab:
        inv, lab_dir, mode = args.serve_lab
        serve_lab(Path(inv), Path(lab_dir), mode == "intended")
        return 0

    from fabric.safety import install_guard

    install_guard()
    racks, per_rack = args.racks, args.nodes_per_rack
    print(
        f"{racks} racks x 2 ToRs x {per_rack} nodes; single-homed: {racks * 2} x "
        f"{per_rack // 2} nodes",
        flush=True,
    )
    result: dict[str, Any] = {"racks": racks, "nodes": racks * per_rack, "switches": racks * 2}
    with tempfile.TemporaryDirectory(prefix="bench-designs-") as tmp_s:
        tmp = Path(tmp_s)
        dual = _project(tmp, "dual", racks, per_rack, 2)
        single = _project(tmp, "single", racks, per_rack, 1)
        result["compliance_dual"] = compliance_case(dual, args, "dual-homed")
        result["compliance_single"] = compliance_case(single, args, "single-homed")
        d, s = result["compliance_dual"], result["compliance_single"]
        result["lab_start_s"] = d["lab_start_s"]
        result["compliance_ratio_dual_to_single"] = round(d["wall_s"] / s["wall_s"], 2)
        if not args.no_deploy:
            result["deploy"] = deploy_case(_project(tmp, "deploy", racks, per_rack, 2), args)
    result["ok"] = (
        float(result["lab_start_s"]) < 30.0
        and float(result["compliance_ratio_dual_to_single"]) <= 1.2
        and (args.no_deploy or result["deploy"]["rolling"]["outcome"] == "ok")
    )
    for k, v in result.items():
        print(f"{k:>34}: {v}")
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
