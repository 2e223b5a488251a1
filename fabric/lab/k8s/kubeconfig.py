"""The lab cluster's kubeconfigs: bearer token, or an exec credential plugin; lab CA."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import yaml


def _write(path: Path, config: dict[str, object]) -> None:
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


def _config(server: str, ca_file: Path, user: dict[str, object], context: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {
                "name": context,
                "cluster": {"server": server, "certificate-authority": str(ca_file.resolve())},
            }
        ],
        "users": [{"name": context, "user": user}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": "default"},
            }
        ],
        "current-context": context,
    }


def write_kubeconfig_exec(
    path: Path,
    *,
    server: str,
    ca_file: Path,
    lab_dir: Path,
    context: str = "fabric-lab",
    python: str | None = None,
) -> None:
    """Write a kubeconfig whose user is an exec credential plugin (the EKS/GKE form).

    The user entry runs ``python -m fabric.lab.credential --lab-dir LAB_DIR``, which prints
    a ``client.authentication.k8s.io/v1`` ``ExecCredential`` with the lab's token; the file
    itself holds no secret (mode 0600 all the same).

    Args:
        path: where to write it.
        server: the API server URL.
        ca_file: the lab CA certificate.
        lab_dir: the lab directory whose ``credentials.json`` holds the token.
        context: name of the cluster, user and context entries.
        python: the interpreter the plugin runs with (default: this one).
    """
    user: dict[str, object] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": python or sys.executable,
            "args": ["-m", "fabric.lab.credential", "--lab-dir", str(lab_dir.resolve())],
            "interactiveMode": "Never",
            "provideClusterInfo": False,
        }
    }
    _write(path, _config(server, ca_file, user, context))


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
    _write(path, _config(server, ca_file, {"token": token}, context))
