"""Kept messages follow Slack: a `message` event with subtype `message_changed` of a kept
message (thread replies too) changes its entry's text, `message_deleted` (or the tombstone
Slack leaves for a deleted message with replies) marks it deleted, so the post-mortem never
quotes what was retracted; an open `/timeline import` proposes the words as they are now.
Every other message gets its 200 and nothing else."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.entries import Timeline
from bot.errors import BotError
from bot.incidents import Incidents
from bot.models import Entry, Incident
from bot.slack.directory import Directory
from bot.slack.echoes import Echoes
from bot.slack.keeping import Keeping
from bot.slack.messages import message_author, message_text
from bot.slack.payloads import team_of

logger = logging.getLogger(__name__)

FOLLOWED = frozenset({"message_changed", "message_deleted"})


class Following:
    """The `message` listener: every message the bot can see arrives here."""

    def __init__(
        self, incidents: Incidents, timeline: Timeline, echoes: Echoes, keeping: Keeping
    ) -> None:
        self.incidents = incidents
        self.timeline = timeline
        self.store = incidents.store
        self.echoes = echoes
        self.keeping = keeping

    def handle_message(
        self, event: dict[str, Any], body: dict[str, Any], client: WebClient
    ) -> None:
        """Plain messages return at once (no database, no Slack)."""
        subtype = event.get("subtype")
        if subtype not in FOLLOWED:
            return
        incident = self.store.incident_by_channel(team_of(body), str(event.get("channel") or ""))
        if incident is None:
            return
        changed = event.get("message") or {}
        try:
            if subtype == "message_deleted":
                self._deleted(client, incident, str(event.get("deleted_ts") or ""))
            elif changed.get("subtype") == "tombstone":  # deleted, its thread stays
                self._deleted(client, incident, str(changed.get("ts") or ""))
            else:
                self._changed(client, incident, changed)
        except BotError as error:  # a busy database: the message stays as it was kept
            logger.warning("following %s in Slack: %s", subtype, error)

    def _changed(self, client: WebClient, incident: Incident, message: dict[str, Any]) -> None:
        ts = str(message.get("ts") or "")
        if not ts:
            return
        directory = Directory(self.store, client, incident.team_id)
        text = message_text(message, directory.names())
        self.store.revise_proposals(incident.team_id, incident.id, ts, text)
        kept = self.store.entry_for_message(incident, ts)
        if kept is None or kept.deleted_at is not None:
            return
        editor = str((message.get("edited") or {}).get("user") or message_author(message).id)
        followed = self.timeline.follow_edit(incident, ts, text, editor)
        if followed is None:
            return
        entry = followed.entry
        if followed.held:
            self.keeping.audience.whisper(
                client,
                incident.channel_id or "",
                editor,
                f"Entry {entry.label} keeps the words it was given with `/timeline edit`, so "
                f"your edit is not in the timeline. `/timeline edit {entry.number} …` "
                "changes it.",
            )
            return
        logger.info("%s follows its message's edit", entry.label)
        self.echoes.refresh(client, incident, entry, None)

    def _deleted(self, client: WebClient, incident: Incident, ts: str) -> None:
        self.store.revise_proposals(incident.team_id, incident.id, ts, None)
        entry: Entry | None = self.timeline.follow_delete(incident, ts) if ts else None
        if entry is None:
            return
        logger.info("%s: its message was deleted in Slack", entry.label)
        self.store.claim_confirmation(incident.team_id, entry.id, None)  # gone with the message
        self.echoes.refresh(client, incident, entry, None)
