"""How a run ends: one :class:`Outcome` for deploys, rollbacks and scheduled job runs."""

from __future__ import annotations

from enum import StrEnum

from fabric.errors import ExitCode


class Outcome(StrEnum):
    """The outcome of a run, as stored in the state database and shown by ``runs``.

    ``running`` while the run is in progress; ``interrupted`` is only ever *shown* (a
    ``running`` run whose process is gone), or recorded for a scheduled job run that its
    scheduler found dead.
    """

    RUNNING = "running"
    DRY_RUN = "dry-run"
    NO_CHANGE = "no-change"
    OK = "ok"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    PENDING_REVERT = "pending-revert"
    INTERRUPTED = "interrupted"

    @property
    def succeeded(self) -> bool:
        """Whether the run (or the dry-run plan) did what it was asked to do."""
        return self in (Outcome.OK, Outcome.DRY_RUN, Outcome.NO_CHANGE)

    @property
    def exit_code(self) -> ExitCode:
        """0 when it succeeded, else 3 (a run report refines 3 into 5 for unreachable hosts)."""
        return ExitCode.OK if self.succeeded else ExitCode.RUN_FAILED


#: The outcomes a deploy or rollback can be finished with (stored in ``runs.outcome``).
FINAL_OUTCOMES: tuple[Outcome, ...] = tuple(
    o for o in Outcome if o not in (Outcome.RUNNING, Outcome.INTERRUPTED)
)
