"""Reminder rows: each planned once (by key), claimed once (pending -> sending), finished once;
and their deliveries (who got which DM, and the reports made), so a restart repeats none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.models import Incident
from bot.store.rows import Rows, from_db, to_db


@dataclass(frozen=True)
class Planned:
    """A reminder to plan: its kind, its key (unique per incident), when it is due (UTC)."""

    kind: str
    key: str
    due_at: datetime
    action_item_id: int | None = None


@dataclass(frozen=True)
class Reminder:
    """A reminder as stored; `status` is pending, sending, sent, failed or cancelled."""

    id: int
    team_id: str
    incident_id: int
    kind: str
    key: str
    due_at: datetime
    status: str
    attempts: int
    action_item_id: int | None


def _reminder(row: dict[str, Any]) -> Reminder:
    return Reminder(
        id=row["id"],
        team_id=row["team_id"],
        incident_id=row["incident_id"],
        kind=row["kind"],
        key=row["key"],
        due_at=from_db(row["due_at"]),  # type: ignore[arg-type]
        status=row["status"],
        attempts=row["attempts"] or 0,
        action_item_id=row["action_item_id"],
    )


def _insert(db: Any, incident: Incident | tuple[str, int], planned: list[Planned]) -> list[int]:
    """Plan each reminder once; one cancelled before (a deadline that comes back, after a
    reopen or a moved resolution) is planned again. `incident`: the incident, or (team id, 0)
    for a workspace's own reminders (the digest). Returns the ids now pending anew."""
    team_id, incident_id = (
        (incident.team_id, incident.id) if isinstance(incident, Incident) else incident
    )
    new = []
    for p in planned:
        cur = db.execute(
            "INSERT INTO reminders (team_id, incident_id, kind, key, due_at, status, "
            "action_item_id, attempts) VALUES (?, ?, ?, ?, ?, 'pending', ?, 0) "
            "ON CONFLICT (team_id, incident_id, key) DO UPDATE SET status = 'pending', "
            "due_at = excluded.due_at, attempts = 0, last_error = NULL "
            "WHERE reminders.status = 'cancelled'",
            [team_id, incident_id, p.kind, p.key, to_db(p.due_at), p.action_item_id],
        )
        if cur.rowcount:
            (row_id,) = db.execute(
                "SELECT id FROM reminders WHERE team_id = ? AND incident_id = ? AND key = ?",
                [team_id, incident_id, p.key],
            ).fetchone()
            new.append(row_id)
    return new


