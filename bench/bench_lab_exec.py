"""Node access: ``birdcl show protocols`` over SSH next to the Kubernetes exec API, one run.

The lab runs detached in its own process (``lab up --detach --seeded``), so the client figures
are the clients' own. Per transport, the median wall time and client CPU time of one command:

* ``ssh``: paramiko, one connection per node kept open, one exec channel per command;
* ``exec_ws``: the ``kubernetes`` client's ``stream()`` (WebSocket v5, a connection per command,
  ``_preload_content=False`` then ``close()``);
* ``kubectl``: the real kubectl (a process per command; SPDY or WebSocket, as it chooses).

    .venv/bin/python bench/bench_lab_exec.py [--calls 100]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIRDCL = ["birdcl", "-s", "/var/run/calico/bird.ctl", "show", "protocols"]


def _measure(fn: Callable[[], str], calls: int) -> dict[str, float]:
    out = fn()  # warm-up (connection, TLS)
    assert "BIRD v0.3.3" in out, out
    wall, cpu = [], []
    for _ in range(calls):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - w0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {
        "wall_ms": round(statistics.median(wall), 2),
        "cpu_ms": round(statistics.median(cpu), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=100)
    args = ap.parse_args()
    import paramiko
    from kubernetes import client as kclient
    from kubernetes import config as kconfig
    from kubernetes.stream import stream

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="fabric-bench-exec-") as tmp:
        lab_dir = Path(tmp) / "lab"
        env = {**os.environ, "FABRIC_STATE_DIR": str(Path(tmp) / "state")}
        base = [sys.executable, "-m", "fabric", "lab"]
        subprocess.run([*base, "up", "--detach", "--fresh", "--seeded", "--lab-dir", str(lab_dir)],
                       check=True, env=env, cwd=root, capture_output=True)  # fmt: skip
        try:
            ep = json.loads((lab_dir / "endpoints.json").read_text())
            node = ep["hosts"]["kube-worker-001"]
            ssh = paramiko.SSHClient()
            ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # lab-only host key
            ssh.connect(
                node["hostname"],
                port=node["port"],
                username=node["username"],
                password=node["password"],
                look_for_keys=False,
                allow_agent=False,
            )

            def over_ssh() -> str:
                _, out, _ = ssh.exec_command(" ".join(BIRDCL))
                return str(out.read().decode())

            api = kconfig.new_client_from_config(config_file=str(lab_dir / "kubeconfig"))
            core = kclient.CoreV1Api(api)

            def over_exec() -> str:
                ws = stream(core.connect_get_namespaced_pod_exec, "calico-node-4gfsc",
                            "calico-system", command=BIRDCL, container="calico-node",
                            stdout=True, stderr=True, _preload_content=False)  # fmt: skip
                ws.run_forever(timeout=10)
                text = str(ws.read_stdout())
                ws.close()
                ws.sock.shutdown()
                return text

            results: dict[str, object] = {"calls": args.calls}
            results["ssh"] = _measure(over_ssh, args.calls)
            results["exec_ws"] = _measure(over_exec, args.calls)
            kubectl = shutil.which("kubectl")
            if kubectl is not None:
                pod = ["-n", "calico-system", "calico-node-4gfsc", "-c", "calico-node"]
                cmd = [kubectl, "--kubeconfig", str(lab_dir / "kubeconfig"), "exec", *pod, "--"]
                cmd += BIRDCL

                def over_kubectl() -> str:
                    return subprocess.run(cmd, capture_output=True, text=True, env=env).stdout

                results["kubectl"] = _measure(over_kubectl, max(10, args.calls // 10))
            ssh_wall = results["ssh"]["wall_ms"]  # type: ignore[index]
            results["exec_ws_over_ssh_wall"] = round(
                results["exec_ws"]["wall_ms"] / ssh_wall,
                2,  # type: ignore[index]
            )
            ssh.close()
            api.close()
        finally:
            subprocess.run([*base, "down", "--lab-dir", str(lab_dir)], env=env, cwd=root,
                           capture_output=True)  # fmt: skip
    print(json.dumps(results, indent=2))
    print("RESULT " + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
