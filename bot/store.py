"""Storage: one SQLite file (WAL) through sqlite-utils; every query is scoped by Slack team_id."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot import budget
from bot.checkpoint import Checkpointer
from bot.errors import BotError, Conflict
from bot.group_commit import GroupCommit
from bot.migrations import migrations
from bot.models import Incident, Milestone, Severity, Status
from bot.private import private_dir, private_file
from bot.rows import add_event, from_db, insert, to_db
from bot.store_imports import ImportRows
from bot.store_people import PeopleRows
from bot.store_timeline import TimelineRows, insert_entry

__all__ = ["BUSY", "FULL", "Store", "StoreUnavailable", "from_db", "to_db"]

BUSY_TIMEOUT_S = 2.0  # what a write waits for another process's lock; Slack allows 3 s
WRITE_WAIT_S = 2.5
AFTER_ACK_WAIT_S = 30.0  # after the ack nobody waits for an answer: a busy database is waited out
CHECKPOINT_EVERY_S = 1.0
BUSY = (
    "The incident database is busy (another process is writing to it), so nothing was "
    "recorded. Please try again in a moment."
)
FULL = "The bot's disk is full, so nothing was recorded. Ask an admin to free some space."


def answering() -> None:
    """Someone waits for this context's answer (a listener before its ack): from now on a write
    waits for a busy database only as long as Slack's 3 seconds still allow: WRITE_WAIT_S from
    now, less what was spent meanwhile (a slow Slack call, an earlier write)."""
    budget.answering(WRITE_WAIT_S)


def after_ack() -> None:
    """The answer has gone out: from now on in this context a write waits out a busy database
    for up to the store's `after_ack_wait_s`, as background work (git, reminders) always does."""
    budget.answered()


# every table with an incident_id column, children of `incidents`
INCIDENT_TABLES = (
    "timeline",
    "owners",
    "events",
    "section_values",
    "action_items",
    "drafts",
    "speakers",
    "reminders",
    "imports",
)
UNOPENED_AFTER = timedelta(minutes=10)


class StoreUnavailable(BotError):
    """The database cannot take a write right now; the message says why, for the user."""


def _unavailable(exc: sqlite3.OperationalError) -> Exception:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreUnavailable(BUSY)
    if "full" in text:
        return StoreUnavailable(FULL)
    return exc


def _discard(db: Database, team_id: str, where: str, params: list[Any]) -> int:
    """Delete the incidents of `team_id` matching `where`, with every row that refers to them;
    the number of incidents deleted."""
    ids = [
        r[0]
        for r in db.execute(
            f"SELECT id FROM incidents WHERE team_id = ? AND {where}", [team_id, *params]
        )
    ]
    for incident_id in ids:
        db.execute(
            "DELETE FROM echoes WHERE entry_id IN (SELECT id FROM timeline WHERE incident_id = ?)",
            [incident_id],
        )
        db.execute(
            "DELETE FROM reminder_deliveries WHERE reminder_id IN "
            "(SELECT id FROM reminders WHERE incident_id = ?)",
            [incident_id],
        )
        db.execute(
            "DELETE FROM import_proposals WHERE import_id IN "
            "(SELECT id FROM imports WHERE incident_id = ?)",
            [incident_id],
        )
        for table in INCIDENT_TABLES:
            db.execute(f"DELETE FROM [{table}] WHERE incident_id = ?", [incident_id])
        db.execute("DELETE FROM incidents WHERE id = ?", [incident_id])
    return len(ids)


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


