"""People rows: post-mortem owners, incident channel members, and what Slack told us about
each person or app (name, real name)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bot.errors import BotError
from bot.store.rows import Rows, add_event, to_db

logger = logging.getLogger(__name__)

NAME_WAIT_S = 0.1  # a name is worth this much of a command's 3 s, no more


class PeopleRows(Rows):
    """The `owners`, `members` and `users` tables; every query scoped by team_id."""

    # (name, real name) by (team, user id), as last read: commands stay free of writes when
    # nothing changed (another process may hold the write lock for a while).
    _known: dict[tuple[str, str], tuple[str, str | None]]
    _zones: dict[tuple[str, str], str]  # (team, user) -> tz, as last written

    def owners(self, team_id: str, incident_id: int) -> list[str]:
        rows = self._query(
            "SELECT user_id FROM owners WHERE team_id = ? AND incident_id = ? ORDER BY rowid",
            [team_id, incident_id],
        )
        return [r["user_id"] for r in rows]

    def set_owners(
        self, team_id: str, incident_id: int, user_ids: list[str], *, at: datetime, by: str
    ) -> None:
        with self.write() as db:
            db.execute(
                "DELETE FROM owners WHERE team_id = ? AND incident_id = ?", [team_id, incident_id]
            )
            for user_id in dict.fromkeys(user_ids):  # in the order given, once each
                db.table("owners").insert(
                    {
                        "team_id": team_id,
                        "incident_id": incident_id,
                        "user_id": user_id,
                        "added_at": to_db(at),
                    }
                )
            add_event(db, team_id, incident_id, at, by, "owners", " ".join(user_ids))

    def add_member(self, team_id: str, channel_id: str, user_id: str, at: datetime) -> None:
        with self.write() as db:
            db.table("members").insert(
                {
                    "team_id": team_id,
                    "channel_id": channel_id,
                    "user_id": user_id,
                    "joined_at": to_db(at),
                },
                ignore=True,
            )

    def remove_member(self, team_id: str, channel_id: str, user_id: str) -> None:
        with self.write() as db:
            db.execute(
                "DELETE FROM members WHERE team_id = ? AND channel_id = ? AND user_id = ?",
                [team_id, channel_id, user_id],
            )

    def is_member(self, team_id: str, channel_id: str, user_id: str) -> bool:
        return (
            self._one(
                "SELECT 1 AS x FROM members WHERE team_id = ? AND channel_id = ? AND user_id = ?",
                [team_id, channel_id, user_id],
            )
            is not None
        )

    def remember_user(
        self,
        team_id: str,
        user_id: str,
        name: str,
        real_name: str | None = None,
        *,
        is_app: bool = False,
    ) -> None:
        """Keep a person's handle (and real name, once Slack told us) for names in drafts; an
        app (`B…` id) is kept with `is_app`, so that it is never listed as a participant."""
        key = (team_id, user_id)
        known = self._known.get(key)
        if known is None:
            found = self._one(
                "SELECT name, real_name FROM users WHERE team_id = ? AND user_id = ?",
                [team_id, user_id],
            )
            known = (found["name"], found["real_name"]) if found else ("", None)
            self._known[key] = known
        if not name or (known[0] == name and (not real_name or known[1] == real_name)):
            return  # nothing new: no write (commands stay fast while another writer holds the lock)
        row: dict[str, Any] = {
            "team_id": team_id,
            "user_id": user_id,
            "name": name,
            "updated_at": to_db(datetime.now(UTC)),
        }
        if real_name:
            row["real_name"] = real_name
        if is_app:
            row["is_app"] = 1
        try:
            with self.write(wait_s=NAME_WAIT_S) as db:
                db.table("users").upsert(row, pk=("team_id", "user_id"))
        except BotError:  # the database is busy or full: a name can wait for the next command
            logger.info("name of %s not kept now: the database is busy", user_id)
            return
        self._known[key] = (name, real_name or known[1])

    def remember_zone(self, team_id: str, user_id: str, tz: str, at: datetime) -> None:
        """Keep the person's Slack time zone (users.info `tz`, an IANA name) as last seen; a
        busy database skips it (the next lookup keeps it)."""
        key = (team_id, user_id)
        if self._zones.get(key) == tz:
            return
        try:
            with self.write(wait_s=NAME_WAIT_S) as db:
                db.table("zones").upsert(
                    {"team_id": team_id, "user_id": user_id, "tz": tz, "updated_at": to_db(at)},
                    pk=("team_id", "user_id"),
                )
        except BotError:
            logger.info("time zone of %s not kept now: the database is busy", user_id)
            return
        self._zones[key] = tz

    def zone_name(self, team_id: str, user_id: str) -> str | None:
        """The person's Slack time zone as last seen (`Europe/Berlin`), None if never seen."""
        row = self._one(
            "SELECT tz FROM zones WHERE team_id = ? AND user_id = ?", [team_id, user_id]
        )
        return row["tz"] if row else None

    def user_name(self, team_id: str, user_id: str) -> str | None:
        """The person's handle as they typed it (for decoding mentions)."""
        row = self._one(
            "SELECT name FROM users WHERE team_id = ? AND user_id = ?", [team_id, user_id]
        )
        return row["name"] if row else None

    def real_name(self, team_id: str, user_id: str) -> str | None:
        """The person's real name if Slack told us, else their handle."""
        row = self._one(
            "SELECT COALESCE(real_name, name) AS n FROM users WHERE team_id = ? AND user_id = ?",
            [team_id, user_id],
        )
        return row["n"] if row else None

    def is_app(self, team_id: str, user_id: str) -> bool:
        """An app or bot (its messages were kept), not a person."""
        row = self._one(
            "SELECT is_app FROM users WHERE team_id = ? AND user_id = ?", [team_id, user_id]
        )
        return user_id.startswith("B") or bool(row and row["is_app"])

    def missing_real_names(self, team_id: str, user_ids: list[str]) -> list[str]:
        return [
            u
            for u in dict.fromkeys(user_ids)
            if not self._one(
                "SELECT 1 AS x FROM users "
                "WHERE team_id = ? AND user_id = ? AND real_name IS NOT NULL",
                [team_id, u],
            )
        ]
