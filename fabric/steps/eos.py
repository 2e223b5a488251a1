"""Arista EOS over NAPALM: config sessions, commit-confirm, abort by name, restore a snapshot.

Pure helpers (no device):

* :func:`splice_managed_sections` builds a *replace* candidate: the device's running-config
  with the top-level blocks fabric manages swapped for the rendered ones, so a replace never
  drops what fabric does not manage (``username``, ``management api``, other interfaces ...).
* :func:`mask_secrets` hides passwords and secrets in anything printed or stored as a diff.
* :func:`tls_context` builds the SSL context handed to pyeapi: verified by default (system CA
  store or a CA bundle), unverified only with ``insecure``.

Nornir task functions (one switch each, ``host.get_connection("napalm", ...)``):
:func:`eos_prepare_session`, :func:`eos_commit`, :func:`eos_confirm`, :func:`eos_abort_session`,
:func:`eos_restore`, :func:`eos_get_running`. Sessions are named by the caller (one name per
run, stored in the state database), so any process can confirm or abort them later. The
driver's own ``config_session`` is cleared after every task: NAPALM's ``close()`` would
otherwise abort a pending commit-confirm behind the caller's back.
"""

from __future__ import annotations

import difflib
import re
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from nornir.core.task import Result

if TYPE_CHECKING:
    from nornir.core.inventory import Host
    from nornir.core.task import Task

Mode = Literal["replace", "merge"]

_SECRET_RE = re.compile(
    r"(?P<key>\b(?:password|secret|key|community)\b(?:\s+(?:sha512|md5|0|5|7|8a))?\s+)(?P<val>\S+)",
    re.IGNORECASE,
)


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


# --------------------------------------------------------------------------- TLS


def tls_context(*, insecure: bool = False, ca_file: str | None = None) -> ssl.SSLContext:
    """The SSL context for eAPI over HTTPS.

    Args:
        insecure: no certificate or hostname verification (the CLI says so loudly).
        ca_file: a CA bundle to trust instead of the system store.
    """
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=ca_file)


def configure_napalm_tls(
    host: Host, *, insecure: bool, ca_file: str | None, timeout: float | None = None
) -> str:
    """Put the SSL context (and timeout) in ``host``'s NAPALM connection options.

    A CA bundle comes from ``ca_file`` if given, else ``optional_args.ca_file`` of the inventory
    (in lab mode: the lab's CA, set by the lab overlay), else the system store. pyeapi accepts
    an ``ssl.SSLContext`` as ``context``; without one it would silently *disable* verification.

    Returns:
        A short description of the TLS policy for the report (``verified (CA ...)`` ...).
    """
    from nornir.core.inventory import ConnectionOptions

    opts = host.get_connection_parameters("napalm")
    extras: dict[str, Any] = dict(opts.extras or {})
    optional = dict(extras.get("optional_args") or {})
    bundle = ca_file or optional.pop("ca_file", None)
    optional.pop("ca_file", None)
    optional["context"] = tls_context(insecure=insecure, ca_file=bundle)
    extras["optional_args"] = optional
    if timeout is not None:
        extras["timeout"] = timeout
    host.connection_options["napalm"] = ConnectionOptions(
        hostname=opts.hostname,
        port=opts.port,
        username=opts.username,
        password=opts.password,
        platform=opts.platform or "eos",
        extras=extras,
    )
    if insecure:
        return "NOT VERIFIED (--insecure)"
    return f"verified (CA {bundle})" if bundle else "verified (system CA store)"


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


def eos_get_running(task: Task) -> Result:
    """The exact running-config (``result``: str)."""
    device = _driver(task)
    running = str(device.get_config(retrieve="running")["running"])
    return Result(host=task.host, result=running)


def eos_prepare_session(
    task: Task, rendered: str, mode: Mode, session: str, keep_open: bool
) -> Result:
    """Load the candidate into config session ``session`` and diff it.

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
    """
    device = _driver(task)
    running = str(device.get_config(retrieve="running")["running"])
    candidate = splice_managed_sections(running, rendered) if mode == "replace" else rendered
    device.config_session = session
    try:
        if mode == "replace":
            device.load_replace_candidate(config=candidate)
        else:
            device.load_merge_candidate(config=candidate)
        diff = str(device.compare_config())
        if not keep_open or not diff.strip():
            device.discard_config()
    except Exception:
        if device.config_session is not None:
            try:
                device.discard_config()
            finally:
                device.config_session = None
        raise
    finally:
        # Never let napalm's close() abort our session implicitly.
        open_session = device.config_session
        device.config_session = None
    plan = SwitchPlan(running, candidate, mask_secrets(diff), open_session)
    return Result(host=task.host, result=plan, diff=plan.diff, changed=False)


def eos_commit(task: Task, session: str, revert_in: int) -> Result:
    """Commit ``session``; with ``revert_in`` > 0 as a commit-confirm that reverts unconfirmed.

    ``revert_in`` 0 commits for good (and writes memory); rollback then needs the snapshot.
    """
    device = _driver(task)
    device.config_session = session
    try:
        device.commit_config(revert_in=revert_in if revert_in > 0 else None)
    finally:
        device.config_session = None
    return Result(host=task.host, result=session, changed=True)


def pending_sessions(task: Task) -> dict[str, int]:
    """Sessions with a pending commit-confirm and their seconds left (-1: unknown)."""
    device = _driver(task)
    # napalm's helper reads both "show configuration sessions detail" shapes (EOS < / >= 4.32).
    return dict(device._get_pending_commits())


def eos_confirm(task: Task, session: str) -> Result:
    """Confirm the pending commit of ``session`` (and write memory).

    Fails when ``session`` is not pending (its timer expired and it reverted, or it was aborted).
    """
    device = _driver(task)
    device.config_session = session
    try:
        device.confirm_commit()
    finally:
        device.config_session = None
    return Result(host=task.host, result=session, changed=True)


def eos_abort_session(task: Task, session: str) -> Result:
    """Abort ``session`` by name if it has a pending commit-confirm (reverting it at once).

    Works from any process (the name comes from the state database). ``result``: True when a
    pending commit was aborted, False when there was none (already confirmed, reverted or
    aborted).
    """
    device = _driver(task)
    if session not in pending_sessions(task):
        return Result(host=task.host, result=False, changed=False)
    device._run_commands([f"configure session {session} abort", "write memory"], encoding="text")
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
    running = str(device.get_config(retrieve="running")["running"])
    diff = config_diff(running, snapshot, "running-config", "snapshot")
    if dry_run:
        pend = pending_sessions(task)
        if session in pend:
            diff = f"(pending commit-confirm session {session} will be aborted)\n{diff}"
        return Result(host=task.host, result=diff, diff=diff, changed=bool(diff.strip()))
    if not diff.strip():
        return Result(host=task.host, result="", changed=False)
    changed = eos_abort_session(task, session).changed
    running = str(device.get_config(retrieve="running")["running"])
    if running != snapshot:
        device.config_session = f"{session}_restore"
        try:
            device.load_replace_candidate(config=snapshot)
            if str(device.compare_config()).strip():
                device.commit_config()
            else:
                device.discard_config()
        except Exception:
            if device.config_session is not None:
                device.discard_config()
            raise
        finally:
            device.config_session = None
        changed = True
    return Result(host=task.host, result=diff, diff=diff, changed=changed)
