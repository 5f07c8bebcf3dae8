"""The retrospective's content: written sections and action items, per incident."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.errors import NotFound, UsageError, quoted
from bot.models import ActionItem, Incident, Priority
from bot.sections import Catalog, Section
from bot.store import Store, to_db

MAX_FIELD = 3000
PRIORITY_WORDS = {p.value: p for p in Priority}
DUE_YEARS_AHEAD = 5
# A word written like an @mention that Slack did not turn into one (`@bob`, `(@bob)`): a person
# picked from Slack's @ menu arrives as `<@U123|bob>`. `ops@example.com` is an address.
_PLAIN_MENTION_RE = re.compile(r"[(\[{\"'“‘]*(@[^\W\d_][\w.'-]*)")


@dataclass(frozen=True)
class SectionState:
    section: Section
    values: dict[str, str]
    authors: list[str]

    @property
    def written(self) -> bool:
        return any(v.strip() for v in self.values.values())


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


def parse_action(words: list[str], mention: Callable[[str], str | None]) -> ParsedAction:
    """`<text> <@owner> [due YYYY-MM-DD] [immediate|short-term|long-term] [why: <text>]`."""
    owner = None
    due = None
    priority = Priority.SHORT_TERM
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
    text = " ".join(text_words).strip()
    if not text:
        raise UsageError(
            "What needs doing? `/incident action <text> @owner [due YYYY-MM-DD] "
            "[immediate|short-term|long-term] [why: <reason>]`"
        )
    if len(text) > 500:
        raise UsageError("Keep an action item under 500 characters; put details in `why:`.")
    why = " ".join(why_words).strip() if why_words else None
    return ParsedAction(text, owner, due, priority, why or None)


def _action(row: dict[str, Any]) -> ActionItem:
    return ActionItem(
        id=row["id"],
        incident_id=row["incident_id"],
        number=row["number"],
        text=row["text"],
        priority=Priority(row["priority"]),
        owner_id=row["owner_id"],
        due=date.fromisoformat(row["due"]) if row["due"] else None,
        why=row["why"],
        done=row["status"] == "done",
        dm_channel=row["dm_channel"],
        dm_ts=row["dm_ts"],
    )


class Retro:
    """Sections and action items of an incident's post-mortem."""

    def __init__(self, store: Store, clock: Callable[[], datetime], sections: Catalog) -> None:
        self.store = store
        self.clock = clock
        self.sections = sections  # as the team's template declares them

    # --- sections --------------------------------------------------------------------------

    def states(self, incident: Incident) -> list[SectionState]:
        rows = list(
            self.store.db.query(
                "SELECT section, field, value, author_id FROM section_values "
                "WHERE team_id = ? AND incident_id = ? ORDER BY updated_at",
                [incident.team_id, incident.id],
            )
        )
        states = []
        for section in self.sections:
            mine = [r for r in rows if r["section"] == section.key]
            values = {r["field"]: r["value"] for r in mine}
            authors = list(dict.fromkeys(r["author_id"] for r in mine if r["value"].strip()))
            states.append(SectionState(section, values, authors))
        return states

    def values(self, incident: Incident, section: Section) -> dict[str, str]:
        rows = self.store.db.query(
            "SELECT field, value FROM section_values "
            "WHERE team_id = ? AND incident_id = ? AND section = ?",
            [incident.team_id, incident.id, section.key],
        )
        return {r["field"]: r["value"] for r in rows}

    def next_empty(self, incident: Incident) -> Section | None:
        """The first required section nobody has written yet (optional ones are written when
        someone names them: `/incident write <section>`)."""
        return next(
            (s.section for s in self.states(incident) if not s.written and s.section.required),
            None,
        )

    def save(
        self, incident: Incident, section_key: str, values: dict[str, str], user_id: str
    ) -> list[str]:
        """Store the submitted fields (a blank one is cleared); returns the fields that changed."""
        section = self.sections.get(section_key)
        if section is None:
            raise NotFound(f"There is no section {quoted(section_key)}.")
        current = self.values(incident, section)
        changed = []
        now = to_db(self.clock())
        with self.store.write() as db:
            for field in section.fields:
                if field.key not in values:
                    continue  # only what was submitted changes
                value = (values.get(field.key) or "").strip()[:MAX_FIELD]
                if value == current.get(field.key, ""):
                    continue
                changed.append(field.key)
                db.table("section_values").upsert(
                    {
                        "team_id": incident.team_id,
                        "incident_id": incident.id,
                        "section": section.key,
                        "field": field.key,
                        "value": value,
                        "author_id": user_id,
                        "updated_at": now,
                    },
                    pk=("team_id", "incident_id", "section", "field"),
                )
        return changed

    # --- action items ----------------------------------------------------------------------

    def due_problem(self, due: date | None) -> str | None:
        """Why `due` cannot be a due date now (see `due_problem`), or None."""
        return due_problem(due, self.clock()) if due else None

    def add_action(self, incident: Incident, parsed: ParsedAction, user_id: str) -> ActionItem:
        """Store a new item; UsageError (and nothing stored) if its due date cannot be."""
        if problem := self.due_problem(parsed.due):
            raise UsageError(problem)
        with self.store.write() as db:
            (number,) = db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM action_items "
                "WHERE team_id = ? AND incident_id = ?",
                [incident.team_id, incident.id],
            ).fetchone()
            row_id = (
                db.table("action_items")
                .insert(
                    {
                        "team_id": incident.team_id,
                        "incident_id": incident.id,
                        "number": number,
                        "text": parsed.text,
                        "owner_id": parsed.owner_id,
                        "due": parsed.due.isoformat() if parsed.due else None,
                        "priority": parsed.priority.value,
                        "why": parsed.why,
                        "status": "open",
                        "created_by": user_id,
                        "created_at": to_db(self.clock()),
                    }
                )
                .last_rowid
            )
        return self.action(incident.team_id, int(row_id or 0))

    def action(self, team_id: str, action_id: int) -> ActionItem:
        rows = list(
            self.store.db.query(
                "SELECT * FROM action_items WHERE team_id = ? AND id = ?", [team_id, action_id]
            )
        )
        if not rows:
            raise NotFound("That action item no longer exists.")
        return _action(rows[0])

    def actions(self, incident: Incident) -> list[ActionItem]:
        rows = self.store.db.query(
            "SELECT * FROM action_items WHERE team_id = ? AND incident_id = ? ORDER BY number",
            [incident.team_id, incident.id],
        )
        return [_action(r) for r in rows]

    def actions_owned_by(self, team_id: str, user_id: str) -> list[ActionItem]:
        rows = self.store.db.query(
            "SELECT * FROM action_items WHERE team_id = ? AND owner_id = ? AND status = 'open' "
            "ORDER BY due IS NULL, due, id",
            [team_id, user_id],
        )
        return [_action(r) for r in rows]

    def mark_done(self, team_id: str, action_id: int) -> tuple[ActionItem, bool]:
        """Close an item once; (the item, whether this call closed it)."""
        with self.store.write() as db:
            cur = db.execute(
                "UPDATE action_items SET status = 'done', done_at = ? "
                "WHERE team_id = ? AND id = ? AND status = 'open'",
                [to_db(self.clock()), team_id, action_id],
            )
        return self.action(team_id, action_id), cur.rowcount == 1

    def record_dm(self, item: ActionItem, team_id: str, channel: str, ts: str) -> None:
        with self.store.write() as db:
            db.execute(
                "UPDATE action_items SET dm_channel = ?, dm_ts = ? WHERE team_id = ? AND id = ?",
                [channel, ts, team_id, item.id],
            )
