"""Report formats: table (group by, hide passes), JSON, JUnit XML, HTML (opened in Chromium)."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool
from test_checks import (
    CL,
    CP,
    SW,
    WK,
    coredns_outside_block,
    healthy_state,
    link_down_worker,
)

from fabric.checks import REGISTRY, load_catalog
from fabric.intent import load_intent
from fabric.paths import ProjectPaths
from fabric.reports import FILE_NAMES, render
from fabric.reports.html import render_svg
from fabric.reports.model import ComplianceReport, Topology, TopoNode, TopoSession, TopoSwitch
from fabric.reports.table import table_text
from fabric.workflows.compliance import report_from_state

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def seed_report() -> Any:
    return load_intent(ProjectPaths.discover(root=ROOT))


@pytest.fixture(scope="module")
def broken(seed_report: Any) -> ComplianceReport:
    """Worker link down, coredns outside its block and the controlplane node unreachable."""
    state = healthy_state(seed_report)
    coredns_outside_block(state)
    link_down_worker(state)
    state.nodes.pop(CP)
    from fabric.checks.evidence import HostFailure

    state.failures[CP] = HostFailure(CP, "calico_node", "unreachable", "ssh: timed out")
    checks = [c for c in load_catalog(None) if c.name != "VerifySwitchConfigDrift"]
    return report_from_state(state, checks, source="test")


@pytest.fixture(scope="module")
def healthy(seed_report: Any) -> ComplianceReport:
    checks = [c for c in load_catalog(None) if c.name != "VerifySwitchConfigDrift"]
    return report_from_state(healthy_state(seed_report), checks, source="test")


def test_json_report(broken: ComplianceReport) -> None:
    data = json.loads(render(broken, "json"))
    assert data["status"] == "error"
    assert data["exit_code"] == 5
    assert data["problems"] == [
        {"host": CP, "role": "calico_node", "kind": "unreachable", "message": "ssh: timed out"}
    ]
    checks = {v["check"]: v for v in data["verdicts"]}
    assert set(checks) == set(REGISTRY) - {"VerifySwitchConfigDrift"}
    ends = {h["host"]: h for h in checks["VerifyBgpSessionEnds"]["hosts"]}
    assert ends[WK]["status"] == "fail"
    assert ends[WK]["findings"][0]["message"] == (
        "down on both ends: switch Connect, node start (Connect)"
    )
    assert ends[CP]["status"] == "error"
    counts = data["counts"]
    assert sum(counts.values()) == sum(len(v["hosts"]) for v in data["verdicts"])
    # The model round-trips: the JSON report is the contract.
    again = ComplianceReport.model_validate(
        {k: v for k, v in data.items() if k not in ("status", "counts", "exit_code")}
    )
    assert again.exit_code == broken.exit_code


def test_junit_one_case_per_check_per_host(broken: ComplianceReport) -> None:
    root = ET.fromstring(render(broken, "junit"))
    cases = {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}
    expected = {(v.check, h.host) for v in broken.verdicts for h in v.hosts}
    expected |= {("collection", CP)}
    assert set(cases) == expected
    routes = cases[("VerifySwitchRoutes", SW)]
    failure = routes.find("failure")
    assert failure is not None
    assert "coredns-5dd5756b68-7v6jr" in (failure.text or "")
    assert "fix: recreate the pod" in (failure.text or "")
    assert cases[("VerifyNodeBgpPeers", CP)].find("error") is not None
    assert cases[("collection", CP)].find("error") is not None
    lint = cases[("VerifyIntentLint", CL)]
    assert lint.find("failure") is None and lint.find("error") is None
    assert int(root.get("tests", "0")) == len(expected)
    assert int(root.get("failures", "0")) == sum(
        1 for c in cases.values() if c.find("failure") is not None
    )
    assert int(root.get("errors", "0")) == sum(
        1 for c in cases.values() if c.find("error") is not None
    )


def test_table_group_by_and_hide_passes(
    broken: ComplianceReport, healthy: ComplianceReport
) -> None:
    full = render(broken, "table", group_by="host")
    assert "coredns-5dd5756b68-7v6jr" in full
    assert "fix: recreate the pod" in full
    assert "collection" in full  # the unreachable host has its own row
    assert "ERROR: " in full.splitlines()[-1] or "ERROR:" in full
    by_check = render(broken, "table", group_by="check")
    lines = [ln for ln in by_check.splitlines() if "Verify" in ln]
    first_cols = [ln.split("│")[1].strip() for ln in lines if ln.count("│") > 2]
    named = [c for c in first_cols if c]
    assert named == sorted(set(named), key=named.index)  # each check named once, grouped
    assert "Established" in render(healthy, "table")
    hidden = render(healthy, "table", hide_passes=True)
    assert "Established" not in hidden
    assert "no maximum-paths" in hidden  # warnings are not passes


@pytest.mark.parametrize("group_by", ["host", "check"])
def test_table_is_readable_at_80_columns(broken: ComplianceReport, group_by: str) -> None:
    text = table_text(broken, group_by=group_by, width=80)
    lines = text.splitlines()
    assert max(len(ln) for ln in lines) <= 80
    # findings keep whole phrases on a line (a table cell would cut them to a few characters)
    assert any("neighbor 172.21.1.18 (kube-worker-001) is Connect" in ln for ln in lines)
    assert any("recreate the pod" in ln for ln in lines)
    # every host and check is named, the summary closes
    for name in (SW, CP, WK, CL, "VerifySwitchRoutes", "collection"):
        assert any(name in ln for ln in lines), name
    assert any(ln.startswith("ERROR: ") for ln in lines[-2:])  # the summary closes it
    # wide, it is the table
    assert "│" in table_text(broken, group_by=group_by, width=160)


def test_html_is_self_contained(broken: ComplianceReport) -> None:
    html = render(broken, "html")
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html and "</svg>" in html
    for ref in ("src=", "href=", "<script", "@import", "url("):
        assert ref not in html
    assert html.count('class="session s-fail"') == 1  # the worker's session
    assert html.count('class="session s-error"') == 1  # the controlplane: not judged
    assert 'id="failures"' in html
    assert "coredns-5dd5756b68-rmnk2" in html


def test_svg_compact_for_large_fabrics() -> None:
    topo = Topology(
        cluster="c",
        switches=[
            TopoSwitch(name=f"s{i}", asn=65000, svi="10.0.0.1/24", status="pass") for i in range(50)
        ],
        nodes=[
            TopoNode(name=f"n{i}", bgp_ip="10.0.0.2", tor=f"s{i % 50}", status="pass")
            for i in range(2000)
        ],
        sessions=[
            TopoSession(
                switch=f"s{i % 50}",
                node=f"n{i}",
                switch_state="Estab",
                node_state="Established",
                status="fail" if i == 7 else "pass",
            )
            for i in range(2000)
        ],
    )
    svg = render_svg(topo)
    assert svg.count("<circle") == 2000
    assert svg.count('class="session s-fail"') == 1
    assert len(svg) < 1_000_000


def test_html_renders_in_headless_chromium(broken: ComplianceReport, tmp_path: Path) -> None:
    chromium = require_tool("chromium")
    page = tmp_path / FILE_NAMES["html"]
    page.write_text(render(broken, "html"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-extensions",
            "--no-first-run",
            "--user-data-dir=" + str(tmp_path / "profile"),
            "--window-size=1200,900",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a blank page is a few kB; ours has a picture and tables
    # Count distinct colours in the PNG's raw data without an image library: the picture's
    # red/green lines make the compressed size grow; a one-colour page compresses to little.
    import zlib

    chunks, pos = [], 8
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    assert len(set(raw[::97])) > 20
