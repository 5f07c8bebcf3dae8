"""The emulated workspace: its people, channels, and everything each person would see."""

from __future__ import annotations

import bisect
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

CHANNEL_NAME_RE = re.compile(r"^[a-z0-9_-]+$")


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str = "Europe/London"
    tz_offset: int = 0
    is_bot: bool = False
    deleted: bool = False
    dms_after_deactivation: bool = False  # Slack may still take a DM to a deactivated person

    def as_api(self, team_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "tz": self.tz,
            "tz_offset": self.tz_offset,
            "profile": {"real_name": self.real_name, "display_name": self.name},
        }


@dataclass
class Message:
    ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    bot_id: str | None = None
    edited: bool = False
    pinned: bool = False
    files: list[dict[str, Any]] | None = None
    attachments: list[dict[str, Any]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # bot_profile, username, subtype, ...
    # Threads, as Slack's message objects carry them (docs.slack.dev conversations.replies
    # example; OpenAPI objs_message): a reply has `thread_ts` (its parent's ts) and
    # `parent_user_id`; a parent with replies has `thread_ts` (its own ts), `reply_count`,
    # `reply_users` (ids, first repliers), `reply_users_count` and `latest_reply` (a ts).
    thread_ts: str | None = None
    parent_user: str = ""
    reply_count: int = 0
    reply_users: list[str] = field(default_factory=list)
    latest_reply: str = ""
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji name -> user ids
    edited_by: str = ""  # who edited it last, and when (a ts): Slack's `edited` object
    edited_ts: str = ""
    pinned_by: str = ""  # who pinned it, and when (epoch seconds): pins.list's items
    pinned_at: int = 0

    @property
    def is_reply(self) -> bool:
        """In a thread and not its parent (thread replies stay out of channel history)."""
        return self.thread_ts is not None and self.thread_ts != self.ts

    def as_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user:
            out["user"] = self.user
        for key in ("blocks", "bot_id", "attachments"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        if self.files is not None:  # as Slack shows them: without the bytes
            out["files"] = [{k: v for k, v in f.items() if k != "content"} for f in self.files]
        if self.thread_ts is not None:
            out["thread_ts"] = self.thread_ts
        if self.is_reply and self.parent_user:
            out["parent_user_id"] = self.parent_user
        if self.reply_count:
            out.update(
                reply_count=self.reply_count,
                reply_users=list(self.reply_users),
                reply_users_count=len(self.reply_users),
                latest_reply=self.latest_reply,
            )
        if self.edited_ts:
            out["edited"] = {"user": self.edited_by, "ts": self.edited_ts}
        if self.reactions:  # OpenAPI objs_reaction: name, users, count
            out["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        if self.pinned:
            out["pinned_to"] = [self.channel]
        return {**out, **self.extra}


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    creator: str
    created: int
    members: set[str] = field(default_factory=set)
    topic: str = ""
    purpose: str = ""
    is_archived: bool = False
    is_im: bool = False
    messages: list[Message] = field(default_factory=list)

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "created": self.created,
            "creator": self.creator,
            "topic": {"value": self.topic, "creator": self.creator, "last_set": 0},
            "purpose": {"value": self.purpose, "creator": self.creator, "last_set": 0},
            "num_members": len(self.members),
        }


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    ts: str = ""


class Workspace:
    """One Slack workspace (team) with a bot user; all state behind one lock."""

    def __init__(self, team_id: str = "T0TEST", domain: str = "acme") -> None:
        self.team_id = team_id
        self.domain = domain
        self.lock = threading.RLock()
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.ephemerals: list[Ephemeral] = []
        self._ids = itertools.count(1)
        self._last_ts = 0.0
        self.bot = self.add_user("postmortem", "postmortem-bot", is_bot=True, user_id="U0BOT")
        self.bot_id = "B0BOT"
        self.apps: dict[str, str] = {self.bot_id: self.bot.real_name}  # bots.info, by bot id

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def next_ts(self) -> str:
        with self.lock:
            ts = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = ts
            return f"{ts:.6f}"

    def add_user(
        self,
        name: str,
        real_name: str = "",
        *,
        is_bot: bool = False,
        user_id: str | None = None,
        tz: str = "Europe/London",
        tz_offset: int = 0,
    ) -> User:
        user = User(
            user_id or self.new_id("U"), name, real_name or name.title(), tz, tz_offset, is_bot
        )
        with self.lock:
            self.users[user.id] = user
        return user

    def user_named(self, name: str) -> User:
        for user in self.users.values():
            if user.name == name:
                return user
        raise KeyError(f"no user named {name!r}")

    def add_channel(
        self, name: str, creator: str, *, is_private: bool = False, members: set[str] | None = None
    ) -> Channel:
        channel = Channel(
            id=self.new_id("G" if is_private else "C"),
            name=name,
            is_private=is_private,
            creator=creator,
            created=int(time.time()),
            members=set(members or {creator}),
        )
        with self.lock:
            self.channels[channel.id] = channel
        return channel

    def channel_named(self, name: str) -> Channel:
        name = name.lstrip("#")
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(f"no channel named {name!r}")

    def im(self, user_id: str) -> Channel:
        """The bot's direct-message channel with a person, opened on first use."""
        with self.lock:
            for channel in self.channels.values():
                if channel.is_im and user_id in channel.members:
                    return channel
            channel = Channel(
                self.new_id("D"),
                user_id,
                False,
                self.bot.id,
                int(time.time()),
                {user_id, self.bot.id},
                is_im=True,
            )
            self.channels[channel.id] = channel
            return channel

    def post(
        self,
        channel: Channel,
        user: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        bot: bool = False,
        ts: str = "",
        thread_ts: str | None = None,
    ) -> Message:
        """A message in a channel; `ts` places it at another moment (an ack shown late, a
        post `at` a given time), moved on by a microsecond while taken: a ts is unique in its
        channel, as Slack's. `thread_ts`: a reply in the thread of that message (or of its
        parent, if that is a reply itself); KeyError if it is not in the channel."""
        with self.lock:
            ts = ts or self.next_ts()
            while self.find_message(channel, ts) is not None:
                ts = f"{float(ts) + 0.000001:.6f}"
            parent = None
            if thread_ts is not None:
                parent = self.find_message(channel, thread_ts)
                if parent is None:
                    raise KeyError(f"no message {thread_ts} in #{channel.name}")
                if parent.is_reply:  # a reply to a reply goes into the same thread
                    parent = self.find_message(channel, str(parent.thread_ts)) or parent
            message = Message(ts, channel.id, user, text, blocks, self.bot_id if bot else None)
            if parent is not None:
                message.thread_ts = parent.ts
                message.parent_user = parent.user
                parent.thread_ts = parent.ts
                parent.reply_count += 1
                if user and user not in parent.reply_users:
                    parent.reply_users.append(user)
                parent.latest_reply = max(parent.latest_reply, ts, key=_ts_key)
            bisect.insort(channel.messages, message, key=lambda m: float(m.ts))
        return message

    def unpost(self, channel: Channel, message: Message) -> None:
        """Take a message out of its channel; its thread's parent counts one reply fewer."""
        with self.lock:
            channel.messages.remove(message)
            if not message.is_reply:
                return
            parent = self.find_message(channel, str(message.thread_ts))
            if parent is None:
                return
            replies = [m for m in channel.messages if m.is_reply and m.thread_ts == parent.ts]
            parent.reply_count = len(replies)
            parent.reply_users = list(dict.fromkeys(m.user for m in replies if m.user))
            parent.latest_reply = replies[-1].ts if replies else ""

    def find_message(self, channel: Channel, ts: str) -> Message | None:
        messages = channel.messages
        try:
            at = bisect.bisect_left(messages, float(ts), key=lambda m: float(m.ts))
        except ValueError:
            return None
        while at < len(messages) and float(messages[at].ts) == float(ts):
            if messages[at].ts == ts:
                return messages[at]
            at += 1
        return None

    def can_see(self, user_id: str, channel: Channel) -> bool:
        return not (channel.is_private or channel.is_im) or user_id in channel.members


def ts_at(at: datetime) -> str:
    """A Slack ts ("seconds.micro", UTC epoch) for a timezone-aware moment."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware")
    return f"{at.timestamp():.6f}"


def _ts_key(ts: str) -> float:
    return float(ts) if ts else 0.0
