"""The timeline workflow: record, move, edit and delete entries (keeping channel messages is
in bot/kept.py). Plain Python over the store; no Slack."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import NotAllowed, UsageError, quoted
from bot.kept import Clock, KeptMessages
from bot.models import ONE_TIME, Entry, Incident, Milestone, Status
from bot.store import Store
from bot.timeline import MAX_BACKDATE, ParsedEntry, check_text, parse_entry, parse_parts
from bot.when import ZoneSource

logger = logging.getLogger(__name__)

EDIT_USAGE = (
    "`/timeline edit N [time] [milestone:] [text]` changes entry #N (give what changes); "
    "`/timeline delete N` removes it. `/timeline` lists the numbers."
)


@dataclass(frozen=True)
class Recorded:
    """What a `/timeline` command did: the entry as stored now, the incident as it is now
    (moving "Incident closed" moves its resolution and deadline), and whether an existing
    entry changed rather than a new one was added."""

    entry: Entry
    incident: Incident
    changed: bool = False
    previous: Entry | None = None  # the entry as it was before it changed


def _number(text: str) -> int | None:
    text = text.removeprefix("#")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 9 else None


class Timeline(KeptMessages):
    """Use-cases of an incident's timeline, each scoped to one Slack workspace (team_id)."""

    def __init__(self, store: Store, clock: Clock, deadline: timedelta) -> None:
        self.store = store
        self.clock = clock
        self.deadline = deadline  # how long after resolution the post-mortem is due
        self._keeping = threading.Lock()

    def entries(self, incident: Incident) -> list[Entry]:
        return self.store.entries(incident.team_id, incident.id)

    def one_time(self, incident: Incident, milestone: Milestone) -> Entry | None:
        """The incident's "Incident began" (or "Incident closed") entry, if it has one."""
        return next((e for e in self.entries(incident) if e.milestone is milestone), None)

    # --- recording -------------------------------------------------------------------------

    def record(self, incident: Incident, user_id: str, text: str, zone: ZoneSource) -> Recorded:
        """Record `[time] [milestone:] text`. `began:` and `resolved:` move the incident's one
        "Incident began" / "Incident closed" entry instead of adding another.
        Raises UsageError (bad time, no text, a resolution while still open)."""
        now = self.clock()
        parsed = parse_entry(text, now, zone)
        self._check_age(incident, parsed.at)
        if parsed.milestone in ONE_TIME:
            fresh = self.store.incident(incident.team_id, incident.id) or incident
            current = self.one_time(fresh, parsed.milestone)
            if parsed.milestone is Milestone.RESOLVED and (
                current is None or fresh.status is not Status.RESOLVED
            ):
                raise UsageError(
                    f"{fresh.hotfix_id} is still open. `/incident resolve [time]` resolves it: "
                    "it records “Incident closed” and starts the post-mortem deadline."
                )
            if current is not None:
                return self._change(fresh, current, user_id, parsed, now)
        logger.debug("timeline entry (%s)", parsed.milestone or "event")
        entry = self.store.add_entry(
            incident,
            at=parsed.at,
            text=parsed.text,
            author_id=user_id,
            milestone=parsed.milestone,
            source="command",
        )
        return Recorded(entry, incident)

    # --- changing --------------------------------------------------------------------------

    def find(self, incident: Incident, user_id: str, number_text: str, verb: str) -> Entry:
        """Entry #N for `verb` ("edit", "delete"), if this person may change it: its author,
        whoever kept it (a channel message), or the incident commander as of now."""
        number = _number(number_text)
        if number is None:
            raise UsageError(f"{quoted(number_text)} is not an entry number. {EDIT_USAGE}")
        entry = self.store.entry_by_number(incident, number)
        if entry is None:
            raise UsageError(f"There is no entry #{number} in {incident.hotfix_id}. {EDIT_USAGE}")
        if entry.deleted_at is not None:
            raise UsageError(
                f"Entry #{number} was deleted ({entry.deleted_at:%Y-%m-%d %H:%M} UTC); "
                f"there is nothing to {verb}."
            )
        allowed = {entry.author_id, entry.kept_by, incident.commander_id}
        if user_id not in allowed:
            raise NotAllowed(
                f"Only the entry's author (<@{entry.author_id}>) or the incident commander "
                f"(<@{incident.commander_id}>) may {verb} entry #{number}."
            )
        return entry

    def edit(
        self, incident: Incident, user_id: str, number_text: str, text: str, zone: ZoneSource
    ) -> Recorded:
        """`/timeline edit N [time] [milestone:] [text]`: what is given changes, the rest
        stays. "Incident began" and "Incident closed" stay what they are."""
        incident = self.store.incident(incident.team_id, incident.id) or incident
        entry = self.find(incident, user_id, number_text, "edit")
        now = self.clock()
        parsed = parse_parts(text, now, zone)
        if not (parsed.written or parsed.milestone or parsed.text):
            raise UsageError(f"What changes in entry #{entry.number}? {EDIT_USAGE}")
        if parsed.written:
            self._check_age(incident, parsed.at)
        if entry.milestone in ONE_TIME and parsed.milestone not in (None, entry.milestone):
            raise UsageError(
                f"Entry #{entry.number} is “{entry.milestone.label}”: an incident has exactly "
                "one, so it stays that. Record the new milestone as an entry of its own: "
                f"`/timeline HH:MM {parsed.milestone.value}: …`."
            )
        if parsed.milestone in ONE_TIME and entry.milestone is not parsed.milestone:
            raise UsageError(
                f"An incident has exactly one “{parsed.milestone.label}”; "
                f"move it with `/timeline HH:MM {parsed.milestone.value}: …` "
                "instead of turning another entry into it."
            )
        return self._change(incident, entry, user_id, parsed, now)

    def delete(self, incident: Incident, user_id: str, number_text: str) -> Entry:
        """Mark entry #N deleted; its number is never reused. The beginning and the
        resolution cannot be deleted (move them instead)."""
        incident = self.store.incident(incident.team_id, incident.id) or incident
        entry = self.find(incident, user_id, number_text, "delete")
        if entry.milestone is Milestone.BEGAN:
            raise NotAllowed(
                f"“Incident began” (#{entry.number}) stays: an incident always has one. Move it "
                "with `/timeline HH:MM began: <what triggered it>`."
            )
        if entry.milestone is Milestone.RESOLVED and incident.status is Status.RESOLVED:
            raise NotAllowed(
                f"“Incident closed” (#{entry.number}) stays while {incident.hotfix_id} is "
                "resolved. Move it with `/timeline HH:MM resolved: …`, or `/incident reopen`."
            )
        return self.store.delete_entry(incident.team_id, entry.id, by=user_id, when=self.clock())

    def _change(
        self, incident: Incident, entry: Entry, user_id: str, parsed: ParsedEntry, now: datetime
    ) -> Recorded:
        at = parsed.at if parsed.written else entry.at
        text = parsed.text or entry.text
        said = f"{parsed.written.describe()}, but " if parsed.written else ""
        if entry.milestone is Milestone.RESOLVED:
            began = self._began(incident)
            if at < began:
                raise UsageError(
                    f"{said}{incident.hotfix_id} began at {began:%Y-%m-%d %H:%M} UTC; it "
                    "cannot have been resolved before that."
                )
            moved = self.store.move_resolution(
                incident,
                entry.id,
                at=at,
                text=check_text(text),
                deadline_at=at + self.deadline,
                by=user_id,
                when=now,
            )
            return Recorded(self.store.entry(incident.team_id, entry.id), moved, True, entry)
        if (
            entry.milestone is Milestone.BEGAN
            and incident.resolved_at
            and at > incident.resolved_at
        ):
            raise UsageError(
                f"{said}{incident.hotfix_id} was resolved at "
                f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC; it cannot have begun after that."
            )
        changed = self.store.update_entry(
            incident.team_id,
            entry.id,
            at=at,
            text=check_text(text),
            milestone=parsed.milestone or entry.milestone,
            by=user_id,
            when=now,
        )
        return Recorded(changed, incident, True, entry)

    def began(self, incident: Incident) -> datetime:
        """When the incident began: its "Incident began" entry (people may move it)."""
        return self._began(incident)

    def _began(self, incident: Incident) -> datetime:
        began = self.one_time(incident, Milestone.BEGAN)
        return began.at if began else incident.started_at

    def _check_age(self, incident: Incident, at: datetime) -> None:
        if at < incident.started_at - MAX_BACKDATE:
            raise UsageError(
                f"That time ({at:%Y-%m-%d %H:%M} UTC) is more than 30 days before "
                f"{incident.hotfix_id} was opened."
            )
