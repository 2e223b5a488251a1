"""Deploy planning pieces that need no device: splice, masking, Calico diff, CLI."""

from __future__ import annotations

import dataclasses
import doctest
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import fabric.cli.deploy
import fabric.steps.eos
from fabric.cli.progress import ProgressView
from fabric.errors import LockHeldError, UsageError
from fabric.intent import load_intent
from fabric.locking import inventory_lock
from fabric.paths import ProjectPaths
from fabric.runs.secrets import resolve_secret
from fabric.state_db import HostRow, StateDB
from fabric.steps.calico import (
    CalicoChange,
    desired_object,
    is_disruptive,
    object_diff,
    semantically_equal,
    strip_server_fields,
)
from fabric.steps.eos import mask_secrets, splice_managed_sections, split_blocks
from fabric.steps.render import CalicoObject, render_switch_config
from fabric.workflows.deploy import DeployOptions, deploy

ROOT = Path(__file__).resolve().parent.parent

RUNNING = """\
! Command: show running-config
! device: eos-tor-001 (vEOS-lab, EOS-4.30.3M)
!
hostname eos-tor-001
!
username admin privilege 15 secret sha512 $6$abc
!
vlan 3002
   name old-name
!
vlan 4000
!
interface Ethernet1
   description uplink
   switchport access vlan 999
!
interface Ethernet2
   no switchport
   ip address 100.64.0.2/22
!
ip routing
!
ip route 0.0.0.0/0 100.64.1.1
ip route vrf management 10.9.9.0/24 172.21.0.1
ip route vrf other 10.8.8.0/24 10.0.0.1
!
router bgp 64999
   neighbor 9.9.9.9 remote-as 1
!
management api http-commands
   no shutdown
!
end
"""


def _paths() -> ProjectPaths:
    return ProjectPaths.discover(ROOT)


def test_doctests_of_eos_steps_and_cli() -> None:
    for mod in (fabric.steps.eos, fabric.cli.deploy):
        res = doctest.testmod(mod)
        assert res.attempted > 0 and res.failed == 0, mod.__name__


def test_splice_replaces_managed_blocks_and_keeps_the_rest() -> None:
    intent = load_intent(_paths()).intent
    assert intent is not None
    rendered = render_switch_config(intent.switches[0], _paths().templates)
    cand = splice_managed_sections(RUNNING, rendered)
    headers = [b[0] for b in split_blocks(cand)]
    # kept verbatim: device's own config and unmanaged blocks
    for kept in (
        "hostname eos-tor-001",
        "username admin privilege 15 secret sha512 $6$abc",
        "vlan 4000",
        "interface Ethernet2",
        "ip route 0.0.0.0/0 100.64.1.1",
        "ip route vrf other 10.8.8.0/24 10.0.0.1",
        "management api http-commands",
    ):
        assert kept in headers, kept
    # replaced: old router bgp, old vlan 3002 body, Ethernet1, static routes of vrf management
    assert "router bgp 64999" not in cand and "neighbor 9.9.9.9" not in cand
    assert "name old-name" not in cand and "switchport access vlan 999" not in cand
    assert "description uplink" not in cand
    assert "ip route vrf management 10.9.9.0/24 172.21.0.1" not in cand
    assert "ip route vrf management 0.0.0.0/0 172.21.0.254" in headers
    assert headers.count("router bgp 65535") == 1 and headers.count("vlan 3002") == 1
    # every rendered block is present exactly once, with its body
    for block in split_blocks(rendered):
        assert headers.count(block[0]) == 1
        i = cand.index(block[0] + "\n")
        assert cand[i:].startswith("\n".join(block))
    assert "end" not in cand.split() and "! Command" not in cand
    # idempotent: splicing into the candidate changes nothing
    assert splice_managed_sections(cand, rendered) == cand


def test_splice_into_empty_config_is_the_rendered_config() -> None:
    rendered = "vlan 10\n!\nrouter bgp 1\n   router-id 1.1.1.1\n!\n"
    assert split_blocks(splice_managed_sections("", rendered)) == split_blocks(rendered)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ("   neighbor 1.1.1.1 password 7 Zm9v==", "   neighbor 1.1.1.1 password 7 *****"),
        ("   neighbor PG password s3cret", "   neighbor PG password *****"),
        ("+   neighbor PG password s3cret", "+   neighbor PG password *****"),
        ("username admin secret sha512 $6$x", "username admin secret sha512 *****"),
        ("snmp-server community public ro", "snmp-server community ***** ro"),
        ("   neighbor 1.1.1.1 remote-as 65535", "   neighbor 1.1.1.1 remote-as 65535"),
    ],
)
def test_mask_secrets(line: str, masked: str) -> None:
    assert mask_secrets(line) == masked


