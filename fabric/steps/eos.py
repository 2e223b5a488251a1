"""Arista EOS over NAPALM: config sessions, commit-confirm, abort by name, restore a snapshot.

Pure helpers (no device):

* :func:`splice_managed_sections` builds a *replace* candidate: the device's running-config
  with the top-level blocks fabric manages swapped for the rendered ones, so a replace never
  drops what fabric does not manage (``username``, ``management api``, other interfaces ...).
* :func:`mask_secrets` hides passwords and secrets in anything printed or stored as a diff.

Nornir task functions (one switch each, ``host.get_connection("napalm", ...)``):
:func:`eos_prepare_session`, :func:`eos_commit`, :func:`eos_confirm`, :func:`eos_abort_session`,
:func:`eos_discard_session`, :func:`eos_restore`, :func:`eos_get_running`. Sessions are named
by the caller (one name per run, stored in the state database), so any process can confirm or
abort them later.

Round trips: NAPALM opens the connection (``show version``); the session steps then talk eAPI
through the driver's ``device`` with the commands batched per request (NAPALM's own methods
add a session-lock request, a two-request pending-commit check before every commit and
confirm, and one request per step). A deploy costs a switch 1 (open) + 2 (plan) + 1 (commit)
+ 1 per gate poll + 2 (confirm) requests, over one kept-alive connection
(:func:`fabric.adapters.eapi.configure_napalm_tls`). The driver's ``config_session`` is never
set, so NAPALM's ``close()`` cannot abort a pending commit-confirm behind the caller's back.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nornir.core.task import Result

from fabric.adapters.eapi import run_eapi
from fabric.adapters.napalm_eos import session_commands
from fabric.errors import RunFailedError

if TYPE_CHECKING:
    from nornir.core.task import Task

Mode = Literal["replace", "merge"]

_SECRET_RE = re.compile(
    r"(?P<key>\b(?:password|secret|key|community)\b(?:\s+(?:sha512|md5|0|5|7|8a))?\s+)(?P<val>\S+)",
    re.IGNORECASE,
)


def session_name(run_id: str) -> str:
    """The EOS config session of a run (letters, digits and ``_`` only).

    >>> session_name("20261126-100000-abc123")
    'fabric_20261126_100000_abc123'
    """
    return "fabric_" + run_id.replace("-", "_")


def mask_secrets(text: str) -> str:
    """Replace the value after ``password``/``secret``/``key`` (and its encryption type) by stars.

    >>> mask_secrets("   neighbor 10.0.0.1 password 7 AbC==")
    '   neighbor 10.0.0.1 password 7 *****'
    >>> mask_secrets("username admin secret sha512 $6$x")
    'username admin secret sha512 *****'
    """
    return _SECRET_RE.sub(lambda m: f"{m.group('key')}*****", text)


# --------------------------------------------------------------------------- splice


def split_blocks(text: str) -> list[list[str]]:
    """Top-level blocks of an EOS config: a header line and its indented lines.

    ``!`` separator and comment lines at the top level, blank lines and ``end`` are dropped;
    indented ``!`` lines inside a block are kept (they separate sub-blocks).
    """
    blocks: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            if line.startswith("!") or line == "end":
                continue
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    return blocks


def _block_key(header: str, managed_vrfs: set[str]) -> str | None:
    """The identity of a managed top-level block, None when fabric does not manage it.

    A negated line (``no ip routing``) has the identity of the line it negates.
    """
    words = header.split()
    if words[:1] == ["no"]:
        words = words[1:]
        header = " ".join(words)
    if words[:2] == ["router", "bgp"]:
        return "router bgp"
    if words[:1] == ["vlan"] or words[:2] == ["vrf", "instance"] or words[:1] == ["interface"]:
        return header.strip()
    if words[:2] == ["ip", "routing"]:
        # "ip routing" and "ip routing vrf V" of a managed VRF
        if len(words) == 2 or (len(words) >= 4 and words[2] == "vrf" and words[3] in managed_vrfs):
            return header.strip()
        return None
    if words[:3] == ["ip", "route", "vrf"] and len(words) > 3 and words[3] in managed_vrfs:
        return f"ip route vrf {words[3]}"
    return None


def splice_managed_sections(running: str, rendered: str) -> str:
    r"""A replace candidate: ``running`` with its managed top-level blocks swapped for ``rendered``.

    Managed blocks are those the rendered config contains: its ``vlan N``, ``vrf instance V``
    and ``interface X`` blocks, ``ip routing`` lines, every ``router bgp`` block, and every
    ``ip route vrf V`` line of a VRF the rendered config defines. Running blocks with the same
    identity are dropped (wherever they are); the rendered blocks take the place of the first
    one; everything else is kept verbatim and in order.

    >>> run = "hostname sw\nusername a secret x\n!\nrouter bgp 1\n   bgp log\n!\nend\n"
    >>> print(splice_managed_sections(run, "router bgp 2\n   router-id 9.9.9.9\n!\n"), end="")
    hostname sw
    !
    username a secret x
    !
    router bgp 2
       router-id 9.9.9.9
    !
    """
    new_blocks = split_blocks(rendered)
    vrfs = {b[0].split()[2] for b in new_blocks if b[0].split()[:2] == ["vrf", "instance"]}
    managed = {_block_key(b[0], vrfs) for b in new_blocks} - {None}
    # A VRF the rendered config defines owns its static routes, rendered or not.
    managed |= {f"ip route vrf {v}" for v in vrfs} | {"router bgp"}
    out: list[str] = []
    inserted = False
    for block in split_blocks(running):
        key = _block_key(block[0], vrfs)
        if key is not None and key in managed:
            if not inserted:
                for nb in new_blocks:
                    out.extend(nb)
                    out.append("!")
                inserted = True
            continue
        out.extend(block)
        out.append("!")
    if not inserted:
        for nb in new_blocks:
            out.extend(nb)
            out.append("!")
    return "\n".join(out) + "\n"


def config_diff(before: str, after: str, before_name: str, after_name: str) -> str:
    """Unified diff of two configs with secrets masked (for printing and the state DB)."""
    lines = difflib.unified_diff(
        mask_secrets(before).splitlines(),
        mask_secrets(after).splitlines(),
        before_name,
        after_name,
        lineterm="",
    )
    return "\n".join(lines)


# --------------------------------------------------------------------------- tasks


@dataclass
class SwitchPlan:
    """What a switch would get: its running-config (exact), the candidate and the diff."""

    running: str
    candidate: str
    diff: str
    session: str | None
    """The open session holding the candidate (None after a dry-run or when nothing changes)."""

    @property
    def changed(self) -> bool:
        """Whether the candidate differs from the running-config."""
        return bool(self.diff.strip())


def _driver(task: Task) -> Any:
    return task.host.get_connection("napalm", task.nornir.config)


def _eapi(device: Any, commands: list[Any], encoding: str = "json") -> list[dict[str, Any]]:
    """One eAPI request (``runCmds``) with ``commands`` over the driver's connection."""
    return run_eapi(device, commands, encoding)


