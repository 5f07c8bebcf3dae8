"""Parsing what people type into `/timeline`: an optional time, an optional milestone, the text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import UsageError
from bot.free_text import ENTRY
from bot.models import Milestone
from bot.when import Written, ZoneSource, split_when

MAX_TEXT = ENTRY.limit
MAX_BACKDATE = timedelta(days=30)  # how long before the incident was opened a time may be

# The keyword as typed, with the spellings of the one in two words: `root cause:`, `root_cause:`.
_MILESTONE_RE = re.compile(
    r"^(?P<kw>" + "|".join(re.escape(m.value) for m in Milestone) + r"|root[ _]cause)\s*:\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedEntry:
    """`[time] [milestone:] text`: `at` in UTC (now if no time was typed)."""

    at: datetime
    text: str
    milestone: Milestone | None
    written: Written | None  # the time as typed, if one was

    @property
    def explicit_time(self) -> bool:
        return self.written is not None


def split_milestone(text: str) -> tuple[Milestone | None, str]:
    """`detected: alert fired` -> (Milestone.DETECTED, "alert fired")."""
    if m := _MILESTONE_RE.match(text):
        keyword = re.sub(r"[ _]", "-", m["kw"].lower())
        return Milestone(keyword), text[m.end() :].strip()
    return None, text


def check_text(text: str) -> str:
    """An entry's text as it is kept (see `bot.free_text`); TooLong past ENTRY's limit."""
    return ENTRY.clean(text)


def parse_parts(text: str, now: datetime, zone: ZoneSource) -> ParsedEntry:
    """`[time] [milestone:] [text]`, any part of which may be missing (for edits)."""
    written, rest = split_when(text, now, zone)
    milestone, rest = split_milestone(rest)
    return ParsedEntry(
        at=written.at if written else now,
        text=check_text(rest),
        milestone=milestone,
        written=written,
    )


def parse_entry(text: str, now: datetime, zone: ZoneSource) -> ParsedEntry:
    """Parse `[time] [milestone:] text` as typed after `/timeline`; the text is required."""
    parsed = parse_parts(text, now, zone)
    if not parsed.text:
        raise UsageError(
            "What happened? Add a description, e.g. "
            "`/timeline 14:05 detected: PagerDuty alert on checkout 5xx`."
        )
    return parsed
