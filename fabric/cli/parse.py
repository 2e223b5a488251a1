"""``parse PLATFORM COMMAND [FILE|-]``: print the parsed state of a CLI output as JSON."""

from __future__ import annotations

import json
import sys
from typing import TextIO

import click


@click.command("parse")
@click.argument("platform")
@click.argument("command")
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-", required=False)
@click.option(
    "--engine",
    type=click.Choice(["lines", "ttp"]),
    default="lines",
    show_default=True,
    help="Match with the line engine or with TTP's own engine (same result, slower).",
)
def parse_cmd(platform: str, command: str, file: TextIO, engine: str) -> None:
    """Parse FILE (default: stdin), the output of COMMAND on PLATFORM, and print JSON.

    PLATFORM is arista_eos, calico or kubernetes; COMMAND as typed, e.g.
    "show ip bgp summary vrf all" or "kubectl get pods -o wide -A". Exit code 5 when the text
    cannot be parsed (the message names the first line that could not be accounted for).
    """
    from fabric.parsing import parse

    text = file.read()
    state = parse(platform, command, text, engine="ttp" if engine == "ttp" else "lines")
    json.dump(state.model_dump(mode="json"), sys.stdout, indent=2)
    sys.stdout.write("\n")
