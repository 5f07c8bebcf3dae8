"""Names for the ids in kept messages: people (users.info), channels (conversations.info) and
apps (bots.info), asked of Slack once and kept. Used after the ack only."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.slack.failures import FAILURES, reason
from bot.slack.messages import Author, Names
from bot.store import Store

logger = logging.getLogger(__name__)


class Directory:
    """Lookups for one workspace through one Web API client; a lookup that fails gives None
    (the message is kept with what it carried) and is logged."""

    def __init__(self, store: Store, client: WebClient, team_id: str) -> None:
        self.store = store
        self.client = client
        self.team_id = team_id
        self._channels: dict[str, str | None] = {}
        self._users: dict[str, str | None] = {}  # asked once each, found or not

    def names(self) -> Names:
        return Names(user=self.user, channel=self.channel)

    def user(self, user_id: str) -> str | None:
        """Real name (else handle) of anyone in the workspace, not only people who used the
        bot; Slack is asked once per id, whatever it answers."""
        if user_id not in self._users:
            self._users[user_id] = self._user(user_id)
        return self._users[user_id]

    def _user(self, user_id: str) -> str | None:
        known = self.store.real_name(self.team_id, user_id)
        if known and self.store.missing_real_names(self.team_id, [user_id]) == []:
            return known
        user = self._ask("users.info", lambda: self.client.users_info(user=user_id), "user")
        if not user:
            return known
        real = user.get("real_name") or (user.get("profile") or {}).get("real_name") or None
        name = str(user.get("name") or real or user_id)
        self.store.remember_user(self.team_id, user_id, name, real, is_app=bool(user.get("is_bot")))
        return real or name

    def is_app(self, user_id: str) -> bool:
        """Whether `user_id` is an app's bot user (users.info `is_bot`, asked once and
        remembered), not a person; a `B…` bot id always is."""
        if not self.store.is_app(self.team_id, user_id):
            self.user(user_id)  # remembers what users.info says, is_bot included
        return self.store.is_app(self.team_id, user_id)

    def channel(self, channel_id: str) -> str | None:
        if channel_id not in self._channels:
            found = self._ask(
                "conversations.info",
                lambda: self.client.conversations_info(channel=channel_id),
                "channel",
            )
            self._channels[channel_id] = str(found["name"]) if found else None
        return self._channels[channel_id]

    def author(self, author: Author) -> str:
        """Remember who posted a kept message (an app by its display name, asked of bots.info
        when the message did not carry it); returns the id the entry is recorded under."""
        if not author.is_app:
            self.user(author.id)
            return author.id
        name = author.name
        if not name:
            bot = self._ask(
                "bots.info",
                lambda: self.client.bots_info(bot=author.id, team_id=self.team_id),
                "bot",
            )
            name = str(bot.get("name") or "") if bot else ""
        self.store.remember_user(self.team_id, author.id, name or "an app", name, is_app=True)
        return author.id

    def _ask(self, method: str, call: Any, key: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = call()[key]
            return found
        except FAILURES as exc:
            logger.warning("%s: %s", method, reason(exc))
            return None
