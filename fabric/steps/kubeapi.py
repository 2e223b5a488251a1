"""The one way fabric opens the Kubernetes API: a kubeconfig (as users have it) or in-cluster.

* a kubeconfig file with a context chosen by name (default: its current context), including
  exec credential plugins (EKS/GKE style ``users[].user.exec``: the ``kubernetes`` client runs
  them);
* ``kubeconfig: in-cluster``: the pod's service account (token and CA under
  ``/var/run/secrets/kubernetes.io/serviceaccount``, or ``FABRIC_SERVICEACCOUNT_DIR``; the API
  at ``KUBERNETES_SERVICE_HOST``/``PORT``), as when fabric runs as a Job in the cluster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fabric.errors import UnreachableError

IN_CLUSTER = "in-cluster"
SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def configuration(kubeconfig: str | None, context: str | None, *, insecure: bool = False) -> Any:
    """A ``kubernetes.client.Configuration`` for the cluster.

    Args:
        kubeconfig: a kubeconfig path (``~`` expanded; None: ``~/.kube/config``) or ``in-cluster``.
        context: the context by name (None: the kubeconfig's current one).
        insecure: do not verify the API server's certificate.

    Raises:
        UnreachableError: the kubeconfig (or the service account) cannot be loaded; the message
            names the file or what is missing.
    """
    from kubernetes import client, config
    from kubernetes.config.incluster_config import InClusterConfigLoader

    cfg = client.Configuration()
    if kubeconfig == IN_CLUSTER:
        folder = Path(os.environ.get("FABRIC_SERVICEACCOUNT_DIR") or SERVICE_ACCOUNT_DIR)
        try:
            loader = InClusterConfigLoader(  # type: ignore[no-untyped-call]
                token_filename=str(folder / "token"), cert_filename=str(folder / "ca.crt")
            )
            loader.load_and_set(cfg)  # type: ignore[no-untyped-call]
        except config.ConfigException as exc:
            raise UnreachableError(f"in-cluster configuration ({folder}): {exc}") from exc
    else:
        path = os.path.expanduser(kubeconfig or "~/.kube/config")
        try:
            config.load_kube_config(  # type: ignore[no-untyped-call]
                config_file=path,
                context=context,
                client_configuration=cfg,
                persist_config=False,
            )
        except Exception as exc:  # config errors come as several unrelated types
            raise UnreachableError(f"cannot load kubeconfig {path}: {exc}") from exc
    if insecure:
        cfg.verify_ssl = False
    cfg.retries = 0
    return cfg


def api_client(kubeconfig: str | None, context: str | None, *, insecure: bool = False) -> Any:
    """A ``kubernetes.client.ApiClient`` (close it when done)."""
    from kubernetes import client

    return client.ApiClient(configuration(kubeconfig, context, insecure=insecure))
