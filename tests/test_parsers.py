"""Data-driven parser tests: tests/data/parsers/<platform>/<command>/<case>.txt.

* ``<case>.yml`` is the expected contract JSON (written from the raw text or from a source
  independent of our parser, see SOURCES.md there); ``<case>.err`` instead holds the line the
  ParseError must name (empty: the error names no line).
* Every case must read the same in its collapsed form (runs of spaces squeezed, indentation
  lost), as the seed write-up prints it.
* Every sample of one command fed to another command's parser must raise ParseError (except
  a command that prints the same table with the same template: show ip / ipv6 bgp summary).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fabric.errors import ParseError
from fabric.parsing import PARSERS, find_parser, parse

DATA = Path(__file__).parent / "data" / "parsers"
PARSERS_DIR = Path(__file__).resolve().parent.parent / "parsers"


def _command(folder: Path) -> tuple[str, str]:
    return folder.parent.name, folder.name.replace("_", " ")


def _cases() -> list[tuple[str, str, Path]]:
    out = []
    for txt in sorted(DATA.glob("*/*/*.txt")):
        platform, command = _command(txt.parent)
        out.append((platform, command, txt))
    return out


CASES = _cases()
GOOD = [c for c in CASES if c[2].with_suffix(".yml").is_file()]
BAD = [c for c in CASES if c[2].with_suffix(".err").is_file()]


def _id(case: tuple[str, str, Path]) -> str:
    return f"{case[2].parent.name}/{case[2].stem}"


def _collapse(text: str) -> str:
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def test_every_case_has_an_expectation() -> None:
    assert len(CASES) >= 60
    for _, _, txt in CASES:
        assert txt.with_suffix(".yml").is_file() != txt.with_suffix(".err").is_file(), txt


@pytest.mark.parametrize("case", GOOD, ids=_id)
def test_parses_as_expected(case: tuple[str, str, Path]) -> None:
    platform, command, txt = case
    expected = yaml.safe_load(txt.with_suffix(".yml").read_text(encoding="utf-8"))
    state = parse(platform, command, txt.read_text(encoding="utf-8"), parsers=PARSERS_DIR)
    assert state.model_dump(mode="json") == expected


@pytest.mark.parametrize("case", GOOD, ids=_id)
def test_collapsed_form_reads_the_same(case: tuple[str, str, Path]) -> None:
    platform, command, txt = case
    text = txt.read_text(encoding="utf-8")
    aligned = parse(platform, command, text, parsers=PARSERS_DIR)
    collapsed = parse(platform, command, _collapse(text), parsers=PARSERS_DIR)
    assert collapsed == aligned


@pytest.mark.parametrize("case", GOOD + BAD, ids=_id)
def test_ttp_engine_agrees(case: tuple[str, str, Path]) -> None:
    platform, command, txt = case
    text = txt.read_text(encoding="utf-8")
    results = []
    for engine in ("lines", "ttp"):
        try:
            results.append(parse(platform, command, text, parsers=PARSERS_DIR, engine=engine))
        except ParseError as exc:
            results.append(exc.line)
    assert results[0] == results[1]


@pytest.mark.parametrize("case", BAD, ids=_id)
def test_bad_input_names_the_line(case: tuple[str, str, Path]) -> None:
    platform, command, txt = case
    want = txt.with_suffix(".err").read_text(encoding="utf-8").strip() or None
    with pytest.raises(ParseError) as info:
        parse(platform, command, txt.read_text(encoding="utf-8"), parsers=PARSERS_DIR)
    assert info.value.line == want
    assert info.value.exit_code == 5
    assert repr(command) in str(info.value) or command.split()[0] in str(info.value)


def _foreign_pairs() -> list[tuple[tuple[str, str, Path], str, str]]:
    pairs = []
    for case in GOOD:
        own_template = find_parser(case[0], case[1]).template
        for parser in PARSERS:
            own = parser.pattern.fullmatch(case[1]) or parser.template == own_template
            if parser.platform == case[0] and own:
                continue  # the same command, or one printing the same table (ip/ipv6 bgp)
            if "running-config" in parser.name and "running-config" in case[1]:
                continue
            if case[2].stem.startswith("empty_no_resources") and parser.platform == "kubernetes":
                continue  # "No resources found" is the empty answer of every kubectl get
            pairs.append((case, parser.platform, parser.name))
    return pairs


@pytest.mark.parametrize(
    ("case", "platform", "command"),
    _foreign_pairs(),
    ids=lambda x: x if isinstance(x, str) else _id(x),
)
def test_foreign_text_is_refused(case: tuple[str, str, Path], platform: str, command: str) -> None:
    with pytest.raises(ParseError):
        parse(platform, command, case[2].read_text(encoding="utf-8"), parsers=PARSERS_DIR)
