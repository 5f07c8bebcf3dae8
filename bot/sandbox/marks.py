"""Reactions and pins on messages: the rules both people and the bot meet, and the Web API
methods reactions.add/remove/get and pins.add/remove/list."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from bot.sandbox import events
from bot.sandbox.errors import ApiError, Refused
from bot.sandbox.workspace import Channel, Message, Workspace

Args = dict[str, Any]
Result = dict[str, Any]

# Slack's client takes emoji names of lower-case letters, digits, "_", "-", "+" and "'"
# (+1, e-mail, man-woman-boy), with an optional skin tone ("thumbsup::skin-tone-2");
# reactions.add answers `invalid_name` for others (":pushpin:" with its colons, "Push Pin").
# The emulator cannot know a workspace's custom emoji, so any such name is taken.
EMOJI_NAME_RE = re.compile(r"^[a-z0-9_+'-]{1,100}(::skin-tone-[2-6])?$")


def _message(ws: Workspace, channel: Channel, ts: str) -> Message:
    try:
        found = ws.find_message(channel, ts)
    except ValueError:
        raise Refused("bad_timestamp", ts) from None
    if found is None:
        raise Refused("message_not_found", f"no message {ts} in #{channel.name}")
    return found


def react(ws: Workspace, channel: Channel, ts: str, user_id: str, name: str) -> Message:
    """`user_id` reacts with `name`; Refused: invalid_name, message_not_found,
    already_reacted (the errors reactions.add names)."""
    if not EMOJI_NAME_RE.match(name):
        raise Refused("invalid_name", repr(name))
    with ws.lock:
        message = _message(ws, channel, ts)
        users = message.reactions.setdefault(name, [])
        if user_id in users:
            raise Refused("already_reacted", f":{name}: is there already")
        users.append(user_id)
    return message


def unreact(ws: Workspace, channel: Channel, ts: str, user_id: str, name: str) -> Message:
    """`user_id` takes back their `name` reaction; Refused: message_not_found, no_reaction
    (reactions.remove: "does not exist, or the requestor is not the original reaction author")."""
    with ws.lock:
        message = _message(ws, channel, ts)
        users = message.reactions.get(name, [])
        if user_id not in users:
            raise Refused("no_reaction", f"no :{name}: of theirs there")
        users.remove(user_id)
        if not users:
            del message.reactions[name]
    return message


def pin(ws: Workspace, channel: Channel, ts: str, user_id: str) -> Message:
    """`user_id` pins the message; Refused: message_not_found, already_pinned."""
    with ws.lock:
        message = _message(ws, channel, ts)
        if message.pinned:
            raise Refused("already_pinned")
        message.pinned, message.pinned_by, message.pinned_at = True, user_id, int(time.time())
    return message


def unpin(ws: Workspace, channel: Channel, ts: str) -> Message:
    """The message is unpinned; Refused: message_not_found, not_pinned."""
    with ws.lock:
        message = _message(ws, channel, ts)
        if not message.pinned:
            raise Refused("not_pinned")
        message.pinned, message.pinned_by, message.pinned_at = False, "", 0
    return message


def permalink(domain: str, channel: Channel, message: Message) -> str:
    return f"https://{domain}.slack.com/archives/{channel.id}/p{message.ts.replace('.', '')}"


class MarkMethods:
    """reactions.* and pins.*, mixed into WebApi (which provides `ws`, `_channel` and
    `on_event`). The bot's own reaction or pin is sent to it as reaction_added / pin_added
    with `user` = the bot's user id, as Slack does."""

    ws: Workspace
    on_event: Callable[[dict[str, Any], Channel], bool]

    def _channel(
        self, channel_id: Any, *, member: bool = False, archived_ok: bool = False
    ) -> Channel:
        raise NotImplementedError

    def _item(self, args: Args, *, member: bool = False, archived_ok: bool = True) -> Channel:
        """The channel of a channel+timestamp item (`no_item_specified` without them)."""
        if not args.get("channel") or not args.get("timestamp"):
            raise ApiError("no_item_specified")
        return self._channel(args["channel"], member=member, archived_ok=archived_ok)

    def m_reactions_add(self, args: Args) -> Result:
        # The reference lists `is_archived` and no `not_in_channel`: the bot reacts in any
        # public channel, and in a private one only if it is in it (else channel_not_found).
        channel = self._item(args, archived_ok=False)
        name, bot = str(args["name"]), self.ws.bot.id
        try:
            message = react(self.ws, channel, str(args["timestamp"]), bot, name)
        except Refused as refused:
            raise ApiError(refused.error) from None
        self.on_event(events.reaction("reaction_added", bot, name, message, channel), channel)
        return {}

    def m_reactions_remove(self, args: Args) -> Result:
        channel = self._item(args)
        name, bot = str(args["name"]), self.ws.bot.id
        try:
            message = unreact(self.ws, channel, str(args["timestamp"]), bot, name)
        except Refused as refused:
            raise ApiError(refused.error) from None
        self.on_event(events.reaction("reaction_removed", bot, name, message, channel), channel)
        return {}

    def m_reactions_get(self, args: Args) -> Result:
        channel = self._item(args)
        try:
            message = _message(self.ws, channel, str(args["timestamp"]))
        except Refused as refused:
            raise ApiError(refused.error) from None
        shown = {**message.as_api(), "permalink": permalink(self.ws.domain, channel, message)}
        return {"type": "message", "channel": channel.id, "message": shown}

    def m_pins_add(self, args: Args) -> Result:
        channel = self._channel(args["channel"], member=True)
        if not args.get("timestamp"):
            raise ApiError("no_item_specified")
        bot = self.ws.bot.id
        try:
            message = pin(self.ws, channel, str(args["timestamp"]), bot)
        except Refused as refused:
            raise ApiError(refused.error) from None
        event = events.pin("pin_added", bot, message, channel, self.ws.domain)
        self.on_event(event, channel)
        return {}

    def m_pins_remove(self, args: Args) -> Result:
        channel = self._channel(args["channel"], member=True)
        if not args.get("timestamp"):
            raise ApiError("no_item_specified")
        try:
            message = unpin(self.ws, channel, str(args["timestamp"]))
        except Refused as refused:
            raise ApiError(refused.error) from None
        event = events.pin("pin_removed", self.ws.bot.id, message, channel, self.ws.domain)
        self.on_event(event, channel)
        return {}

    def m_pins_list(self, args: Args) -> Result:
        channel = self._channel(args["channel"], archived_ok=True)
        items = [
            {
                "type": "message",
                "created": m.pinned_at,
                "created_by": m.pinned_by,
                "channel": channel.id,
                "message": {**m.as_api(), "permalink": permalink(self.ws.domain, channel, m)},
            }
            for m in reversed(channel.messages)
            if m.pinned
        ]
        return {"items": items}
