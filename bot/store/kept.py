"""Kept channel messages: how each was kept (a reaction and its emoji, a pin, the shortcut, an
import) and by whom, its permalink and thread, the bot's confirmation on it, and the edits and
deletions in Slack that the entry follows. Every query scoped by team_id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from bot.models import ONE_TIME, Entry, Incident, Milestone
from bot.store.rows import Rows, add_event, from_db, to_db

HOWS = ("reaction", "pin", "shortcut", "import")


@dataclass(frozen=True)
class Keep:
    """One way a message is kept: `how` in HOWS, `emoji` the reaction's name ("" otherwise),
    `user_id` who did it, `at` when (UTC), `milestone` the one the emoji marked."""

    entry_id: int
    how: str
    emoji: str
    user_id: str
    at: datetime
    milestone: Milestone | None = None

    @property
    def words(self) -> str:
        """`reaction :pushpin:`, `pin`, `shortcut`, `import` (for the incident log)."""
        return f"reaction :{self.emoji}:" if self.how == "reaction" else self.how


def _keep(row: dict[str, Any]) -> Keep:
    return Keep(
        entry_id=row["entry_id"],
        how=row["how"],
        emoji=row["emoji"],
        user_id=row["user_id"],
        at=from_db(row["at"]),  # type: ignore[arg-type]
        milestone=Milestone(row["milestone"]) if row["milestone"] else None,
    )


def _number(db: Database, team_id: str, entry_id: int) -> tuple[int, str]:
    """(incident id, `#N`) of the entry."""
    row = db.execute(
        "SELECT incident_id, number FROM timeline WHERE team_id = ? AND id = ?",
        [team_id, entry_id],
    ).fetchone()
    return int(row[0]), f"#{row[1]}"


class KeptRows(Rows):
    """The `kept` table and the kept-message columns of `timeline`."""

    def add_keep(self, team_id: str, keep: Keep) -> bool:
        """Record one way the entry is kept, in the incident log too; False (and nothing
        written) if it was already kept that way by that person."""
        with self.write() as db:
            incident_id, number = _number(db, team_id, keep.entry_id)
            cur = db.execute(
                "INSERT OR IGNORE INTO kept (team_id, incident_id, entry_id, how, emoji, "
                "user_id, at, milestone) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    team_id,
                    incident_id,
                    keep.entry_id,
                    keep.how,
                    keep.emoji,
                    keep.user_id,
                    to_db(keep.at),
                    keep.milestone.value if keep.milestone else None,
                ],
            )
            if cur.rowcount != 1:
                return False
            add_event(
                db, team_id, incident_id, keep.at, keep.user_id, "entry-kept", number, keep.words
            )
        return True

    def keeps(self, team_id: str, entry_id: int) -> list[Keep]:
        """The ways the entry is kept now, oldest first."""
        rows = self._query(
            "SELECT * FROM kept WHERE team_id = ? AND entry_id = ? ORDER BY id",
            [team_id, entry_id],
        )
        return [_keep(r) for r in rows]

    def remove_keep(self, team_id: str, keep: Keep, when: datetime) -> Keep | None:
        """Take back one way the entry was kept (`keep`'s entry, how, emoji and person), in the
        incident log too; the row as it was, or None if there was none."""
        with self.write() as db:
            row = db.execute(
                "SELECT * FROM kept WHERE team_id = ? AND entry_id = ? AND how = ? AND emoji = ? "
                "AND user_id = ?",
                [team_id, keep.entry_id, keep.how, keep.emoji, keep.user_id],
            ).fetchone()
            if row is None:
                return None
            columns = [d[0] for d in db.conn.execute("SELECT * FROM kept LIMIT 0").description]
            found = _keep(dict(zip(columns, row, strict=True)))
            db.execute("DELETE FROM kept WHERE id = ?", [row[0]])
            incident_id, number = _number(db, team_id, keep.entry_id)
            add_event(
                db, team_id, incident_id, when, keep.user_id, "entry-unkept", number, found.words
            )
        return found

    def pinned_by(self, incident: Incident, user_id: str) -> list[str]:
        """The ts of the messages `user_id` keeps in the incident's timeline by a pin."""
        rows = self._query(
            "SELECT t.message_ts FROM kept k JOIN timeline t ON t.id = k.entry_id "
            "WHERE k.team_id = ? AND k.incident_id = ? AND k.how = 'pin' AND k.user_id = ? "
            "AND t.deleted_at IS NULL AND t.message_ts IS NOT NULL",
            [incident.team_id, incident.id, user_id],
        )
        return [r["message_ts"] for r in rows]

    def edited_since(self, team_id: str, entry: Entry, since: datetime) -> bool:
        """Whether someone changed the entry with `/timeline edit` at or after `since` (UTC)."""
        row = self._one(
            "SELECT 1 AS edited FROM events WHERE team_id = ? AND incident_id = ? AND kind = ? "
            "AND detail = ? AND at >= ? LIMIT 1",
            [team_id, entry.incident_id, "entry-edited", entry.label, to_db(since)],
        )
        return row is not None

    def set_message_link(
        self, team_id: str, entry_id: int, permalink: str | None, thread_ts: str | None
    ) -> None:
        """The kept message's permalink (chat.getPermalink) and its thread's parent ts."""
        with self.write() as db:
            db.execute(
                "UPDATE timeline SET permalink = COALESCE(?, permalink), "
                "thread_ts = COALESCE(?, thread_ts) WHERE team_id = ? AND id = ?",
                [permalink, thread_ts, team_id, entry_id],
            )

    def message_link(self, team_id: str, entry_id: int) -> tuple[str | None, str | None]:
        """(permalink, thread ts) of a kept message's entry."""
        row = self._one(
            "SELECT permalink, thread_ts FROM timeline WHERE team_id = ? AND id = ?",
            [team_id, entry_id],
        )
        return (row["permalink"], row["thread_ts"]) if row else (None, None)

    def claim_confirmation(self, team_id: str, entry_id: int, how: str | None) -> str | None:
        """Mark how the bot confirmed the entry on its message (`reaction`, `reply`; None: the
        confirmation was taken back); returns what it was. Setting `how` succeeds only once
        (two keeps at the same moment confirm once): it returns None then, and the mark of the
        one that won otherwise."""
        with self.write() as db:
            (was,) = db.execute(
                "SELECT confirmed FROM timeline WHERE team_id = ? AND id = ?", [team_id, entry_id]
            ).fetchone()
            if how is None or was is None:
                db.execute(
                    "UPDATE timeline SET confirmed = ? WHERE team_id = ? AND id = ?",
                    [how, team_id, entry_id],
                )
        return str(was) if was else None

    def follow_edit(
        self, team_id: str, entry_id: int, text: str, by: str, when: datetime
    ) -> str | None:
        """The kept message was edited in Slack: the entry says what it says now; the log keeps
        what it said before. Returns the old text, or None if nothing changed (a deleted
        entry, or the same words)."""
        with self.write() as db:
            row = db.execute(
                "SELECT text FROM timeline WHERE team_id = ? AND id = ? AND deleted_at IS NULL",
                [team_id, entry_id],
            ).fetchone()
            if row is None or row[0] == text:
                return None
            db.execute(
                "UPDATE timeline SET text = ?, updated_at = ? WHERE team_id = ? AND id = ?",
                [text, to_db(when), team_id, entry_id],
            )
            incident_id, number = _number(db, team_id, entry_id)
            add_event(db, team_id, incident_id, when, by, "entry-followed-edit", number, row[0])
        return str(row[0])

    def delete_in_slack(self, team_id: str, entry_id: int, when: datetime) -> bool:
        """The kept message was deleted in Slack: its entry is marked deleted (nobody's doing;
        its number stays used). False if it was deleted already or is the beginning or the
        resolution (those stay: only a command moves them)."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE timeline SET deleted_at = ?, deleted_by = NULL, updated_at = ? "
                "WHERE team_id = ? AND id = ? AND deleted_at IS NULL "
                "AND COALESCE(milestone, '') NOT IN (?, ?)",
                [to_db(when), to_db(when), team_id, entry_id, *(m.value for m in ONE_TIME)],
            )
            if cur.rowcount != 1:
                return False
            incident_id, number = _number(db, team_id, entry_id)
            add_event(db, team_id, incident_id, when, "", "entry-deleted-in-slack", number)
        return True

    def mark_milestone(
        self, team_id: str, entry_id: int, milestone: Milestone | None, by: str, when: datetime
    ) -> bool:
        """Set (or, with None, clear) the entry's milestone, in the log too; False if the entry
        is deleted, already says so, or is the beginning or the resolution."""
        with self.write() as db:
            row = db.execute(
                "SELECT milestone FROM timeline WHERE team_id = ? AND id = ? "
                "AND deleted_at IS NULL",
                [team_id, entry_id],
            ).fetchone()
            was = Milestone(row[0]) if row and row[0] else None
            if row is None or was is milestone or was in ONE_TIME:
                return False
            db.execute(
                "UPDATE timeline SET milestone = ?, updated_at = ? WHERE team_id = ? AND id = ?",
                [milestone.value if milestone else None, to_db(when), team_id, entry_id],
            )
            incident_id, number = _number(db, team_id, entry_id)
            detail = f"{number} {milestone.value if milestone else '-'}"
            add_event(db, team_id, incident_id, when, by, "entry-milestone", detail, was)
        return True
