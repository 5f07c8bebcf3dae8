"""The store's base: one SQLite file (WAL) through sqlite-utils, a connection per thread, and the
write transaction (BEGIN IMMEDIATE, within the caller's time budget). Every noun module in
bot/store/ is a mixin over `Rows`; a busy or full database is a StoreUnavailable."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot import budget
from bot.checkpoint import Checkpointer
from bot.errors import BotError
from bot.migrations import migrations
from bot.private import private_dir, private_file

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


class StoreUnavailable(BotError):
    """The database cannot take a write right now; the message says why, for the user."""


def _unavailable(exc: sqlite3.OperationalError) -> Exception:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return StoreUnavailable(BUSY)
    if "full" in text:
        return StoreUnavailable(FULL)
    return exc


class Rows:
    """The connection and write transaction every part of `Store` is written against. Safe to
    share between threads: each gets its own connection. Opening it makes the file (0600, its
    folder 0700), switches on WAL and applies the migrations."""

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
        self._checkpoints = Checkpointer(lambda: self.db.conn, checkpoint_every_s)

    def _open(self) -> None:
        """WAL on, the migrations applied: once, after the mixins have set themselves up."""
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
        """Stop checkpointing and close every thread's connection."""
        self._checkpoints.stop()
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def ping(self) -> None:
        """Ask the database something (for the health check); raises whatever the driver does."""
        self.db.execute("SELECT 1").fetchone()

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

    def _one(self, sql: str, params: list[Any]) -> dict[str, Any] | None:
        rows = list(self.db.query(sql, params))
        return rows[0] if rows else None

    def _query(self, sql: str, params: list[Any]) -> Iterator[dict[str, Any]]:
        return self.db.query(sql, params)
