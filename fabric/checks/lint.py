"""Intent lint: the Foundation's warnings about the intent, as findings with severities."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fabric.checks.base import Check, CheckInput, HostFindings, Status, register
from fabric.checks.evidence import Evidence

Severity = Literal["ignore", "warn", "fail"]


class IntentLintInput(CheckInput):
    """Inputs of :class:`VerifyIntentLint`."""

    #: Severity of every warning without an override.
    default_severity: Severity = "warn"
    #: Per issue code (e.g. ``asn-reserved``): ignore it, warn, or fail.
    overrides: dict[str, Severity] = Field(default_factory=dict)


@register
class VerifyIntentLint(Check[IntentLintInput]):
    """The intent carries no warnings that matter.

    Pass: no warning from intent validation (reserved ASN, public service range, listen port
    the switch cannot reach ...), or every one is ignored by the inputs.
    Warn: a warning whose severity is ``warn``. Fail: one whose severity is ``fail``.
    Each finding names the file, the host and the field, as ``validate`` prints it.
    """

    name = "VerifyIntentLint"
    description = "intent warnings (validate) with severities"
    Input = IntentLintInput

    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Turn each intent warning into a finding of its configured severity."""
        out.touch(state.intent.cluster.name)
        for issue in state.issues:
            sev = self.inputs.overrides.get(issue.code, self.inputs.default_severity)
            if sev == "ignore":
                out.touch(issue.host)
                continue
            status = Status.FAIL if sev == "fail" or issue.severity == "error" else Status.WARN
            code = f" [{issue.code}]" if issue.code else ""
            out.add(
                issue.host,
                status,
                f"{issue.file}: field {issue.field}: {issue.message}{code}",
                subject=issue.field,
            )