class ReminderRows(Rows):
    """The `reminders` and `reminder_deliveries` tables."""

    def add_reminders(self, incident: Incident, planned: list[Planned]) -> list[Reminder]:
        """Insert what is not planned yet (idempotent); returns the new pending reminders."""
        with self.write() as db:
            new = _insert(db, incident, planned)
        return [self.reminder(i) for i in new]

    def replace_snooze(self, incident: Incident, planned: Planned) -> list[Reminder]:
        """Plan one person's snooze (`planned`, see reminders.plan_snooze) and cancel their
        other pending snoozes of the same thing (the deadline, or that action item): the
        latest choice stands, one transaction. The new pending reminder, if any."""
        person = planned.key.split("@", 1)[0] + "@"  # `snooze:U1@`
        with self.write() as db:
            db.execute(
                "UPDATE reminders SET status = 'cancelled' WHERE team_id = ? AND incident_id = ? "
                "AND status = 'pending' AND kind = ? AND action_item_id IS ? AND key != ? "
                "AND substr(key, 1, ?) = ?",
                [
                    incident.team_id,
                    incident.id,
                    planned.kind,
                    planned.action_item_id,
                    planned.key,
                    len(person),
                    person,
                ],
            )
            new = _insert(db, incident, [planned])
        return [self.reminder(i) for i in new]

    def replan_reminders(
        self,
        incident: Incident,
        kinds: tuple[str, ...],
        wanted: list[Planned],
        *,
        spare: tuple[str, ...] = (),
        while_due_at: datetime | None = None,
    ) -> list[Reminder]:
        """Make the pending reminders of these kinds exactly `wanted`: re-time the ones that
        stay, cancel the others (but those of a kind in `spare`), add the missing, in one
        transaction; the new pending ones. With `while_due_at`, only while the incident is
        resolved, unpublished and due then (a reopen meanwhile took that deadline away)."""
        by_key = {p.key: p for p in wanted}
        marks = ", ".join("?" for _ in kinds)
        condition, params = (
            ("status = 'resolved' AND published_at IS NULL AND deadline_at = ?", [to_db(d)])
            if (d := while_due_at) is not None
            else ("1", [])
        )
        with self.write() as db:
            holds = db.execute(
                f"SELECT 1 FROM incidents WHERE team_id = ? AND id = ? AND ({condition})",
                [incident.team_id, incident.id, *params],
            ).fetchone()
            if not holds:
                return []
            rows = list(
                db.query(
                    f"SELECT id, key, kind FROM reminders WHERE team_id = ? AND incident_id = ? "
                    f"AND status = 'pending' AND kind IN ({marks})",
                    [incident.team_id, incident.id, *kinds],
                )
            )
            for row in rows:
                keep = by_key.get(row["key"])
                if keep is not None:
                    db.execute(
                        "UPDATE reminders SET due_at = ? WHERE id = ?",
                        [to_db(keep.due_at), row["id"]],
                    )
                elif row["kind"] not in spare:
                    db.execute(
                        "UPDATE reminders SET status = 'cancelled' WHERE id = ?", [row["id"]]
                    )
            new = _insert(db, incident, wanted)
        return [self.reminder(i) for i in new]

    def replan_digest(self, team_id: str, wanted: Planned | None, now: datetime) -> list[Reminder]:
        """The workspace's pending digest rows (incident_id 0, kind of `wanted`: `digest`)
        become `wanted`: the others not yet due are cancelled (planned under other settings),
        those already due stay (to go out once, late); `wanted` is added unless planned. One
        transaction; the new pending rows."""
        with self.write() as db:
            db.execute(
                "UPDATE reminders SET status = 'cancelled' WHERE team_id = ? AND incident_id = 0 "
                "AND kind = 'digest' AND status = 'pending' AND due_at > ? AND key != ?",
                [team_id, to_db(now), wanted.key if wanted else ""],
            )
            new = _insert(db, (team_id, 0), [wanted] if wanted else [])
        return [self.reminder(i) for i in new]

    def cancel_reminders(self, incident: Incident, kinds: tuple[str, ...]) -> int:
        """The incident's reminders of these kinds that have not gone out never will; how many."""
        marks = ", ".join("?" for _ in kinds)
        with self.write() as db:
            cur = db.execute(
                "UPDATE reminders SET status = 'cancelled' WHERE team_id = ? AND incident_id = ? "
                f"AND status IN ('pending', 'sending') AND kind IN ({marks})",
                [incident.team_id, incident.id, *kinds],
            )
        return int(cur.rowcount)

    def reminder(self, reminder_id: int) -> Reminder:
        rows = list(self._query("SELECT * FROM reminders WHERE id = ?", [reminder_id]))
        return _reminder(rows[0])

    def pending_reminders(self) -> list[Reminder]:
        """Pending and half-sent reminders of every workspace, the soonest due first."""
        rows = self._query(
            "SELECT * FROM reminders WHERE status IN ('pending', 'sending') ORDER BY due_at, id",
            [],
        )
        return [_reminder(r) for r in rows]

    def incident_reminders(
        self, team_id: str, incident_id: int, kinds: tuple[str, ...]
    ) -> list[Reminder]:
        """The incident's pending (or half-sent) reminders of these kinds, the soonest first."""
        marks = ", ".join("?" for _ in kinds)
        rows = self._query(
            "SELECT * FROM reminders WHERE team_id = ? AND incident_id = ? "
            f"AND status IN ('pending', 'sending') AND kind IN ({marks}) ORDER BY due_at, id",
            [team_id, incident_id, *kinds],
        )
        return [_reminder(r) for r in rows]

    def reminder_plans(
        self, team_id: str, incident_id: int, kind: str
    ) -> list[tuple[str, datetime]]:
        """(key, due_at UTC) of the incident's reminders of this kind, not cancelled."""
        rows = self._query(
            "SELECT key, due_at FROM reminders WHERE team_id = ? AND incident_id = ? AND kind = ? "
            "AND status != 'cancelled'",
            [team_id, incident_id, kind],
        )
        return [(r["key"], from_db(r["due_at"])) for r in rows]  # type: ignore[misc]

    def defer_reminder(self, reminder_id: int, at: datetime) -> None:
        """sending -> pending, due at `at` (UTC), the claim's attempt given back."""
        with self.write() as db:
            db.execute(
                "UPDATE reminders SET status = 'pending', due_at = ?, "
                "attempts = MAX(attempts - 1, 0) WHERE id = ? AND status = 'sending'",
                [to_db(at), reminder_id],
            )

    def claim_reminder(self, reminder_id: int) -> bool:
        """pending -> sending, attempts + 1; False if it was not pending."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE reminders SET status = 'sending', attempts = attempts + 1 "
                "WHERE id = ? AND status = 'pending'",
                [reminder_id],
            )
        return bool(cur.rowcount)

    def release_reminder(self, reminder_id: int, max_attempts: int) -> None:
        """sending -> pending again, or failed once `max_attempts` were made."""
        with self.write() as db:
            db.execute(
                "UPDATE reminders SET status = CASE WHEN attempts >= ? THEN 'failed' "
                "ELSE 'pending' END WHERE id = ? AND status = 'sending'",
                [max_attempts, reminder_id],
            )

    def recover_reminders(self) -> int:
        """Every half-sent reminder back to pending; how many."""
        with self.write() as db:
            cur = db.execute("UPDATE reminders SET status = 'pending' WHERE status = 'sending'")
        return int(cur.rowcount)

    def finish_reminder(
        self, reminder_id: int, status: str, at: datetime, error: str | None
    ) -> None:
        with self.write() as db:
            db.execute(
                "UPDATE reminders SET status = ?, sent_at = ?, last_error = ? WHERE id = ?",
                [status, to_db(at), error, reminder_id],
            )

    def retry_reminder(self, reminder_id: int, at: datetime, error: str) -> None:
        """Pending again, due at `at` (UTC), with the error that stopped it."""
        with self.write() as db:
            db.execute(
                "UPDATE reminders SET status = 'pending', due_at = ?, last_error = ? WHERE id = ?",
                [to_db(at), error, reminder_id],
            )

    # --- deliveries ------------------------------------------------------------------------

    def reminder_deliveries(self, reminder_id: int) -> dict[str, str]:
        """User id (or `channel:C..`, or a report's key) -> the message's ts, or `failed:..`."""
        rows = self._query(
            "SELECT user_id, ts FROM reminder_deliveries WHERE reminder_id = ?", [reminder_id]
        )
        return {r["user_id"]: r["ts"] or "" for r in rows}

    def incident_delivered(self, team_id: str, incident_id: int, key: str) -> bool:
        """Whether any reminder of the incident recorded a delivery to (or report) `key`."""
        row = self.db.execute(
            "SELECT 1 FROM reminder_deliveries d JOIN reminders r ON r.id = d.reminder_id "
            "WHERE r.team_id = ? AND r.incident_id = ? AND d.user_id = ? LIMIT 1",
            [team_id, incident_id, key],
        ).fetchone()
        return row is not None

    def record_delivery(
        self, reminder_id: int, user_id: str, channel: str, ts: str, at: datetime
    ) -> None:
        """Once per (reminder, recipient); a second record of the same is ignored."""
        with self.write() as db:
            db.table("reminder_deliveries").insert(
                {
                    "reminder_id": reminder_id,
                    "user_id": user_id,
                    "channel": channel,
                    "ts": ts,
                    "sent_at": to_db(at),
                },
                ignore=True,
            )
