"""Count eAPI requests per switch during a benchmark (at pyeapi's ``EapiConnection.send``)."""

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
    orig_send = pyeapi.eapilib.EapiConnection.send

    def send(self: Any, data: Any) -> Any:
        with lock:
            counts[str(getattr(self.transport, "host", "?"))] += 1
        return orig_send(self, data)

    pyeapi.eapilib.EapiConnection.send = send
    try:
        yield counts
    finally:
        pyeapi.eapilib.EapiConnection.send = orig_send
