"""What people type for an action item (`/incident action ...`), read into plain values, and
the rules its due date follows."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot.errors import UsageError, quoted
from bot.models import Priority

PRIORITY_WORDS = {p.value: p for p in Priority}
DUE_YEARS_AHEAD = 5
# A word written like an @mention that Slack did not turn into one (`@bob`, `(@bob)`): a person
# picked from Slack's @ menu arrives as `<@U123|bob>`. `ops@example.com` is an address.
_PLAIN_MENTION_RE = re.compile(r"[(\[{\"'“‘]*(@[^\W\d_][\w.'-]*)")


@dataclass(frozen=True)
class ActionChange:
    """The parts of an action item someone gave (None: not given, unchanged)."""

    text: str | None = None
    owner_id: str | None = None
    due: date | None = None
    priority: Priority | None = None
    why: str | None = None


@dataclass(frozen=True)
class ParsedAction:
    text: str
    owner_id: str | None
    due: date | None
    priority: Priority
    why: str | None


def plain_mention(word: str) -> str | None:
    """`@bob` (plain text, so nobody was picked) -> "@bob"; None for any other word."""
    found = _PLAIN_MENTION_RE.match(word)
    return found[1].rstrip(".'-") if found else None


def not_a_person(name: str) -> str:
    return (
        f"{quoted(name)} is not a person in this workspace. Pick the owner from Slack's @ menu "
        "as you type (their name turns into a mention), or leave out the @ to keep the word "
        "as text."
    )


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def due_problem(due: date, now: datetime) -> str | None:
    """Why `due` cannot be an action item's due date at `now`, or None if it can.

    A date is past only once it has ended everywhere on Earth: before the date at UTC-12, the
    last zone to leave a day. More than DUE_YEARS_AHEAD years ahead is a typo, not a plan.
    """
    now = now.astimezone(UTC)
    earliest = (now - timedelta(hours=12)).date()
    latest = _years_after(now.date(), DUE_YEARS_AHEAD)
    if due < earliest:
        return (
            f"The due date {due.isoformat()} has passed everywhere on Earth; "
            f"the earliest you can give is {earliest.isoformat()}."
        )
    if due > latest:
        return (
            f"The due date {due.isoformat()} is more than {DUE_YEARS_AHEAD} years away; "
            f"the latest you can give is {latest.isoformat()}."
        )
    return None


def _scan(words: list[str], mention: Callable[[str], str | None]) -> ActionChange:
    """The parts of `<text> <@owner> [due YYYY-MM-DD] [priority] [why: <text>]` that are
    there (None for each that is not)."""
    owner = None
    due = None
    priority: Priority | None = None
    text_words: list[str] = []
    why_words: list[str] | None = None
    i = 0
    while i < len(words):
        word = words[i]
        lower = word.lower()
        if why_words is not None:
            why_words.append(word)
        elif lower == "why:":
            why_words = []
        elif (user := mention(word)) is not None:
            if owner is not None:
                raise UsageError("An action item has one owner; mention just one person.")
            owner = user
        elif lower == "due" and i + 1 < len(words):
            try:
                due = date.fromisoformat(words[i + 1])
            except ValueError:
                raise UsageError(
                    f"{quoted(words[i + 1])} is not a date; write it as `due YYYY-MM-DD`."
                ) from None
            i += 1
        elif name := plain_mention(word):
            raise UsageError(not_a_person(name))
        elif lower in PRIORITY_WORDS and (i == len(words) - 1 or words[i + 1].lower() == "why:"):
            priority = PRIORITY_WORDS[lower]  # only as the last word (before any why:)
        else:
            text_words.append(word)
        i += 1
    text = " ".join(text_words).strip()  # cleaned and capped where it is stored (Retro)
    why = " ".join(why_words).strip() if why_words else None
    return ActionChange(text or None, owner, due, priority, why or None)


def parse_action(words: list[str], mention: Callable[[str], str | None]) -> ParsedAction:
    """`<text> <@owner> [due YYYY-MM-DD] [immediate|short-term|long-term] [why: <text>]`."""
    found = _scan(words, mention)
    if not found.text:
        raise UsageError(
            "What needs doing? `/incident action <text> @owner [due YYYY-MM-DD] "
            "[immediate|short-term|long-term] [why: <reason>]`"
        )
    return ParsedAction(
        found.text, found.owner_id, found.due, found.priority or Priority.SHORT_TERM, found.why
    )


def parse_action_change(words: list[str], mention: Callable[[str], str | None]) -> ActionChange:
    """`[text] [@owner] [due YYYY-MM-DD] [priority] [why: <text>]` after `AI-001`: what
    changes in the item. Raises UsageError if nothing does."""
    found = _scan(words, mention)
    if found == ActionChange():
        raise UsageError(
            "What changes? e.g. `/incident action AI-001 @owner due 2026-12-01 why: <reason>`."
        )
    return found


def action_number(word: str) -> int | None:
    """`AI-001`, `ai-1`, `AI1` -> 1; None for any other word."""
    found = re.fullmatch(r"(?i)ai-?0*([0-9]{1,6})", word)
    return int(found[1]) if found else None
