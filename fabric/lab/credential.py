"""An exec credential plugin for the lab cluster: ``python -m fabric.lab.credential``.

kubectl and the ``kubernetes`` client run it for a kubeconfig user of the ``exec`` form (see
:func:`fabric.lab.k8s.kubeconfig.write_kubeconfig_exec`), with ``KUBERNETES_EXEC_INFO`` in the
environment; it prints an ``ExecCredential`` of the same ``apiVersion`` whose ``status.token``
is the lab's bearer token (read from ``<lab dir>/credentials.json``), valid for ten minutes.

Only the standard library is imported, and the module lives outside ``fabric.lab.k8s`` (whose
package imports the API server): clients start the plugin for every process (kubectl) or every
configuration load (the Python client), so it starts in about 0.1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
LIFETIME = dt.timedelta(minutes=10)


def credential(lab_dir: Path, exec_info: str | None) -> dict[str, object]:
    """The ``ExecCredential`` for the lab in ``lab_dir``.

    Raises:
        ValueError: the exec info names an API version the plugin does not speak.
        OSError: the lab's credentials are not readable.
    """
    api_version = API_VERSIONS[0]
    if exec_info:
        api_version = str(json.loads(exec_info).get("apiVersion") or api_version)
    if api_version not in API_VERSIONS:
        raise ValueError(f"unsupported ExecCredential apiVersion {api_version!r}")
    creds = json.loads((lab_dir / "credentials.json").read_text(encoding="utf-8"))
    expiry = (dt.datetime.now(dt.UTC) + LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "status": {"token": creds["kube_token"], "expirationTimestamp": expiry},
    }


def main(argv: list[str] | None = None) -> int:
    """Print the credential; exit 1 with a message on stderr when it cannot."""
    parser = argparse.ArgumentParser(prog="python -m fabric.lab.credential")
    parser.add_argument("--lab-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        out = credential(args.lab_dir, os.environ.get("KUBERNETES_EXEC_INFO"))
    except (OSError, ValueError, KeyError) as exc:
        print(f"fabric lab credential: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
