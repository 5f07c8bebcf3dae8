"""What every noun module of the store shares: UTC times as sortable text, plain INSERTs, the
incident log's lines, and (re-exported) `Rows`, the connection they are written against."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from bot.store.connection import Rows

__all__ = ["Rows", "add_event", "from_db", "insert", "to_db"]


def to_db(dt: datetime) -> str:
    """Timezone-aware datetime -> sortable UTC text (`2026-11-26T14:05:00.000000+00:00`).
    Raises ValueError for a naive datetime."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


def insert(db: Database, table: str, row: dict[str, Any]) -> int:
    """A plain INSERT, returning the rowid: sqlite-utils' insert() inspects the table first,
    which costs more than the write itself on the command path."""
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" for _ in row)
    cursor = db.conn.execute(
        f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(row.values())
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def add_event(
    db: Database,
    team_id: str,
    incident_id: int,
    at: datetime,
    user_id: str,
    kind: str,
    detail: str,
    before: str | None = None,
) -> None:
    """One line of an incident's log (status history): who changed what, when (UTC), and what
    it was before where that matters (an edited entry's text, the previous commander)."""
    insert(
        db,
        "events",
        {
            "team_id": team_id,
            "incident_id": incident_id,
            "at": to_db(at),
            "user_id": user_id,
            "kind": kind,
            "detail": detail,
            "was": before,
        },
    )
