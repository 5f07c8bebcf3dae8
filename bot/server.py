"""The HTTP front door: Bolt at POST /slack/events and GET /healthz, on waitress (threaded)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

from bot.scheduler import ReminderScheduler
from bot.store import Store

StartResponse = Callable[..., Any]
EVENTS_PATH = "/slack/events"


class Health:
    """What /healthz reports: ready once the app is assembled, and whether the database answers."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.ready = False
        self.scheduler: ReminderScheduler | None = None

    def check(self) -> tuple[bool, dict[str, Any]]:
        try:
            self.store.db.execute("SELECT 1").fetchone()
            database = "ok"
        except Exception as exc:  # report, don't crash, whatever the driver raises
            database = f"error: {type(exc).__name__}"
        report: dict[str, Any] = {"ready": self.ready, "database": database}
        ok = self.ready and database == "ok"
        if self.scheduler is not None:
            running = self.scheduler.running
            report["scheduler"] = {"running": running, "sends_reminders": self.scheduler.leader}
            ok = ok and running
        return ok, {"ok": ok, **report}


def create_wsgi(
    app: App | None, health: Health
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    bolt = SlackRequestHandler(app, path=EVENTS_PATH) if app is not None else None

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok, report = health.check()
            body = json.dumps(report).encode()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        if bolt is not None and path == EVENTS_PATH and method == "POST":
            result: Iterable[bytes] = bolt(environ, start_response)
            return result
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return wsgi


def create_http_server(wsgi: Callable[..., Any], host: str, port: int, threads: int = 16) -> Any:
    """A production WSGI server (waitress); `.run()` serves until SystemExit, `.close()` stops."""
    return create_server(wsgi, host=host, port=port, threads=threads, ident="postmortem-bot")


def stop_http_server(server: Any) -> None:
    """Stop a server whose `.run()` loop is in another thread: close it from inside the loop."""

    def close() -> None:
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        server.close()

    server.trigger.pull_trigger(close)
