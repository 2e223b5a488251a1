"""The progress view: live bars on a terminal, a few plain lines in a CI log."""

from __future__ import annotations

import io

from rich.console import Console

from fabric.cli.progress import ProgressView


def test_plain_lines_without_a_terminal() -> None:
    buf = io.StringIO()
    view = ProgressView(Console(file=buf, force_terminal=False, width=80))
    assert not view.live
    with view:
        view.message("warning", None, "AS 65535 is reserved [asn-reserved]")
        view.count("collect", 0, 8)
        for done in range(1, 9):
            view.count("collect", done, 8)
        view.message("error", "sw1", "refused [/etc/ssl]")
    lines = buf.getvalue().splitlines()
    assert lines[0] == "warning: AS 65535 is reserved [asn-reserved]"
    counts = [ln.split(",")[0].strip() for ln in lines if "hosts" in ln]
    assert counts == [
        "collect: 2/8 hosts",
        "collect: 4/8 hosts",
        "collect: 6/8 hosts",
        "collect: 8/8 hosts",
    ]
    assert lines[-1].endswith("sw1 refused [/etc/ssl]")


def test_bars_on_a_terminal_one_per_stage_run() -> None:
    buf = io.StringIO()
    view = ProgressView(Console(file=buf, force_terminal=True, width=100, color_system=None))
    assert view.live
    with view:
        for stage, total in (("plan", 3), ("gate", 5)):
            view.count(stage, 0, total)
            for done in range(1, total + 1):
                view.count(stage, done, total)
        view.count("gate", 0, 2)  # the gate's next poll: a fresh bar
        view.count("gate", 2, 2)
    out = buf.getvalue()
    assert "3/3" in out and "5/5" in out and "2/2" in out
    assert view.callbacks() == {"progress": view.message, "count": view.count}
