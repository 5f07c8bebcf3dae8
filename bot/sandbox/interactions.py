"""What people do through the app's own surfaces: slash commands, shortcuts, button clicks,
modals and the App Home, sent to the app as Slack sends them; and what Slack does with the
app's answers (an ack's body, a response_url post)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from bot.sandbox.blockkit import (
    MAX_MESSAGE_TEXT,
    BlockError,
    stray_markup,
    validate_blocks,
    validate_view,
)
from bot.sandbox.people import People
from bot.sandbox.webapi import WebApi
from bot.sandbox.workspace import Ephemeral, Message, User

APP_ID = "A0POSTMORTEM"
ACK_DEADLINE_S = 3.0


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


class Interactions(People):
    """Mixed into Emulator, which provides the Web API, the lists of problems and answers,
    the response_url table, `base_url` and `_deliver` (to the app over HTTP or its socket)."""

    api: WebApi
    problems: list[str]
    answers: list[tuple[str, dict[str, Any]]]
    _responders: dict[str, tuple[str, str, Message | Ephemeral | None]]

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    def _deliver(self, kind: str, payload: dict[str, Any], body: bytes, content_type: str) -> Reply:
        raise NotImplementedError

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
        button = _find_button(message.blocks or [], action_id, value)
        return self._press(self._on_message(who, message), button, f"click {action_id}")

    def choose(
        self,
        who: str,
        message: Message | Ephemeral,
        action_id: str,
        value: str,
        shown: dict[str, str] | None = None,
    ) -> Reply:
        """`who` picks `value` in the select menu `action_id` of a message (a static_select's
        option value, a users_select's user id), while the message's other menus show what
        they picked there before (`shown`: action_id -> value): Slack sends the choice with
        the state of every menu of the message."""
        payload = self._on_message(who, message)
        state: dict[str, dict[str, Any]] = {}
        chosen = None
        for block in message.blocks or []:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element["type"] not in ("static_select", "users_select"):
                    continue
                aid = element["action_id"]
                given = value if aid == action_id else (shown or {}).get(aid)
                picked = _state_value(element, given)
                state.setdefault(block["block_id"], {})[aid] = picked
                if aid == action_id:
                    chosen = {"action_id": aid, "block_id": block["block_id"], **picked}
        if chosen is None:
            raise AssertionError(f"no select menu {action_id!r} on that message")
        payload["state"] = {"values": state}
        payload["actions"] = [{**chosen, "action_ts": f"{time.time():.6f}"}]
        form = urlencode({"payload": json.dumps(payload)}).encode()
        reply = self._deliver("interactive", payload, form, "application/x-www-form-urlencoded")
        if reply.status != 200:
            self.problems.append(f"choose {action_id}: HTTP {reply.status}")
        return reply

    def _on_message(self, who: str, message: Message | Ephemeral) -> dict[str, Any]:
        """What a block_actions payload says of who acted on which message, and where."""
        user = self.ws.user_named(who)
        channel = self.ws.channels[message.channel]
        ephemeral = isinstance(message, Ephemeral)
        if ephemeral and message.user != user.id:
            raise AssertionError(f"{who} cannot see that ephemeral message")
        return {
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

    # --- what Slack does with the app's answers -------------------------------------

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
                    self.ws.unpost(self.ws.channels[origin.channel], origin)
                return
            if self._refused(payload, "response_url"):
                return
            origin.text = str(payload.get("text", ""))
            origin.blocks = payload.get("blocks")

    def _refused(self, payload: dict[str, Any], source: str) -> bool:
        """Whether Slack would refuse to show an ack body or response_url post (its text over
        Slack's limit, blocks it rejects), noted in `problems` as `source: error: ...`; what
        it would show wrongly (stray markup) is noted too."""
        blocks = payload.get("blocks")
        text = str(payload.get("text", ""))
        if len(text) > MAX_MESSAGE_TEXT:
            self.problems.append(f"{source}: msg_too_long: {len(text):,} characters of text")
            return True
        if blocks is not None:
            try:
                validate_blocks(blocks, "message")
            except BlockError as exc:
                self.problems.append(f"{source}: invalid_blocks: {exc}")
                return True
        self.problems += stray_markup(blocks, text)
        return False

    def _show(
        self, channel_id: str, user_id: str, payload: dict[str, Any], source: str, ts: str = ""
    ) -> None:
        """What Slack does with an ack body or a response_url post."""
        if self._refused(payload, source):
            return
        blocks = payload.get("blocks")
        text = str(payload.get("text", ""))
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
