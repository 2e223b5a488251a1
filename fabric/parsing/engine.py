"""Line engine: TTP templates compiled by TTP, matched one line at a time.

A parser template (``parsers/<platform>/<command>.ttp``) is a TTP template with one
``<group method="table">``: every line of it is one *line form* the command can print. Each
form names its kind with ``{{ var | let("kind", "NAME") }}`` on one of its captured variables
(a line of fixed text captures its first word, ``{{ col | re("Neighbor") | let(...) }}``: TTP's
``set()`` compares the whole line verbatim and would miss aligned output). TTP turns the
template into regexes (its own syntax, patterns and whitespace rules: a space in the template
matches one or more spaces in the text, so aligned and collapsed outputs read the same).

Two engines run those regexes:

* ``lines`` (the default): each input line is matched against the forms in template order; the
  first match wins (TTP's own precedence for start regexes of one group). It knows which line
  each row came from, so a line no form accounts for raises :class:`~fabric.errors.ParseError`
  naming it. It is about five times faster than TTP's engine on large tables.
* ``ttp``: TTP's own ``parse()``. It silently drops lines no form matches, so the same regexes
  are run once more over the text to find such lines. Kept to prove both engines agree.

Both return :class:`Row` objects in input order; the per-command modules assemble them.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple, TypeAlias

from fabric import userfiles
from fabric.adapters.ttp import (
    REGEX_HEAD,
    REGEX_TAIL,
    TtpLine,
    TtpTemplateError,
    load_group,
)
from fabric.errors import FabricError, ParseError

Engine = Literal["lines", "ttp"]

#: Longest line (characters, indentation included) the engines read. No command prints a
#: line this long; refusing it first keeps every match bounded however hostile the text.
MAX_LINE = 65_536


class TemplateError(FabricError):
    """A parser template does not follow the line-form conventions of this module."""


class Line(NamedTuple):
    """One input line: its number (1-based), text without indentation, and indentation width."""

    number: int
    text: str
    indent: int


class Row(NamedTuple):
    """One matched line: the form's kind, the captured values, and the line it came from."""

    kind: str
    values: dict[str, str]
    line: Line


@dataclass(frozen=True, slots=True)
class _Form:
    regex: re.Pattern[str]
    kind: str
    captures: tuple[tuple[str, str], ...]  # (regex group name, output name)
    constants: tuple[tuple[str, str], ...]  # values set by set()/let() other than the kind


#: What the line engine needs of a form, by the name of its outer group in the combined regex:
#: kind, output names, group names, constants (see :func:`_combine`).
_Spec: TypeAlias = tuple[str, tuple[str, ...], tuple[str, ...], tuple[tuple[str, str], ...]]

_GROUP_RE = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>")


def _combine(forms: Sequence[_Form]) -> tuple[re.Pattern[str], dict[str, _Spec]]:
    """One regex for all forms: ``(?P<f0>form 0)|(?P<f1>form 1)|...`` with renamed groups.

    The alternatives are tried in order, so the first form that matches wins, as in TTP; the
    outer group that closes last (``m.lastgroup``) names the form, and indexes its spec.
    """
    parts: list[str] = []
    index: dict[str, _Spec] = {}
    for k, form in enumerate(forms):
        body = form.regex.pattern
        if not (body.startswith(REGEX_HEAD) and body.endswith(REGEX_TAIL)):
            raise TemplateError(f"unexpected TTP regex shape: {body!r}")
        body = body[len(REGEX_HEAD) : -len(REGEX_TAIL)]
        body = _GROUP_RE.sub(lambda m, k=k: f"(?P<g{k}_{m.group(1)}>", body)  # type: ignore[misc]
        parts.append(f"(?P<f{k}>{body})")
        index[f"f{k}"] = (
            form.kind,
            tuple(out for _, out in form.captures),
            tuple(f"g{k}_{grp}" for grp, _ in form.captures),
            form.constants,
        )
    return re.compile("(?:" + "|".join(parts) + ")[\\t ]*"), index


