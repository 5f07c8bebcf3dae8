"""Group commit: writes that arrive together share a transaction, and each still gets its own
answer: its row id, its own error, or "busy" in time (and then it is never written)."""

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlite_utils import Database

from bot.errors import BotError
from bot.group_commit import GroupCommit
from tests.conftest import wait_for


class Busy(BotError):
    pass


class Writer:
    """Real transactions on a real SQLite file, counted; `gate` holds them back while clear."""

    def __init__(self, path):
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT UNIQUE)")
        self.db = Database(conn)
        self.transactions = 0
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    @contextmanager
    def write(self) -> Iterator[Database]:
        self.waiting.set()
        self.gate.wait()
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.conn.execute("ROLLBACK")
            raise
        self.db.conn.execute("COMMIT")
        self.transactions += 1

    def texts(self) -> list[str]:
        return sorted(r[0] for r in self.db.execute("SELECT text FROM notes"))


def note(text: str):
    return lambda db: db.conn.execute("INSERT INTO notes (text) VALUES (?)", [text]).lastrowid


def send_all(group: GroupCommit, texts: list[str]):
    """Each text written from its own thread: (outcomes by text, the threads)."""
    outcomes: dict[str, object] = {}

    def send(text: str) -> None:
        try:
            outcomes[text] = group.submit(note(text))
        except Exception as error:
            outcomes[text] = error

    threads = [threading.Thread(target=send, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    return outcomes, threads


@pytest.fixture
def writer(tmp_path):
    return Writer(tmp_path / "notes.db")


def test_writes_that_arrive_together_share_one_transaction(writer):
    group = GroupCommit(writer.write, Busy, wait_s=5)
    writer.gate.clear()
    _, first_threads = send_all(group, ["first"])
    wait_for(writer.waiting.is_set, what="the writer at the gate")
    outcomes, threads = send_all(group, [f"note {n}" for n in range(20)])
    wait_for(lambda: group._queue.qsize() == 20, what="twenty writes queued")
    writer.gate.set()
    for t in first_threads + threads:
        t.join(5)
    assert writer.texts() == sorted(["first", *(f"note {n}" for n in range(20))])
    assert writer.transactions == 2, "the twenty queued writes went in one transaction"
    ids = list(outcomes.values())
    assert len(set(ids)) == 20 and all(isinstance(i, int) for i in ids), "each got its own row"
    group.close()


def test_a_bad_write_fails_alone(writer):
    group = GroupCommit(writer.write, Busy, wait_s=5)
    group.submit(note("taken"))
    writer.waiting.clear()
    writer.gate.clear()
    send_all(group, ["blocker"])
    wait_for(writer.waiting.is_set, what="the writer at the gate")
    outcomes, threads = send_all(group, ["a", "taken", "b"])
    wait_for(lambda: group._queue.qsize() == 3, what="three writes queued")
    writer.gate.set()
    for t in threads:
        t.join(5)
    assert isinstance(outcomes["taken"], sqlite3.IntegrityError)
    assert isinstance(outcomes["a"], int) and isinstance(outcomes["b"], int)
    assert writer.texts() == ["a", "b", "blocker", "taken"]
    group.close()


def test_a_sender_that_gave_up_waiting_is_never_written(writer):
    group = GroupCommit(writer.write, Busy, wait_s=0.3)
    writer.gate.clear()
    started = time.monotonic()
    with pytest.raises(Busy):
        group.submit(note("too late"))
    assert time.monotonic() - started < 1.0, "the sender was told in time"
    writer.gate.set()
    assert group.submit(note("after")) > 0
    assert writer.texts() == ["after"], "what the sender was told failed did not happen later"
    group.close()


def test_locked_or_full_fails_the_whole_batch_and_writes_nothing(writer):
    def full(db: Database) -> int:
        raise Busy("the disk is full")

    group = GroupCommit(writer.write, Busy, wait_s=5)
    writer.gate.clear()
    send_all(group, ["blocker"])
    wait_for(writer.waiting.is_set, what="the writer at the gate")
    outcomes: dict[str, object] = {}

    def send(name: str, work) -> None:
        try:
            outcomes[name] = group.submit(work)
        except Exception as error:
            outcomes[name] = error

    threads = [
        threading.Thread(target=send, args=("good", note("good"))),
        threading.Thread(target=send, args=("full", full)),
    ]
    for t in threads:
        t.start()
    wait_for(lambda: group._queue.qsize() == 2, what="two writes queued")
    writer.gate.set()
    for t in threads:
        t.join(5)
    assert isinstance(outcomes["full"], Busy) and isinstance(outcomes["good"], Busy)
    assert "good" not in writer.texts()
    group.close()


def test_close_writes_what_is_queued_and_a_later_write_starts_again(writer):
    group = GroupCommit(writer.write, Busy, wait_s=5)
    group.submit(note("one"))
    group.close()
    assert group.submit(note("two")) > 0
    group.close()
    assert writer.texts() == ["one", "two"]
