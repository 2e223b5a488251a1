"""Node SSH: the calicoctl/birdcl text, and real SSH clients (paramiko, netmiko) against a node."""

from __future__ import annotations

import time
from typing import Any

import pytest

from fabric.lab.model import NodeBgpView, NodePeerView
from fabric.lab.ssh import (
    NodeShell,
    render_birdcl_protocols,
    render_calicoctl_node_status,
    render_table,
)

# Real `calicoctl node status` captures from projectcalico/calico,
# calico/getting-started/kubernetes/hardway/configure-bgp-peering.md (lines 29-42 and 142-154)
# at 802fe4951e954c7d37bf531702fca3c4ef629880, Apache-2.0.
REAL_MESH = """Calico process is running.

IPv4 BGP status
+---------------+-------------------+-------+----------+-------------+
| PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO     |
+---------------+-------------------+-------+----------+-------------+
| 172.31.40.217 | node-to-node mesh | up    | 17:38:47 | Established |
| 172.31.40.30  | node-to-node mesh | up    | 17:40:09 | Established |
| 172.31.45.29  | node-to-node mesh | up    | 17:40:20 | Established |
| 172.31.37.123 | node-to-node mesh | up    | 17:40:29 | Established |
+---------------+-------------------+-------+----------+-------------+

IPv6 BGP status
No IPv6 peers found.
"""
REAL_NODE_SPECIFIC_HEAD = """+---------------+---------------+-------+----------+-------------+
| PEER ADDRESS  |   PEER TYPE   | STATE |  SINCE   |    INFO     |
+---------------+---------------+-------+----------+-------------+
"""


def _at(hms: str) -> float:
    """Epoch seconds of today's local ``HH:MM:SS``."""
    h, m, s = (int(x) for x in hms.split(":"))
    t = time.localtime()
    return time.mktime((t.tm_year, t.tm_mon, t.tm_mday, h, m, s, 0, 0, -1))


def _row(addr: str, kind: Any, hms: str, state: Any = "up", info: str = "Established") -> Any:
    return NodePeerView(addr, kind, state, _at(hms), info)


def test_calicoctl_output_is_byte_identical_to_a_real_capture() -> None:
    view = NodeBgpView(
        bird_running=True,
        ipv4_peers=[
            _row("172.31.40.217", "node-to-node mesh", "17:38:47"),
            _row("172.31.40.30", "node-to-node mesh", "17:40:09"),
            _row("172.31.45.29", "node-to-node mesh", "17:40:20"),
            _row("172.31.37.123", "node-to-node mesh", "17:40:29"),
        ],
    )
    out, status = render_calicoctl_node_status(view, _at("17:41:00"))
    assert status == 0
    # The capture ends after "No IPv6 peers found."; calicoctl prints one more empty line.
    assert out == REAL_MESH + "\n"


def test_calicoctl_table_centres_headers_like_tablewriter() -> None:
    table = render_table(
        ["Peer address", "Peer type", "State", "Since", "Info"],
        [["172.31.37.123", "node specific", "up", "21:52:57", "Established"]],
    )
    assert table.splitlines()[:3] == REAL_NODE_SPECIFIC_HEAD.splitlines()


def test_seed_layout_and_not_running() -> None:
    view = NodeBgpView(
        bird_running=True,
        ipv4_peers=[
            _row("172.21.0.18", "node-to-node mesh", "07:27:41"),
            _row("172.21.1.254", "global", "07:33:10"),
        ],
    )
    out, _ = render_calicoctl_node_status(view, _at("07:40:00"))
    assert "| 172.21.1.254 | global            | up    | 07:33:10 | Established |" in out
    assert out.startswith("Calico process is running.\n\nIPv4 BGP status\n+----")
    assert out.endswith("\nIPv6 BGP status\nNo IPv6 peers found.\n\n")
    down, status = render_calicoctl_node_status(NodeBgpView(bird_running=False), 0)
    assert (down, status) == ("Calico process is not running.\n", 1)
    empty, _ = render_calicoctl_node_status(NodeBgpView(bird_running=True), 0)
    assert "No IPv4 peers found." in empty


def test_since_turns_into_a_date_after_20_hours() -> None:
    view = NodeBgpView(True, [NodePeerView("10.0.0.1", "global", "up", 0.0, "Established")])
    out, _ = render_calicoctl_node_status(view, 3 * 86400.0)
    assert time.strftime("%Y-%m-%d", time.localtime(0)) in out


def test_birdcl_show_protocols_layout() -> None:
    view = NodeBgpView(
        bird_running=True,
        ipv4_peers=[
            _row("172.21.0.18", "node-to-node mesh", "07:27:41"),
            _row(
                "172.21.1.254", "global", "07:33:10", "start", "Active Socket: Connection refused"
            ),
        ],
    )
    out, status = render_birdcl_protocols(view, _at("07:40:00"), _at("07:27:30"))
    assert status == 0
    assert out.splitlines() == [
        "BIRD v0.3.3+birdv1.6.8 ready.",
        "name     proto    table    state  since       info",
        "static1  Static   master   up     07:27:30",
        "kernel1  Kernel   master   up     07:27:30",
        "device1  Device   master   up     07:27:30",
        "direct1  Direct   master   up     07:27:30",
        "Mesh_172_21_0_18 BGP      master   up     07:27:41    Established",
        "Global_172_21_1_254 BGP      master   start  07:33:10    "
        "Active        Socket: Connection refused",
    ]
    out, status = render_birdcl_protocols(NodeBgpView(bird_running=False), 0, 0)
    assert status == 1 and "Unable to connect to server control socket" in out


