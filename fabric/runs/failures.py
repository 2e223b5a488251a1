"""One classifier for every failure a run meets, by ``isinstance`` on the libraries' types.

:func:`classify` maps an exception (ours or a library's: NAPALM, pyeapi, urllib3, asyncssh,
the ``kubernetes`` client, ``OSError``) to what it means for the host:

=============  ===========================================================  ==========
kind           meaning                                                      exit code
=============  ===========================================================  ==========
unreachable    no connection: refused port, timeout, reset, DNS, TLS        5
auth           connected, but the credentials or the host key were refused  5
protocol       the host answered something we cannot read (parse, decoding)  5
refused        the host understood and said no (a command error, HTTP 4xx   3
               or 5xx, a conflict, a pending session of someone else)
failed         anything else (a bug, an invalid option ...)                 3
=============  ===========================================================  ==========

Our own wrappers (``UnreachableError("...") from exc``) are classified by their cause when it
is more specific, so an SSH login refused is ``auth`` even when a collector wrapped it.
"""

from __future__ import annotations

import errno
import socket
import ssl
from typing import Literal

from fabric.errors import (
    ConflictError,
    FabricError,
    ParseError,
    RunFailedError,
    UnreachableError,
)

FailureKind = Literal["unreachable", "auth", "protocol", "refused", "failed"]

#: Kinds that mean "the host could not be reached (or read)": exit code 5.
HOST_ACCESS: frozenset[FailureKind] = frozenset({"unreachable", "auth", "protocol"})

_NETWORK_ERRNOS = frozenset(
    {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.ETIMEDOUT}
)
_AUTH_WORDS = ("unauthorized", "authentication failed", "permission denied", "401", "403")


def _library(exc: BaseException) -> FailureKind | None:
    """The kind of a library exception (None: not one we know)."""
    import asyncssh
    import pyeapi.eapilib
    import urllib3.exceptions
    from kubernetes.client.exceptions import ApiException
    from napalm.base.exceptions import ConnectionException

    if isinstance(exc, ApiException):
        status = int(exc.status or 0)
        if status in (401, 403):
            return "auth"
        return "unreachable" if status == 0 else "refused"
    if isinstance(exc, asyncssh.PermissionDenied | asyncssh.HostKeyNotVerifiable):
        return "auth"
    if isinstance(exc, asyncssh.Error):
        return "unreachable"
    if isinstance(exc, pyeapi.eapilib.CommandError):
        return "refused"
    if isinstance(exc, pyeapi.eapilib.ConnectionError):
        text = str(exc).lower()
        return "auth" if any(w in text for w in _AUTH_WORDS) else "unreachable"
    if isinstance(exc, urllib3.exceptions.SSLError):
        return "unreachable"
    if isinstance(exc, urllib3.exceptions.HTTPError):  # MaxRetryError, NewConnectionError ...
        return "unreachable"
    if isinstance(exc, ConnectionException):  # and ConnectionClosedException
        text = str(exc).lower()
        return "auth" if any(w in text for w in _AUTH_WORDS) else "unreachable"
    return None


def classify(exc: BaseException | None) -> FailureKind:
    """What ``exc`` means for the host it happened on (see the module docstring)."""
    if exc is None:
        return "failed"
    cause = exc.__cause__
    if isinstance(exc, UnreachableError) and not isinstance(exc, ParseError) and cause is not None:
        inner = classify(cause)
        if inner != "failed":
            return inner
    if isinstance(exc, ParseError | UnicodeDecodeError):
        return "protocol"
    if isinstance(exc, UnreachableError):
        return "unreachable"
    if isinstance(exc, ConflictError | RunFailedError):
        return "refused"
    if isinstance(exc, FabricError):
        return "failed"
    kind = _library(exc)
    if kind is not None:
        return kind
    if isinstance(exc, ssl.SSLError | ConnectionError | TimeoutError | socket.gaierror):
        return "unreachable"
    if isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS:
        return "unreachable"
    return "failed"


def reaches_no_host(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the host could not be reached or read (exit code 5)."""
    return classify(exc) in HOST_ACCESS


def error_text(exc: BaseException | None) -> str:
    """A one-line, secret-masked description of a failure."""
    from fabric.steps.eos import mask_secrets

    if exc is None:
        return "failed"
    msg = str(exc).strip().splitlines()
    first = msg[0] if msg else ""
    return mask_secrets(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)
