"""Storage: one SQLite file (WAL) through sqlite-utils; every query is scoped by Slack team_id."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.checkpoint import Checkpointer
from bot.errors import BotError
from bot.group_commit import GroupCommit
from bot.migrations import migrations
from bot.models import Entry, Incident, Milestone, Severity, Status

BUSY_TIMEOUT_S = 2.0  # what a write waits for another process's lock; Slack allows 3 s
WRITE_WAIT_S = 2.5
CHECKPOINT_EVERY_S = 1.0
BUSY = (
    "The incident database is busy (another process is writing to it), so nothing was "
    "recorded. Please try again in a moment."
)
FULL = "The bot's disk is full, so nothing was recorded. Ask an admin to free some space."


class StoreUnavailable(BotError):
    """The database cannot take a write right now; the message says why, for the user."""


def _unavailable(exc: sqlite3.OperationalError) -> Exception:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreUnavailable(BUSY)
    if "full" in text:
        return StoreUnavailable(FULL)
    return exc


def to_db(dt: datetime) -> str:
    """Timezone-aware datetime -> sortable UTC text (`2026-11-26T14:05:00.000000+00:00`)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: times must be timezone-aware")
    return dt.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).astimezone(UTC)


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


def _entry(row: dict[str, Any]) -> Entry:
    return Entry(
        id=row["id"],
        incident_id=row["incident_id"],
        at=from_db(row["at"]),  # type: ignore[arg-type]
        text=row["text"],
        author_id=row["author_id"],
        milestone=Milestone(row["milestone"]) if row["milestone"] else None,
        source=row["source"],
    )


