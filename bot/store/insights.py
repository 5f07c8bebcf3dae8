"""What the insights read: per incident, when it began, the first time of each response
milestone and its post-mortem's deadline and publication; and its action items."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import NamedTuple

from bot.models import Milestone
from bot.store.rows import Rows, from_db, to_db

# The milestones whose first (non-deleted) entry the figures read, by column name.
FIRSTS = {
    "detected": Milestone.DETECTED,
    "investigating": Milestone.INVESTIGATING,
    "root_cause": Milestone.ROOT_CAUSE,
    "deployed": Milestone.DEPLOYED,
}


class IncidentFacts(NamedTuple):
    """One incident as the insights see it (times UTC). `began`: its "Incident began" entry
    (people may move it), else when it was started. `detected` ... `deployed`: the earliest
    entry of that milestone that is not deleted, None without one. `closed`: when it was
    resolved ("Incident closed", moved together with it; None while open)."""

    id: int
    number: int
    severity: str
    began: datetime
    detected: datetime | None
    investigating: datetime | None
    root_cause: datetime | None
    deployed: datetime | None
    closed: datetime | None
    deadline_at: datetime | None
    published_at: datetime | None


class ActionFacts(NamedTuple):
    """One action item: its incident, when it was added and done (UTC; None while open), and
    the day it is due (None: undated)."""

    incident_id: int
    created_at: datetime | None
    done_at: datetime | None
    due: date | None


def _first(milestone: Milestone) -> str:
    # one seek per incident on timeline_milestones (migration m011)
    return (
        "(SELECT MIN(t.at) FROM timeline AS t WHERE t.team_id = i.team_id "
        f"AND t.incident_id = i.id AND t.milestone = '{milestone.value}' "
        "AND t.deleted_at IS NULL)"
    )


class InsightRows(Rows):
    """Reads across a workspace's incidents for bot/insights.py; every query scoped by team_id."""

    def incident_facts(
        self, team_id: str, since: datetime, until: datetime, severities: Sequence[str] = ()
    ) -> list[IncidentFacts]:
        """The incidents (with a channel: a start that never opened one is no incident) that
        began in [since, until) or were resolved in it, of these severities (empty: all), in
        the order they began."""
        firsts = ", ".join(f"{_first(m)} AS {name}" for name, m in FIRSTS.items())
        marks = ", ".join("?" for _ in severities)
        rows = self._query(
            "WITH facts AS (SELECT i.id, i.number, i.severity, i.resolved_at AS closed, "
            "i.deadline_at, i.published_at, "
            f"COALESCE({_first(Milestone.BEGAN)}, i.started_at) AS began, {firsts} "
            "FROM incidents AS i WHERE i.team_id = ? AND i.channel_id IS NOT NULL"
            + (f" AND i.severity IN ({marks})" if severities else "")
            + ") SELECT * FROM facts WHERE (began >= ? AND began < ?) "
            "OR (closed >= ? AND closed < ?) ORDER BY began, number",
            [team_id, *severities, *[to_db(since), to_db(until)] * 2],
        )
        return [
            IncidentFacts(
                id=r["id"],
                number=r["number"],
                severity=r["severity"],
                began=from_db(r["began"]),  # type: ignore[arg-type]
                **{name: from_db(r[name]) for name in (*FIRSTS, "closed")},
                deadline_at=from_db(r["deadline_at"]),
                published_at=from_db(r["published_at"]),
            )
            for r in rows
        ]

    def action_facts(self, team_id: str, incident_ids: Iterable[int]) -> list[ActionFacts]:
        """The action items of these incidents, in the order they were added."""
        rows = self._query(
            "SELECT incident_id, created_at, done_at, due FROM action_items WHERE team_id = ? "
            "AND incident_id IN (SELECT value FROM json_each(?)) ORDER BY id",
            [team_id, json.dumps(list(incident_ids))],
        )
        return [
            ActionFacts(
                incident_id=r["incident_id"],
                created_at=from_db(r["created_at"]),
                done_at=from_db(r["done_at"]),
                due=date.fromisoformat(r["due"]) if r["due"] else None,
            )
            for r in rows
        ]
