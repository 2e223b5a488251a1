"""A simulated Arista EOS switch speaking eAPI (JSON-RPC ``runCmds`` at ``/command-api``).

The switch keeps running-config and startup-config (:mod:`fabric.lab.eos.config`), named
configuration sessions with EOS semantics (a session starts as a copy of running-config;
``rollback clean-config`` empties it; ``commit timer`` commits with a real timer that reverts
unless confirmed; one pending commit timer at a time), flash files for
``copy startup-config flash:rollback-0`` / ``configure replace flash:rollback-0``, and answers
``show`` commands from its config and from the BGP simulation (:attr:`EosSwitch.bgp_view`).

It is written against what NAPALM's ``eos`` driver and pyeapi send, unmodified: every command
they use is handled, replies have the shapes a real switch returns (including the pre-4.32
and 4.32+ ``show configuration sessions detail`` JSON), and errors are eAPI errors
(code 1002 ``invalid command`` with ``Invalid input (at token N: 'x')``, 1000 for a command
that was refused, 1003 for a command without JSON output).

Everything runs on one asyncio loop (the lab runtime's); nothing here blocks or locks.
State persists under ``state_dir`` so a restart keeps the committed configuration.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import difflib
import hashlib
import hmac
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aiohttp import web

from fabric.lab.eos import show
from fabric.lab.eos.commands import SHOW_RULES, match_show
from fabric.lab.eos.config import CliError, ConfigEditor, ConfigTree
from fabric.lab.eos.context import ShowContext
from fabric.lab.eos.grammar import Rule, match_rule
from fabric.lab.eos.reply import CommandFailed as _CommandFailed
from fabric.lab.eos.reply import not_modelled
from fabric.lab.eos.reply import refused as _refused
from fabric.lab.eos.reply import unconverted as _unconverted
from fabric.lab.model import SwitchBgpView, SwitchSnapshot

__all__ = ["EosFaults", "EosSwitch"]

MAX_OPEN_SESSIONS = 5
MAX_SAVED_SESSIONS = 1


@dataclass
class EosFaults:
    """Faults injected into the eAPI of one switch (``lab fault``)."""

    #: Seconds added before every eAPI reply.
    latency_s: float = 0.0
    #: Fail the Nth ``runCmds`` request from now (1 = the next one); counts down, then clears.
    fail_on_call: int | None = None
    #: ``http500``: an HTTP 500 without running anything; ``eapi``: a JSON-RPC error at the
    #: failing command (the commands before it have run, as on a real switch).
    fail_kind: Literal["http500", "eapi"] = "eapi"
    #: Count only requests with a command containing this text (e.g. ``"commit"``).
    fail_match: str | None = None
    #: The switch's data links are down (``lab fault SWITCH link-down``): its switched ports
    #: show ``notconnect``, an SVI without a live member goes down.
    link_down: bool = False


@dataclass
class _Session:
    name: str
    tree: ConfigTree
    state: str = "pending"  # pending | pendingCommitTimer | completed
    user: str = ""
    created: float = field(default_factory=time.time)
    completed_time: float | None = None
    commit_by: float | None = None
    checkpoint: str | None = None  # running-config body before a commit timer


# --------------------------------------------------------------------------- exec grammar

_EXEC: list[tuple[Rule, str]] = [
    (Rule(p), h)
    for p, h in [
        ("enable", "noop"),
        ("show version", "show_version"),
        ("show hostname", "show_hostname"),
        ("show running-config", "show_running"),
        ("show running-config all", "show_running"),
        ("show running-config sanitized", "show_running"),
        ("show running-config all sanitized", "show_running"),
        ("show running-config section <rest>", "show_section"),
        ("show startup-config", "show_startup"),
        ("show configuration sessions", "show_sessions"),
        ("show configuration sessions detail", "show_sessions"),
        ("show session-config named <word>", "show_session_config"),
        ("show session-config named <word> sanitized", "show_session_config"),
        ("show session-config named <word> diffs", "show_session_diffs"),
        ("show session-config", "show_session_config"),
        ("show session-config diffs", "show_session_diffs"),
        ("show ip bgp summary", "show_bgp_summary"),
        ("show ip bgp summary vrf <word>", "show_bgp_summary"),
        ("show ip route", "show_ip_route"),
        ("show ip route vrf <word>", "show_ip_route"),
        ("show ipv6 interface", "show_ipv6_interface"),
        ("show ipv6 interface brief", "show_ipv6_interface"),
        ("show ipv6 bgp summary", "show_ipv6_bgp_summary"),
        ("show ipv6 bgp summary vrf <word>", "show_ipv6_bgp_summary"),
        ("configure", "configure_terminal"),
        ("configure terminal", "configure_terminal"),
        ("configure session", "configure_session"),
        ("configure session <word>", "configure_session"),
        ("configure session <word> commit", "session_commit"),
        ("configure session <word> commit timer <hms>", "session_commit"),
        ("configure session <word> abort", "session_abort"),
        ("configure replace <word>", "configure_replace"),
        ("configure replace <word> ignore-errors", "configure_replace"),
        ("copy <word> <word>", "copy"),
        ("write", "write_memory"),
        ("write memory", "write_memory"),
    ]
]
#: Commands only valid inside a config mode (besides config lines).
_CONFIG_ONLY: list[tuple[Rule, str]] = [
    (Rule(p), h)
    for p, h in [
        ("end", "end"),
        ("exit", "exit"),
        ("commit", "commit_here"),
        ("commit timer <hms>", "commit_here"),
        ("abort", "abort_here"),
        ("rollback clean-config", "clean_config"),
        ("comment", "noop"),
    ]
]
_SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _match_exec(table: list[tuple[Rule, str]], tokens: list[str]) -> tuple[str, list[str]] | None:
    for rule, handler in table:
        m = match_rule(rule, tokens)
        if m.ok:
            return handler, m.tokens
    return None


def _exec_error(tokens: list[str]) -> str:
    best = 0
    incomplete = False
    rules = [r for r, _ in _EXEC + _CONFIG_ONLY] + [r for r, _ in SHOW_RULES]
    for rule in rules:
        m = match_rule(rule, tokens)
        if m.matched > best or (m.matched == best and m.incomplete):
            best, incomplete = m.matched, m.incomplete and m.matched == len(tokens)
    if incomplete:
        return "Incomplete command"
    i = min(best, len(tokens) - 1)
    return f"Invalid input (at token {i}: '{tokens[i]}')"


def _hms_seconds(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def _fake_secret(username: str, password: str) -> str:
    """A sha512-crypt-shaped, one-way stand-in for the ``username ... secret`` line."""
    salt = hashlib.sha256(f"salt:{username}".encode()).hexdigest()[:16]
    digest = hashlib.sha512(f"{salt}:{password}".encode()).digest()
    return f"$6${salt}${base64.b64encode(digest).decode().rstrip('=')}"


# --------------------------------------------------------------------------- the switch


class EosSwitch:
    """One simulated EOS switch: state, CLI semantics and the eAPI web application."""

    def __init__(
        self,
        name: str,
        *,
        eos_version: str,
        hostname: str,
        state_dir: Path,
        username: str,
        password: str,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        """Create (or reload from ``state_dir``) a switch.

        Args:
            name: inventory name (``! device:`` header until a ``hostname`` is configured).
            eos_version: the version the switch claims (``4.30.3M``); picks output layouts.
            hostname: hostname of the factory configuration.
            state_dir: where running/startup config, flash files and sessions persist.
            username: eAPI user (basic auth).
            password: eAPI password (basic auth); never printed or logged.
            on_change: called after every change of the running-config.
        """
        self.name = name
        self.eos_version = eos_version
        self.default_hostname = hostname
        self.state_dir = Path(state_dir)
        self._username = username
        self._password = password
        self.on_change = on_change
        self.faults = EosFaults()
        self.bgp_view: Callable[[], SwitchBgpView] = lambda: SwitchBgpView(
            router_id=None, local_as=None
        )
        self.booted = time.time()
        self._sessions: dict[str, _Session] = {}
        self._files: dict[str, str] = {}
        self._snapshot: SwitchSnapshot | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._session_counter = 0
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._running = ConfigTree()
        self._startup_body = ""
        if not self._load_state():
            self._running = ConfigTree.from_text(self._factory_config())
            self._startup_body = self._body(self._running)
            self._save_state()
        self._notified_body = self._body(self._running)
        self._expire_overdue()

    # ------------------------------------------------------------------ public state

    @property
    def running_config(self) -> str:
        """``show running-config`` as text."""
        return self._render(self._running, "show running-config")

    @property
    def startup_config(self) -> str:
        """``show startup-config`` as text."""
        tree = ConfigTree.from_text(self._startup_body)
        return self._render(tree, "show startup-config")

    def snapshot(self) -> SwitchSnapshot:
        """The parsed running-config for the simulation (cached until it changes)."""
        if self._snapshot is None:
            self._snapshot = self._running.snapshot(
                self.name, self.eos_version, self.default_hostname
            )
        return self._snapshot

    def load_config(self, text: str) -> None:
        """Replace running- and startup-config with ``text`` (seeding, tests)."""
        self._running = ConfigTree.from_text(text)
        self._startup_body = self._body(self._running)
        self._changed()

    def close(self) -> None:
        """Cancel the commit-confirm timer (the pending state stays persisted)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def app(self) -> web.Application:
        """The eAPI web application: ``POST /command-api``, and ``GET``/``HEAD`` on it.

        ``HEAD /command-api`` is ANTA's reachability check (asynceapi ``check_api_endpoint``,
        ANTA 1.x): a 2xx status with valid credentials, 401 without, as ANTA's own test
        fixtures model a reachable and an unauthorised device (``tests/conftest.py``). What EOS
        puts in a ``GET`` body is not published; the lab answers an empty body.
        """
        application = web.Application()
        application.router.add_post("/command-api", self._handle)
        # aiohttp answers HEAD from the GET route (same status and headers, no body).
        application.router.add_get("/command-api", self._probe)

        async def arm(_: web.Application) -> None:
            self._ensure_timer()

        application.on_startup.append(arm)
        return application

    # ------------------------------------------------------------------ rendering

    @property
    def hostname(self) -> str:
        """The configured hostname."""
        return self._running.hostname() or self.default_hostname

    def _old_syntax(self) -> bool:
        return show.version_tuple(self.eos_version) < (4, 23)

    def _body(self, tree: ConfigTree) -> str:
        return "\n".join(tree.body_lines(old_peer_group=self._old_syntax())) + "\n"

    def _render(self, tree: ConfigTree, command: str) -> str:
        host = tree.hostname() or self.default_hostname
        header = [
            f"! Command: {command}",
            f"! device: {host} (vEOS-lab, EOS-{self.eos_version})",
            "!",
            "! boot system flash:/vEOS-lab.swi",
            "!",
        ]
        lines = header + tree.body_lines(old_peer_group=self._old_syntax()) + ["end"]
        return "\n".join(lines) + "\n"

    def _factory_config(self) -> str:
        secret = _fake_secret(self._username, self._password)
        return (
            "no aaa root\n!\n"
            f"username {self._username} privilege 15 role network-admin secret sha512 {secret}\n!\n"
            "transceiver qsfp default-mode 4x10G\n!\n"
            "service routing protocols model multi-agent\n!\n"
            f"hostname {self.default_hostname}\n!\n"
            "spanning-tree mode mstp\n!\n"
            "management api http-commands\n   no shutdown\n!\n"
        )

    # ------------------------------------------------------------------ persistence

    def _paths(self) -> dict[str, Path]:
        d = self.state_dir
        return {
            "running": d / "running-config",
            "startup": d / "startup-config",
            "files": d / "flash.json",
            "sessions": d / "sessions.json",
        }

    @staticmethod
    def _write(path: Path, text: str) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)

    def _save_state(self) -> None:
        p = self._paths()
        self._write(p["running"], self._body(self._running))
        self._write(p["startup"], self._startup_body)
        self._write(p["files"], json.dumps(self._files, indent=1, sort_keys=True))
        sessions = {
            name: {
                "state": s.state,
                "user": s.user,
                "created": s.created,
                "completed_time": s.completed_time,
                "commit_by": s.commit_by,
                "checkpoint": s.checkpoint,
                "config": self._body(s.tree),
            }
            for name, s in self._sessions.items()
        }
        self._write(
            p["sessions"],
            json.dumps({"counter": self._session_counter, "sessions": sessions}, indent=1),
        )

    def _load_state(self) -> bool:
        p = self._paths()
        if not p["running"].exists():
            return False
        self._running = ConfigTree.from_text(p["running"].read_text(encoding="utf-8"))
        if p["startup"].exists():
            self._startup_body = p["startup"].read_text(encoding="utf-8")
        if p["files"].exists():
            self._files = dict(json.loads(p["files"].read_text(encoding="utf-8")))
        if p["sessions"].exists():
            data = json.loads(p["sessions"].read_text(encoding="utf-8"))
            self._session_counter = int(data.get("counter", 0))
            for name, s in data.get("sessions", {}).items():
                self._sessions[name] = _Session(
                    name=name,
                    tree=ConfigTree.from_text(s["config"]),
                    state=s["state"],
                    user=s.get("user", ""),
                    created=s.get("created", time.time()),
                    completed_time=s.get("completed_time"),
                    commit_by=s.get("commit_by"),
                    checkpoint=s.get("checkpoint"),
                )
        return True

    def _changed(self) -> None:
        """The running-config changed: drop caches, persist, tell the runtime."""
        self._snapshot = None
        self._notified_body = self._body(self._running)
        self._save_state()
        self.on_change()

    # ------------------------------------------------------------------ commit timer

    def _pending_timer_session(self) -> _Session | None:
        for s in self._sessions.values():
            if s.state == "pendingCommitTimer":
                return s
        return None

    def _expire_overdue(self) -> None:
        s = self._pending_timer_session()
        if s is not None and s.commit_by is not None and s.commit_by <= time.time():
            self._revert(s)

    def _ensure_timer(self) -> None:
        s = self._pending_timer_session()
        if s is None or self._timer is not None or s.commit_by is None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(0.0, s.commit_by - time.time()), self._expire, s.name)

    def _expire(self, name: str) -> None:
        self._timer = None
        s = self._sessions.get(name)
        if s is not None and s.state == "pendingCommitTimer":
            self._revert(s)

    def _revert(self, s: _Session) -> None:
        """Undo a commit-timer commit: back to the checkpoint, the session is gone."""
        if s.checkpoint is not None:
            self._running = ConfigTree.from_text(s.checkpoint)
        self._sessions.pop(s.name, None)
        self.close()
        self._changed()

    # ------------------------------------------------------------------ sessions

    def _session(self, name: str, *, create: bool, user: str) -> _Session:
        s = self._sessions.get(name)
        if s is not None:
            if s.state == "completed":
                raise _refused(f"Cannot enter session {name} (session already completed)")
            return s
        if not create:
            raise _refused(f"Session {name} does not exist")
        if not _SESSION_NAME_RE.match(name):
            raise _refused(f"Invalid session name {name}")
        open_count = sum(1 for x in self._sessions.values() if x.state == "pending")
        if open_count >= MAX_OPEN_SESSIONS:
            raise _refused("Maximum number of pending sessions has been reached")
        s = _Session(name=name, tree=self._running.copy(), user=user)
        self._sessions[name] = s
        return s

    def _commit(self, s: _Session, timer: str | None) -> None:
        pending = self._pending_timer_session()
        if pending is not None and pending is not s:
            raise _refused(
                f"Cannot commit session {s.name}: session {pending.name} has a pending commit timer"
            )
        now = time.time()
        if s.state == "pendingCommitTimer":
            if timer is None:  # the confirmation
                s.state, s.commit_by, s.checkpoint = "completed", None, None
                s.completed_time = now
                self.close()
                self._prune_completed(keep=s.name)
                self._save_state()
                return
            s.commit_by = now + _hms_seconds(timer)
            self.close()
            self._ensure_timer()
            self._save_state()
            return
        if s.state != "pending":
            raise _refused(f"Cannot commit session {s.name} (session already completed)")
        checkpoint = self._body(self._running)
        self._running = s.tree.copy()
        s.completed_time = now
        if timer is not None:
            seconds = _hms_seconds(timer)
            if seconds <= 0:
                raise _refused("Invalid commit timer")
            s.state, s.commit_by, s.checkpoint = "pendingCommitTimer", now + seconds, checkpoint
            self._ensure_timer()
        else:
            s.state = "completed"
            self._prune_completed(keep=s.name)
        self._changed()

    def _prune_completed(self, keep: str) -> None:
        completed = sorted(
            (x for x in self._sessions.values() if x.state == "completed" and x.name != keep),
            key=lambda x: x.completed_time or 0.0,
        )
        excess = len(completed) + 1 - MAX_SAVED_SESSIONS
        for x in completed[: max(0, excess)]:
            del self._sessions[x.name]

    def _abort(self, s: _Session) -> None:
        if s.state == "pendingCommitTimer":
            self._revert(s)
            return
        if s.state == "completed":
            raise _refused(f"Cannot abort session {s.name} (session already completed)")
        del self._sessions[s.name]
        self._save_state()

    def _diff(self, s: _Session) -> str:
        old = self._render(self._running, "show running-config").splitlines()
        new = self._render(s.tree, "show running-config").splitlines()
        lines = list(
            difflib.unified_diff(
                old,
                new,
                fromfile="system:/running-config",
                tofile=f"session:/{s.name}-session-config",
                lineterm="",
            )
        )
        return "\n".join(lines) + "\n" if lines else ""

    def _sessions_json(self, detail: bool) -> dict[str, Any]:
        new_shape = show.version_tuple(self.eos_version) >= (4, 32)
        sessions: dict[str, Any] = {}
        for s in self._sessions.values():
            entry: dict[str, Any] = {"state": s.state, "description": "", "instances": {}}
            if s.state == "pendingCommitTimer" and new_shape:
                entry["state"] = "committed"
            if s.completed_time is not None:
                entry["completedTime"] = s.completed_time
                entry["commitUser"] = s.user
            if s.state == "pendingCommitTimer" and not new_shape:
                entry["commitBy"] = s.commit_by
            if not detail:
                entry.pop("instances")
            sessions[s.name] = entry
        out: dict[str, Any] = {
            "sessions": sessions,
            "maxSavedSessions": MAX_SAVED_SESSIONS,
            "maxOpenSessions": MAX_OPEN_SESSIONS,
            "mergeOnCommit": False,
            "saveToStartupConfigOnCommit": False,
        }
        pending = self._pending_timer_session()
        if new_shape and pending is not None:
            out["commitTimerSessionName"] = pending.name
            out["commitTimerExpireTime"] = pending.commit_by
        return out

    def _sessions_text(self) -> str:
        rows = [
            f"Maximum number of completed sessions: {MAX_SAVED_SESSIONS}",
            f"Maximum number of pending sessions: {MAX_OPEN_SESSIONS}",
            "",
        ]
        if self._sessions:
            width = max(10, *(len(n) for n in self._sessions))
            rows.append(f"  {'Name':<{width}} {'State':<19} User")
            rows.append(f"  {'-' * width} {'-' * 19} {'-' * 8}")
            for s in self._sessions.values():
                rows.append(f"  {s.name:<{width}} {s.state:<19} {s.user}".rstrip())
        return "\n".join(rows) + "\n"

    # ------------------------------------------------------------------ eAPI

    def _authorized(self, request: web.Request) -> str | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return None
        try:
            user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        ok_user = hmac.compare_digest(user.encode(), self._username.encode())
        ok_pw = hmac.compare_digest(pw.encode(), self._password.encode())
        return user if ok_user and ok_pw else None

    @staticmethod
    def _unauthorized() -> web.Response:
        return web.Response(
            status=401,
            text="Unauthorized",
            headers={"WWW-Authenticate": 'Basic realm="eAPI"'},
        )

    async def _probe(self, request: web.Request) -> web.StreamResponse:
        """``GET``/``HEAD /command-api``: 200 once authenticated (faults apply as to POST)."""
        if self._authorized(request) is None:
            return self._unauthorized()
        if self.faults.latency_s > 0:
            await asyncio.sleep(self.faults.latency_s)
        return web.Response(status=200, content_type="application/json")

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        user = self._authorized(request)
        if user is None:
            return self._unauthorized()
        try:
            body = json.loads(await request.text())
        except ValueError:
            return _rpc_error(None, -32700, "Parse error")
        if not isinstance(body, dict):
            return _rpc_error(None, -32600, "Invalid Request")
        req_id = body.get("id")
        if body.get("method") != "runCmds":
            return _rpc_error(req_id, -32601, "Method not found")
        params = body.get("params") or {}
        cmds = params.get("cmds")
        fmt = params.get("format") or "json"
        if not isinstance(cmds, list) or fmt not in ("json", "text"):
            return _rpc_error(req_id, -32602, "Invalid params")
        commands: list[tuple[str, str | None]] = []
        for c in cmds:
            if isinstance(c, dict) and isinstance(c.get("cmd"), str):
                commands.append((c["cmd"], c.get("input")))
            elif isinstance(c, str):
                commands.append((c, None))
            else:
                return _rpc_error(req_id, -32602, "Invalid params")

        self._ensure_timer()
        faults = self.faults
        if faults.latency_s > 0:
            await asyncio.sleep(faults.latency_s)
        fail_at: int | None = None
        if faults.fail_on_call is not None and (
            faults.fail_match is None or any(faults.fail_match in c for c, _ in commands)
        ):
            if faults.fail_on_call <= 1:
                faults.fail_on_call = None
                if faults.fail_kind == "http500":
                    return web.Response(status=500, text="Internal Server Error")
                fail_at = next(
                    (
                        i
                        for i, (c, _) in enumerate(commands)
                        if (faults.fail_match or "") in c and c.strip() != "enable"
                    ),
                    len(commands) - 1,
                )
            else:
                faults.fail_on_call -= 1

        cli = _Cli(self, user)
        results: list[Any] = []
        try:
            for i, (cmd, data) in enumerate(commands):
                if i == fail_at:
                    raise _CommandFailed(
                        1000, "could not run command", ["lab fault: simulated eAPI failure"]
                    )
                results.append(cli.run(cmd, data, fmt))
        except _CommandFailed as exc:
            n = len(results) + 1
            error_entry: dict[str, Any] = {"errors": exc.errors}
            if fmt == "text":
                error_entry["output"] = "".join(f"% {e}\n" for e in exc.errors)
            message = f"CLI command {n} of {len(commands)} '{commands[n - 1][0]}' failed: "
            message += exc.reason
            self._finish_request(cli.dirty)
            return web.json_response(
                {
                    "jsonrpc": "2.0",
                    "id": req_id,
                    "error": {
                        "code": exc.code,
                        "message": message,
                        "data": [*results, error_entry],
                    },
                }
            )
        self._finish_request(cli.dirty)
        return web.json_response({"jsonrpc": "2.0", "id": req_id, "result": results})

    def _finish_request(self, dirty: bool) -> None:
        """Persist, and tell the runtime if the running-config changed during the request."""
        if not dirty:
            return
        if self._body(self._running) != self._notified_body:
            self._changed()
        else:
            self._save_state()


