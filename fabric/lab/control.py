"""The lab's control API: status, faults and shutdown of a running lab, for the CLI.

The server side is an aiohttp application on ``127.0.0.1`` (an ephemeral port, published as
``control_url`` in ``endpoints.json``), on the lab's own loop. Every request carries the token
from ``<lab_dir>/control.token`` (mode 0600) in ``X-Lab-Token``.

```
GET  /status                     {"endpoints": {...}, "faults": {host: {kind: params}}}
POST /fault   {"host", "kind", "params"}
POST /clear   {"host"?}
POST /shutdown
```
"""

from __future__ import annotations

import contextlib
import json
import secrets
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from fabric.errors import UsageError

TOKEN_HEADER = "X-Lab-Token"


class ControlTarget(Protocol):
    """What the control API drives (the runtime)."""

    endpoints: dict[str, Any]
    stop_requested: threading.Event

    async def afault(self, host: str, kind: str, params: dict[str, Any]) -> None:
        """Inject a fault."""

    async def aclear(self, host: str | None) -> None:
        """Clear faults."""

    def faults(self) -> dict[str, dict[str, Any]]:
        """Active faults by host."""


def control_app(target: ControlTarget, token: str) -> web.Application:
    """The control API application for ``target``, guarded by ``token``."""

    @web.middleware
    async def auth(request: web.Request, handler: Any) -> web.StreamResponse:
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
            return web.json_response({"error": "bad or missing control token"}, status=401)
        try:
            resp: web.StreamResponse = await handler(request)
        except UsageError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return resp

    async def status(request: web.Request) -> web.Response:
        return web.json_response({"endpoints": target.endpoints, "faults": target.faults()})

    async def fault(request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict) or "host" not in body or "kind" not in body:
            raise UsageError("fault needs host and kind")
        await target.afault(str(body["host"]), str(body["kind"]), dict(body.get("params") or {}))
        return web.json_response({"faults": target.faults()})

    async def clear(request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        host = body.get("host") if isinstance(body, dict) else None
        await target.aclear(str(host) if host else None)
        return web.json_response({"faults": target.faults()})

    async def shutdown(request: web.Request) -> web.Response:
        target.stop_requested.set()
        return web.json_response({"stopping": True})

    app = web.Application(middlewares=[auth])
    app.router.add_get("/status", status)
    app.router.add_post("/fault", fault)
    app.router.add_post("/clear", clear)
    app.router.add_post("/shutdown", shutdown)
    return app


class ControlClient:
    """Talks to a running lab's control API (used by ``python -m fabric lab ...``).

    Raises:
        UsageError: no lab runs for ``lab_dir``, or the lab rejected the request.
    """

    def __init__(self, lab_dir: Path) -> None:
        self.lab_dir = lab_dir
        try:
            self.endpoints: dict[str, Any] = json.loads(
                (lab_dir / "endpoints.json").read_text(encoding="utf-8")
            )
            self.token = (lab_dir / "control.token").read_text(encoding="utf-8").strip()
        except FileNotFoundError as exc:
            raise UsageError(
                f"no lab is running for {lab_dir} "
                "(start it with `python -m fabric lab up --detach`)"
            ) from exc
        self.url = str(self.endpoints["control_url"])

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        req = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={TOKEN_HEADER: self.token, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read().decode())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                detail = json.loads(detail).get("error", detail)
            raise UsageError(f"lab refused {path}: {detail}") from exc
        except OSError as exc:
            raise UsageError(
                f"the lab at {self.url} does not answer ({exc}); is it running?"
            ) from exc

    def status(self) -> dict[str, Any]:
        """Endpoints and active faults."""
        result: dict[str, Any] = self._request("GET", "/status")
        return result

    def fault(self, host: str, kind: str, **params: Any) -> dict[str, Any]:
        """Inject a fault; returns the active faults."""
        result: dict[str, Any] = self._request(
            "POST", "/fault", {"host": host, "kind": kind, "params": params}
        )
        return result

    def clear(self, host: str | None = None) -> dict[str, Any]:
        """Clear faults (of one host or all)."""
        result: dict[str, Any] = self._request("POST", "/clear", {"host": host})
        return result

    def shutdown(self) -> None:
        """Ask the lab process to stop."""
        self._request("POST", "/shutdown")
