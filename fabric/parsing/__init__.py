"""Parse CLI output into typed state: ``parse(platform, command, text) -> model``.

```python
from fabric.parsing import parse
state = parse("arista_eos", "show ip bgp summary", text)   # -> BgpSummary; raises ParseError
state.model_dump(mode="json")                              # the contract JSON (docs/parsers.md)
```

The command is normalised first (``show ip bgp summary vrf all``, ``sudo calicoctl node
status``, ``kubectl get pods -owide -A | grep x`` ...) to one of the parsers in
:data:`PARSERS`; each parser is a TTP template under ``parsers/<platform>/`` (the definition of
every line form, see :mod:`fabric.parsing.engine`) plus an assembler that builds the model.
Text that is not the command's output, or a line no form accounts for, raises
:class:`~fabric.errors.ParseError` naming the command and the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from fabric.errors import ParseError, UsageError
from fabric.parsing import calico, eos, kubernetes
from fabric.parsing.engine import (
    Engine,
    Row,
    iter_rows,
    load_template,
    match_lines_ttp,
    paused_gc,
    split_lines,
)

Assembler = Callable[[str, Iterable[Row]], BaseModel]


@dataclass(frozen=True)
class Parser:
    """One supported command: its template file and its assembler.

    Attributes:
        platform: ``arista_eos``, ``calico`` or ``kubernetes``.
        name: the canonical command (``show ip bgp summary``).
        template: the template path relative to the parsers folder.
        pattern: the normalised command forms this parser reads (full match).
        assemble: rows -> model.
    """

    platform: str
    name: str
    template: str
    pattern: re.Pattern[str]
    assemble: Assembler


def _running_config(section_only: bool) -> Assembler:
    def assemble(command: str, rows: Iterable[Row]) -> BaseModel:
        return eos.assemble_running_config_bgp(command, rows, section_only=section_only)

    return assemble


_VRF = r"(?: vrf \S+)?"
#: ``show ip route`` filters that print the same table: a prefix (``longer-prefixes``), a source.
_ROUTE_FILTERS = (
    r"(?: (?:[0-9a-f:./]+)(?: longer-prefixes)?)?"
    r"(?: (?:bgp|connected|static|kernel|isis|ospf|ospfv3|rip|aggregate))?"
)
_KUBECTL_OPTS = r"(?: (?:-A|--all-namespaces|-o ?wide|-o=wide|--output[= ]wide|-owide"
_KUBECTL_OPTS += r"|(?:-n|--namespace|-l|--selector|--field-selector)[= ]?\S+))*"

PARSERS: tuple[Parser, ...] = (
    Parser(
        "arista_eos",
        "show ip bgp summary",
        "arista_eos/show_ip_bgp_summary.ttp",
        re.compile(r"show (?:ip )?bgp (?:ipv4 unicast |evpn )?summary" + _VRF),
        eos.assemble_bgp_summary,
    ),
    Parser(  # the same table as IPv4 (same template and model), its own command
        "arista_eos",
        "show ipv6 bgp summary",
        "arista_eos/show_ip_bgp_summary.ttp",
        re.compile(r"show (?:ipv6 bgp|bgp ipv6 unicast) summary" + _VRF),
        eos.assemble_bgp_summary,
    ),
    Parser(
        "arista_eos",
        "show ip route",
        "arista_eos/show_ip_route.ttp",
        re.compile(r"show ip route" + _VRF + _ROUTE_FILTERS),
        eos.assemble_route_table,
    ),
    Parser(
        "arista_eos",
        "show ipv6 route",
        "arista_eos/show_ipv6_route.ttp",
        re.compile(r"show ipv6 route" + _VRF + _ROUTE_FILTERS),
        eos.assemble_route_table,
    ),
    Parser(
        "arista_eos",
        "show running-config section router bgp",
        "arista_eos/show_running-config_section_router_bgp.ttp",
        re.compile(r"show run(?:ning-config)?(?: all)? section (?:router )?bgp"),
        _running_config(section_only=True),
    ),
    Parser(
        "arista_eos",
        "show running-config",
        "arista_eos/show_running-config_section_router_bgp.ttp",
        re.compile(r"show (?:run(?:ning-config)?|startup-config)(?: all)?"),
        _running_config(section_only=False),
    ),
    Parser(
        "calico",
        "calicoctl node status",
        "calico/calicoctl_node_status.ttp",
        re.compile(
            r"(?:(?:calicoctl|kubectl calico|kubectl-calico) node|calicoctl) status"
            r"(?: --allow-version-mismatch)?"
        ),
        calico.assemble_node_status,
    ),
    Parser(
        "calico",
        "birdcl show protocols",
        "calico/birdcl_show_protocols.ttp",
        # birdcl or birdc (and BIRD 1.x's birdcl6/birdc6); -s bird.ctl or bird6.ctl, -r ...
        # and any abbreviation BIRD's CLI takes ("s p", "sh pro", "show protocol")
        re.compile(
            r"birdcl?6?(?: -[a-z])*(?: -s \S+)?(?: -[a-z])* "
            r"(?:s|sh|sho|show) p(?:r(?:o(?:t(?:o(?:c(?:o(?:ls?)?)?)?)?)?)?)?"
        ),
        calico.assemble_bird_protocols,
    ),
    Parser(
        "kubernetes",
        "kubectl get pods -o wide",
        "kubernetes/kubectl_get_pods.ttp",
        re.compile(r"kubectl(?: -n \S+)? get (?:pods|pod|po)" + _KUBECTL_OPTS),
        kubernetes.assemble_pods,
    ),
    Parser(
        "kubernetes",
        "kubectl get svc -o wide",
        "kubernetes/kubectl_get_svc.ttp",
        re.compile(r"kubectl(?: -n \S+)? get (?:svc|service|services)" + _KUBECTL_OPTS),
        kubernetes.assemble_services,
    ),
)

_PLATFORM_ALIASES = {"eos": "arista_eos", "arista": "arista_eos", "k8s": "kubernetes"}
_WRAPPERS = re.compile(r"^(?:sudo (?:-\S+ )*|kubectl (?:-n \S+ )?exec .*? -- |docker exec .*? )+")


def normalise_command(command: str) -> str:
    """The command as the parsers know it: lower-case, single spaces, no sudo, exec or pipes.

    >>> normalise_command("sudo  kubectl calico node status")
    'kubectl calico node status'
    >>> normalise_command("kubectl get pods -owide -A | grep kube-worker-001")
    'kubectl get pods -owide -a'
    """
    text = " ".join(command.split("|", 1)[0].split()).lower()
    text = _WRAPPERS.sub("", text)
    return text.replace(" -a", " -A")


def find_parser(platform: str, command: str) -> Parser:
    """The parser for ``command`` on ``platform``; UsageError when there is none."""
    platform = _PLATFORM_ALIASES.get(platform.lower(), platform.lower())
    wanted = normalise_command(command)
    platforms = {p.platform for p in PARSERS}
    if platform not in platforms:
        raise UsageError(f"unknown platform {platform!r} (one of {', '.join(sorted(platforms))})")
    for parser in PARSERS:
        if parser.platform == platform and parser.pattern.fullmatch(wanted):
            return parser
    known = ", ".join(repr(p.name) for p in PARSERS if p.platform == platform)
    raise UsageError(f"no parser for {platform} {command!r} (known: {known})")


def parsers_dir() -> tuple[Path, ...]:
    """Where parser templates are looked for: the project's ``parsers/``, then the shipped ones."""
    from fabric.paths import ProjectPaths

    return ProjectPaths.discover().search("parsers")