def other_pending_sessions(text: str, own: str) -> list[str]:
    """Uncommitted config sessions other than ``own`` in ``show configuration sessions`` text.

    The same rule as NAPALM's session lock (a ``pending`` session of someone else), read from
    the text form so it rides in the request that reads the running-config.

    >>> out = '''Maximum number of completed sessions: 1
    ... Maximum number of pending sessions: 5
    ...
    ...   Name          State               User
    ...   ------------- ------------------- --------
    ...   fabric_1      pending             admin
    ...   other         pending             bob
    ...   done          completed           bob
    ... '''
    >>> other_pending_sessions(out, "fabric_1")
    ['other']
    """
    found: list[str] = []
    in_table = False
    for line in text.splitlines():
        words = line.replace("*", " ").split()
        if not words:
            continue
        if all(set(w) == {"-"} for w in words):
            in_table = True
            continue
        if in_table and len(words) >= 2 and words[1] == "pending" and words[0] != own:
            found.append(words[0])
    return found


def pending_from_detail(detail: dict[str, Any], uptime: float) -> dict[str, int]:
    """Sessions with a pending commit timer and their seconds left (-1: unknown).

    ``detail`` is ``show configuration sessions detail`` (JSON, either shape: EOS < 4.32 keeps
    ``commitBy`` per session, later releases name the session in ``commitTimerSessionName``);
    ``uptime`` is ``show version``'s (commit times are relative to it). The same reading as
    NAPALM's ``_get_pending_commits``, without its second request.
    """

    def left(commit_by: Any) -> int:
        if commit_by in (None, -1) or uptime == -1 or uptime >= float(commit_by):
            return -1
        return round(float(commit_by) - uptime)

    if "commitTimerSessionName" in detail:
        name = detail.get("commitTimerSessionName")
        return {str(name): left(detail.get("commitTimerExpireTime"))} if name else {}
    return {
        name: left(s.get("commitBy", -1))
        for name, s in (detail.get("sessions") or {}).items()
        if "pendingCommitTimer" in str(s.get("state", ""))
    }