def _rpc_error(req_id: Any, code: int, message: str) -> web.Response:
    return web.json_response(
        {"jsonrpc": "2.0", "id": req_id, "error": {"code": code, "message": message}}
    )


# --------------------------------------------------------------------------- one request's CLI


class _Cli:
    """The CLI state of one eAPI request: exec mode, or a config mode (session or terminal)."""

    def __init__(self, switch: EosSwitch, user: str) -> None:
        self.sw = switch
        self.user = user
        self.editor: ConfigEditor | None = None
        self.session: _Session | None = None  # None with an editor: configure terminal
        #: Whether a command may have changed persisted state (anything but show/enable).
        self.dirty = False

    def run(self, cmd: str, data: str | None, fmt: str) -> Any:
        """Run one command; the eAPI result entry for it."""
        if "|" in cmd and cmd.split()[:1] == ["show"]:
            return self._run_piped(cmd, data, fmt)
        tokens = cmd.split()
        if not tokens:
            return {} if fmt == "json" else {"output": ""}
        if tokens[0] not in ("show", "enable"):
            self.dirty = True
        result = self._run(tokens, cmd, data, fmt)
        if isinstance(result, str):
            return {"output": result} if fmt == "text" else {}
        if fmt == "text":
            text = result.pop("\0text", None)
            return {"output": text if text is not None else ""}
        result.pop("\0text", None)
        return result

    def _run_piped(self, cmd: str, data: str | None, fmt: str) -> Any:
        """``show ... | include|exclude|begin|section REGEX`` (text only, as eAPI allows)."""
        base, *pipes = (part.strip() for part in cmd.split("|"))
        tokens = base.split()
        filters: list[tuple[str, str]] = []
        for pipe in pipes:
            word, _, arg = pipe.partition(" ")
            if word not in ("include", "exclude", "begin", "section") or not arg.strip():
                error = f"Invalid input (at token {len(tokens) + 1}: '{word}')"
                raise _CommandFailed(1002, "invalid command", [error])
            filters.append((word, arg.strip()))
        if fmt == "json":
            raise _unconverted()
        text = self.run(base, data, "text")["output"]
        for word, arg in filters:
            try:
                text = show.pipe_filter(text, word, arg)
            except re.error as exc:
                raise _CommandFailed(1002, "invalid command", [f"Invalid regex: {exc}"]) from exc
        return {"output": text}

    def _run(self, tokens: list[str], cmd: str, data: str | None, fmt: str) -> Any:
        found = _match_exec(_EXEC, tokens)
        if found is None and tokens[0].lower() == "show":
            shown = match_show(tokens)
            if shown is not None:
                return self._show(*shown, fmt)
        if found is None and self.editor is not None:
            found = _match_exec(_CONFIG_ONLY, tokens)
            if found is None:
                if tokens[0] == "banner" or cmd.strip().startswith("!"):
                    return ""
                try:
                    self.editor.apply(cmd)
                except CliError as exc:
                    code = 1002 if exc.invalid else 1000
                    reason = "invalid command" if exc.invalid else "could not run command"
                    raise _CommandFailed(code, reason, [exc.message]) from exc
                return ""
        if found is None:
            raise _CommandFailed(1002, "invalid command", [_exec_error(tokens)])
        handler, t = found
        return getattr(self, f"_h_{handler}")(t, data, fmt)

    # -- helpers

    def _context(self) -> ShowContext:
        sw = self.sw
        return ShowContext(
            name=sw.name,
            eos_version=sw.eos_version,
            booted=sw.booted,
            now=time.time(),
            config=sw._running,
            snapshot=sw.snapshot(),
            get_startup_body=lambda: sw._startup_body,
            get_running_body=lambda: sw._body(sw._running),
            get_view=sw.bgp_view,
            link_down=sw.faults.link_down,
        )

    def _show(self, handler: Any, tokens: list[str], fmt: str) -> Any:
        """A command of :mod:`fabric.lab.eos.commands`: its JSON, or its text as a string."""
        reply = handler(self._context(), tokens)
        if fmt == "json":
            if reply.json is None:
                raise _unconverted()
            return dict(reply.json)
        if reply.text is None:
            raise not_modelled("text")
        return str(reply.text)

    def _enter(self, tree: ConfigTree, session: _Session | None) -> None:
        self.editor = ConfigEditor(tree)
        self.session = session

    def _need_session(self) -> _Session:
        if self.session is None:
            raise _CommandFailed(1002, "invalid command", ["Not in a configuration session"])
        return self.session

    # -- handlers (exec)

    def _h_noop(self, t: list[str], data: str | None, fmt: str) -> Any:
        return {}

    def _h_show_version(self, t: list[str], data: str | None, fmt: str) -> Any:
        out = show.version_json(self.sw.name, self.sw.eos_version, self.sw.booted, time.time())
        if fmt == "text":
            return show.version_text(out)
        return out

    def _h_show_hostname(self, t: list[str], data: str | None, fmt: str) -> Any:
        host = self.sw.hostname
        return {**show.hostname_json(host), "\0text": f"Hostname: {host}\nFQDN:     {host}\n"}

    def _h_show_running(self, t: list[str], data: str | None, fmt: str) -> Any:
        text = self.sw._render(self.sw._running, " ".join(t))
        if fmt == "text":
            return _sanitize(text) if "sanitized" in t else text
        return {
            **self.sw._running.to_json(),
            "header": [
                f"! device: {self.sw.hostname} (vEOS-lab, EOS-{self.sw.eos_version})",
                "! boot system flash:/vEOS-lab.swi",
            ],
        }

    def _h_show_section(self, t: list[str], data: str | None, fmt: str) -> Any:
        pattern = " ".join(t[3:])
        try:
            lines = self.sw._running.section(pattern)
        except re.error as exc:
            raise _CommandFailed(1002, "invalid command", [f"Invalid regex: {exc}"]) from exc
        if fmt == "json":
            raise _unconverted()
        return "\n".join(lines) + ("\n" if lines else "")

    def _h_show_startup(self, t: list[str], data: str | None, fmt: str) -> Any:
        if fmt == "json":
            return ConfigTree.from_text(self.sw._startup_body).to_json()
        return self.sw.startup_config

    def _h_show_sessions(self, t: list[str], data: str | None, fmt: str) -> Any:
        if fmt == "text":
            return self.sw._sessions_text()
        return self.sw._sessions_json(detail=t[-1] == "detail")

    def _named_session(self, t: list[str]) -> _Session:
        if len(t) >= 3 and t[1] == "session-config" and t[2] == "named":
            s = self.sw._sessions.get(t[3])
            if s is None:
                raise _refused(f"Session {t[3]} does not exist")
            return s
        return self._need_session()

    def _h_show_session_config(self, t: list[str], data: str | None, fmt: str) -> Any:
        s = self._named_session(t)
        if fmt == "json":
            return s.tree.to_json()
        return self.sw._render(s.tree, " ".join(t))

    def _h_show_session_diffs(self, t: list[str], data: str | None, fmt: str) -> Any:
        s = self._named_session(t)
        if fmt == "json":
            raise _unconverted()
        return self.sw._diff(s)

    def _h_show_bgp_summary(self, t: list[str], data: str | None, fmt: str) -> Any:
        vrf = t[5] if len(t) > 5 else "default"
        snap, view = self.sw.snapshot(), self.sw.bgp_view()
        if fmt == "json":
            return show.bgp_summary_json(snap, view, self.sw.booted, vrf)
        return show.bgp_summary_text(snap, view, self.sw.booted, vrf, time.time())

    def _h_show_ip_route(self, t: list[str], data: str | None, fmt: str) -> Any:
        vrf = t[4] if len(t) > 4 else "default"
        tree, snap, view = self.sw._running, self.sw.snapshot(), self.sw.bgp_view()
        if fmt == "json":
            return show.route_json(tree, snap, view, vrf)
        return show.route_text(tree, snap, view, vrf)

    def _h_show_ipv6_interface(self, t: list[str], data: str | None, fmt: str) -> Any:
        # IPv6 is not modelled: no interface has an IPv6 address
        raise _CommandFailed(1000, "could not run command", ["No IPv6 configured interfaces"])

    def _h_show_ipv6_bgp_summary(self, t: list[str], data: str | None, fmt: str) -> Any:
        vrf = t[5] if len(t) > 5 else "default"
        snap, view = self.sw.snapshot(), self.sw.bgp_view()
        if fmt == "json":
            return show.ipv6_bgp_summary_json(snap, view, vrf)
        return show.ipv6_bgp_summary_text(snap, view, vrf)

    def _h_configure_terminal(self, t: list[str], data: str | None, fmt: str) -> Any:
        self._enter(self.sw._running, None)
        return {}

    def _h_configure_session(self, t: list[str], data: str | None, fmt: str) -> Any:
        if len(t) > 2:
            name = t[2]
        else:
            self.sw._session_counter += 1
            name = f"session{self.sw._session_counter}"
        s = self.sw._session(name, create=True, user=self.user)
        self._enter(s.tree, s)
        if data is not None:  # the whole configuration as the command's input
            for line in data.splitlines():
                if line.strip():
                    self._run(line.split(), line, None, fmt)
        return {}

    def _h_session_commit(self, t: list[str], data: str | None, fmt: str) -> Any:
        s = self.sw._session(t[2], create=False, user=self.user)
        self.sw._commit(s, t[5] if len(t) > 5 else None)
        if self.session is s:
            self.editor, self.session = None, None
        return {}

    def _h_session_abort(self, t: list[str], data: str | None, fmt: str) -> Any:
        s = self.sw._sessions.get(t[2])
        if s is None:
            raise _refused(f"Session {t[2]} does not exist")
        self.sw._abort(s)
        if self.session is s:
            self.editor, self.session = None, None
        return {}

    def _h_configure_replace(self, t: list[str], data: str | None, fmt: str) -> Any:
        source = t[2]
        if source == "startup-config":
            text = self.sw._startup_body
        elif source in self.sw._files:
            text = self.sw._files[source]
        else:
            raise _refused(f"Error opening {source} (No such file or directory)")
        self.sw._running = ConfigTree.from_text(text)
        self.sw._snapshot = None
        return {}

    def _h_copy(self, t: list[str], data: str | None, fmt: str) -> Any:
        src, dst = t[1], t[2]
        sw = self.sw
        if src == "running-config":
            text = sw._body(sw._running)
        elif src == "startup-config":
            text = sw._startup_body
        elif src in sw._files:
            text = sw._files[src]
        else:
            raise _refused(f"Error opening {src} (No such file or directory)")
        if dst == "startup-config":
            sw._startup_body = text
        elif dst == "running-config":
            editor = ConfigEditor(sw._running)
            for line in ConfigTree.from_text(text).body_lines():
                if line.strip() and not line.strip().startswith("!"):
                    with contextlib.suppress(CliError):
                        editor.apply(line)
        elif re.match(r"^(flash|file):\S+$", dst):
            sw._files[dst] = text
        else:
            raise _CommandFailed(1002, "invalid command", [f"Invalid input (at token 2: '{dst}')"])
        return {
            "messages": ["Copy completed successfully."],
            "\0text": "Copy completed successfully.\n",
        }

    def _h_write_memory(self, t: list[str], data: str | None, fmt: str) -> Any:
        self.sw._startup_body = self.sw._body(self.sw._running)
        return {
            "messages": ["Copy completed successfully."],
            "\0text": "Copy completed successfully.\n",
        }

    # -- handlers (config mode)

    def _h_end(self, t: list[str], data: str | None, fmt: str) -> Any:
        self.editor, self.session = None, None
        return {}

    def _h_exit(self, t: list[str], data: str | None, fmt: str) -> Any:
        assert self.editor is not None
        if not self.editor.exit():
            self.editor, self.session = None, None
        return {}

    def _h_commit_here(self, t: list[str], data: str | None, fmt: str) -> Any:
        s = self._need_session()
        self.sw._commit(s, t[2] if len(t) > 2 else None)
        self.editor, self.session = None, None
        return {}

    def _h_abort_here(self, t: list[str], data: str | None, fmt: str) -> Any:
        s = self._need_session()
        self.sw._abort(s)
        self.editor, self.session = None, None
        return {}

    def _h_clean_config(self, t: list[str], data: str | None, fmt: str) -> Any:
        s = self._need_session()
        s.tree = ConfigTree()
        self._enter(s.tree, s)
        return {}


_SECRET_RE = re.compile(r"(?m)^(\s*(?:username \S+ .*?secret|neighbor \S+ password)(?: \S+)?) \S+$")


def _sanitize(text: str) -> str:
    """``show running-config sanitized``: secrets and passwords replaced by ``<removed>``."""
    return _SECRET_RE.sub(r"\1 <removed>", text)
