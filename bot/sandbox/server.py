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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from bot.manifest import manifest_events
from bot.sandbox.blockkit import (
    MAX_MESSAGE_TEXT,
    BlockError,
    stray_markup,
    validate_blocks,
    validate_view,
)
from bot.sandbox.grid import Org, org_wide
from bot.sandbox.people import People
from bot.sandbox.socket_mode import Drop, SocketConnection, SocketServer
from bot.sandbox.webapi import Fault, RateLimiter, WebApi
from bot.sandbox.workspace import Channel, Ephemeral, Message, User, Workspace

BOT_TOKEN = "xoxb-emulator-bot-token"
APP_TOKEN = "xapp-emulator-app-token"
SIGNING_SECRET = "emulator-signing-secret"
APP_ID = "A0POSTMORTEM"
# Without manifest.yml (a bare install): the events the emulator always sent.
DEFAULT_EVENTS = frozenset({"member_joined_channel", "member_left_channel", "app_home_opened"})
ACK_DEADLINE_S = 3.0
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


@dataclass
class Reply:
    """The bot's HTTP answer to a request Slack sent it."""

    status: int
    body: str
    seconds: float
    request: tuple[bytes, dict[str, str]] | None = None  # what was sent over HTTP: replay()

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body.startswith("{") else {}

    @property
    def text(self) -> str:
        return str(self.json.get("text", self.body))


