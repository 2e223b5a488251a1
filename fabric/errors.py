"""One exception tree for the whole project, and the exit codes it maps to.

```
FabricError                      exit 1 (internal) unless a subclass says otherwise
├── UsageError                   exit 2  bad command line, bad run definition
├── ValidationError              exit 2  the intent (inventory) is invalid; carries Issues
├── SafetyError                  exit 2  would contact a non-loopback address in lab/test mode
├── RunFailedError               exit 3  a run (render, deploy, rollback ...) failed on some host
│   ├── LockHeldError            exit 3  another deploy/rollback holds the inventory lock
│   └── ConflictError            exit 3  a concurrent change (Kubernetes 409, stale snapshot)
├── ComplianceFailedError        exit 4  a compliance check failed
└── UnreachableError             exit 5  a host could not be reached
    └── ParseError               exit 5  a device's output could not be parsed
```

Only the CLI catches these (``fabric.cli``); library code raises them and per-host failures
inside Nornir tasks become failed ``Result`` objects, never a crash of the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Literal


class ExitCode(IntEnum):
    """Process exit codes, the same for every command."""

    OK = 0
    INTERNAL = 1
    USAGE = 2
    RUN_FAILED = 3
    COMPLIANCE_FAILED = 4
    UNREACHABLE = 5


class FabricError(Exception):
    """Root of every error this project raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL


class UsageError(FabricError):
    """The command line or a run definition is wrong."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Issue:
    """One finding about the intent: where it is and what is wrong.

    Attributes:
        severity: ``error`` stops everything; ``warning`` is printed (and fails with --strict).
        file: the inventory file the value comes from (relative to the project root).
        host: the Nornir host (or group/defaults name) that holds the value.
        field: dotted path of the field inside the host's data, e.g. ``data.bgp.asn``.
        message: what is wrong, in words an operator can act on.
        code: a stable identifier, e.g. ``asn-reserved``.
    """

    severity: Literal["error", "warning"]
    file: str
    host: str
    field: str
    message: str
    code: str = ""

    def __str__(self) -> str:
        code = f" [{self.code}]" if self.code else ""
        return f"{self.file}: host {self.host}: field {self.field}: {self.message}{code}"


class ValidationError(FabricError):
    """The intent is invalid: nothing was rendered and nothing was contacted."""

    exit_code = ExitCode.USAGE

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        lines = "\n".join(f"  {i}" for i in issues)
        super().__init__(f"{len(issues)} error(s) in the intent:\n{lines}")


class SafetyError(FabricError):
    """A connection to a non-loopback address was refused (lab or test mode)."""

    exit_code = ExitCode.USAGE


class RunFailedError(FabricError):
    """A run failed on at least one host."""

    exit_code = ExitCode.RUN_FAILED


class LockHeldError(RunFailedError):
    """Another deploy or rollback holds the inventory lock."""


class ConflictError(RunFailedError):
    """A concurrent change was detected (e.g. Kubernetes 409 on a stale resourceVersion)."""


class ComplianceFailedError(FabricError):
    """At least one compliance check failed."""

    exit_code = ExitCode.COMPLIANCE_FAILED


class UnreachableError(FabricError):
    """A host could not be reached."""

    exit_code = ExitCode.UNREACHABLE


class ParseError(UnreachableError):
    """Output could not be parsed; names the command and the first unaccounted line."""

    def __init__(self, command: str, line: str | None, detail: str = "") -> None:
        self.command = command
        self.line = line
        # a hostile line may be 64 KB long: the message shows its start, the attribute keeps it
        shown = line if line is None or len(line) <= 200 else line[:200] + "..."
        where = f": first unaccounted line: {shown!r}" if shown is not None else ""
        extra = f" ({detail})" if detail else ""
        super().__init__(f"cannot parse output of {command!r}{where}{extra}")