def _load_and_diff(device: Any, session: str, config: str, replace: bool, abort: bool) -> str:
    """Load ``config`` into ``session`` and return EOS's diff, in one eAPI request.

    With ``abort`` the session is aborted in the same request (a dry-run leaves nothing). A
    refused line aborts the session (best effort) and raises.
    """
    commands = session_commands(session, config, replace=replace)
    commands.append(f"show session-config named {session} diffs")
    if abort:
        commands.append(f"configure session {session} abort")
    try:
        out = _eapi(device, commands, encoding="text")
    except Exception:
        # the load error is the one to report; the abort is best effort
        with contextlib.suppress(Exception):
            _eapi(device, [f"configure session {session} abort"], encoding="text")
        raise
    text = str(out[-2 if abort else -1].get("output", ""))
    # NAPALM's compare_config: the two file-name lines dropped
    return "\n".join(text.splitlines()[2:]).strip()


def eos_get_running(task: Task) -> Result:
    """The exact running-config (``result``: str)."""
    device = _driver(task)
    running = str(device.get_config(retrieve="running")["running"])
    return Result(host=task.host, result=running)


def eos_prepare_session(
    task: Task, rendered: str, mode: Mode, session: str, keep_open: bool
) -> Result:
    """Load the candidate into config session ``session`` and diff it (two eAPI requests).

    The first request reads the running-config and the session list (another user's
    uncommitted session fails the plan, like NAPALM's lock); the second loads the candidate,
    takes EOS's diff and, for a dry-run, aborts the session.

    Args:
        task: the Nornir task (one switch).
        rendered: the rendered managed sections (secrets resolved).
        mode: ``replace`` (running-config with managed sections spliced, loaded as a full
            replace) or ``merge`` (the rendered text merged as is).
        session: the EOS session name (unique per run).
        keep_open: keep the session for a commit; otherwise (dry-run) abort it so no session is
            left on the device. A session without changes is always aborted.

    Returns:
        ``result``: :class:`SwitchPlan`; ``diff``: the masked diff; ``changed`` False (nothing
        is changed on the device by planning).

    Raises:
        RunFailedError: another configuration session is pending on the switch.
    """
    device = _driver(task)
    out = _eapi(device, ["show running-config", "show configuration sessions"], "text")
    running = str(out[0].get("output", ""))
    others = other_pending_sessions(str(out[1].get("output", "")), session)
    if others:
        raise RunFailedError(
            f"configuration session(s) {', '.join(others)} pending on the switch (in use)"
        )
    candidate = splice_managed_sections(running, rendered) if mode == "replace" else rendered
    diff = _load_and_diff(device, session, candidate, mode == "replace", abort=not keep_open)
    open_session: str | None = session if keep_open else None
    if keep_open and not diff.strip():
        _eapi(device, [f"configure session {session} abort"], encoding="text")
        open_session = None
    plan = SwitchPlan(running, candidate, mask_secrets(diff), open_session)
    return Result(host=task.host, result=plan, diff=plan.diff, changed=False)


