"""``exec`` over SPDY/3.1, the streaming transport of kubectl before 1.30.

kubectl <= 1.29 (and later ones that fall back) upgrade ``POST .../exec`` to ``SPDY/3.1`` with
``X-Stream-Protocol-Version: v4.channel.k8s.io``; each standard stream is then a SPDY stream the
client opens with a ``SYN_STREAM`` whose ``streamtype`` header names it (``error``, ``stdin``,
``stdout``, ``stderr``, ``resize``). This module is the server half the kubelet's streaming
server (``k8s.io/apimachinery/pkg/util/httpstream/spdy`` over ``moby/spdystream``) plays:

* answer ``101 Switching Protocols`` with the negotiated protocol version;
* reply ``SYN_REPLY`` to every stream and wait until those the request asked for exist;
* write the command's output as ``DATA`` frames, close each stream with ``FIN``, write the
  ``metav1.Status`` on the error stream (the same text as the WebSocket error channel), then
  ``GOAWAY``;
* echo ``PING``; ignore ``WINDOW_UPDATE``, ``SETTINGS``, ``RST_STREAM`` and client data.

Frame layouts follow ``moby/spdystream`` ``spdy/types.go`` and ``write.go``: a control frame is
``0x8003, type(16), flags(8), length(24), payload``; a data frame ``stream id(31), flags(8),
length(24), data``; header blocks are zlib-compressed with the SPDY/3 dictionary (one stream per
direction, a sync flush after each block).

aiohttp hands the upgraded connection over through ``request.protocol.set_parser`` (what its
``WebSocketResponse`` does); :func:`serve_spdy_exec` writes frames to ``request.transport``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import struct
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from fabric.lab.k8s.podexec import ExecResult, SubresourceError, status_bytes

PROTOCOL = "v4.channel.k8s.io"
_DICTIONARY_FILE = Path(__file__).with_name("data") / "spdy3-header-dictionary.bin"
_DICTIONARY_SHA256 = "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"
_SYN_STREAM, _SYN_REPLY, _PING, _GOAWAY = 1, 2, 6, 7
_FIN = 0x01
#: ``streamCreationTimeout`` of the kubelet's streaming server.
STREAM_CREATION_TIMEOUT_S = 30.0


def dictionary() -> bytes:
    """The SPDY/3 header compression dictionary (1423 bytes, checked)."""
    data = _DICTIONARY_FILE.read_bytes()
    if hashlib.sha256(data).hexdigest() != _DICTIONARY_SHA256:
        raise RuntimeError(f"{_DICTIONARY_FILE} is not the SPDY/3 header dictionary")
    return data


def is_spdy(request: web.Request) -> bool:
    """A ``Connection: Upgrade`` request for ``SPDY/3.1``."""
    return request.headers.get("Upgrade", "").lower() == "spdy/3.1" and "upgrade" in (
        request.headers.get("Connection", "").lower()
    )


class _Feed:
    """Bytes of the upgraded connection (aiohttp's payload-parser interface)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.eof = False
        self.changed = asyncio.Event()

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.buffer += data
        self.changed.set()
        return False, b""

    def feed_eof(self) -> None:
        self.eof = True
        self.changed.set()

    async def read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if self.eof:
                raise ConnectionResetError("the client closed the SPDY connection")
            self.changed.clear()
            await self.changed.wait()
        out = bytes(self.buffer[:n])
        del self.buffer[:n]
        return out


def _header_block(headers: dict[str, str]) -> bytes:
    out = struct.pack(">I", len(headers))
    for name, value in headers.items():
        raw_name, raw_value = name.lower().encode(), value.encode()
        out += struct.pack(">I", len(raw_name)) + raw_name
        out += struct.pack(">I", len(raw_value)) + raw_value
    return out


def _parse_headers(block: bytes) -> dict[str, str]:
    (count,) = struct.unpack_from(">I", block, 0)
    pos, out = 4, {}
    for _ in range(count):
        (size,) = struct.unpack_from(">I", block, pos)
        name = block[pos + 4 : pos + 4 + size].decode()
        pos += 4 + size
        (size,) = struct.unpack_from(">I", block, pos)
        out[name] = block[pos + 4 : pos + 4 + size].decode()
        pos += 4 + size
    return out


class _Session:
    """One upgraded connection: frame I/O and the streams the client opened."""

    def __init__(self, transport: asyncio.Transport, feed: _Feed) -> None:
        words = dictionary()
        self.transport = transport
        self.feed = feed
        self.deflate = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_DEFAULT_STRATEGY, words)
        self.inflate = zlib.decompressobj(zdict=words)
        self.streams: dict[str, int] = {}
        self.arrived = asyncio.Event()

    def control(self, kind: int, payload: bytes, flags: int = 0) -> None:
        head = struct.pack(">HHI", 0x8003, kind, flags << 24 | len(payload))
        self.transport.write(head + payload)

    def data(self, stream: int, data: bytes, fin: bool = False) -> None:
        head = struct.pack(">II", stream & 0x7FFFFFFF, (_FIN if fin else 0) << 24 | len(data))
        self.transport.write(head + data)

    async def read_frames(self) -> None:
        """Handle the client's frames until it goes away."""
        while True:
            first, word = struct.unpack(">II", await self.feed.read(8))
            flags, length = word >> 24, word & 0xFFFFFF
            payload = await self.feed.read(length)
            if not first & 0x80000000:
                continue  # data from the client (stdin, resize): no command reads it
            kind = first & 0xFFFF
            if kind == _SYN_STREAM:
                (stream,) = struct.unpack_from(">I", payload, 0)
                block = self.inflate.decompress(payload[10:])
                stream_type = _parse_headers(block).get("streamtype", "")
                self.streams[stream_type] = stream & 0x7FFFFFFF
                reply = self.deflate.compress(_header_block({}))
                reply += self.deflate.flush(zlib.Z_SYNC_FLUSH)
                self.control(_SYN_REPLY, struct.pack(">I", stream & 0x7FFFFFFF) + reply)
                self.arrived.set()
            elif kind == _PING:
                self.control(_PING, payload, flags)

    async def wait_streams(self, wanted: set[str]) -> None:
        while not wanted <= set(self.streams):
            self.arrived.clear()
            await self.arrived.wait()


