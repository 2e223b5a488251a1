"""The table report (rich) and the JSON report."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Literal

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.padding import Padding
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


#: Below this width the report is a list of blocks, not a table: in a table the findings
#: column would get a few characters per line (host and check names take ~60 columns).
WIDE = 120

_Row = tuple[str, str, Status, list[Finding]]


class _Report:
    """The report, laid out for the width it is printed at (a rich renderable)."""

    def __init__(self, report: ComplianceReport, group_by: str, hide_passes: bool) -> None:
        self.report, self.group_by, self.hide_passes = report, group_by, hide_passes

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        rows = _rows(self.report, self.group_by, self.hide_passes)
        if options.max_width >= WIDE:
            yield _table(self.report, rows, self.group_by, self.hide_passes)
        else:
            yield from _blocks(self.report, rows, self.group_by, self.hide_passes)
        yield _summary(self.report)


def _blocks(
    report: ComplianceReport, rows: list[_Row], group_by: str, hide_passes: bool
) -> Iterator[RenderableType]:
    """Narrow layout: a heading per host (or check), then each check's status and findings."""
    yield Text(f"compliance ({report.mode}: {report.source})", style="bold")
    last = None
    for host, check, status, findings in rows:
        first, second = (check, host) if group_by == "check" else (host, check)
        if first != last:
            yield Text(f"\n{first}", style="bold")
            last = first
        line = Text("  ")
        line.append_text(_status(status))
        line.append(f" {second}")
        yield line
        lines = _finding_lines(findings, hide_passes)
        if lines:
            yield Padding(lines, (0, 0, 0, 4))  # wrapped lines keep the indent


def render_table(
    report: ComplianceReport,
    *,
    group_by: Literal["host", "check"] | str = "host",
    hide_passes: bool = False,
) -> _Report:
    """The report as a rich renderable, grouped by host or by check, then a summary line.

    A table when printed :data:`WIDE` or wider; narrower (an 80-column terminal, a CI log), a
    list of blocks whose findings use the whole width.
    """
    return _Report(report, str(group_by), hide_passes)


def _rows(report: ComplianceReport, group_by: str, hide_passes: bool) -> list[_Row]:
    rows: list[_Row] = []
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
    else:
        rows.sort(key=lambda r: r[0])
    return rows


def _table(report: ComplianceReport, rows: list[_Row], group_by: str, hide_passes: bool) -> Table:
    cols = ("check", "host") if group_by == "check" else ("host", "check")
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
    return table


def _summary(report: ComplianceReport) -> Text:
    c = report.counts
    return Text(
        f"{report.status.value.upper()}: {c.passed} passed, {c.warned} warned, {c.failed} failed, "
        f"{c.errored} errored, {c.skipped} skipped; {len(report.problems)} host(s) not judged; "
        f"{report.duration_s:.2f} s",
        style=STYLE[report.status],
    )


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
