"""The HTTP front door: Bolt at POST /slack/events and GET /healthz, on waitress (threaded).

Bolt sees only requests that passed bot/slack/gate.py: small, signed, fresh and new."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from waitress.server import create_server

from bot.scheduler import ReminderScheduler
from bot.slack.gate import (
    MAX_BODY_BYTES,
    Gate,
    Refusal,
    parse_request,
    refuse_headers,
    refuse_size,
)
from bot.store import Store

logger = logging.getLogger(__name__)

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
            self.store.ping()
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


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """The request's headers by lowercase name, as Bolt's WSGI adapter reads them."""
    headers = {}
    for key, value in environ.items():
        if key in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            headers[key.lower().replace("_", "-")] = value
        elif key.startswith("HTTP_"):
            headers[key[5:].lower().replace("_", "-")] = value
    return headers


def _refused(
    refusal: Refusal, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """One short log line (the sender's address; no traceback, nothing from the body) and a
    short plain answer."""
    sender = environ.get("REMOTE_ADDR", "?")
    if refusal.status == 200:
        logger.info("request from %s acknowledged, not handled: %s", sender, refusal.reason)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
        return [b""]
    logger.warning("request from %s refused (%s): %s", sender, refusal.status, refusal.reason)
    status = {400: "400 Bad Request", 401: "401 Unauthorized", 413: "413 Content Too Large"}
    body = f"{refusal.reason}\n".encode()
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    if refusal.status == 413:
        headers.append(("Connection", "close"))  # the rest of the body is never read
    start_response(status[refusal.status], headers)
    return [body]


def create_wsgi(
    app: App | None, health: Health, signing_secret: str | None = None
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The bot's WSGI app: /healthz, and Bolt's `app` at POST /slack/events behind a Gate
    with `signing_secret` (required with an app; Socket Mode passes no app). A body whose
    Content-Length claims more than MAX_BODY_BYTES is refused 413 before it is read."""
    gate = Gate(signing_secret or "") if app is not None else None

    def events(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        assert app is not None and gate is not None
        headers = _headers(environ)
        timestamp = headers.get("x-slack-request-timestamp")
        refusal = refuse_headers(timestamp, headers.get("x-slack-signature"))
        if refusal is not None:
            return _refused(refusal, environ, start_response)
        # Content-Length passed refuse_size; waitress sets it for chunked bodies too
        body: bytes = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        refusal = gate.refuse(headers, body)
        if refusal is not None:
            return _refused(refusal, environ, start_response)
        request = parse_request(body, environ.get("QUERY_STRING", ""), headers)
        if isinstance(request, Refusal):
            return _refused(request, environ, start_response)
        response = app.dispatch(request)
        http = WsgiHttpResponse(response.status, response.headers, response.body)
        start_response(http.status, http.get_headers())
        return http.get_body()

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        refusal = refuse_size(environ.get("CONTENT_LENGTH"))
        if refusal is not None:
            return _refused(refusal, environ, start_response)
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok, report = health.check()
            body = json.dumps(report).encode()
            status = "200 OK" if ok else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json")])
            return [body]
        if app is not None and path == EVENTS_PATH and method == "POST":
            return events(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found\n"]

    return wsgi


CONNECTION_LIMIT = 500  # open connections waitress holds (a socket each; well under ulimit -n 1024)
CHANNEL_TIMEOUT_S = 30  # a connection idle this long, in seconds, is closed


def create_http_server(wsgi: Callable[..., Any], host: str, port: int, threads: int = 16) -> Any:
    """A production WSGI server (waitress); `.run()` serves until SystemExit, `.close()` stops.

    Waitress itself answers 413 to a body over MAX_BODY_BYTES before the app sees it: at once
    when Content-Length claims more, as soon as that much arrives when the body is chunked (it
    counts the chunk framing too, and refuses at its limit, hence the + 1).

    Slow clients (a request trickled in a byte at a time, or a connection left open) cost a
    socket each, not a thread: waitress reads whole requests before it hands them to a thread.
    So it may hold CONNECTION_LIMIT of them (waitress's default, 100, let a hundred idle
    connections shut Slack out) and closes one idle for CHANNEL_TIMEOUT_S (Slack sends a
    request in one go and waits at most 3 s for the answer)."""
    return create_server(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        ident="postmortem-bot",
        max_request_body_size=MAX_BODY_BYTES + 1,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT_S,
    )


def stop_http_server(server: Any) -> None:
    """Stop a server whose `.run()` loop is in another thread: close it from inside the loop."""

    def close() -> None:
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        server.close()

    server.trigger.pull_trigger(close)
