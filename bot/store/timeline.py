"""Timeline rows: entries with their stable numbers, and the channel messages that show them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from bot import budget
from bot.errors import Conflict
from bot.group_commit import GroupCommit
from bot.models import ONE_TIME, Entry, Incident, Milestone
from bot.store.rows import Rows, add_event, from_db, insert, to_db


def _entry(row: dict[str, Any]) -> Entry:
    return Entry(
        id=row["id"],
        incident_id=row["incident_id"],
        at=from_db(row["at"]),  # type: ignore[arg-type]
        text=row["text"],
        author_id=row["author_id"],
        milestone=Milestone(row["milestone"]) if row["milestone"] else None,
        source=row["source"],
        number=row["number"] or 0,
        deleted_at=from_db(row["deleted_at"]),
        deleted_by=row["deleted_by"],
        edited_by=row["edited_by"],
        kept_by=row["kept_by"],
        message_ts=row["message_ts"],
        permalink=row.get("permalink"),
    )


def insert_entry(
    db: Database,
    *,
    team_id: str,
    incident_id: int,
    at: datetime,
    text: str,
    author_id: str,
    milestone: Milestone | None,
    source: str,
    message_ts: str | None = None,
    kept_by: str | None = None,
) -> tuple[int, int]:
    """Store an entry with the incident's next number (never one used before, even by a
    deleted entry); returns (row id, number). Inside a write transaction."""
    (number,) = db.conn.execute(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM timeline WHERE team_id = ? AND incident_id = ?",
        [team_id, incident_id],
    ).fetchone()
    now = to_db(datetime.now(UTC))
    row_id = insert(
        db,
        "timeline",
        {
            "team_id": team_id,
            "incident_id": incident_id,
            "number": number,
            "at": to_db(at),
            "text": text,
            "milestone": milestone.value if milestone else None,
            "author_id": author_id,
            "source": source,
            "message_ts": message_ts,
            "kept_by": kept_by,
            "created_at": now,
            "updated_at": now,
        },
    )
    return row_id, number


class TimelineRows(Rows):
    """The `timeline` and `echoes` tables; every query scoped by team_id."""

    _entries: GroupCommit  # the one writer thread for new entries (see Store)

    def add_entry(self, incident: Incident, **fields: Any) -> Entry:
        """Store a timeline entry; entries that arrive together are committed together.
        (Not from inside a write(): the writer thread would wait for this one's transaction.)"""
        row_id, number = self._entries.submit(
            lambda db: insert_entry(
                db, team_id=incident.team_id, incident_id=incident.id, **fields
            ),
            budget.left(),  # what is left of the time to answer, if someone waits for one
        )
        return Entry(  # as stored, without reading it back
            id=row_id,
            incident_id=incident.id,
            at=fields["at"].astimezone(UTC),
            text=fields["text"],
            author_id=fields["author_id"],
            milestone=fields["milestone"],
            source=fields["source"],
            number=number,
            kept_by=fields.get("kept_by"),
            message_ts=fields.get("message_ts"),
        )

    def entry(self, team_id: str, entry_id: int) -> Entry:
        row = self._one("SELECT * FROM timeline WHERE team_id = ? AND id = ?", [team_id, entry_id])
        assert row is not None
        return _entry(row)

    def entry_by_number(self, incident: Incident, number: int) -> Entry | None:
        """Entry #number of the incident, deleted or not."""
        row = self._one(
            "SELECT * FROM timeline WHERE team_id = ? AND incident_id = ? AND number = ?",
            [incident.team_id, incident.id, number],
        )
        return _entry(row) if row else None

    def entry_for_message(self, incident: Incident, message_ts: str) -> Entry | None:
        """The entry that keeps this channel message, deleted or not."""
        row = self._one(
            "SELECT * FROM timeline WHERE team_id = ? AND incident_id = ? AND message_ts = ?",
            [incident.team_id, incident.id, message_ts],
        )
        return _entry(row) if row else None

    def entries(self, team_id: str, incident_id: int, *, deleted: bool = False) -> list[Entry]:
        """The timeline in order: by time, then by number. Deleted entries only if asked."""
        rows = self._query(
            "SELECT * FROM timeline WHERE team_id = ? AND incident_id = ?"
            + ("" if deleted else " AND deleted_at IS NULL")
            + " ORDER BY at, number",
            [team_id, incident_id],
        )
        return [_entry(r) for r in rows]

    def update_entry(
        self,
        team_id: str,
        entry_id: int,
        *,
        at: datetime,
        text: str,
        milestone: Milestone | None,
        by: str,
        when: datetime,
    ) -> Entry:
        """Change an entry (its number stays) and note who changed it, in the incident log too."""
        with self.write() as db:
            live = db.execute(
                "SELECT milestone FROM timeline "
                "WHERE team_id = ? AND id = ? AND deleted_at IS NULL",
                [team_id, entry_id],
            ).fetchone()
            was = Milestone(live[0]) if live and live[0] else None
            if live is None or (was in ONE_TIME) != (milestone in ONE_TIME):
                raise Conflict("Someone changed that entry a moment ago; nothing changed.")
            said = self._update(db, team_id, entry_id, at=at, text=text, milestone=milestone)
            self._edited(db, team_id, entry_id, by, when, "entry-edited", said)
        return self.entry(team_id, entry_id)

    def _update(
        self,
        db: Database,
        team_id: str,
        entry_id: int,
        *,
        at: datetime,
        text: str,
        milestone: Milestone | None,
    ) -> str:
        """Change the entry; returns the text it had before."""
        (was,) = db.execute(
            "SELECT text FROM timeline WHERE team_id = ? AND id = ?", [team_id, entry_id]
        ).fetchone()
        db.execute(
            "UPDATE timeline SET at = ?, text = ?, milestone = ? WHERE team_id = ? AND id = ?",
            [to_db(at), text, milestone.value if milestone else None, team_id, entry_id],
        )
        return str(was)

    def _edited(
        self,
        db: Database,
        team_id: str,
        entry_id: int,
        by: str,
        when: datetime,
        kind: str,
        before: str | None = None,
    ) -> None:
        """Note who changed the entry and when, in the entry and in the incident log (with
        what it said `before`, for an edit)."""
        db.execute(
            "UPDATE timeline SET edited_by = ?, edited_at = ?, updated_at = ? "
            "WHERE team_id = ? AND id = ?",
            [by, to_db(when), to_db(when), team_id, entry_id],
        )
        row = db.execute(
            "SELECT incident_id, number FROM timeline WHERE id = ?", [entry_id]
        ).fetchone()
        add_event(db, team_id, row[0], when, by, kind, f"#{row[1]}", before)

    def delete_entry(self, team_id: str, entry_id: int, *, by: str, when: datetime) -> Entry:
        """Mark an entry deleted: it leaves the timeline, its number is never used again.
        Conflict if it was deleted (or became the beginning or the resolution) meanwhile."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE timeline SET deleted_at = ?, deleted_by = ? WHERE team_id = ? AND id = ? "
                "AND deleted_at IS NULL AND COALESCE(milestone, '') NOT IN (?, ?)",
                [to_db(when), by, team_id, entry_id, *(m.value for m in ONE_TIME)],
            )
            if cur.rowcount != 1:
                raise Conflict("Someone changed that entry a moment ago; nothing was deleted.")
            self._edited(db, team_id, entry_id, by, when, "entry-deleted")
        return self.entry(team_id, entry_id)

    def restore_entry(self, team_id: str, entry_id: int, *, by: str, when: datetime) -> Entry:
        """Bring a deleted entry back (a message kept again), under its old number."""
        with self.write() as db:
            db.execute(
                "UPDATE timeline SET deleted_at = NULL, deleted_by = NULL "
                "WHERE team_id = ? AND id = ?",
                [team_id, entry_id],
            )
            self._edited(db, team_id, entry_id, by, when, "entry-restored")
        return self.entry(team_id, entry_id)

    def deleted_numbers(self, incident: Incident) -> list[int]:
        rows = self._query(
            "SELECT number FROM timeline WHERE team_id = ? AND incident_id = ? "
            "AND deleted_at IS NOT NULL ORDER BY number",
            [incident.team_id, incident.id],
        )
        return [r["number"] for r in rows]

    # --- the channel messages that show entries (the bot's echoes) -------------------------

    def record_echo(
        self, team_id: str, channel_id: str, ts: str, entry_ids: list[int], at: datetime
    ) -> None:
        """Message `ts` in the channel shows these entries (each entry is shown by one)."""
        with self.write() as db:
            for entry_id in entry_ids:
                db.execute("DELETE FROM echoes WHERE entry_id = ?", [entry_id])
                insert(
                    db,
                    "echoes",
                    {
                        "team_id": team_id,
                        "channel_id": channel_id,
                        "ts": ts,
                        "entry_id": entry_id,
                        "posted_at": to_db(at),
                    },
                )

    def unechoed(self, team_id: str, since: datetime) -> list[Entry]:
        """Entries typed with `/timeline` since `since` (UTC) that no message in their channel
        shows yet (the process stopped before it posted them), oldest first."""
        rows = self._query(
            "SELECT timeline.* FROM timeline LEFT JOIN echoes ON echoes.entry_id = timeline.id "
            "WHERE timeline.team_id = ? AND timeline.source = 'command' "
            "AND timeline.deleted_at IS NULL AND echoes.entry_id IS NULL "
            "AND timeline.created_at >= ? ORDER BY timeline.id",
            [team_id, to_db(since)],
        )
        return [_entry(r) for r in rows]

    def echo_of(self, team_id: str, entry_id: int) -> tuple[str, str] | None:
        """(channel, ts) of the message that shows the entry, if the bot posted one."""
        row = self._one(
            "SELECT channel_id, ts FROM echoes WHERE team_id = ? AND entry_id = ?",
            [team_id, entry_id],
        )
        return (row["channel_id"], row["ts"]) if row else None

    def echoed_entries(self, team_id: str, channel_id: str, ts: str) -> list[Entry]:
        """The entries message `ts` shows, deleted or not, by number."""
        rows = self._query(
            "SELECT timeline.* FROM echoes JOIN timeline ON timeline.id = echoes.entry_id "
            "WHERE echoes.team_id = ? AND echoes.channel_id = ? AND echoes.ts = ? "
            "ORDER BY timeline.number",
            [team_id, channel_id, ts],
        )
        return [_entry(r) for r in rows]
