"""Loopback-only guard for lab and test mode.

The inventory holds real-world addresses (data). In lab or test mode nothing may send a packet
outside 127.0.0.0/8, so two layers refuse before any connection:

1. :func:`check_loopback_targets` looks at every host's connection address after the lab
   overlay and raises :class:`~fabric.errors.SafetyError` naming the host.
2. :func:`install_guard` wraps ``socket.getaddrinfo``, ``socket.socket.connect``,
   ``connect_ex`` and ``sendto`` for the whole process, so even a library that builds its own
   connection (napalm, kubernetes, paramiko) cannot reach a non-loopback address.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable
from typing import Any

from fabric.errors import SafetyError

_LOCK = threading.Lock()
_INSTALLED = False
_ORIG: dict[str, Any] = {}

LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the names that always mean loopback."""
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def check_loopback_targets(targets: Iterable[tuple[str, str | None]]) -> None:
    """Raise SafetyError for the first ``(host_name, address)`` that is not loopback."""
    for name, address in targets:
        if address is None or not is_loopback(address):
            raise SafetyError(
                f"host {name}: refusing to connect to {address!r} in lab/test mode: "
                "only 127.0.0.0/8 may be contacted (is the lab up, and does it know this host?)"
            )


def _check(address: Any, what: str) -> None:
    if isinstance(address, tuple) and address:
        host = str(address[0])
    elif isinstance(address, (str, bytes)):
        # AF_UNIX paths are local by definition.
        return
    else:
        return
    if not is_loopback(host):
        raise SafetyError(f"{what} to {host!r} refused: lab/test mode allows only 127.0.0.0/8")


def install_guard() -> None:
    """Refuse, process-wide, every connection and lookup that is not loopback. Idempotent."""
    global _INSTALLED
    with _LOCK:
        if _INSTALLED:
            return
        _ORIG["getaddrinfo"] = socket.getaddrinfo
        _ORIG["connect"] = socket.socket.connect
        _ORIG["connect_ex"] = socket.socket.connect_ex
        _ORIG["sendto"] = socket.socket.sendto

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            if host is not None:
                h = host.decode() if isinstance(host, bytes) else str(host)
                if not is_loopback(h):
                    raise SafetyError(
                        f"name lookup of {h!r} refused: lab/test mode allows only 127.0.0.0/8"
                    )
            return _ORIG["getaddrinfo"](host, *args, **kwargs)

        def connect(self: socket.socket, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                _check(address, "connection")
            return _ORIG["connect"](self, address)

        def connect_ex(self: socket.socket, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                _check(address, "connection")
            return _ORIG["connect_ex"](self, address)

        def sendto(self: socket.socket, data: Any, *args: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                _check(args[-1], "datagram")
            return _ORIG["sendto"](self, data, *args)

        socket.getaddrinfo = getaddrinfo
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
        _INSTALLED = True


def guard_installed() -> bool:
    """Whether :func:`install_guard` is active in this process."""
    return _INSTALLED
