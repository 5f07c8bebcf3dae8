"""The times people type (`14:05`, `2:05pm`, `yesterday 23:50`, `14:05Z`, `-15m`), read in
their own time zone and turned into UTC."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

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
AHEAD_REFUSED = timedelta(hours=6)  # a bare time this far ahead is a mistake, not yesterday's
# Letters that name a zone ambiguously (summer time or not; IST is India, Ireland or Israel):
# refused with the forms that are not, rather than read as the entry's first word.
ABBREVIATIONS = frozenset(
    "CET CEST BST IST PST PDT EST EDT CST CDT MST MDT EET EEST JST KST AEST AEDT "  # noqa: SIM905
    "ACST AWST NZST NZDT SGT HKT MSK AKST AKDT HST".split()
)

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
    r"(?:\s?(?P<offset>[+-]\d{1,2}:\d{2}|[+-]\d{2}(?:\d{2})?)|\s?(?P<utc>Z|UTC|GMT)"
    r"(?P<utc_offset>[+-]\d{1,2}(?::?\d{2})?)?)?"
)
_DAY = r"(?:(?P<date>\d{4}-\d{2}-\d{2})[ T]|(?P<day>yesterday|today)(?:,|\s+at)?\s+)?"
_AT_RE = re.compile(r"^" + _DAY + _CLOCK + _ZONE + _END, re.IGNORECASE)
# What looks like a time but is none of the forms: refused, never kept as the entry's text.
_TIME_LIKE_RE = re.compile(
    r"^(?:[+-]\s?\d+\s?" + _UNITS + r"(?=\d|\s|$)|\d{1,2}[:h]\d|\d{1,2}\s?[ap]\.?m\.?(?=\s|$)"
    r"|\d{4}-\d{1,2}-\d{1,2}|(?:yesterday|today)(?:,|\s+at)?\s+\d)",
    re.IGNORECASE,
)
_REGION_RE = re.compile(  # the first part of IANA zone names: `America/NewYork` is a typo
    r"^(?:Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific|Etc"
    r"|US|Canada|Brazil|Mexico|Chile)/",
    re.IGNORECASE,
)
_DASHES = "\u2212\u2013\u2014"  # minus sign, en and em dash: what phones type for `-15m`
_INVISIBLE = "\u200b\u2060\ufeff"  # zero-width space, word joiner, BOM (pasted text)
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

    def describe(self) -> str:
        """How it was read: "`12:55` (Europe/London) is 2026-07-01 11:55 UTC"."""
        zone = f" ({zone_name(self.zone, self.at)})" if self.zone else ""
        return f"`{self.typed}`{zone} is {self.at:%Y-%m-%d %H:%M} UTC"


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
    if minutes > 59 or hours * 60 + minutes > (14 * 60 if sign > 0 else 12 * 60):
        raise UsageError(
            f"{quoted(text)} is not a UTC offset (they run from -12:00 to +14:00); "
            "write it like `+01:00`."
        )
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
    if seconds > 365 * 86400:
        raise UsageError(f"{quoted(m.group(0).strip())} is more than a year away.")
    delta = timedelta(seconds=seconds)
    if m["sign"] == "+" and delta:
        raise UsageError(
            f"{quoted(m.group(0).strip())} is {in_words(delta)} from now. Timeline entries "
            "record what already happened: `-15m` is fifteen minutes ago."
        )
    return now - delta


@functools.cache
def _zones() -> dict[str, str]:
    """IANA zone names by their lower-case spelling (`europe/berlin` -> `Europe/Berlin`)."""
    return {name.lower(): name for name in available_timezones()}


def _named_zone(rest: str) -> tuple[tzinfo | None, str]:
    """A zone named after the time (`14:05 Europe/Berlin ...`, in any case): (the zone, the
    rest). An ambiguous abbreviation (`14:05 CET`) or a misspelt zone (`America/NewYork`) is
    refused; any other word is the entry's text."""
    parts = rest.split(maxsplit=1)
    if not parts:
        return None, rest
    after = parts[1] if len(parts) > 1 else ""
    word = parts[0].strip("(),;:")  # `(CET)`, `PST:`, `Asia/Kolkata:` name the zone all the same
    if word.upper() in ABBREVIATIONS:
        raise UsageError(
            f"{quoted(word)} names more than one zone (summer time or not, and other places "
            "use the same letters). Write the offset you mean (`14:05+01:00`), the zone "
            "(`14:05 Europe/Berlin`), or leave it out for your own clock."
        )
    if "/" not in word:
        return None, rest
    if name := _zones().get(word.lower()):
        return ZoneInfo(name), after.strip()
    if _REGION_RE.match(word):
        close = difflib.get_close_matches(word.lower(), _zones(), n=1)
        hint = f" Did you mean `{_zones()[close[0]]}`?" if close else ""
        raise UsageError(f"{quoted(word)} is not a time zone I know.{hint}")
    return None, rest


