"""Progress of a long run on stderr: a live bar per stage on a terminal, plain lines otherwise.

The workflows report through two callbacks (they never print): ``progress(stage, host,
message)`` for events and ``count(stage, done, total)`` as Nornir finishes each host of a
phase. :class:`ProgressView` renders both. On a terminal, each stage gets a rich progress bar
(hosts done / total, elapsed) and events print above the bars; in a CI log (no terminal),
a stage prints one line when it starts, at every quarter and when it ends.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class ProgressView:
    """Renders a run's progress callbacks on stderr (use it as a context manager).

    Args:
        console: where to draw (default: stderr); a terminal gets live bars.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal
        self._lock = threading.Lock()
        self._bars: dict[str, TaskID] = {}
        self._plain: dict[str, tuple[float, int]] = {}  # stage -> (started, last quarter shown)
        self._progress: Progress | None = None
        if self.live:
            self._progress = Progress(
                TextColumn("{task.description:>10}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("hosts"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )

    def __enter__(self) -> ProgressView:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def message(self, stage: str, host: str | None, text: str) -> None:
        """An event of the run (host and text are data: never rich markup)."""
        if stage == "warning":
            self.console.print(f"[yellow]warning:[/yellow] {escape(text)}")
            return
        where = f"[bold]{escape(host)}[/bold] " if host else ""
        style = "red" if stage == "error" else "cyan"
        self.console.print(f"[{style}]{stage:>8}[/{style}] {where}{escape(text)}")

    def count(self, stage: str, done: int, total: int) -> None:
        """``done`` of ``total`` hosts of ``stage`` have finished."""
        with self._lock:
            if self._progress is not None:
                self._bar(stage, done, total)
            else:
                self._line(stage, done, total)

    def _bar(self, stage: str, done: int, total: int) -> None:
        assert self._progress is not None
        task = self._bars.get(stage)
        if task is None or done == 0:
            # a stage run again (the gate's next poll) gets a fresh bar
            task = self._progress.add_task(stage, total=total)
            self._bars[stage] = task
        self._progress.update(task, completed=done, total=total)

    def _line(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == 0 or stage not in self._plain:
            self._plain[stage] = (now, 0)
            if done == 0:
                return
        started, shown = self._plain[stage]
        quarter = 4 * done // max(total, 1)
        if quarter > shown:
            self._plain[stage] = (started, quarter)
            self.console.print(
                f"{stage:>10}: {done}/{total} hosts, {now - started:.1f} s", markup=False
            )

    def callbacks(self) -> dict[str, Any]:
        """The keyword arguments a workflow's options take: ``progress`` and ``count``."""
        return {"progress": self.message, "count": self.count}


def results_printer() -> Any:
    """A results callback that prints a phase's AggregatedResult with nornir_utils."""
    from nornir_utils.plugins.functions import print_result

    def show(phase: str, agg: Any) -> None:
        with contextlib.redirect_stdout(sys.stderr):
            print_result(agg)

    return show
