"""calico-node in the lab without sockets.

Autodetection, container commands, BIRD's log, the exec status, the Calico API modes' resource
sets and custom resource validation.
"""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from fabric.lab.credential import credential
from fabric.lab.k8s import resources, validation
from fabric.lab.k8s.calico_node import (
    BirdLog,
    CalicoNodeContainer,
    HostInterface,
    NodeRuntime,
    detect_ipv4,
)
from fabric.lab.k8s.podexec import ExecResult, SubresourceError, container_for, status_bytes
from fabric.lab.model import NodeBgpView, NodePeerView
from fabric.parsing import parse

ETH0 = HostInterface("eth0", ipaddress.IPv4Interface("172.21.0.8/24"))
ETH1 = HostInterface("eth1", ipaddress.IPv4Interface("172.21.1.8/24"))
TWO_NETWORKS = [ETH0, ETH1]


# --------------------------------------------------------------------------- autodetection


@pytest.mark.parametrize(
    ("method", "address", "message"),
    [
        (None, "172.21.0.8/24", "on interface eth0: 172.21.0.8/24"),
        ({"firstFound": True}, "172.21.0.8/24", "autodetection_methods.go 103: Using"),
        ({"interface": "eth1"}, "172.21.1.8/24", "172.21.1.8/24 on matching interface eth1"),
        ({"interface": "ens.*,eth1"}, "172.21.1.8/24", "on matching interface eth1"),
        ({"skipInterface": "eth0"}, "172.21.1.8/24", "while skipping matching interfaces"),
        ({"cidrs": ["172.21.1.0/24"]}, "172.21.1.8/24", "matching cidrs [172.21.1.0/24]"),
        ({"canReach": "172.21.1.254"}, "172.21.1.8/24", "detected by connecting to 172.21.1.254"),
        ({"canReach": "8.8.8.8"}, "172.21.0.8/24", "detected by connecting to 8.8.8.8"),
        ({"kubernetes": "NodeInternalIP"}, "172.21.0.8/24", 'CIDR="172.21.0.8/24"'),
        ({"interface": "bond0"}, None, "using interface regexes [bond0]"),
        ({"cidrs": ["10.0.0.0/8"]}, None, "Couldn't autodetect an IPv4 address"),
    ],
)
def test_autodetection_methods(method: Any, address: str | None, message: str) -> None:
    found = detect_ipv4(method, TWO_NETWORKS, internal_ip="172.21.0.8", default_interface="eth0")
    assert (found.address.with_prefixlen if found.address else None) == address
    lines = [f"{r.file} {r.line}: {r.message}" for r in found.records]
    assert any(message in line for line in lines), lines
    if address is None:
        assert found.records[-1].message == "Terminating"


def test_first_found_skips_calico_and_docker_interfaces() -> None:
    ifaces = [HostInterface("cali1234", ipaddress.IPv4Interface("10.1.1.1/32")),
              HostInterface("docker0", ipaddress.IPv4Interface("172.17.0.1/16")), ETH1]  # fmt: skip
    found = detect_ipv4(None, ifaces, internal_ip=None, default_interface="eth1")
    assert found.interface == "eth1"


# --------------------------------------------------------------------------- the container


def _peer(addr: str, kind: str, state: str = "up", info: str = "Established") -> NodePeerView:
    return NodePeerView(addr, kind, state, 1000.0, info)  # type: ignore[arg-type]


UP = NodeBgpView(True, [_peer("172.21.0.18", "node-to-node mesh"), _peer("172.21.1.254", "global")])
SWITCH_DOWN = NodeBgpView(
    True,
    [
        _peer("172.21.0.18", "node-to-node mesh"),
        _peer("172.21.1.254", "global", "start", "Connect"),
    ],
)
BIRD_DOWN = NodeBgpView(False)


def _container(view: NodeBgpView, bird_since: float = 1000.0, now: float = 5000.0) -> Any:
    state = NodeRuntime("kube-controlplane-001", view, bird_since, "v3.26.0")
    return CalicoNodeContainer(lambda: state, clock=lambda: now)


