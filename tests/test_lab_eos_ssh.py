"""The switches' SSH CLI, judged by the real clients: netmiko, scrapli and nornir_netmiko.

One seeded lab serves the module. ``show ip bgp summary`` read over SSH must parse (with our
own parser) to the same model as the text eAPI returns; a change committed through a config
session over SSH must show in the running-config read over eAPI; errors print as EOS prints
them. The first tests drive :class:`EosCliSession` directly (no socket) from a table of
input lines, printed output and the prompt that follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyeapi
import pytest
from netmiko import ConnectHandler
from nornir.core.inventory import ConnectionOptions
from nornir_netmiko.tasks import netmiko_send_command, netmiko_send_config

from fabric.inventory import init_nornir
from fabric.lab.eos import EosSwitch
from fabric.lab.eos.cli import EosCliSession, interface_prompt_name
from fabric.parsing import parse
from fabric.paths import ProjectPaths

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.lab

SW = "eos-tor-001"
BGP_AS = "65535"  # the write-up's switch AS (seeded)

# --------------------------------------------------------------------------- no socket


@pytest.fixture
def switch(tmp_path: Path) -> Iterator[EosSwitch]:
    sw = EosSwitch(
        "leaf1",
        eos_version="4.30.3M",
        hostname="leaf1",
        state_dir=tmp_path / "sw",
        username="admin",
        password="lab-only-pw",
    )
    yield sw
    sw.close()


# (input line, output printed, prompt after it)
LOGIN_TRANSCRIPT = [
    ("show running-config", "% Invalid input (privileged mode required)\n", "leaf1>"),
    ("configure terminal", "% Invalid input (privileged mode required)\n", "leaf1>"),
    ("terminal length 0", "Pagination disabled.\n", "leaf1>"),
    ("terminal width 511", "Width set to 511 columns.\n", "leaf1>"),
    ("enable", "", "leaf1#"),
    ("show hostname", "Hostname: leaf1\nFQDN:     leaf1\n", "leaf1#"),
    ("show ip bgp summry", "% Invalid input (at token 3: 'summry')\n", "leaf1#"),
    ("foo", "% Invalid input (at token 0: 'foo')\n", "leaf1#"),
    ("configure terminal", "", "leaf1(config)#"),
    ("interface Ethernet1", "", "leaf1(config-if-Et1)#"),
    ("description uplink", "", "leaf1(config-if-Et1)#"),
    ("router bgp 65001", "", "leaf1(config-router-bgp)#"),
    ("neighbor", "% Incomplete command\n", "leaf1(config-router-bgp)#"),
    ("vrf red", "", "leaf1(config-router-bgp-vrf-red)#"),
    ("address-family ipv4", "", "leaf1(config-router-bgp-vrf-red-af)#"),
    ("exit", "", "leaf1(config-router-bgp-vrf-red)#"),
    ("management api http-commands", "", "leaf1(config-mgmt-api-http-cmds)#"),
    ("end", "", "leaf1#"),
    ("configure session change-42", "", "leaf1(config-s-change)#"),
    ("router bgp 65001", "", "leaf1(config-s-change-router-bgp)#"),
    ("address-family ipv4", "", "leaf1(config-s-change-router-bgp-af)#"),
    ("interface Vlan3002", "", "leaf1(config-s-change-if-Vl3002)#"),
    ("end", "", "leaf1#"),
    ("disable", "", "leaf1>"),
]


def test_cli_transcript(switch: EosSwitch) -> None:
    cli = EosCliSession(switch, "admin")
    assert cli.prompt() == "leaf1>"
    got = []
    for line, _out, _prompt in LOGIN_TRANSCRIPT:
        reply = cli.execute(line)
        got.append((line, reply.output, cli.prompt()))
    assert got == LOGIN_TRANSCRIPT


def test_cli_session_diff_commit_and_abort(switch: EosSwitch) -> None:
    cli = EosCliSession(switch, "admin", privileged=True)
    for line in ("configure session s1", "hostname leaf9"):
        assert cli.execute(line).output == ""
    diff = cli.execute("show session-config diffs").output
    assert "--- system:/running-config\n+++ session:/s1-session-config\n" in diff
    assert "-hostname leaf1\n+hostname leaf9\n" in diff
    assert "hostname leaf9" not in switch.running_config  # not committed yet
    assert cli.execute("commit").output == ""
    assert cli.prompt() == "leaf9#"  # the new hostname shows at once, as on EOS
    assert "hostname leaf9" in switch.running_config
    # abort drops a pending session without touching the running-config
    for line in ("configure session s2", "hostname leaf7", "abort"):
        cli.execute(line)
    assert cli.prompt() == "leaf9#"
    assert "s2" not in cli.execute("show configuration sessions").output


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("Ethernet12", "Et12"),
        ("Loopback0", "Lo0"),
        ("Management1", "Ma1"),
        ("Port-Channel7", "Po7"),
    ],
)
def test_interface_prompt_names(name: str, short: str) -> None:
    assert interface_prompt_name(name) == short


# --------------------------------------------------------------------------- real clients


@pytest.fixture(scope="module")
def paths() -> ProjectPaths:
    return ProjectPaths.discover(root=ROOT)


@pytest.fixture(scope="module")
def ep(seeded_lab: Any) -> dict[str, Any]:
    return dict(seeded_lab.endpoints["hosts"][SW])


def _eapi_text(ep: dict[str, Any], command: str) -> str:
    node = pyeapi.connect(
        transport="http",
        host=ep["hostname"],
        port=ep["http_port"],
        username=ep["username"],
        password=ep["password"],
        return_node=True,
    )
    return str(node.enable([command], encoding="text")[0]["result"]["output"])


#: Fields that move with the clock (uptime, keepalive counters): two reads a second apart differ.
_CLOCK_FIELDS = {"up_down", "msg_rcvd", "msg_sent"}


def _bgp_summary(text: str) -> dict[str, Any]:
    """Our parse of ``show ip bgp summary`` without the fields that move with the clock."""
    data = parse("arista_eos", "show ip bgp summary", text).model_dump(mode="json")
    for vrf in data["vrfs"].values():
        vrf["peers"] = [
            {k: v for k, v in peer.items() if k not in _CLOCK_FIELDS} for peer in vrf["peers"]
        ]
    return dict(data)


def _same_as_eapi(ep: dict[str, Any], ssh_text: str) -> None:
    ours = _bgp_summary(ssh_text)
    assert ours["vrfs"]["default"]["peers"], "the seeded switch has BGP neighbors"
    assert ours == _bgp_summary(_eapi_text(ep, "show ip bgp summary"))


def _running_config(ep: dict[str, Any]) -> str:
    return _eapi_text(ep, "show running-config")


def _netmiko(ep: dict[str, Any]) -> Any:
    return ConnectHandler(
        device_type="arista_eos",
        host=ep["hostname"],
        port=ep["ssh_port"],
        username=ep["username"],
        password=ep["password"],
    )


def test_endpoints_publish_ssh_port(ep: dict[str, Any]) -> None:
    assert ep["ssh_port"] == 2222
    assert ep["hostname"].startswith("127.")


def test_netmiko_show_and_config_session(ep: dict[str, Any]) -> None:
    conn = _netmiko(ep)
    try:
        assert conn.find_prompt() == f"{SW}>"
        conn.enable()
        assert conn.find_prompt() == f"{SW}#"
        _same_as_eapi(ep, conn.send_command("show ip bgp summary"))

        out = conn.send_config_set(
            [f"router bgp {BGP_AS}", "neighbor 10.99.0.1 remote-as 65099"],
            config_mode_command="configure session netmiko-1",
        )
        assert f"{SW}(config-s-netmik-router-bgp)#" in out
        assert "%" not in out
        assert "neighbor 10.99.0.1" not in _running_config(ep)  # still pending
        diff = conn.send_command("show session-config named netmiko-1 diffs")
        assert "+   neighbor 10.99.0.1 remote-as 65099" in diff
        assert conn.send_command("configure session netmiko-1 commit") == ""
        assert "   neighbor 10.99.0.1 remote-as 65099" in _running_config(ep)

        bad = conn.send_command("show ip bgp summry")
        assert bad.strip() == "% Invalid input (at token 3: 'summry')"
    finally:
        conn.disconnect()


def test_netmiko_commit_timer_then_confirm(ep: dict[str, Any]) -> None:
    conn = _netmiko(ep)
    try:
        conn.enable()
        conn.send_config_set(
            [f"router bgp {BGP_AS}", "neighbor 10.99.0.3 remote-as 65099", "commit timer 00:05:00"],
            config_mode_command="configure session timed-1",
            exit_config_mode=False,
        )
        assert conn.find_prompt() == f"{SW}#"  # commit timer leaves config mode
        assert "neighbor 10.99.0.3" in _running_config(ep)
        sessions = conn.send_command("show configuration sessions")
        assert "timed-1" in sessions and "pendingCommitTimer" in sessions
        conn.send_command("configure session timed-1 commit")  # the confirmation
        assert "pendingCommitTimer" not in conn.send_command("show configuration sessions")
    finally:
        conn.disconnect()


@contextlib.contextmanager
def _no_enable_password_warning() -> Iterator[None]:
    """scrapli warns at open that it will ``enable`` without a password: the lab has none."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="(?s).*Authentication Warning", category=UserWarning
        )
        yield


