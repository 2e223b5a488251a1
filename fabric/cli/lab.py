"""``python -m fabric lab ...``: start, inspect, fault and stop the built-in lab."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from fabric.cli.deploy import Seconds
from fabric.errors import UsageError
from fabric.paths import ProjectPaths, env_path
from fabric.process import pid_alive
from fabric.userfiles import private_dir

_LAB_DIR_HELP = "Lab directory (default: $FABRIC_LAB_DIR or <state>/lab)."
_INVENTORY_HELP = "Inventory folder (default: inventory/ of the project)."


def lab_dir_for(paths: ProjectPaths, lab_dir: Path | None) -> Path:
    """The lab directory: the option, ``$FABRIC_LAB_DIR``, or ``<state>/lab``."""
    if lab_dir is not None:
        return lab_dir.resolve()
    return (env_path("FABRIC_LAB_DIR") or paths.state / "lab").resolve()


def _running_pid(lab_dir: Path) -> int | None:
    try:
        data = json.loads((lab_dir / "endpoints.json").read_text(encoding="utf-8"))
        pid = int(data.get("pid", 0))
    except (OSError, ValueError, TypeError, AttributeError, RecursionError):
        return None  # no lab, or not a file a lab wrote: nothing runs there
    return pid if 0 < pid < 2**31 and pid_alive(pid) else None


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def _all_answer(endpoints: dict[str, Any]) -> bool:
    for ep in endpoints.get("hosts", {}).values():
        ports = [ep["port"]] + ([ep["http_port"]] if ep.get("http_port") else [])
        if not all(_answers(ep["hostname"], p) for p in ports):
            return False
    return True


def _summary(endpoints: dict[str, Any]) -> str:
    hosts = endpoints.get("hosts", {})
    kinds = [h["kind"] for h in hosts.values()]
    return (
        f"lab up (pid {endpoints.get('pid')}): {kinds.count('switch')} switch(es), "
        f"{kinds.count('node')} node(s), {kinds.count('cluster')} cluster; "
        "`python -m fabric lab status` lists the endpoints"
    )


#: What the lab needs beyond the core: the ``lab`` extra of the distribution.
LAB_MODULES = ("aiohttp", "cryptography")


def require_lab_extra() -> None:
    """Refuse, in one line, when the ``lab`` extra is not installed.

    Raises:
        UsageError: naming the missing module and the install command.
    """
    import importlib.util

    missing = [m for m in LAB_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"the lab needs {', '.join(missing)}, which this installation lacks: "
            "pip install 'fabric-netops[lab]'"
        )


@click.group("lab")
def lab_group() -> None:
    """The built-in lab: simulated EOS switches, Kubernetes API and Calico nodes on loopback."""
    require_lab_extra()


@lab_group.command("up")
@click.option("--detach", is_flag=True, help="Run in the background; return once it answers.")
@click.option("--fresh", is_flag=True, help="Drop the saved lab state (configs, objects).")
@click.option(
    "--seeded", is_flag=True, help="Load the write-up's switch config and Calico objects."
)
@click.option(
    "--address-base",
    type=click.IntRange(2, 254),
    default=None,
    help="Second octet B of the hosts' 127.B.x.y addresses (default: stable per lab directory).",
)
@click.option("--inventory", type=click.Path(path_type=Path, file_okay=False), help=_INVENTORY_HELP)
@click.option("--lab-dir", type=click.Path(path_type=Path, file_okay=False), help=_LAB_DIR_HELP)
@click.option(
    "--timeout", type=Seconds(3600), default=120.0, show_default=True, help="Start-up timeout (s)."
)
@click.option(
    "--calico-api",
    type=click.Choice(["v3", "crd"]),
    default="v3",
    show_default=True,
    help="v3: the Calico API server's projectcalico.org/v3 is served; crd: no Calico API "
    "server, Calico's objects are crd.projectcalico.org/v1 custom resources.",
)
def up_cmd(
    detach: bool,
    fresh: bool,
    seeded: bool,
    address_base: int | None,
    inventory: Path | None,
    lab_dir: Path | None,
    timeout: float,
    calico_api: str,
) -> None:
    """Start one simulated device per inventory host (foreground until Ctrl-C/SIGTERM)."""
    paths = ProjectPaths.discover(inventory=inventory)
    ldir = lab_dir_for(paths, lab_dir)
    pid = _running_pid(ldir)
    if pid is not None:
        raise UsageError(f"a lab is already running for {ldir} (pid {pid}); `lab down` first")
    if detach:
        _detach(paths, ldir, fresh, seeded, address_base, inventory, timeout, calico_api)
        return
    from fabric.lab.runtime import LabRuntime, default_address_base

    runtime = LabRuntime(
        paths,
        ldir,
        fresh=fresh,
        seeded=seeded,
        address_base=address_base if address_base is not None else default_address_base(ldir),
        allow_base_fallback=address_base is None,
        calico_api=calico_api,
    )

    def _stop(signum: int, frame: Any) -> None:
        runtime.stop_requested.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    runtime.start(timeout=timeout)
    click.echo(_summary(runtime.endpoints))
    try:
        while not runtime.stop_requested.wait(0.5):
            pass
    finally:
        runtime.stop()
        click.echo("lab stopped")


def _detach(
    paths: ProjectPaths,
    ldir: Path,
    fresh: bool,
    seeded: bool,
    address_base: int | None,
    inventory: Path | None,
    timeout: float,
    calico_api: str = "v3",
) -> None:
    private_dir(ldir)  # it will hold the lab's CA key, SSH keys and credentials
    (ldir / "endpoints.json").unlink(missing_ok=True)
    args = [sys.executable, "-m", "fabric", "lab", "up", "--lab-dir", str(ldir)]
    args += ["--timeout", str(timeout), "--calico-api", calico_api]
    if fresh:
        args.append("--fresh")
    if seeded:
        args.append("--seeded")
    if address_base is not None:
        args += ["--address-base", str(address_base)]
    if inventory is not None:
        args += ["--inventory", str(inventory.resolve())]
    env = dict(os.environ, FABRIC_ROOT=str(paths.root))
    log = ldir / "lab.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=str(paths.root),
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
            raise UsageError(
                f"the lab exited with status {code} while starting; {log}:\n" + "\n".join(tail)
            )
        try:
            data = json.loads((ldir / "endpoints.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            time.sleep(0.2)
            continue
        if data.get("pid") == proc.pid and _all_answer(data):
            click.echo(_summary(data))
            return
        time.sleep(0.2)
    proc.terminate()
    raise UsageError(f"the lab did not answer within {timeout:.0f} s (see {log})")


@lab_group.command("status")
@click.option("--output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--show-passwords", is_flag=True, help="Print the lab passwords in the text output too."
)
@click.option("--lab-dir", type=click.Path(path_type=Path, file_okay=False), help=_LAB_DIR_HELP)
def status_cmd(output: str, show_passwords: bool, lab_dir: Path | None) -> None:
    """Print every endpoint of the running lab (addresses, ports, credentials, kubeconfig).

    The text output names the credentials file instead of printing passwords (unless
    --show-passwords); ``--output json`` is for programs and includes them.
    """
    from fabric.lab.control import ControlClient

    ldir = lab_dir_for(ProjectPaths.discover(), lab_dir)
    client = ControlClient(ldir)
    status = client.status()
    if output == "json":
        click.echo(json.dumps(status, indent=2, sort_keys=True))
        return
    ep = status["endpoints"]
    click.echo(f"lab pid {ep['pid']} started {ep['started']}; CA {ep['ca_file']}")
    if not show_passwords:
        click.echo(f"passwords: {ldir / 'credentials.json'} (or --show-passwords)")

    def pw(h: dict[str, Any]) -> str:
        return f" password {h['password']}" if show_passwords else ""

    for name, h in ep["hosts"].items():
        if h["kind"] == "switch":
            click.echo(
                f"switch  {name}: eAPI https://{h['hostname']}:{h['port']}/command-api "
                f"(http port {h['http_port']}) user {h['username']}{pw(h)} "
                f"EOS {h['eos_version']}"
            )
        elif h["kind"] == "node":
            click.echo(
                f"node    {name}: ssh -p {h['port']} {h['username']}@{h['hostname']}{pw(h)} "
                f"key {h['key_file']}"
            )
        else:
            click.echo(
                f"cluster {name}: https://{h['hostname']}:{h['port']} "
                f"kubeconfig {h['kubeconfig']} context {h['context']}"
            )
    for host, faults in sorted(status.get("faults", {}).items()):
        click.echo(f"fault   {host}: {', '.join(sorted(faults))}")


@lab_group.command("down")
@click.option("--lab-dir", type=click.Path(path_type=Path, file_okay=False), help=_LAB_DIR_HELP)
@click.option("--timeout", type=Seconds(3600), default=30.0, show_default=True)
def down_cmd(lab_dir: Path | None, timeout: float) -> None:
    """Stop the running lab (its state stays in the lab directory)."""
    from fabric.lab.control import ControlClient

    ldir = lab_dir_for(ProjectPaths.discover(), lab_dir)
    pid = _running_pid(ldir)
    if pid is None:
        (ldir / "endpoints.json").unlink(missing_ok=True)
        click.echo(f"no lab running for {ldir}")
        return
    try:
        ControlClient(ldir).shutdown()
    except UsageError:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        raise UsageError(f"lab process {pid} did not stop within {timeout:.0f} s")
    click.echo("lab stopped")


@lab_group.command(
    "fault",
    context_settings={"ignore_unknown_options": False},
)
@click.argument("host")
@click.argument("kind", required=False)
@click.argument("value", required=False)
@click.option("--status", help="eapi-fail: http500 or eapi; k8s-fail: 409 or 500.")
@click.option("--match", help="eapi-fail: only count requests containing this command text.")
@click.option("--lab-dir", type=click.Path(path_type=Path, file_okay=False), help=_LAB_DIR_HELP)
def fault_cmd(
    host: str,
    kind: str | None,
    value: str | None,
    status: str | None,
    match: str | None,
    lab_dir: Path | None,
) -> None:
    """Inject a fault: `lab fault HOST KIND [VALUE]`, or `lab fault clear [HOST]`.

    \b
    KIND:
      link-down            node or switch: BGP sessions leave Established
      latency MS           switch: add MS milliseconds before every eAPI reply
      eapi-fail N          switch: fail the Nth eAPI call [--status http500|eapi] [--match TEXT]
      refuse               any host: close its listener (connection refused)
      k8s-fail N           cluster: fail the Nth write [--status 409|500]
      bird-down            node: calico-node/BIRD stops
      withhold-route CIDR  node: stop advertising one prefix (sessions stay up)
    """  # noqa: D301 - click needs a real \b to keep the table's line breaks
    from fabric.lab.control import ControlClient

    client = ControlClient(lab_dir_for(ProjectPaths.discover(), lab_dir))
    if host == "clear":
        if value is not None:
            raise UsageError("usage: lab fault clear [HOST]")
        result = client.clear(kind)
    else:
        if kind is None:
            raise UsageError("usage: lab fault HOST KIND [VALUE] (or lab fault clear [HOST])")
        params: dict[str, Any] = {}
        needs = {"latency": "ms", "eapi-fail": "count", "k8s-fail": "count"}
        if kind in needs:
            if value is None:
                raise UsageError(f"fault {kind} needs a number ({needs[kind]})")
            try:
                params[needs[kind]] = float(value) if kind == "latency" else int(value)
            except ValueError as exc:
                raise UsageError(f"fault {kind}: {value!r} is not a number") from exc
        elif kind == "withhold-route":
            if value is None:
                raise UsageError("fault withhold-route needs a prefix (e.g. 192.168.181.0/24)")
            params["prefix"] = value
        elif value is not None:
            raise UsageError(f"fault {kind} takes no value")
        if status is not None:
            params["status"] = status
        if match is not None:
            params["match"] = match
        result = client.fault(host, kind, **params)
    faults = result.get("faults", {})
    if not faults:
        click.echo("no active faults")
    for h, active in sorted(faults.items()):
        click.echo(f"{h}: {json.dumps(active, sort_keys=True)}")