BIRDCL = ["birdcl", "-s", "/var/run/calico/bird.ctl", "show", "protocols"]
BIRDCL6 = ["birdcl", "-s", "/var/run/calico/bird6.ctl", "show", "protocols"]


@pytest.mark.parametrize(
    ("view", "argv", "code", "stdout", "stderr"),
    [
        (UP, BIRDCL, 0, "Global_172_21_1_254 BGP      master   up", ""),
        (UP, ["/usr/bin/birdcl", *BIRDCL[1:]], 0, "Mesh_172_21_0_18", ""),
        (SWITCH_DOWN, BIRDCL, 0, "Global_172_21_1_254 BGP      master   start", ""),
        (UP, BIRDCL6, 1, "", "control socket (/var/run/calico/bird6.ctl): No such file"),
        (BIRD_DOWN, BIRDCL, 1, "", "control socket (/var/run/calico/bird.ctl): No such file"),
        (UP, ["birdcl", "-s", "/var/run/calico/bird.ctl", "show", "route"], 1, "", "syntax"),
        (UP, ["calico-node", "-v"], 0, "v3.26.0\n", ""),
        (UP, ["calico-node", "-bird-ready"], 0, "", ""),
        (SWITCH_DOWN, ["calico-node", "-bird-ready"], 0, "", ""),  # one peering is enough
        (NodeBgpView(True, [_peer("172.21.1.254", "global", "start", "Connect")]),
         ["calico-node", "-bird-ready"], 1,
         "BIRD is not ready: BGP not established with 172.21.1.254\n", ""),
        (BIRD_DOWN, ["calico-node", "-bird-ready", "-felix-ready"], 1,
         "dial unix /var/run/calico/bird.ctl: connect: no such file or directory", ""),
        (UP, ["calico-node", "-show-status"], 1, "", "is not modelled"),
        (UP, ["hostname"], 0, "kube-controlplane-001\n", ""),
        (UP, ["sh", "-c", "birdcl -s /var/run/calico/bird.ctl show protocols"], 0, "Mesh_", ""),
        (UP, ["sh", "-c", "ip route"], 127, "", "sh: ip: command not found\n"),
        (UP, ["bash", "-c", "birdcl show protocols | grep Mesh"], 2, "", "one simple command"),
    ],
)  # fmt: skip
def test_container_commands(
    view: NodeBgpView, argv: list[str], code: int, stdout: str, stderr: str
) -> None:
    result = _container(view).run(argv)
    assert result.runtime_error is None
    assert (result.exit_code, stdout in result.stdout, stderr in result.stderr) == (
        code, True, True
    ), result  # fmt: skip


def test_young_bird_needs_every_peering_to_be_ready() -> None:
    result = _container(SWITCH_DOWN, bird_since=4990.0, now=5000.0).run(
        ["calico-node", "-bird-ready"]
    )
    assert result.exit_code == 1
    assert "BGP not established with 172.21.1.254" in result.stdout


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["ip", "route"], 'exec: "ip": executable file not found in $PATH: unknown'),
        (["/sbin/ip"], 'exec: "/sbin/ip": stat /sbin/ip: no such file or directory: unknown'),
        (["/opt/birdcl"], "stat /opt/birdcl: no such file or directory"),
    ],
)
def test_missing_binaries_fail_in_the_runtime(argv: list[str], text: str) -> None:
    result = _container(UP).run(argv)
    assert result.runtime_error is not None and text in result.runtime_error
    assert result.runtime_error.startswith('failed to exec in container: failed to start exec "')


def test_birdcl_output_parses_as_birdcl() -> None:
    out = _container(SWITCH_DOWN).run(BIRDCL).stdout
    rows = {p.name: p for p in parse("calico", "birdcl show protocols", out).protocols}
    assert rows["Mesh_172_21_0_18"].info == "Established"
    assert (rows["Global_172_21_1_254"].state, rows["Global_172_21_1_254"].info) == (
        "start", "Connect"
    )  # fmt: skip


# --------------------------------------------------------------------------- BIRD's log


