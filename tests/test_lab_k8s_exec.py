"""calico-node pods of the lab (Calico API v3, operator install) against the real clients.

``kubectl exec`` (the default kubectl, which speaks SPDY to the lab's 1.28 server, and a
kubectl >= 1.30 when one is installed next to it, which speaks WebSocket v5), the ``kubernetes``
client's ``stream()`` (WebSocket v5, with and without ``_preload_content``), a raw WebSocket on
v4, ``kubectl logs``, the exec-plugin kubeconfig, and the operator's objects steering calico-node.
One seeded lab for the module; tests that change the lab put it back.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import shutil
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import require_tool
from kubernetes import client as kclient
from kubernetes import config as kconfig
from kubernetes.stream import stream
from kubernetes.stream.ws_client import ERROR_CHANNEL, create_websocket, get_websocket_url

from fabric.parsing import parse

pytestmark = pytest.mark.lab

NS = "calico-system"
CP, WK = "kube-controlplane-001", "kube-worker-001"
POD = {CP: "calico-node-t8877", WK: "calico-node-4gfsc"}
BIRDCL = ["birdcl", "-s", "/var/run/calico/bird.ctl", "show", "protocols"]
BIRDCL6 = ["birdcl", "-s", "/var/run/calico/bird6.ctl", "show", "protocols"]
INSTALLATION = ("operator.tigera.io", "v1", "installations", "default")


@pytest.fixture(scope="module")
def lab(lab_factory: Any) -> Any:
    return lab_factory(seeded=True)


@pytest.fixture(scope="module")
def api(lab: Any) -> Iterator[kclient.ApiClient]:
    client = kconfig.new_client_from_config(config_file=str(lab.lab_dir / "kubeconfig"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def core(api: kclient.ApiClient) -> kclient.CoreV1Api:
    return kclient.CoreV1Api(api)


@pytest.fixture(scope="module")
def custom(api: kclient.ApiClient) -> kclient.CustomObjectsApi:
    return kclient.CustomObjectsApi(api)


def _kubectls() -> list[str]:
    """The default kubectl, plus a WebSocket-speaking one (>= 1.30) installed next to it."""
    path = shutil.which("kubectl")
    if path is None:
        return ["kubectl"]  # require_tool() skips (or fails in CI)
    newer = sorted(
        Path(os.path.realpath(path)).parent.glob("kubectl.1.*"),
        key=lambda p: int(p.name.rsplit(".", 1)[1]),
    )
    return ["kubectl", *[str(p) for p in newer[-1:] if int(p.name.rsplit(".", 1)[1]) >= 30]]


@pytest.fixture(scope="module", params=_kubectls(), ids=lambda p: Path(p).name)
def kubectl(request: pytest.FixtureRequest, lab: Any, tmp_path_factory: pytest.TempPathFactory
            ) -> Callable[..., subprocess.CompletedProcess[str]]:  # fmt: skip
    binary = require_tool("kubectl") if request.param == "kubectl" else request.param
    home = tmp_path_factory.mktemp("kubectl-home")

    def run(*args: str, kubeconfig: str = "kubeconfig") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, "--kubeconfig", str(lab.lab_dir / kubeconfig), *args],
            capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(home)},
        )  # fmt: skip

    return run


def _exec(core: kclient.CoreV1Api, node: str, command: list[str], **kw: Any) -> Any:
    with _client_socket_leak():
        return stream(
            core.connect_get_namespaced_pod_exec, POD[node], NS, command=command,
            container="calico-node", stderr=True, stdin=False, stdout=True, tty=False, **kw,
        )  # fmt: skip


@contextlib.contextmanager
def _client_socket_leak() -> Iterator[None]:
    """``stream()`` with ``_preload_content`` (the default) never closes its WebSocket.

    ``kubernetes.stream.ws_client.websocket_call`` reads everything and returns the text without
    closing the client; its socket is only closed when collected, with a ResourceWarning. This
    collects it here, where that known leak of the client is expected.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield
        gc.collect()


def _done(ws: Any) -> None:
    """Close a ``WSClient`` and its socket (``close()`` skips the socket once the peer closed)."""
    ws.close()
    ws.sock.shutdown()


def _protocols(text: str) -> dict[str, tuple[str, str | None]]:
    parsed = parse("calico", "birdcl show protocols", text)
    return {p.name: (p.state, p.info) for p in parsed.protocols if p.proto == "BGP"}


