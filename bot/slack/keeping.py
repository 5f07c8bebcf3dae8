"""Keeping messages by emoji or pin: `reaction_added`/`reaction_removed` with a timeline or
milestone emoji and `pin_added`/`pin_removed` in an incident channel keep a message (thread
replies too) with its own time and author, or take it back. The bot confirms on the message
with its own reaction (one thread reply where Slack refuses that); refusals reach the person
alone (chat.postEphemeral). Edits and deletions in Slack: bot/slack/following.py."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import CONFIRMATION_EMOJI
from bot.entries import Timeline
from bot.errors import BotError, UsageError
from bot.incidents import Incidents
from bot.models import ONE_TIME, Entry, Incident, Milestone
from bot.slack.audience import Audience
from bot.slack.directory import Directory
from bot.slack.failures import FAILURES, reason
from bot.slack.lookups import base_emoji, link_message, pinned, reacted, read_message, still_pinned
from bot.slack.messages import message_author, message_text
from bot.slack.payloads import error_text, team_of
from bot.store.kept import Keep

logger = logging.getLogger(__name__)

KEPT_BY_EMOJI = "a timeline reaction"  # what in_channel's refusals call the act


def is_own(message: dict[str, Any], context: BoltContext) -> bool:
    """The bot's own message (its bot id, or its bot user as the author)."""
    return bool(
        (context.bot_id and message.get("bot_id") == context.bot_id)
        or (context.bot_user_id and message.get("user") == context.bot_user_id)
    )


