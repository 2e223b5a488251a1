"""The EOS command line of a simulated switch, as an SSH user meets it.

One :class:`EosCliSession` is one interactive login: the privilege level (``hostname>`` until
``enable``, then ``hostname#``), the terminal settings, and a config mode that persists from
one line to the next (``configure session NAME`` -> ``hostname(config-s-NAME)#`` and sub-mode
prompts such as ``hostname(config-s-NAME-router-bgp)#``).

Every command other than the terminal's own (``enable``, ``disable``, ``terminal ...``,
``exit`` at the top) runs through the switch's eAPI command dispatcher in text format, the one
:mod:`fabric.lab.eos` serves ``runCmds`` with, so a ``show`` command prints exactly the text
eAPI returns for it and a config session behaves the same over both. Errors print as the CLI
prints them: ``% `` and the eAPI error text (``% Invalid input (at token 1: 'x')``,
``% Incomplete command``).

The sources of every prompt and message are in ``fabric/lab/eos/SOURCES.md`` (section "SSH
CLI"). Pure: no sockets here (the SSH server is :mod:`fabric.lab.eos.ssh`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fabric.lab.eos import EosSwitch, _Cli
from fabric.lab.eos.config import ConfigNode
from fabric.lab.eos.reply import CommandFailed as _CommandFailed

__all__ = [
    "CliReply",
    "EosCliSession",
    "interface_prompt_name",
    "last_login_line",
    "login_privileged",
    "mode_prompt",
]

#: Commands a user at privilege 1 (``hostname>``) may not run: EOS answers them with
#: ``% Invalid input (privileged mode required)``.
_PRIVILEGED = (
    ("configure",),
    ("copy",),
    ("write",),
    ("show", "running-config"),
    ("show", "startup-config"),
    ("show", "session-config"),
)
_PRIVILEGE_ERROR = "% Invalid input (privileged mode required)"
#: Session names print truncated in the prompt (``configure session sess-1663-...`` shows
#: ``(config-s-sess-1)``; scrapli's EOS driver matches ``session_name[:6]``).
_SESSION_PROMPT_CHARS = 6
#: The widest terminal EOS accepts (scrapli sets it at login).
_MAX_WIDTH = 32767

_INTF_SHORT = {
    "Ethernet": "Et",
    "Loopback": "Lo",
    "Management": "Ma",
    "Port-Channel": "Po",
    "Vlan": "Vl",
    "Vxlan": "Vx",
    "Tunnel": "Tu",
    "Null": "Nu",
}


def interface_prompt_name(name: str) -> str:
    """The short interface name EOS puts in a prompt.

    >>> interface_prompt_name("Ethernet1"), interface_prompt_name("Vlan3002")
    ('Et1', 'Vl3002')
    """
    for long, short in _INTF_SHORT.items():
        if name.startswith(long) and name[len(long) :][:1].isdigit():
            return short + name[len(long) :]
    return name


def mode_prompt(stack: list[tuple[ConfigNode, str]]) -> str:
    """The mode part of a config prompt after ``config-`` (``router-bgp-vrf-red-af``).

    ``stack`` is the config editor's mode stack (the global mode first). EOS names the deepest
    mode, qualified by its parents where they are part of its name (a BGP VRF's address family
    is ``router-bgp-vrf-NAME-af``).
    """
    name = ""
    for node, mode in stack[1:]:
        tokens = node.tokens
        if mode == "interface":
            name = "if-" + interface_prompt_name(tokens[1])
        elif mode == "router-bgp":
            name = "router-bgp"
        elif mode == "router-bgp-vrf":
            name = f"router-bgp-vrf-{tokens[1]}"
        elif mode == "bgp-af":
            name = f"{name}-af"
        elif mode == "vrf":
            name = f"vrf-{tokens[2]}"
        elif mode == "vlan":
            name = f"vlan-{tokens[1]}"
        elif mode == "mgmt-api":
            name = "mgmt-api-http-cmds"
        elif mode == "mgmt-ssh":
            name = "mgmt-ssh"
        elif mode == "mgmt-api-vrf":
            name = f"{name}-vrf-{tokens[1]}"
        elif mode == "daemon":
            name = f"daemon-{tokens[1]}"
        else:
            name = mode
    return name


@dataclass
class CliReply:
    """What one input line printed, and whether the session ended."""

    output: str
    closed: bool = False


class EosCliSession:
    """One interactive CLI login on a switch (see the module docstring).

    Args:
        switch: the switch; its state and eAPI dispatcher are shared with eAPI clients.
        user: the logged-in user (shown as the commit user of config sessions).
        privileged: start in privileged EXEC (``#``); EOS starts a login at privilege 1.
    """

    def __init__(self, switch: EosSwitch, user: str, *, privileged: bool = False) -> None:
        self.switch = switch
        self.user = user
        self.privileged = privileged
        #: ``terminal length``: 0 disables pagination (the lab never paginates).
        self.length: int | None = None
        #: ``terminal width``.
        self.width = 80
        self._cli = _Cli(switch, user)

    # ------------------------------------------------------------------ prompt

    @property
    def in_config(self) -> bool:
        """Whether the session is in a config mode (terminal or session)."""
        return self._cli.editor is not None

    def prompt(self) -> str:
        """The prompt to print now (``leaf1>``, ``leaf1#``, ``leaf1(config-s-s1-if-Et1)#``)."""
        host = self.switch.hostname
        cli = self._cli
        if cli.editor is None:
            return f"{host}#" if self.privileged else f"{host}>"
        parts = ["config"]
        if cli.session is not None:
            parts.append(f"s-{cli.session.name[:_SESSION_PROMPT_CHARS]}")
        sub = mode_prompt(cli.editor.stack)
        if sub:
            parts.append(sub)
        return f"{host}({'-'.join(parts)})#"

    # ------------------------------------------------------------------ commands

    def execute(self, line: str) -> CliReply:
        """Run one input line; its output (without the next prompt)."""
        cmd = line.strip()
        tokens = cmd.split()
        if not tokens:
            return CliReply("")
        local = self._terminal_command(tokens)
        if local is not None:
            return local
        if not self.privileged and any(
            tuple(t.lower() for t in tokens[: len(p)]) == p for p in _PRIVILEGED
        ):
            return CliReply(_PRIVILEGE_ERROR + "\n")
        try:
            result = self._cli.run(cmd, None, "text")
        except _CommandFailed as exc:
            output = "".join(f"% {e}\n" for e in exc.errors)
        else:
            output = str(result.get("output", "")) if isinstance(result, dict) else ""
        finally:
            self._finish()
        return CliReply(output)

    def _terminal_command(self, tokens: list[str]) -> CliReply | None:
        """Commands of the terminal itself (not sent to the dispatcher); None for the rest."""
        words = [t.lower() for t in tokens]
        if words == ["enable"]:
            self.privileged = True
            return CliReply("")
        if words == ["disable"] and not self.in_config:
            self.privileged = False
            return CliReply("")
        if words[0] in ("exit", "logout", "quit") and len(words) == 1 and not self.in_config:
            return CliReply("", closed=True)
        if words[:2] == ["terminal", "length"] and len(words) == 3 and words[2].isdigit():
            self.length = int(words[2])
            return CliReply("Pagination disabled.\n" if self.length == 0 else "")
        if words[:2] == ["terminal", "width"] and len(words) == 3 and words[2].isdigit():
            self.width = max(10, min(int(words[2]), _MAX_WIDTH))
            return CliReply(f"Width set to {self.width} columns.\n")
        if words[0] == "terminal" and len(words) <= 2:
            return CliReply("% Incomplete command\n")
        return None

    def _finish(self) -> None:
        """Persist what the line changed and tell the runtime, as after an eAPI request."""
        self.switch._finish_request(self._cli.dirty)
        self._cli.dirty = False

    def close(self) -> None:
        """The login ends: a config session left open stays pending, as on EOS."""
        self._cli.editor, self._cli.session = None, None


def login_privileged(switch: EosSwitch, user: str) -> bool:
    """Whether a login starts in privileged EXEC (``#``) rather than EXEC (``>``).

    EOS places a login at privilege 1 unless ``aaa authorization exec default local`` makes the
    user's configured privilege apply; a ``privilege 15`` user then starts at ``#``.
    """
    root = switch._running.root
    if not root.find("aaa", "authorization", "exec", "default", "local"):
        return False
    for node in root.find("username", user):
        tokens = node.tokens
        if "privilege" in tokens:
            i = tokens.index("privilege")
            return tokens[i + 1 : i + 2] == ["15"]
    return False


def last_login_line(when: float, peer: str) -> str:
    """The ``Last login:`` line sshd prints on EOS for the previous login of a user."""
    stamp = time.strftime("%a %b %e %H:%M:%S %Y", time.localtime(when))
    return f"Last login: {stamp} from {peer}\n"