class Store(TimelineRows, PeopleRows, ImportRows):
    """The bot's SQLite database. Safe to share between threads: each gets its own connection;
    timeline entries are written by one thread for all (bot/group_commit.py)."""

    def __init__(
        self,
        path: Path | str,
        checkpoint_every_s: float = CHECKPOINT_EVERY_S,
        after_ack_wait_s: float = AFTER_ACK_WAIT_S,
    ) -> None:
        self.path = Path(path)
        self.after_ack_wait_s = after_ack_wait_s
        # Readable by the bot's user only, whatever the umask: the folder 0700 when made here,
        # the database 0600 before SQLite opens it (its -wal and -shm take its mode).
        private_dir(self.path.parent)
        for suffix, create in (("", True), ("-wal", False), ("-shm", False)):
            private_file(self.path.with_name(self.path.name + suffix), create)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._writer = threading.RLock()  # a write() inside a write() fails in SQLite, not here
        self._known = {}
        self._by_channel: dict[tuple[str, str], Incident] = {}  # as last read, see below
        self._entries = GroupCommit(
            lambda: self.write(WRITE_WAIT_S), lambda: StoreUnavailable(BUSY), WRITE_WAIT_S
        )
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
    def write(self, wait_s: float | None = None) -> Iterator[Database]:
        """A write transaction that takes the write lock up front (BEGIN IMMEDIATE).

        Read-then-write sequences (allocating the next hotfix number) are atomic across
        threads and processes. Writers in this process queue on a lock (handed over at once,
        unlike SQLite's busy handler, which sleeps in steps of up to 100 ms). A database held by
        another writer for longer than WRITE_WAIT_S, or a full disk, is a StoreUnavailable:
        nothing was written, and the person is told so in time. A write that may as well not
        happen now (remembering a name) passes a shorter `wait_s` (seconds).
        """
        if wait_s is None:
            left = budget.left()
            wait_s = self.after_ack_wait_s if left is None else left
        busy_s = BUSY_TIMEOUT_S if wait_s == WRITE_WAIT_S else wait_s
        db = self.db
        self._checkpoints.ensure_running()
        if not self._writer.acquire(timeout=wait_s):
            raise StoreUnavailable(BUSY)
        try:
            try:
                if busy_s != BUSY_TIMEOUT_S:
                    db.conn.execute(f"PRAGMA busy_timeout = {int(busy_s * 1000)}")
                db.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _unavailable(exc) from exc
            finally:
                if busy_s != BUSY_TIMEOUT_S:
                    db.conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
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
            # a start that never got its channel and was never undone (the database stayed
            # busy even for that) is cleared here, long after any start could still finish it
            _discard(
                db,
                team_id,
                "channel_id IS NULL AND created_at < ?",
                [to_db(started_at - UNOPENED_AFTER)],
            )
            (number,) = db.execute(
                "SELECT COALESCE(MAX(number), 0) + 1 FROM incidents WHERE team_id = ?", [team_id]
            ).fetchone()
            row_id = insert(
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
            add_event(db, team_id, row_id, started_at, user_id, "opened", severity.value)
            insert_entry(
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

    def attach_channel(
        self, incident: Incident, channel_id: str, channel_name: str, at: datetime
    ) -> Incident:
        """The incident's channel and its starter as a member, in one transaction."""
        with self.write() as db:
            db.table("members").insert(
                {
                    "team_id": incident.team_id,
                    "channel_id": channel_id,
                    "user_id": incident.created_by,
                    "joined_at": to_db(at),
                },
                ignore=True,
            )
            db.execute(
                "UPDATE incidents SET channel_id = ?, channel_name = ? "
                "WHERE team_id = ? AND id = ?",
                [channel_id, channel_name, incident.team_id, incident.id],
            )
            add_event(
                db, incident.team_id, incident.id, at, incident.created_by, "channel", channel_name
            )
        attached = self.incident(incident.team_id, incident.id)
        assert attached is not None
        return attached

    def discard_unopened(self, team_id: str, incident_id: int) -> bool:
        """Undo an `/incident start` whose channel never came: the incident and its rows go
        (its number is free again). False, and nothing changes, once it has a channel."""
        with self.write() as db:
            return _discard(db, team_id, "id = ? AND channel_id IS NULL", [incident_id]) > 0

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
        """Note that the channel was told its draft is not in the repository yet; False if it
        already was (`repo_warned`: 1 the channel was told, 2 the commander too)."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET repo_warned = 1 WHERE team_id = ? AND id = ? "
                "AND COALESCE(repo_warned, 0) = 0",
                [incident.team_id, incident.id],
            )
        return cur.rowcount == 1

    def repo_refusal_to_tell(self) -> list[Incident]:
        """Incidents whose channel was told of an unpushed draft and whose commander was not
        told yet that the repository keeps refusing it; marked told as they are returned."""
        with self.write() as db:
            rows = list(db.query("SELECT * FROM incidents WHERE repo_warned = 1"))
            db.execute("UPDATE incidents SET repo_warned = 2 WHERE repo_warned = 1")
        return [_incident(r) for r in rows]

    def take_repo_warnings(self) -> list[Incident]:
        """The incidents whose channel was told its draft was not in the repository (now it
        is); their notes are cleared."""
        with self.write() as db:
            rows = list(db.query("SELECT * FROM incidents WHERE repo_warned >= 1"))
            db.execute("UPDATE incidents SET repo_warned = 0 WHERE repo_warned >= 1")
        return [_incident(r) for r in rows]

    def unopened(self, team_id: str, before: datetime) -> list[Incident]:
        """Incidents stored before `before` (UTC) whose start never got its channel: the
        process stopped between the two."""
        rows = self.db.query(
            "SELECT * FROM incidents WHERE team_id = ? AND channel_id IS NULL AND created_at < ?",
            [team_id, to_db(before)],
        )
        return [_incident(r) for r in rows]

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
        event: tuple[str, ...] | None = None,
        **fields: Any,
    ) -> Incident:
        """Change an incident's fields and record what changed in its event log, in one go:
        `event` is (kind, detail) or (kind, detail, what it was before)."""
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
                add_event(db, team_id, incident_id, at, user_id, *event)
        incident = self.incident(team_id, incident_id)
        assert incident is not None
        return incident

    def resolve_incident(
        self,
        incident: Incident,
        *,
        at: datetime,
        deadline_at: datetime,
        user_id: str,
        when: datetime,
    ) -> Incident:
        """Resolved at `at` (UTC), the post-mortem due at `deadline_at`: the status, the one
        "Incident closed" entry and the log line in one transaction. Conflict if it was
        resolved meanwhile (two people resolving at once record one resolution)."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET status = ?, resolved_at = ?, deadline_at = ? "
                "WHERE team_id = ? AND id = ? AND status = ?",
                [
                    Status.RESOLVED.value,
                    to_db(at),
                    to_db(deadline_at),
                    incident.team_id,
                    incident.id,
                    Status.OPEN.value,
                ],
            )
            if cur.rowcount != 1:
                raise Conflict(
                    f"{incident.hotfix_id} was resolved a moment ago; `/incident "
                    "status` shows when."
                )
            insert_entry(
                db,
                team_id=incident.team_id,
                incident_id=incident.id,
                at=at,
                text="Resolution confirmed",
                author_id=user_id,
                milestone=Milestone.RESOLVED,
                source="system",
            )
            add_event(db, incident.team_id, incident.id, when, user_id, "resolved", at.isoformat())
            fresh = self._fresh(incident)  # as committed: not what came after
        return fresh

    def reopen_incident(self, incident: Incident, *, at: datetime, user_id: str) -> Incident:
        """Open again, in one transaction: no resolution, deadline or publication. "Incident
        closed" stays in the timeline as a plain event (it did happen), no longer a milestone;
        the next resolve records a new one. Conflict if it is open already."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET status = ?, resolved_at = NULL, deadline_at = NULL, "
                "published_at = NULL WHERE team_id = ? AND id = ? AND status = ?",
                [Status.OPEN.value, incident.team_id, incident.id, Status.RESOLVED.value],
            )
            if cur.rowcount != 1:
                raise Conflict(f"{incident.hotfix_id} is open already.")
            db.execute(
                "UPDATE timeline SET milestone = NULL, text = ? || text "
                "WHERE team_id = ? AND incident_id = ? AND milestone = ?",
                [
                    f"Declared resolved (reopened {at:%Y-%m-%d %H:%M} UTC): ",
                    incident.team_id,
                    incident.id,
                    Milestone.RESOLVED.value,
                ],
            )
            add_event(db, incident.team_id, incident.id, at, user_id, "reopened", "")
            fresh = self._fresh(incident)  # as committed: not what came after
        return fresh

    def move_resolution(
        self,
        incident: Incident,
        entry_id: int,
        *,
        at: datetime,
        text: str,
        deadline_at: datetime,
        by: str,
        when: datetime,
    ) -> Incident:
        """Move "Incident closed" (entry and incident together): resolved at `at`, the
        post-mortem due at `deadline_at`. Conflict if the incident was reopened meanwhile."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET resolved_at = ?, deadline_at = ? "
                "WHERE team_id = ? AND id = ? AND status = ? AND EXISTS (SELECT 1 FROM timeline "
                "WHERE id = ? AND milestone = ? AND deleted_at IS NULL)",
                [
                    to_db(at),
                    to_db(deadline_at),
                    incident.team_id,
                    incident.id,
                    Status.RESOLVED.value,
                    entry_id,
                    Milestone.RESOLVED.value,
                ],
            )
            if cur.rowcount != 1:
                raise Conflict(
                    f"{incident.hotfix_id} was reopened a moment ago, so there is no resolution "
                    "to move; nothing changed."
                )
            was = self._update(
                db, incident.team_id, entry_id, at=at, text=text, milestone=Milestone.RESOLVED
            )
            self._edited(db, incident.team_id, entry_id, by, when, "entry-edited", was)
            add_event(db, incident.team_id, incident.id, when, by, "resolved", at.isoformat())
            fresh = self._fresh(incident)  # as committed: not what came after
        return fresh

    def publish_incident(
        self, incident: Incident, *, at: datetime, user_id: str, final: str | None = None
    ) -> Incident | None:
        """The post-mortem is final as of `at`, in one transaction. Conflict if the incident is
        not resolved (a reopen came first) or was published since it was read (a second click, a
        second person). `final` (the post-mortem and its log, as they would be published now):
        when it is
        published already and its last final version says just that, nothing is written and
        the answer is None."""
        with self.write() as db:
            row = self._one(
                "SELECT status, published_at FROM incidents WHERE team_id = ? AND id = ?",
                [incident.team_id, incident.id],
            )
            if row is None or row["status"] != Status.RESOLVED.value:
                raise Conflict(
                    f"{incident.hotfix_id} was reopened a moment ago; resolve it again before "
                    "publishing its post-mortem."
                )
            read = to_db(incident.published_at) if incident.published_at else None
            if row["published_at"] != read:
                raise Conflict(
                    f"The {incident.hotfix_id} post-mortem was published a moment ago; "
                    "nothing more was done."
                )
            if final is not None and read is not None:
                last = self._one(
                    "SELECT markdown || COALESCE(log, '') AS both FROM drafts WHERE team_id = ? "
                    "AND incident_id = ? AND final = 1 ORDER BY version DESC LIMIT 1",
                    [incident.team_id, incident.id],
                )
                if last is not None and last["both"] == final:
                    return None
            db.execute(
                "UPDATE incidents SET published_at = ? WHERE team_id = ? AND id = ?",
                [to_db(at), incident.team_id, incident.id],
            )
            add_event(db, incident.team_id, incident.id, at, user_id, "published", "")
            fresh = self._fresh(incident)
        return fresh

    def _fresh(self, incident: Incident) -> Incident:
        found = self.incident(incident.team_id, incident.id)
        assert found is not None
        return found

    def events(self, team_id: str, incident_id: int) -> list[dict[str, Any]]:
        rows = self.db.query(
            "SELECT at, user_id, kind, detail, was FROM events "
            "WHERE team_id = ? AND incident_id = ? ORDER BY at, id",
            [team_id, incident_id],
        )
        return [{**r, "at": from_db(r["at"])} for r in rows]
