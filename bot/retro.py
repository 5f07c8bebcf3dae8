"""The retrospective's content: written sections and action items, per incident."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from bot.access import check_may_change
from bot.action_words import ActionChange, ParsedAction, due_problem
from bot.errors import NotAllowed, NotFound, UsageError, quoted
from bot.free_text import ACTION, SECTION, WHY
from bot.models import ActionItem, Incident, Priority
from bot.sections import Catalog, Section
from bot.store import Store, to_db


@dataclass(frozen=True)
class SectionState:
    section: Section
    values: dict[str, str]
    authors: list[str]

    @property
    def written(self) -> bool:
        return any(v.strip() for v in self.values.values())


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
        """Store the submitted fields (a blank one is cleared, each cleaned as SECTION says);
        returns the fields that changed. NotAllowed, and nothing stored, unless `user_id` may see
        the incident now (a modal opened before they left a private channel is refused when it is
        submitted); TooLong naming the field, and nothing stored, if one is over the limit."""
        check_may_change(self.store, incident, user_id)
        section = self.sections.get(section_key)
        if section is None:
            raise NotFound(f"There is no section {quoted(section_key)}.")
        values = {
            field.key: SECTION.clean(values.get(field.key) or "", field.key)
            for field in section.fields
            if field.key in values
        }
        current = self.values(incident, section)
        changed = []
        now = to_db(self.clock())
        with self.store.write() as db:
            for field in section.fields:
                if field.key not in values:
                    continue  # only what was submitted changes
                value = values[field.key]
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

    def add_action(
        self, incident: Incident, parsed: ParsedAction, user_id: str, source: str | None = None
    ) -> tuple[ActionItem, bool]:
        """Store a new item, its text and reason cleaned (ACTION, WHY): (the item, True).
        UsageError (and nothing stored) if its due date cannot be, TooLong (naming the field,
        "text" or "why") if its text or reason is over the limit, NotAllowed unless `user_id` may
        see the incident now. `source` names what it came from (a modal's view id): the same
        source again stores nothing and gives (the item it made, False)."""
        check_may_change(self.store, incident, user_id)
        parsed = replace(
            parsed,
            text=ACTION.clean(parsed.text, "text"),
            why=WHY.clean(parsed.why, "why") or None if parsed.why else None,
        )
        if not parsed.text:
            raise UsageError("What needs doing? An action item needs its text.")
        if problem := self.due_problem(parsed.due):
            raise UsageError(problem)
        with self.store.write() as db:
            if source is not None:
                made = db.execute(
                    "SELECT id FROM action_items WHERE team_id = ? AND source = ?",
                    [incident.team_id, source],
                ).fetchone()
                if made is not None:
                    return self.action(incident.team_id, made[0]), False
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
                        "source": source,
                    }
                )
                .last_rowid
            )
        return self.action(incident.team_id, int(row_id or 0)), True

    def change_action(
        self, incident: Incident, number: int, change: ActionChange, user_id: str
    ) -> tuple[ActionItem, ActionItem]:
        """Change what was given of item AI-<number>; (as it was, as it is). Its owner, whoever
        added it, or the incident commander (as of now) may. Raises NotFound, NotAllowed, or
        UsageError for a due date it cannot have, TooLong for text or a reason over the limit."""
        change = replace(
            change,
            text=ACTION.clean(change.text, "text") or None if change.text else None,
            why=WHY.clean(change.why, "why") or None if change.why else None,
        )
        rows = list(
            self.store.db.query(
                "SELECT * FROM action_items WHERE team_id = ? AND incident_id = ? AND number = ?",
                [incident.team_id, incident.id, number],
            )
        )
        if not rows:
            raise NotFound(
                f"There is no AI-{number:03d} in {incident.hotfix_id}; `/incident actions` "
                "lists them."
            )
        before = _action(rows[0])
        current = self.store.incident(incident.team_id, incident.id) or incident
        check_may_change(self.store, current, user_id)
        if user_id not in (before.owner_id, rows[0]["created_by"], current.commander_id):
            raise NotAllowed(
                f"Only {before.label}'s owner, whoever added it, or the incident commander "
                f"(<@{current.commander_id}>) may change it."
            )
        if problem := self.due_problem(change.due):
            raise UsageError(problem)
        given = {
            "text": change.text,
            "owner_id": change.owner_id,
            "due": change.due.isoformat() if change.due else None,
            "priority": change.priority.value if change.priority else None,
            "why": change.why,
        }
        values = {k: v for k, v in given.items() if v is not None}
        if not values:  # what was given was blank once cleaned
            raise UsageError(f"What changes in {before.label}? Nothing was given.")
        with self.store.write() as db:
            db.execute(
                f"UPDATE action_items SET {', '.join(f'[{k}] = ?' for k in values)} "
                "WHERE team_id = ? AND id = ?",
                [*values.values(), incident.team_id, before.id],
            )
        return before, self.action(incident.team_id, before.id)

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

    def mark_done(self, team_id: str, action_id: int, user_id: str) -> tuple[ActionItem, bool]:
        """Close an item once; (the item, whether this call closed it). Its owner, whoever added
        it, or the incident commander, as of now (a DM's button outlives a handover), may, and
        of a private incident only while in its channel; NotAllowed, and nothing changes, for
        anyone else; NotFound for no such item."""
        for row in self.store.db.query(
            "SELECT incident_id FROM action_items WHERE team_id = ? AND id = ?",
            [team_id, action_id],
        ):
            if incident := self.store.incident(team_id, row["incident_id"]):
                check_may_change(self.store, incident, user_id)
        with self.store.write() as db:
            row = db.execute(
                "SELECT a.owner_id, a.created_by, a.number, i.commander_id FROM action_items AS a "
                "JOIN incidents AS i ON i.id = a.incident_id WHERE a.team_id = ? AND a.id = ?",
                [team_id, action_id],
            ).fetchone()
            if row is None:
                raise NotFound("That action item no longer exists; nothing was done.")
            owner, creator, number, commander = row
            if user_id not in (owner, creator, commander):
                raise NotAllowed(
                    f"Only AI-{number:03d}'s owner (<@{owner}>), whoever added it, or the "
                    f"incident commander (<@{commander}>) may mark it done; nothing was done."
                )
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
