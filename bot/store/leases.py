"""Leases: which process holds a named duty (sending reminders) on this database, and until when
(UTC); another process takes it over once it expires or its holder is known dead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.store.rows import Rows, from_db, to_db


class LeaseRows(Rows):
    """The `leases` table (one row per duty, for the whole database)."""

    def take_lease(
        self,
        name: str,
        holder: str,
        *,
        now: datetime,
        until: datetime,
        is_dead: Callable[[str], bool],
    ) -> bool:
        """Hold (or renew) lease `name` for `holder` until `until`, in one transaction; False,
        and nothing changes, while another holder's lease runs past `now` and `is_dead` does
        not say that holder is gone."""
        with self.write() as db:
            rows = list(db.query("SELECT holder, expires_at FROM leases WHERE name = ?", [name]))
            expires = from_db(rows[0]["expires_at"]) if rows else None
            current = rows[0]["holder"] if rows else holder
            if current != holder and expires and expires > now and not is_dead(current):
                return False
            db.table("leases").upsert(
                {"name": name, "holder": holder, "expires_at": to_db(until)}, pk="name"
            )
        return True

    def drop_lease(self, name: str, holder: str) -> None:
        """Give lease `name` up, if `holder` holds it."""
        with self.write() as db:
            db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder])