def test_bird_log_follows_state_changes() -> None:
    log = BirdLog(pid=61)
    log.observe(UP, 1000.0, 1000.0)
    texts = [line.text for line in log.lines]
    assert texts[0] == "bird: device1: Initializing"
    assert "bird: Started" in texts
    assert texts[-3:] == [
        "bird: Global_172_21_1_254: Connected to table master",
        "bird: Global_172_21_1_254: State changed to feed",
        "bird: Global_172_21_1_254: State changed to up",
    ]
    start = len(log.lines)
    log.observe(SWITCH_DOWN, 1000.0, 2000.0)
    assert [line.text for line in log.lines[start:]] == [
        "bird: Global_172_21_1_254: Error: Hold timer expired",
        "bird: Global_172_21_1_254: State changed to stop",
        "bird: Global_172_21_1_254: State changed to down",
        "bird: Global_172_21_1_254: Starting",
        "bird: Global_172_21_1_254: State changed to start",
    ]
    start = len(log.lines)
    log.observe(SWITCH_DOWN, 1000.0, 2500.0)
    assert log.lines[start:] == []  # nothing changed, nothing logged
    log.observe(NodeBgpView(True, [_peer("172.21.0.18", "node-to-node mesh")]), 1000.0, 3000.0)
    assert [line.text for line in log.lines[start:]][:3] == [
        "bird: Reconfiguring",
        "bird: Global_172_21_1_254: Shutting down",
        "bird: Global_172_21_1_254: State changed to stop",
    ]


def test_bird_log_restarts_after_bird_was_down() -> None:
    log = BirdLog(pid=61)
    log.observe(UP, 1000.0, 1000.0)
    log.observe(BIRD_DOWN, 1000.0, 2000.0)
    start = len(log.lines)
    log.observe(UP, 2500.0, 3000.0)
    texts = [line.text for line in log.lines[start:]]
    assert texts[0] == "bird: device1: Initializing" and "bird: Started" in texts


# --------------------------------------------------------------------------- exec status


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (ExecResult(), {"metadata": {}, "status": "Success"}),
        (
            ExecResult(exit_code=3),
            {
                "metadata": {},
                "status": "Failure",
                "message": "command terminated with non-zero exit code: error executing "
                "command [birdcl show protocols], exit code 3",
                "reason": "NonZeroExitCode",
                "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
            },
        ),
        (
            ExecResult(runtime_error="boom"),
            {
                "metadata": {},
                "status": "Failure",
                "message": "Internal error occurred: error executing command in container: boom",
                "reason": "InternalError",
                "details": {"causes": [{"message": "error executing command in container: boom"}]},
                "code": 500,
            },
        ),
    ],
)
def test_exec_status_is_the_kubelets(result: ExecResult, expected: dict[str, Any]) -> None:
    raw = status_bytes(result, ["birdcl", "show", "protocols"])
    assert json.loads(raw) == expected
    assert list(json.loads(raw)) == list(expected)  # Go's field order


POD = {
    "metadata": {"name": "calico-node-x"},
    "spec": {
        "containers": [{"name": "calico-node"}, {"name": "sidecar"}],
        "initContainers": [{"name": "install-cni"}],
    },
}


@pytest.mark.parametrize(
    ("requested", "outcome"),
    [
        ("calico-node", "calico-node"),
        ("install-cni", "install-cni"),
        ("nope", "container nope is not valid for pod calico-node-x"),
        (
            None,
            "a container name must be specified for pod calico-node-x, choose one of: "
            "[calico-node sidecar] or one of the init containers: [install-cni]",
        ),
    ],
)
def test_container_choice(requested: str | None, outcome: str) -> None:
    try:
        got = container_for(POD, requested)
    except SubresourceError as err:
        got = err.message
    assert got == outcome


# --------------------------------------------------------------------------- API modes


