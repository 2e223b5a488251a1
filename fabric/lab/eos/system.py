"""System ``show`` commands: uptime, reload cause, NTP, environment, users, software.

Also processes, SNMP, version detail, extensions, zerotouch and running-config diffs.

Shapes (``SOURCES.md``): ANTA's unit test data for ``show uptime``, ``show reload cause``,
``show ntp status``/``associations``, ``show version detail``, ``show extensions``,
``show boot-extensions`` and ``show zerotouch``; NAPALM's captures for the environment
(``test_get_environment/ceos430``, a virtual EOS), ``show processes top once``,
``show ntp associations`` text, ``show users accounts`` and ``show snmp v2-mib``. On vEOS-lab
``show system environment power`` fails with "There seem to be no power supplies connected."
(error 1000, NAPALM issues napalm-eos#90 and napalm#1986): the lab answers the same.
"""

from __future__ import annotations

import difflib
import os
import re
from typing import Any

from fabric.lab.eos.context import ShowContext
from fabric.lab.eos.reply import refused

#: ``show version``'s memory figures (vEOS-lab), reused by ``show processes top once``.
MEM_TOTAL_KB, MEM_FREE_KB = 3984168, 2601236


def uptime_json(ctx: ShowContext) -> dict[str, Any]:
    """``show uptime``: seconds since the switch booted, the lab host's load average."""
    load = [round(x, 2) for x in os.getloadavg()]
    return {"upTime": ctx.now - ctx.booted, "loadAvg": load, "users": 1, "currentTime": ctx.now}


def reload_cause_json() -> dict[str, Any]:
    """``show reload cause``: a lab switch boots fresh; no reset cause is recorded."""
    return {"kernelCrashData": [], "resetCauses": [], "full": False}


def ntp_servers(ctx: ShowContext) -> list[str]:
    """``ntp server`` addresses/names of the running-config, in order."""
    out = []
    for node in ctx.config.root.find("ntp", "server"):
        words = [w for w in node.tokens[2:] if w not in ("prefer", "iburst", "burst")]
        if words[:1] == ["vrf"]:
            words = words[2:]
        if words:
            out.append(words[0])
    return out


def ntp_status_text() -> str:
    """``show ntp status``: the lab has no reachable NTP server, so never synchronised."""
    return "unsynchronised\npoll interval unknown\n"


def ntp_associations_json(ctx: ShowContext) -> dict[str, Any]:
    """``show ntp associations``: each configured server, unreachable from the lab."""
    return {
        "peers": {
            server: {"condition": "reject", "peerIpAddr": server, "stratumLevel": 16}
            for server in ntp_servers(ctx)
        }
    }


def ntp_associations_text(ctx: ShowContext) -> str:
    """``show ntp associations`` as text (ntpq's table; unreached servers at stratum 16)."""
    lines = [
        "     remote           refid      st t when poll reach   delay   offset  jitter",
        "=" * 78,
    ]
    for server in ntp_servers(ctx):
        lines.append(
            f" {server[:15]:<15} .STEP.          16 u    - 1024    0    0.000    0.000   0.000"
        )
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- environment


def cooling_json() -> dict[str, Any]:
    """``show system environment cooling`` of a virtual switch: no fan tray."""
    return {
        "systemStatus": "unknownCoolingAlarmLevel",
        "airflowDirection": "unknownAirflowDirection",
        "currentZones": 1,
        "configuredZones": 0,
        "defaultZones": False,
        "numCoolingZones": [],
        "shutdownOnInsufficientFans": True,
        "overrideFanSpeed": 0,
        "minFanSpeed": 0,
        "coolingMode": "automatic",
        "fanTraySlots": [],
        "powerSupplySlots": [],
    }


def temperature_json() -> dict[str, Any]:
    """``show system environment temperature`` of a virtual switch: no sensor."""
    return {
        "systemStatus": "unknownTemperatureAlarmLevel",
        "shutdownOnOverheat": False,
        "powercycleOnOverheat": False,
        "actionOnOverheat": "actionUnknown",
        "recoveryModeOnOverheat": "recoveryModeNA",
        "ambientThreshold": 45,
        "tempSensors": [],
        "cardSlots": [],
        "powerSupplySlots": [],
    }


def power_error() -> Exception:
    """``show system environment power`` on vEOS-lab: error 1000, as a real one answers."""
    return refused("There seem to be no power supplies connected.")