@dataclass(frozen=True)
class LineTemplate:
    """A compiled parser template.

    Attributes:
        path: the ``.ttp`` file.
        text: the template source (handed to TTP again by the ``ttp`` engine).
        doc: the template's ``<doc>`` block.
        forms: the line forms in template order.
        combined: all forms as one regex (see :func:`_combine`), matched once per line.
        index: the spec of each form by the name of its group in ``combined``.
    """

    path: Path
    text: str
    doc: str
    forms: tuple[_Form, ...] = field(repr=False)
    combined: re.Pattern[str] = field(repr=False)
    index: dict[str, _Spec] = field(repr=False)

    def match(self, line: Line) -> Row | None:
        """The row for ``line`` (first form in template order that matches), else ``None``."""
        m = self.combined.fullmatch(line.text)
        if m is None:
            return None
        kind, outs, names, constants = self.index[m.lastgroup or ""]
        values = _values(m, outs, names)
        for key, value in constants:
            values[key] = value
        return Row(kind, values, line)


def _values(m: re.Match[str], outs: tuple[str, ...], names: tuple[str, ...]) -> dict[str, str]:
    if len(names) == 1:
        return {outs[0]: m.group(names[0])}
    return dict(zip(outs, m.group(*names), strict=True))


_DOC_RE = re.compile(r"<doc>(.*?)</doc>", re.S)


def _compile(path: Path) -> LineTemplate:
    text = userfiles.read_text(path, "a TTP parser template", error=TemplateError)
    doc_match = _DOC_RE.search(text)
    if doc_match is None:
        raise TemplateError(f"{path}: no <doc> block")
    try:
        group = load_group(text)
    except TtpTemplateError as exc:
        raise TemplateError(f"{path}: {exc}") from None
    if group.method != "table" or group.has_children or group.has_group_regexes:
        raise TemplateError(f"{path}: the group must use method='table' and have no children")
    forms = [_form(path, line) for line in group.lines]
    combined, index = _combine(forms)
    return LineTemplate(
        path=path,
        text=text,
        doc=doc_match.group(1).strip(),
        forms=tuple(forms),
        combined=combined,
        index=index,
    )


def _form(path: Path, line: TtpLine) -> _Form:
    """A line form from one compiled TTP line (its kind and constants from ``let()``)."""
    kind: str | None = None
    captures: list[tuple[str, str]] = []
    constants: list[tuple[str, str]] = []
    for var in line.variables:
        if var.group in line.regex.groupindex:
            captures.append((var.group, var.name))
        for fn, args in var.functions:
            if fn != "let" or len(args) != 2:
                # set() is not allowed: TTP compares a set() line with the template text
                # exactly, so it would not match aligned output; capture a word and let().
                raise TemplateError(
                    f"{path}: function {fn!r} is not supported by the line engine "
                    "(use regex patterns and let('kind', ...); convert values in Python)"
                )
            key, value = str(args[0]), str(args[1])
            if key == "kind":
                kind = value
            else:
                constants.append((key, value))
    if kind is None:
        raise TemplateError(f"{path}: a line form sets no kind: {line.regex.pattern!r}")
    return _Form(line.regex, kind, tuple(captures), tuple(constants))


@functools.lru_cache(maxsize=64)
def _compile_cached(path: Path, mtime_ns: int) -> LineTemplate:
    return _compile(path)


def load_template(path: Path) -> LineTemplate:
    """Compile (once per file version) the parser template at ``path``."""
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise TemplateError(f"parser template not found: {path}") from exc
    return _compile_cached(path, mtime)


def too_long(command: str, number: int, raw: str) -> ParseError:
    """The error for line ``number``, longer than :data:`MAX_LINE` (the line is not shown)."""
    return ParseError(
        command,
        None,
        f"line {number} is {len(raw):,} characters long, more than the {MAX_LINE:,} any "
        "command prints: not this command's output",
    )


def split_lines(text: str, command: str = "") -> list[Line]:
    """Split output into lines: tabs expanded, CR removed, spaces trimmed, blanks skipped.

    Raises:
        ParseError: a line is longer than :data:`MAX_LINE` (naming its number).
    """
    out: list[Line] = []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\t" in text:
        text = text.expandtabs(8)
    for number, raw in enumerate(text.split("\n"), start=1):
        if len(raw) > MAX_LINE:
            raise too_long(command, number, raw)
        stripped = raw.strip()
        if stripped:
            out.append(Line(number, stripped, len(raw) - len(raw.lstrip())))
    return out


