"""Count eAPI requests per switch during a benchmark (at pyeapi's ``EapiConnection.execute``)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def count_eapi_requests() -> Iterator[Counter[str]]:
    """Within the block, count every eAPI request by the connection's host address.

    Yields:
        The live counter (``clear()`` it between runs); pyeapi is restored on exit.
    """
    import pyeapi.eapilib

    counts: Counter[str] = Counter()
    lock = threading.Lock()
    orig_execute = pyeapi.eapilib.EapiConnection.execute

    def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            counts[str(getattr(self, "host", None) or getattr(self.transport, "host", "?"))] += 1
        return orig_execute(self, *args, **kwargs)

    pyeapi.eapilib.EapiConnection.execute = execute
    try:
        yield counts
    finally:
        pyeapi.eapilib.EapiConnection.execute = orig_execute
