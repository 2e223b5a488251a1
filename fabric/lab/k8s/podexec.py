"""Pod subresources ``exec`` and ``log`` as the real API server serves them.

``exec`` is a WebSocket upgrade with the Kubernetes channel sub-protocols (what the ``kubernetes``
client's ``stream()`` and kubectl >= 1.30 use; SPDY is not served):

* ``v5.channel.k8s.io`` (``v4`` plus the CLOSE signal ``[255, channel]`` from the client) and
  ``v4.channel.k8s.io``; the client's order of preference wins, as in
  ``k8s.io/apimachinery/pkg/util/httpstream/wsstream`` (``handshake``);
* every binary message starts with its channel: 0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize;
* on v5 the server first sends an empty message on the lowest requested output channel, as the
  API server's stream translator does (``k8s.io/apiserver/pkg/util/proxy/websocket.go``);
* the command's end is a ``metav1.Status`` on the error channel, then a normal (1000) close:
  ``{"metadata":{},"status":"Success"}``, or for a non-zero exit the kubelet's
  ``NonZeroExitCode`` status with the exit code as the ``ExitCode`` cause (containerd's
  ``error executing command [ARGV], exit code N`` text), or, when the runtime cannot start the
  command at all, an ``InternalError`` status with containerd's OCI error text (what
  ``kubectl exec`` prints for a binary missing from the image).

``log`` answers ``text/plain`` with the container's lines: ``tailLines``, ``sinceSeconds``,
``timestamps`` (kubelet's RFC 3339 nano prefix) and ``follow`` (the response stays open and new
lines are streamed until the client goes away or the pod does).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from aiohttp import WSMsgType, web

V4_PROTOCOL = "v4.channel.k8s.io"
V5_PROTOCOL = "v5.channel.k8s.io"
PROTOCOLS = (V5_PROTOCOL, V4_PROTOCOL)

STDIN, STDOUT, STDERR, ERROR, RESIZE = 0, 1, 2, 3, 4
CLOSE_SIGNAL = 255
#: How often a ``follow`` log stream looks for new lines.
FOLLOW_POLL_S = 0.3


@dataclass(frozen=True)
class ExecResult:
    """What a command run in a container produced.

    Attributes:
        stdout: text written to standard output.
        stderr: text written to standard error.
        exit_code: the process's exit status.
        runtime_error: set when the container runtime could not start the command at all (the
            OCI error text); the other fields are then ignored.
    """

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    runtime_error: str | None = None


class LogLine(NamedTuple):
    """One line of a container's output (``when`` is epoch seconds, for ``timestamps``).

    A tuple of a float and a string: the garbage collector stops tracking it, which matters
    with tens of thousands of lines in a 2,000-node lab.
    """

    when: float
    text: str


class PodBackend(Protocol):
    """What runs inside the lab's pods (the runtime implements it)."""

    def exec(self, pod: dict[str, Any], container: str, command: list[str]) -> ExecResult:
        """Run ``command`` in ``container`` of ``pod``."""

    def logs(self, pod: dict[str, Any], container: str) -> list[LogLine]:
        """Every line ``container`` of ``pod`` has written so far."""


class SubresourceError(Exception):
    """A request the API server refuses before any upgrade (answered as a ``Status``)."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message


def _bad_request(message: str) -> SubresourceError:
    return SubresourceError(400, "BadRequest", message)


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes")


def container_for(pod: dict[str, Any], requested: str | None) -> str:
    """The container a request names, checked as ``pkg/registry/core/pod/strategy.go`` does.

    Raises:
        SubresourceError: no such container, or none named in a multi-container pod.
    """
    spec = pod.get("spec") or {}
    name = str((pod.get("metadata") or {}).get("name"))
    containers = [str(c.get("name")) for c in spec.get("containers") or []]
    inits = [str(c.get("name")) for c in spec.get("initContainers") or []]
    if not requested:
        if len(containers) == 1:
            return containers[0]
        message = f"a container name must be specified for pod {name}"
        if containers:
            message += f", choose one of: [{' '.join(containers)}]"
            if inits:
                message += f" or one of the init containers: [{' '.join(inits)}]"
        raise _bad_request(message)
    if requested not in containers and requested not in inits:
        raise _bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def status_bytes(result: ExecResult, command: Sequence[str]) -> bytes:
    """The ``metav1.Status`` the kubelet writes on the error stream (Go's field order)."""
    if result.runtime_error is not None:
        cause = f"error executing command in container: {result.runtime_error}"
        status: dict[str, Any] = {
            "metadata": {},
            "status": "Failure",
            "message": f"Internal error occurred: {cause}",
            "reason": "InternalError",
            "details": {"causes": [{"message": cause}]},
            "code": 500,
        }
    elif result.exit_code == 0:
        status = {"metadata": {}, "status": "Success"}
    else:
        argv = "[" + " ".join(command) + "]"
        status = {
            "metadata": {},
            "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command "
            f"{argv}, exit code {result.exit_code}",
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(result.exit_code)}]},
        }
    return json.dumps(status, separators=(",", ":")).encode()


def oci_not_found(executable: str) -> str:
    """The error containerd reports for an executable missing from the image (runc text)."""
    exec_id = secrets.token_hex(32)
    return (
        f'failed to exec in container: failed to start exec "{exec_id}": OCI runtime exec '
        f"failed: exec failed: unable to start container process: exec: "
        f'"{executable}": executable file not found in $PATH: unknown'
    )


