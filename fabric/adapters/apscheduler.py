"""APScheduler's job-processing hook (``BaseScheduler._process_jobs``, not public).

Several scheduler processes share one SQLite job store, and jobs are added by other processes
(``schedule ...``, ``run deploy --confirm-within``). APScheduler wakes only for its own
changes, so :class:`PollingScheduler` caps every wait at the poll interval, and survives the
race where another process removes or updates a job while this one processes it. Both need
the one method APScheduler calls between wake-ups; ``tests/test_adapters.py`` fails loudly
when a release changes it.
"""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("fabric.scheduler")


class PollingScheduler(BackgroundScheduler):  # type: ignore[misc]
    """A background scheduler that polls the shared store and survives store races.

    Args:
        poll_interval: the longest wait between looks at the store (seconds).
        **kwargs: BackgroundScheduler's options.
    """

    def __init__(self, *, poll_interval: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._poll = poll_interval

    def _process_jobs(self) -> float:
        try:
            wait: float | None = super()._process_jobs()
        except JobLookupError as exc:
            # Another scheduler (or a cancel) removed or updated the job while we processed it.
            log.debug("job store race: %s", exc)
            return min(0.2, self._poll)
        return self._poll if wait is None else min(wait, self._poll)
