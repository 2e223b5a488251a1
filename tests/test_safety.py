"""The hard invariant: in lab/test mode nothing leaves 127.0.0.0/8, and the lab binds only there."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import struct
from pathlib import Path
from typing import Any

import pytest

from fabric import safety
from fabric.errors import SafetyError


@pytest.fixture
def connect_spy(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every call that gets past the guard to the real socket.connect/connect_ex.

    A non-loopback address that got past the guard is recorded and NOT handed to the kernel, so
    even a broken guard cannot make this test send a packet; and without the guard installed the
    fixture fails before any test body runs.
    """
    assert safety.guard_installed(), "tests/conftest.py must install the loopback guard"
    calls: list[Any] = []
    real = dict(safety._ORIG)

    def spy(name: str) -> Any:
        def inner(sock: socket.socket, address: Any) -> Any:
            calls.append((name, address))
            if not safety.is_loopback(str(address[0])):
                raise AssertionError(f"{address} got past the guard")
            return real[name](sock, address)

        return inner

    monkeypatch.setitem(safety._ORIG, "connect", spy("connect"))
    monkeypatch.setitem(safety._ORIG, "connect_ex", spy("connect_ex"))
    return calls


def test_guard_is_installed_for_the_whole_test_session() -> None:
    assert safety.guard_installed()


def test_connection_to_the_real_switch_is_refused_before_connect(connect_spy: list[Any]) -> None:
    with socket.socket() as s, pytest.raises(SafetyError, match=r"172\.21\.0\.30"):
        s.connect(("172.21.0.30", 443))
    with socket.socket() as s, pytest.raises(SafetyError):
        s.connect_ex(("172.21.0.30", 443))
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s,
        pytest.raises(SafetyError),
    ):
        s.sendto(b"x", ("172.21.0.30", 161))
    assert connect_spy == []


def test_loopback_connections_still_reach_connect(connect_spy: list[Any]) -> None:
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        with socket.create_connection(srv.getsockname(), timeout=2):
            pass
    assert [c[0] for c in connect_spy] == ["connect"]


def test_name_lookup_of_a_non_loopback_name_is_refused() -> None:
    with pytest.raises(SafetyError, match=r"example\.com"):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(SafetyError):
        socket.getaddrinfo("172.21.0.8", 22)
    assert socket.getaddrinfo("127.0.0.1", 22)


def test_lab_overlay_rewrites_every_host_to_loopback(
    lab: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fabric.inventory import init_nornir

    monkeypatch.setenv("FABRIC_LAB_DIR", str(lab.lab_dir))
    nr = init_nornir(lab.paths, lab=True)
    hosts = nr.inventory.hosts
    assert set(hosts) == set(lab.endpoints["hosts"])
    for name, host in hosts.items():
        assert ipaddress.ip_address(host.hostname).is_loopback, name
        assert host.hostname == lab.endpoints["hosts"][name]["hostname"]


def test_host_missing_from_the_lab_is_refused_before_connecting(
    lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, connect_spy: list[Any]
) -> None:
    from fabric.inventory import init_nornir

    endpoints = json.loads((Path(lab.lab_dir) / "endpoints.json").read_text())
    del endpoints["hosts"]["kube-worker-001"]
    (tmp_path / "endpoints.json").write_text(json.dumps(endpoints))
    monkeypatch.setenv("FABRIC_LAB_DIR", str(tmp_path))
    with pytest.raises(SafetyError, match="kube-worker-001"):
        init_nornir(lab.paths, lab=True)
    assert connect_spy == []


def _listening_inodes_of_this_process() -> set[str]:
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _proc_listeners() -> list[tuple[str, int, str]]:
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            next(fh)
            for line in fh:
                parts = line.split()
                local, state, inode = parts[1], parts[3], parts[9]
                if state != "0A":  # LISTEN
                    continue
                hexaddr, hexport = local.split(":")
                raw = bytes.fromhex(hexaddr)
                if len(raw) == 4:
                    addr = str(ipaddress.IPv4Address(struct.unpack("<I", raw)[0]))
                else:
                    words = struct.unpack("<4I", raw)
                    addr = str(ipaddress.IPv6Address(struct.pack(">4I", *words)))
                out.append((addr, int(hexport, 16), inode))
    return out


def test_every_lab_socket_listens_on_loopback_only(seeded_lab: Any) -> None:
    mine = _listening_inodes_of_this_process()
    listeners = [(a, p) for a, p, inode in _proc_listeners() if inode in mine]
    expected = set(map(tuple, seeded_lab.listening_sockets()))
    # The kernel's view of this process covers at least every socket the lab reports.
    assert expected <= set(listeners)
    # eAPI https+http and SSH CLI, two nodes, cluster, control
    assert len(expected) == 3 + 2 + 1 + 1
    for addr, port in listeners:
        assert ipaddress.ip_address(addr).is_loopback, (addr, port)
