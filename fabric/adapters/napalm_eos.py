"""NAPALM's EOS config conversions (private static methods of ``EOSDriver``).

Loading a configuration into an EOS config session over eAPI needs the same conversions
NAPALM's ``load_replace_candidate`` makes: heredoc blocks (``banner login`` ... ``EOF``) become
one command with its input, and multi-line mode comments become one command. NAPALM exposes
them only as private static methods; calling ``load_replace_candidate`` itself would add a
session-lock request and a round trip per step. Guarded by ``tests/test_adapters.py``.
"""

from __future__ import annotations

from typing import Any


def session_commands(session: str, config: str, *, replace: bool) -> list[Any]:
    """The eAPI commands that load ``config`` into config session ``session``.

    Args:
        session: the EOS config session name.
        config: the configuration text (``!`` comment lines are dropped, as NAPALM does).
        replace: start from an empty configuration (``rollback clean-config``).
    """
    from napalm.eos.eos import EOSDriver

    commands: list[Any] = [f"configure session {session}"]
    if replace:
        commands.append("rollback clean-config")
    for raw in config.splitlines():
        line = raw.strip()
        if line.startswith("!") and not line.startswith("!!"):
            continue
        commands.append(line)
    for start, depth in [(s, d) for (s, d) in EOSDriver.HEREDOC_COMMANDS if s in commands]:
        commands = EOSDriver._multiline_convert(commands, start=start, depth=depth)
    commands = EOSDriver._mode_comment_convert(commands)
    if "end" not in commands:
        commands.append("end")
    return commands
