"""Calico nodes without SSH: ``birdcl`` in each node's calico-node pod, through the Kubernetes API.

Managed and hardened clusters give no shell on nodes, but anyone with the right RBAC
(``get``/``list`` pods, ``create`` ``pods/exec`` where calico-node runs) can run a command in the
``calico-node`` container. :class:`CalicoNodePods` finds each node's calico-node pod (label
``k8s-app=calico-node``, ``spec.nodeName``, in ``calico-system`` or ``kube-system``) with one
LIST per run, then :func:`collect_node_state_exec` runs
``birdcl -s /var/run/calico/bird.ctl show protocols`` (and ``bird6.ctl`` where IPv6 is enabled)
over the exec subresource's WebSocket channel protocol (the ``kubernetes`` client's
``WSClient``; stdout, stderr, and the status on the error channel), parses it with the
``birdcl`` parser and turns it into the node status ``calicoctl node status`` would print.

No node credentials are needed. Each worker thread opens its own WebSocket per command; the
API client configuration (with its credential refresh) is shared.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from nornir.core.task import Result

from fabric.errors import UnreachableError
from fabric.models.observed import ObservedNode
from fabric.models.parsed import BirdProtocols
from fabric.parsing import parse
from fabric.parsing.calico import node_status_from_bird
from fabric.steps.collect.outputs import write_raw
from fabric.steps.kubeapi import configuration

if TYPE_CHECKING:
    from nornir.core.task import Task

CALICO_NODE_LABEL = "k8s-app=calico-node"
CALICO_NAMESPACES = ("calico-system", "kube-system")
CONTAINER = "calico-node"
BIRD_SOCKETS = {"ipv4": "/var/run/calico/bird.ctl", "ipv6": "/var/run/calico/bird6.ctl"}
#: The file name (without .txt) of the raw birdcl output, per family.
BIRDCL_FILES = {"ipv4": "birdcl_show_protocols", "ipv6": "birdcl6_show_protocols"}


def birdcl_command(family: str) -> list[str]:
    """The birdcl command line for ``ipv4`` (bird.ctl) or ``ipv6`` (bird6.ctl)."""
    return ["birdcl", "-s", BIRD_SOCKETS[family], "show", "protocols"]


def exit_status(error_channel: str) -> tuple[int, str]:
    """Exit code and message from the exec error channel's ``metav1.Status`` (empty: 0).

    ``NonZeroExitCode`` carries the code in ``details.causes[ExitCode]``; a runtime failure
    (containerd: an ``InternalError``, e.g. the binary is missing) has no code: -1.

    >>> exit_status('{"metadata":{},"status":"Success"}')
    (0, '')
    >>> exit_status('{"status":"Failure","reason":"NonZeroExitCode","message":"m",'
    ...             '"details":{"causes":[{"reason":"ExitCode","message":"3"}]}}')
    (3, 'm')
    """
    if not error_channel.strip():
        return 0, ""
    status = json.loads(error_channel)
    if status.get("status") == "Success":
        return 0, ""
    message = str(status.get("message") or status.get("reason") or "exec failed")
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode" and str(cause.get("message", "")).isdigit():
            return int(cause["message"]), message
    return -1, message


class CalicoNodePods:
    """The calico-node pod of every node of one cluster, and commands run in them.

    Args:
        kubeconfig: the cluster's kubeconfig path (or ``in-cluster``).
        context: its context (None: the current one).
        insecure: do not verify the API server's certificate.
        timeout: seconds for one command.
    """

    def __init__(
        self,
        kubeconfig: str | None,
        context: str | None,
        *,
        insecure: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.config = configuration(kubeconfig, context, insecure=insecure)
        self.timeout = timeout
        self._pods: dict[str, tuple[str, str]] | None = None
        self._lock = threading.Lock()

    def _list(self) -> dict[str, tuple[str, str]]:
        from kubernetes import client

        api: Any = client.ApiClient(self.config)
        try:
            resp: Any = client.CoreV1Api(api).list_pod_for_all_namespaces(
                label_selector=CALICO_NODE_LABEL, _preload_content=False, _request_timeout=30
            )
            items = json.loads(resp.data).get("items") or []
        except Exception as exc:  # ApiException, urllib3 errors
            raise UnreachableError(f"list calico-node pods: {exc}") from exc
        finally:
            api.close()
        found: dict[str, tuple[str, str]] = {}
        for pod in items:
            md, spec = pod.get("metadata") or {}, pod.get("spec") or {}
            node, ns = spec.get("nodeName"), md.get("namespace")
            if not node or ns not in CALICO_NAMESPACES:
                continue
            running = (pod.get("status") or {}).get("phase") == "Running"
            if running or node not in found:  # a running pod wins over a pending one
                found[node] = (str(ns), str(md.get("name")))
        return found

    def pod_of(self, node: str) -> tuple[str, str]:
        """``(namespace, name)`` of ``node``'s calico-node pod (one LIST for the whole run).

        Raises:
            UnreachableError: the pods cannot be listed, or the node has none.
        """
        with self._lock:
            if self._pods is None:
                self._pods = self._list()
            pods = self._pods
        if node not in pods:
            raise UnreachableError(
                f"{node}: no calico-node pod on this node ({CALICO_NODE_LABEL} in "
                f"{' or '.join(CALICO_NAMESPACES)})"
            )
        return pods[node]

    def run(self, node: str, command: list[str]) -> tuple[int, str, str]:
        """Run ``command`` in ``node``'s calico-node container: exit code, stdout, stderr.

        Raises:
            UnreachableError: no such pod, or the exec could not be opened or timed out.
        """
        from kubernetes.stream import ws_client

        wsc: Any = ws_client  # untyped: the client's WebSocket channel implementation
        ns, pod = self.pod_of(node)
        url = wsc.get_websocket_url(
            f"{self.config.host}/api/v1/namespaces/{quote(ns)}/pods/{quote(pod)}/exec",
            [
                ("command", command),
                ("container", CONTAINER),
                ("stdout", "true"),
                ("stderr", "true"),
            ],
        )
        bearer = self.config.auth_settings().get("BearerToken")  # refreshed exec credentials
        headers = {"authorization": bearer["value"]} if bearer else {}
        try:
            ws: Any = wsc.WSClient(self.config, url, headers, capture_all=False)
        except Exception as exc:  # websocket/ssl/OS errors while opening
            raise UnreachableError(f"{node}: exec into {ns}/{pod}: {exc}") from exc
        try:
            ws.run_forever(timeout=self.timeout)
            if ws.is_open():
                raise UnreachableError(
                    f"{node}: exec into {ns}/{pod}: no answer in {self.timeout:g} s"
                )
            out, err = ws.read_stdout() or "", ws.read_stderr() or ""
            rc, message = exit_status(ws.read_channel(3) or "")
        finally:
            ws.close()
            # websocket-client skips closing its socket once the server closed the stream
            # (its close() returns early): shut it down ourselves
            if ws.sock is not None:
                ws.sock.shutdown()
        if rc == -1:
            err = f"{err}\n{message}".strip()
        return rc, out, err


def _is_birdcl_error(text: str) -> bool:
    """Whether ``text`` is birdcl's own error (it could not reach BIRD's control socket)."""
    return text.strip().startswith("Unable to connect to server control socket")


def collect_node_state_exec(
    task: Task, pods: CalicoNodePods, ipv6: bool = False, save_raw: Path | None = None
) -> Result:
    """Read a Calico node's BGP state with ``birdcl`` in its calico-node pod, and parse it.

    Returns:
        A Result whose ``result`` is an :class:`~fabric.models.observed.ObservedNode` (the
        node status ``calicoctl node status`` would print, from BIRD's protocols).

    Raises:
        UnreachableError: no calico-node pod, the exec failed, or birdcl failed without output.
        ParseError: the output is not ``birdcl show protocols``.
    """
    tables: dict[str, BirdProtocols] = {}
    for family in ("ipv4", "ipv6") if ipv6 else ("ipv4",):
        command = birdcl_command(family)
        rc, text, err = pods.run(task.host.name, command)
        if rc != 0 and not text.strip():
            # birdcl dies with its socket error on stderr (BIRD not running): that is state
            text = err
            if not _is_birdcl_error(err):
                first = (err.strip().splitlines() or [""])[0]
                raise UnreachableError(
                    f"{task.host.name}: {' '.join(command)!r} exited with status {rc}: {first}"
                )
        write_raw(save_raw, task.host.name, BIRDCL_FILES[family] + ".txt", text)
        tables[family] = cast("BirdProtocols", parse("calico", "birdcl show protocols", text))
    status = node_status_from_bird(tables["ipv4"], tables.get("ipv6"))
    command_text = " ".join(birdcl_command("ipv4"))
    return Result(
        host=task.host, result=ObservedNode(task.host.name, status, command=f"exec {command_text}")
    )


__all__ = ["CalicoNodePods", "collect_node_state_exec", "exit_status"]
