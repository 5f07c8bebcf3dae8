"""What people (and other apps) do in the emulated Slack: post, reply, react, pin, edit,
delete, join, leave; and the events Slack sends the app about it. What Slack would not let a
person do raises Refused (bot/sandbox/errors.py) with the Web API's name for it."""

from __future__ import annotations

import queue
import re
import time
from datetime import datetime
from typing import Any

from bot.sandbox import events, marks
from bot.sandbox.errors import Refused
from bot.sandbox.workspace import Channel, Message, Workspace, ts_at

Post = tuple[str, datetime, str] | tuple[str, datetime, str, int]


class People:
    """Mixed into Emulator, which provides the workspace, the event queue and the list of
    events the app subscribes to (`subscribed`)."""

    ws: Workspace
    subscribed: frozenset[str]
    _events: queue.Queue[dict[str, Any]]

    def user(self, name: str) -> str:
        return self.ws.user_named(name).id

    def channel(self, name: str) -> Channel:
        return self.ws.channel_named(name)

    def encode(self, typed: str) -> str:
        """Text as a person typed it -> as Slack delivers it with `should_escape: true`."""
        text = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

        def mention(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in ("channel", "here", "everyone"):
                return f"<!{name}>"
            user = next((u for u in self.ws.users.values() if u.name == name), None)
            return f"<@{user.id}|{user.name}>" if user else m.group(0)

        def channel(m: re.Match[str]) -> str:
            found = next((c for c in self.ws.channels.values() if c.name == m.group(1)), None)
            return f"<#{found.id}|{found.name}>" if found else m.group(0)

        text = re.sub(r"(?<![\w@])@([a-z0-9._-]+)", mention, text)
        return re.sub(r"(?<![\w#])#([a-z0-9_-]+)", channel, text)

    # --- events --------------------------------------------------------------------------

    def emit(self, event: dict[str, Any], channel: Channel | None = None) -> bool:
        """Queue `event` for the app if it subscribes to it and, for an event in a channel,
        the bot is a member there (Slack sends channel events only to apps in the channel).
        Returns whether it was queued."""
        if events.subscription(event, channel) not in self.subscribed:
            return False
        if channel is not None and self.ws.bot.id not in channel.members:
            return False
        self._events.put(event)
        return True

    def _member_joined(self, channel: Channel, user_id: str) -> None:
        self.emit(
            {
                "type": "member_joined_channel",
                "user": user_id,
                "channel": channel.id,
                "channel_type": "G" if channel.is_private else "C",
                "team": self.ws.team_id,
                "event_ts": events.now_ts(),
            }
        )

    # --- messages ------------------------------------------------------------------------

    def _where(self, channel: str | Channel) -> Channel:
        if isinstance(channel, Channel):
            return channel
        if channel.startswith(("C", "G", "D")) and channel in self.ws.channels:
            return self.ws.channels[channel]
        return self.channel(channel)

    def say(
        self,
        who: str,
        channel: str | Channel,
        text: str,
        *,
        thread_ts: str | None = None,
        at: datetime | None = None,
    ) -> Message:
        """A person posts a message (a reply in the thread of `thread_ts`, if given; at the
        moment `at`, a timezone-aware datetime, if given). The app gets a `message` event
        if it subscribes to message.channels / message.groups and the bot is in the channel."""
        where = self._where(channel)
        ts = ts_at(at) if at is not None else ""
        message = self.ws.post(where, self.user(who), self.encode(text), ts=ts, thread_ts=thread_ts)
        self.emit(events.posted(message, where, self.ws.team_id), where)
        return message

    def app_posts(
        self,
        app: str,
        channel: str | Channel,
        text: str = "",
        *,
        attachments: list[dict[str, Any]] | None = None,
        blocks: list[dict[str, Any]] | None = None,
        profile: bool = True,
        thread_ts: str | None = None,
        at: datetime | None = None,
        event: bool = True,
    ) -> Message:
        """An app (an alerting tool, say) posts a message, as Slack delivers it: `bot_id`, no
        `user`, `subtype: bot_message`, and `bot_profile` unless `profile` is False (then only
        bots.info knows its name). `thread_ts`, `at`: as for say(); `event`: False to send
        no `message` event (backfill)."""
        where = self._where(channel)
        bot_id = next((b for b, n in self.ws.apps.items() if n == app), None)
        bot_id = bot_id or self.ws.new_id("B")
        self.ws.apps[bot_id] = app
        ts = ts_at(at) if at is not None else ""
        message = self.ws.post(where, "", text, blocks, ts=ts, thread_ts=thread_ts)
        message.bot_id = bot_id
        message.attachments = attachments
        message.extra = {"subtype": "bot_message"}
        if profile:
            message.extra["bot_profile"] = {"id": bot_id, "name": app, "deleted": False}
        if event:
            self.emit(events.posted(message, where, self.ws.team_id), where)
        return message

    def backfill(self, channel: str | Channel, posts: list[Post]) -> list[Message]:
        """Fill a channel with many messages at once, sending no events: each post is
        `(who, at, text)` or `(who, at, text, thread_of_index)` — `who` a person's name or
        "app:<Name>" for an app's message (bot_message), `at` a timezone-aware datetime, and
        `thread_of_index` the index in `posts` of the (earlier) message it replies to.
        Returns the messages in the order of `posts`."""
        where = self._where(channel)
        made: list[Message] = []
        for post in posts:
            who, at, text = post[0], post[1], post[2]
            parent = made[post[3]].ts if len(post) == 4 else None
            if who.startswith("app:"):
                made.append(
                    self.app_posts(
                        who.removeprefix("app:"), where, text, at=at, thread_ts=parent, event=False
                    )
                )
            else:
                made.append(
                    self.ws.post(
                        where, self.user(who), self.encode(text), ts=ts_at(at), thread_ts=parent
                    )
                )
        return made

    # --- reactions, pins, edits, deletions -----------------------------------------------

    def _visible(self, who: str, channel: str | Channel) -> tuple[str, Channel]:
        """`who`'s user id and the channel; Refused channel_not_found if they cannot see it."""
        where, user_id = self._where(channel), self.user(who)
        if not self.ws.can_see(user_id, where):
            raise Refused("channel_not_found", f"{who} cannot see #{where.name}")
        return user_id, where

    def react(self, who: str, channel: str | Channel, ts: str, name: str) -> Message:
        """`who` adds the `name` emoji (without colons: "pushpin") to the message at `ts`:
        reaction_added. Refused: invalid_name, message_not_found, already_reacted."""
        user_id, where = self._visible(who, channel)
        message = marks.react(self.ws, where, ts, user_id, name)
        self.emit(events.reaction("reaction_added", user_id, name, message, where), where)
        return message

    def unreact(self, who: str, channel: str | Channel, ts: str, name: str) -> Message:
        """`who` takes their `name` reaction back: reaction_removed. Refused: no_reaction."""
        user_id, where = self._visible(who, channel)
        message = marks.unreact(self.ws, where, ts, user_id, name)
        self.emit(events.reaction("reaction_removed", user_id, name, message, where), where)
        return message

    def pin(self, who: str, channel: str | Channel, ts: str) -> Message:
        """`who` pins the message at `ts`: pin_added. Refused: already_pinned."""
        user_id, where = self._visible(who, channel)
        message = marks.pin(self.ws, where, ts, user_id)
        self.emit(events.pin("pin_added", user_id, message, where, self.ws.domain), where)
        return message

    def unpin(self, who: str, channel: str | Channel, ts: str) -> Message:
        """`who` unpins the message at `ts`: pin_removed. Refused: not_pinned."""
        user_id, where = self._visible(who, channel)
        message = marks.unpin(self.ws, where, ts)
        self.emit(events.pin("pin_removed", user_id, message, where, self.ws.domain), where)
        return message

    def _authored(self, who: str, channel: str | Channel, ts: str, refusal: str) -> Message:
        user_id, where = self._visible(who, channel)
        message = self.ws.find_message(where, ts)
        if message is None:
            raise Refused("message_not_found", f"no message {ts} in #{where.name}")
        if message.user != user_id:  # Slack lets only the author edit or delete (no admins)
            raise Refused(refusal, f"{who} did not write that message")
        return message

    def edit(self, who: str, channel: str | Channel, ts: str, text: str) -> Message:
        """`who` edits their own message: a `message` event, subtype message_changed, with
        the message as it is (`edited`: who, when) and as it was (`previous_message`).
        Refused: message_not_found, cant_update_message (someone else's message)."""
        message = self._authored(who, channel, ts, "cant_update_message")
        where = self._where(channel)
        with self.ws.lock:
            before = message.as_api()
            message.text = self.encode(text)
            message.edited = True
            message.edited_by, message.edited_ts = message.user, self.ws.next_ts()
        self.emit(events.changed(message, before, where), where)
        return message

    def delete(self, who: str, channel: str | Channel, ts: str) -> Message:
        """`who` deletes their own message: a `message` event, subtype message_deleted, with
        `deleted_ts` and `previous_message`. Refused: message_not_found, cant_delete_message."""
        message = self._authored(who, channel, ts, "cant_delete_message")
        where = self._where(channel)
        before = message.as_api()
        self.ws.unpost(where, message)
        self.emit(events.deleted(before, where), where)
        return message

    # --- the workspace ------------------------------------------------------------------

    def archive(self, channel: str | Channel) -> None:
        """Someone archives the channel (Slack's conversations.archive): chat.postMessage there
        is then refused with `is_archived`, and conversations.info answers `is_archived: true`."""
        where = channel if isinstance(channel, Channel) else self.channel(channel)
        with self.ws.lock:
            where.is_archived = True

    def deactivate(self, who: str, *, dms_accepted: bool = True) -> None:
        """An admin deactivates a person: users.info answers `deleted: true`. Slack may still
        accept a DM to them (`dms_accepted`, nobody reads it) or refuse it (`channel_not_found`)."""
        user = self.ws.user_named(who)
        with self.ws.lock:
            user.deleted = True
            user.dms_after_deactivation = dms_accepted

    def join(self, who: str, channel: str) -> None:
        where = self.channel(channel)
        user_id = self.user(who)
        where.members.add(user_id)
        self._member_joined(where, user_id)

    def remove(self, who: str, channel: str) -> None:
        """Someone removes `who` from the channel (`/remove @who`); `who` may be the bot
        ("postmortem"). As in Slack, the bot then posts there no more: `not_in_channel` in a
        public channel (chat.postMessage still works there with chat:write.public), and in a
        private one it cannot even see, `channel_not_found`. A person's removal is delivered as
        `member_left_channel`; the bot's own would be `channel_left`/`group_left`, which the
        manifest does not subscribe to, so nothing is sent."""
        where = self.channel(channel)
        user_id = self.user(who)
        with self.ws.lock:
            where.members.discard(user_id)
        if user_id != self.ws.bot.id:
            self.emit(
                {
                    "type": "member_left_channel",
                    "user": user_id,
                    "channel": where.id,
                    "channel_type": "G" if where.is_private else "C",
                    "team": self.ws.team_id,
                    "event_ts": f"{time.time():.6f}",
                }
            )
