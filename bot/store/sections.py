"""Section values: what people wrote in each field of each post-mortem section, by whom, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.models import Incident
from bot.store.rows import Rows, to_db


class SectionRows(Rows):
    """The `section_values` table; every query scoped by team_id."""

    def section_rows(self, incident: Incident) -> list[dict[str, Any]]:
        """Every written field of the incident: dicts of section, field, value, author_id, the
        least recently updated first."""
        return list(
            self._query(
                "SELECT section, field, value, author_id FROM section_values "
                "WHERE team_id = ? AND incident_id = ? ORDER BY updated_at",
                [incident.team_id, incident.id],
            )
        )

    def section_values(self, incident: Incident, section_key: str) -> dict[str, str]:
        """Field key -> value of one section of the incident."""
        rows = self._query(
            "SELECT field, value FROM section_values "
            "WHERE team_id = ? AND incident_id = ? AND section = ?",
            [incident.team_id, incident.id, section_key],
        )
        return {r["field"]: r["value"] for r in rows}

    def set_section_values(
        self,
        incident: Incident,
        section_key: str,
        values: dict[str, str],
        *,
        author_id: str,
        at: datetime,
    ) -> None:
        """Store these fields of the section (field key -> value), each by `author_id` at `at`
        (UTC), in one transaction."""
        now = to_db(at)
        with self.write() as db:
            for field, value in values.items():
                db.table("section_values").upsert(
                    {
                        "team_id": incident.team_id,
                        "incident_id": incident.id,
                        "section": section_key,
                        "field": field,
                        "value": value,
                        "author_id": author_id,
                        "updated_at": now,
                    },
                    pk=("team_id", "incident_id", "section", "field"),
                )