def template_file(parser: Parser, parsers: Path | Sequence[Path] | None = None) -> Path:
    """The ``.ttp`` file of ``parser``: from the first folder of ``parsers`` that has it.

    Raises:
        UsageError: no folder has it (naming the file and the folders).
    """
    folders = parsers_dir() if parsers is None else parsers
    folders = (folders,) if isinstance(folders, Path) else tuple(folders)
    for folder in folders:
        candidate = folder / parser.template
        if candidate.is_file():
            return candidate
    where = " or ".join(str(f) for f in folders)
    raise UsageError(f"parser {parser.template} not found (looked in {where})")


def parse(
    platform: str,
    command: str,
    text: str,
    *,
    parsers: Path | Sequence[Path] | None = None,
    engine: Engine = "lines",
) -> BaseModel:
    """Parse ``text``, the output of ``command`` on ``platform``, into its state model.

    Args:
        platform: ``arista_eos``, ``calico`` or ``kubernetes``.
        command: the command as typed (normalised by :func:`normalise_command`).
        text: the output, aligned or with its spaces collapsed.
        parsers: the folder of TTP templates, or folders searched in order (default: the
            project's ``parsers/``, then the shipped ones).
        engine: ``lines`` (default) or ``ttp`` (TTP's own engine; same result, slower).

    Returns:
        The model of :mod:`fabric.models.parsed` for the command (``BgpSummary``, ...).

    Raises:
        ParseError: the text is not this command's output, a line cannot be accounted for,
            or the values do not validate.
        UsageError: no parser for this platform and command, or its template is missing.
    """
    parser = find_parser(platform, command)
    template = load_template(template_file(parser, parsers))
    with paused_gc():
        if engine == "ttp":
            lines = split_lines(text, parser.name)
            rows: Iterator[Row] = iter(match_lines_ttp(template, parser.name, lines))
        else:
            rows = iter_rows(template, parser.name, text)  # matched as the assembler reads
        try:
            state = parser.assemble(parser.name, rows)
        except ParseError:
            # An unaccounted line anywhere takes precedence over what the assembler found
            # wrong before it (as when every line is matched first): match the rest.
            for _ in rows:
                pass
            raise
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            msg = f"invalid value at {where}: {first['msg']}"
            raise ParseError(parser.name, None, msg) from None
        except (ValueError, OverflowError) as exc:
            # a number no model could hold (int() refuses more than 4,300 digits)
            raise ParseError(parser.name, None, f"a value cannot be read: {exc}") from None
        for _ in rows:  # an assembler that stopped early leaves no line unchecked
            pass
        return state


__all__ = [
    "PARSERS",
    "Parser",
    "find_parser",
    "normalise_command",
    "parse",
    "parsers_dir",
    "template_file",
]
