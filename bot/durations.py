"""Durations: read from settings and commands (`1d12h`), shown to people (`1d 2h 5m`)."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.errors import UsageError, quoted

_UNIT_RE = re.compile(r"(\d+)([smhd])", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(spec: str) -> timedelta:
    """`15m`, `2h`, `1d12h`, `90s` -> timedelta; UsageError otherwise (or over a year)."""
    if not spec or not re.fullmatch(r"(?:\d+[smhd])+", spec, re.IGNORECASE):
        raise UsageError(f"{quoted(spec)} is not a duration; write it like `15m`, `4h` or `1d12h`.")
    seconds = sum(int(n) * _UNIT_SECONDS[u.lower()] for n, u in _UNIT_RE.findall(spec))
    if seconds > 365 * 86400:
        raise UsageError(f"{quoted(spec)} is more than a year; write a shorter duration.")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """`1d 2h 5m`, `45m`, `12s`: how long something took or is left, to the nearest minute
    (to the second under a minute). A negative duration is shown with a minus sign, never as `0s`:
    callers that compute one from a contradiction should say so instead of showing it."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "-" + format_duration(-delta)
    if seconds < 60:
        return f"{seconds}s"
    minutes = (seconds + 30) // 60  # to the nearest minute: `-5m` next to now reads 5m, not 4m
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m"]
    if days or hours:
        parts[2] = f"{minutes}m" if minutes else ""
    return " ".join(p for p in parts if p)


def in_words(delta: timedelta) -> str:
    """`10 minutes`, `1 hour 5 minutes`, `45 seconds`: a distance in time, for sentences."""
    seconds = abs(int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} second{'s' * (seconds != 1)}"
    hours, minutes = divmod(round(seconds / 60), 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' * (hours != 1)}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' * (minutes != 1)}")
    return " ".join(parts)
