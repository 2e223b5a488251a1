"""Kubeconfig as users have it: a context by name, an exec credential plugin, in-cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from fabric.errors import UnreachableError
from fabric.steps.calico import CalicoClient
from fabric.steps.kubeapi import IN_CLUSTER, configuration

pytestmark = pytest.mark.lab


def _cluster(lab: Any) -> dict[str, Any]:
    return next(ep for ep in lab.endpoints["hosts"].values() if ep["kind"] == "cluster")


def test_a_context_chosen_by_name(seeded_lab: Any) -> None:
    ep = _cluster(seeded_lab)
    client = CalicoClient(ep["kubeconfig"], ep["context"])
    try:
        assert [o["metadata"]["name"] for o in client.list("BGPPeer")] == ["global-peer"]
    finally:
        client.close()
    with pytest.raises(UnreachableError, match=r"cannot load kubeconfig .*no-such-context"):
        configuration(ep["kubeconfig"], "no-such-context")


def test_an_exec_credential_plugin(seeded_lab: Any) -> None:
    ep = _cluster(seeded_lab)
    client = CalicoClient(ep["kubeconfig_exec"], ep["context"])
    try:
        assert client.get("BGPConfiguration", "default") is not None
    finally:
        client.close()


def test_in_cluster_with_the_pods_service_account(
    seeded_lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ep = _cluster(seeded_lab)
    kc = yaml.safe_load(Path(ep["kubeconfig"]).read_text())
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(kc["users"][0]["user"]["token"])
    (sa / "ca.crt").write_text(Path(seeded_lab.endpoints["ca_file"]).read_text())
    monkeypatch.setenv("FABRIC_SERVICEACCOUNT_DIR", str(sa))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", ep["hostname"])
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", str(ep["port"]))
    client = CalicoClient(IN_CLUSTER, None)
    try:
        assert [o["metadata"]["name"] for o in client.list("BGPPeer")] == ["global-peer"]
    finally:
        client.close()
    (sa / "token").unlink()
    with pytest.raises(UnreachableError, match=r"in-cluster configuration \(.*serviceaccount\)"):
        configuration(IN_CLUSTER, None)
