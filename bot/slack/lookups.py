"""What Slack says about one message now: its payload (a thread reply too), whether a
person's reaction or a pin is on it, its permalink. The keeping listeners ask these at the
moment they act, never trusting the event alone."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.entries import Timeline
from bot.errors import UsageError
from bot.models import Entry, Incident
from bot.slack.failures import FAILURES, reason

logger = logging.getLogger(__name__)

# Slack's answers for a message that is not there (deleted, or of another channel): the
# reference's errors of conversations.replies and reactions.get
NOT_FOUND = ("thread_not_found", "message_not_found")
TOMBSTONE = "tombstone"  # what Slack leaves of a deleted message that has replies


def base_emoji(name: str) -> str:
    """`+1::skin-tone-2` -> `+1`: Slack names a reaction with its skin tone after `::`."""
    return name.split("::", 1)[0]


def read_message(client: WebClient, channel: str, ts: str) -> dict[str, Any]:
    """The message `ts` of `channel`, a thread reply too. Reaction events carry only
    {channel, ts}; conversations.history (latest=ts, inclusive, limit 1) finds a message of the
    channel, and a thread reply, which history leaves out, is asked of conversations.replies
    (the ts of a reply names its thread; oldest=ts leaves the replies before it out, Slack
    puts the parent first). Raises UsageError in words for the person."""
    try:
        history = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
        for message in history.get("messages") or []:
            if message.get("ts") == ts and message.get("subtype") != TOMBSTONE:
                return dict(message)
        replies = client.conversations_replies(
            channel=channel, ts=ts, oldest=ts, inclusive=True, limit=2
        )
        for message in replies.get("messages") or []:
            if message.get("ts") == ts and message.get("subtype") != TOMBSTONE:
                return dict(message)
    except FAILURES as exc:
        if reason(exc) not in NOT_FOUND:
            logger.warning("reading message %s: %s", ts, reason(exc))
            raise UsageError(
                f"Slack did not let me read that message ({reason(exc)}), so it is not in the "
                "timeline. Try the reaction again in a moment, or use the message's ⋯ menu: "
                "*Add to timeline*."
            ) from exc
    raise UsageError(
        "I could not find that message (deleted, or out of my reach), so it is not in the "
        "timeline. Record what it said with `/timeline HH:MM <text>`."
    )


def reacted(client: WebClient, channel: str, ts: str, user: str, emoji: str) -> bool:
    """Whether `user`'s `emoji` is on the message now (reactions.get, full): a removal
    handled after the same reaction was added again changes nothing. False where Slack will
    not say (the removal then counts)."""
    try:
        found = client.reactions_get(channel=channel, timestamp=ts, full=True)
    except FAILURES as exc:
        logger.warning("reactions.get for %s: %s", ts, reason(exc))
        return False
    return any(
        base_emoji(str(r.get("name") or "")) == emoji and user in (r.get("users") or [])
        for r in (found.get("message") or {}).get("reactions") or []
    )


def pinned(client: WebClient, channel: str) -> set[str] | None:
    """The ts of the channel's pinned messages (pins.list); None where Slack will not say."""
    try:
        found = client.pins_list(channel=channel)
    except FAILURES as exc:
        logger.warning("pins.list in %s: %s", channel, reason(exc))
        return None
    return {
        str((i.get("message") or {}).get("ts"))
        for i in found.get("items") or []
        if i.get("type") == "message"
    }


def still_pinned(client: WebClient, channel: str, ts: str) -> bool:
    """Whether message `ts` is pinned now (pins.list); False where Slack will not say."""
    return ts in (pinned(client, channel) or ())


def link_message(
    client: WebClient,
    timeline: Timeline,
    incident: Incident,
    entry: Entry,
    channel: str,
    message: dict[str, Any],
) -> None:
    """Store the kept message's permalink (chat.getPermalink, Special tier) and thread; a
    refusal leaves the entry without its link (logged)."""
    thread = message.get("thread_ts")
    link = None
    try:
        found = client.chat_getPermalink(channel=channel, message_ts=message["ts"])
        link = str(found.get("permalink") or "") or None
    except FAILURES as exc:
        logger.warning("chat.getPermalink for %s: %s", entry.label, reason(exc))
    timeline.store.set_message_link(
        incident.team_id,
        entry.id,
        link,
        str(thread) if thread and thread != message["ts"] else None,
    )
