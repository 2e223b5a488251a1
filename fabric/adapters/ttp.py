"""A TTP template's compiled line regexes (TTP's internals: it has no public API for them).

The line engine (:mod:`fabric.parsing.engine`) lets TTP turn a template into regexes (its
syntax, patterns and whitespace rules) and then matches them itself, one line at a time. What
it needs of TTP, the compiled regexes of the one ``<group>`` and their variables, TTP keeps in
``ttp._templates[i].groups[j].start_re``. This module is the only place that reads them;
``tests/test_adapters.py`` fails loudly when a TTP release changes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: TTP wraps each line regex as ``\n<body>[\t ]*(?=\n|\r\n)``.
REGEX_HEAD = "\\n"
REGEX_TAIL = "[\\t ]*(?=\\n|\\r\\n)"


class TtpTemplateError(Exception):
    """TTP could not load the template, or it is not one table group of line regexes."""


@dataclass(frozen=True)
class TtpVariable:
    """A ``{{ name | functions }}`` of a line: its regex group and its functions."""

    group: str
    name: str
    functions: tuple[tuple[str, tuple[Any, ...]], ...]


@dataclass(frozen=True)
class TtpLine:
    """One line of the group: the regex TTP compiled and its variables."""

    regex: re.Pattern[str]
    variables: tuple[TtpVariable, ...]


@dataclass(frozen=True)
class TtpGroup:
    """The template's one group: its method, what else it declares, and its lines."""

    method: str
    has_children: bool
    has_group_regexes: bool
    lines: tuple[TtpLine, ...]


def load_group(text: str) -> TtpGroup:
    """Compile ``text`` with TTP and return its one group.

    Raises:
        TtpTemplateError: TTP cannot load it, or it holds other than exactly one group.
    """
    import ttp  # imported lazily: TTP is slow to import and only needed here

    try:
        parser = ttp.ttp(template=text, log_level="CRITICAL")
    except (Exception, SystemExit) as exc:  # TTP exits on a template it cannot load
        raise TtpTemplateError(f"TTP cannot load the template: {exc!r}") from None
    templates = parser._templates
    if len(templates) != 1 or len(templates[0].groups) != 1:
        raise TtpTemplateError("expected exactly one <group>")
    group = templates[0].groups[0]
    lines = tuple(
        TtpLine(
            regex=regex["REGEX"],
            variables=tuple(
                TtpVariable(
                    group=name,
                    name=str(var.var_name_original),
                    functions=tuple((str(f["name"]), tuple(f["args"])) for f in var.functions),
                )
                for name, var in regex["VARIABLES"].items()
            ),
        )
        for regex in group.start_re
    )
    return TtpGroup(
        method=str(group.method),
        has_children=bool(group.children),
        has_group_regexes=bool(group.re or group.end_re),
        lines=lines,
    )