# --------------------------------------------------------------------------- the Python client


def test_python_client_exec_birdcl_matches_the_simulation(lab: Any, core: Any) -> None:
    out = _exec(core, CP, BIRDCL)
    assert out.startswith("BIRD v0.3.3+birdv1.6.8 ready.\n")
    assert _protocols(out) == {
        "Mesh_172_21_0_18": ("up", "Established"),
        "Global_172_21_1_254": ("up", "Established"),
    }
    view = lab.node_bgp_view(CP)
    assert [p.peer_address for p in view.ipv4_peers] == ["172.21.0.18", "172.21.1.254"]


@pytest.mark.parametrize(
    ("command", "code", "stdout", "stderr"),
    [
        (BIRDCL, 0, "Global_172_21_1_254", ""),
        (BIRDCL6, 1, "", "control socket (/var/run/calico/bird6.ctl): No such file or directory"),
        (["sh", "-c", "ip route"], 127, "", "sh: ip: command not found"),
        (["calico-node", "-bird-ready", "-felix-live"], 0, "", ""),
    ],
)
def test_python_client_exit_codes(
    core: Any, command: list[str], code: int, stdout: str, stderr: str
) -> None:
    ws = _exec(core, WK, command, _preload_content=False)
    ws.run_forever(timeout=10)
    assert ws.subprotocol == "v5.channel.k8s.io"
    assert stdout in ws.read_stdout() and stderr in ws.read_stderr()
    assert ws.returncode == code
    _done(ws)


def test_python_client_sees_the_runtime_error_for_a_missing_binary(core: Any) -> None:
    ws = _exec(core, WK, ["ip", "route"], _preload_content=False)
    ws.run_forever(timeout=10)
    status = json.loads(ws.read_channel(ERROR_CHANNEL))
    _done(ws)
    assert (status["reason"], status["code"]) == ("InternalError", 500)
    assert 'exec: "ip": executable file not found in $PATH' in status["message"]


def test_v4_channel_protocol(lab: Any, api: kclient.ApiClient) -> None:
    """A v4 client: no opening frame, output, then the Status on channel 3, then close."""
    conf = api.configuration
    path = f"/api/v1/namespaces/{NS}/pods/{POD[CP]}/exec"
    query = [("command", ["birdcl", "-s", "/var/run/calico/bird6.ctl", "show", "protocols"]),
             ("container", "calico-node"), ("stdout", "true"), ("stderr", "true")]  # fmt: skip
    token = yaml.safe_load((lab.lab_dir / "kubeconfig").read_text())["users"][0]["user"]["token"]
    ws = create_websocket(
        conf, get_websocket_url(conf.host + path, query),
        {"authorization": f"Bearer {token}", "sec-websocket-protocol": "v4.channel.k8s.io"},
    )  # fmt: skip
    headers = {k.lower(): v for k, v in ws.getheaders().items()}
    assert headers["sec-websocket-protocol"] == "v4.channel.k8s.io"
    frames = []
    while ws.connected:
        op, frame = ws.recv_data_frame(True)
        if op == 8:  # close
            assert int.from_bytes(frame.data[:2], "big") == 1000
            break
        frames.append((frame.data[0], frame.data[1:]))
    ws.shutdown()  # the server closed already: close() would skip closing the socket
    assert [c for c, _ in frames] == [2, 3]
    status = json.loads(frames[1][1])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "1"}]


# --------------------------------------------------------------------------- real kubectl


def test_kubectl_exec_birdcl_and_exit_codes(kubectl: Any) -> None:
    pod = ["-n", NS, POD[WK], "--"]
    ok = kubectl("exec", *pod, *BIRDCL)
    assert ok.returncode == 0, ok.stderr
    # kubectl >= 1.21 names every container; older ones only say which one they took
    assert (
        'Defaulted container "calico-node" out of: calico-node, flexvol-driver (init), '
        "install-cni (init)"
        in ok.stderr
        or "Defaulting container name to calico-node" in ok.stderr
    )
    assert _protocols(ok.stdout)["Global_172_21_1_254"] == ("up", "Established")
    bird6 = kubectl("exec", *pod, *BIRDCL6)
    assert bird6.returncode == 1
    assert "command terminated with exit code 1" in bird6.stderr
    shell = kubectl("exec", *pod, "sh", "-c", "ip route")
    assert (shell.returncode, "sh: ip: command not found" in shell.stderr) == (127, True)
    missing = kubectl("exec", *pod, "ip", "route")
    assert missing.returncode == 1
    assert "error: Internal error occurred: error executing command in container" in missing.stderr
    assert 'exec: "ip": executable file not found in $PATH: unknown' in missing.stderr