def _top_uptime(seconds: float) -> str:
    s = int(seconds)
    days, hours, minutes = s // 86400, s % 86400 // 3600, s % 3600 // 60
    if days:
        return f"{days} days, {hours:2d}:{minutes:02d}"
    if hours:
        return f"{hours:2d}:{minutes:02d}"
    return f"{minutes} min"


def processes_top_text(ctx: ShowContext) -> str:
    """``show processes top once``: top's header (vEOS figures) and column line."""
    clock = _clock(ctx.now)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    used = MEM_TOTAL_KB - MEM_FREE_KB
    return (
        f"top - {clock} up {_top_uptime(ctx.now - ctx.booted)},  1 user,  load average: {load}\n"
        "Tasks: 187 total,   2 running, 185 sleeping,   0 stopped,   0 zombie\n"
        "Cpu(s):  7.2%us,  7.1%sy,  0.0%ni, 85.4%id,  0.0%wa,  0.0%hi,  0.2%si,  0.0%st\n"
        f"Mem:  {MEM_TOTAL_KB:>8}k total, {used:>8}k used, {MEM_FREE_KB:>8}k free,"
        "   141640k buffers\n"
        "Swap:        0k total,        0k used,        0k free,   990524k cached\n"
        "\n"
        "  PID USER      PR  NI  VIRT  RES  SHR S %CPU %MEM    TIME+  COMMAND\n"
    )


def _clock(now: float) -> str:
    import time

    return time.strftime("%H:%M:%S", time.localtime(now))


# --------------------------------------------------------------------------- users, SNMP

_USER_RE = re.compile(r"^username (\S+)(?: privilege (\d+))?(?: role \S+)?(?: (.*))?$")


def users_json(ctx: ShowContext) -> dict[str, Any]:
    """``show users accounts``: the ``username`` lines of the running-config."""
    users: dict[str, Any] = {}
    for node in ctx.config.root.find("username"):
        m = _USER_RE.match(" ".join(node.tokens))
        if m is None:
            continue
        name, priv, rest = m.group(1), m.group(2), m.group(3) or ""
        entry: dict[str, Any] = users.setdefault(name, {"username": name, "privLevel": 1})
        if priv is not None:
            entry["privLevel"] = int(priv)
        words = rest.split()
        if words[:1] == ["secret"]:
            entry["password"] = words[-1]
        if words[:1] == ["sshkey"]:
            entry["sshAuthorizedKey"] = " ".join(words[1:])
    return {"users": users}


def _snmp(ctx: ShowContext, keyword: str) -> str:
    for node in ctx.config.root.find("snmp-server", keyword):
        return " ".join(node.tokens[2:])
    return ""


def snmp_mib_json(ctx: ShowContext, what: str) -> dict[str, Any]:
    """``show snmp v2-mib chassis|location|contact`` from ``snmp-server ...`` lines."""
    key = {"chassis": "chassisId", "location": "location", "contact": "contact"}[what]
    keyword = "chassis-id" if what == "chassis" else what
    return {key: _snmp(ctx, keyword)}


# --------------------------------------------------------------------------- software


def version_detail_json(version: dict[str, Any]) -> dict[str, Any]:
    """``show version detail``: ``show version`` plus its details (no extension package)."""
    return {
        **version,
        "details": {
            "deviations": [],
            "components": [{"name": "Aboot", "version": "Aboot-veos-8.0.0-3255441"}],
            "switchType": "fixedSystem",
            "packages": {},
        },
    }


def extensions_json() -> dict[str, Any]:
    """``show extensions`` (revision 2): none installed."""
    return {
        "extensions": {},
        "extensionStoredDir": "flash:",
        "warnings": ["No extensions are available"],
    }


def boot_extensions_json() -> dict[str, Any]:
    """``show boot-extensions``: none."""
    return {"extensions": []}


def zerotouch_json() -> dict[str, Any]:
    """``show zerotouch``: a lab switch boots from its saved config, ZTP disabled."""
    return {"mode": "disabled"}


def running_diffs_text(ctx: ShowContext) -> str:
    """``show running-config diffs``: startup-config to running-config, empty when saved."""
    old = ctx.startup_body.splitlines()
    new = ctx.running_body.splitlines()
    lines = list(
        difflib.unified_diff(
            old, new, fromfile="flash:/startup-config", tofile="system:/running-config", lineterm=""
        )
    )
    return "\n".join(lines) + "\n" if lines else ""
