"""Small pure helpers shared by the assemblers."""

from __future__ import annotations

import ipaddress
import re

from fabric.errors import ParseError
from fabric.parsing.engine import Row


def asn(text: str) -> int:
    """An ASN as an integer in asplain; asdot ``X.Y`` is ``X * 65536 + Y``.

    >>> asn("65535"), asn("64497.232"), asn("1.0")
    (65535, 4226875624, 65536)
    """
    high, dot, low = text.partition(".")
    if dot:
        return int(high) * 65536 + int(low)
    return int(text)


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_IPV4_RE = re.compile(IPV4 + r"\Z")


def is_ip(text: str) -> bool:
    """Whether ``text`` is an IPv4/IPv6 address (a ``%scope`` suffix allowed).

    >>> is_ip("10.0.0.1"), is_ip("fe80::1%Et3"), is_ip("Ethernet1"), is_ip("1.2.3")
    (True, True, False, False)
    """
    if _IPV4_RE.match(text):
        return True
    if ":" not in text:
        return False
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True


def none_if(text: str | None, *empty: str) -> str | None:
    """``None`` for ``<none>`` (or another placeholder in ``empty``), else the text.

    >>> none_if("<none>"), none_if("10.0.0.1"), none_if("---", "---")
    (None, '10.0.0.1', None)
    """
    if text is None or text == "<none>" or text in empty:
        return None
    return text


def squeeze(text: str) -> str:
    """Runs of whitespace as one space (aligned and collapsed outputs then compare equal).

    >>> squeeze("via  10.0.0.1,   Ethernet1 ")
    'via 10.0.0.1, Ethernet1'
    """
    if "  " not in text and "\t" not in text and text == text.strip():
        return text
    return " ".join(text.split())


def fail(command: str, row: Row, detail: str) -> ParseError:
    """A ParseError naming ``row``'s line and why it cannot be accounted for here."""
    return ParseError(command, row.line.text, f"line {row.line.number}: {detail}")


class Prompt:
    """The CLI prompt a capture may keep around the output.

    ``leaf1#show ip route``, then the output, then (optionally) the bare ``leaf1#`` after it.

    The templates read both as ``prompt`` (the prompt echoing the command; the echo must be a
    form of the command) and ``prompt_end`` (the bare prompt) rows; an assembler hands them to
    :meth:`leading` and :meth:`trailing`, and calls :meth:`after` for a row that follows the
    closing prompt. The echo is accepted only on the first line and the bare prompt only on
    the last one, the same prompt as the echo's: anywhere else they are not this output.
    """

    __slots__ = ("closing", "command", "echo")

    def __init__(self, command: str) -> None:
        self.command = command
        self.echo: Row | None = None
        self.closing: Row | None = None

    def leading(self, row: Row, first: bool) -> None:
        """A ``prompt`` row: only the first row of the output."""
        if not first:
            raise fail(self.command, row, "a prompt echoing the command inside the output")
        self.echo = row

    def trailing(self, row: Row) -> None:
        """A ``prompt_end`` row: kept until the end, where :meth:`finish` checks it."""
        if self.echo is None or row.values["prompt"] != self.echo.values["prompt"]:
            raise fail(
                self.command, row, "a prompt that does not follow a prompt echoing the command"
            )
        self.closing = row

    def after(self, row: Row) -> None:
        """``row`` comes after the closing prompt: an error when there is one."""
        if self.closing is not None:
            raise fail(self.command, self.closing, "a prompt inside the output")