def _scrapli_commit(conn: Any, session: str, neighbor: str) -> None:
    conn.register_configuration_session(session)
    replies = conn.send_configs(
        [f"router bgp {BGP_AS}", f"neighbor {neighbor} remote-as 65098"], privilege_level=session
    )
    assert not replies.failed
    commit = conn.send_command(f"configure session {session} commit")
    assert not commit.failed


def test_scrapli_system_transport(ep: dict[str, Any]) -> None:
    if shutil.which("ssh") is None:
        pytest.skip("scrapli's system transport needs the OpenSSH client")
    from scrapli import Scrapli

    conn = Scrapli(
        host=ep["hostname"],
        port=ep["ssh_port"],
        auth_username=ep["username"],
        auth_password=ep["password"],
        auth_strict_key=False,
        platform="arista_eos",
        transport="system",
        timeout_ops=20,
    )
    with _no_enable_password_warning():
        conn.open()
    try:
        assert conn.get_prompt() == f"{SW}#"
        reply = conn.send_command("show ip bgp summary")
        assert not reply.failed
        _same_as_eapi(ep, reply.result)
        _scrapli_commit(conn, "scrapli-1", "10.98.0.1")
        assert "   neighbor 10.98.0.1 remote-as 65098" in _running_config(ep)
        bad = conn.send_command("show ip bgp summry")
        assert bad.failed and bad.result == "% Invalid input (at token 3: 'summry')"
    finally:
        with warnings.catch_warnings():
            # scrapli's pty transport drops its pty file object unclosed on purpose
            # (ptyprocess.close: "del self.fileobj"); not ours to fix.
            warnings.simplefilter("ignore", ResourceWarning)
            conn.close()
            gc.collect()


