"""Keeping channel messages in the timeline: by emoji, pin, shortcut or import; taking a way of
keeping back; following the message's edits and deletion in Slack. Plain Python over the
store; no Slack. `Timeline` (bot/entries.py) takes these use-cases as a base class."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.errors import UsageError
from bot.free_text import ENTRY
from bot.models import ONE_TIME, Entry, Incident, Milestone
from bot.store import Store
from bot.store.kept import Keep
from bot.timeline import MAX_BACKDATE, split_milestone

Clock = Callable[[], datetime]


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
class Followed:
    """What following a Slack edit did: the entry as it is now; `held` when its words stay
    because someone gave it others with `/timeline edit` (the edit in Slack is not taken)."""

    entry: Entry
    held: bool = False


@dataclass(frozen=True)
class LetGo:
    """What taking back a way of keeping did: the entry, whether it left the timeline, and
    why not (`still kept another way`, `edited since`, ...)."""

    entry: Entry
    gone: bool
    why: str


class KeptMessages:
    """The use-cases of messages kept in an incident's timeline, each scoped to one Slack
    workspace (team_id). Needs `store`, `clock` (UTC) and `_keeping` (a lock: two ways of
    keeping at the same moment make one entry; a lock per process)."""

    store: Store
    clock: Clock
    _keeping: threading.Lock

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
            elif existing.deleted_at is not None:  # back, saying what the message says now
                self.store.restore_entry(incident.team_id, existing.id, by=by, when=now)
                entry = self._follow(incident, existing.id, text, by, given=milestone)
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

    def let_go(
        self,
        incident: Incident,
        message_ts: str,
        keep: Keep,
        still_there: Callable[[], bool] = lambda: False,
    ) -> LetGo | None:
        """`keep.user_id` took back one way they kept the message (their reaction with
        `keep.emoji`, their pin). The entry goes (deleted as `/timeline delete` does) unless it
        is still kept another way or was edited with `/timeline edit` since it was kept; a
        milestone only that emoji marked is taken off. None if that way was not recorded
        (someone else's reaction, a reaction the bot did not act on), or if `still_there()`
        says it is back (asked in turn with keeping: a removal handled after the same
        reaction added again changes nothing, whatever order the two are handled in)."""
        with self._keeping:
            if still_there():
                return None
            return self._let_go(incident, message_ts, keep)

    def _let_go(self, incident: Incident, message_ts: str, keep: Keep) -> LetGo | None:
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

    def follow_edit(
        self, incident: Incident, message_ts: str, text: str, by: str
    ) -> Followed | None:
        """The kept message was edited in Slack (by `by`): its entry says what it says now. A
        milestone an emoji or an import gave stays and the words stay whole; otherwise the
        words' leading keyword marks the milestone, as when it was kept (none: none). Words
        given with `/timeline edit` since it was kept stay (`held`). An edit that leaves
        nothing readable retracts it: the entry is marked deleted in Slack. None if no live
        entry keeps the message or nothing changed."""
        entry = self.store.entry_for_message(incident, message_ts)
        if entry is None or entry.deleted_at is not None:
            return None
        if not text.strip():
            gone = self.follow_delete(incident, message_ts)
            return Followed(gone) if gone else None
        keeps = self.store.keeps(incident.team_id, entry.id)
        since = min((k.at for k in keeps), default=entry.at)
        if self.store.edited_since(incident.team_id, entry, since):
            return Followed(entry, held=True)
        given = next((k.milestone for k in keeps if k.milestone), None)
        followed = self._follow(incident, entry.id, text, by, given=given)
        return Followed(followed) if followed != entry else None

    def _follow(
        self, incident: Incident, entry_id: int, text: str, by: str, *, given: Milestone | None
    ) -> Entry:
        """Entry `entry_id` says `text` (cut as when kept); its milestone is `given`'s (the
        words whole), else the words' leading keyword's. "Incident began"/"closed" stay."""
        team = incident.team_id
        entry = self.store.entry(team, entry_id)
        said, rest = (None, text) if given else split_milestone(text)
        if said in ONE_TIME:
            said, rest = None, text
        self.store.follow_edit(team, entry_id, ENTRY.cut(rest or text), by, self.clock())
        milestone = given or said
        if milestone is not entry.milestone and entry.milestone not in ONE_TIME:
            self.store.mark_milestone(team, entry_id, milestone, by, self.clock())
        return self.store.entry(team, entry_id)

    def follow_delete(self, incident: Incident, message_ts: str) -> Entry | None:
        """The kept message was deleted in Slack: its entry is marked deleted, so the
        post-mortem never quotes it; None if no live entry kept it."""
        entry = self.store.entry_for_message(incident, message_ts)
        if entry is None or entry.deleted_at is not None:
            return None
        if not self.store.delete_in_slack(incident.team_id, entry.id, self.clock()):
            return None
        return self.store.entry(incident.team_id, entry.id)
