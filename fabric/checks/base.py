"""The shape of a compliance check, its verdict, and the registry of checks by name.

A check is one class (ANTA's shape, typed better): generic over a pydantic ``Input`` model
(``extra="forbid"``: a misspelt catalog key is an error), a docstring that says what pass and
fail mean, and one pure method :meth:`Check.test` that judges collected state and returns a
:class:`Verdict`. Nothing here contacts a device; a check never raises for a bad network, it
says so in its verdict.

A verdict holds one :class:`HostResult` per host it judged (the JUnit report writes one test
case per check per host), each with :class:`Finding` lines. Statuses, from best to worst:
``pass`` < ``skip`` < ``warn`` < ``fail`` < ``error`` (error: the host could not be judged
because it was unreachable or its output unparsable; never a pass).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from fabric.checks.evidence import Evidence


class Status(StrEnum):
    """Outcome of a finding, a host or a check."""

    PASS = "pass"
    SKIP = "skip"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"

    @property
    def rank(self) -> int:
        """Severity order: higher is worse."""
        return _RANK[self]


_RANK = {Status.PASS: 0, Status.SKIP: 1, Status.WARN: 2, Status.FAIL: 3, Status.ERROR: 4}


def worst(statuses: list[Status], default: Status = Status.PASS) -> Status:
    """The worst of ``statuses`` (``default`` when empty)."""
    return max(statuses, key=lambda s: s.rank, default=default)


class Finding(BaseModel):
    """One line of a verdict: what was seen about one subject (a neighbor, a route, a pod)."""

    model_config = ConfigDict(frozen=True)

    status: Status
    message: str
    subject: str | None = None
    fix: str | None = None


class HostResult(BaseModel):
    """The verdict of one check on one host."""

    host: str
    status: Status
    findings: list[Finding] = Field(default_factory=list)


class Verdict(BaseModel):
    """The verdict of one check over every host it judged."""

    check: str
    description: str
    status: Status
    hosts: list[HostResult] = Field(default_factory=list)


class HostFindings:
    """Accumulates findings per host while a check runs (insertion order is report order)."""

    def __init__(self) -> None:
        self._by_host: dict[str, list[Finding]] = {}

    def touch(self, host: str) -> None:
        """Make ``host`` appear in the verdict even without findings (a clean pass)."""
        self._by_host.setdefault(host, [])

    def add(
        self,
        host: str,
        status: Status,
        message: str,
        *,
        subject: str | None = None,
        fix: str | None = None,
    ) -> None:
        """Record one finding for ``host``."""
        self._by_host.setdefault(host, []).append(
            Finding(status=status, message=message, subject=subject, fix=fix)
        )

    def results(self) -> list[HostResult]:
        """One :class:`HostResult` per host, status the worst of its findings."""
        return [
            HostResult(host=h, status=worst([f.status for f in fs]), findings=fs)
            for h, fs in self._by_host.items()
        ]


class CheckInput(BaseModel):
    """Base of every check's inputs: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


InputT = TypeVar("InputT", bound=CheckInput)


class Check(ABC, Generic[InputT]):
    """A compliance check: typed inputs, a docstring saying what pass/fail mean, :meth:`test`.

    Subclasses set :attr:`name` (``Verify<Subject><Property>``), :attr:`Input` and implement
    :meth:`judge`. :meth:`test` wraps it into a :class:`Verdict`.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    Input: type[InputT]

    def __init__(self, inputs: InputT | None = None) -> None:
        self.inputs: InputT = inputs if inputs is not None else self.Input()

    @abstractmethod
    def judge(self, state: Evidence, out: HostFindings) -> None:
        """Add findings about ``state`` to ``out`` (pure: reads state, contacts nothing)."""

    def test(self, state: Evidence) -> Verdict:
        """Judge ``state`` and return the verdict (pure function of state and inputs)."""
        out = HostFindings()
        self.judge(state, out)
        hosts = out.results()
        return Verdict(
            check=self.name,
            description=self.description,
            status=worst([h.status for h in hosts], default=Status.SKIP),
            hosts=hosts,
        )


REGISTRY: dict[str, type[Check[Any]]] = {}

CheckT = TypeVar("CheckT", bound=type[Check[Any]])


def register(cls: CheckT) -> CheckT:
    """Class decorator: make the check available to catalogs by its name."""
    if cls.name in REGISTRY:
        raise ValueError(f"check {cls.name} registered twice")
    REGISTRY[cls.name] = cls
    return cls
