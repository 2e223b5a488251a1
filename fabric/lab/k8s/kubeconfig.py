"""The lab cluster's kubeconfig (bearer token, lab CA)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml


def write_kubeconfig(
    path: Path, *, server: str, ca_file: Path, token: str, context: str = "fabric-lab"
) -> None:
    """Write a kubeconfig for the lab API server (mode 0600: it holds the token).

    Args:
        path: where to write it (parents are created; the write is atomic).
        server: the API server URL, e.g. ``https://127.0.1.1:6443``.
        ca_file: the lab CA certificate the server's certificate chains to.
        token: the bearer token the server accepts.
        context: name of the cluster, user and context entries (and the current context).
    """
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": context,
                "cluster": {"server": server, "certificate-authority": str(ca_file.resolve())},
            }
        ],
        "users": [{"name": context, "user": {"token": token}}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": "default"},
            }
        ],
        "current-context": context,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(config, fh, sort_keys=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
