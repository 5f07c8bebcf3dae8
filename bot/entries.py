"""The timeline workflow: record, move, edit and delete entries, and keep channel messages.
Plain Python over the store; no Slack."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.errors import NotAllowed, UsageError, quoted
from bot.free_text import ENTRY
from bot.models import ONE_TIME, Entry, Incident, Milestone, Status
from bot.store import Store
from bot.store.kept import Keep
from bot.timeline import (
    ParsedEntry,
    check_text,
    parse_entry,
    parse_parts,
    split_milestone,
)
from bot.when import ZoneSource

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
MAX_BACKDATE = timedelta(days=30)  # before the incident was opened
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


@dataclass(frozen=True)
class Kept:
    """What keeping a message did: the entry as it is now, whether it entered the timeline
    now (`new`: added, or brought back), whether this way of keeping it was new (`added`:
    False for the same reaction twice), and whether its milestone was marked now."""

    entry: Entry
    new: bool
    added: bool = True
    marked: bool = False


@dataclass(frozen=True)
class LetGo:
    """What taking back a way of keeping did: the entry, whether it left the timeline, and
    why not (`still kept another way`, `edited since`, ...)."""

    entry: Entry
    gone: bool
    why: str


def _number(text: str) -> int | None:
    text = text.removeprefix("#")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 9 else None


class Timeline:
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

    def keep_message(
        self,
        incident: Incident,
        *,
        author_id: str,
        at: datetime,
        text: str,
        message_ts: str,
        by: str,
        how: str = "shortcut",
        emoji: str = "",
        milestone: Milestone | None = None,
    ) -> Kept:
        """Keep a channel message (thread replies too) in the timeline once, with its own time
        and author, noting how (`how`: reaction with its `emoji`, pin, shortcut, import) and by
        whom; a second way (another reaction, the pin) adds no entry. A given `milestone` (an
        emoji's, an import's) marks the entry and leaves the words whole; otherwise a text
        starting `fix: ...` marks its milestone. Never "Incident began"/"Incident closed", which
        only a command moves. A message kept before and deleted comes back under its old
        number. Raises UsageError for a message with nothing readable in it, or one more than
        30 days older than the incident."""
        now = self.clock()
        with self._keeping:  # two ways at the same moment (pin and reaction): one entry
            existing = self.store.entry_for_message(incident, message_ts)
            new = existing is None or existing.deleted_at is not None
            if existing is None:
                entry = self._new_kept(incident, author_id, at, text, message_ts, by, milestone)
            elif existing.deleted_at is not None:
                entry = self.store.restore_entry(incident.team_id, existing.id, by=by, when=now)
            else:
                entry = existing
            added = self.store.add_keep(
                incident.team_id, Keep(entry.id, how, emoji, by, now, milestone)
            )
        marked = False
        if milestone and entry.milestone is not milestone and entry.milestone not in ONE_TIME:
            marked = self.store.mark_milestone(incident.team_id, entry.id, milestone, by, now)
            entry = self.store.entry(incident.team_id, entry.id)
        return Kept(entry, new, added, marked)

    def _new_kept(
        self,
        incident: Incident,
        author_id: str,
        at: datetime,
        text: str,
        message_ts: str,
        by: str,
        milestone: Milestone | None,
    ) -> Entry:
        if not text.strip():
            raise UsageError(
                "That message has nothing I can read (no text, attachment or file name), so "
                "there is nothing to keep. Record what it showed with `/timeline HH:MM <text>`."
            )
        if at < incident.started_at - MAX_BACKDATE:
            raise UsageError(
                f"That message ({at:%Y-%m-%d %H:%M} UTC) is more than 30 days older than "
                f"{incident.hotfix_id}; record what it says with `/timeline` if it belongs."
            )
        said, rest = split_milestone(text)
        if said in ONE_TIME or milestone:  # a command moves the beginning or the resolution;
            said, rest = None, text  # a milestone given (emoji, import) leaves the words whole
        return self.store.add_entry(
            incident,
            at=at,
            text=ENTRY.cut(rest or text),
            author_id=author_id,
            milestone=said,  # a given milestone is marked after
            source="message",
            message_ts=message_ts,
            kept_by=by,
        )

    def let_go(self, incident: Incident, message_ts: str, keep: Keep) -> LetGo | None:
        """`keep.user_id` took back one way they kept the message (their reaction with
        `keep.emoji`, their pin). The entry goes (deleted as `/timeline delete` does) unless it
        is still kept another way or was edited with `/timeline edit` since it was kept; a
        milestone only that emoji marked is taken off. None if that way was not recorded
        (someone else's reaction, a reaction the bot did not act on)."""
        entry = self.store.entry_for_message(incident, message_ts)
        if entry is None or entry.deleted_at is not None:
            return None
        now = self.clock()
        found = self.store.remove_keep(incident.team_id, replace(keep, entry_id=entry.id), now)
        if found is None:
            return None
        others = self.store.keeps(incident.team_id, entry.id)
        if others or self.store.edited_since(incident.team_id, entry, found.at):
            if (
                found.milestone
                and entry.milestone is found.milestone
                and all(k.milestone is not found.milestone for k in others)
                and not self.store.edited_since(incident.team_id, entry, found.at)
            ):
                self.store.mark_milestone(incident.team_id, entry.id, None, keep.user_id, now)
            why = "still kept another way" if others else "edited since"
            return LetGo(self.store.entry(incident.team_id, entry.id), False, why)
        if entry.milestone in ONE_TIME:
            return LetGo(entry, False, "the beginning or the resolution")
        gone = self.store.delete_entry(incident.team_id, entry.id, by=keep.user_id, when=now)
        return LetGo(gone, True, "")

    def follow_edit(self, incident: Incident, message_ts: str, text: str, by: str) -> Entry | None:
        """The kept message was edited in Slack: its entry now says what it says (cut as when
        it was kept); None if no live entry keeps it or the words did not change."""
        entry = self.store.entry_for_message(incident, message_ts)
        if entry is None or entry.deleted_at is not None or not text.strip():
            return None
        said, rest = split_milestone(text)  # the milestone stays; a word repeating it goes
        kept = ENTRY.cut(rest if said is not None and said is entry.milestone and rest else text)
        if self.store.follow_edit(incident.team_id, entry.id, kept, by, self.clock()) is None:
            return None
        return self.store.entry(incident.team_id, entry.id)

    def follow_delete(self, incident: Incident, message_ts: str) -> Entry | None:
        """The kept message was deleted in Slack: its entry is marked deleted, so the
        post-mortem never quotes it; None if no live entry kept it."""
        entry = self.store.entry_for_message(incident, message_ts)
        if entry is None or entry.deleted_at is not None:
            return None
        if not self.store.delete_in_slack(incident.team_id, entry.id, self.clock()):
            return None
        return self.store.entry(incident.team_id, entry.id)

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