def is_websocket(request: web.Request) -> bool:
    """An HTTP/1.1 WebSocket upgrade request (``wsstream.IsWebSocketRequest``)."""
    upgrade = request.headers.get("Upgrade", "")
    connection = request.headers.get("Connection", "").lower()
    return upgrade.lower() == "websocket" and "upgrade" in connection


def exec_options(request: web.Request) -> tuple[list[str], bool, bool, bool, bool]:
    """``command``, ``stdin``, ``stdout``, ``stderr``, ``tty`` of an exec request.

    Raises:
        SubresourceError: no command, or no stream requested (the API server's checks).
    """
    command = request.query.getall("command", [])
    stdin = _truthy(request.query.get("stdin"))
    stdout = _truthy(request.query.get("stdout"))
    stderr = _truthy(request.query.get("stderr"))
    tty = _truthy(request.query.get("tty"))
    if not command:
        raise _bad_request("you must specify at least 1 command")
    if not (stdin or stdout or stderr):
        raise _bad_request("you must specify at least one of stdin, stdout, stderr")
    return list(command), stdin, stdout, stderr, tty


async def serve_exec(
    request: web.Request,
    command: list[str],
    streams: tuple[bool, bool, bool, bool],
    run: Callable[[], Awaitable[ExecResult]],
) -> web.StreamResponse:
    """Upgrade ``request`` to a channel WebSocket, run the command, report its status.

    Args:
        request: the exec request (already authenticated and checked).
        command: the argv (for the status text).
        streams: ``(stdin, stdout, stderr, tty)`` as requested.
        run: runs the command (called once the connection is established).

    Raises:
        SubresourceError: the request is not a WebSocket upgrade, or offers no channel protocol
            this server speaks.
    """
    if not is_websocket(request):
        raise _bad_request("Upgrade request required")
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
    if not any(p in PROTOCOLS for p in offered):
        raise _bad_request(
            f"requested protocol(s) are not supported: {[p for p in offered if p]}; "
            f"supports {list(PROTOCOLS)}"
        )
    _stdin, stdout, stderr, tty = streams
    ws = web.WebSocketResponse(protocols=PROTOCOLS, autoping=True, timeout=5.0)
    await ws.prepare(request)
    reader = asyncio.get_running_loop().create_task(_drain(ws))
    try:
        if ws.ws_protocol == V5_PROTOCOL:
            first = STDOUT if stdout else STDERR if stderr else ERROR
            await ws.send_bytes(bytes([first]))
        result = await run()
        if result.runtime_error is None:
            out, err = result.stdout, result.stderr
            if tty:  # a terminal has one output stream, with CRLF line ends
                out, err = (out + err).replace("\n", "\r\n"), ""
            if out and stdout:
                await ws.send_bytes(bytes([STDOUT]) + out.encode())
            if err and stderr:
                await ws.send_bytes(bytes([STDERR]) + err.encode())
        await ws.send_bytes(bytes([ERROR]) + status_bytes(result, command))
    except ConnectionResetError:
        pass
    finally:
        await ws.close()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return ws


async def _drain(ws: web.WebSocketResponse) -> None:
    """Read and drop what the client sends (stdin, resize, CLOSE signals): no command reads it.

    Reading is also what makes aiohttp answer the client's pings and its close frame.
    """
    async for msg in ws:
        if msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break


def _stamp(when: float) -> str:
    """The kubelet's ``timestamps=true`` prefix: RFC 3339 with nanoseconds, UTC."""
    moment = dt.datetime.fromtimestamp(when, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}000Z"


def _select(lines: Sequence[LogLine], request: web.Request, now: float) -> list[LogLine]:
    picked = list(lines)
    since = request.query.get("sinceSeconds")
    if since is not None:
        try:
            cutoff = now - int(since)
        except ValueError as err:
            raise _bad_request(f"invalid sinceSeconds: {since!r}") from err
        picked = [line for line in picked if line.when >= cutoff]
    tail = request.query.get("tailLines")
    if tail is not None:
        try:
            count = int(tail)
        except ValueError as err:
            raise _bad_request(f"invalid tailLines: {tail!r}") from err
        picked = picked[-count:] if count > 0 else []
    return picked


def _render(lines: Sequence[LogLine], timestamps: bool) -> bytes:
    text = "".join(
        (f"{_stamp(line.when)} " if timestamps else "") + line.text + "\n" for line in lines
    )
    return text.encode()


async def serve_log(
    request: web.Request,
    read: Callable[[], list[LogLine] | None],
    clock: Callable[[], float],
) -> web.StreamResponse:
    """Answer a ``log`` request from ``read()`` (the container's lines; None: the pod is gone)."""
    lines = read() or []
    timestamps = _truthy(request.query.get("timestamps"))
    picked = _select(lines, request, clock())
    if not _truthy(request.query.get("follow")):
        return web.Response(body=_render(picked, timestamps), content_type="text/plain")
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    sent = len(lines)
    try:
        await resp.write(_render(picked, timestamps))
        while True:
            await asyncio.sleep(FOLLOW_POLL_S)
            transport = request.transport
            if transport is None or transport.is_closing():
                break  # the client went away (aiohttp does not cancel the handler)
            current = read()
            if current is None:
                break
            if len(current) > sent:
                await resp.write(_render(current[sent:], timestamps))
                sent = len(current)
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    with contextlib.suppress(ConnectionResetError):
        await resp.write_eof()
    return resp