def iter_rows(template: LineTemplate, command: str, text: str) -> Iterator[Row]:
    """Rows of ``text`` with the ``lines`` engine, made as they are read.

    The same rows as :func:`split_lines` + :func:`match_lines`, in one pass and without
    holding them all: an assembler can consume each row while the next line is matched.
    The first unaccounted line raises :class:`~fabric.errors.ParseError` when it is reached,
    as does a line longer than :data:`MAX_LINE` (before any regex sees it).
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\t" in text:
        text = text.expandtabs(8)
    fullmatch = template.combined.fullmatch
    index = template.index
    new = tuple.__new__  # Row(...) and Line(...) without the Python-level __new__ of NamedTuple
    for number, raw in enumerate(text.split("\n"), 1):
        if len(raw) > MAX_LINE:
            raise too_long(command, number, raw)
        stripped = raw.strip()
        if not stripped:
            continue
        m = fullmatch(stripped)
        if m is None:
            raise ParseError(command, stripped)
        kind, outs, names, constants = index[m.lastgroup]  # type: ignore[index]
        if len(names) == 1:
            values = {outs[0]: m.group(names[0])}
        else:
            values = dict(zip(outs, m.group(*names)))  # noqa: B905 - same length by construction
        if constants:
            values.update(constants)
        line = new(Line, (number, stripped, len(raw) - len(raw.lstrip())))
        yield new(Row, (kind, values, line))


def match_lines(template: LineTemplate, command: str, lines: Sequence[Line]) -> list[Row]:
    """Rows for ``lines`` with the ``lines`` engine; the first unaccounted line raises."""
    rows: list[Row] = []
    append = rows.append
    match = template.match
    for line in lines:
        row = match(line)
        if row is None:
            raise ParseError(command, line.text)
        append(row)
    return rows


def match_lines_ttp(template: LineTemplate, command: str, lines: Sequence[Line]) -> list[Row]:
    """Rows for ``lines`` with TTP's own engine, plus a pass that finds unaccounted lines."""
    import ttp

    data = "\n".join(line.text for line in lines)
    # TTP parses "\n" + data + "\n\n"; the same framing lets each regex match at a line start.
    framed = "\n" + data + "\n\n"
    starts: dict[int, int] = {}
    pos = 0
    for index, line in enumerate(lines):
        starts[pos] = index
        pos += len(line.text) + 1
    matched: set[int] = set()
    for form in template.forms:
        matched.update(
            starts[m.start()] for m in form.regex.finditer(framed) if m.start() in starts
        )
    for index, line in enumerate(lines):
        if index not in matched:
            raise ParseError(command, line.text)
    # Where several forms match a line, TTP prefers the form of the group being filled, i.e.
    # the first one in template order, except on the very first line (no group yet): there
    # it keeps the last. The first line is therefore given twice and its first reading dropped.
    if lines:
        data = lines[0].text + "\n" + data
    parser = ttp.ttp(data=data, template=template.text, log_level="CRITICAL")
    parser.parse()
    result = parser.result()
    records: list[dict[str, str]] = []
    for item in _walk(result):
        records.extend(item)
    records = records[1:]
    if len(records) != len(lines):
        raise ParseError(
            command, None, f"TTP returned {len(records)} rows for {len(lines)} matched lines"
        )
    rows: list[Row] = []
    for record, line in zip(records, lines, strict=True):
        values = {k: str(v) for k, v in record.items() if k != "kind"}
        rows.append(Row(str(record.get("kind", "")), values, line))
    return rows


def _walk(result: object) -> Iterator[list[dict[str, str]]]:
    """The row lists inside TTP's nested result (``[[{"group": [rows]}]]``)."""
    if isinstance(result, list):
        for item in result:
            yield from _walk(item)
    elif isinstance(result, dict):
        for value in result.values():
            if isinstance(value, list) and all(isinstance(v, dict) for v in value):
                yield value
            elif isinstance(value, dict):
                yield [value]


def run(template: LineTemplate, command: str, text: str, engine: Engine = "lines") -> list[Row]:
    """Split ``text`` and match every line; the first unaccounted line raises ParseError."""
    with paused_gc():
        if engine == "ttp":
            return match_lines_ttp(template, command, split_lines(text, command))
        return list(iter_rows(template, command, text))


_gc_lock = threading.Lock()
_gc_depth = 0
_gc_was_enabled = False


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large output is parsed.

    A parse makes a few hundred thousand small containers (rows, dicts, models) and keeps
    them all; each collection then walks every one of them again, which on 100,000 routes is
    most of the time spent building the models (bench/bench_parsers.py). None of them form
    reference cycles, so reference counting frees what is dropped; the collector runs again
    when the outermost pause (of any thread) ends, if it was enabled when the first began.
    """
    global _gc_depth, _gc_was_enabled
    with _gc_lock:
        if _gc_depth == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_depth += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_depth -= 1
            if _gc_depth == 0 and _gc_was_enabled:
                gc.enable()
