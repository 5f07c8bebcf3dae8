"""A local Slack: the Web API over HTTP, plus people who send signed requests to the bot."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from bot.manifest import manifest_events
from bot.sandbox.grid import Org, org_wide
from bot.sandbox.interactions import ACK_DEADLINE_S, APP_ID, Interactions, Reply
from bot.sandbox.socket_mode import Drop, SocketConnection, SocketServer
from bot.sandbox.webapi import Fault, RateLimiter, WebApi
from bot.sandbox.workspace import Channel, Ephemeral, Message, Workspace

BOT_TOKEN = "xoxb-emulator-bot-token"
APP_TOKEN = "xapp-emulator-app-token"
SIGNING_SECRET = "emulator-signing-secret"
# Without manifest.yml (a bare install): the events the emulator always sent.
DEFAULT_EVENTS = frozenset({"member_joined_channel", "member_left_channel", "app_home_opened"})
BOT_SCOPES = frozenset(
    {
        "commands",
        "channels:manage",
        "channels:read",
        "channels:join",
        "groups:write",
        "groups:read",
        "chat:write",
        "chat:write.public",
        "pins:write",
        "users:read",
        "im:write",
    }
)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class Emulator(Interactions):
    """One workspace with a few people, served on 127.0.0.1 (on `port`, or any free one);
    `app_url` is where the bot listens. With `org`, the app is installed org-wide on that
    Enterprise Grid organization: every payload and event is sent as Slack sends those
    (bot/sandbox/grid.py), and auth.test, team.info and users.info name the org. `events`:
    the event names the app subscribes to (as manifest.yml's bot_events, e.g.
    "reaction_added", "message.channels"), by default manifest.yml's; settable later as
    `subscribed`. What people do is in bot/sandbox/people.py and interactions.py."""

    def __init__(
        self,
        *,
        team_id: str = "T0TEST",
        people: tuple[str, ...] = ("alice", "bob", "carol"),
        scopes: frozenset[str] = BOT_SCOPES,
        rate_limits: bool = True,
        signing_secret: str = SIGNING_SECRET,
        port: int = 0,
        org: Org | None = None,
        events: frozenset[str] | None = None,
    ) -> None:
        self.ws = Workspace(team_id)
        # The events the app subscribes to: `events`, or manifest.yml's bot_events.
        self.subscribed = events if events is not None else manifest_events() or DEFAULT_EVENTS
        self.org = org
        self.signing_secret = signing_secret
        for name in people:
            self.ws.add_user(name, f"{name.title()} Example")
        everyone = set(self.ws.users)
        self.general = self.ws.add_channel("general", self.ws.bot.id, members=everyone)
        self.api = WebApi(
            self.ws, {BOT_TOKEN: "bot", APP_TOKEN: "app"}, set(scopes), RateLimiter(rate_limits)
        )
        self.api.org = org
        self.app_url: str | None = None
        self.problems: list[str] = []
        # Every answer the app gave outside the Web API, in order: ("ack", body) for each
        # acknowledgement with a body (slash commands, buttons, modals, shortcuts, events) and
        # ("response_url", payload) for each post to a response_url (api.calls has the rest).
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self.api.on_join = self._member_joined
        self.api.on_event = self.emit
        self.api.problems = self.problems  # one list: what Slack refused or would show wrongly
        self._responders: dict[str, tuple[str, str, Message | Ephemeral | None]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self.socket: SocketConnection | None = None  # the app's newest Socket Mode connection
        self.socket_connections = 0  # how many the app has opened
        self._socket_server = SocketServer(APP_ID, self._socket_opened)
        self.api.socket_url = self._socket_server.url
        self.api.base_url = self.base_url
        self._threads: list[threading.Thread] = []

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def socket_connected(self) -> bool:
        return self.socket is not None and self.socket.open

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/"

    def _socket_opened(self, connection: SocketConnection) -> None:
        self.socket = connection
        self.socket_connections += 1

    def drop_socket(self, how: Drop = "reset") -> None:
        """Lose the app's Socket Mode connection as a network does, without a close frame:
        `reset` (TCP RST), `close` (FIN) or `silent` (nothing more gets through, either way)."""
        assert self.socket is not None and self.socket.link is not None, "no Socket Mode link"
        self.socket.link.drop(how)

    def refresh_socket(self) -> None:
        """Slack's `disconnect` (`refresh_requested`): the app should open a new connection."""
        assert self.socket is not None, "no Socket Mode connection"
        self.socket.disconnect("refresh_requested")

    def start(self) -> Emulator:
        self._socket_server.start()
        for target in (lambda: self._server.serve_forever(0.05), self._deliver_events):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        if self.socket is not None:
            self.socket.close()
        self._socket_server.stop()
        self._events.put({})
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def fail(
        self,
        method: str,
        error: str = "internal_error",
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        channel: str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` ("*" for any; only those for `channel`, if
        given) fail like Slack does."""
        self.api.faults[method].append(Fault(error, status, retry_after, times, channel))

    # --- what people do ------------------------------------------------------------------

    def _deliver(self, kind: str, payload: dict[str, Any], body: bytes, content_type: str) -> Reply:
        """To the app over its Socket Mode connection if it has one, else signed HTTP; shaped
        as for an org-wide install if the emulator has an `org`."""
        if self.org is not None:
            payload = org_wide(kind, payload, self.ws.team_id, self.org)
            if kind == "events_api":
                body = json.dumps(payload).encode()
            elif kind == "interactive":
                body = urlencode({"payload": json.dumps(payload)}).encode()
            else:
                body = urlencode(payload).encode()
        socket = self.socket
        if socket is None or not socket.open or self.app_url is not None:
            reply = self.send(body, content_type)
            if reply.body:
                self.answers.append(("ack", reply.json or {"text": reply.body}))
            return reply
        started = time.monotonic()
        answer = socket.envelope(kind, payload, timeout=ACK_DEADLINE_S + 2)
        seconds = time.monotonic() - started
        if answer is None:
            return Reply(504, "no ack on the socket", seconds)
        if answer:
            self.answers.append(("ack", answer))
        return Reply(200, json.dumps(answer) if answer else "", seconds)

    def send(
        self,
        body: bytes,
        content_type: str,
        *,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """POST a request to the bot as Slack does: signed with the signing secret."""
        if self.app_url is None:
            raise RuntimeError("the emulator has no app_url to send to, and no socket")
        timestamp = timestamp or str(int(time.time()))
        if signature is None:
            signature = sign(self.signing_secret, timestamp, body)
        signed = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature}
        sent = {
            "Content-Type": content_type,
            **{k: v for k, v in signed.items() if v},
            **(headers or {}),
        }
        return self._post(body, sent)

    def replay(self, reply: Reply, headers: dict[str, str] | None = None) -> Reply:
        """Send the request `reply` answered again, byte for byte and with the same signature,
        as someone who captured it would (`headers`: more, e.g. X-Slack-Retry-Num)."""
        if reply.request is None:
            raise RuntimeError("that reply did not come over HTTP")
        body, sent = reply.request
        return self._post(body, {**sent, **(headers or {})})

    def _post(self, body: bytes, headers: dict[str, str]) -> Reply:
        assert self.app_url is not None
        request = urllib.request.Request(self.app_url, data=body, method="POST", headers=headers)
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode()
        return Reply(status, text, time.monotonic() - started, (body, headers))

    @property
    def idle(self) -> bool:
        return self._events.unfinished_tasks == 0

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until every queued event has been delivered to the bot."""
        deadline = time.monotonic() + timeout
        while self._events.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    # --- what people see -----------------------------------------------------------------

    def messages(self, channel: str) -> list[Message]:
        with self.ws.lock:
            return list(self.channel(channel).messages)

    def posted_channel(self, prefix: str, timeout: float = 15.0) -> Channel:
        """The channel named `prefix...` once the bot has posted in it (work after an ack)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.ws.lock:
                for channel in self.ws.channels.values():
                    if channel.name.startswith(prefix) and not channel.is_im and channel.messages:
                        return channel
            time.sleep(0.02)
        raise TimeoutError(f"no channel {prefix}... with a message from the bot")

    def ephemerals(self, who: str) -> list[Ephemeral]:
        user_id = self.user(who)
        with self.ws.lock:
            return [e for e in self.ws.ephemerals if e.user == user_id]

    # --- internals -----------------------------------------------------------------------

    def _deliver_events(self) -> None:
        while True:
            event = self._events.get()
            try:
                if not event:
                    return
                if self.app_url is None and not self.socket_connected:
                    continue
                envelope = {
                    "token": "deprecated-verification-token",
                    "team_id": self.ws.team_id,
                    "api_app_id": APP_ID,
                    "event": event,
                    "type": "event_callback",
                    "event_id": self.ws.new_id("Ev"),
                    "event_time": int(time.time()),
                    "authorizations": [
                        {
                            "team_id": self.ws.team_id,
                            "user_id": self.ws.bot.id,
                            "is_bot": True,
                            "is_enterprise_install": False,
                        }
                    ],
                }
                reply = self._deliver(
                    "events_api", envelope, json.dumps(envelope).encode(), "application/json"
                )
                if reply.status != 200:
                    self.problems.append(f"event {event['type']}: HTTP {reply.status}")
            except OSError as exc:
                self.problems.append(f"event delivery failed: {exc}")
            finally:
                self._events.task_done()


def _bool_arg(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _args(self) -> dict[str, Any]:
            url = urlparse(self.path)
            args: dict[str, Any] = dict(parse_qsl(url.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            kind = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if raw and kind == "application/json":
                args.update(json.loads(raw))
            elif raw:
                args.update(parse_qsl(raw.decode()))
            return args

        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            path = urlparse(self.path).path
            if path.startswith("/upload/"):
                length = int(self.headers.get("Content-Length") or 0)
                ok = emulator.api.upload(path.removeprefix("/upload/"), self.rfile.read(length))
                self._reply(
                    200 if ok else 404,
                    b"OK" if ok else b"not found",
                    {"Content-Type": "text/plain"},
                )
                return
            try:
                args = self._args()
            except ValueError:
                self._reply(
                    200,
                    b'{"ok":false,"error":"invalid_form_data"}',
                    {"Content-Type": "application/json"},
                )
                return
            if path.startswith("/respond/"):
                self._respond(path.removeprefix("/respond/"), args)
                return
            if not path.startswith("/api/"):
                self._reply(404, b"not found", {"Content-Type": "text/plain"})
                return
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
            token = token or args.pop("token", None)
            args.pop("token", None)
            status, headers, body = emulator.api.call(path.removeprefix("/api/"), args, token)
            self._reply(
                status,
                json.dumps(body).encode(),
                {"Content-Type": "application/json; charset=utf-8", **headers},
            )

        def _respond(self, key: str, payload: dict[str, Any]) -> None:
            target = emulator._responders.get(key)
            if target is None:
                self._reply(404, b"no_such_response_url", {"Content-Type": "text/plain"})
                return
            channel_id, user_id, origin = target
            emulator.answers.append(("response_url", payload))
            replacing = _bool_arg(payload.get("replace_original")) or _bool_arg(
                payload.get("delete_original")
            )
            if origin is not None and replacing:
                emulator._replace(origin, payload)
            else:
                emulator._show(channel_id, user_id, payload, "response_url")
            self._reply(200, b"ok", {"Content-Type": "text/plain"})

    return Handler
