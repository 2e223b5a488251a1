"""Guards on the library internals the adapters rely on (fabric/adapters/).

Each test names the library and the hook: when a pinned library changes one of them, the
failure says where to look, before a deploy or a parse misbehaves.
"""

from __future__ import annotations

import inspect
import json
import ssl
from typing import Any

import pytest

from fabric.adapters import eapi, napalm_eos, ttp


def test_napalm_eos_config_conversions_still_exist_and_convert() -> None:
    from napalm.eos.eos import EOSDriver

    assert ("banner login", 1) in EOSDriver.HEREDOC_COMMANDS, "napalm: HEREDOC_COMMANDS changed"
    params = list(inspect.signature(EOSDriver._multiline_convert).parameters)
    assert params[:4] == ["config", "start", "end", "depth"], "napalm: _multiline_convert"
    assert list(inspect.signature(EOSDriver._mode_comment_convert).parameters) == ["commands"]
    config = "hostname sw\nbanner login\nline one\nline two\nEOF\n!\nrouter bgp 1\n"
    cmds = napalm_eos.session_commands("s1", config, replace=True)
    assert cmds[:3] == ["configure session s1", "rollback clean-config", "hostname sw"]
    assert {"cmd": "banner login", "input": "line one\nline two"} in cmds, cmds
    assert cmds[-2:] == ["router bgp 1", "end"]


def test_ttp_compiled_group_layout() -> None:
    text = (
        '<group name="rows" method="table">\n'
        '{{ word | re("Neighbor") | let("kind", "header") }} {{ rest | ORPHRASE }}\n'
        '{{ addr | IP }} {{ asn | DIGIT | let("kind", "peer") }}\n'
        "</group>\n"
    )
    group = ttp.load_group(text)
    assert group.method == "table" and not group.has_children and not group.has_group_regexes
    assert len(group.lines) == 2, "ttp: start_re of the group"
    for line in group.lines:
        body = line.regex.pattern
        assert body.startswith(ttp.REGEX_HEAD) and body.endswith(ttp.REGEX_TAIL), body
    names = [v.name for v in group.lines[1].variables]
    assert names == ["addr", "asn"], "ttp: VARIABLES / var_name_original"
    assert ("let", ("kind", "peer")) in group.lines[1].variables[1].functions


def test_ttp_refuses_what_it_cannot_load() -> None:
    with pytest.raises(ttp.TtpTemplateError):
        ttp.load_group("<group>\n{{ a }}\n</group>\n<group>\n{{ b }}\n</group>\n")


def test_apscheduler_process_jobs_hook() -> None:
    from apscheduler.schedulers.base import BaseScheduler

    from fabric.adapters.apscheduler import PollingScheduler

    hook = BaseScheduler.__dict__.get("_process_jobs")
    assert hook is not None, "apscheduler: BaseScheduler._process_jobs is gone"
    assert list(inspect.signature(hook).parameters) == ["self"], "apscheduler: _process_jobs"
    sched = PollingScheduler(poll_interval=0.5)
    # nothing scheduled: APScheduler's answer is "no wake-up"; ours caps it at the poll
    assert sched._process_jobs() == 0.5


class _Reply:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.reason = status, "OK" if status == 200 else "Unauthorized"
        self.data = json.dumps(body).encode()


def test_pooled_transport_speaks_pyeapi(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our transport keeps pyeapi's contract: decoded replies, CommandError, ConnectionError."""
    import pyeapi.eapilib

    conn = eapi.PooledHttpsEapiConnection(
        "127.0.0.1", 4443, username="u", password="p", context=ssl.create_default_context()
    )
    replies = [
        _Reply(200, {"jsonrpc": "2.0", "id": "1", "result": [{}, {"output": "x"}]}),
        _Reply(
            200,
            {
                "error": {
                    "code": 1002,
                    "message": "CLI command 2 of 2 'show x' failed: invalid",
                    "data": [{}, {"errors": ["Invalid input"]}],
                }
            },
        ),
        _Reply(401, {}),
    ]
    sent: list[dict[str, Any]] = []

    def urlopen(method: str, url: str, body: bytes, headers: Any, retries: Any) -> _Reply:
        sent.append({"method": method, "url": url, "headers": dict(headers)})
        return replies.pop(0)

    monkeypatch.setattr(conn.pool, "urlopen", urlopen)
    assert conn.execute(["show version"], "text")["result"][1] == {"output": "x"}
    assert sent[0]["url"] == "/command-api" and sent[0]["headers"]["authorization"].startswith(
        "Basic "
    )
    with pytest.raises(pyeapi.eapilib.CommandError) as err:
        conn.execute(["show x"])
    assert err.value.error_code == 1002 and "Invalid input" in str(err.value)
    with pytest.raises(pyeapi.eapilib.ConnectionError):
        conn.execute(["show version"])
    conn.close()
