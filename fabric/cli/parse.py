"""``parse PLATFORM COMMAND [FILE|-]``: print the parsed state of a CLI output as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from fabric import userfiles
from fabric.errors import ParseError


def _stdin_bytes() -> bytes:
    """Standard input as bytes (decoded by the same rules as a file); text if it has no bytes."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        return bytes(buffer.read())
    return sys.stdin.read().encode("utf-8", "surrogateescape")


@click.command("parse")
@click.argument("platform")
@click.argument("command")
@click.argument("file", type=click.Path(allow_dash=True), default="-", required=False)
@click.option(
    "--engine",
    type=click.Choice(["lines", "ttp"]),
    default="lines",
    show_default=True,
    help="Match with the line engine or with TTP's own engine (same result, slower).",
)
def parse_cmd(platform: str, command: str, file: str, engine: str) -> None:
    """Parse FILE (default: stdin), the output of COMMAND on PLATFORM, and print JSON.

    PLATFORM is arista_eos, calico or kubernetes; COMMAND as typed, e.g.
    "show ip bgp summary vrf all" or "kubectl get pods -o wide -A". Exit code 5 when the text
    cannot be parsed (the message names the first line that could not be accounted for), or
    is not text (UTF-8, or UTF-16 with a byte order mark); 2 when FILE cannot be read.
    """
    from fabric.parsing import find_parser, parse

    find_parser(platform, command)  # an unknown platform or command is a usage error first
    if file == "-":
        data, label = _stdin_bytes(), "<stdin>"
    else:
        data, label = userfiles.read_bytes(Path(file), "device output (a text file)"), file
    text = userfiles.decode_device_output(data, label, error=lambda m: ParseError(command, None, m))
    state = parse(platform, command, text, engine="ttp" if engine == "ttp" else "lines")
    json.dump(state.model_dump(mode="json"), sys.stdout, indent=2)
    sys.stdout.write("\n")