def _obj(kind: str, name: str, spec: dict[str, object]) -> CalicoObject:
    body = {"apiVersion": "projectcalico.org/v3", "kind": kind, "metadata": {"name": name}}
    return CalicoObject("k8s-cluster", kind, name, {**body, "spec": spec}, "")


def _current(kind: str, name: str, spec: dict[str, object], **meta: object) -> dict[str, object]:
    return {
        "apiVersion": "projectcalico.org/v3",
        "kind": kind,
        "metadata": {
            "name": name,
            "resourceVersion": "41",
            "uid": "u-1",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            **meta,
        },
        "spec": spec,
    }


def test_semantic_diff_ignores_server_fields_and_keeps_labels() -> None:
    spec = {"peerIP": "172.21.1.254", "asNumber": 65535}
    cur = _current("BGPPeer", "global-peer", dict(spec), labels={"team": "net"})
    want = desired_object(_obj("BGPPeer", "global-peer", dict(spec)), cur)
    assert semantically_equal(cur, want)
    assert want["metadata"] == {"name": "global-peer", "labels": {"team": "net"}}
    changed = desired_object(_obj("BGPPeer", "global-peer", {**spec, "asNumber": 64512}), cur)
    assert not semantically_equal(cur, changed)
    diff = object_diff("BGPPeer/global-peer", cur, changed)
    assert "-  asNumber: 65535" in diff and "+  asNumber: 64512" in diff
    assert "resourceVersion" not in diff and "uid" not in diff
    assert strip_server_fields(cur)["metadata"] == {
        "name": "global-peer",
        "labels": {"team": "net"},
    }


def test_node_spec_is_merged_not_replaced() -> None:
    cur = _current("Node", "n1", {"bgp": {"ipv4Address": "10.0.0.1/24"}, "orchRefs": [{"x": 1}]})
    want = desired_object(_obj("Node", "n1", {"bgp": {"asNumber": 64600}}), cur)
    assert want["spec"] == {
        "bgp": {"ipv4Address": "10.0.0.1/24", "asNumber": 64600},
        "orchRefs": [{"x": 1}],
    }


def test_disruptive_changes_are_ordered_last() -> None:
    cur = _current("BGPConfiguration", "default", {"nodeToNodeMeshEnabled": True, "asNumber": 1})
    mesh_off = desired_object(
        _obj("BGPConfiguration", "default", {"nodeToNodeMeshEnabled": False, "asNumber": 1}), cur
    )
    log_only = desired_object(
        _obj(
            "BGPConfiguration",
            "default",
            {"nodeToNodeMeshEnabled": True, "asNumber": 1, "logSeverityScreen": "Debug"},
        ),
        cur,
    )
    assert is_disruptive("BGPConfiguration", cur, mesh_off)
    assert not is_disruptive("BGPConfiguration", cur, log_only)
    assert not is_disruptive("BGPConfiguration", None, mesh_off)

    def change(kind: str, disruptive: bool) -> CalicoChange:
        return CalicoChange("c", kind, kind.lower(), None, {}, "create", disruptive, "")

    changes = [
        change("BGPConfiguration", True),
        change("BGPConfiguration", False),
        change("Node", False),
        change("BGPPeer", False),
    ]
    ordered = sorted(changes, key=lambda c: c.order)
    assert [(c.kind, c.disruptive) for c in ordered] == [
        ("BGPPeer", False),
        ("Node", False),
        ("BGPConfiguration", False),
        ("BGPConfiguration", True),
    ]


def test_secret_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FABRIC_TEST_BGP", "hunter2")
    assert resolve_secret("env:FABRIC_TEST_BGP") == "hunter2"
    f = tmp_path / "pw"
    f.write_text("s3cret\n")
    assert resolve_secret(f"file:{f}") == "s3cret"
    monkeypatch.delenv("FABRIC_TEST_BGP")
    with pytest.raises(UsageError, match="FABRIC_TEST_BGP is not set") as exc:
        resolve_secret("env:FABRIC_TEST_BGP")
    assert "hunter2" not in str(exc.value)
    with pytest.raises(UsageError, match="cannot read"):
        resolve_secret(f"file:{tmp_path / 'missing'}")


def test_deploy_fails_fast_when_the_lock_is_held(tmp_path: Path) -> None:
    paths = dataclasses.replace(_paths(), state=tmp_path)
    with (
        inventory_lock(paths.state, paths.inventory, run_id="other-run"),
        pytest.raises(LockHeldError, match="other-run"),
    ):
        deploy(paths, DeployOptions(lab=True, db=tmp_path / "s.db"))
    # nothing was recorded for the refused deploy
    assert StateDB(tmp_path / "s.db").list_runs() == []


