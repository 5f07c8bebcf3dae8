"""The Events API events the emulator sends about messages, in Slack's shapes.

Shapes from java-slack-sdk's json-logs/samples/events (MessagePayload, MessageBotPayload,
MessageChangedPayload, MessageDeletedPayload, ReactionAddedPayload, ReactionRemovedPayload,
PinAddedPayload, PinRemovedPayload): each event's keys are a subset of its sample's.
"""

from __future__ import annotations

import time
from typing import Any

from bot.sandbox.workspace import Channel, Message

Event = dict[str, Any]


def channel_type(channel: Channel) -> str:
    """The event's `channel_type`: "channel", "group" (private) or "im"."""
    return "im" if channel.is_im else "group" if channel.is_private else "channel"


def subscription(event: Event, channel: Channel | None) -> str:
    """The name an app subscribes to for this event: the event's type, but for `message`,
    message.channels / message.groups / message.im by where it happened (Slack's event
    reference: message.channels is public channels, message.groups private ones)."""
    if event["type"] != "message" or channel is None:
        return str(event["type"])
    return {"channel": "message.channels", "group": "message.groups", "im": "message.im"}[
        channel_type(channel)
    ]


def now_ts() -> str:
    return f"{time.time():.6f}"


def posted(message: Message, channel: Channel, team_id: str) -> Event:
    """`message`: someone posted (a person: `user`, `team`; an app: `bot_id`, subtype
    bot_message; a thread reply: `thread_ts`, `parent_user_id`)."""
    event = {**message.as_api(), "channel": channel.id}
    if message.user:
        event["team"] = team_id
    return {**event, "event_ts": message.ts, "channel_type": channel_type(channel)}


def changed(message: Message, before: Event, channel: Channel) -> Event:
    """`message` subtype message_changed: the message as it is now and as it was; hidden."""
    ts = message.edited_ts or now_ts()
    return {
        "type": "message",
        "subtype": "message_changed",
        "channel": channel.id,
        "hidden": True,
        "message": message.as_api(),
        "previous_message": before,
        "event_ts": ts,
        "ts": ts,
        "channel_type": channel_type(channel),
    }


def deleted(before: Event, channel: Channel) -> Event:
    """`message` subtype message_deleted: `deleted_ts` and the message as it was; hidden."""
    ts = now_ts()
    return {
        "type": "message",
        "subtype": "message_deleted",
        "channel": channel.id,
        "hidden": True,
        "deleted_ts": before["ts"],
        "previous_message": before,
        "event_ts": ts,
        "ts": ts,
        "channel_type": channel_type(channel),
    }


def reaction(kind: str, user_id: str, name: str, message: Message, channel: Channel) -> Event:
    """reaction_added / reaction_removed (`kind`): who, which emoji, on which message, and
    `item_user` (the message's author; absent for an app's message, which has no user)."""
    event: Event = {
        "type": kind,
        "user": user_id,
        "item": {"type": "message", "channel": channel.id, "ts": message.ts},
        "reaction": name,
    }
    if message.user:
        event["item_user"] = message.user
    return {**event, "event_ts": now_ts()}


def pin(kind: str, user_id: str, message: Message, channel: Channel, domain: str) -> Event:
    """pin_added / pin_removed (`kind`): the pinned message inside `item`, the channel's
    `pin_count` after it, and `pinned_info`; pin_removed also says `has_pins`."""
    at = int(time.time())
    shown = message.as_api()
    shown["permalink"] = (
        f"https://{domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"
    )
    count = sum(1 for m in channel.messages if m.pinned)
    event: Event = {
        "type": kind,
        "user": user_id,
        "channel_id": channel.id,
        "item": {
            "type": "message",
            "created": at,
            "created_by": user_id,
            "channel": channel.id,
            "message": shown,
        },
        "pin_count": count,
        "pinned_info": {"channel": channel.id, "pinned_by": user_id, "pinned_ts": at},
    }
    if message.user:
        event["item_user"] = message.user
    if kind == "pin_removed":
        event["has_pins"] = count > 0
    return {**event, "event_ts": now_ts()}
