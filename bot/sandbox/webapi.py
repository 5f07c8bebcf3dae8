"""The Web API methods: Slack's checks (auth, scopes, arguments, limits) and their effects."""

from __future__ import annotations

import json
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.sandbox import events
from bot.sandbox.blockkit import (
    MAX_MESSAGE_TEXT,
    BlockError,
    BlocksTooLong,
    stray_markup,
    validate_blocks,
    validate_view,
)
from bot.sandbox.errors import ApiError
from bot.sandbox.grid import Org
from bot.sandbox.history import HistoryMethods
from bot.sandbox.marks import MarkMethods
from bot.sandbox.methods import METHODS
from bot.sandbox.workspace import CHANNEL_NAME_RE, Channel, Ephemeral, Message, User, Workspace

Args = dict[str, Any]
Result = dict[str, Any]

ORG_TOKEN_NEEDS_TEAM = frozenset(
    {"conversations.create", "conversations.list", "bots.info", "users.list"}
)
"""Methods whose `team_id` Slack's reference marks "required if org token is used" (of those
the emulator knows): on an org-wide install they are refused without it (`missing_argument`,
from the methods' own error lists)."""

# Calls per minute by tier (Slack's documented floors); tier 0 ("Special") is per channel.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
POST_BURST = 4  # chat.postMessage: about 1/s per channel, short bursts tolerated
TRIGGER_TTL_S = 3.0
MAX_UPDATE_TEXT = 4_000
MAX_INVITE_USERS = 100


MAX_ALT_TXT = 1000  # files.getUploadURLExternal: alt_txt_too_large past it (the reference)


@dataclass
class Fault:
    """An injected failure: the next `times` calls of a method answer with it."""

    error: str = "internal_error"
    status: int = 200
    retry_after: int | None = None
    times: int = 1
    channel: str | None = None  # only calls for this channel (or user's DM) fail


