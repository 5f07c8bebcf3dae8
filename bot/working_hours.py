"""Working hours (`REMINDER_HOURS`, default `mon-fri 09:00-18:00`) on each person's own clock, and
when a reminder due at some moment should reach them: in their working hours, but never after
the deadline it is about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HOURS_HELP = (
    "write days and hours like `mon-fri 09:00-18:00` or `mon,wed,fri 08:30-17:00`, or "
    "`always` (reminders at any hour)"
)


def zone_named(name: object) -> tzinfo:
    """A Slack profile's `tz` (`Europe/Berlin`) as a zone; UTC for none or one Python cannot
    read (zoneinfo raises OSError for a folder of the database, `America`, or a name too long
    for a file)."""
    try:
        return ZoneInfo(str(name).strip()) if name else UTC
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return UTC


@dataclass(frozen=True)
class WorkingHours:
    """Working hours: the `days` (0 = Monday) from `start` to `end` on a person's wall clock
    (`end` after `start`: no shift across midnight)."""

    days: frozenset[int]
    start: time
    end: time

    def _window(self, day: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
        """That day's [start, end) as UTC instants (a wall time DST skips: zoneinfo's fold 0)."""
        d = day.date()
        return (
            datetime.combine(d, self.start, zone).astimezone(UTC),
            datetime.combine(d, self.end, zone).astimezone(UTC),
        )

    def next_start(self, moment: datetime, zone: tzinfo) -> datetime:
        """`moment` (UTC) if it is within working hours in `zone`; else the start of the next
        working hours after it."""
        local = moment.astimezone(zone)
        for n in range(8):
            day = local + timedelta(days=n)
            if day.weekday() not in self.days:
                continue
            start, end = self._window(day, zone)
            if moment < end:
                return max(start, moment)
        raise AssertionError("a week without working hours")  # parse_hours refuses no days

    def send_at(self, due: datetime, zone: tzinfo, deadline: datetime | None) -> datetime:
        """When a reminder due at `due` (UTC) goes to a person in `zone`: at `due` within their
        working hours; else at the start of their next working hours, unless that comes after
        `deadline` (the post-mortem's, or the action item's): then at the latest working
        moment before the deadline, which, since none lies between `due` and it, means at
        `due` itself ("now if none is left"). A reminder about something already overdue
        (`deadline` passed at `due`) simply waits for their working hours."""
        start = self.next_start(due, zone)
        if deadline is None or start <= deadline or due >= deadline:
            return start
        return due


def parse_hours(text: str) -> WorkingHours | None:
    """`mon-fri 09:00-18:00` (days: a range `mon-fri`, a list `mon,wed,fri`, or both mixed),
    or `always` (None: no working hours). ValueError saying what to write otherwise."""
    spec = text.strip().lower()
    if spec in ("always", "off", "any"):
        return None
    match = re.fullmatch(r"([a-z,\- ]+?)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", spec)
    if match is None:
        raise ValueError(f"{text!r} is not working hours; {HOURS_HELP}")
    days: set[int] = set()
    for part in re.split(r"\s*,\s*", match[1].strip()):
        first, _, last = part.partition("-")
        try:
            a = DAYS.index(first.strip()[:3]) if first.strip() else -1
            b = DAYS.index(last.strip()[:3]) if last else a
        except ValueError:
            raise ValueError(f"{part!r} is not a day or a range of days; {HOURS_HELP}") from None
        if a < 0:
            raise ValueError(f"{text!r} is not working hours; {HOURS_HELP}")
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    h1, m1, h2, m2 = (int(match[n]) for n in range(2, 6))
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r} has a time that is not on the clock; {HOURS_HELP}")
    start = time(h1, m1)
    end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts (no hours across midnight); {HOURS_HELP}")
    return WorkingHours(frozenset(days), start, end)
