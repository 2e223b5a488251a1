"""The lab's simulated Kubernetes API server.

Core v1, batch/v1, Calico in either API mode, CRDs, the Tigera operator's kinds; pod exec and
log.

Public interface (docs/architecture.md, "Lab interfaces")::

    store = KubeStore(state_dir, on_change=callback)
    server = KubeApiServer(store, token=token, calico_api="v3", pods=backend)
    app = server.app()            # serve with TLS from fabric.lab.pki.server_context
    write_kubeconfig(path, server="https://127.0.1.1:6443", ca_file=ca, token=token)
"""

from fabric.lab.k8s.kubeconfig import write_kubeconfig
from fabric.lab.k8s.server import KubeApiServer, random_token
from fabric.lab.k8s.store import KubeFaults, KubeStore

__all__ = ["KubeApiServer", "KubeFaults", "KubeStore", "random_token", "write_kubeconfig"]
