"""Durations, points in time and cron expressions as operators type them.

Every parser raises :class:`~fabric.errors.UsageError` (exit 2) with a message that says what
was expected and, given ``option``, names the option. Times are returned timezone-aware in UTC
(that is how they are stored); use :func:`format_local` to show them in the operator's local
time.

Accepted ranges (docs/scheduling.md): a duration from 1 second to :data:`MAX_DURATION`
(10 years); a point in time in the future, at most :data:`MAX_AHEAD` (10 years) from now.
Anything outside is refused before any date arithmetic could overflow.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fabric.errors import UsageError

#: Longest duration accepted (``--in``, ``--every``, ``--grace``, ``--confirm-within`` ...).
MAX_DURATION = timedelta(days=3650)
#: Farthest point in time accepted (``--at``, ``--not-before``), from now.
MAX_AHEAD = timedelta(days=3650)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^(?:(\d+)([smhdw]))+$")
_PART = re.compile(r"(\d+)([smhdw])")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _named(option: str, message: str) -> str:
    return f"{option}: {message}" if option else message


def parse_duration(text: str, *, option: str = "") -> timedelta:
    """Parse ``30s``, ``15m``, ``2h``, ``1d``, ``1w`` or a combination such as ``1h30m``.

    Args:
        text: the duration as typed.
        option: the option it was given to (``--in``), named in messages.

    Raises:
        UsageError: the text is not a duration from 1 second to :data:`MAX_DURATION`.

    >>> parse_duration("90s")
    datetime.timedelta(seconds=90)
    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
    """
    s = text.strip().lower()
    shown = text if len(text) <= 40 else text[:40] + "..."
    if not _DURATION.match(s):
        raise UsageError(
            _named(
                option,
                f"invalid duration {shown!r}: expected a number and a unit (s, m, h, d, w), "
                "e.g. 30s, 15m, 2h, 1d or 1h30m",
            )
        )
    seconds = sum(_count(n) * _UNITS[u] for n, u in _PART.findall(s))
    return timedelta(seconds=check_seconds(seconds, shown, option))


def _count(digits: str) -> int:
    """A unit count; more digits than any accepted duration has count as too many."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 12 else 10**12


def check_seconds(seconds: float, shown: str, option: str = "") -> float:
    """``seconds`` if it is a duration in range (1 s to :data:`MAX_DURATION`).

    Raises:
        UsageError: zero, negative, not a number, or longer than :data:`MAX_DURATION`.

    >>> check_seconds(90.0, "90")
    90.0
    """
    if not seconds > 0:  # also refuses NaN
        raise UsageError(_named(option, f"invalid duration {shown!r}: must be longer than zero"))
    if seconds > MAX_DURATION.total_seconds():
        raise UsageError(
            _named(
                option,
                f"duration {shown!r} is out of range: at most {MAX_DURATION.days} days (10 years)",
            )
        )
    return seconds


def format_duration(delta: timedelta) -> str:
    """The shortest ``1h30m`` form of a whole-second duration.

    >>> format_duration(timedelta(seconds=5400))
    '1h30m'
    >>> format_duration(timedelta(days=1))
    '1d'
    """
    total = int(delta.total_seconds())
    if total <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        n, total = divmod(total, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


def local_zone() -> tzinfo:
    """The operator's local time zone (what times are shown in)."""
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def parse_time(text: str, *, now: datetime | None = None, option: str = "") -> datetime:
    """Parse a point in the future; return it in UTC.

    Accepted: ISO 8601 (``2026-11-27T06:00``, ``2026-11-27 06:00:00+01:00``, ``...Z``; without an
    offset the time is local) or a clock time ``HH:MM[:SS]`` meaning its next occurrence in
    local time (today, or tomorrow if it has passed). At most :data:`MAX_AHEAD` from now.

    Raises:
        UsageError: the text is not a time, or the time is not in the future, or too far.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    s = text.strip()
    shown = text if len(text) <= 40 else text[:40] + "..."
    clock = _CLOCK.match(s)
    if clock:
        h, m, sec = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if h > 23 or m > 59 or sec > 59:
            raise UsageError(
                _named(option, f"invalid time {shown!r}: hours 0-23, minutes and seconds 0-59")
            )
        local_now = now.astimezone(local_zone())
        candidate = datetime.combine(local_now.date(), time(h, m, sec), tzinfo=local_zone())
        if candidate <= local_now:
            candidate += timedelta(days=1)
        return candidate.astimezone(UTC)
    try:
        when = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
        if when.tzinfo is None:
            when = when.replace(tzinfo=local_zone())
        # year 1 with a positive offset, year 9999 with a negative one: outside what a
        # datetime holds in UTC
        when = when.astimezone(UTC)
    except ValueError:
        raise UsageError(
            _named(
                option,
                f"invalid time {shown!r}: expected ISO 8601 (e.g. 2026-11-27T06:00 or "
                "2026-11-27T06:00:00Z) or a clock time HH:MM",
            )
        ) from None
    except OverflowError:
        raise UsageError(_named(option, f"time {shown!r} is out of range")) from None
    if when <= now:
        raise UsageError(
            _named(
                option,
                f"time {shown!r} ({format_local(when)}) is in the past: a schedule needs a "
                "future time",
            )
        )
    if when - now > MAX_AHEAD:
        raise UsageError(
            _named(
                option,
                f"time {shown!r} is out of range: at most {MAX_AHEAD.days} days (10 years) ahead",
            )
        )
    return when


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone by name (``UTC``, ``Europe/Paris``).

    Raises:
        UsageError: unknown zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "America", a name too long
        shown = name if len(name) <= 40 else name[:40] + "..."
        raise UsageError(
            f"unknown time zone {shown!r}: expected an IANA name such as UTC"
        ) from None


def validate_cron(expr: str, zone: str = "UTC") -> str:
    """Check a five-field crontab expression; return it normalised (single spaces).

    Raises:
        UsageError: wrong number of fields or a field APScheduler rejects.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise UsageError(
            f"invalid cron expression {expr!r}: expected 5 fields "
            "(minute hour day-of-month month day-of-week), e.g. '*/15 * * * *'"
        )
    try:
        CronTrigger.from_crontab(" ".join(fields), timezone=parse_zone(zone))
    except ValueError as exc:
        raise UsageError(f"invalid cron expression {expr!r}: {exc}") from None
    return " ".join(fields)


def to_utc_iso(when: datetime) -> str:
    """``2026-11-27T05:00:00.000000Z``: the stored form (sorts as text)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_utc_iso(text: str) -> datetime:
    """Inverse of :func:`to_utc_iso` (also accepts any ISO 8601 with an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def format_local(when: datetime | None) -> str:
    """A time as the operator reads it: local time with its UTC offset."""
    if when is None:
        return "-"
    try:
        return when.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M:%S %z")
    except OverflowError:  # year 1 or 9999 shifted by the local offset: show it in UTC
        return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S %z")
