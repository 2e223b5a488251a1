"""The simulated EOS switch driven by the real clients: NAPALM's ``eos`` driver and pyeapi.

Every switch here serves eAPI on 127.0.0.1 (HTTP, and HTTPS with a certificate from the lab
CA that the clients verify) from one background asyncio loop, as the lab runtime does.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import napalm
import pyeapi
import pytest
from aiohttp import web
from napalm.base.exceptions import (
    CommitError,
    MergeConfigException,
    ReplaceConfigException,
    UnsupportedVersion,
)
from pyeapi.eapilib import CommandError
from pyeapi.eapilib import ConnectionError as EapiConnectionError

from fabric.lab.eos import EosSwitch
from fabric.lab.model import BgpRoute, PeerState, SwitchBgpView
from fabric.lab.pki import ensure_ca, server_context
from fabric.lab.seed import SEED_SWITCH_BODY as SEED_BODY

pytestmark = pytest.mark.lab

USER, PASSWORD = "admin", "lab-only-pw"


class LoopThread:
    """One asyncio loop in a background thread (the lab runtime's model)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def run(self, fn: Callable[[], Any]) -> Any:
        """Run a plain function on the loop (state is only touched there)."""

        async def wrapper() -> Any:
            return fn()

        return self.call(wrapper())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


@dataclass
class Served:
    """A switch and where it listens."""

    switch: EosSwitch
    http_port: int
    https_port: int
    ca_file: Path
    changes: list[float] = field(default_factory=list)
    runners: list[web.AppRunner] = field(default_factory=list)

    def napalm(self, transport: str = "http", **extra: Any) -> Any:
        args: dict[str, Any] = {"transport": transport, **extra}
        if transport == "https":
            args["port"] = self.https_port
            args["context"] = ssl.create_default_context(cafile=str(self.ca_file))
        else:
            args["port"] = self.http_port
        driver = napalm.get_network_driver("eos")("127.0.0.1", USER, PASSWORD, optional_args=args)
        driver.open()
        return driver

    def eapi(self, password: str = PASSWORD) -> Any:
        return pyeapi.client.connect(
            transport="http",
            host="127.0.0.1",
            port=self.http_port,
            username=USER,
            password=password,
            return_node=True,
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def loop_thread() -> Iterator[LoopThread]:
    lt = LoopThread()
    yield lt
    lt.stop()


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("eoslab")
    ensure_ca(d)
    return d


@pytest.fixture
def serve(
    loop_thread: LoopThread, lab_dir: Path, tmp_path: Path
) -> Iterator[Callable[..., Served]]:
    """Start switches (fresh state under tmp_path) on the module loop; stop them after."""
    started: list[Served] = []

    def start(
        version: str = "4.30.3M", *, state_dir: Path | None = None, seed: bool = True
    ) -> Served:
        changes: list[float] = []
        sw = EosSwitch(
            "eos-tor-001",
            eos_version=version,
            hostname="eos-tor-001",
            state_dir=state_dir or tmp_path / f"sw{len(started)}",
            username=USER,
            password=PASSWORD,
            on_change=lambda: changes.append(time.time()),
        )
        if seed:
            sw.load_config(SEED_BODY)
            changes.clear()
        ctx = server_context(lab_dir, "eos-tor-001", ["127.0.0.1"])
        served = Served(sw, _free_port(), _free_port(), lab_dir / "ca.pem", changes)

        async def up() -> None:
            for port, tls in ((served.http_port, None), (served.https_port, ctx)):
                runner = web.AppRunner(sw.app())
                await runner.setup()
                await web.TCPSite(runner, "127.0.0.1", port, ssl_context=tls).start()
                served.runners.append(runner)

        loop_thread.call(up())
        started.append(served)
        return served

    yield start
    for served in started:
        loop_thread.run(served.switch.close)
        for runner in served.runners:
            loop_thread.call(runner.cleanup())


def _running(served: Served, loop_thread: LoopThread) -> str:
    text: str = loop_thread.run(lambda: served.switch.running_config)
    return text


# --------------------------------------------------------------------------- connect


def test_napalm_over_https_verifies_the_lab_ca(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    user_line = f"username {USER} privilege 15 role network-admin secret sha512 $6$salt$hash\n"
    loop_thread.run(lambda: s.switch.load_config(user_line + SEED_BODY))
    driver = s.napalm("https")
    facts = driver.get_facts()
    assert facts["hostname"] == "eos-tor-001"
    assert facts["vendor"] == "Arista"
    assert facts["os_version"].startswith("4.30.3M")
    assert "Ethernet1" in facts["interface_list"]
    config = driver.get_config()
    assert "router bgp 65535" in config["running"]
    assert config["running"].startswith("! Command: show running-config\n")
    assert "! device: eos-tor-001 (vEOS-lab, EOS-4.30.3M)" in config["running"]
    sanitized = driver.get_config(retrieve="running", sanitized=True)["running"]
    assert "secret sha512 <removed>" in sanitized
    assert "$6$" not in sanitized
    driver.close()


def test_https_without_the_ca_is_refused(serve: Callable[..., Served]) -> None:
    s = serve()
    driver = napalm.get_network_driver("eos")(
        "127.0.0.1",
        USER,
        PASSWORD,
        optional_args={
            "transport": "https",
            "port": s.https_port,
            "context": ssl.create_default_context(),
        },
    )
    with pytest.raises(EapiConnectionError):
        driver.open()


def test_wrong_password_is_401(serve: Callable[..., Served]) -> None:
    s = serve()
    with pytest.raises(EapiConnectionError, match="Unauthorized"):
        s.eapi(password="wrong").enable(["show version"])


# --------------------------------------------------------------------------- load / commit


def test_merge_compare_commit_writes_startup(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    driver = s.napalm()
    driver.load_merge_candidate(
        config="router bgp 65535\n   neighbor 172.21.1.28 remote-as 65535\n"
        "   neighbor 172.21.1.28 description kube-worker-002\n"
    )
    diff = driver.compare_config()
    assert diff.startswith("@@")
    added = [line for line in diff.splitlines() if line.startswith("+")]
    assert added == [
        "+   neighbor 172.21.1.28 remote-as 65535",
        "+   neighbor 172.21.1.28 description kube-worker-002",
    ]
    assert "172.21.1.28" not in _running(s, loop_thread)
    driver.commit_config()
    running = _running(s, loop_thread)
    # EOS orders neighbors itself: .28 lands after .18, whatever order they came in.
    assert running.index("neighbor 172.21.1.18 remote-as") < running.index(
        "neighbor 172.21.1.28 remote-as"
    )
    assert loop_thread.run(lambda: s.switch.startup_config).count("172.21.1.28") == 2
    assert len(s.changes) == 1
    snap = loop_thread.run(s.switch.snapshot)
    assert snap.bgp is not None
    assert snap.bgp.neighbors["172.21.1.28"].description == "kube-worker-002"
    assert driver.compare_config() == ""
    driver.close()


def test_replace_removes_what_is_not_in_the_candidate(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    driver = s.napalm()
    candidate = (
        _running(s, loop_thread)
        .replace("   neighbor 172.21.1.18 remote-as 65535\n", "")
        .replace("      neighbor 172.21.1.18 activate\n", "")
    )
    candidate = candidate.replace("ip route vrf management 0.0.0.0/0 172.21.0.254\n", "")
    driver.load_replace_candidate(config=candidate)
    diff = driver.compare_config()
    removed = sorted(line for line in diff.splitlines() if line.startswith("-") and line != "-!")
    assert removed == [
        "-      neighbor 172.21.1.18 activate",
        "-   neighbor 172.21.1.18 remote-as 65535",
        "-ip route vrf management 0.0.0.0/0 172.21.0.254",
    ]
    assert not [line for line in diff.splitlines() if line.startswith("+")]
    driver.commit_config()
    running = _running(s, loop_thread)
    assert "172.21.1.18" not in running
    assert "ip route vrf" not in running
    assert "neighbor 172.21.1.8 activate" in running
    driver.close()


def test_discard_leaves_running_and_no_session(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    before = _running(s, loop_thread)
    driver = s.napalm()
    driver.load_merge_candidate(config="hostname changed")
    assert "+hostname changed" in driver.compare_config()
    driver.discard_config()
    assert _running(s, loop_thread) == before
    sessions = s.eapi().enable(["show configuration sessions"])[0]["result"]["sessions"]
    assert sessions == {}
    assert s.changes == []
    driver.close()


def test_invalid_line_is_1002_and_nothing_commits(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    before = _running(s, loop_thread)
    driver = s.napalm()
    with pytest.raises(MergeConfigException) as exc:
        driver.load_merge_candidate(
            config="router bgp 65535\n   neighbor 172.21.1.9 remote-as 65535\n"
            "   neighbor 172.21.1.9 bogus-keyword\n"
        )
    text = str(exc.value)
    assert "[1002]" in text
    assert "CLI command 5 of 6 'neighbor 172.21.1.9 bogus-keyword' failed: invalid command" in text
    assert "Invalid input (at token 2: 'bogus-keyword')" in text
    # napalm aborted the session; nothing reached running-config.
    assert _running(s, loop_thread) == before
    with pytest.raises(ReplaceConfigException, match=r"at token 2: '300\.1\.1\.1/24'"):
        driver.load_replace_candidate(config="interface Vlan3002\n   ip address 300.1.1.1/24\n")
    assert _running(s, loop_thread) == before

    # A raw request: the commit after the bad line never runs.
    node = s.eapi()
    with pytest.raises(CommandError) as err:
        node.run_commands(["configure session raw1", "hostname x y", "commit"], encoding="json")
    assert err.value.error_code == 1002
    assert _running(s, loop_thread) == before
    sessions = node.enable(["show configuration sessions"])[0]["result"]["sessions"]
    assert sessions["raw1"]["state"] == "pending"
    driver.close()


def test_unknown_command_is_1002_with_eos_message(serve: Callable[..., Served]) -> None:
    s = serve()
    node = s.eapi()
    with pytest.raises(CommandError) as err:
        node.run_commands(["show version", "show bogus"])
    e = err.value
    assert e.error_code == 1002
    assert e.error_text == "CLI command 3 of 3 'show bogus' failed: invalid command"
    assert e.output[-1] == {"errors": ["Invalid input (at token 1: 'bogus')"]}
    assert e.output[1]["version"] == "4.30.3M"  # commands before the error ran
    with pytest.raises(CommandError, match="Incomplete command"):
        node.run_commands(["configure session x", "router bgp"])


# --------------------------------------------------------------------------- commit confirm


@pytest.mark.parametrize("version", ["4.30.3M", "4.32.1F"])
def test_commit_confirm_and_both_session_shapes(
    serve: Callable[..., Served], loop_thread: LoopThread, version: str
) -> None:
    s = serve(version)
    driver = s.napalm()
    assert driver.has_pending_commit() is False
    driver.load_merge_candidate(config="interface Loopback9\n   ip address 9.9.9.9/32\n")
    driver.commit_config(revert_in=30)
    assert driver.has_pending_commit() is True
    assert "Loopback9" in _running(s, loop_thread)

    detail = s.eapi().enable(["show configuration sessions detail"])[0]["result"]
    name = driver.config_session
    if version.startswith("4.32"):
        assert detail["commitTimerSessionName"] == name
        assert 25 < detail["commitTimerExpireTime"] - time.time() <= 30
        assert detail["sessions"][name]["state"] == "committed"
        assert "commitBy" not in detail["sessions"][name]
    else:
        assert "commitTimerSessionName" not in detail
        assert detail["sessions"][name]["state"] == "pendingCommitTimer"
        assert 25 < detail["sessions"][name]["commitBy"] - time.time() <= 30

    # A second commit-confirm while one is pending: napalm checks, EOS refuses too.
    with pytest.raises(CommitError, match="Pending commit confirm already in process"):
        driver.commit_config(revert_in=30)
    node = s.eapi()
    with pytest.raises(CommandError) as err:
        node.run_commands(
            [
                "configure session other",
                "hostname other",
                "end",
                "configure session other commit timer 00:01:00",
            ]
        )
    assert err.value.error_code == 1000
    assert f"session {name} has a pending commit timer" in str(err.value.output[-1])

    driver.confirm_commit()
    assert driver.has_pending_commit() is False
    detail = s.eapi().enable(["show configuration sessions detail"])[0]["result"]
    assert "commitTimerSessionName" not in detail
    assert detail["sessions"][name]["state"] == "completed"
    assert "Loopback9" in loop_thread.run(lambda: s.switch.startup_config)
    driver.close()


def test_commit_timer_expiry_reverts(serve: Callable[..., Served], loop_thread: LoopThread) -> None:
    s = serve()
    before = _running(s, loop_thread)
    driver = s.napalm()
    driver.load_merge_candidate(config="interface Loopback9\n   ip address 9.9.9.9/32\n")
    driver.commit_config(revert_in=1)
    assert "Loopback9" in _running(s, loop_thread)
    assert len(s.changes) == 1
    deadline = time.time() + 5
    while "Loopback9" in _running(s, loop_thread) and time.time() < deadline:
        time.sleep(0.1)
    assert _running(s, loop_thread) == before
    assert len(s.changes) == 2  # commit, then the revert
    assert driver.has_pending_commit() is False
    with pytest.raises(CommitError, match="No pending commit-confirm found"):
        driver.confirm_commit()
    driver.config_session = None
    driver.close()


def test_abort_while_pending_reverts_at_once(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    before = _running(s, loop_thread)
    driver = s.napalm()
    driver.load_merge_candidate(config="interface Loopback9\n   ip address 9.9.9.9/32\n")
    driver.commit_config(revert_in=60)
    driver.rollback()  # napalm: abort the pending session, write memory
    assert _running(s, loop_thread) == before
    assert driver.has_pending_commit() is False
    driver.close()


def test_rollback_restores_the_config_before_the_commit(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    before = _running(s, loop_thread)
    driver = s.napalm()
    driver.load_merge_candidate(config="router bgp 65535\n   maximum-paths 4\n")
    driver.commit_config()
    assert "maximum-paths 4" in _running(s, loop_thread)
    driver.rollback()  # configure replace flash:rollback-0, write memory
    assert _running(s, loop_thread) == before
    assert "maximum-paths" not in loop_thread.run(lambda: s.switch.startup_config)
    driver.close()


# --------------------------------------------------------------------------- pyeapi


def test_pyeapi_terminal_and_session_api(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    node = s.eapi()
    node.config(["interface Loopback7", "ip address 7.7.7.7/32"])
    assert "interface Loopback7\n   ip address 7.7.7.7/32" in _running(s, loop_thread)
    assert len(s.changes) == 1
    assert "interface Loopback7" in node.section("interface Loopback7")

    node.configure_session()
    node.config(["router bgp 65535", "neighbor 172.21.1.8 shutdown"])
    diff = node.diff()
    assert "+   neighbor 172.21.1.8 shutdown" in diff
    assert diff.startswith("--- system:/running-config\n+++ session:/")
    node.commit()
    snap = loop_thread.run(s.switch.snapshot)
    assert snap.bgp is not None and snap.bgp.neighbors["172.21.1.8"].shutdown is True
    summary = node.enable(["show ip bgp summary"], encoding="text")[0]["result"]["output"]
    assert "172.21.1.8       4  65535" in summary and "Idle(Admin)" in summary

    node.configure_session()
    node.config(["hostname nope"])
    node.abort()
    assert "hostname nope" not in _running(s, loop_thread)


def test_running_config_json_and_section(serve: Callable[..., Served]) -> None:
    s = serve()
    node = s.eapi()
    out = node.enable(["show running-config"])[0]["result"]
    bgp = out["cmds"]["router bgp 65535"]["cmds"]
    assert "neighbor 172.21.1.8 remote-as 65535" in bgp
    assert bgp["address-family ipv4"]["cmds"] == {
        "neighbor 172.21.1.8 activate": None,
        "neighbor 172.21.1.18 activate": None,
    }
    assert out["cmds"]["ip routing"] is None
    section = node.enable(["show running-config section router bgp"], encoding="text")
    text = section[0]["result"]["output"]
    assert text.splitlines()[0] == "router bgp 65535"
    assert "vlan" not in text


# --------------------------------------------------------------------------- faults


def test_faults_latency_http500_and_eapi_error_at_commit(
    serve: Callable[..., Served], loop_thread: LoopThread
) -> None:
    s = serve()
    node = s.eapi()
    s.switch.faults.latency_s = 0.3
    t0 = time.perf_counter()
    node.enable(["show version"])
    assert time.perf_counter() - t0 >= 0.3
    s.switch.faults.latency_s = 0.0

    s.switch.faults.fail_on_call = 2
    s.switch.faults.fail_kind = "http500"
    node.enable(["show version"])  # the first request passes
    with pytest.raises(EapiConnectionError):
        node.enable(["show version"])
    assert s.switch.faults.fail_on_call is None
    node.enable(["show version"])  # one-shot

    before = _running(s, loop_thread)
    driver = s.napalm()
    s.switch.faults.fail_on_call = 1
    s.switch.faults.fail_kind = "eapi"
    s.switch.faults.fail_match = "commit"
    driver.load_merge_candidate(config="hostname after-fault")  # not counted: no "commit"
    with pytest.raises(CommandError) as err:
        driver.commit_config()
    assert err.value.error_code == 1000
    assert "configure session" in err.value.error_text and "commit" in err.value.error_text
    assert _running(s, loop_thread) == before
    driver.commit_config()  # the fault fired once; the session is still there
    assert "hostname after-fault" in _running(s, loop_thread)
    driver.close()


# --------------------------------------------------------------------------- persistence


def test_restart_keeps_committed_config_and_reverts_overdue_timer(
    serve: Callable[..., Served], loop_thread: LoopThread, tmp_path: Path
) -> None:
    state = tmp_path / "persist"
    s = serve(state_dir=state)
    driver = s.napalm()
    driver.load_merge_candidate(config="interface Loopback5\n   ip address 5.5.5.5/32\n")
    driver.commit_config()
    committed = _running(s, loop_thread)
    driver.load_merge_candidate(config="interface Loopback6\n   ip address 6.6.6.6/32\n")
    driver.commit_config(revert_in=1)
    driver.config_session = None
    driver.close()
    loop_thread.run(s.switch.close)  # "power off" before the timer fires
    time.sleep(1.2)
    again = EosSwitch(
        "eos-tor-001",
        eos_version="4.30.3M",
        hostname="eos-tor-001",
        state_dir=state,
        username=USER,
        password=PASSWORD,
    )
    assert again.running_config == committed
    assert "Loopback5" in again.startup_config


def test_restart_rearms_a_pending_timer(
    serve: Callable[..., Served], loop_thread: LoopThread, tmp_path: Path
) -> None:
    state = tmp_path / "persist2"
    s = serve(state_dir=state)
    before = _running(s, loop_thread)
    driver = s.napalm()
    driver.load_merge_candidate(config="interface Loopback6\n   ip address 6.6.6.6/32\n")
    driver.commit_config(revert_in=2)
    driver.config_session = None
    driver.close()
    loop_thread.run(s.switch.close)
    restarted = serve(state_dir=state, seed=False)
    assert "Loopback6" in _running(restarted, loop_thread)
    check = restarted.napalm()
    assert check.has_pending_commit() is True
    check.close()
    deadline = time.time() + 5
    while "Loopback6" in _running(restarted, loop_thread) and time.time() < deadline:
        time.sleep(0.1)
    assert _running(restarted, loop_thread) == before


# --------------------------------------------------------------------------- show output


def _seed_view(now: float) -> SwitchBgpView:
    import ipaddress

    def route(prefix: str, nh: str, intf: str) -> BgpRoute:
        return BgpRoute(ipaddress.IPv4Network(prefix), [nh], "B I", 200, 0, intf)

    return SwitchBgpView(
        router_id="1.1.1.1",
        local_as=65535,
        peers=[
            PeerState("172.21.1.8", 65535, "Established", now - 568, 3, 3, 16, 15),
            PeerState("172.21.1.18", 65535, "Established", now - 566, 3, 3, 16, 15),
        ],
        routes=[
            route("192.16.0.0/12", "172.21.1.8", "Vlan3002"),
            route("192.168.170.0/24", "172.21.1.8", "Vlan3002"),
            route("192.168.181.0/24", "172.21.1.18", "Vlan3002"),
            route("192.168.255.224/27", "100.64.1.1", "Ethernet2"),
        ],
    )


def _seconds(updown: str) -> int:
    h, m, sec = (int(x) for x in updown.split(":"))
    return h * 3600 + m * 60 + sec


def _collapse(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def test_seed_outputs_are_reproduced(serve: Callable[..., Served], loop_thread: LoopThread) -> None:
    """The write-up's ``show ip bgp summary`` and ``show ip route``, line for line."""
    s = serve()
    s.switch.load_config(
        SEED_BODY + "interface Ethernet2\n   no switchport\n   ip address 100.64.0.2/22\n!\n"
        "ip route 0.0.0.0/0 100.64.1.1\n"
    )
    seed = Path("/work/shared/seed/000_8da39fbca7bd9a2d.txt")
    if not seed.exists():
        pytest.skip("seed write-up not available")
    lines = seed.read_text(encoding="utf-8").splitlines()
    start = lines.index("# show ip bgp summary")
    want_bgp = lines[start + 1 : start + 7]
    start = lines.index("# show ip route")
    want_route = lines[start + 1 : start + 23]

    now = time.time()
    s.switch.bgp_view = lambda: _seed_view(now)
    node = s.eapi()
    out = node.enable(["show ip bgp summary", "show ip route"], encoding="text")
    bgp_text, route_text = (r["result"]["output"] for r in out)
    got_bgp = _collapse(bgp_text)
    assert got_bgp[:4] == want_bgp[:4]
    assert len(got_bgp) == len(want_bgp)
    for got, want in zip(got_bgp[4:], want_bgp[4:], strict=True):
        # Up/Down (token 7) advances with the clock; everything else is exact.
        assert got.split()[:7] + got.split()[8:] == want.split()[:7] + want.split()[8:]
        assert abs(_seconds(got.split()[7]) - _seconds(want.split()[7])) <= 2
    assert _collapse(route_text) == want_route

    # JSON of the same state.
    data = node.enable(["show ip bgp summary", "show ip route"])
    peers = data[0]["result"]["vrfs"]["default"]["peers"]
    assert peers["172.21.1.8"]["peerState"] == "Established"
    assert peers["172.21.1.8"]["prefixReceived"] == 3
    routes = data[1]["result"]["vrfs"]["default"]["routes"]
    assert routes["192.16.0.0/12"]["routeType"] == "iBGP"
    assert routes["192.16.0.0/12"]["vias"] == [
        {"nexthopAddr": "172.21.1.8", "interface": "Vlan3002"}
    ]
    assert data[1]["result"]["vrfs"]["default"]["defaultRouteState"] == "reachable"


def test_old_eos_prints_the_old_bgp_summary_layout(serve: Callable[..., Served]) -> None:
    s = serve("4.22.1F")
    node = s.eapi()
    text = node.enable(["show ip bgp summary"], encoding="text")[0]["result"]["output"]
    lines = text.splitlines()
    assert lines[0] == "BGP router identifier 1.1.1.1, local AS number 65535"
    assert lines[1].split() == [
        "Neighbor",
        "V",
        "AS",
        "MsgRcvd",
        "MsgSent",
        "InQ",
        "OutQ",
        "Up/Down",
        "State",
        "PfxRcd",
    ]
    assert lines[2].split()[:3] == ["172.21.1.8", "4", "65535"]
    assert lines[2].split()[-1] == "Active"
    route = node.enable(["show ip route"], encoding="text")[0]["result"]["output"]
    assert route.startswith("VRF: default\n")
    with pytest.raises(UnsupportedVersion):
        s.napalm()  # napalm itself refuses EOS < 4.23


def test_json_shapes_used_by_napalm_getters(serve: Callable[..., Served]) -> None:
    s = serve()
    driver = s.napalm()
    interfaces = driver.get_interfaces()
    assert interfaces["Ethernet1"]["is_up"] is True
    out = driver.cli(["show ip route vrf management"])["show ip route vrf management"]
    assert "S        0.0.0.0/0 [1/0] via 172.21.0.254, Management1" in out
    hostname = s.eapi().enable(["show hostname"])[0]["result"]
    assert hostname == {"hostname": "eos-tor-001", "fqdn": "eos-tor-001"}
    driver.close()


def test_request_shapes_json_rpc(serve: Callable[..., Served]) -> None:
    """Raw JSON-RPC: dict commands with input, text format, a bad method."""
    import urllib.request

    s = serve()
    url = f"http://127.0.0.1:{s.http_port}/command-api"
    import base64

    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def post(body: dict[str, Any]) -> dict[str, Any]:
        req = urllib.request.Request(
            url,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            result: dict[str, Any] = json.loads(resp.read())
            return result

    reply = post(
        {
            "jsonrpc": "2.0",
            "method": "runCmds",
            "id": "7",
            "params": {
                "version": 1,
                "format": "text",
                "cmds": [
                    {"cmd": "enable", "input": ""},
                    {"cmd": "configure session whole", "input": "hostname via-input\n"},
                    "show session-config named whole diffs",
                ],
            },
        }
    )
    assert reply["id"] == "7"
    assert "+hostname via-input" in reply["result"][2]["output"]
    bad = post({"jsonrpc": "2.0", "method": "nope", "id": 1, "params": {}})
    assert bad["error"]["code"] == -32601


# --------------------------------------------------------------------------- NAPALM getters


def test_napalm_getters_against_the_lab(serve: Callable[..., Served]) -> None:
    """get_facts, get_interfaces(_ip), get_bgp_neighbors, get_bgp_config, get_config."""
    s = serve()
    now = time.time()
    s.switch.bgp_view = lambda: _seed_view(now)
    driver = s.napalm()
    try:
        facts = driver.get_facts()
        assert facts["hostname"] == "eos-tor-001" and facts["vendor"] == "Arista"
        assert facts["os_version"].startswith("4.30.3M")
        assert {"Ethernet1", "Loopback0", "Management1", "Vlan3002"} <= set(facts["interface_list"])
        interfaces = driver.get_interfaces()
        assert interfaces["Vlan3002"]["is_up"] and interfaces["Vlan3002"]["is_enabled"]

        assert driver.get_interfaces_ip() == {
            "Loopback0": {"ipv4": {"1.1.1.1": {"prefix_length": 32}}, "ipv6": {}},
            "Loopback1": {"ipv4": {"2.2.2.2": {"prefix_length": 32}}, "ipv6": {}},
            "Management1": {"ipv4": {"172.21.0.30": {"prefix_length": 24}}, "ipv6": {}},
            "Vlan3002": {"ipv4": {"172.21.1.254": {"prefix_length": 24}}, "ipv6": {}},
        }

        bgp = driver.get_bgp_neighbors()
        assert set(bgp) == {"global"} and bgp["global"]["router_id"] == "1.1.1.1"
        peer = bgp["global"]["peers"]["172.21.1.8"]
        assert (peer["local_as"], peer["remote_as"], peer["remote_id"]) == (
            65535,
            65535,
            "172.21.1.8",
        )
        assert peer["is_up"] and peer["is_enabled"]
        assert abs(peer["uptime"] - 568) <= 2
        assert peer["address_family"]["ipv4"] == {
            "received_prefixes": 3,
            "accepted_prefixes": 3,
            "sent_prefixes": 0,  # iBGP: no route is reflected
        }
        assert peer["address_family"]["ipv6"]["received_prefixes"] == 0
        assert set(bgp["global"]["peers"]) == {"172.21.1.8", "172.21.1.18"}

        config = driver.get_bgp_config()
        neighbors = config["_"]["neighbors"]
        assert set(neighbors) == {"172.21.1.8", "172.21.1.18"}
        assert neighbors["172.21.1.8"]["remote_as"] == 65535
        assert neighbors["172.21.1.8"]["local_as"] == 65535

        configs = driver.get_config()
        assert "router bgp 65535" in configs["running"]
        assert configs["startup"].startswith("! Command: show startup-config")
        assert configs["candidate"] == ""
    finally:
        driver.close()


def test_shut_neighbor_is_disabled_in_get_bgp_neighbors(serve: Callable[..., Served]) -> None:
    s = serve()
    s.switch.load_config(SEED_BODY.replace(
        "   neighbor 172.21.1.18 remote-as 65535\n",
        "   neighbor 172.21.1.18 remote-as 65535\n   neighbor 172.21.1.18 shutdown\n",
    ))  # fmt: skip
    driver = s.napalm()
    try:
        peers = driver.get_bgp_neighbors()["global"]["peers"]
    finally:
        driver.close()
    assert (peers["172.21.1.18"]["is_enabled"], peers["172.21.1.18"]["is_up"]) == (False, False)
    assert (peers["172.21.1.8"]["is_enabled"], peers["172.21.1.8"]["is_up"]) == (True, False)


def test_ipv6_bgp_summary_without_ipv6_peers(serve: Callable[..., Served]) -> None:
    node = serve().eapi()
    data = node.enable(["show ipv6 bgp summary vrf all", "show ipv6 bgp summary"])
    for entry in data:
        assert entry["result"] == {
            "vrfs": {
                "default": {"vrf": "default", "routerId": "1.1.1.1", "asn": "65535", "peers": {}}
            }
        }
    text = node.enable(["show ipv6 bgp summary"], encoding="text")[0]["result"]["output"]
    lines = text.splitlines()
    assert lines[:3] == [
        "BGP summary information for VRF default",
        "Router identifier 1.1.1.1, local AS number 65535",
        "Neighbor Status Codes: m - Under maintenance",
    ]
    assert lines[3].split() == [
        "Neighbor", "V", "AS", "MsgRcvd", "MsgSent", "InQ", "OutQ", "Up/Down", "State",
        "PfxRcd", "PfxAcc",
    ]  # fmt: skip
    assert len(lines) == 4  # no peer row
    peers = node.enable(["show ipv6 bgp peers vrf all"])[0]["result"]
    assert peers == {"vrfs": {"default": {"peerList": []}}}
    with pytest.raises(CommandError, match="No IPv6 configured interfaces"):
        node.enable(["show ipv6 interface"])


def test_show_ip_interface_brief(serve: Callable[..., Served]) -> None:
    node = serve().eapi()
    text = node.enable(["show ip interface brief"], encoding="text")[0]["result"]["output"]
    rows = {line.split()[0]: line.split()[1:] for line in text.splitlines()[3:]}
    assert rows == {
        "Loopback0": ["1.1.1.1/32", "up", "up", "1500"],
        "Loopback1": ["2.2.2.2/32", "up", "up", "1500"],
        "Management1": ["172.21.0.30/24", "up", "up", "1500"],
        "Vlan3002": ["172.21.1.254/24", "up", "up", "1500"],
    }
    assert text.splitlines()[1].split() == ["Interface", "IP", "Address", "Status",
                                            "Protocol", "MTU", "Owner"]  # fmt: skip
    brief = node.enable(["show ip interface brief"])[0]["result"]["interfaces"]
    assert brief["Vlan3002"]["interfaceAddress"]["ipAddr"] == {
        "address": "172.21.1.254",
        "maskLen": 24,
    }
    full = node.enable(["show ip interface"])[0]["result"]["interfaces"]
    assert full["Management1"]["vrf"] == "management"
    assert full["Loopback0"]["interfaceAddress"]["primaryIp"]["address"] == "1.1.1.1"


def test_output_pipes(serve: Callable[..., Served]) -> None:
    node = serve().eapi()

    def text(cmd: str) -> str:
        out: str = node.enable([cmd], encoding="text")[0]["result"]["output"]
        return out

    assert text("show running-config | section router bgp") == (
        "router bgp 65535\n"
        "   neighbor 172.21.1.8 remote-as 65535\n"
        "   neighbor 172.21.1.18 remote-as 65535\n"
        "   !\n"
        "   address-family ipv4\n"
        "      neighbor 172.21.1.8 activate\n"
        "      neighbor 172.21.1.18 activate\n"
    )
    assert text("show running-config | include ^ip route") == (
        "ip route vrf management 0.0.0.0/0 172.21.0.254\n"
    )
    # section keeps the parents of a nested match
    assert text("show running-config | section activate").splitlines()[:2] == [
        "router bgp 65535",
        "   address-family ipv4",
    ]
    assert text("show ip interface brief | exclude Loopback").count("Loopback") == 0
    assert text("show running-config | begin ^router bgp").startswith("router bgp 65535\n")
    with pytest.raises(CommandError, match="Invalid input"):
        node.enable(["show running-config | grep bgp"], encoding="text")
    with pytest.raises(CommandError, match=r"1003.*unconverted command"):
        node.run_commands(["show running-config | section router bgp"], encoding="json")