def _day(m: re.Match[str], clock: time, local_now: datetime) -> date:
    """The day (on the zone's wall clock) a typed time is on. A bare time is on the last day
    the clock showed it, unless that moment comes again within AHEAD_REFUSED (then that day:
    the time is refused as being ahead, not moved a day back)."""
    if m["date"]:
        try:
            return date.fromisoformat(m["date"])
        except ValueError:
            raise UsageError(
                f"{quoted(m['date'])} is not a date; write it as YYYY-MM-DD."
            ) from None
    if m["day"]:
        return local_now.date() - timedelta(days=1 if m["day"].lower() == "yesterday" else 0)
    days = [local_now.date() + timedelta(days=d) for d in (-1, 0, 1)]
    shown = {d: datetime.combine(d, clock) for d in days}
    ahead = [d for d in days if timedelta(0) < shown[d] - local_now <= AHEAD_REFUSED]
    if ahead and shown[ahead[0]] - local_now > AHEAD_TOLERANCE:
        return ahead[0]
    return max(d for d in days if shown[d] <= local_now + AHEAD_TOLERANCE)


def _at(
    m: re.Match[str], now: datetime, zone_source: ZoneSource, named: tzinfo | None
) -> tuple[datetime, tzinfo, date]:
    clock = _clock(m)
    if m["offset"]:
        zone: tzinfo = _fixed(m["offset"])
    elif m["utc"]:
        zone = _fixed(m["utc_offset"]) if m["utc_offset"] else UTC
    else:
        zone = named or zone_source()
    day = _day(m, clock, now.astimezone(zone).replace(tzinfo=None))
    moments = _occurrences(day, clock, zone)
    if not moments:
        raise UsageError(
            f"{quoted(m.group(0).strip())} did not exist in {zone_name(zone, now)} on {day}: "
            "the clocks went forward over it. Give the time in UTC, e.g. `01:30Z`."
        )
    past = [at for at in moments if at <= now + AHEAD_TOLERANCE]
    return (max(past) if past else min(moments)), zone, day  # twice in a DST overlap: the later


def split_when(text: str, now: datetime, zone: ZoneSource) -> tuple[Written | None, str]:
    """Take a leading time off `text`: (the time, or None; the rest of the text).

    A clock time without a zone is read in `zone()` (the typing person's Slack time zone, or
    the team's), or in a zone named after it (`14:05 Europe/Berlin`). A bare `HH:MM` is the
    last time that clock showed it (`23:50` typed at 00:10 is yesterday's, `00:30` typed at
    12:30 today's), but a time up to AHEAD_REFUSED ahead is refused ("that is 10 minutes from
    now"), never moved a day back; a minute ahead counts as now. Something that looks like a
    time but is none of the forms (`25:00`, `+10m`, `14:05 CET`) is refused, never kept as
    text. Raises UsageError with the forms to use.
    """
    text = text.strip().lstrip(_INVISIBLE)
    if text and text[0] in _DASHES:
        text = "-" + text[1:]
    # a minus sign inside the time (`14:05 −01:00`, `UTC−1`) is a minus; the text keeps its own
    probe = text[:40].replace("\u2212", "-") + text[40:]
    day: date | None = None
    if m := _RELATIVE_RE.match(probe):
        at, used, rest = _relative(m, now), None, text[m.end() :].strip()
    elif m := _AT_RE.match(probe):
        rest = text[m.end() :].strip()
        named = None
        if not (m["offset"] or m["utc"]):
            named, rest = _named_zone(rest)
        try:
            at, used, day = _at(m, now, zone, named)
        except OverflowError:  # year 1 or 9999 in a zone that moves it past the calendar
            raise UsageError(f"{quoted(m.group(0).strip())} is not a date I can use.") from None
    elif _TIME_LIKE_RE.match(probe):
        raise UsageError(
            f"{quoted(text.split()[0])} looks like a time, but not one I can read. Use {FORMS}."
        )
    else:
        return None, text
    typed = m.group(0).strip().rstrip(":,;-–—").strip()
    if at - now > AHEAD_TOLERANCE:
        local = now.astimezone(used or UTC)
        earlier = ""
        if day is not None and not (m["date"] or m["day"]):  # a bare time: say the day before
            before = day - timedelta(days=1)
            word = "today" if before == local.date() else "yesterday"
            earlier = f" For {word}'s, write `{word} {typed}`."
        raise UsageError(
            f"{quoted(typed)} is {in_words(at - now)} from now (it is {local:%H:%M} "
            f"{zone_name(used or UTC, now)}). Timeline entries record what already happened; "
            f"leave the time out to use now.{earlier}"
        )
    return Written(min(at, now), typed, used), rest
