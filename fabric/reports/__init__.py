"""Compliance report formats: a rich table, JSON, JUnit XML and a self-contained HTML page.

Every format renders a :class:`~fabric.reports.model.ComplianceReport`; none contacts anything.
"""

from fabric.reports.html import render_html
from fabric.reports.junit import render_junit
from fabric.reports.model import ComplianceReport
from fabric.reports.table import render_json, render_table, table_text

FORMATS = ("table", "json", "junit", "html")
#: File name per format when writing every format into a folder (``--report-dir``).
FILE_NAMES = {
    "table": "compliance.txt",
    "json": "compliance.json",
    "junit": "compliance.junit.xml",
    "html": "compliance.html",
}


def render(
    report: ComplianceReport, fmt: str, *, group_by: str = "host", hide_passes: bool = False
) -> str:
    """The report as text in format ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return render_json(report)
    if fmt == "junit":
        return render_junit(report)
    if fmt == "html":
        return render_html(report)
    return table_text(report, group_by=group_by, hide_passes=hide_passes)


__all__ = [
    "FILE_NAMES",
    "FORMATS",
    "ComplianceReport",
    "render",
    "render_html",
    "render_json",
    "render_junit",
    "render_table",
    "table_text",
]
