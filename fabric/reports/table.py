"""The table report (rich) and the JSON report."""

from __future__ import annotations

import io
import json
from typing import Literal

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from fabric.checks.base import Finding, Status
from fabric.reports.model import ComplianceReport

STYLE = {
    Status.PASS: "green",
    Status.SKIP: "dim",
    Status.WARN: "yellow",
    Status.FAIL: "bold red",
    Status.ERROR: "bold magenta",
}


def _status(s: Status) -> Text:
    return Text(s.value.upper(), style=STYLE[s])


def _finding_lines(findings: list[Finding], hide_passes: bool) -> Text:
    out = Text()
    for f in findings:
        if hide_passes and f.status == Status.PASS:
            continue
        if out:
            out.append("\n")
        out.append(f"{f.status.value}: ", style=STYLE[f.status])
        out.append(f.message)
        if f.fix:
            out.append(f"\n  fix: {f.fix}", style="cyan")
    return out


def render_table(
    report: ComplianceReport,
    *,
    group_by: Literal["host", "check"] | str = "host",
    hide_passes: bool = False,
) -> Group:
    """The report as rich renderables: one table grouped by host or by check, then a summary."""
    rows: list[tuple[str, str, Status, list[Finding]]] = []
    for v in report.verdicts:
        for h in v.hosts:
            rows.append((h.host, v.check, h.status, h.findings))
    for p in report.problems:
        rows.append(
            (
                p.host,
                "collection",
                Status.ERROR,
                [Finding(status=Status.ERROR, message=f"{p.kind}: {p.message}")],
            )
        )
    if hide_passes:
        rows = [r for r in rows if r[2] != Status.PASS]
    if group_by == "check":
        order = {v.check: i for i, v in enumerate(report.verdicts)}
        rows.sort(key=lambda r: (order.get(r[1], -1), r[0]))
        cols = ("check", "host")
    else:
        rows.sort(key=lambda r: r[0])
        cols = ("host", "check")
    table = Table(title=f"compliance ({report.mode}: {report.source})", show_lines=True)
    table.add_column(cols[0], no_wrap=True)
    table.add_column(cols[1], no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("findings")
    last = None
    for host, check, status, findings in rows:
        first, second = (check, host) if group_by == "check" else (host, check)
        table.add_row(
            first if first != last else "",
            second,
            _status(status),
            _finding_lines(findings, hide_passes),
        )
        last = first
    c = report.counts
    summary = Text(
        f"{report.status.value.upper()}: {c.passed} passed, {c.warned} warned, {c.failed} failed, "
        f"{c.errored} errored, {c.skipped} skipped; {len(report.problems)} host(s) not judged; "
        f"{report.duration_s:.2f} s",
        style=STYLE[report.status],
    )
    return Group(table, summary)


def table_text(
    report: ComplianceReport,
    *,
    group_by: str = "host",
    hide_passes: bool = False,
    width: int = 160,
) -> str:
    """The table report as plain text (no colour codes)."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, force_terminal=False)
    console.print(render_table(report, group_by=group_by, hide_passes=hide_passes))
    return buf.getvalue()


def render_json(report: ComplianceReport) -> str:
    """The JSON report (the model, plus overall status, counts and exit code)."""
    return json.dumps(report.to_json_dict(), indent=2) + "\n"
