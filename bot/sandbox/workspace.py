"""The emulated workspace: its people, channels, and everything each person would see."""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
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

    def as_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "ts": self.ts, "text": self.text}
        if self.user:
            out["user"] = self.user
        for key in ("blocks", "bot_id", "attachments"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        if self.files is not None:  # as Slack shows them: without the bytes
            out["files"] = [{k: v for k, v in f.items() if k != "content"} for f in self.files]
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
    ) -> Message:
        """A message in a channel; `ts` places it at an earlier moment (an ack shown late)."""
        message = Message(
            ts or self.next_ts(), channel.id, user, text, blocks, self.bot_id if bot else None
        )
        with self.lock:
            channel.messages.append(message)
            channel.messages.sort(key=lambda m: float(m.ts))
        return message

    def find_message(self, channel: Channel, ts: str) -> Message | None:
        return next((m for m in channel.messages if m.ts == ts), None)

    def can_see(self, user_id: str, channel: Channel) -> bool:
        return not (channel.is_private or channel.is_im) or user_id in channel.members