@pytest.mark.parametrize(
    ("line", "status", "needle"),
    [
        ("calicoctl node status", 0, "Calico process is running."),
        ("sudo calicoctl node status", 0, "Calico process is running."),
        ("kubectl calico node status", 0, "IPv4 BGP status"),
        ("sudo kubectl calico node status", 0, "IPv4 BGP status"),
        ("birdcl show protocols", 0, "BIRD v0.3.3"),
        ("sudo birdcl -s /var/run/calico/bird.ctl show protocols", 0, "Mesh_"),
        ("rm -rf /", 127, "bash: rm: command not found"),
        ("birdcl show route", 1, "syntax error"),
    ],
)
def test_shell_commands(line: str, status: int, needle: str) -> None:
    view = NodeBgpView(
        True, [NodePeerView("10.0.0.2", "node-to-node mesh", "up", 1.0, "Established")]
    )
    shell = NodeShell("n1", lambda: view, lambda: 1.0, clock=lambda: 2.0)
    res = shell.run(line)
    assert res.status == status
    assert needle in (res.stdout + res.stderr)
    if status == 127:
        assert res.stdout == "" and "calicoctl node status" in res.stderr


# --------------------------------------------------------------------------- real SSH clients


def _ep(lab: Any, host: str) -> dict[str, Any]:
    ep: dict[str, Any] = lab.endpoints["hosts"][host]
    return ep


def _paramiko(lab: Any, host: str, **auth: Any) -> Any:
    import paramiko

    ep = _ep(lab, host)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        ep["hostname"],
        port=ep["port"],
        username=ep["username"],
        allow_agent=False,
        look_for_keys=False,
        timeout=10,
        **auth,
    )
    return client


def test_paramiko_exec_with_password_matches_the_simulation(seeded_lab: Any) -> None:
    ep = _ep(seeded_lab, "kube-worker-001")
    client = _paramiko(seeded_lab, "kube-worker-001", password=ep["password"])
    try:
        _, stdout, stderr = client.exec_command("sudo kubectl calico node status")
        out = stdout.read().decode()
        assert stdout.channel.recv_exit_status() == 0
        assert stderr.read() == b""
        assert "| 172.21.0.8   | node-to-node mesh | up    |" in out
        assert "| 172.21.1.254 | global            | up    |" in out
        # Same text as the runtime renders, modulo the clock (SINCE is from the same epoch).
        assert out == seeded_lab.node_status_text("kube-worker-001")
        _, stdout, stderr = client.exec_command("ls /")
        assert stdout.channel.recv_exit_status() == 127
        assert b"command not found" in stderr.read()
    finally:
        client.close()


def test_paramiko_key_auth_and_wrong_password(seeded_lab: Any) -> None:
    import paramiko

    ep = _ep(seeded_lab, "kube-controlplane-001")
    client = _paramiko(seeded_lab, "kube-controlplane-001", key_filename=ep["key_file"])
    try:
        _, stdout, _ = client.exec_command("birdcl show protocols")
        assert "Global_172_21_1_254 BGP      master   up" in stdout.read().decode()
    finally:
        client.close()
    with pytest.raises(paramiko.AuthenticationException):
        _paramiko(seeded_lab, "kube-controlplane-001", password="wrong")


def test_netmiko_linux_interactive_shell(seeded_lab: Any) -> None:
    from netmiko import ConnectHandler

    ep = _ep(seeded_lab, "kube-worker-001")
    conn = ConnectHandler(
        device_type="linux",
        host=ep["hostname"],
        port=ep["port"],
        username=ep["username"],
        password=ep["password"],
        allow_agent=False,
        use_keys=False,
        ssh_strict=False,
        system_host_keys=False,
        fast_cli=True,
    )
    try:
        assert conn.find_prompt().endswith("$")
        out = conn.send_command("sudo calicoctl node status")
        assert "Calico process is running." in out
        assert "172.21.1.254" in out and "Established" in out
        err = conn.send_command("frobnicate")
        assert "frobnicate: command not found" in err
    finally:
        conn.disconnect()


def test_bird_down_over_ssh(lab_factory: Any) -> None:
    lab = lab_factory(seeded=True)
    lab.fault("kube-worker-001", "bird-down")
    ep = _ep(lab, "kube-worker-001")
    client = _paramiko(lab, "kube-worker-001", password=ep["password"])
    try:
        _, stdout, _ = client.exec_command("calicoctl node status")
        assert stdout.read().decode() == "Calico process is not running.\n"
        assert stdout.channel.recv_exit_status() == 1
    finally:
        client.close()
    other = lab.node_status_text("kube-controlplane-001")
    assert "| 172.21.0.18  | node-to-node mesh | start |" in other
    lab.clear_faults("kube-worker-001")
    assert "Calico process is running." in lab.node_status_text("kube-worker-001")