def eos_commit(task: Task, session: str, revert_in: int) -> Result:
    """Commit ``session``; with ``revert_in`` > 0 as a commit-confirm that reverts unconfirmed.

    One eAPI request. ``revert_in`` 0 commits for good (and writes memory); rollback then
    needs the snapshot. EOS itself refuses a commit while another session's timer is pending.
    """
    device = _driver(task)
    if revert_in > 0:
        timer = time.strftime("%H:%M:%S", time.gmtime(revert_in))
        commands = [f"configure session {session} commit timer {timer}"]
    else:
        commands = [f"configure session {session} commit", "write memory"]
    _eapi(device, commands, encoding="text")
    return Result(host=task.host, result=session, changed=True)


def eos_discard_session(task: Task, session: str) -> Result:
    """Abort the uncommitted session ``session`` (a plan kept open, a commit that failed)."""
    _eapi(_driver(task), [f"configure session {session} abort"], encoding="text")
    return Result(host=task.host, result=session, changed=False)


def pending_sessions(task: Task) -> dict[str, int]:
    """Sessions with a pending commit-confirm and their seconds left (-1: unknown)."""
    out = _eapi(_driver(task), ["show configuration sessions detail", "show version"])
    return pending_from_detail(out[0], float(out[1].get("uptime", -1)))


def eos_confirm(task: Task, session: str) -> Result:
    """Confirm the pending commit of ``session`` (and write memory).

    Fails when ``session`` is not pending (its timer expired and it reverted, or it was aborted).
    """
    device = _driver(task)
    detail = _eapi(device, ["show configuration sessions detail"])[0]
    if session not in pending_from_detail(detail, -1):
        raise RunFailedError(
            f"no pending commit-confirm for session {session} "
            "(its timer expired and it reverted, or it was aborted)"
        )
    _eapi(device, [f"configure session {session} commit", "write memory"], encoding="text")
    return Result(host=task.host, result=session, changed=True)


def eos_abort_session(task: Task, session: str) -> Result:
    """Abort ``session`` by name if it has a pending commit-confirm (reverting it at once).

    Works from any process (the name comes from the state database). ``result``: True when a
    pending commit was aborted, False when there was none (already confirmed, reverted or
    aborted).
    """
    device = _driver(task)
    detail = _eapi(device, ["show configuration sessions detail"])[0]
    if session not in pending_from_detail(detail, -1):
        return Result(host=task.host, result=False, changed=False)
    _eapi(device, [f"configure session {session} abort", "write memory"], encoding="text")
    return Result(host=task.host, result=True, changed=True)


def eos_restore(task: Task, snapshot: str, session: str, dry_run: bool) -> Result:
    """Make the running-config equal ``snapshot``: abort ``session`` if pending, then replace.

    Args:
        task: the Nornir task (one switch).
        snapshot: the exact running-config taken before the change.
        session: the deploy's session name (aborted first when its commit is still pending).
        dry_run: only report the diff from the current running-config to the snapshot.

    Returns:
        ``result``: the masked diff (current -> snapshot) before restoring; ``changed`` whether
        the device was (or, in a dry-run, would be) changed.
    """
    device = _driver(task)
    running = str(_eapi(device, ["show running-config"], "text")[0].get("output", ""))
    diff = config_diff(running, snapshot, "running-config", "snapshot")
    if running != snapshot and not diff.strip():
        diff = "(only masked secrets differ from the snapshot)"  # e.g. a BGP password
    if dry_run:
        if session in pending_sessions(task):
            diff = f"(pending commit-confirm session {session} will be aborted)\n{diff}"
        return Result(host=task.host, result=diff, diff=diff, changed=running != snapshot)
    if running == snapshot:
        return Result(host=task.host, result="", changed=False)
    changed = bool(eos_abort_session(task, session).changed)
    if changed:
        running = str(_eapi(device, ["show running-config"], "text")[0].get("output", ""))
    if running != snapshot:
        restore = f"{session}_restore"
        if _load_and_diff(device, restore, snapshot, replace=True, abort=False):
            _eapi(device, [f"configure session {restore} commit", "write memory"], "text")
        else:
            _eapi(device, [f"configure session {restore} abort"], "text")
        changed = True
    return Result(host=task.host, result=diff, diff=diff, changed=changed)