def test_kubectl_exec_errors_before_the_upgrade(kubectl: Any) -> None:
    nope = kubectl("exec", "-n", NS, "calico-node-nope", "--", "hostname")
    assert nope.returncode == 1 and 'pods "calico-node-nope" not found' in nope.stderr
    init = kubectl("exec", "-n", NS, "-c", "install-cni", POD[WK], "--", "hostname")
    assert "container is in CONTAINER_EXITED state" in init.stderr


# --------------------------------------------------------------------------- faults and logs


def test_link_down_shows_in_birdcl_and_in_kubectl_logs(lab: Any, core: Any, kubectl: Any) -> None:
    lab.fault("eos-tor-001", "link-down")
    try:
        rows = _protocols(_exec(core, CP, BIRDCL))
        assert rows["Global_172_21_1_254"] == ("start", "Connect")
        assert rows["Mesh_172_21_0_18"] == ("up", "Established")  # the mesh is on management
        logs = kubectl("logs", "-n", NS, POD[CP], "-c", "calico-node")
        assert logs.returncode == 0, logs.stderr
        tail = logs.stdout.splitlines()[-5:]
        assert tail == [
            "bird: Global_172_21_1_254: Error: Hold timer expired",
            "bird: Global_172_21_1_254: State changed to stop",
            "bird: Global_172_21_1_254: State changed to down",
            "bird: Global_172_21_1_254: Starting",
            "bird: Global_172_21_1_254: State changed to start",
        ]
    finally:
        lab.clear_faults()
    assert _protocols(_exec(core, CP, BIRDCL))["Global_172_21_1_254"] == ("up", "Established")
    again = kubectl("logs", "-n", NS, POD[CP], "--tail=1", "--timestamps")
    assert again.stdout.rstrip().endswith("bird: Global_172_21_1_254: State changed to up")
    assert again.stdout[:4].isdigit() and "Z bird:" in again.stdout


def test_log_follow_streams_new_lines(lab: Any, core: Any) -> None:
    resp = core.read_namespaced_pod_log(
        POD[WK], NS, container="calico-node", follow=True, tail_lines=0, _preload_content=False
    )
    seen: list[str] = []

    def read() -> None:
        for chunk in resp.stream(256):
            seen.extend(chunk.decode().splitlines())
            if "bird: Started" in seen:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    lab.fault(WK, "bird-down")
    lab.clear_faults()  # BIRD back: its start-up lines follow
    reader.join(10)
    resp.close()
    assert "bird: Started" in seen, seen


def test_calico_node_startup_line_names_the_detected_address(core: Any) -> None:
    text = core.read_namespaced_pod_log(POD[CP], NS, container="calico-node")
    first = text.splitlines()[0]
    assert first.endswith(
        "startup/autodetection_methods.go 103: Using autodetected IPv4 address on interface "
        "eth0: 172.21.0.8/24"
    )
    assert first[:4].isdigit() and " [INFO][" in first


# --------------------------------------------------------------------------- exec plugin


def test_exec_plugin_kubeconfig_works_with_both_clients(lab: Any, kubectl: Any) -> None:
    cfg = lab.lab_dir / "kubeconfig-exec"
    assert lab.endpoints["hosts"]["k8s-cluster"]["kubeconfig_exec"] == str(cfg)
    assert "token" not in cfg.read_text()
    plugin = kconfig.new_client_from_config(config_file=str(cfg))
    try:
        names = [n.metadata.name for n in kclient.CoreV1Api(plugin).list_node().items]
        with _client_socket_leak():
            out = stream(
                kclient.CoreV1Api(plugin).connect_get_namespaced_pod_exec, POD[CP], NS,
                command=["hostname"], container="calico-node", stderr=True, stdout=True,
            )  # fmt: skip
    finally:
        plugin.close()
    assert names == [CP, WK]
    assert out == CP + "\n"
    got = kubectl("exec", "-n", NS, POD[CP], "--", "hostname", kubeconfig="kubeconfig-exec")
    assert (got.returncode, got.stdout) == (0, CP + "\n"), got.stderr


# --------------------------------------------------------------------------- the operator


