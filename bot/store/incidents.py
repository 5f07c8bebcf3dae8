"""Incidents and their log: creating one (its number, its first entry), its channel, lookups,
field changes with their log lines (`events`), and undoing a start whose channel never came."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from bot.models import Incident, Milestone, Severity, Status
from bot.store.rows import Rows, add_event, from_db, insert, to_db
from bot.store.timeline import insert_entry

# every table with an incident_id column, children of `incidents`
INCIDENT_TABLES = (
    "kept",
    "timeline",
    "owners",
    "events",
    "section_values",
    "section_assignments",
    "action_items",
    "drafts",
    "speakers",
    "reminders",
    "imports",
    "reviews",
    "review_comments",
)
UNOPENED_AFTER = timedelta(minutes=10)


def _discard(db: Database, team_id: str, where: str, params: list[Any]) -> int:
    """Delete the incidents of `team_id` matching `where`, with every row that refers to them;
    the number of incidents deleted."""
    ids = [
        r[0]
        for r in db.execute(
            f"SELECT id FROM incidents WHERE team_id = ? AND {where}", [team_id, *params]
        )
    ]
    for incident_id in ids:
        db.execute(
            "DELETE FROM echoes WHERE entry_id IN (SELECT id FROM timeline WHERE incident_id = ?)",
            [incident_id],
        )
        db.execute(
            "DELETE FROM reminder_deliveries WHERE reminder_id IN "
            "(SELECT id FROM reminders WHERE incident_id = ?)",
            [incident_id],
        )
        db.execute(
            "DELETE FROM import_proposals WHERE import_id IN "
            "(SELECT id FROM imports WHERE incident_id = ?)",
            [incident_id],
        )
        for table in INCIDENT_TABLES:
            db.execute(f"DELETE FROM [{table}] WHERE incident_id = ?", [incident_id])
        db.execute("DELETE FROM incidents WHERE id = ?", [incident_id])
    return len(ids)


def _incident(row: dict[str, Any]) -> Incident:
    return Incident(
        id=row["id"],
        team_id=row["team_id"],
        number=row["number"],
        title=row["title"],
        severity=Severity(row["severity"]),
        status=Status(row["status"]),
        private=bool(row["private"]),
        commander_id=row["commander_id"],
        created_by=row["created_by"],
        started_at=from_db(row["started_at"]),  # type: ignore[arg-type]
        channel_id=row["channel_id"],
        channel_name=row["channel_name"],
        resolved_at=from_db(row["resolved_at"]),
        deadline_at=from_db(row["deadline_at"]),
        kickoff_ts=row["kickoff_ts"],
        checklist_ts=row["checklist_ts"],
        published_at=from_db(row["published_at"]),
    )


class IncidentRows(Rows):
    """The `incidents` and `events` tables; every query scoped by team_id."""

    _by_channel: dict[tuple[str, str], Incident]  # as last read, see incident_by_channel

    def create_incident(
        self,
        *,
        team_id: str,
        title: str,
        severity: Severity,
        private: bool,
        user_id: str,
        started_at: datetime,
    ) -> Incident:
        """Allocate the workspace's next hotfix number and store the incident, atomically."""
        with self.write() as db:
            # a start that never got its channel and was never undone (the database stayed
            # busy even for that) is cleared here, long after any start could still finish it
            _discard(
                db,
                team_id,
                "channel_id IS NULL AND created_at < ?",
                [to_db(started_at - UNOPENED_AFTER)],
            )
            (number,) = db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM incidents WHERE team_id = ?", [team_id]
            ).fetchone()
            row_id = insert(
                db,
                "incidents",
                {
                    "team_id": team_id,
                    "number": number,
                    "title": title,
                    "severity": severity.value,
                    "status": Status.OPEN.value,
                    "private": int(private),
                    "commander_id": user_id,
                    "created_by": user_id,
                    "started_at": to_db(started_at),
                    "created_at": to_db(started_at),
                },
            )
            add_event(db, team_id, row_id, started_at, user_id, "opened", severity.value)
            insert_entry(
                db,
                team_id=team_id,
                incident_id=row_id,
                at=started_at,
                text=title,
                author_id=user_id,
                milestone=Milestone.BEGAN,
                source="system",
            )
        incident = self.incident(team_id, row_id)
        assert incident is not None
        return incident

    def attach_channel(
        self, incident: Incident, channel_id: str, channel_name: str, at: datetime
    ) -> Incident:
        """The incident's channel and its starter as a member, in one transaction."""
        with self.write() as db:
            db.table("members").insert(
                {
                    "team_id": incident.team_id,
                    "channel_id": channel_id,
                    "user_id": incident.created_by,
                    "joined_at": to_db(at),
                },
                ignore=True,
            )
            db.execute(
                "UPDATE incidents SET channel_id = ?, channel_name = ? "
                "WHERE team_id = ? AND id = ?",
                [channel_id, channel_name, incident.team_id, incident.id],
            )
            add_event(
                db, incident.team_id, incident.id, at, incident.created_by, "channel", channel_name
            )
        attached = self.incident(incident.team_id, incident.id)
        assert attached is not None
        return attached

    def discard_unopened(self, team_id: str, incident_id: int) -> bool:
        """Undo an `/incident start` whose channel never came: the incident and its rows go
        (its number is free again). False, and nothing changes, once it has a channel."""
        with self.write() as db:
            return _discard(db, team_id, "id = ? AND channel_id IS NULL", [incident_id]) > 0

    def incident(self, team_id: str, incident_id: int) -> Incident | None:
        row = self._one(
            "SELECT * FROM incidents WHERE team_id = ? AND id = ?", [team_id, incident_id]
        )
        return _incident(row) if row else None

    def incident_by_channel(
        self, team_id: str, channel_id: str, *, as_last_read: bool = False
    ) -> Incident | None:
        """The incident whose channel this is.

        `as_last_read` answers from memory when this process has read it before: its id,
        number, channel and start never change, but its status and people may have since. For
        callers that use only those (recording a timeline entry: no database read on the way).
        """
        key = (team_id, channel_id)
        if as_last_read and (known := self._by_channel.get(key)):
            return known
        row = self._one(
            "SELECT * FROM incidents WHERE team_id = ? AND channel_id = ?", [team_id, channel_id]
        )
        if not row:
            return None
        self._by_channel[key] = incident = _incident(row)
        return incident

    def incident_by_number(self, team_id: str, number: int) -> Incident | None:
        row = self._one(
            "SELECT * FROM incidents WHERE team_id = ? AND number = ?", [team_id, number]
        )
        return _incident(row) if row else None

    def open_incidents(self, team_id: str) -> list[Incident]:
        rows = self.db.query(
            "SELECT * FROM incidents WHERE team_id = ? AND status = ? ORDER BY number",
            [team_id, Status.OPEN.value],
        )
        return [_incident(r) for r in rows]

    def teams(self) -> list[str]:
        """Every workspace that has incidents here."""
        return [r["team_id"] for r in self.db.query("SELECT DISTINCT team_id FROM incidents")]

    def unopened(self, team_id: str, before: datetime) -> list[Incident]:
        """Incidents stored before `before` (UTC) whose start never got its channel: the
        process stopped between the two."""
        rows = self.db.query(
            "SELECT * FROM incidents WHERE team_id = ? AND channel_id IS NULL AND created_at < ?",
            [team_id, to_db(before)],
        )
        return [_incident(r) for r in rows]

    def unpublished(self, team_id: str) -> list[Incident]:
        """Resolved incidents whose post-mortem is not published yet."""
        rows = self.db.query(
            "SELECT * FROM incidents WHERE team_id = ? AND status = ? AND published_at IS NULL "
            "ORDER BY deadline_at",
            [team_id, Status.RESOLVED.value],
        )
        return [_incident(r) for r in rows]

    def update_incident(
        self,
        team_id: str,
        incident_id: int,
        *,
        at: datetime,
        user_id: str,
        event: tuple[str, ...] | None = None,
        **fields: Any,
    ) -> Incident:
        """Change an incident's fields and record what changed in its event log, in one go:
        `event` is (kind, detail) or (kind, detail, what it was before)."""
        values = {k: to_db(v) if isinstance(v, datetime) else v for k, v in fields.items()}
        with self.write() as db:
            sets = ", ".join(f"[{k}] = ?" for k in values)
            cur = db.execute(
                f"UPDATE incidents SET {sets} WHERE team_id = ? AND id = ?",
                [*values.values(), team_id, incident_id],
            )
            if cur.rowcount != 1:
                raise LookupError(f"no incident {incident_id} in team {team_id}")
            if event:
                add_event(db, team_id, incident_id, at, user_id, *event)
        incident = self.incident(team_id, incident_id)
        assert incident is not None
        return incident

    def _fresh(self, incident: Incident) -> Incident:
        found = self.incident(incident.team_id, incident.id)
        assert found is not None
        return found

    def events(self, team_id: str, incident_id: int) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT at, user_id, kind, detail, was FROM events "
            "WHERE team_id = ? AND incident_id = ? ORDER BY at, id",
            [team_id, incident_id],
        )
        return [{**r, "at": from_db(r["at"])} for r in rows]