class RateLimiter:
    def __init__(self, enabled: bool = True, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self.clock = clock
        self._calls: dict[tuple[str, ...], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: tuple[str, ...], limit: int, window: float) -> None:
        """Raise a 429 ApiError if `limit` calls already fell within the last `window` s."""
        if not self.enabled:
            return
        now = self.clock()
        with self._lock:
            calls = self._calls[key]
            while calls and calls[0] <= now - window:
                calls.popleft()
            if len(calls) >= limit:
                wait = max(1, math.ceil(calls[0] + window - now))
                raise ApiError("ratelimited", 429, {"Retry-After": str(wait)})
            calls.append(now)


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _json(value: Any, error: str) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(error) from None
    return value


__all__ = ["ApiError", "Fault", "RateLimiter", "WebApi"]


class WebApi(HistoryMethods, MarkMethods):
    """Serves Web API calls for one workspace, refusing what Slack refuses. Every answer
    carries `X-OAuth-Scopes` (the granted scopes, comma-separated), as Slack's do."""

    def __init__(
        self, ws: Workspace, tokens: dict[str, str], scopes: set[str], limiter: RateLimiter
    ) -> None:
        self.ws = ws
        self.tokens = tokens  # token -> "bot" | "app"
        self.scopes = scopes
        self.limiter = limiter
        self.post_burst = POST_BURST  # chat.postMessage per channel within that many seconds
        self.refused: list[tuple[str, str]] = []  # (method, error) of every refusal
        self.problems: list[str] = []  # what Slack takes but shows wrongly (the emulator's list)
        self.faults: dict[str, list[Fault]] = defaultdict(list)
        self.delays: dict[str, float] = {}
        self.triggers: dict[str, tuple[float, bool]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.trigger_users: dict[str, str] = {}
        self.open_views: dict[str, list[str]] = defaultdict(list)  # user -> modal stack
        self.files: dict[str, dict[str, Any]] = {}
        self.home: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, Args]] = []
        self.on_join: Callable[[Channel, str], None] = lambda channel, user: None
        # An event about what the bot did (its message, edit, reaction, pin), for the app:
        # Emulator.emit, which sends it if the app subscribes and the bot is in the channel.
        self.on_event: Callable[[dict[str, Any], Channel], bool] = lambda event, channel: False
        self.socket_url: Callable[[], str] | None = None
        self.base_url = ""
        self.org: Org | None = None  # installed org-wide on this Enterprise Grid org

    # --- the pipeline --------------------------------------------------------------------

    def call(
        self, method: str, args: Args, token: str | None
    ) -> tuple[int, dict[str, str], Result]:
        headers = {"x-oauth-scopes": ",".join(sorted(self.scopes))}
        try:
            result = self._call(method, args, token)
            return 200, headers, {"ok": True, **result}
        except ApiError as exc:
            self.refused.append((method, exc.error))
            body: Result = {"ok": False, "error": exc.error, **exc.extra}
            return exc.status, {**headers, **exc.headers}, body

    def _call(self, method: str, args: Args, token: str | None) -> Result:
        spec = METHODS.get(method)
        handler = getattr(self, "m_" + method.replace(".", "_"), None)
        if spec is None or handler is None:
            raise ApiError("unknown_method")
        if method != "api.test":
            self._authenticate(method, token)
        # team_id is accepted by every method (org-wide apps); slack_sdk sends it from Bolt
        unknown = set(args) - set(spec["args"]) - {"token", "team_id"}
        if unknown:
            raise ApiError(
                "invalid_arguments",
                response_metadata={
                    "messages": [f"[ERROR] unknown field: {name}" for name in sorted(unknown)]
                },
            )
        self._check_args(method, spec, args)
        if self.org is not None and method in ORG_TOKEN_NEEDS_TEAM and not args.get("team_id"):
            raise ApiError("missing_argument")
        if spec["scopes"] and not self.scopes & set(spec["scopes"]):
            raise ApiError(
                "missing_scope", needed=spec["scopes"][0], provided=",".join(sorted(self.scopes))
            )
        self._fault(method, args)
        self._limit(method, spec, args)
        if delay := self.delays.get(method, self.delays.get("*", 0.0)):
            time.sleep(delay)
        with self.ws.lock:
            self.calls.append((method, dict(args)))
            result: Result = handler(args)
        return result

    def _authenticate(self, method: str, token: str | None) -> None:
        if not token:
            raise ApiError("not_authed")
        kind = self.tokens.get(token)
        if kind is None:
            raise ApiError("invalid_auth")
        if (kind == "app") != (method == "apps.connections.open"):
            raise ApiError("not_allowed_token_type")

    def _check_args(self, method: str, spec: dict[str, Any], args: Args) -> None:
        present = {k for k, v in args.items() if v not in (None, "")}
        for name in spec["required"]:
            if name not in present:
                if method == "conversations.create":
                    raise ApiError("invalid_name_required")
                if name == "channel" and method.startswith("chat."):
                    raise ApiError("channel_not_found")
                raise ApiError(
                    "invalid_arguments",
                    response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
                )
        for group in spec["one_of"]:
            if not present & set(group):
                raise ApiError("no_text" if "text" in group else "invalid_arguments")
        for group in spec["exclusive"]:
            if len(present & set(group)) > 1:
                raise ApiError(
                    "markdown_text_conflict" if "markdown_text" in group else "invalid_arguments"
                )

    def _fault(self, method: str, args: Args) -> None:
        for key in (method, "*"):
            queue = [
                f for f in self.faults.get(key, []) if f.channel in (None, args.get("channel"))
            ]
            if queue:
                fault = queue[0]
                fault.times -= 1
                if fault.times <= 0:
                    self.faults[key].remove(fault)
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                raise ApiError(fault.error, fault.status, headers)

    def _limit(self, method: str, spec: dict[str, Any], args: Args) -> None:
        tier = spec["tier"]
        if method == "chat.postMessage":
            burst = self.post_burst
            self.limiter.check((method, str(args.get("channel"))), burst, float(burst))
        elif tier in TIER_PER_MINUTE:
            self.limiter.check((method,), TIER_PER_MINUTE[tier], 60.0)

    # --- helpers -------------------------------------------------------------------------

    def _channel(
        self, channel_id: Any, *, member: bool = False, archived_ok: bool = False
    ) -> Channel:
        channel_id = str(channel_id)
        if channel_id.startswith(("U", "W")) and channel_id in self.ws.users:
            user = self.ws.users[channel_id]
            if user.deleted and not user.dms_after_deactivation:
                raise ApiError("channel_not_found")  # a deactivated person has no DM
            return self.ws.im(channel_id)
        channel = self.ws.channels.get(channel_id)
        if channel is None or not self.ws.can_see(self.ws.bot.id, channel):
            raise ApiError("channel_not_found")
        if member and self.ws.bot.id not in channel.members:
            raise ApiError("not_in_channel")
        if channel.is_archived and not archived_ok:
            raise ApiError("is_archived")
        return channel

    def _content(
        self, args: Args, max_text: int = MAX_MESSAGE_TEXT, too_long: str = "invalid_blocks"
    ) -> tuple[str, list[dict[str, Any]] | None]:
        """`too_long`: the method's answer to blocks that hold too much text together."""
        text = str(args.get("text") or args.get("markdown_text") or "")
        if len(text) > max_text:
            raise ApiError("msg_too_long")
        blocks = None
        if args.get("blocks") not in (None, ""):
            blocks = _json(args["blocks"], "invalid_blocks_format")
            try:
                validate_blocks(blocks, "message")
            except BlockError as exc:
                error = too_long if isinstance(exc, BlocksTooLong) else "invalid_blocks"
                raise ApiError(error, response_metadata={"messages": [f"[ERROR] {exc}"]}) from None
        self.problems += stray_markup(blocks, text)
        return text, blocks

    def _view(self, args: Args) -> dict[str, Any]:
        view = _json(args["view"], "invalid_arguments")
        try:
            validate_view(view)
        except BlockError as exc:
            raise ApiError(
                "invalid_arguments", response_metadata={"messages": [f"[ERROR] {exc}"]}
            ) from None
        return dict(view)

    def issue_trigger(self, user_id: str = "") -> str:
        trigger = f"{int(time.time())}.{self.ws.new_id('')}.trigger"
        self.triggers[trigger] = (time.monotonic(), False)
        self.trigger_users[trigger] = user_id
        return trigger

    def _use_trigger(self, trigger: str) -> None:
        issued = self.triggers.get(trigger)
        if issued is None:
            raise ApiError("invalid_trigger_id")
        at, used = issued
        if used:
            raise ApiError("exchanged_trigger_id")
        if time.monotonic() - at > TRIGGER_TTL_S:
            raise ApiError("expired_trigger_id")
        self.triggers[trigger] = (at, True)

    # --- methods -------------------------------------------------------------------------

    def m_api_test(self, args: Args) -> Result:
        if args.get("error"):
            raise ApiError(str(args["error"]))
        return {"args": args}

    def m_auth_test(self, args: Args) -> Result:
        return {
            "url": f"https://{self.ws.domain}.slack.com/",
            "team": self.ws.domain,
            "user": self.ws.bot.name,
            "team_id": self.ws.team_id,
            "user_id": self.ws.bot.id,
            "bot_id": self.ws.bot_id,
            "is_enterprise_install": self.org is not None,
            **({"enterprise_id": self.org.id} if self.org else {}),
        }

    def m_team_info(self, args: Args) -> Result:
        team = {"id": self.ws.team_id, "name": self.ws.domain, "domain": self.ws.domain}
        if self.org:
            team.update(enterprise_id=self.org.id, enterprise_name=self.org.name)
        return {"team": team}

    def _person(self, user: User) -> dict[str, Any]:
        """A user object; on Grid with the org's `enterprise_user` (samples: users.info)."""
        found = user.as_api(self.ws.team_id)
        if self.org:
            found["enterprise_user"] = {
                "id": user.id,
                "enterprise_id": self.org.id,
                "enterprise_name": self.org.name,
                "teams": [self.ws.team_id],
            }
        return found

    def m_users_info(self, args: Args) -> Result:
        user = self.ws.users.get(str(args["user"]))
        if user is None:
            raise ApiError("user_not_found")
        return {"user": self._person(user)}

    def m_bots_info(self, args: Args) -> Result:
        bot_id = str(args.get("bot") or "")
        if not bot_id:
            raise ApiError("missing_argument")
        name = self.ws.apps.get(bot_id)
        if name is None:
            raise ApiError("bot_not_found")
        return {"bot": {"id": bot_id, "name": name, "deleted": False, "updated": 0}}

    def m_users_list(self, args: Args) -> Result:
        return {
            "members": [self._person(u) for u in self.ws.users.values()],
            "response_metadata": {"next_cursor": ""},
        }

    def m_conversations_create(self, args: Args) -> Result:
        name = str(args["name"])
        if len(name) > 80:
            raise ApiError("invalid_name_maxlength")
        if not CHANNEL_NAME_RE.match(name):
            raise ApiError("invalid_name_specials")
        if any(c.name == name for c in self.ws.channels.values()):
            raise ApiError("name_taken")
        channel = self.ws.add_channel(
            name, self.ws.bot.id, is_private=_bool(args.get("is_private"))
        )
        return {"channel": channel.as_api()}

    def m_conversations_invite(self, args: Args) -> Result:
        channel = self._channel(args["channel"], member=True)
        users = [u for u in str(args["users"]).split(",") if u]
        if len(users) > MAX_INVITE_USERS:
            raise ApiError("too_many_users")
        for user_id in users:
            if user_id == self.ws.bot.id:
                raise ApiError("cant_invite_self")
            user = self.ws.users.get(user_id)
            if user is None:
                raise ApiError("user_not_found")
            if user.deleted:
                raise ApiError("cant_invite")
        new = [u for u in users if u not in channel.members]
        if not new:
            raise ApiError("already_in_channel")
        for user_id in new:
            channel.members.add(user_id)
            self.on_join(channel, user_id)
        return {"channel": channel.as_api()}

    def _set(self, args: Args, key: str) -> Result:
        channel = self._channel(args["channel"], member=True)
        value = str(args[key])
        if len(value) > 250:
            raise ApiError("too_long")
        setattr(channel, key, value)
        return {"channel": channel.as_api()}

    def m_conversations_setTopic(self, args: Args) -> Result:
        return self._set(args, "topic")

    def m_conversations_setPurpose(self, args: Args) -> Result:
        return self._set(args, "purpose")

    def m_conversations_info(self, args: Args) -> Result:
        # an archived channel is described (`is_archived: true`), not refused; `is_member`
        # says whether the caller (the bot) is in it (java-slack-sdk-json-samples)
        channel = self._channel(args["channel"], archived_ok=True)
        return {"channel": {**channel.as_api(), "is_member": self.ws.bot.id in channel.members}}

    def m_conversations_members(self, args: Args) -> Result:
        channel = self._channel(args["channel"])
        return {"members": sorted(channel.members), "response_metadata": {"next_cursor": ""}}

    def m_conversations_join(self, args: Args) -> Result:
        channel = self._channel(args["channel"])
        if channel.is_private:
            raise ApiError("method_not_supported_for_channel_type")
        channel.members.add(self.ws.bot.id)
        return {"channel": channel.as_api()}

    def m_conversations_archive(self, args: Args) -> Result:
        channel = self._channel(args["channel"], member=True, archived_ok=True)
        if channel.is_archived:
            raise ApiError("already_archived")
        channel.is_archived = True
        return {}

    def m_conversations_open(self, args: Args) -> Result:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if not users and not args.get("channel"):
            raise ApiError("users_list_not_supplied")
        if len(users) > 1:
            raise ApiError("not_implemented")
        if users:
            user = self.ws.users.get(users[0])
            if user is None:
                raise ApiError("user_not_found")
            if user.deleted:
                raise ApiError("user_disabled")
            return {"channel": {"id": self.ws.im(user.id).id}}
        return {"channel": {"id": self._channel(args["channel"]).id}}

    def m_conversations_list(self, args: Args) -> Result:
        visible = [
            c.as_api()
            for c in self.ws.channels.values()
            if not c.is_im and self.ws.can_see(self.ws.bot.id, c)
        ]
        return {"channels": visible, "response_metadata": {"next_cursor": ""}}

    def m_chat_postMessage(self, args: Args) -> Result:
        channel = self._channel(args["channel"])
        if self.ws.bot.id not in channel.members and not (
            "chat:write.public" in self.scopes and not channel.is_private
        ):
            raise ApiError("not_in_channel")
        text, blocks = self._content(args, too_long="msg_blocks_too_long")
        thread_ts = str(args.get("thread_ts") or "") or None
        if thread_ts and self.ws.find_message(channel, thread_ts) is None:
            thread_ts = None  # Slack posts to the channel when there is no such parent
        message = self.ws.post(channel, self.ws.bot.id, text, blocks, bot=True, thread_ts=thread_ts)
        self.on_event(events.posted(message, channel, self.ws.team_id), channel)
        return {"channel": channel.id, "ts": message.ts, "message": message.as_api()}

    def m_chat_postEphemeral(self, args: Args) -> Result:
        channel = self._channel(args["channel"])
        user = str(args["user"])
        if user not in channel.members:
            raise ApiError("user_not_in_channel")
        text, blocks = self._content(args)
        self.ws.ephemerals.append(Ephemeral(channel.id, user, text, blocks, self.ws.next_ts()))
        return {"message_ts": self.ws.next_ts()}

    def _own_message(self, args: Args, refusal: str) -> tuple[Channel, Message]:
        """The channel and the bot's own message at `ts`; Slack's refusal for anyone else's."""
        channel = self._channel(args["channel"])
        message = self.ws.find_message(channel, str(args["ts"]))
        if message is None:
            raise ApiError("message_not_found")
        if message.user != self.ws.bot.id:
            raise ApiError(refusal)
        return channel, message

    def m_chat_update(self, args: Args) -> Result:
        channel, message = self._own_message(args, "cant_update_message")
        before = message.as_api()
        # chat.update's reference: "The `text` field cannot exceed 4,000 characters."
        message.text, message.blocks = self._content(args, max_text=MAX_UPDATE_TEXT)
        message.edited = True
        message.edited_by, message.edited_ts = self.ws.bot.id, self.ws.next_ts()
        self.on_event(events.changed(message, before, channel), channel)
        return {"channel": channel.id, "ts": message.ts, "text": message.text}

    def m_chat_delete(self, args: Args) -> Result:
        channel, message = self._own_message(args, "cant_delete_message")
        before = message.as_api()
        self.ws.unpost(channel, message)
        self.on_event(events.deleted(before, channel), channel)
        return {"channel": channel.id, "ts": message.ts}

    def m_chat_getPermalink(self, args: Args) -> Result:
        channel = self._channel(args["channel"])
        if self.ws.find_message(channel, str(args["message_ts"])) is None:
            raise ApiError("message_not_found")
        ts = str(args["message_ts"]).replace(".", "")
        return {
            "channel": channel.id,
            "permalink": f"https://{self.ws.domain}.slack.com/archives/{channel.id}/p{ts}",
        }

    def m_bookmarks_add(self, args: Args) -> Result:
        self._channel(args.get("channel_id"), member=True)
        return {
            "bookmark": {
                "id": self.ws.new_id("Bk"),
                "title": args["title"],
                "link": args.get("link", ""),
                "type": args["type"],
            }
        }

    def m_views_open(self, args: Args) -> Result:
        view = self._view(args)
        trigger = str(args.get("trigger_id") or args.get("interactivity_pointer"))
        self._use_trigger(trigger)
        view_id = self.ws.new_id("V")
        self.views[view_id] = {**view, "id": view_id, "hash": self.ws.next_ts()}
        self.open_views[self.trigger_users.get(trigger, "")].append(view_id)
        return {"view": self.views[view_id]}

    def m_views_push(self, args: Args) -> Result:
        return self.m_views_open(args)

    def m_views_update(self, args: Args) -> Result:
        view = self._view(args)
        view_id = args.get("view_id") or next(
            (k for k, v in self.views.items() if v.get("external_id") == args.get("external_id")),
            None,
        )
        if view_id not in self.views:
            raise ApiError("not_found")
        current = self.views[str(view_id)]
        if args.get("hash") and args["hash"] != current["hash"]:
            raise ApiError("hash_conflict")
        self.views[str(view_id)] = {**view, "id": view_id, "hash": self.ws.next_ts()}
        return {"view": self.views[str(view_id)]}

    def m_views_publish(self, args: Args) -> Result:
        view = self._view(args)
        if view["type"] != "home":
            raise ApiError("invalid_arguments")
        user_id = str(args["user_id"])
        if user_id not in self.ws.users:
            raise ApiError("user_not_found")
        self.home[user_id] = {**view, "id": self.ws.new_id("V"), "hash": self.ws.next_ts()}
        return {"view": self.home[user_id]}

    def m_files_getUploadURLExternal(self, args: Args) -> Result:
        length = str(args["length"])
        if not length.isdigit() or int(length) <= 0:
            raise ApiError(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] length must be a positive integer"]},
            )
        if int(length) > 1_000_000_000:
            raise ApiError("file_upload_size_restricted")
        alt = str(args.get("alt_txt") or "")
        if len(alt) > MAX_ALT_TXT:
            raise ApiError("alt_txt_too_large")
        file_id = self.ws.new_id("F")
        self.files[file_id] = {
            "id": file_id,
            "name": str(args["filename"]),
            "length": int(length),
            "content": None,
            "alt_txt": alt,
        }
        return {"file_id": file_id, "upload_url": f"{self.base_url}/upload/{file_id}"}

    def m_files_completeUploadExternal(self, args: Args) -> Result:
        files = _json(args["files"], "invalid_arguments")
        if not isinstance(files, list) or not files:
            raise ApiError("invalid_arguments")
        shared = []
        for item in files:
            stored = self.files.get(str(item.get("id")))
            if stored is None or stored["content"] is None:
                raise ApiError("file_not_found")
            if len(stored["content"]) != stored["length"]:
                raise ApiError("file_update_failed")
            stored["title"] = item.get("title") or stored["name"]
            shared.append(stored)
        if args.get("channel_id"):
            channel = self._channel(args["channel_id"], member=True)
            comment = str(args.get("initial_comment") or "")
            if len(comment) > MAX_MESSAGE_TEXT:
                raise ApiError("msg_too_long")
            message = self.ws.post(channel, self.ws.bot.id, comment, bot=True)
            message.files = [
                {
                    **f,
                    "permalink": f"https://{self.ws.domain}.slack.com/files/"
                    f"{self.ws.bot.id}/{f['id']}/{f['name']}",
                }
                for f in shared
            ]
        return {"files": [{"id": f["id"], "name": f["name"], "title": f["title"]} for f in shared]}

    def upload(self, file_id: str, content: bytes) -> bool:
        """The upload URL: takes the bytes of a file announced by getUploadURLExternal."""
        stored = self.files.get(file_id)
        if stored is None or stored["content"] is not None:
            return False
        stored["content"] = content
        return True

    def m_apps_connections_open(self, args: Args) -> Result:
        if self.socket_url is None:
            raise ApiError("internal_error")
        return {"url": self.socket_url()}
