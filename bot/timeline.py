"""Parsing what people type into `/timeline`: an optional time, an optional milestone, the text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from bot.errors import UsageError, quoted
from bot.models import Milestone

MAX_TEXT = 3000

TIME_FORMS = "`HH:MM` (UTC, e.g. `14:05`), `YYYY-MM-DD HH:MM`, `14:05+01:00`, or a relative `-15m`"

_OFFSET = r"(?P<offset>Z|[+-]\d{2}:?\d{2})?"
_CLOCK = r"(?P<hour>\d{1,2}):(?P<minute>\d{2})"
_DATETIME_RE = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T]" + _CLOCK + _OFFSET + r"(?=\s|$)", re.IGNORECASE
)
_TIME_RE = re.compile(r"^" + _CLOCK + _OFFSET + r"(?=\s|$)", re.IGNORECASE)
_RELATIVE_RE = re.compile(r"^-(?P<spec>(?:\d+[smhd])+)(?=\s|$)", re.IGNORECASE)
_UNIT_RE = re.compile(r"(\d+)([smhd])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MILESTONE_RE = re.compile(
    r"^(?P<kw>" + "|".join(re.escape(m.value) for m in Milestone) + r")\s*:\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedEntry:
    at: datetime
    text: str
    milestone: Milestone | None
    explicit_time: bool


def _offset(text: str | None) -> timezone:
    if not text or text.upper() == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        raise UsageError(f"{quoted(text)} is not a UTC offset; write it like `+01:00`.")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _clock(match: re.Match[str]) -> time:
    hour, minute = int(match["hour"]), int(match["minute"])
    if hour > 23 or minute > 59:
        raise UsageError(
            f"{quoted(match['hour'] + ':' + match['minute'])} is not a time of day. "
            f"Use {TIME_FORMS}."
        )
    return time(hour, minute)


def parse_duration(spec: str) -> timedelta:
    """`15m`, `2h`, `1d12h`, `90s` -> timedelta; UsageError otherwise."""
    if not spec or not re.fullmatch(r"(?:\d+[smhd])+", spec, re.IGNORECASE):
        raise UsageError(f"{quoted(spec)} is not a duration; write it like `15m`, `4h` or `1d12h`.")
    seconds = sum(int(n) * _UNIT_SECONDS[u.lower()] for n, u in _UNIT_RE.findall(spec))
    if seconds > 365 * 86400:
        raise UsageError(f"{quoted(spec)} is more than a year; write a shorter duration.")
    return timedelta(seconds=seconds)


def split_time(text: str, now: datetime) -> tuple[datetime | None, str]:
    """Take a leading time off `text`: (the UTC time or None, the rest).

    `HH:MM` means today in UTC (or in the given offset), yesterday if that is still ahead.
    A time in the future is refused.
    """
    text = text.strip()
    if m := _DATETIME_RE.match(text):
        try:
            day = date.fromisoformat(m["date"])
        except ValueError:
            raise UsageError(
                f"{quoted(m['date'])} is not a date; write it as YYYY-MM-DD."
            ) from None
        at = datetime.combine(day, _clock(m), _offset(m["offset"]))
    elif m := _TIME_RE.match(text):
        tz = _offset(m["offset"])
        local_now = now.astimezone(tz)
        at = datetime.combine(local_now.date(), _clock(m), tz)
        if at > now:
            at -= timedelta(days=1)
    elif m := _RELATIVE_RE.match(text):
        at = now - parse_duration(m["spec"])
    else:
        return None, text
    at = at.astimezone(UTC)
    if at > now:
        raise UsageError(
            f"{at:%Y-%m-%d %H:%M} UTC is in the future. Timeline entries record what already "
            "happened; leave the time out to use now."
        )
    return at, text[m.end() :].strip()


def split_milestone(text: str) -> tuple[Milestone | None, str]:
    if m := _MILESTONE_RE.match(text):
        return Milestone(m["kw"].lower()), text[m.end() :].strip()
    return None, text


def check_text(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise UsageError(
            f"That entry is {len(text):,} characters; the limit is {MAX_TEXT:,}. "
            "Split it into shorter entries."
        )
    return text


def parse_entry(text: str, now: datetime) -> ParsedEntry:
    """Parse `[time] [milestone:] text` as typed after `/timeline`."""
    at, rest = split_time(text, now)
    milestone, rest = split_milestone(rest)
    if not rest:
        raise UsageError(
            "What happened? Add a description, e.g. "
            "`/timeline 14:05 detected: PagerDuty alert on checkout 5xx`."
        )
    return ParsedEntry(
        at=at or now,
        text=check_text(rest),
        milestone=milestone,
        explicit_time=at is not None,
    )


def format_duration(delta: timedelta) -> str:
    """`1d 2h 5m`, `45m`, `12s`: how long something took or is left, to the minute (to the
    second under a minute)."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes = seconds // 60
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m"]
    if days or hours:
        parts[2] = f"{minutes}m" if minutes else ""
    return " ".join(p for p in parts if p)
