"""The retrospective's content: written sections and action items, per incident."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.access import check_may_change
from bot.action_words import ActionChange, ParsedAction, due_problem
from bot.errors import NotAllowed, NotFound, UsageError, quoted
from bot.free_text import ACTION, SECTION, WHY
from bot.models import ActionItem, Incident
from bot.sections import Catalog, Section
from bot.store import Store
from bot.store.actions import Deciders


@dataclass(frozen=True)
class SectionState:
    """A section as it stands: what is written in each field, by whom, and whose it is to write
    (`assignee`, a user id; None: the post-mortem owners')."""

    section: Section
    values: dict[str, str]
    authors: list[str]
    assignee: str | None = None

    @property
    def written(self) -> bool:
        return any(v.strip() for v in self.values.values())


class Retro:
    """Sections and action items of an incident's post-mortem."""

    def __init__(self, store: Store, clock: Callable[[], datetime], sections: Catalog) -> None:
        self.store = store
        self.clock = clock
        self.sections = sections  # as the team's template declares them

    # --- sections --------------------------------------------------------------------------

    def states(self, incident: Incident) -> list[SectionState]:
        rows = self.store.section_rows(incident)
        given = self.store.assignments(incident)
        states = []
        for section in self.sections:
            mine = [r for r in rows if r["section"] == section.key]
            values = {r["field"]: r["value"] for r in mine}
            authors = list(dict.fromkeys(r["author_id"] for r in mine if r["value"].strip()))
            assignee = given[section.key].user_id if section.key in given else None
            states.append(SectionState(section, values, authors, assignee))
        return states

    def values(self, incident: Incident, section: Section) -> dict[str, str]:
        return self.store.section_values(incident, section.key)

    def next_empty(self, incident: Incident, user_id: str | None = None) -> Section | None:
        """The first section given to `user_id` that nobody has written yet, else the first
        required section nobody has written yet (optional ones are written when someone names
        them, `/incident write <section>`, or when they are someone's)."""
        empty = [s for s in self.states(incident) if not s.written]
        theirs = [s.section for s in empty if user_id and s.assignee == user_id]
        required = [s.section for s in empty if s.section.required]
        return next(iter(theirs + required), None)

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
        changed = {
            field.key: values[field.key]
            for field in section.fields
            if field.key in values  # only what was submitted changes
            and values[field.key] != current.get(field.key, "")
        }
        self.store.set_section_values(
            incident, section.key, changed, author_id=user_id, at=self.clock()
        )
        return list(changed)

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
        row_id, made = self.store.add_action_item(
            incident,
            text=parsed.text,
            owner_id=parsed.owner_id,
            due=parsed.due,
            priority=parsed.priority,
            why=parsed.why,
            created_by=user_id,
            at=self.clock(),
            source=source,
        )
        return self.action(incident.team_id, row_id), made

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
        found = self.store.action_item_by_number(incident, number)
        if found is None:
            raise NotFound(
                f"There is no AI-{number:03d} in {incident.hotfix_id}; `/incident actions` "
                "lists them."
            )
        before, created_by = found
        current = self.store.incident(incident.team_id, incident.id) or incident
        check_may_change(self.store, current, user_id)
        if user_id not in (before.owner_id, created_by, current.commander_id):
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
        self.store.update_action_item(incident.team_id, before.id, **values)
        return before, self.action(incident.team_id, before.id)

    def action(self, team_id: str, action_id: int) -> ActionItem:
        item = self.store.action_item(team_id, action_id)
        if item is None:
            raise NotFound("That action item no longer exists.")
        return item

    def actions(self, incident: Incident) -> list[ActionItem]:
        return self.store.action_items(incident)

    def actions_owned_by(self, team_id: str, user_id: str) -> list[ActionItem]:
        return self.store.open_action_items_of(team_id, user_id)

    def mark_done(self, team_id: str, action_id: int, user_id: str) -> tuple[ActionItem, bool]:
        """Close an item once; (the item, whether this call closed it). Its owner, whoever added
        it, or the incident commander, as of now (a DM's button outlives a handover), may, and
        of a private incident only while in its channel; NotAllowed, and nothing changes, for
        anyone else; NotFound for no such item."""
        for incident_id in self.store.action_item_incidents(team_id, action_id):
            if incident := self.store.incident(team_id, incident_id):
                check_may_change(self.store, incident, user_id)

        def check(who: Deciders) -> None:
            if user_id not in (who.owner_id, who.created_by, who.commander_id):
                raise NotAllowed(
                    f"Only AI-{who.number:03d}'s owner (<@{who.owner_id}>), whoever added it, "
                    f"or the incident commander (<@{who.commander_id}>) may mark it done; "
                    "nothing was done."
                )

        closed = self.store.close_action_item(team_id, action_id, at=self.clock(), check=check)
        if closed is None:
            raise NotFound("That action item no longer exists; nothing was done.")
        return self.action(team_id, action_id), closed

    def record_dm(self, item: ActionItem, team_id: str, channel: str, ts: str) -> None:
        self.store.record_action_dm(team_id, item.id, channel, ts)
