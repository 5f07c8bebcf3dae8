"""Drafts of the post-mortem: numbered versions (each rendered file pair kept), and the
incident's speakers (people the draft names as having taken part)."""

from __future__ import annotations

from datetime import datetime

from bot.models import Incident
from bot.store.rows import Rows, to_db


class DraftRows(Rows):
    """The `drafts` and `speakers` tables; every query scoped by team_id."""

    def speakers(self, incident: Incident) -> list[str]:
        """User ids, in the order they were added."""
        return [
            r["user_id"]
            for r in self._query(
                "SELECT user_id FROM speakers WHERE team_id = ? AND incident_id = ? ORDER BY rowid",
                [incident.team_id, incident.id],
            )
        ]

    def add_speakers(self, incident: Incident, user_ids: list[str]) -> None:
        """Add these people (once each) to the incident's speakers."""
        with self.write() as db:
            for user_id in user_ids:
                db.table("speakers").insert(
                    {"team_id": incident.team_id, "incident_id": incident.id, "user_id": user_id},
                    ignore=True,
                )

    def take_draft_version(
        self, incident: Incident, *, at: datetime, user_id: str, final: bool
    ) -> int:
        """The incident's next draft version, taken atomically (a row without text yet)."""
        with self.write() as db:
            (last,) = db.execute(
                "SELECT COALESCE(MAX(version), 0) FROM drafts "
                "WHERE team_id = ? AND incident_id = ?",
                [incident.team_id, incident.id],
            ).fetchone()
            version = int(last) + 1
            db.execute(
                "INSERT INTO drafts (team_id, incident_id, version, created_at, created_by, "
                "final) VALUES (?, ?, ?, ?, ?, ?)",
                [incident.team_id, incident.id, version, to_db(at), user_id, int(final)],
            )
        return version

    def draft_before(self, incident: Incident, version: int) -> str | None:
        """The post-mortem text of the last draft finished before `version`, if any."""
        row = self._one(
            "SELECT markdown FROM drafts WHERE team_id = ? AND incident_id = ? "
            "AND version < ? AND markdown IS NOT NULL ORDER BY version DESC LIMIT 1",
            [incident.team_id, incident.id, version],
        )
        return row["markdown"] if row else None

    def fill_draft(self, incident: Incident, version: int, postmortem: str, log: str) -> None:
        """The rendered files of a version taken with take_draft_version."""
        with self.write() as db:
            db.execute(
                "UPDATE drafts SET markdown = ?, log = ? "
                "WHERE team_id = ? AND incident_id = ? AND version = ?",
                [postmortem, log, incident.team_id, incident.id, version],
            )

    def give_back_draft_version(self, incident: Incident, version: int) -> None:
        """Forget a version that was never filled (its rendering failed)."""
        with self.write() as db:
            db.execute(
                "DELETE FROM drafts WHERE team_id = ? AND incident_id = ? AND version = ?",
                [incident.team_id, incident.id, version],
            )
