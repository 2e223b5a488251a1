"""Node collection over SSH (asyncssh): the shared client loop, host keys, failures, timeouts.

A real :class:`~fabric.lab.ssh.NodeSshServer` runs on a loopback port in a background loop
(module scope); :func:`fabric.steps.collect.ssh.run_ssh_command` talks to it as it talks to a
node, through a Nornir :class:`~nornir.core.inventory.Host`.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from nornir.core.inventory import Host

from fabric.errors import UnreachableError
from fabric.lab.model import NodeBgpView, NodePeerView
from fabric.lab.ssh import NodeShell, NodeSshServer
from fabric.steps.collect import ssh as collect
from fabric.steps.collect.ssh import run_ssh_command, ssh_client_loop

PASSWORD = "s3cret-for-tests"
VIEW = NodeBgpView(True, [NodePeerView("10.0.0.1", "global", "up", 1.0, "Established")])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Servers:
    """An SSH node and a TCP port that accepts but never speaks, on one background loop."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.key_file = tmp / "id_ed25519"
        self.key_file.write_bytes(self.client_key.export_private_key())
        self.key_file.chmod(0o600)
        self.port = _free_port()
        self.node = NodeSshServer(
            NodeShell("n1", lambda: VIEW, lambda: 1.0, clock=lambda: 2.0),
            host="127.0.0.1",
            port=self.port,
            username="calico",
            password=PASSWORD,
            host_key=self.host_key,
            client_keys=[self.client_key],
        )
        self.mute_port = _free_port()
        self.mute: asyncio.Server | None = None
        self._call(self._start())

    async def _start(self) -> None:
        await self.node.start()

        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # never answers; ends when the client goes away
            writer.close()

        self.mute = await asyncio.start_server(silent, "127.0.0.1", self.mute_port)

    async def _stop(self) -> None:
        await self.node.close()
        if self.mute is not None:
            self.mute.close()
            await self.mute.wait_closed()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def close(self) -> None:
        self._call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Servers]:
    s = _Servers(tmp_path_factory.mktemp("ssh"))
    yield s
    s.close()


def _host(port: int, **data: Any) -> Host:
    password = data.pop("password", PASSWORD)
    return Host(
        name="n1",
        hostname="127.0.0.1",
        port=port,
        username="calico",
        password=password,
        data=data,
    )


def _lab(servers: _Servers, **extra: Any) -> Host:
    return _host(servers.port, lab={"key_file": str(servers.key_file)}, **extra)


def test_runs_the_command_on_the_shared_loop_and_without_it(servers: _Servers) -> None:
    expected = NodeShell("n1", lambda: VIEW, lambda: 1.0, clock=lambda: 2.0).run(
        "calicoctl node status"
    )
    alone = run_ssh_command(_lab(servers), "sudo calicoctl node status")
    with ssh_client_loop() as loop:
        assert _shared() is loop
        shared = run_ssh_command(_lab(servers), "sudo calicoctl node status")
        # many workers at once on the one loop
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(8) as pool:
            many = list(pool.map(lambda _: run_ssh_command(_lab(servers), "hostname"), range(16)))
    assert alone == shared == (0, expected.stdout, "")
    assert many == [(0, "n1\n", "")] * 16
    assert _shared() is None


def _shared() -> object:
    return collect._SHARED


def test_shared_loop_nests_and_closes_its_thread() -> None:
    before = {t.name for t in threading.enumerate()}
    with ssh_client_loop() as outer:
        with ssh_client_loop() as inner:
            assert inner is outer
        assert _shared() is outer  # still open for the outer block
        assert "fabric-ssh" in {t.name for t in threading.enumerate()}
    assert _shared() is None
    assert {t.name for t in threading.enumerate()} <= before
    outer.close()  # idempotent


def test_exit_status_and_stderr_come_back(servers: _Servers) -> None:
    rc, out, err = run_ssh_command(_lab(servers), "rm -rf /")
    assert (rc, out) == (127, "")
    assert "bash: rm: command not found" in err


def test_key_authentication_without_a_password(servers: _Servers) -> None:
    rc, out, _ = run_ssh_command(_lab(servers, password=None), "calicoctl node status")
    assert rc == 0 and "Calico process is running." in out


def test_wrong_password_is_unreachable_and_not_echoed(servers: _Servers) -> None:
    host = _host(servers.port, password="wrong-pw-xyz", ssh_host_key_policy="auto-add")
    with pytest.raises(UnreachableError) as exc:
        run_ssh_command(host, "calicoctl node status")
    assert "n1: ssh 127.0.0.1" in str(exc.value)
    assert "wrong-pw-xyz" not in str(exc.value)


def test_unknown_host_key_is_refused_outside_the_lab(
    servers: _Servers, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/known_hosts
    with pytest.raises(UnreachableError, match=r"[Hh]ost key"):
        run_ssh_command(_host(servers.port), "hostname")
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    wrong = tmp_path / "wrong_hosts"
    wrong.write_text(f"[127.0.0.1]:{servers.port} {other}")
    with pytest.raises(UnreachableError, match=r"[Hh]ost key"):
        run_ssh_command(_host(servers.port, ssh_known_hosts=str(wrong)), "hostname")
    missing = tmp_path / "nope"
    with pytest.raises(UnreachableError, match="nope"):
        run_ssh_command(_host(servers.port, ssh_known_hosts=str(missing)), "hostname")


def test_known_host_key_or_auto_add_is_accepted(servers: _Servers, tmp_path: Path) -> None:
    known = tmp_path / "known_hosts"
    pub = servers.host_key.export_public_key().decode()
    known.write_text(f"[127.0.0.1]:{servers.port} {pub}")
    assert run_ssh_command(_host(servers.port, ssh_known_hosts=str(known)), "hostname")[1] == (
        "n1\n"
    )
    auto = _host(servers.port, ssh_host_key_policy="auto-add")
    assert run_ssh_command(auto, "hostname") == (0, "n1\n", "")


def test_refused_and_silent_ports_are_unreachable(servers: _Servers) -> None:
    closed = _free_port()
    with pytest.raises(UnreachableError, match=re.escape("n1: ssh 127.0.0.1")):
        run_ssh_command(_host(closed, lab={"key_file": str(servers.key_file)}), "hostname")
    t = time.perf_counter()
    with (
        ssh_client_loop(),
        pytest.raises(UnreachableError, match=re.escape("no answer within 0.5 s")),
    ):
        run_ssh_command(
            _host(servers.mute_port, ssh_host_key_policy="auto-add"), "hostname", timeout=0.5
        )
    assert time.perf_counter() - t < 5


def test_algorithms_prefer_x25519_and_aes_gcm_and_keep_fallbacks() -> None:
    algs = collect._algorithms()
    assert algs["kex_algs"][:2] == list(collect.SSH_KEX_ALGS)
    assert algs["encryption_algs"][:2] == list(collect.SSH_ENCRYPTION_ALGS)
    assert "chacha20-poly1305@openssh.com" in algs["encryption_algs"]  # still negotiable
    assert len(set(algs["kex_algs"])) == len(algs["kex_algs"]) > 2