class Emulator(People):
    """One workspace with a few people, served on 127.0.0.1 (on `port`, or any free one);
    `app_url` is where the bot listens. With `org`, the app is installed org-wide on that
    Enterprise Grid organization: every payload and event is sent as Slack sends those
    (bot/sandbox/grid.py), and auth.test, team.info and users.info name the org. `events`:
    the event names the app subscribes to (as manifest.yml's bot_events, e.g.
    "reaction_added", "message.channels"), by default manifest.yml's; settable later as
    `subscribed`. What people do is in bot/sandbox/people.py."""

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

    def command(
        self, who: str, command: str, text: str = "", channel: str = "general", *, raw: bool = False
    ) -> Reply:
        """`who` types `command text` in `channel`; returns the bot's ack (also recorded)."""
        user = self.ws.user_named(who)
        where = (
            self.channel(channel)
            if not channel.startswith(("C", "G", "D"))
            else self.ws.channels[channel]
        )
        response_url = self._responder(where.id, user.id)
        form = {
            "token": "deprecated-verification-token",
            "team_id": self.ws.team_id,
            "team_domain": self.ws.domain,
            "channel_id": where.id,
            "channel_name": where.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": command,
            "text": text if raw else self.encode(text),
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self.api.issue_trigger(user.id),
        }
        sent = self.ws.next_ts()  # what the ack shows appears when the command was sent
        reply = self._deliver(
            "slash_commands", form, urlencode(form).encode(), "application/x-www-form-urlencoded"
        )
        self._record_ack(reply, where.id, user.id, sent)
        return reply

    def shortcut(self, who: str, callback_id: str, channel: str, message: Message) -> Reply:
        user = self.ws.user_named(who)
        where = self.channel(channel)
        payload = {
            "type": "message_action",
            "callback_id": callback_id,
            "trigger_id": self.api.issue_trigger(user.id),
            "team": {"id": self.ws.team_id, "domain": self.ws.domain},
            "channel": {"id": where.id, "name": where.name},
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": self.ws.team_id,
            },
            "message": message.as_api(),
            "message_ts": message.ts,
            "response_url": self._responder(where.id, user.id),
            "action_ts": f"{time.time():.6f}",
            "token": "deprecated-verification-token",
            "api_app_id": APP_ID,
        }
        form = urlencode({"payload": json.dumps(payload)}).encode()
        reply = self._deliver("interactive", payload, form, "application/x-www-form-urlencoded")
        if reply.status != 200:
            self.problems.append(f"shortcut {callback_id}: HTTP {reply.status}")
        return reply

    def click(
        self, who: str, message: Message | Ephemeral, action_id: str, value: str | None = None
    ) -> Reply:
        """`who` clicks the button `action_id` (with `value`, if several share it) on a message,
        or on an ephemeral only they see: Slack sends no `message` for those, and a response_url
        post with `replace_original` replaces what was clicked."""
        user = self.ws.user_named(who)
        button = _find_button(message.blocks or [], action_id, value)
        channel = self.ws.channels[message.channel]
        ephemeral = isinstance(message, Ephemeral)
        if ephemeral and message.user != user.id:
            raise AssertionError(f"{who} cannot see that ephemeral message")
        payload = {
            "type": "block_actions",
            **self._who(user),
            "container": {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": channel.id,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": self.api.issue_trigger(user.id),
            "channel": {"id": channel.id, "name": channel.name},
            **({} if ephemeral else {"message": message.as_api()}),  # type: ignore[union-attr]
            "response_url": self._responder(channel.id, user.id, message),
        }
        return self._press(payload, button, f"click {action_id}")

    def click_home(
        self, who: str, action_id: str, value: str | None = None, *, forged_from: str = ""
    ) -> Reply:
        """`who` clicks a button of their App Home tab, as the bot last published it (or, a
        crafted request, of the App Home of `forged_from`). Slack sends the view, and no
        channel and no response_url, for those."""
        user = self.ws.user_named(who)
        view = self.api.home.get(self.user(forged_from or who))
        if view is None:
            raise AssertionError(f"{who} has no App Home published")
        button = _find_button(view["blocks"], action_id, value)
        payload = {
            "type": "block_actions",
            **self._who(user),
            "container": {"type": "view", "view_id": view["id"]},
            "trigger_id": self.api.issue_trigger(user.id),
            "view": view,
        }
        return self._press(payload, button, f"click {action_id} in the App Home")

    def _press(self, payload: dict[str, Any], button: dict[str, Any], what: str) -> Reply:
        """Deliver a `block_actions` payload for pressing `button` (as _find_button gives it)."""
        payload["actions"] = [
            {
                "action_id": button["action_id"],
                "block_id": button["block_id"],
                "value": button.get("value", ""),
                "type": "button",
                "text": button["text"],
                "action_ts": f"{time.time():.6f}",
            }
        ]
        form = urlencode({"payload": json.dumps(payload)}).encode()
        reply = self._deliver("interactive", payload, form, "application/x-www-form-urlencoded")
        if reply.status != 200:
            self.problems.append(f"{what}: HTTP {reply.status}")
        return reply

    def open_home(self, who: str) -> None:
        """`who` opens the bot's App Home tab (Slack sends `app_home_opened`)."""
        user = self.ws.user_named(who)
        self.emit(
            {
                "type": "app_home_opened",
                "user": user.id,
                "tab": "home",
                "channel": self.ws.im(user.id).id,
                "event_ts": f"{time.time():.6f}",
            }
        )
        deadline = time.monotonic() + 5
        while self.api.home.get(user.id) is None and time.monotonic() < deadline:
            time.sleep(0.01)

    def _who(self, user: User) -> dict[str, Any]:
        """The fields every interactive payload carries about where and who."""
        return {
            "team": {"id": self.ws.team_id, "domain": self.ws.domain},
            "user": {
                "id": user.id,
                "username": user.name,
                "name": user.name,
                "team_id": self.ws.team_id,
            },
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
        }

    def modal(self, who: str, wait: float = 2.0) -> dict[str, Any] | None:
        """The modal `who` has open on top, waiting up to `wait` s for the bot to open one
        (it does so after its ack, as Slack apps must)."""
        deadline = time.monotonic() + wait
        while True:
            stack = self.api.open_views.get(self.user(who)) or []
            if stack or time.monotonic() >= deadline:
                return self.api.views[stack[-1]] if stack else None
            time.sleep(0.01)

    def submit(
        self, who: str, values: dict[str, Any], *, times: int = 1, forged_from: str = ""
    ) -> Reply:
        """`who` fills the top modal's inputs (by block_id) and presses its submit button;
        `times` > 1 sends the same submission that often at once (a double click: each its
        own interaction, with its own trigger_id), and returns the first reply. `forged_from`:
        a crafted request, the top modal of that person submitted as `who` (its
        private_metadata and all)."""
        user = self.ws.user_named(who)
        holder = self.ws.user_named(forged_from or who)
        view = self.modal(holder.name)  # the bot opens it after its ack: give it a moment
        if view is None:
            raise AssertionError(f"{holder.name} has no modal open")
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element = block["element"]
            given = values.get(block["block_id"])
            state[block["block_id"]] = {element["action_id"]: _state_value(element, given)}
        unknown = set(values) - set(state)
        if unknown:
            raise AssertionError(f"the modal has no inputs {sorted(unknown)}")

        def deliver(_: int) -> Reply:
            # each click is an interaction of its own, with its own trigger_id (so its own body)
            payload = {
                "type": "view_submission",
                **self._who(user),
                "trigger_id": self.api.issue_trigger(user.id),
                "view": {
                    **view,
                    "state": {"values": state},
                    "team_id": self.ws.team_id,
                    "bot_id": self.ws.bot_id,
                    "app_id": APP_ID,
                },
            }
            form = urlencode({"payload": json.dumps(payload)}).encode()
            return self._deliver("interactive", payload, form, "application/x-www-form-urlencoded")

        with ThreadPoolExecutor(times) as pool:
            replies = list(pool.map(deliver, range(times)))
        reply = replies[0]
        if reply.status != 200:
            self.problems.append(f"view_submission: HTTP {reply.status}")
        elif reply.json.get("response_action") == "update":  # the same modal, its new content
            try:
                validate_view(reply.json.get("view"))
            except BlockError as exc:
                self.problems.append(f"view_submission update: {exc}")
                return reply
            self.api.views[view["id"]] = {
                **reply.json["view"],
                "id": view["id"],
                "hash": self.ws.next_ts(),
            }
        elif reply.json.get("response_action") != "errors":
            self.api.open_views[holder.id].remove(view["id"])  # Slack closes the modal
        return reply

    def archive(self, channel: str | Channel) -> None:
        """Someone archives the channel (Slack's conversations.archive): chat.postMessage there
        is then refused with `is_archived`, and conversations.info answers `is_archived: true`."""
        where = channel if isinstance(channel, Channel) else self.channel(channel)
        with self.ws.lock:
            where.is_archived = True

    def deactivate(self, who: str, *, dms_accepted: bool = True) -> None:
        """An admin deactivates a person: users.info answers `deleted: true`. Slack may still
        accept a DM to them (`dms_accepted`, nobody reads it) or refuse it (`channel_not_found`)."""
        user = self.ws.user_named(who)
        with self.ws.lock:
            user.deleted = True
            user.dms_after_deactivation = dms_accepted

    def join(self, who: str, channel: str) -> None:
        where = self.channel(channel)
        user_id = self.user(who)
        where.members.add(user_id)
        self._member_joined(where, user_id)

    def remove(self, who: str, channel: str) -> None:
        """Someone removes `who` from the channel (`/remove @who`); `who` may be the bot
        ("postmortem"). As in Slack, the bot then posts there no more: `not_in_channel` in a
        public channel (chat.postMessage still works there with chat:write.public), and in a
        private one it cannot even see, `channel_not_found`. A person's removal is delivered as
        `member_left_channel`; the bot's own would be `channel_left`/`group_left`, which the
        manifest does not subscribe to, so nothing is sent."""
        where = self.channel(channel)
        user_id = self.user(who)
        with self.ws.lock:
            where.members.discard(user_id)
        if user_id != self.ws.bot.id:
            self.emit(
                {
                    "type": "member_left_channel",
                    "user": user_id,
                    "channel": where.id,
                    "channel_type": "G" if where.is_private else "C",
                    "team": self.ws.team_id,
                    "event_ts": f"{time.time():.6f}",
                }
            )

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

    def _responder(
        self, channel_id: str, user_id: str, origin: Message | Ephemeral | None = None
    ) -> str:
        """A response_url; `origin`: the message whose button was clicked (what
        `replace_original` / `delete_original` act on)."""
        key = self.ws.new_id("R")
        self._responders[key] = (channel_id, user_id, origin)
        return f"{self.base_url}/respond/{key}"

    def _replace(self, origin: Message | Ephemeral, payload: dict[str, Any]) -> None:
        """What Slack does with `replace_original` / `delete_original` on a response_url."""
        with self.ws.lock:
            if payload.get("delete_original"):
                if isinstance(origin, Ephemeral):
                    self.ws.ephemerals.remove(origin)
                else:
                    self.ws.channels[origin.channel].messages.remove(origin)
                return
            blocks = payload.get("blocks")
            if len(str(payload.get("text", ""))) > MAX_MESSAGE_TEXT:
                self.problems.append("response_url: msg_too_long")
                return
            if blocks is not None:
                try:
                    validate_blocks(blocks, "message")
                except BlockError as exc:
                    self.problems.append(f"response_url: invalid_blocks: {exc}")
                    return
            self.problems += stray_markup(blocks, str(payload.get("text", "")))
            origin.text = str(payload.get("text", ""))
            origin.blocks = blocks

    def _show(
        self, channel_id: str, user_id: str, payload: dict[str, Any], source: str, ts: str = ""
    ) -> None:
        """What Slack does with an ack body or a response_url post."""
        blocks = payload.get("blocks")
        text = str(payload.get("text", ""))
        if len(text) > MAX_MESSAGE_TEXT:
            self.problems.append(f"{source}: msg_too_long: {len(text):,} characters of text")
            return
        if blocks is not None:
            try:
                validate_blocks(blocks, "message")
            except BlockError as exc:
                self.problems.append(f"{source}: invalid_blocks: {exc}")
                return
        self.problems += stray_markup(blocks, text)
        if not text and not blocks:
            return
        channel = self.ws.channels[channel_id]
        if payload.get("response_type") == "in_channel":
            self.ws.post(channel, self.ws.bot.id, text, blocks, bot=True, ts=ts)
        else:
            with self.ws.lock:
                self.ws.ephemerals.append(
                    Ephemeral(channel_id, user_id, text, blocks, ts or self.ws.next_ts())
                )

    def _record_ack(self, reply: Reply, channel_id: str, user_id: str, ts: str) -> None:
        if reply.seconds > ACK_DEADLINE_S:
            self.problems.append(f"ack took {reply.seconds:.1f}s (operation_timeout)")
        if reply.status != 200:
            self.problems.append(f"ack answered HTTP {reply.status}: {reply.body[:200]}")
            return
        if reply.body:
            self._show(channel_id, user_id, reply.json or {"text": reply.body}, "ack", ts)

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


def _find_button(blocks: list[dict[str, Any]], action_id: str, value: str | None) -> dict[str, Any]:
    for block in blocks:
        elements = (
            block.get("elements", []) if block["type"] == "actions" else [block.get("accessory")]
        )
        for element in elements:
            if (
                element
                and element.get("type") == "button"
                and element.get("action_id") == action_id
                and value in (None, element.get("value"))
            ):
                return {**element, "block_id": block.get("block_id", "")}
    raise AssertionError(f"no button {action_id!r} (value {value!r}) on that message")


def _state_value(element: dict[str, Any], given: Any) -> dict[str, Any]:
    """A modal input's value as Slack reports it in view.state.values."""
    kind = element["type"]
    if kind == "plain_text_input":
        return {"type": kind, "value": given}
    if kind == "users_select":
        return {"type": kind, "selected_user": given}
    if kind == "datepicker":
        return {"type": kind, "selected_date": given}
    if kind in ("static_select", "radio_buttons"):
        if given is None and kind == "radio_buttons":  # untouched: what it showed
            return {"type": kind, "selected_option": element.get("initial_option")}
        option = next((o for o in element["options"] if o["value"] == given), None)
        if given is not None and option is None:
            raise AssertionError(f"{given!r} is not an option")
        return {"type": kind, "selected_option": option}
    if kind == "checkboxes":  # `given`: the values ticked; None leaves what it showed
        if given is None:
            return {"type": kind, "selected_options": list(element.get("initial_options", []))}
        options = [o for o in element["options"] if o["value"] in given]
        if len(options) != len(set(given)):
            raise AssertionError(f"{given!r} are not all options")
        return {"type": kind, "selected_options": options}
    raise AssertionError(f"the emulator cannot fill a {kind}")


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
