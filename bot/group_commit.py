"""Group commit: writes that arrive together share one transaction.

`/timeline` in a busy incident channel is many small writes at once. Written by the threads
answering them, each on its own connection, they take turns at SQLite's single writer, every
commit empties the other connections' caches, and every turn costs a round of thread switches
on the interpreter lock. Here one thread on one connection writes: it takes everything queued,
writes it in one transaction, and wakes each sender with its own result.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Generic, TypeVar

from sqlite_utils import Database

from bot.errors import BotError

T = TypeVar("T")
Write = Callable[[], AbstractContextManager[Database]]

PENDING, TAKEN, ABANDONED = "pending", "taken", "abandoned"


class _Item(Generic[T]):
    def __init__(self, work: Callable[[Database], T]) -> None:
        self.work = work
        self.state = PENDING
        self.result: T | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """The writer holds the database: this write goes ahead unless its sender gave up."""
        with self._lock:
            if self.state == PENDING:
                self.state = TAKEN
            return self.state == TAKEN

    def abandon(self) -> bool:
        """The sender stops waiting; False if the write is already under way."""
        with self._lock:
            if self.state == PENDING:
                self.state = ABANDONED
            return self.state == ABANDONED

    def finish(self, result: T | None = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


class GroupCommit:
    """One writer thread for many senders.

    A sender waits at most `wait_s` for its write to begin; if the database stays locked longer,
    it gets `gave_up()` and its write is dropped, never done behind its back. A batch that fails
    is tried again one write at a time, so one bad write (say, a duplicate) fails alone; a
    locked database or a full disk (a BotError) fails the whole batch at once, written nowhere.
    """

    def __init__(self, write: Write, gave_up: Callable[[], BotError], wait_s: float) -> None:
        """`write()` opens a transaction; `gave_up()` is the error for a sender that waited
        `wait_s` in vain."""
        self._write = write
        self._gave_up = gave_up
        self._wait_s = wait_s
        self._queue: queue.SimpleQueue[_Item[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def submit(self, work: Callable[[Database], T], wait_s: float | None = None) -> T:
        """Run `work` in a write transaction (shared with whatever else is queued); its result.
        The sender waits `wait_s` (seconds; the group's own wait if None) for it to begin."""
        item: _Item[T] = _Item(work)
        self._queue.put(item)
        self._start()
        if not item.done.wait(self._wait_s if wait_s is None else wait_s) and item.abandon():
            raise self._gave_up()
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result  # type: ignore[return-value]

    def _start(self) -> None:
        if self._thread is None:
            with self._starting:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="group-commit", daemon=True
                    )
                    self._thread.start()

    def close(self) -> None:
        """Write what is queued, then stop (the next submit starts again)."""
        with self._starting:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join()
                self._thread = None

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get())
            items = [item for item in batch if item is not None]
            if items:
                self._commit(items)
            if None in batch:
                return

    def _commit(self, items: list[_Item[Any]]) -> None:
        taken: list[_Item[Any]] = []
        try:
            with self._write() as db:
                taken = [item for item in items if item.take()]
                results = [item.work(db) for item in taken]
        except BotError as error:  # locked or full: nothing was written
            for item in items:
                item.finish(error=error)
            return
        except Exception as error:
            if len(taken) < 2:
                for item in items:
                    item.finish(error=error)
                return
            for item in taken:  # one at a time, so that the bad one fails alone
                self._commit([item])
            return
        for item, result in zip(taken, results, strict=True):
            item.finish(result=result)
