"""What one ``show`` command answers: its JSON and/or text, or an eAPI error.

EOS renders every command as text, and most as JSON too (a command without a JSON model
answers error 1003 "unconverted command" to a JSON request). The lab models each command
from published real outputs (``SOURCES.md``); where a form of a command has no published
sample, the lab says so with an error instead of inventing a shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["CommandFailed", "Reply", "not_modelled", "refused", "unconverted"]


class CommandFailed(Exception):
    """A command failed; carries the eAPI error code and the per-command error texts."""

    def __init__(self, code: int, reason: str, errors: list[str]) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.errors = errors


@dataclass(frozen=True)
class Reply:
    """The answer of one command: its eAPI JSON, its text, or both.

    ``json`` None: the command has no JSON model on EOS (1003 for a JSON request).
    ``text`` None: EOS prints text, but the lab has no published sample of it.
    """

    json: dict[str, Any] | None = None
    text: str | None = None


def refused(message: str) -> CommandFailed:
    """Error 1000 ("could not run command") with EOS's message."""
    return CommandFailed(1000, "could not run command", [message])


def unconverted() -> CommandFailed:
    """Error 1003: the command has no JSON output."""
    return CommandFailed(1003, "unconverted command", ["Command not converted to JSON"])


def not_modelled(form: str) -> CommandFailed:
    """The lab has no published sample of this form of the command (never an invented one)."""
    return refused(f"{form} output of this command is not modelled by the lab")
