"""WAL checkpoints in the background, so that no commit waits for one.

By default SQLite copies its write-ahead log back into the database file inside whichever
commit takes the log past 1,000 pages: with a large database that commit takes ~70 ms, and
every write queued behind it waits. Here commits never checkpoint (`wal_autocheckpoint = 0` on
each connection); a thread does, every second, in PASSIVE mode, which never blocks a reader or
a writer.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

logger = logging.getLogger(__name__)


class Checkpointer:
    def __init__(self, connection: Callable[[], sqlite3.Connection], every_s: float) -> None:
        """`connection()` is the connection to checkpoint with, asked for in the thread."""
        self._connection = connection
        self._every_s = every_s
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def ensure_running(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._stop.clear()
                    self._thread = threading.Thread(
                        target=self._run, name="wal-checkpoint", daemon=True
                    )
                    self._thread.start()

    def stop(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._stop.set()
                self._thread.join()
                self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:  # a full disk, say: the log keeps it; try again later
                logger.warning("WAL checkpoint failed: %s", exc)
