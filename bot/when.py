"""The times people type (`14:05`, `2:05pm`, `yesterday 23:50`, `14:05Z`, `-15m`), read in
their own time zone and turned into UTC."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.durations import in_words
from bot.errors import UsageError, quoted

# Asked for the typing person's zone only when a time without a zone is typed (it may call
# Slack's users.info, so it is not called for `-15m`, `14:05Z` or text without a time).
ZoneSource = Callable[[], tzinfo]

FORMS = (
    "`14:05` or `2:05pm` (your time), `yesterday 23:50`, `2026-11-26 14:05`, "
    "`14:05Z` or `14:05 UTC`, `14:05+01:00`, or a relative `-15m` / `15 min ago`"
)
AHEAD_TOLERANCE = timedelta(seconds=60)  # "now", typed as the next minute on a fast clock

_UNITS = r"(?:seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)"
_SPEC = r"(?:\d+\s?" + _UNITS + r"(?=\d|\s|$)\s?)+"
_END = r"(?:\s*[:,;]|\s+[-–—])?(?=\s|$)"  # `14:05: alert` and `14:05 - alert` read as `14:05`
_RELATIVE_RE = re.compile(
    r"^(?:(?P<sign>[-+])\s?(?P<spec>" + _SPEC + r")|(?P<ago>" + _SPEC + r")ago)" + _END,
    re.IGNORECASE,
)
_CLOCK = (
    r"(?P<hour>\d{1,2})(?:(?::(?P<minute>\d{2})(?::(?P<second>\d{2}))?|h(?P<hminute>\d{2}))"
    r"(?:\s?(?P<ampm>[ap])\.?m\.?)?|\s?(?P<ampm_only>[ap])\.?m\.?)"
)
_ZONE = (
    r"(?:(?P<offset>[+-]\d{2}(?::?\d{2})?)|\s?(?P<utc>Z|UTC|GMT)"
    r"(?P<utc_offset>[+-]\d{1,2}(?::?\d{2})?)?)?"
)
_DAY = r"(?:(?P<date>\d{4}-\d{2}-\d{2})[ T]|(?P<day>yesterday|today)\s+)?"
_AT_RE = re.compile(r"^" + _DAY + _CLOCK + _ZONE + _END, re.IGNORECASE)
# What looks like a time but is none of the forms: refused, never kept as the entry's text.
_TIME_LIKE_RE = re.compile(
    r"^(?:[+-]\s?\d+\s?" + _UNITS + r"(?=\d|\s|$)|\d{1,2}[:h]\d|\d{1,2}\s?[ap]\.?m\.?(?=\s|$)"
    r"|\d{4}-\d{1,2}-\d{1,2}|(?:yesterday|today)\s+\d)",
    re.IGNORECASE,
)
_PART_RE = re.compile(r"(\d+)\s?([a-z]+)", re.IGNORECASE)


def parse_zone_setting(value: str) -> tzinfo | None:
    """TIMELINE_TIME_ZONE: `user` -> None (each person's own), `utc` -> UTC, or an IANA name
    (`Europe/Berlin`) for a team that speaks one zone. Raises ValueError otherwise."""
    if value.lower() == "user":
        return None
    if value.lower() == "utc":
        return UTC
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(value) from None


@dataclass(frozen=True)
class Written:
    """A time as someone typed it: `at` in UTC, the zone it was read in (None if relative)."""

    at: datetime
    typed: str
    zone: tzinfo | None


def zone_name(zone: tzinfo, at: datetime) -> str:
    """`Europe/Berlin`, `UTC`, `UTC+01:00`: how a zone is named in a message."""
    if isinstance(zone, ZoneInfo):
        return zone.key
    offset = at.astimezone(zone).utcoffset() or timedelta()
    if not offset:
        return "UTC"
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _fixed(text: str) -> timezone:
    """`+01:00`, `+0100`, `+01`, `-5` -> a fixed offset; UsageError past ±14:00."""
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (
        (int(digits[:-2] or 0), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    )
    if hours > 14 or minutes > 59:
        raise UsageError(f"{quoted(text)} is not a UTC offset; write it like `+01:00`.")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _clock(m: re.Match[str]) -> time:
    hour = int(m["hour"])
    minute = int(m["minute"] or m["hminute"] or 0)
    second = int(m["second"] or 0)
    ampm = (m["ampm"] or m["ampm_only"] or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise UsageError(f"{quoted(m.group(0).strip())} is not a time of day. Use {FORMS}.")
        hour = hour % 12 + (12 if ampm == "p" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise UsageError(f"{quoted(m.group(0).strip())} is not a time of day. Use {FORMS}.")
    return time(hour, minute, second)


def _occurrences(day: date, clock: time, zone: tzinfo) -> list[datetime]:
    """The UTC moments at which `clock` is shown on `day` in `zone`: none in a DST gap (clocks
    went forward), two in a DST overlap (clocks went back), else one."""
    found = []
    for fold in (0, 1):
        local = datetime.combine(day, clock, zone).replace(fold=fold)
        at = local.astimezone(UTC)
        if at.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None, fold=0):
            found.append(at)
    return sorted(set(found))


def _relative(m: re.Match[str], now: datetime) -> datetime:
    spec = m["spec"] or m["ago"]
    seconds = 0
    for number, unit in _PART_RE.findall(spec):
        seconds += int(number) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit[0].lower()]
    delta = timedelta(seconds=seconds)
    if m["sign"] == "+" and delta:
        raise UsageError(
            f"{quoted(m.group(0).strip())} is {in_words(delta)} from now. Timeline entries "
            "record what already happened: `-15m` is fifteen minutes ago."
        )
    if delta > timedelta(days=365):
        raise UsageError(f"{quoted(spec)} is more than a year ago.")
    return now - delta


def _at(m: re.Match[str], now: datetime, zone_source: ZoneSource) -> tuple[datetime, tzinfo]:
    clock = _clock(m)
    if m["offset"]:
        zone: tzinfo = _fixed(m["offset"])
    elif m["utc"]:
        zone = _fixed(m["utc_offset"]) if m["utc_offset"] else UTC
    else:
        zone = zone_source()
    local_now = now.astimezone(zone).replace(tzinfo=None)
    if m["date"]:
        try:
            day = date.fromisoformat(m["date"])
        except ValueError:
            raise UsageError(
                f"{quoted(m['date'])} is not a date; write it as YYYY-MM-DD."
            ) from None
    elif m["day"]:
        day = local_now.date() - timedelta(days=1 if m["day"].lower() == "yesterday" else 0)
    else:  # a bare clock time: on the day that puts it nearest to now on the wall clock
        days = [local_now.date() + timedelta(days=d) for d in (-1, 0, 1)]
        day = min(days, key=lambda d: abs(datetime.combine(d, clock) - local_now))
    moments = _occurrences(day, clock, zone)
    if not moments:
        raise UsageError(
            f"{quoted(m.group(0).strip())} did not exist in {zone_name(zone, now)} on {day}: "
            "the clocks went forward over it. Give the time in UTC, e.g. `01:30Z`."
        )
    past = [at for at in moments if at <= now + AHEAD_TOLERANCE]
    return (max(past) if past else min(moments)), zone  # twice in a DST overlap: the latest past


def split_when(text: str, now: datetime, zone: ZoneSource) -> tuple[Written | None, str]:
    """Take a leading time off `text`: (the time, or None; the rest of the text).

    A clock time without a zone is read in `zone()` (the typing person's Slack time zone, or
    the team's): the occurrence nearest to `now`, so `23:50` typed at 00:10 is yesterday's and
    `09:49` typed at 09:39 is today's. A time more than a minute ahead of `now` is refused
    ("that is 10 minutes from now"), never moved to another day; so is something that looks
    like a time but is none of the forms (`25:00`, `+10m`), rather than kept as text.
    Raises UsageError with the forms to use.
    """
    text = text.strip()
    if m := _RELATIVE_RE.match(text):
        at, used = _relative(m, now), None
    elif m := _AT_RE.match(text):
        at, used = _at(m, now, zone)
    elif _TIME_LIKE_RE.match(text):
        raise UsageError(
            f"{quoted(text.split()[0])} looks like a time, but not one I can read. Use {FORMS}."
        )
    else:
        return None, text
    typed = m.group(0).strip().rstrip(":,;-–—").strip()
    if at - now > AHEAD_TOLERANCE:
        local = now.astimezone(used or UTC)
        yesterday = (
            f" For yesterday, write `yesterday {typed}`."
            if not (m.groupdict().get("date") or m.groupdict().get("day"))
            else ""
        )
        raise UsageError(
            f"{quoted(typed)} is {in_words(at - now)} from now (it is {local:%H:%M} "
            f"{zone_name(used or UTC, now)}). Timeline entries record what already happened; "
            f"leave the time out to use now.{yesterday}"
        )
    return Written(min(at, now), typed, used), text[m.end() :].strip()
