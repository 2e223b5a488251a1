"""The SSH server of a simulated switch: EOS's CLI over SSH (asyncssh).

An interactive shell gets the login text (``Last login: ...`` from the user's previous login),
the prompt, and one :class:`~fabric.lab.eos.cli.EosCliSession` for the whole login; an exec
request (``ssh admin@switch show version``) runs its one command line in a fresh session.
netmiko's and scrapli's ``arista_eos`` drivers and ``nornir_netmiko`` log in unmodified
(``tests/test_lab_eos_ssh.py``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import asyncssh

from fabric.lab.eos import EosSwitch
from fabric.lab.eos.cli import EosCliSession, last_login_line, login_privileged
from fabric.lab.ssh import SshServer

__all__ = ["EosSshServer"]


class EosSshServer(SshServer):
    """One switch's SSH endpoint on a loopback address.

    Args:
        switch: the switch whose CLI the sessions drive.
        host: the loopback address to bind.
        port: the TCP port.
        username: the only user allowed in (the switch's eAPI user).
        password: its password.
        host_key: the server's host key.
        client_keys: public keys accepted for ``username``.
    """

    def __init__(
        self,
        switch: EosSwitch,
        *,
        host: str,
        port: int,
        username: str,
        password: str,
        host_key: asyncssh.SSHKey,
        client_keys: Sequence[asyncssh.SSHKey] = (),
    ) -> None:
        super().__init__(
            host=host,
            port=port,
            username=username,
            password=password,
            host_key=host_key,
            client_keys=client_keys,
            # EOS runs OpenSSH; the version only shows in the identification string.
            server_version="OpenSSH_7.8",
        )
        self.switch = switch
        #: (time, peer address) of the user's previous login, for the ``Last login`` line.
        self._last_login: tuple[float, str] | None = None

    def _new_session(self, user: str) -> EosCliSession:
        return EosCliSession(self.switch, user, privileged=login_privileged(self.switch, user))

    async def _handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        user = process.get_extra_info("username") or self._username
        peer = (process.get_extra_info("peername") or ("127.0.0.1", 0))[0]
        session = self._new_session(user)
        if process.command is not None:
            reply = session.execute(process.command)
            session.close()
            process.stdout.write(reply.output)
            process.exit(1 if reply.output.startswith("% ") else 0)
            return
        previous, self._last_login = self._last_login, (time.time(), str(peer))
        if previous is not None:
            process.stdout.write(last_login_line(*previous))
        process.stdout.write(session.prompt())
        try:
            while True:
                try:
                    line = await process.stdin.readline()
                except (
                    asyncssh.BreakReceived,
                    asyncssh.SignalReceived,
                    asyncssh.TerminalSizeChanged,
                ):
                    continue
                except (asyncssh.ConnectionLost, BrokenPipeError):
                    return
                if not line:
                    break
                reply = session.execute(line)
                if reply.output:
                    process.stdout.write(reply.output)
                if reply.closed:
                    break
                process.stdout.write(session.prompt())
        finally:
            session.close()
        process.exit(0)
