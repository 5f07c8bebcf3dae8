"""What every part of the store shares: UTC times as sortable text, plain INSERTs, and the
connection and write transaction that `Store` provides."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database


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


class Rows:
    """The part of `Store` that the table groups (timeline, people) are written against."""

    @property
    def db(self) -> Database:
        raise NotImplementedError

    def write(self, wait_s: float | None = None) -> AbstractContextManager[Database]:
        raise NotImplementedError

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        rows = list(self.db.query(sql, params))
        return rows[0] if rows else None

    def _query(self, sql: str, params: list[Any]) -> Iterator[dict[str, Any]]:
        return self.db.query(sql, params)