class Keeping:
    """The reaction and pin listeners. `emoji`: the keeping emoji (TIMELINE_REACTION) -> None,
    and the milestone emoji (TIMELINE_MILESTONE_REACTIONS) -> their milestone."""

    def __init__(
        self,
        incidents: Incidents,
        timeline: Timeline,
        emoji: Mapping[str, Milestone | None],
        audience: Audience,
    ) -> None:
        self.incidents = incidents
        self.audience = audience
        self.timeline = timeline
        self.store = incidents.store
        self.emoji = dict(emoji)

    # --- listeners (Bolt acks events itself, before they run) ------------------------------

    def handle_reaction_added(
        self, event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """A timeline or milestone emoji on a message: keep it (and mark its milestone)."""
        reaction = self._reaction(event, context)
        if reaction is None:
            return
        channel, ts, user, emoji = reaction
        incident = self._incident(client, body, channel, user)
        if incident is None:
            return
        try:
            incident = self.incidents.in_channel(
                incident.team_id, channel, KEPT_BY_EMOJI, user_id=user
            )
            known = self.store.entry_for_message(incident, ts)
            if known is not None and known.deleted_at is None:  # kept: Slack need not be asked
                _, thread = self.store.message_link(incident.team_id, known.id)
                message = {"ts": ts, "thread_ts": thread}
                self._keep(client, incident, channel, message, user, "reaction", emoji, known)
                return
            message = read_message(client, channel, ts)
            if is_own(message, context):
                raise UsageError(
                    "That is one of the bot's own messages: what it says is already in the "
                    "timeline or the incident log. `/timeline` lists the entries."
                )
            self._keep(client, incident, channel, message, user, "reaction", emoji)
        except BotError as error:
            self.audience.whisper(client, channel, user, f":warning: {error_text(error)}")

    def handle_pin_added(
        self, event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """A pinned message is kept (the event carries the message)."""
        item, user = event.get("item") or {}, str(event.get("user") or "")
        message = item.get("message")
        channel = str(item.get("channel") or event.get("channel_id") or "")
        if item.get("type") != "message" or not isinstance(message, dict):
            return
        if not user or user == context.bot_user_id or is_own(message, context):
            return  # the bot pins its own kick-off message; a pin of its message is a pin
        incident = self._incident(client, body, channel, user)
        if incident is None:
            return
        try:
            incident = self.incidents.in_channel(incident.team_id, channel, "a pin", user_id=user)
            self._keep(client, incident, channel, message, user, "pin", "")
        except BotError as error:
            self.audience.whisper(client, channel, user, f":warning: {error_text(error)}")

    def handle_reaction_removed(
        self, event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """The person who kept a message with this emoji took it back."""
        reaction = self._reaction(event, context)
        if reaction is None:
            return
        channel, ts, user, emoji = reaction
        incident = self._incident(client, body, channel, user)
        if incident is None:
            return
        keep = Keep(0, "reaction", emoji, user, self._now())
        self._let_go(
            client, incident, channel, ts, keep, lambda: reacted(client, channel, ts, user, emoji)
        )

    def handle_pin_removed(
        self, event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext
    ) -> None:
        """The person who pinned a message unpinned it. Slack's own example of the event
        carries no message (`"item": {}`): then each message this person kept by a pin that
        pins.list no longer shows is the one."""
        item, user = event.get("item") or {}, str(event.get("user") or "")
        if item.get("type", "message") != "message" or not user or user == context.bot_user_id:
            return
        channel = str(item.get("channel") or event.get("channel_id") or "")
        incident = self._incident(client, body, channel, user)
        if incident is None:
            return
        ts = str((item.get("message") or {}).get("ts") or "")
        if ts:
            unpinned = [ts]
        elif (now := pinned(client, channel)) is not None:
            unpinned = [t for t in self.store.pinned_by(incident, user) if t not in now]
        else:
            text = (
                ":warning: Slack did not say which message you unpinned, so the timeline is as "
                "it was. `/timeline delete N` takes an entry out."
            )
            self.audience.whisper(client, channel, user, text)
            return
        for message_ts in unpinned:
            keep = Keep(0, "pin", "", user, self._now())
            self._let_go(
                client,
                incident,
                channel,
                message_ts,
                keep,
                partial(still_pinned, client, channel, message_ts),
            )

    # --- the work ----------------------------------------------------------------------------

    def _reaction(
        self, event: dict[str, Any], context: BoltContext
    ) -> tuple[str, str, str, str] | None:
        """(channel, message ts, person, emoji) of a reaction_added/removed event with a
        timeline or milestone emoji on a message, by a person; None for any other (a file's
        reaction, another emoji, the bot's own confirmation)."""
        item, user = event.get("item") or {}, str(event.get("user") or "")
        emoji = base_emoji(str(event.get("reaction") or ""))
        if item.get("type") != "message" or emoji not in self.emoji:
            return None
        if not user or user == context.bot_user_id:
            return None
        return str(item.get("channel") or ""), str(item.get("ts") or ""), user, emoji

    def _now(self) -> datetime:
        return self.incidents.clock()

    def _incident(
        self, client: WebClient, body: dict[str, Any], channel: str, user: str
    ) -> Incident | None:
        """The channel's incident, unless the act is an app's (a bot user, users.info)."""
        team = team_of(body)
        incident = self.store.incident_by_channel(team, channel) if channel else None
        if incident is None or Directory(self.store, client, team).is_app(user):
            return None
        return incident

    def _keep(
        self,
        client: WebClient,
        incident: Incident,
        channel: str,
        message: dict[str, Any],
        user: str,
        how: str,
        emoji: str,
        known: Entry | None = None,
    ) -> None:
        """Keep `message` (Slack's dict; or, for a message kept already, `known`, its live
        entry, with only its ts and thread in `message`)."""
        milestone = self.emoji.get(emoji) if how == "reaction" else None
        if known is not None:
            author_id, text = known.author_id, known.text
        else:
            directory = Directory(self.store, client, incident.team_id)
            author_id = directory.author(message_author(message))
            text = message_text(message, directory.names())
        kept = self.timeline.keep_message(
            incident,
            author_id=author_id,
            at=datetime.fromtimestamp(float(message["ts"]), UTC),
            text=text,
            message_ts=str(message["ts"]),
            by=user,
            how=how,
            emoji=emoji,
            milestone=milestone,
        )
        entry = kept.entry
        logger.info("kept %s by %s", entry.label, how)
        if kept.new:
            link_message(client, self.timeline, incident, entry, channel, message)
        self.confirm(client, incident, entry, channel, message)
        if milestone and entry.milestone is not milestone:
            said = entry.milestone.label if entry.milestone else "none"
            shown = "stays" if entry.milestone in ONE_TIME else "is"
            text = (
                f":information_source: Entry {entry.label} {shown} “{said}”: only "
                f"`/timeline edit {entry.number} …` changes that."
            )
            self.audience.whisper(client, channel, user, text)
        elif kept.marked and not kept.new:
            self.audience.whisper(
                client, channel, user, f"Entry {entry.label} now marks “{entry.event}”."
            )

    def confirm(
        self,
        client: WebClient,
        incident: Incident,
        entry: Entry,
        channel: str,
        message: dict[str, Any],
    ) -> None:
        """Once per entry: the bot's own reaction on the kept message; where Slack refuses
        it (too_many_reactions, ...), one reply in the message's thread instead."""
        team, ts = incident.team_id, str(message["ts"])
        if self.store.claim_confirmation(team, entry.id, "reaction") is not None:
            return  # confirmed already
        try:
            client.reactions_add(channel=channel, timestamp=ts, name=CONFIRMATION_EMOJI)
            return
        except FAILURES as exc:
            if reason(exc) == "already_reacted":
                return
            logger.warning("confirmation reaction on %s: %s", entry.label, reason(exc))
        self.store.claim_confirmation(team, entry.id, None)
        self.store.claim_confirmation(team, entry.id, "reply")
        try:
            client.chat_postMessage(
                channel=channel,
                thread_ts=str(message.get("thread_ts") or ts),
                text=f":{CONFIRMATION_EMOJI}: Kept in {incident.hotfix_id}'s timeline as "
                f"{entry.label}.",
            )
        except FAILURES as exc:
            logger.warning("confirmation reply on %s: %s", entry.label, reason(exc))

    def unconfirm(self, client: WebClient, incident: Incident, entry: Entry, channel: str) -> None:
        """The entry left the timeline: the bot's own reaction leaves its message."""
        if self.store.claim_confirmation(incident.team_id, entry.id, None) != "reaction":
            return
        try:
            client.reactions_remove(
                channel=channel, timestamp=entry.message_ts or "", name=CONFIRMATION_EMOJI
            )
        except SlackApiError as exc:
            logger.warning("confirmation reaction of %s not removed: %s", entry.label, reason(exc))
        except OSError as exc:
            logger.warning("confirmation reaction of %s not removed: %s", entry.label, exc)

    def _let_go(
        self,
        client: WebClient,
        incident: Incident,
        channel: str,
        ts: str,
        keep: Keep,
        still_there: Callable[[], bool],
    ) -> None:
        if not ts:
            return
        try:
            let_go = self.timeline.let_go(incident, ts, keep, still_there)
        except BotError as error:
            self.audience.whisper(client, channel, keep.user_id, f":warning: {error_text(error)}")
            return
        if let_go is None:
            return  # not a way this person kept it (someone else's reaction, a foreign pin)
        entry = let_go.entry
        if let_go.gone:
            self.unconfirm(client, incident, entry, channel)
            text = (
                f":wastebasket: Entry {entry.label} is out of the timeline (the incident log "
                "records that it was kept and taken back). Add it back the same way."
            )
            self.audience.whisper(client, channel, keep.user_id, text)
        elif let_go.why == "edited since":
            text = (
                f":information_source: Entry {entry.label} stays: it was edited since it was "
                f"kept. `/timeline delete {entry.number}` removes it."
            )
            self.audience.whisper(client, channel, keep.user_id, text)
