"""Action items: the post-mortem's follow-ups, numbered per incident, their owners and due
dates, whether they are done, and the DM that reminds the owner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, NamedTuple

from bot.models import ActionItem, Incident, Priority
from bot.store.rows import Rows, to_db


class Deciders(NamedTuple):
    """Who may close an item, as stored when it is closed: its owner, whoever added it, and
    its incident's commander; with its number (AI-<number>)."""

    owner_id: str | None
    created_by: str
    number: int
    commander_id: str


def _action(row: dict[str, Any]) -> ActionItem:
    return ActionItem(
        id=row["id"],
        incident_id=row["incident_id"],
        number=row["number"],
        text=row["text"],
        priority=Priority(row["priority"]),
        owner_id=row["owner_id"],
        due=date.fromisoformat(row["due"]) if row["due"] else None,
        why=row["why"],
        done=row["status"] == "done",
        dm_channel=row["dm_channel"],
        dm_ts=row["dm_ts"],
    )


class ActionRows(Rows):
    """The `action_items` table; every query scoped by team_id."""

    def add_action_item(
        self,
        incident: Incident,
        *,
        text: str,
        owner_id: str | None,
        due: date | None,
        priority: Priority,
        why: str | None,
        created_by: str,
        at: datetime,
        source: str | None,
    ) -> tuple[int, bool]:
        """Store an open item with the incident's next number, in one transaction: (its id,
        True). An item made before from the same `source` is not made again: (its id, False)."""
        with self.write() as db:
            if source is not None:
                made = db.execute(
                    "SELECT id FROM action_items WHERE team_id = ? AND source = ?",
                    [incident.team_id, source],
                ).fetchone()
                if made is not None:
                    return int(made[0]), False
            (number,) = db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM action_items "
                "WHERE team_id = ? AND incident_id = ?",
                [incident.team_id, incident.id],
            ).fetchone()
            row_id = (
                db.table("action_items")
                .insert(
                    {
                        "team_id": incident.team_id,
                        "incident_id": incident.id,
                        "number": number,
                        "text": text,
                        "owner_id": owner_id,
                        "due": due.isoformat() if due else None,
                        "priority": priority.value,
                        "why": why,
                        "status": "open",
                        "created_by": created_by,
                        "created_at": to_db(at),
                        "source": source,
                    }
                )
                .last_rowid
            )
        return int(row_id or 0), True

    def action_item(self, team_id: str, action_id: int) -> ActionItem | None:
        row = self._one(
            "SELECT * FROM action_items WHERE team_id = ? AND id = ?", [team_id, action_id]
        )
        return _action(row) if row else None

    def action_item_by_number(
        self, incident: Incident, number: int
    ) -> tuple[ActionItem, str] | None:
        """Item AI-<number> of the incident and who added it."""
        row = self._one(
            "SELECT * FROM action_items WHERE team_id = ? AND incident_id = ? AND number = ?",
            [incident.team_id, incident.id, number],
        )
        return (_action(row), row["created_by"]) if row else None

    def action_items(self, incident: Incident) -> list[ActionItem]:
        """The incident's items by number."""
        rows = self._query(
            "SELECT * FROM action_items WHERE team_id = ? AND incident_id = ? ORDER BY number",
            [incident.team_id, incident.id],
        )
        return [_action(r) for r in rows]

    def open_action_items_of(self, team_id: str, owner_id: str) -> list[ActionItem]:
        """The open items `owner_id` owns, in every incident: soonest due first, undated last."""
        rows = self._query(
            "SELECT * FROM action_items WHERE team_id = ? AND owner_id = ? AND status = 'open' "
            "ORDER BY due IS NULL, due, id",
            [team_id, owner_id],
        )
        return [_action(r) for r in rows]

    def overdue_action_items(self, team_id: str, before: date) -> list[ActionItem]:
        """The workspace's open items due before `before` (their due day has ended), the
        longest overdue first."""
        rows = self._query(
            "SELECT * FROM action_items WHERE team_id = ? AND status = 'open' AND due < ? "
            "ORDER BY due, incident_id, number",
            [team_id, before.isoformat()],
        )
        return [_action(r) for r in rows]

    def incidents_with_open_actions(self, team_id: str) -> list[int]:
        """The ids of the workspace's incidents with an open item that has a due date."""
        rows = self._query(
            "SELECT DISTINCT incident_id FROM action_items WHERE team_id = ? AND status = 'open' "
            "AND due IS NOT NULL ORDER BY incident_id",
            [team_id],
        )
        return [r["incident_id"] for r in rows]

    def action_item_incidents(self, team_id: str, action_id: int) -> list[int]:
        """The id of the item's incident (none if there is no such item)."""
        return [
            r["incident_id"]
            for r in self._query(
                "SELECT incident_id FROM action_items WHERE team_id = ? AND id = ?",
                [team_id, action_id],
            )
        ]

    def update_action_item(self, team_id: str, action_id: int, **fields: Any) -> None:
        """Set these columns of the item (text, owner_id, due as ISO text, priority, why)."""
        with self.write() as db:
            db.execute(
                f"UPDATE action_items SET {', '.join(f'[{k}] = ?' for k in fields)} "
                "WHERE team_id = ? AND id = ?",
                [*fields.values(), team_id, action_id],
            )

    def close_action_item(
        self, team_id: str, action_id: int, *, at: datetime, check: Callable[[Deciders], None]
    ) -> bool | None:
        """Mark the item done at `at` (UTC), in one transaction after `check` (which raises to
        refuse) has seen who may: whether this call closed it; None if there is no such item."""
        with self.write() as db:
            row = db.execute(
                "SELECT a.owner_id, a.created_by, a.number, i.commander_id FROM action_items AS a "
                "JOIN incidents AS i ON i.id = a.incident_id WHERE a.team_id = ? AND a.id = ?",
                [team_id, action_id],
            ).fetchone()
            if row is None:
                return None
            check(Deciders(*row))
            cur = db.execute(
                "UPDATE action_items SET status = 'done', done_at = ? "
                "WHERE team_id = ? AND id = ? AND status = 'open'",
                [to_db(at), team_id, action_id],
            )
        return bool(cur.rowcount == 1)

    def record_action_dm(self, team_id: str, action_id: int, channel: str, ts: str) -> None:
        """The DM (channel, ts) that shows the item to its owner."""
        with self.write() as db:
            db.execute(
                "UPDATE action_items SET dm_channel = ?, dm_ts = ? WHERE team_id = ? AND id = ?",
                [channel, ts, team_id, action_id],
            )
