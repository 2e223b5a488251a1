"""The compliance report: verdicts, hosts that could not be judged, and the topology picture.

One pydantic model; every output format (table, JSON, JUnit XML, HTML) is rendered from it and
``model_dump(mode="json")`` is the JSON report.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from fabric.checks.base import Status, Verdict, worst
from fabric.errors import ExitCode


class HostProblem(BaseModel):
    """A host that could not be reached or whose output could not be parsed."""

    host: str
    role: str
    kind: Literal["unreachable", "unparsable"]
    message: str


class TopoSwitch(BaseModel):
    """A switch in the topology picture."""

    name: str
    asn: int
    svi: str
    status: Status
    rack: str | None = None


class TopoNode(BaseModel):
    """A Calico node in the topology picture."""

    name: str
    bgp_ip: str
    tor: str
    status: Status
    tors: list[str] = Field(default_factory=list)
    """Every switch the node peers with (``tor`` is the first it is cabled to)."""
    rack: str | None = None


class TopoSession(BaseModel):
    """A node-switch BGP session with how each end sees it."""

    switch: str
    node: str
    switch_state: str
    node_state: str
    status: Status


class Topology(BaseModel):
    """Switches, nodes and the sessions between them."""

    cluster: str
    switches: list[TopoSwitch] = Field(default_factory=list)
    nodes: list[TopoNode] = Field(default_factory=list)
    sessions: list[TopoSession] = Field(default_factory=list)


class Counts(BaseModel):
    """How many (check, host) results ended in each status."""

    passed: int = 0
    skipped: int = 0
    warned: int = 0
    failed: int = 0
    errored: int = 0


class ComplianceReport(BaseModel):
    """What a compliance run found.

    Attributes:
        mode: ``online`` (collected from the devices) or ``offline`` (``--from`` a folder).
        source: the lab/inventory or the folder judged.
        started: ISO timestamp (UTC).
        duration_s: wall time of collection plus checks.
        verdicts: one per check of the catalog, in catalog order.
        problems: hosts that could not be judged (unreachable or unparsable).
        topology: the picture of the HTML report.
    """

    mode: Literal["online", "offline"]
    source: str
    started: str
    duration_s: float
    verdicts: list[Verdict] = Field(default_factory=list)
    problems: list[HostProblem] = Field(default_factory=list)
    topology: Topology

    @property
    def status(self) -> Status:
        """The worst status over every verdict, ERROR when a host could not be judged."""
        base = worst([v.status for v in self.verdicts])
        return worst([base, Status.ERROR]) if self.problems else base

    @property
    def counts(self) -> Counts:
        """Counts of (check, host) results per status."""
        c = Counts()
        attr = {
            Status.PASS: "passed",
            Status.SKIP: "skipped",
            Status.WARN: "warned",
            Status.FAIL: "failed",
            Status.ERROR: "errored",
        }
        for v in self.verdicts:
            for h in v.hosts:
                setattr(c, attr[h.status], getattr(c, attr[h.status]) + 1)
        return c

    @property
    def exit_code(self) -> ExitCode:
        """0 all pass (warnings allowed); 5 a host unreachable/unparsable; else 4 on a failure."""
        if self.problems or any(v.status == Status.ERROR for v in self.verdicts):
            return ExitCode.UNREACHABLE
        if any(v.status == Status.FAIL for v in self.verdicts):
            return ExitCode.COMPLIANCE_FAILED
        return ExitCode.OK

    def verdict(self, check: str) -> Verdict:
        """The verdict of ``check`` (KeyError when it did not run)."""
        for v in self.verdicts:
            if v.check == check:
                return v
        raise KeyError(check)

    def to_json_dict(self) -> dict[str, object]:
        """The JSON report: the model plus the overall status, counts and exit code."""
        data: dict[str, object] = self.model_dump(mode="json")
        data["status"] = self.status.value
        data["counts"] = self.counts.model_dump()
        data["exit_code"] = int(self.exit_code)
        return data
