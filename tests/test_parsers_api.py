"""Parser library and CLI: command normalisation, errors, secrets, template conventions."""

from __future__ import annotations

import doctest
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import fabric.parsing.calico
import fabric.parsing.common
import fabric.parsing.eos
from fabric.cli import cli
from fabric.errors import ParseError, UsageError
from fabric.models.parsed import BgpSummary, CalicoNodeStatus, PodList, RouteTable
from fabric.parsing import find_parser, normalise_command, parse
from fabric.parsing.engine import TemplateError, load_template

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "parsers"
SEED_BGP = (DATA / "arista_eos" / "show_ip_bgp_summary" / "seed_collapsed.txt").read_text()


@pytest.mark.parametrize(
    ("platform", "command", "name"),
    [
        ("arista_eos", "show ip bgp summary vrf all", "show ip bgp summary"),
        ("arista_eos", "show ipv6 bgp summary", "show ipv6 bgp summary"),
        ("arista_eos", "show bgp ipv6 unicast summary vrf all", "show ipv6 bgp summary"),
        ("arista_eos", "show bgp ipv4 unicast summary", "show ip bgp summary"),
        ("arista_eos", "show ipv6 route vrf all", "show ipv6 route"),
        ("arista_eos", "show ipv6 route bgp", "show ipv6 route"),
        ("arista_eos", "show ipv6 route vrf BLUE fd00:10::/32 longer-prefixes", "show ipv6 route"),
        ("arista_eos", "show ip route vrf all 10.0.0.0/8 longer-prefixes bgp", "show ip route"),
        ("calico", "calicoctl status", "calicoctl node status"),
        ("calico", "birdcl -s /var/run/calico/bird6.ctl show protocols", "birdcl show protocols"),
        ("calico", "birdcl6 -s /var/run/calico/bird6.ctl show protocols", "birdcl show protocols"),
        ("calico", "birdc show protocols", "birdcl show protocols"),
        ("calico", "sudo birdc s p", "birdcl show protocols"),
        ("calico", "birdc -r -s /run/bird/bird.ctl show protocol", "birdcl show protocols"),
        ("eos", "show ip route vrf management", "show ip route"),
        ("arista_eos", "show ip route vrf all", "show ip route"),
        ("arista_eos", "show running-config", "show running-config"),
        (
            "arista_eos",
            "show running-config section router bgp",
            "show running-config section router bgp",
        ),
        ("calico", "sudo calicoctl node status", "calicoctl node status"),
        ("calico", "sudo kubectl calico node status", "calicoctl node status"),
        (
            "calico",
            "kubectl exec -n calico-system calico-node-x -- birdcl show protocols",
            "birdcl show protocols",
        ),
        ("calico", "birdcl -s /var/run/calico/bird.ctl show protocols", "birdcl show protocols"),
        ("kubernetes", "kubectl get pods -o wide -A", "kubectl get pods -o wide"),
        (
            "kubernetes",
            "kubectl get pods -owide -A | grep kube-worker-001",
            "kubectl get pods -o wide",
        ),
        ("kubernetes", "kubectl get po --all-namespaces -o wide", "kubectl get pods -o wide"),
        ("kubernetes", "kubectl get svc -A -owide", "kubectl get svc -o wide"),
        ("kubernetes", "kubectl -n kube-system get services -o wide", "kubectl get svc -o wide"),
    ],
)
def test_commands_map_to_their_parser(platform: str, command: str, name: str) -> None:
    assert find_parser(platform, command).name == name


@pytest.mark.parametrize(
    ("platform", "command"),
    [
        ("arista_eos", "show version"),
        ("arista_eos", "show ip route summary"),
        ("arista_eos", "show ipv6 route detail"),
        ("junos", "show route"),
        ("calico", "show ip route"),
    ],
)
def test_unknown_commands_are_usage_errors(platform: str, command: str) -> None:
    with pytest.raises(UsageError):
        find_parser(platform, command)


def test_normalise_command_strips_pipes_and_sudo() -> None:
    assert normalise_command("sudo  calicoctl   node status | tee x") == "calicoctl node status"


def test_models_are_the_documented_ones() -> None:
    assert isinstance(parse("arista_eos", "show ip bgp summary", SEED_BGP), BgpSummary)
    routes = (DATA / "arista_eos" / "show_ip_route" / "seed_collapsed_default.txt").read_text()
    assert isinstance(parse("arista_eos", "show ip route", routes), RouteTable)
    status = (DATA / "calico" / "calicoctl_node_status" / "seed_collapsed_3.txt").read_text()
    assert isinstance(parse("calico", "kubectl calico node status", status), CalicoNodeStatus)
    pods = (DATA / "kubernetes" / "kubectl_get_pods" / "seed_collapsed_grep_worker.txt").read_text()
    assert isinstance(parse("kubernetes", "kubectl get pods -owide -A", pods), PodList)


def test_an_extra_unknown_line_in_a_table_is_an_error() -> None:
    text = SEED_BGP + "172.21.1.28 4 65535 16 15 0 0 00:09:26 Estab 3 3 extra\n"
    with pytest.raises(ParseError) as info:
        parse("arista_eos", "show ip bgp summary", text)
    assert info.value.line == "172.21.1.28 4 65535 16 15 0 0 00:09:26 Estab 3 3 extra"
    assert "show ip bgp summary" in str(info.value)


