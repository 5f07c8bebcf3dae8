"""Logs: one JSON line per event, with the request and incident it belongs to, never a secret."""

from __future__ import annotations

import atexit
import contextvars
import json
import logging
import logging.handlers
import queue
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TextIO, TypeVar

from bot.private import redact

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
incident: contextvars.ContextVar[str | None] = contextvars.ContextVar("incident", default=None)

_TOKEN_RE = re.compile(r"\b(xox[abposr]|xapp)-[A-Za-z0-9-]+")
T = TypeVar("T")


def bind_incident(hotfix_id: str) -> None:
    """Say which incident the rest of this request's log lines are about."""
    incident.set(hotfix_id)


class Redact(logging.Filter):
    """Removes Slack tokens, the credentials of URLs (bot/private.py `redact`) and the given
    secrets from every message and traceback."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s and len(s) >= 6]

    def clean(self, text: str) -> str:
        text = redact(_TOKEN_RE.sub("[redacted]", text))
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.clean(record.getMessage())
        record.args = ()
        if record.exc_info:
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class Capture(logging.Filter):
    """Keeps the request and incident on the record, for the thread that writes it out."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.incident = incident.get()
        return True


def _tags(record: logging.LogRecord) -> list[tuple[str, str]]:
    return [
        (key, value) for key in ("request_id", "incident") if (value := getattr(record, key, None))
    ]


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(_tags(record))
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        tags = " ".join(f"{k}={v}" for k, v in _tags(record))
        base = f"{self.formatTime(record)} {record.levelname} {record.name}: {record.getMessage()}"
        text = f"{base} [{tags}]" if tags else base
        return f"{text}\n{record.exc_text}" if record.exc_text else text


def configure(
    level: str, json_lines: bool, secrets: Iterable[str | None] = (), to: TextIO | None = None
) -> None:
    """Log through a queue to `to` (stderr): request threads only enqueue, one thread formats
    and writes."""
    global _listener
    stream = logging.StreamHandler(to or sys.stderr)
    stream.setFormatter(JsonLines() if json_lines else Text())
    stream.addFilter(Redact(secrets))
    records: queue.SimpleQueue[logging.LogRecord | None] = queue.SimpleQueue()
    queued = logging.handlers.QueueHandler(records)
    queued.addFilter(Capture())
    root = logging.getLogger()
    root.handlers[:] = [queued]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    if _listener is not None:
        _listener.stop()
    _listener = Writer(records, stream)
    atexit.register(_listener.stop)


class Writer:
    """The thread that writes queued records out, a batch at a time (what is queued, then a
    pause of PAUSE_S): under load that is one wake-up and one write for many lines, instead of
    trading the interpreter lock with the request threads for every line."""

    PAUSE_S = 0.02

    def __init__(
        self, records: queue.SimpleQueue[logging.LogRecord | None], out: logging.StreamHandler[Any]
    ) -> None:
        self.records = records
        self.out = out
        self.thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Write what is queued, then end."""
        if self.thread.is_alive():
            self.records.put(None)
            self.thread.join()

    def _run(self) -> None:
        while True:
            batch = [self.records.get()]
            while not self.records.empty():
                batch.append(self.records.get())
            lines = [line for r in batch if r is not None and (line := self._line(r)) is not None]
            if lines:
                self.out.stream.write("\n".join(lines) + "\n")
                self.out.flush()
            if None in batch:
                return
            time.sleep(self.PAUSE_S)

    def _line(self, record: logging.LogRecord) -> str | None:
        try:
            return self.out.format(record) if self.out.filter(record) else None
        except Exception:
            self.out.handleError(record)
            return None


_listener: Writer | None = None


def stop() -> None:
    """Write out the lines still queued and stop: for a process about to end, before it prints
    its last word to the same stream."""
    if _listener is not None:
        _listener.stop()


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks keep the submitter's context (request id, incident)."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)
