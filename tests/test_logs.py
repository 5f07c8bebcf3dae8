"""Log lines: written by one thread in batches, every line kept and in order, JSON with the
request it belongs to, a line that can't be formatted never stops the others, no secrets."""

import io
import json
import logging
import queue
import threading

import pytest

from bot import logs


@pytest.fixture
def lines():
    """The bot's logging, configured as in production but into memory; the lines written."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    logs.configure("INFO", json_lines=True, secrets=["s3cret-signing-value"], to=out)

    def written() -> list[dict]:
        logs._listener.stop()  # writes what is queued
        return [json.loads(line) for line in out.getvalue().splitlines()]

    yield written
    logs._listener.stop()
    root.handlers[:], root.level = saved


def test_every_line_of_many_threads_is_written_once_and_in_each_threads_order(lines):
    logger = logging.getLogger("bot.test")

    def talk(n: int) -> None:
        logs.request_id.set(f"req{n}")
        for k in range(200):
            logger.info("thread %d line %d", n, k)

    threads = [threading.Thread(target=talk, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    written = lines()
    assert len(written) == 8 * 200
    for n in range(8):
        mine = [w for w in written if w["request_id"] == f"req{n}"]
        assert [w["msg"] for w in mine] == [f"thread {n} line {k}" for k in range(200)]


def test_a_line_that_cannot_be_formatted_does_not_stop_the_writer():
    class Fussy(logging.Formatter):
        def format(self, record):
            if "boom" in record.getMessage():
                raise RuntimeError("cannot format this one")
            return record.getMessage()

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(Fussy())
    records = queue.SimpleQueue()
    writer = logs.Writer(records, handler)
    for msg in ("before", "boom", "after"):
        records.put(logging.makeLogRecord({"msg": msg}))
    writer.stop()
    assert out.getvalue().splitlines() == ["before", "after"]


def test_tokens_and_secrets_never_reach_a_line(lines):
    logger = logging.getLogger("bot.test")
    logger.warning("token xoxb-1234-5678-abcdef and s3cret-signing-value in a message")
    try:
        raise ValueError("xapp-1-A0-secret in a traceback")
    except ValueError:
        logger.exception("failed")
    text = json.dumps(lines())
    assert "xoxb-1234" not in text and "xapp-1-A0" not in text
    assert "s3cret-signing-value" not in text and "[redacted]" in text
