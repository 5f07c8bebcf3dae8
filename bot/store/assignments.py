"""Sections given to people: who writes which section of an incident's post-mortem, who gave it
to them and when (UTC). Every query scoped by team_id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models import Incident
from bot.store.rows import Rows, from_db, to_db


@dataclass(frozen=True)
class Assignment:
    """Section `section` (its key in the team's template) is `user_id`'s to write, given by
    `assigned_by` at `assigned_at` (UTC)."""

    section: str
    user_id: str
    assigned_by: str
    assigned_at: datetime


class AssignmentRows(Rows):
    """The `section_assignments` table."""

    def assignments(self, incident: Incident) -> dict[str, Assignment]:
        """Section key -> its assignment, for the sections of the incident given to someone."""
        rows = self._query(
            "SELECT section, user_id, assigned_by, assigned_at FROM section_assignments "
            "WHERE team_id = ? AND incident_id = ? ORDER BY assigned_at, section",
            [incident.team_id, incident.id],
        )
        found = {}
        for row in rows:
            at = from_db(row["assigned_at"])
            assert at is not None
            found[row["section"]] = Assignment(
                row["section"], row["user_id"], row["assigned_by"], at
            )
        return found

    def assign_section(
        self, incident: Incident, section_key: str, user_id: str | None, *, by: str, at: datetime
    ) -> str | None:
        """Give the section to `user_id` (None: to nobody, the post-mortem owners'), by `by` at
        `at` (UTC), in one transaction; returns whose it was before (None: nobody's). Giving it
        to whoever has it already changes nothing, not even its time."""
        with self.write() as db:
            row = db.execute(
                "SELECT user_id FROM section_assignments "
                "WHERE team_id = ? AND incident_id = ? AND section = ?",
                [incident.team_id, incident.id, section_key],
            ).fetchone()
            before = row[0] if row else None
            if before == user_id:
                return before
            if user_id is None:
                db.execute(
                    "DELETE FROM section_assignments "
                    "WHERE team_id = ? AND incident_id = ? AND section = ?",
                    [incident.team_id, incident.id, section_key],
                )
            else:
                db.execute(
                    "INSERT OR REPLACE INTO section_assignments "
                    "(team_id, incident_id, section, user_id, assigned_by, assigned_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [incident.team_id, incident.id, section_key, user_id, by, to_db(at)],
                )
        return before
