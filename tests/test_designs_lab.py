"""Every example design (``examples/designs/``), from the inventory to a proven lab.

Per design, in one lab (module-scoped, in this order):

* ``validate`` exits 0 and ``run render`` writes exactly the golden files of
  ``tests/data/designs/<design>/`` (``FABRIC_UPDATE_GOLDEN=1`` rewrites them);
* a rolling deploy (``--batch-size 2``: ``tor-r1-a`` and ``tor-r2-a``, then the ``-b`` ToRs)
  with ``tor-r1-b``'s link down during the second batch: only that batch is rolled back,
  the first stays confirmed; ``run rollback --run ID`` then restores every switch;
* ``run deploy --commit``, then compliance exits 0;
* ``lab fault tor-r1-a link-down``: compliance exits 4 naming that ToR and the lost
  redundancy of the rack's nodes, while ``tor-r1-b`` still routes every pod block.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fabric.checks.base import Status
from fabric.cli import main
from fabric.paths import ProjectPaths
from fabric.workflows.compliance import ComplianceOptions, run_compliance
from fabric.workflows.deploy import DeployOptions, deploy

REPO = Path(__file__).resolve().parent.parent
DESIGNS = ("as-per-rack", "as-per-compute-server", "route-reflectors")
GOLDEN = REPO / "tests" / "data" / "designs"
SWITCHES = ("tor-r1-a", "tor-r1-b", "tor-r2-a", "tor-r2-b")


def _inventory(design: str) -> Path:
    return REPO / "examples" / "designs" / design / "inventory"


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return int(exc.value.code or 0), out.out + out.err


@pytest.mark.parametrize("design", DESIGNS)
def test_validate_and_render_match_the_golden_files(
    design: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inv = str(_inventory(design))
    rc, out = _cli(["validate", "--strict", "--inventory", inv], capsys)
    assert rc == 0, out
    build = tmp_path / "build"
    rc, out = _cli(["run", "render", "--inventory", inv, "--out", str(build)], capsys)
    assert rc == 0, out
    golden = GOLDEN / design
    if os.environ.get("FABRIC_UPDATE_GOLDEN"):
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(build, golden)
    written = sorted(str(p.relative_to(build)) for p in build.rglob("*") if p.is_file())
    expected = sorted(str(p.relative_to(golden)) for p in golden.rglob("*") if p.is_file())
    assert written == expected
    _, mismatch, errors = filecmp.cmpfiles(build, golden, expected, shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.fixture(scope="module", params=DESIGNS)
def design_lab(request: pytest.FixtureRequest, lab_factory: Any) -> Iterator[tuple[str, Any]]:
    design = str(request.param)
    lab = lab_factory(inventory=_inventory(design))
    yield design, lab


def _paths(design: str) -> ProjectPaths:
    return ProjectPaths.discover(inventory=_inventory(design))


def _failures(report: Any) -> list[tuple[str, str, str]]:
    return [
        (v.check, h.host, f.message)
        for v in report.verdicts
        for h in v.hosts
        for f in h.findings
        if f.status in (Status.FAIL, Status.ERROR)
    ]


@pytest.mark.lab
@pytest.mark.slow
def test_each_design_rolls_out_is_proven_and_names_a_lost_tor(
    design_lab: tuple[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    design, lab = design_lab
    paths = _paths(design)
    factory = {s: lab.switch_running_config(s) for s in SWITCHES}

    # --- a rolling deploy whose second batch fails: only that batch is rolled back
    def fault_in_second_batch(stage: str, host: str | None, msg: str) -> None:
        if stage == "batch" and msg.startswith("batch 2/"):
            lab.fault("tor-r1-b", "link-down")

    opts = DeployOptions(
        lab=True,
        commit=True,
        batch_size=2,
        gate_timeout=3,
        gate_interval=0.3,
        progress=fault_in_second_batch,
    )
    try:
        rep = deploy(paths, opts)
    finally:
        lab.clear_faults()
    assert rep.batches == [["tor-r1-a", "tor-r2-a"], ["tor-r1-b", "tor-r2-b"]]
    assert str(rep.outcome) == "rolled-back" and rep.error is not None
    assert (
        rep.error.startswith("batch 2/2 health gate failed") and "confirmed batches: 1" in rep.error
    )
    rows = {h.host: h for h in rep.hosts}
    for s in ("tor-r1-a", "tor-r2-a"):
        assert (rows[s].batch, rows[s].confirmed, rows[s].rolled_back) == (1, True, False)
        assert lab.switch_running_config(s) != factory[s]
    for s in ("tor-r1-b", "tor-r2-b"):
        assert (rows[s].batch, rows[s].confirmed, rows[s].rolled_back) == (2, False, True)
        assert lab.switch_running_config(s) == factory[s]
    assert rows["k8s-cluster"].confirmed  # the Calico side went with the first batch

    # --- run rollback --run ID restores them all (the CLI, from the state database)
    rc, out = _cli(
        [
            "run",
            "rollback",
            "--run",
            rep.run_id,
            "--lab",
            "--commit",
            "--inventory",
            str(paths.inventory),
        ],
        capsys,
    )
    assert rc == 0, out
    assert {s: lab.switch_running_config(s) for s in SWITCHES} == factory

    # --- deploy everything, prove it
    rc, out = _cli(
        ["run", "deploy", "--lab", "--commit", "--inventory", str(paths.inventory)], capsys
    )
    assert rc == 0, out
    report = run_compliance(paths, ComplianceOptions(lab=True))
    assert int(report.exit_code) == 0, _failures(report)

    # --- one ToR of a pair down: exit 4, that ToR and the lost redundancy named
    lab.fault("tor-r1-a", "link-down")
    try:
        report = run_compliance(paths, ComplianceOptions(lab=True))
        other = lab.switch_bgp_view("tor-r1-b")
    finally:
        lab.clear_faults()
    assert int(report.exit_code) == 4
    failures = _failures(report)
    assert any(c == "VerifySwitchBgpNeighbors" and h == "tor-r1-a" for c, h, _ in failures)
    lost = {h: m for c, h, m in failures if c == "VerifyNodeRedundancy"}
    rack1 = {"node-r1-1", "node-r1-2", "node-r1-3"}
    assert set(lost) == rack1
    assert all(
        m.startswith("reachable through tor-r1-b only: lost redundancy, tor-r1-a")
        for m in lost.values()
    )
    # the pod routes stay present through the other ToR
    blocks = {b for n in rack1 for b in _blocks(lab, n)}
    assert blocks and blocks <= {str(r.prefix) for r in other.routes}


def _blocks(lab: Any, node: str) -> list[str]:
    return [
        o["spec"]["cidr"] for o in lab.cluster_objects("BlockAffinity") if o["spec"]["node"] == node
    ]
