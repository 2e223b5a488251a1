"""JUnit XML: one test suite per check, one test case per check per host.

A failing host is a ``<failure>``, a host that could not be judged an ``<error>``, a warning a
pass with the message in ``<system-out>`` (CI shows it without failing the build).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fabric.checks.base import Status
from fabric.reports.model import ComplianceReport


def render_junit(report: ComplianceReport) -> str:
    """The report as JUnit XML text."""
    root = ET.Element("testsuites", name="fabric compliance", time=f"{report.duration_s:.3f}")
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    suites = [(v.check, v.description, v.hosts) for v in report.verdicts]
    for check, description, hosts in suites:
        suite = ET.SubElement(root, "testsuite", name=check)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        ET.SubElement(
            ET.SubElement(suite, "properties"), "property", name="description", value=description
        )
        for h in hosts:
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=check, name=h.host)
            text = "\n".join(
                f"{f.status.value}: {f.message}" + (f"\n  fix: {f.fix}" if f.fix else "")
                for f in h.findings
            )
            bad = [f for f in h.findings if f.status in (Status.FAIL, Status.ERROR)]
            summary = bad[0].message if bad else ""
            if h.status == Status.FAIL:
                counts["failures"] += 1
                ET.SubElement(case, "failure", message=summary, type="ComplianceFailed").text = text
            elif h.status == Status.ERROR:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=summary, type="NotJudged").text = text
            elif h.status == Status.SKIP:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped")
            if text and h.status in (Status.PASS, Status.WARN):
                ET.SubElement(case, "system-out").text = text
        for k, n in counts.items():
            suite.set(k, str(n))
            total[k] += n
    if report.problems:
        suite = ET.SubElement(root, "testsuite", name="collection")
        for p in report.problems:
            case = ET.SubElement(suite, "testcase", classname="collection", name=p.host)
            ET.SubElement(case, "error", message=p.message, type=p.kind).text = p.message
        suite.set("tests", str(len(report.problems)))
        suite.set("errors", str(len(report.problems)))
        suite.set("failures", "0")
        suite.set("skipped", "0")
        total["tests"] += len(report.problems)
        total["errors"] += len(report.problems)
    for k, n in total.items():
        root.set(k, str(n))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
