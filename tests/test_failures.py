"""One classifier for every failure: library exceptions by isinstance, ours by type and cause."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import asyncssh
import pyeapi.eapilib
import pytest
import urllib3.exceptions
from kubernetes.client.exceptions import ApiException
from napalm.base.exceptions import ConnectionClosedException, ConnectionException

from fabric.errors import ConflictError, ParseError, RunFailedError, UnreachableError, UsageError
from fabric.runs.failures import classify, error_text, reaches_no_host


class _MySshRefusal(asyncssh.PermissionDenied):
    """A subclass: the old name-string comparison missed these."""


def _wrapped(inner: BaseException) -> UnreachableError:
    try:
        raise UnreachableError("node: ssh 127.0.0.1:22: failed") from inner
    except UnreachableError as exc:
        return exc


CASES: list[tuple[str, Any, str]] = [
    ("none", None, "failed"),
    ("ours unreachable", UnreachableError("x"), "unreachable"),
    ("ours parse", ParseError("show ip route", "garbage"), "protocol"),
    ("decoding", UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), "protocol"),
    ("conflict", ConflictError("409"), "refused"),
    ("run failed", RunFailedError("session pending"), "refused"),
    ("usage", UsageError("bad option"), "failed"),
    ("napalm connection", ConnectionException("Socket error: Connection refused"), "unreachable"),
    ("napalm closed", ConnectionClosedException("closed"), "unreachable"),
    ("napalm auth", ConnectionException("Unauthorized. bad login"), "auth"),
    ("pyeapi command", pyeapi.eapilib.CommandError(1002, "invalid"), "refused"),
    ("pyeapi socket", pyeapi.eapilib.ConnectionError("https", "Socket error"), "unreachable"),
    ("pyeapi 401", pyeapi.eapilib.ConnectionError("https", "Unauthorized. x"), "auth"),
    ("urllib3 new conn", urllib3.exceptions.NewConnectionError(None, "refused"), "unreachable"),
    ("urllib3 ssl", urllib3.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"), "unreachable"),
    ("k8s 403", ApiException(status=403, reason="Forbidden"), "auth"),
    ("k8s 401", ApiException(status=401, reason="Unauthorized"), "auth"),
    ("k8s 500", ApiException(status=500, reason="boom"), "refused"),
    ("ssh denied", asyncssh.PermissionDenied("no"), "auth"),
    ("ssh denied subclass", _MySshRefusal("no"), "auth"),
    ("ssh host key", asyncssh.HostKeyNotVerifiable("unknown key"), "auth"),
    ("ssh disconnect", asyncssh.ConnectionLost("lost"), "unreachable"),
    ("wrapped ssh denied", _wrapped(asyncssh.PermissionDenied("no")), "auth"),
    ("wrapped refused", _wrapped(ConnectionRefusedError(111, "refused")), "unreachable"),
    ("refused", ConnectionRefusedError(111, "Connection refused"), "unreachable"),
    ("timeout", TimeoutError(), "unreachable"),
    ("dns", socket.gaierror(-2, "Name or service not known"), "unreachable"),
    ("tls", ssl.SSLCertVerificationError("verify failed"), "unreachable"),
    ("a file", FileNotFoundError(2, "No such file", "/x"), "failed"),
    ("a bug", KeyError("x"), "failed"),
]


@pytest.mark.parametrize(("exc", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_classify(exc: Any, kind: str) -> None:
    assert classify(exc) == kind
    assert reaches_no_host(exc) is (kind in ("unreachable", "auth", "protocol"))


def test_error_text_is_one_masked_line() -> None:
    exc = RuntimeError("neighbor 10.0.0.1 password 7 AbC==\nsecond line")
    assert error_text(exc) == "RuntimeError: neighbor 10.0.0.1 password 7 *****"
    assert error_text(None) == "failed"