def test_a_dropped_row_is_never_silent() -> None:
    lines = SEED_BGP.splitlines()
    lines.insert(5, "# 172.21.1.9 4 65535 16 15 0 0 00:09:28 Estab 3 3")
    with pytest.raises(ParseError):
        parse("arista_eos", "show ip bgp summary", "\n".join(lines))


def test_password_is_reported_as_set_never_as_text() -> None:
    path = DATA / "arista_eos" / "show_running-config_section_router_bgp"
    text = (path / "crafted_vrfs_groups_listen_password.txt").read_text()
    for engine in ("lines", "ttp"):
        state = parse("arista_eos", "show running-config section router bgp", text, engine=engine)
        dumped = json.dumps(state.model_dump(mode="json"))
        assert "Q2xlYXJseU5vdEFTZWNyZXQ=" not in dumped
        assert "QW5vdGhlclNlY3JldA==" not in dumped
        assert '"password_set": true' in dumped


def test_cli_prints_contract_json(tmp_path: Path) -> None:
    out = tmp_path / "bgp.txt"
    out.write_text(SEED_BGP)
    result = CliRunner().invoke(cli, ["parse", "arista_eos", "show ip bgp summary", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [p["neighbor"] for p in data["vrfs"]["default"]["peers"]] == [
        "172.21.1.8",
        "172.21.1.18",
    ]
    assert data["vrfs"]["default"]["peers"][0]["pfx_acc"] == 3


@pytest.mark.parametrize(
    ("platform", "command", "sample", "check"),
    [
        (
            "arista_eos",
            "show ipv6 route vrf all",
            "arista_eos/show_ipv6_route/crafted_link_local_ecmp_vrf_all_prompt.txt",
            lambda d: d["vrfs"]["default"]["routes"][5]["next_hops"][2]["address"] == "fd00:21::19",
        ),
        (
            "arista_eos",
            "show ipv6 bgp summary",
            "arista_eos/show_ipv6_bgp_summary/crafted_dual_stack_leaf_prompt.txt",
            lambda d: (
                d["vrfs"]["default"]["peers"][4]["neighbor"] == "fe80::5200:ff:fe15:f4e8%Vl4094"
            ),
        ),
        (
            "arista_eos",
            "show ip route vrf all",
            "arista_eos/show_ip_route/crafted_sr_tilfa_nested_prompt.txt",
            lambda d: (
                [len(r["next_hops"]) for r in d["vrfs"]["BLUE"]["routes"]] == [2, 1, 1, 1]
                and d["vrfs"]["BLUE"]["routes"][1]["backup_next_hops"][0]["address"] == "10.1.6.6"
            ),
        ),
        (
            "calico",
            "sudo calicoctl status",
            "calico/calicoctl_node_status/crafted_container_status_dual_stack.txt",
            lambda d: len(d["ipv6"]["peers"]) == 3 and d["ipv6"]["address_configured"] is True,
        ),
        (
            "calico",
            "kubectl exec -n calico-system calico-node-x -- birdcl -s /var/run/calico/bird6.ctl"
            " show protocols",
            "calico/birdcl_show_protocols/crafted_bird6_calico_prompt.txt",
            lambda d: d["protocols"][4]["peer_address"] == "fd00:21::10",
        ),
    ],
    ids=["ipv6-route", "ipv6-bgp", "sr-route", "calicoctl-1x", "bird6"],
)
def test_cli_parses_the_new_commands(
    platform: str, command: str, sample: str, check: Callable[[dict[str, Any]], bool]
) -> None:
    result = CliRunner().invoke(cli, ["parse", platform, command, str(DATA / sample)])
    assert result.exit_code == 0, result.output
    assert check(json.loads(result.output))


def test_cli_reads_stdin_and_fails_with_exit_code_5() -> None:
    from fabric.cli import main

    runner = CliRunner()
    result = runner.invoke(
        cli, ["parse", "calico", "calicoctl node status", "-"], input="hello world\n"
    )
    assert isinstance(result.exception, ParseError)
    with pytest.raises(SystemExit) as info:
        import io
        import sys

        saved = sys.stdin
        sys.stdin = io.StringIO("hello world\n")
        try:
            main(["parse", "calico", "calicoctl node status"])
        finally:
            sys.stdin = saved
    assert info.value.code == 5


def test_every_template_documents_itself() -> None:
    for path in sorted((ROOT / "parsers").rglob("*.ttp")):
        template = load_template(path)
        assert "Output (fabric.models.parsed." in template.doc, path
        assert len(template.forms) >= 3, path


def test_set_function_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.ttp"
    path.write_text(
        '<doc>x</doc>\n<group name="lines*" method="table">\n'
        'Gateway of last resort is not set {{ kind | set("gw") }}\n</group>\n'
    )
    with pytest.raises(TemplateError):
        load_template(path)


@pytest.mark.parametrize(
    "module", [fabric.parsing.common, fabric.parsing.eos, fabric.parsing.calico]
)
def test_doctests(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0