def test_scrapli_asyncssh_transport(ep: dict[str, Any]) -> None:
    from scrapli import AsyncScrapli

    async def run() -> tuple[str, str]:
        conn = AsyncScrapli(
            host=ep["hostname"],
            port=ep["ssh_port"],
            auth_username=ep["username"],
            auth_password=ep["password"],
            auth_strict_key=False,
            platform="arista_eos",
            transport="asyncssh",
            timeout_ops=20,
        )
        with _no_enable_password_warning():
            await conn.open()
        try:
            text = (await conn.send_command("show ip bgp summary")).result
            _same_as_eapi(ep, text)  # before the commit below adds a neighbor
            conn.register_configuration_session("scrapli-2")
            replies = await conn.send_configs(
                [f"router bgp {BGP_AS}", "neighbor 10.98.0.2 remote-as 65098"],
                privilege_level="scrapli-2",
            )
            assert not replies.failed
            in_session = await conn.get_prompt()
            assert in_session == f"{SW}(config-s-scrapl-router-bgp)#"
            commit = await conn.send_command("configure session scrapli-2 commit")
            assert not commit.failed
            return text, await conn.get_prompt()
        finally:
            await conn.close()

    _text, prompt = asyncio.run(run())
    assert prompt == f"{SW}#"
    assert "   neighbor 10.98.0.2 remote-as 65098" in _running_config(ep)


def test_nornir_netmiko_tasks(seeded_lab: Any, paths: ProjectPaths) -> None:
    nr = init_nornir(paths, lab=True).filter(name=SW)
    for host in nr.inventory.hosts.values():
        lab = host.data["lab"]
        # The lab overlay configures NAPALM (eAPI); SSH is the same host on its ssh_port.
        host.connection_options["netmiko"] = ConnectionOptions(
            port=lab["ssh_port"], platform="arista_eos", extras={"secret": ""}
        )
    show = nr.run(task=netmiko_send_command, command_string="show ip bgp summary", enable=True)
    assert not show.failed
    _same_as_eapi(dict(seeded_lab.endpoints["hosts"][SW]), show[SW].result)
    config = nr.run(
        task=netmiko_send_config,
        config_commands=[f"router bgp {BGP_AS}", "neighbor 10.97.0.1 remote-as 65097"],
        config_mode_command="configure session nornir-1",
        enable=True,
        dry_run=False,  # our Nornir defaults to dry-run; netmiko_send_config refuses it
    )
    assert not config.failed
    commit = nr.run(task=netmiko_send_command, command_string="configure session nornir-1 commit")
    assert not commit.failed and commit[SW].result == ""
    bad = nr.run(task=netmiko_send_command, command_string="show ip bgp nonsense")
    assert bad[SW].result.strip() == "% Invalid input (at token 3: 'nonsense')"
    assert "   neighbor 10.97.0.1 remote-as 65097" in seeded_lab.switch_running_config(SW)
    nr.close_connections()


def test_exec_request_runs_one_line(ep: dict[str, Any]) -> None:
    import asyncssh

    async def run() -> tuple[str, int | None, str, int | None]:
        async with asyncssh.connect(
            ep["hostname"],
            port=ep["ssh_port"],
            username=ep["username"],
            password=ep["password"],
            known_hosts=None,
            client_keys=None,
        ) as conn:
            ok = await conn.run("show hostname")
            refused = await conn.run("show running-config")  # a login is at privilege 1
            return str(ok.stdout), ok.exit_status, str(refused.stdout), refused.exit_status

    out, status, refused, refused_status = asyncio.run(run())
    assert (out, status) == (f"Hostname: {SW}\nFQDN:     {SW}\n", 0)
    assert (refused, refused_status) == ("% Invalid input (privileged mode required)\n", 1)
