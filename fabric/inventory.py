"""Load the Nornir inventory, optionally with the lab's loopback overlay.

The overlay is a JSON file the lab writes (``<state>/lab/endpoints.json``, format documented in
``docs/architecture.md``). Reading it needs nothing from :mod:`fabric.lab`: the core never
imports the lab package.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fabric import safeyaml, userfiles
from fabric.errors import UsageError
from fabric.paths import ProjectPaths, env_path, env_value
from fabric.safety import check_loopback_targets, install_guard

if TYPE_CHECKING:
    from nornir.core import Nornir

INVENTORY_FILES = ("hosts.yaml", "groups.yaml", "defaults.yaml")


@dataclass
class RawInventory:
    """The three inventory files as parsed YAML, with the file each part came from."""

    paths: ProjectPaths
    hosts: dict[str, dict[str, Any]]
    groups: dict[str, dict[str, Any]]
    defaults: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)

    def host_file(self) -> str:
        """Relative path of hosts.yaml (for messages)."""
        return self.files["hosts.yaml"]

    def lookup(self, host: str, key: str) -> tuple[Any, str, str]:
        """Find ``data[key]`` for ``host`` with Nornir's inheritance (host, groups, defaults).

        Returns:
            ``(value, file, owner)`` where owner is the host, group or ``defaults`` that set it.
            ``value`` is None (and file the hosts file) when no level sets the key.
        """
        h = self.hosts[host] or {}
        data = h.get("data") or {}
        if key in data:
            return data[key], self.files["hosts.yaml"], host
        for g in self._group_chain(h.get("groups") or []):
            gdata = (self.groups.get(g) or {}).get("data") or {}
            if key in gdata:
                return gdata[key], self.files["groups.yaml"], g
        ddata = self.defaults.get("data") or {}
        if key in ddata:
            return ddata[key], self.files["defaults.yaml"], "defaults"
        return None, self.files["hosts.yaml"], host

    def attr(self, host: str, key: str) -> Any:
        """A top-level host attribute (platform, hostname, port ...) with inheritance."""
        h = self.hosts[host] or {}
        if h.get(key) is not None:
            return h[key]
        for g in self._group_chain(h.get("groups") or []):
            v = (self.groups.get(g) or {}).get(key)
            if v is not None:
                return v
        return self.defaults.get(key)

    def _group_chain(self, groups: list[str]) -> list[str]:
        out: list[str] = []
        todo = list(groups)
        while todo:
            g = todo.pop(0)
            if g in out:
                continue
            out.append(g)
            todo.extend((self.groups.get(g) or {}).get("groups") or [])
        return out


# --------------------------------------------------------------------------- lab overlay


def lab_endpoints_file(paths: ProjectPaths) -> Path:
    """Where a running lab publishes its endpoints (see docs/architecture.md)."""
    return (env_path("FABRIC_LAB_DIR") or paths.state / "lab") / "endpoints.json"


def load_lab_endpoints(paths: ProjectPaths) -> dict[str, Any]:
    """Read the running lab's endpoints.

    Raises:
        UsageError: no lab is running for this project.
    """
    f = lab_endpoints_file(paths)
    if not userfiles.exists(f):
        raise UsageError(
            f"--lab given but no lab is running ({f} not found): start it with "
            "`python -m fabric lab up --detach`"
        )
    text = userfiles.read_text(f, "the lab's endpoints (JSON)")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise UsageError(f"{f}: not the lab's endpoints (invalid JSON: {exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{f}: not the lab's endpoints (expected a JSON object)")
    return data


class FabricInventory:
    """Nornir inventory plugin: SimpleInventory's file layout and semantics, read faster.

    Nornir's SimpleInventory parses YAML with pure-Python ruamel.yaml (about 2 s for a
    2,200-host inventory); this reads the same three files with PyYAML's C loader (the loader
    :mod:`fabric.intent` validates with, so both see the same values) and builds the same
    Host/Group/Defaults objects with Nornir's own helpers.
    """

    def __init__(self, host_file: str, group_file: str, defaults_file: str) -> None:
        self.host_file = Path(host_file)
        self.group_file = Path(group_file)
        self.defaults_file = Path(defaults_file)

    @staticmethod
    def _read(path: Path) -> dict[str, Any]:
        if not userfiles.exists(path):
            return {}
        # the loader fabric.intent validates with: the same values, the same refusals
        data = safeyaml.load(userfiles.read_text(path, "a YAML file"), str(path))
        return data if isinstance(data, dict) else {}

    def load(self) -> Any:
        """Build the Nornir inventory (hosts, groups with their parents, defaults).

        With Nornir's public inventory classes, field for field as SimpleInventory fills them
        (``tests/test_inventory.py`` proves both give the same inventory).
        """
        from nornir.core.inventory import Defaults, Group, Groups, Host, Hosts, Inventory

        d = self._read(self.defaults_file)
        defaults = Defaults(
            **_fields(d), data=d.get("data"), connection_options=_connection_options(d)
        )
        group_data = self._read(self.group_file)
        groups = Groups()
        for name, g in group_data.items():
            groups[name] = _element(Group, name, g or {}, defaults)
        for name, g in group_data.items():
            groups[name].groups = _parents(groups, (g or {}).get("groups"))
        hosts = Hosts()
        for name, h in self._read(self.host_file).items():
            hosts[name] = _element(Host, name, h or {}, defaults)
            hosts[name].groups = _parents(groups, (h or {}).get("groups"))
        return Inventory(hosts=hosts, groups=groups, defaults=defaults)


def _fields(data: dict[str, Any]) -> dict[str, Any]:
    keys = ("hostname", "port", "username", "password", "platform")
    return {k: data.get(k) for k in keys}


def _connection_options(data: dict[str, Any]) -> dict[str, Any]:
    from nornir.core.inventory import ConnectionOptions

    return {
        name: ConnectionOptions(**_fields(c or {}), extras=(c or {}).get("extras"))
        for name, c in (data.get("connection_options") or {}).items()
    }


def _element(cls: Any, name: str, data: dict[str, Any], defaults: Any) -> Any:
    """A Host or Group (groups are set afterwards, once every group exists)."""
    return cls(
        name=name,
        **_fields(data),
        data=data.get("data"),
        defaults=defaults,
        connection_options=_connection_options(data),
    )


def _parents(groups: Any, names: Any) -> Any:
    from nornir.core.inventory import ParentGroups

    return ParentGroups([groups[n] for n in names or []])


def init_nornir(
    paths: ProjectPaths,
    *,
    lab: bool = False,
    num_workers: int = 20,
    dry_run: bool = True,
) -> Nornir:
    """Initialise Nornir over the project inventory.

    In lab mode every host's connection address, port and credentials come from the running
    lab, the process-wide loopback guard is installed, and any host left with a non-loopback
    address makes this raise :class:`~fabric.errors.SafetyError` before anything connects.
    Outside lab mode, credentials come from the environment (see :func:`apply_credentials`).
    """
    from nornir import InitNornir
    from nornir.core.plugins.inventory import InventoryPluginRegister

    InventoryPluginRegister.register("FabricInventory", FabricInventory)
    # A failed host is a result the run reports in its own words; Nornir would also log the
    # task's traceback (through Python's last-resort handler, with its logging disabled).
    nornir_log = logging.getLogger("nornir")
    nornir_log.propagate = False
    if not nornir_log.handlers:
        nornir_log.addHandler(logging.NullHandler())
    nr = InitNornir(
        runner={"plugin": "threaded", "options": {"num_workers": num_workers}},
        inventory={
            "plugin": "FabricInventory",
            "options": {
                "host_file": str(paths.inventory / "hosts.yaml"),
                "group_file": str(paths.inventory / "groups.yaml"),
                "defaults_file": str(paths.inventory / "defaults.yaml"),
            },
        },
        logging={"enabled": False},
        dry_run=dry_run,
    )
    if lab or env_value("FABRIC_LAB_ONLY") == "1":
        install_guard()
    if lab:
        apply_lab_overlay(nr, load_lab_endpoints(paths))
        check_loopback_targets((h.name, h.hostname) for h in nr.inventory.hosts.values())
    else:
        apply_credentials(nr)
        if env_value("FABRIC_LAB_ONLY") == "1":
            check_loopback_targets((h.name, h.hostname) for h in nr.inventory.hosts.values())
    return nr


def apply_lab_overlay(nr: Nornir, endpoints: dict[str, Any]) -> None:
    """Rewrite connection details of every host from the lab's endpoints."""
    hosts = endpoints.get("hosts", {})
    ca_file = endpoints.get("ca_file")
    for name, host in nr.inventory.hosts.items():
        ep = hosts.get(name)
        if ep is None:
            # Not simulated: make it unconnectable rather than leave a real address.
            host.hostname = None
            continue
        host.hostname = ep["hostname"]
        host.port = ep.get("port")
        host.username = ep.get("username")
        host.password = ep.get("password")
        host.data["lab"] = ep
        if ep.get("kind") == "switch":
            opts = host.connection_options.get("napalm")
            from nornir.core.inventory import ConnectionOptions

            extras = dict(opts.extras or {}) if opts else {}
            optional = dict(extras.get("optional_args") or {})
            optional.update({"transport": ep.get("transport", "https"), "port": ep.get("port")})
            if ca_file:
                optional["ca_file"] = ca_file
            extras["optional_args"] = optional
            host.connection_options["napalm"] = ConnectionOptions(
                hostname=ep["hostname"],
                port=ep.get("port"),
                username=ep.get("username"),
                password=ep.get("password"),
                platform="eos",
                extras=extras,
            )
        if ep.get("kind") == "cluster":
            host.data["kubeconfig"] = ep["kubeconfig"]
            host.data["context"] = ep.get("context")


def apply_credentials(nr: Nornir) -> None:
    """Fill usernames/passwords from the environment; never from the inventory files.

    ``FABRIC_EOS_USERNAME``/``FABRIC_EOS_PASSWORD`` for switches, ``FABRIC_SSH_USERNAME``/
    ``FABRIC_SSH_PASSWORD`` (or ``FABRIC_SSH_KEY_FILE``) for nodes. A per-host override is
    ``FABRIC_<HOST>_USERNAME``/``FABRIC_<HOST>_PASSWORD`` (host name upper-cased, ``-`` as ``_``).
    """
    for name, host in nr.inventory.hosts.items():
        kind = "EOS" if host.platform == "eos" else "SSH"
        key = name.upper().replace("-", "_").replace(".", "_")
        host.username = (
            env_value(f"FABRIC_{key}_USERNAME")
            or env_value(f"FABRIC_{kind}_USERNAME")
            or host.username
        )
        host.password = (
            env_value(f"FABRIC_{key}_PASSWORD")
            or env_value(f"FABRIC_{kind}_PASSWORD")
            or host.password
        )
