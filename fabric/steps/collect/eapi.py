"""Switches over eAPI: every command in one request, parsed (a Nornir task)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nornir.core.task import Result

from fabric.adapters.eapi import run_eapi
from fabric.steps.collect.outputs import (
    SWITCH_COMMANDS,
    parse_switch_outputs,
    raw_name,
    write_raw,
)

if TYPE_CHECKING:
    from nornir.core.task import Task


def collect_switch_state(
    task: Task,
    commands: Sequence[str] = SWITCH_COMMANDS,
    save_raw: Path | None = None,
) -> Result:
    """Read a switch through NAPALM (text, every command in one eAPI request) and parse it.

    The host's ``napalm`` connection is opened once and kept: a caller that collects again
    (the deploy gate's next poll) reuses it.

    Args:
        task: the Nornir task (its host is an EOS switch with a ``napalm`` connection).
        commands: which of :data:`SWITCH_COMMANDS` to run (the deploy gate skips the config).
        save_raw: a folder to keep every raw output in (``<dir>/<host>/<command>.txt``).

    Returns:
        A Result whose ``result`` is an :class:`~fabric.models.observed.ObservedSwitch`.

    Raises:
        ParseError: an output could not be parsed (the raw text is saved first).
    """
    device = task.host.get_connection("napalm", task.nornir.config)
    # One eAPI request for every command (napalm's cli() sends one request per command).
    replies = run_eapi(device, list(commands), encoding="text")
    outputs = {c: str(r["output"]) for c, r in zip(commands, replies, strict=True)}
    for cmd, text in outputs.items():
        write_raw(save_raw, task.host.name, raw_name(cmd) + ".txt", text)
    return Result(host=task.host, result=parse_switch_outputs(task.host.name, outputs))