def test_deploy_usage_errors_before_any_connection(tmp_path: Path) -> None:
    paths = dataclasses.replace(_paths(), state=tmp_path)
    with pytest.raises(UsageError, match="--limit nosuch"):
        deploy(paths, DeployOptions(lab=True, limit=["nosuch"], db=tmp_path / "s.db"))
    with pytest.raises(UsageError, match="--revert-in"):
        deploy(paths, DeployOptions(lab=True, revert_in=-1, db=tmp_path / "s.db"))
    with pytest.raises(UsageError, match="--confirm-within"):
        deploy(paths, DeployOptions(lab=True, commit=True, confirm_within=0, db=tmp_path / "s.db"))
    # nothing was recorded for the refused deploys
    assert StateDB(tmp_path / "s.db").list_runs() == []


@pytest.mark.parametrize(
    ("text", "seconds"), [("30", 30.0), ("2.5", 2.5), ("15m", 900.0), ("1h30m", 5400.0)]
)
def test_deploy_confirm_within_durations(text: str, seconds: float) -> None:
    assert fabric.cli.deploy.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["0", "0s", "-5", "1x", "", "soon"])
def test_deploy_confirm_within_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="duration"):
        fabric.cli.deploy.parse_duration(text)


def test_runs_cli_lists_and_shows(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "s.db")
    db.create_run("r1", kind="deploy", inventory="i", intent_hash="h", dry_run=False, options={})
    db.save_host("r1", HostRow("eos-tor-001", "switch", changed=True, committed=True, diff="+x"))
    db.finish_run("r1", "ok")
    runner = CliRunner()
    from fabric.cli import cli

    res = runner.invoke(cli, ["runs", "--db", str(tmp_path / "s.db"), "--output", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert [r["id"] for r in data] == ["r1"] and data[0]["outcome"] == "ok"
    res = runner.invoke(cli, ["runs", "show", "r1", "--db", str(tmp_path / "s.db")])
    assert res.exit_code == 0, res.output
    assert "eos-tor-001" in res.output and "+x" in res.output
    res = runner.invoke(cli, ["runs", "show", "nope", "--db", str(tmp_path / "s.db")])
    assert isinstance(res.exception, UsageError)


def test_error_text_with_brackets_is_printed_not_parsed_as_markup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "300")  # one line per table row
    # "[/...]" is a closing tag to rich: unescaped, it raised mid-deploy from the progress line
    error = "RuntimeError: refused [/etc/ssl] [bold]x"
    ProgressView().message("error", "eos-tor-001", error)
    assert error in capsys.readouterr().err
    db = StateDB(tmp_path / "s.db")
    db.create_run("r1", kind="deploy", inventory="i", intent_hash="h", dry_run=False, options={})
    db.save_host("r1", HostRow("eos-tor-001", "switch", error=error))
    db.finish_run("r1", "failed", error)
    from fabric.cli import cli

    for args in (["runs"], ["runs", "show", "r1"]):
        res = CliRunner().invoke(cli, [*args, "--db", str(tmp_path / "s.db")])
        assert res.exit_code == 0, res.output
        assert error in res.output, args


def test_rollback_refused_after_it_was_recorded_is_finished_as_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fabric.state_db import Snapshot, utcnow
    from fabric.workflows.rollback import RollbackOptions, rollback

    monkeypatch.setenv("FABRIC_LAB_DIR", str(tmp_path / "no-lab"))
    paths = dataclasses.replace(_paths(), state=tmp_path)
    db = StateDB(tmp_path / "s.db")
    db.create_run("r1", kind="deploy", inventory="i", intent_hash="h", dry_run=False, options={})
    db.save_host("r1", HostRow("eos-tor-001", "switch", changed=True, committed=True))
    snap = Snapshot("eos-tor-001", "eos_running_config", "running-config", RUNNING, utcnow())
    db.save_snapshots("r1", [snap])
    db.finish_run("r1", "ok")
    opts = RollbackOptions(lab=True, commit=True, db=tmp_path / "s.db")
    with pytest.raises(UsageError, match="no lab is running"):
        rollback(paths, "r1", opts)
    (rb,) = [r for r in db.list_runs() if r.kind == "rollback"]
    assert rb.outcome == "failed" and rb.error and "no lab is running" in rb.error
    assert db.get_run("r1").outcome == "ok"  # the deploy was not rolled back
