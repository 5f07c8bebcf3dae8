"""`DIGEST_AT`: the weekly moment of the digest, a weekday and a time on a time zone's clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEK = timedelta(days=7)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGEST_AT_HELP = (
    "write a weekday and a time, with an IANA time zone if not UTC: `mon 09:00`, "
    "`fri 16:30 Europe/Berlin`"
)


@dataclass(frozen=True)
class DigestAt:
    """When the digest goes out: every `weekday` (0 = Monday) at `at` on the clock of `zone`
    (daylight saving time followed: 09:00 stays 09:00 on the wall)."""

    weekday: int
    at: time
    zone: ZoneInfo

    @property
    def words(self) -> str:
        """`Mondays at 09:00 (UTC)`, `Fridays at 16:30 (Europe/Berlin)`."""
        day = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        return f"{day[self.weekday]}s at {self.at:%H:%M} ({self.zone.key})"

    def next_after(self, moment: datetime) -> datetime:
        """The first digest moment strictly after `moment` (aware), in UTC. A wall time the
        clock skips (02:30 on the night it springs forward) is read with the offset before
        the switch, as zoneinfo does (fold 0): it goes at 03:30."""
        local = moment.astimezone(self.zone)
        day = local.date() + timedelta(days=(self.weekday - local.weekday()) % 7)
        while True:
            due = datetime.combine(day, self.at, self.zone).astimezone(UTC)
            if due > moment:
                return due
            day += WEEK


def parse_digest_at(text: str) -> DigestAt:
    """`mon 09:00`, `Monday 9:00`, `fri 16:30 Europe/Berlin` (zone: UTC when left out).
    ValueError saying what to write otherwise."""
    match = re.fullmatch(r"\s*([a-z]+)\s+(\d{1,2}):(\d{2})\s*(\S+)?\s*", text.lower())
    weekday = next((n for n, day in enumerate(DAYS) if match and match[1].startswith(day)), None)
    if match is None or weekday is None or int(match[2]) > 23 or int(match[3]) > 59:
        raise ValueError(f"{text!r} is not a weekly moment; {DIGEST_AT_HELP}")
    zone_name = "UTC"
    if match[4]:  # the zone as typed (IANA names are case-sensitive)
        zone_name = text.split()[-1]
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{zone_name!r} is not an IANA time zone; {DIGEST_AT_HELP}") from None
    return DigestAt(weekday, time(int(match[2]), int(match[3])), zone)