def test_modes_serve_one_calico_group_each() -> None:
    v3 = {r.group for r in resources.served("v3")}
    crd = {r.group for r in resources.served("crd")}
    assert "projectcalico.org" in v3 and "crd.projectcalico.org" not in v3
    assert "crd.projectcalico.org" in crd and "projectcalico.org" not in crd
    both = {"apiextensions.k8s.io", "operator.tigera.io"}
    assert both <= v3 and both <= crd
    kinds = {r.kind for r in resources.served("crd") if r.group == "crd.projectcalico.org"}
    assert {"BGPConfiguration", "BGPPeer", "IPPool", "BlockAffinity", "IPAMBlock",
            "ClusterInformation", "FelixConfiguration"} <= kinds  # fmt: skip
    # Calico keeps its Node in the core Node's annotations: there is no Node custom resource.
    assert "Node" not in kinds
    with pytest.raises(ValueError, match="calico_api"):
        resources.served("v1")


def test_crds_are_calicos_manifests() -> None:
    crds = {c["metadata"]["name"]: c for c in resources.custom_resource_definitions()}
    assert len([n for n in crds if n.endswith(".crd.projectcalico.org")]) == 18  # v3.26.4
    affinity = crds["blockaffinities.crd.projectcalico.org"]
    assert affinity["spec"]["scope"] == "Cluster"
    assert affinity["spec"]["names"]["listKind"] == "BlockAffinityList"
    conditions = {c["type"]: c["status"] for c in affinity["status"]["conditions"]}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crds["installations.operator.tigera.io"]["spec"]["names"]["kind"] == "Installation"
    # Only CRDs that declare it have a status subresource (Calico's do not).
    peer = resources.by_kind("crd.projectcalico.org/v1", "BGPPeer")
    installation = resources.by_kind("operator.tigera.io/v1", "Installation")
    assert peer is not None and installation is not None
    assert (peer.has_status, installation.has_status) == (False, True)


@pytest.mark.parametrize(
    ("kind", "spec", "errors"),
    [
        ("Installation", {"calicoNetwork": {"bgp": "Enabled"}}, []),
        (
            "Installation",
            {"calicoNetwork": {"bgp": "On"}},
            ['spec.calicoNetwork.bgp: Unsupported value: "On": supported values: "Enabled", '
             '"Disabled"'],
        ),
        (
            "Installation",
            {"calicoNetwork": {"ipPools": [{"blockSize": "26"}]}},
            ["spec.calicoNetwork.ipPools[0].cidr: Required value",
             'spec.calicoNetwork.ipPools[0].blockSize: Invalid value: "string": '
             'spec.calicoNetwork.ipPools[0].blockSize in body must be of type integer: "string"'],
        ),
        (
            "BlockAffinity",
            {"cidr": "10.0.0.0/26", "node": "n1", "state": "confirmed"},
            ["spec.deleted: Required value"],
        ),
    ],
)  # fmt: skip
def test_custom_resource_schema_errors(kind: str, spec: dict[str, Any], errors: list[str]) -> None:
    group = "operator.tigera.io/v1" if kind == "Installation" else "crd.projectcalico.org/v1"
    rtype = resources.by_kind(group, kind)
    assert rtype is not None
    obj = {"apiVersion": group, "kind": kind, "metadata": {"name": "default"}, "spec": spec}
    assert [str(e) for e in validation.validate(rtype, obj)] == errors


def test_unknown_custom_resource_fields_are_known_from_the_schema() -> None:
    rtype = resources.by_kind("crd.projectcalico.org/v1", "BGPPeer")
    assert rtype is not None
    obj = {"spec": {"peerIP": "10.0.0.1", "asNumber": 65000, "bogus": 1}, "status": {}}
    assert resources.unknown_fields(obj, rtype.schema()) == ["spec.bogus", "status"]


# --------------------------------------------------------------------------- exec credential


def test_exec_credential_prints_the_lab_token(tmp_path: Path) -> None:
    (tmp_path / "credentials.json").write_text(json.dumps({"kube_token": "t0k"}))
    info = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "x"})
    cred = credential(tmp_path, info)
    assert cred["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert cred["kind"] == "ExecCredential"
    assert cred["status"]["token"] == "t0k"  # type: ignore[index]
    with pytest.raises(ValueError, match="unsupported"):
        credential(tmp_path, json.dumps({"apiVersion": "client.authentication.k8s.io/v2"}))