def _insert(db: Database, table: str, row: dict[str, Any]) -> int:
    """A plain INSERT: sqlite-utils' insert() inspects the table first, which costs more than
    the write itself on the command path."""
    columns = ", ".join(f"[{c}]" for c in row)
    marks = ", ".join("?" for _ in row)
    cursor = db.conn.execute(
        f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", list(row.values())
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


class Store:
    """The bot's SQLite database. Safe to share between threads: each gets its own connection;
    timeline entries are written by one thread for all (bot/group_commit.py)."""

    def __init__(self, path: Path | str, checkpoint_every_s: float = CHECKPOINT_EVERY_S) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer = threading.RLock()  # a write() inside a write() fails in SQLite, not here
        self._known: dict[tuple[str, str], tuple[str, str | None]] = {}  # users, by (team, id)
        self._by_channel: dict[tuple[str, str], Incident] = {}  # as last read, see below
        self._entries = GroupCommit(self.write, lambda: StoreUnavailable(BUSY), WRITE_WAIT_S)
        self._checkpoints = Checkpointer(lambda: self.db.conn, checkpoint_every_s)
        db = self.db
        db.enable_wal()
        migrations.apply(db)

    @property
    def db(self) -> Database:
        """This thread's connection, opened on first use."""
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA wal_autocheckpoint = 0")  # bot/checkpoint.py does it
            db = Database(conn)
            self._local.db = db
            with self._lock:
                self._all.append(conn)
        return db

    def close(self) -> None:
        self._entries.close()
        self._checkpoints.stop()
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

        Read-then-write sequences (allocating the next hotfix number) are atomic across
        threads and processes. Writers in this process queue on a lock (handed over at once,
        unlike SQLite's busy handler, which sleeps in steps of up to 100 ms). A database held by
        another writer for longer than WRITE_WAIT_S, or a full disk, is a StoreUnavailable:
        nothing was written, and the person is told so in time.
        """
        db = self.db
        self._checkpoints.ensure_running()
        if not self._writer.acquire(timeout=WRITE_WAIT_S):
            raise StoreUnavailable(BUSY)
        try:
            try:
                db.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _unavailable(exc) from exc
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:  # SQLite may have rolled back already (disk full)
                    db.conn.execute("ROLLBACK")
                raise
            try:
                db.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise _unavailable(exc) from exc
        except sqlite3.OperationalError as exc:
            raise _unavailable(exc) from exc
        finally:
            self._writer.release()

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        rows = list(self.db.query(sql, params))
        return rows[0] if rows else None

    # --- incidents -------------------------------------------------------------------------

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
            (number,) = db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM incidents WHERE team_id = ?", [team_id]
            ).fetchone()
            row_id = _insert(
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
            self._event(db, team_id, row_id, started_at, user_id, "opened", severity.value)
            self._insert_entry(
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

    def mark_repo_warned(self, incident: Incident) -> bool:
        """Note that the channel was told the repository is unreachable; False if it already was."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET repo_warned = 1 WHERE team_id = ? AND id = ? "
                "AND COALESCE(repo_warned, 0) = 0",
                [incident.team_id, incident.id],
            )
        return cur.rowcount == 1

    def take_repo_warnings(self) -> list[str]:
        """The channels told the repository was unreachable (now it is reachable again)."""
        with self.write() as db:
            rows = list(db.query("SELECT channel_id FROM incidents WHERE repo_warned = 1"))
            db.execute("UPDATE incidents SET repo_warned = 0 WHERE repo_warned = 1")
        return [r["channel_id"] for r in rows if r["channel_id"]]

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
        event: tuple[str, str] | None = None,
        **fields: Any,
    ) -> Incident:
        """Change an incident's fields and record what changed in its event log, in one go."""
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
                self._event(db, team_id, incident_id, at, user_id, *event)
        incident = self.incident(team_id, incident_id)
        assert incident is not None
        return incident

    def reopen_incident(self, incident: Incident, *, at: datetime, user_id: str) -> Incident:
        """Open again, in one transaction: no resolution, deadline or publication, and no
        "Incident closed" entry the bot recorded (the next resolve records a new one)."""
        with self.write() as db:
            db.execute(
                "DELETE FROM timeline WHERE team_id = ? AND incident_id = ? AND milestone = ? "
                "AND source = 'system'",
                [incident.team_id, incident.id, Milestone.RESOLVED.value],
            )
            db.execute(
                "UPDATE incidents SET status = ?, resolved_at = NULL, deadline_at = NULL, "
                "published_at = NULL WHERE team_id = ? AND id = ?",
                [Status.OPEN.value, incident.team_id, incident.id],
            )
            self._event(db, incident.team_id, incident.id, at, user_id, "reopened", "")
        reopened = self.incident(incident.team_id, incident.id)
        assert reopened is not None
        return reopened

    def _event(
        self,
        db: Database,
        team_id: str,
        incident_id: int,
        at: datetime,
        user_id: str,
        kind: str,
        detail: str,
    ) -> None:
        db.table("events").insert(
            {
                "team_id": team_id,
                "incident_id": incident_id,
                "at": to_db(at),
                "user_id": user_id,
                "kind": kind,
                "detail": detail,
            }
        )

    def events(self, team_id: str, incident_id: int) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT at, user_id, kind, detail FROM events "
            "WHERE team_id = ? AND incident_id = ? ORDER BY at, id",
            [team_id, incident_id],
        )
        return [{**r, "at": from_db(r["at"])} for r in rows]

    # --- timeline --------------------------------------------------------------------------

    def _insert_entry(
        self,
        db: Database,
        *,
        team_id: str,
        incident_id: int,
        at: datetime,
        text: str,
        author_id: str,
        milestone: Milestone | None,
        source: str,
        message_ts: str | None = None,
    ) -> int:
        now = to_db(datetime.now(UTC))
        return _insert(
            db,
            "timeline",
            {
                "team_id": team_id,
                "incident_id": incident_id,
                "at": to_db(at),
                "text": text,
                "milestone": milestone.value if milestone else None,
                "author_id": author_id,
                "source": source,
                "message_ts": message_ts,
                "created_at": now,
                "updated_at": now,
            },
        )

    def add_entry(self, incident: Incident, **fields: Any) -> Entry:
        """Store a timeline entry; entries that arrive together are committed together.
        (Not from inside a write(): the writer thread would wait for this one's transaction.)"""
        entry_id = self._entries.submit(
            lambda db: self._insert_entry(
                db, team_id=incident.team_id, incident_id=incident.id, **fields
            )
        )
        return Entry(  # as stored, without reading it back
            id=entry_id,
            incident_id=incident.id,
            at=fields["at"].astimezone(UTC),
            text=fields["text"],
            author_id=fields["author_id"],
            milestone=fields["milestone"],
            source=fields["source"],
        )

    def entry(self, team_id: str, entry_id: int) -> Entry:
        row = self._one("SELECT * FROM timeline WHERE team_id = ? AND id = ?", [team_id, entry_id])
        assert row is not None
        return _entry(row)

    def entry_for_message(self, incident: Incident, message_ts: str) -> Entry | None:
        row = self._one(
            "SELECT * FROM timeline WHERE team_id = ? AND incident_id = ? AND message_ts = ?",
            [incident.team_id, incident.id, message_ts],
        )
        return _entry(row) if row else None

    def entries(self, team_id: str, incident_id: int) -> list[Entry]:
        """The timeline in order: by time, then by when it was recorded."""
        rows = self.db.query(
            "SELECT * FROM timeline WHERE team_id = ? AND incident_id = ? ORDER BY at, id",
            [team_id, incident_id],
        )
        return [_entry(r) for r in rows]

    def update_entry(
        self, team_id: str, entry_id: int, *, at: datetime, text: str, milestone: Milestone | None
    ) -> Entry:
        with self.write() as db:
            db.execute(
                "UPDATE timeline SET at = ?, text = ?, milestone = ?, updated_at = ? "
                "WHERE team_id = ? AND id = ?",
                [
                    to_db(at),
                    text,
                    milestone.value if milestone else None,
                    to_db(datetime.now(UTC)),
                    team_id,
                    entry_id,
                ],
            )
        return self.entry(team_id, entry_id)

    def delete_entry(self, team_id: str, entry_id: int) -> None:
        with self.write() as db:
            db.execute("DELETE FROM timeline WHERE team_id = ? AND id = ?", [team_id, entry_id])

    # --- people ----------------------------------------------------------------------------

    def owners(self, team_id: str, incident_id: int) -> list[str]:
        rows = self.db.query(
            "SELECT user_id FROM owners WHERE team_id = ? AND incident_id = ? ORDER BY rowid",
            [team_id, incident_id],
        )
        return [r["user_id"] for r in rows]

    def set_owners(
        self, team_id: str, incident_id: int, user_ids: list[str], *, at: datetime, by: str
    ) -> None:
        with self.write() as db:
            db.execute(
                "DELETE FROM owners WHERE team_id = ? AND incident_id = ?", [team_id, incident_id]
            )
            for user_id in dict.fromkeys(user_ids):  # in the order given, once each
                db.table("owners").insert(
                    {
                        "team_id": team_id,
                        "incident_id": incident_id,
                        "user_id": user_id,
                        "added_at": to_db(at),
                    }
                )
            self._event(db, team_id, incident_id, at, by, "owners", " ".join(user_ids))

    def add_member(self, team_id: str, channel_id: str, user_id: str, at: datetime) -> None:
        with self.write() as db:
            db.table("members").insert(
                {
                    "team_id": team_id,
                    "channel_id": channel_id,
                    "user_id": user_id,
                    "joined_at": to_db(at),
                },
                ignore=True,
            )

    def remove_member(self, team_id: str, channel_id: str, user_id: str) -> None:
        with self.write() as db:
            db.execute(
                "DELETE FROM members WHERE team_id = ? AND channel_id = ? AND user_id = ?",
                [team_id, channel_id, user_id],
            )

    def is_member(self, team_id: str, channel_id: str, user_id: str) -> bool:
        return (
            self._one(
                "SELECT 1 AS x FROM members WHERE team_id = ? AND channel_id = ? AND user_id = ?",
                [team_id, channel_id, user_id],
            )
            is not None
        )

    def remember_user(
        self, team_id: str, user_id: str, name: str, real_name: str | None = None
    ) -> None:
        """Keep a person's handle (and real name, once Slack told us) for names in drafts."""
        key = (team_id, user_id)
        known = self._known.get(key)
        if known is None:
            found = self._one(
                "SELECT name, real_name FROM users WHERE team_id = ? AND user_id = ?",
                [team_id, user_id],
            )
            known = (found["name"], found["real_name"]) if found else ("", None)
            self._known[key] = known
        if not name or (known[0] == name and (not real_name or known[1] == real_name)):
            return  # nothing new: no write (commands stay fast while another writer holds the lock)
        row: dict[str, Any] = {
            "team_id": team_id,
            "user_id": user_id,
            "name": name,
            "updated_at": to_db(datetime.now(UTC)),
        }
        if real_name:
            row["real_name"] = real_name
        with self.write() as db:
            db.table("users").upsert(row, pk=("team_id", "user_id"))
        self._known[key] = (name, real_name or known[1])

    def user_name(self, team_id: str, user_id: str) -> str | None:
        """The person's handle as they typed it (for decoding mentions)."""
        row = self._one(
            "SELECT name FROM users WHERE team_id = ? AND user_id = ?", [team_id, user_id]
        )
        return row["name"] if row else None

    def real_name(self, team_id: str, user_id: str) -> str | None:
        """The person's real name if Slack told us, else their handle."""
        row = self._one(
            "SELECT COALESCE(real_name, name) AS n FROM users WHERE team_id = ? AND user_id = ?",
            [team_id, user_id],
        )
        return row["n"] if row else None

    def missing_real_names(self, team_id: str, user_ids: list[str]) -> list[str]:
        return [
            u
            for u in dict.fromkeys(user_ids)
            if not self._one(
                "SELECT 1 AS x FROM users "
                "WHERE team_id = ? AND user_id = ? AND real_name IS NOT NULL",
                [team_id, u],
            )
        ]
