"""A cluster without the Calico API server: ``lab_factory(calico_api="crd")``.

As Kubespray and Calico's ``calico.yaml`` install it: calico-node in ``kube-system`` (no
operator, no ``Installation``), Calico's objects only as ``crd.projectcalico.org/v1`` custom
resources, Calico's Node data in the core Nodes' annotations. The real kubectl and the
``kubernetes`` client read and write them; the BGP simulation follows them. One lab per module.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import require_tool
from kubernetes import client as kclient
from kubernetes import config as kconfig
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.lab

CRD = ("crd.projectcalico.org", "v1")
SW, CP, WK = "eos-tor-001", "kube-controlplane-001", "kube-worker-001"
PEER_YAML = """\
apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata:
  name: global-peer
spec:
  peerIP: 172.21.1.254
  asNumber: 65535
"""


@pytest.fixture(scope="module")
def lab(lab_factory: Any) -> Any:
    return lab_factory(
        seeded=True, calico_api="crd", calico_namespace="kube-system", calico_version="v3.27.2"
    )


@pytest.fixture(scope="module")
def api(lab: Any) -> Iterator[kclient.ApiClient]:
    client = kconfig.new_client_from_config(config_file=str(lab.lab_dir / "kubeconfig"))
    yield client
    client.close()


@pytest.fixture(scope="module")
def custom(api: kclient.ApiClient) -> kclient.CustomObjectsApi:
    return kclient.CustomObjectsApi(api)


@pytest.fixture(scope="module")
def kubectl(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    binary = require_tool("kubectl")
    home = tmp_path_factory.mktemp("kubectl-home")

    def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, "--kubeconfig", str(lab.lab_dir / "kubeconfig"), *args], input=stdin,
            capture_output=True, text=True, timeout=60, env={**os.environ, "HOME": str(home)},
        )  # fmt: skip

    return run


def _states(lab: Any) -> dict[str, str]:
    return {p.neighbor: p.state for p in lab.switch_bgp_view(SW).peers}


def test_discovery_has_no_calico_api_server(api: kclient.ApiClient, custom: Any) -> None:
    groups = {g.name for g in kclient.ApisApi(api).get_api_versions().groups}
    assert "crd.projectcalico.org" in groups and "projectcalico.org" not in groups
    with pytest.raises(ApiException) as err:
        custom.list_cluster_custom_object("projectcalico.org", "v3", "bgppeers")
    assert err.value.status == 404
    assert kclient.CoreV1Api(api).list_namespace().items  # the rest of the cluster answers
    names = {n.metadata.name for n in kclient.CoreV1Api(api).list_namespace().items}
    assert "calico-apiserver" not in names


def test_kubectl_reads_the_custom_resources(kubectl: Any) -> None:
    got = kubectl("get", "bgpconfigurations.crd.projectcalico.org", "default", "-o", "json")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["spec"]["asNumber"] == 65535
    table = kubectl("get", "bgppeers.crd.projectcalico.org").stdout.splitlines()
    assert table[0].split() == ["NAME", "AGE"] and table[1].startswith("global-peer ")
    gone = kubectl("get", "bgppeers.projectcalico.org")
    assert gone.returncode == 1 and "doesn't have a resource type" in gone.stderr
    resources = kubectl("api-resources", "--api-group=crd.projectcalico.org").stdout
    assert "blockaffinities" in resources and "ipamblocks" in resources


def test_the_simulation_follows_the_custom_resources(lab: Any, kubectl: Any) -> None:
    assert _states(lab) == {"172.21.1.8": "Established", "172.21.1.18": "Established"}
    assert kubectl("delete", "bgppeers.crd.projectcalico.org", "global-peer").returncode == 0
    assert set(_states(lab).values()) == {"Active"}
    applied = kubectl("apply", "-f", "-", stdin=PEER_YAML)
    assert "bgppeer.crd.projectcalico.org/global-peer created" in applied.stdout, applied.stderr
    assert set(_states(lab).values()) == {"Established"}
    # BlockAffinities (IPAM) are custom resources too: the switch learns each node's block.
    assert {str(r.prefix) for r in lab.switch_bgp_view(SW).routes} >= {
        "192.168.170.0/24", "192.168.181.0/24"
    }  # fmt: skip


def test_node_as_number_is_a_core_node_annotation(lab: Any, api: kclient.ApiClient) -> None:
    core = kclient.CoreV1Api(api)
    key = "projectcalico.org/ASNumber"
    core.patch_node(WK, {"metadata": {"annotations": {key: "64999"}}})
    try:
        assert _states(lab)["172.21.1.18"] == "Active"  # the switch expects 65535
        worker = {p.peer_address: p for p in lab.node_bgp_view(WK).ipv4_peers}
        assert worker["172.21.1.254"].info == "Active Received: Bad peer AS"
    finally:
        core.patch_node(WK, {"metadata": {"annotations": {key: None}}})
    assert _states(lab)["172.21.1.18"] == "Established"
    node = core.read_node(CP)
    assert node.metadata.annotations["projectcalico.org/IPv4Address"] == "172.21.0.8/24"


def test_manifest_install_objects(api: kclient.ApiClient, custom: Any) -> None:
    info = custom.get_cluster_custom_object(*CRD, "clusterinformations", "default")
    assert info["apiVersion"] == "crd.projectcalico.org/v1"
    assert info["spec"]["calicoVersion"] == "v3.27.2"
    assert info["spec"]["clusterType"] == "k8s,bgp,kubeadm,kdd"
    with pytest.raises(ApiException) as err:
        custom.get_cluster_custom_object("operator.tigera.io", "v1", "installations", "default")
    assert err.value.status == 404
    pods = (
        kclient.CoreV1Api(api)
        .list_namespaced_pod("kube-system", label_selector="k8s-app=calico-node")
        .items
    )
    assert sorted(p.spec.node_name for p in pods) == [CP, WK]
    assert [c.name for c in pods[0].spec.init_containers] == [
        "upgrade-ipam", "install-cni", "mount-bpffs"
    ]  # fmt: skip
    assert pods[0].spec.containers[0].image == "docker.io/calico/node:v3.27.2"


def test_kubectl_exec_in_kube_system(kubectl: Any, api: kclient.ApiClient) -> None:
    pods = (
        kclient.CoreV1Api(api)
        .list_namespaced_pod(
            "kube-system",
            label_selector="k8s-app=calico-node",
            field_selector=f"spec.nodeName={WK}",
        )
        .items
    )
    out = kubectl("exec", "-n", "kube-system", pods[0].metadata.name, "-c", "calico-node", "--",
                  "calico-node", "-v")  # fmt: skip
    assert (out.returncode, out.stdout) == (0, "v3.27.2\n"), out.stderr


def test_custom_resources_are_validated_like_crds(custom: Any, kubectl: Any) -> None:
    bad = {"apiVersion": "crd.projectcalico.org/v1", "kind": "BlockAffinity",
           "metadata": {"name": "x-10-0-0-0-26"},
           "spec": {"cidr": "10.0.0.0/26", "node": "x", "state": "confirmed"}}  # fmt: skip
    with pytest.raises(ApiException) as err:
        custom.create_cluster_custom_object(*CRD, "blockaffinities", bad)
    assert err.value.status == 422
    assert "spec.deleted: Required value" in json.loads(err.value.body)["message"]
    patch = kubectl("patch", "ippools.crd.projectcalico.org", "default-ipv4-ippool",
                    "--type=strategic", "-p", '{"spec":{"natOutgoing":false}}')  # fmt: skip
    assert patch.returncode == 1
    assert "the body of the request was in an unknown format" in patch.stderr