async def serve_spdy_exec(
    request: web.Request,
    command: list[str],
    streams: tuple[bool, bool, bool, bool],
    run: Callable[[], Awaitable[ExecResult]],
) -> web.StreamResponse:
    """Upgrade ``request`` to SPDY/3.1, run the command, report its status (see module doc).

    Raises:
        SubresourceError: the client offers no protocol version this server speaks.
    """
    offered = [
        v.strip()
        for header in request.headers.getall("X-Stream-Protocol-Version", [])
        for v in header.split(",")
    ]
    if PROTOCOL not in offered:
        raise SubresourceError(
            403,
            "Forbidden",
            f"unable to upgrade: unable to negotiate protocol: client supports {offered}, "
            f"server supports [{PROTOCOL}]",
        )
    stdin, stdout, stderr, tty = streams
    resp = web.StreamResponse(
        status=101,
        headers={
            "Connection": "Upgrade",
            "Upgrade": "SPDY/3.1",
            "X-Stream-Protocol-Version": PROTOCOL,
        },
    )
    await resp.prepare(request)
    transport = request.transport
    assert transport is not None
    feed = _Feed()
    request.protocol.set_parser(feed)  # type: ignore[arg-type]  # aiohttp's upgrade hook
    request.protocol.keep_alive(False)
    session = _Session(transport, feed)
    reader = asyncio.get_running_loop().create_task(session.read_frames())
    wanted = {"error"}
    wanted |= {name for name, on in (("stdin", stdin), ("stdout", stdout)) if on}
    wanted |= {"stderr"} if stderr and not tty else set()
    wanted |= {"resize"} if tty else set()
    try:
        await asyncio.wait_for(session.wait_streams(wanted), STREAM_CREATION_TIMEOUT_S)
        result = await run()
        out, err = (result.stdout, result.stderr) if result.runtime_error is None else ("", "")
        if tty:
            out, err = (out + err).replace("\n", "\r\n"), ""
        for name, text in (("stdout", out), ("stderr", err)):
            if name in session.streams:
                if text:
                    session.data(session.streams[name], text.encode())
                session.data(session.streams[name], b"", fin=True)
        errors = session.streams["error"]
        session.data(errors, status_bytes(result, command), fin=True)
        last = max(session.streams.values())
        session.control(_GOAWAY, struct.pack(">II", last, 0))
    except (TimeoutError, ConnectionResetError):
        pass
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
            await reader
    return resp
