"""conversations.history and conversations.replies: a channel's messages, page by page, as
Slack pages them (cursor, limit, oldest/latest/inclusive, has_more)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from bot.sandbox.errors import ApiError
from bot.sandbox.workspace import Channel, Message, Workspace

Args = dict[str, Any]
Result = dict[str, Any]

# Slack's reference (docs.slack.dev methods/<method>.json, `limit`): conversations.history
# "default 100 ... Maximum of 999"; conversations.replies default 1000, minimum 1, maximum 1000.
HISTORY_LIMIT = (100, 999)
REPLIES_LIMIT = (1000, 1000)
# A cursor as Slack's reference examples show them: base64 of "next_ts:<ts without its dot>"
# ("bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz" = "next_ts:1512085861000543"), the next message to give.
CURSOR_PREFIX = "next_ts:"


def encode_cursor(ts: str) -> str:
    return base64.b64encode((CURSOR_PREFIX + ts.replace(".", "")).encode()).decode()


def decode_cursor(cursor: str) -> float:
    """The ts a cursor points at; ApiError `invalid_cursor` for anything Slack did not give."""
    try:
        raw = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ApiError("invalid_cursor") from None
    digits = raw.removeprefix(CURSOR_PREFIX)
    if not raw.startswith(CURSOR_PREFIX) or not digits.isdigit() or len(digits) <= 6:
        raise ApiError("invalid_cursor")
    return float(f"{digits[:-6]}.{digits[-6:]}")


def _limit(value: Any, bounds: tuple[int, int]) -> int:
    """The page size asked for; Slack answers with its default for none (or 0), and at most
    its maximum (it does not refuse a larger one)."""
    default, most = bounds
    try:
        asked = int(value) if value not in (None, "") else 0
    except (TypeError, ValueError):
        asked = 0
    return min(asked, most) if asked > 0 else default


def _bound(args: Args, name: str, default: float) -> float:
    value = args.get(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ApiError(f"invalid_ts_{name}") from None  # invalid_ts_oldest / invalid_ts_latest


def _within(args: Args) -> tuple[float, float, bool]:
    """(oldest, latest, inclusive): the reference's defaults are 0, now and false."""
    oldest = _bound(args, "oldest", 0.0)
    latest = _bound(args, "latest", float("inf"))
    inclusive = str(args.get("inclusive", "")).lower() in ("1", "true")
    return oldest, latest, inclusive


def _in_range(ts: float, oldest: float, latest: float, inclusive: bool) -> bool:
    if inclusive:
        return oldest <= ts <= latest
    return oldest < ts < latest


def page(
    messages: Sequence[Message], args: Args, bounds: tuple[int, int], *, newest_first: bool
) -> Result:
    """One page of `messages` (already in the order given), from the cursor's message on."""
    oldest, latest, inclusive = _within(args)
    chosen = [m for m in messages if _in_range(float(m.ts), oldest, latest, inclusive)]
    if args.get("cursor"):
        start = decode_cursor(str(args["cursor"]))
        if newest_first:
            chosen = [m for m in chosen if float(m.ts) <= start]
        else:
            chosen = [m for m in chosen if float(m.ts) >= start]
    size = _limit(args.get("limit"), bounds)
    shown, rest = chosen[:size], chosen[size:]
    result: Result = {
        "messages": [m.as_api() for m in shown],
        "has_more": bool(rest),
        "response_metadata": {"next_cursor": encode_cursor(rest[0].ts) if rest else ""},
    }
    for name in ("oldest", "latest"):  # echoed as in the reference's examples
        if args.get(name):
            result[name] = str(args[name])
    return result


class HistoryMethods:
    """The two reading methods, mixed into WebApi (which provides `ws` and `_channel`)."""

    ws: Workspace

    def _channel(
        self, channel_id: Any, *, member: bool = False, archived_ok: bool = False
    ) -> Channel:
        raise NotImplementedError

    def m_conversations_history(self, args: Args) -> Result:
        """Newest first; thread replies left out (but for those also sent to the channel,
        subtype thread_broadcast). A public channel the bot is not in: `not_in_channel` (the
        reference: "Only user tokens can access public channels they are not in"); a private
        one: `channel_not_found`. An archived channel's history is still read."""
        channel = self._channel(args["channel"], member=True, archived_ok=True)
        listed = [
            m
            for m in reversed(channel.messages)
            if not m.is_reply or m.extra.get("subtype") == "thread_broadcast"
        ]
        result = page(listed, args, HISTORY_LIMIT, newest_first=True)
        result["pin_count"] = sum(1 for m in channel.messages if m.pinned)
        return result

    def m_conversations_replies(self, args: Args) -> Result:
        """The parent, then its replies oldest first (Slack's reference example); for the ts
        of a reply, the same thread (the reference: "`ts` ... of either a thread's parent
        message or a message in the thread"); for a message without replies, that message
        alone. A ts that is no message: `thread_not_found`. The reference lists no
        `not_in_channel` for this method: a channel the bot is not in is `channel_not_found`."""
        channel = self._channel(args["channel"], archived_ok=True)
        if self.ws.bot.id not in channel.members:
            raise ApiError("channel_not_found")
        try:
            message = self.ws.find_message(channel, str(args["ts"]))
        except ValueError:
            message = None
        if message is None:
            raise ApiError("thread_not_found")
        parent = message
        if message.is_reply:
            parent = self.ws.find_message(channel, str(message.thread_ts)) or message
        thread = [parent] + [m for m in channel.messages if m.is_reply and m.thread_ts == parent.ts]
        return page(thread, args, REPLIES_LIMIT, newest_first=False)