def test_operator_objects_and_crds_are_served(custom: Any, api: kclient.ApiClient) -> None:
    inst = custom.get_cluster_custom_object(*INSTALLATION)
    network = inst["spec"]["calicoNetwork"]
    assert network["bgp"] == "Enabled"
    assert network["ipPools"][0] | {} == {
        "blockSize": 24, "cidr": "192.168.0.0/16", "disableBGPExport": False,
        "encapsulation": "None", "natOutgoing": "Enabled", "nodeSelector": "all()",
    }  # fmt: skip
    assert network["nodeAddressAutodetectionV4"] == {"firstFound": True}
    info = custom.get_cluster_custom_object(
        "projectcalico.org", "v3", "clusterinformations", "default"
    )
    assert info["spec"]["calicoVersion"] == inst["status"]["calicoVersion"] == "v3.26.0"
    assert custom.get_cluster_custom_object("operator.tigera.io", "v1", "apiservers", "default")
    crds = kclient.ApiextensionsV1Api(api).list_custom_resource_definition().items
    names = {c.metadata.name for c in crds}
    assert {"bgppeers.crd.projectcalico.org", "installations.operator.tigera.io"} <= names


def _patch_network(custom: Any, network: dict[str, Any]) -> None:
    custom.patch_cluster_custom_object(*INSTALLATION, {"spec": {"calicoNetwork": network}})


def _annotation(core: Any, node: str) -> str:
    return str(core.read_node(node).metadata.annotations["projectcalico.org/IPv4Address"])


@pytest.fixture
def restore_installation(custom: Any) -> Iterator[None]:
    yield
    _patch_network(custom, {"bgp": "Enabled", "nodeAddressAutodetectionV4": {
        "firstFound": True, "cidrs": None, "interface": None}})  # fmt: skip


def test_autodetection_follows_the_installation(
    lab: Any, core: Any, custom: Any, restore_installation: None
) -> None:
    assert _annotation(core, CP) == "172.21.0.8/24"  # firstFound: the management NIC
    peering = {"firstFound": None, "cidrs": ["172.21.1.0/24"]}
    _patch_network(custom, {"nodeAddressAutodetectionV4": peering})
    deadline = time.monotonic() + 5
    while _annotation(core, CP) != "172.21.1.8/24" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _annotation(core, WK) == "172.21.1.18/24"
    rows = _protocols(_exec(core, CP, BIRDCL))
    assert rows["Mesh_172_21_1_18"] == ("up", "Established")  # the mesh moved to peering
    log = core.read_namespaced_pod_log(POD[CP], NS, container="calico-node")
    assert (
        "monitor-addresses/autodetection_methods.go 131: Using autodetected IPv4 address "
        "172.21.1.8/24 on interface eth1 matching cidrs [172.21.1.0/24]" in log
    )
    assert "bird: Mesh_172_21_0_18: Shutting down" in log
    _patch_network(custom, {"nodeAddressAutodetectionV4": {"cidrs": None, "interface": "bond0"}})
    deadline = time.monotonic() + 5
    while (
        "Terminating" not in core.read_namespaced_pod_log(POD[CP], NS)
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    ws = _exec(core, CP, BIRDCL, _preload_content=False)
    ws.run_forever(timeout=10)
    assert ws.returncode == 1 and "bird.ctl): No such file" in ws.read_stderr()
    _done(ws)
    assert lab.switch_bgp_view("eos-tor-001").peers[0].state == "Active"


def test_bgp_disabled_stops_bird(
    lab: Any, core: Any, custom: Any, restore_installation: None
) -> None:
    _patch_network(custom, {"bgp": "Disabled"})
    deadline = time.monotonic() + 5
    while lab.node_bgp_view(WK).bird_running and time.monotonic() < deadline:
        time.sleep(0.05)
    ready = _exec(core, WK, ["calico-node", "-bird-ready"], _preload_content=False)
    ready.run_forever(timeout=10)
    _done(ready)
    assert ready.returncode == 1
    assert (
        "BIRD is not ready: Error querying BIRD: unable to connect to BIRDv4 socket"
        in ready.read_stdout()
    )
    assert {p.state for p in lab.switch_bgp_view("eos-tor-001").peers} == {"Active"}


def test_invalid_installation_is_refused(custom: Any) -> None:
    with pytest.raises(kclient.ApiException) as err:
        _patch_network(custom, {"bgp": "On"})
    assert err.value.status == 422
    assert (
        'spec.calicoNetwork.bgp: Unsupported value: "On"' in json.loads(err.value.body)["message"]
    )
