"""Reading an incident channel's history for `/timeline import`: conversations.history page by
page, conversations.replies thread by thread, as plain `Posted` records."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.proposals import SAID, Posted
from bot.slack.directory import Directory
from bot.slack.failures import FAILURES, Told, reason
from bot.slack.messages import Author, message_author, message_text

logger = logging.getLogger(__name__)

# conversations.history and conversations.replies (docs.slack.dev methods): at most 200 per
# page is what Slack advises ("no more than 200 results at a time"), the cursor in
# response_metadata.next_cursor; both are Tier 3 (50+ a minute). A 429 is waited out by the
# client's RateLimitErrorRetryHandler (bot/slack/app.py create_client), Retry-After seconds.
PAGE = 200


class HistoryRefused(Told):
    """Slack would not give the channel's history; the words say why and what to do."""


def _pages(call: Any, **args: Any) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        page = call(**args, limit=PAGE, **({"cursor": cursor} if cursor else {}))
        yield from page.get("messages") or []
        cursor = (page.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            return


def read_channel(
    client: WebClient, channel_id: str, since: datetime
) -> tuple[list[dict[str, Any]], list[str]]:
    """The channel's own messages since `since` (UTC) as Slack gives them (dicts, thread
    replies left out), each once, oldest first; and the ts of the thread parents among them
    (oldest first), whose replies `read_thread` reads. Raises HistoryRefused (not_in_channel,
    ratelimited after the client's retries, missing_scope, a timeout, ...)."""
    oldest = f"{since.timestamp():.6f}"
    try:
        found = {
            m["ts"]: m
            for m in _pages(
                client.conversations_history, channel=channel_id, oldest=oldest, inclusive=True
            )
            if isinstance(m.get("ts"), str)
        }
    except FAILURES as exc:
        why = reason(exc)
        logger.warning("reading history of %s: %s", channel_id, why)
        raise HistoryRefused(_refusal(why, channel_id)) from exc
    messages = sorted(found.values(), key=lambda m: float(m["ts"]))
    return messages, [m["ts"] for m in messages if m.get("reply_count") and m.get("thread_ts")]


def read_thread(client: WebClient, channel_id: str, parent: str) -> list[dict[str, Any]]:
    """The replies of the thread `parent` (the parent left out), each with its thread_ts.
    Raises what the client raises: SlackApiError (a 429 `ratelimited` with Retry-After when
    `client` does not wait those out: see `hasty`), OSError. A thread deleted meanwhile
    (`thread_not_found`) has none."""
    try:
        return [
            {**reply, "thread_ts": reply.get("thread_ts", parent)}
            for reply in _pages(client.conversations_replies, channel=channel_id, ts=parent)
            if isinstance(reply.get("ts"), str) and reply["ts"] != parent
        ]
    except SlackApiError as exc:
        if reason(exc) == "thread_not_found":
            return []
        raise


def hasty(client: WebClient) -> WebClient:
    """`client` without its rate-limit retries: a 429 raises SlackApiError at once, so the
    caller decides whether to wait (Retry-After) or to show what it has."""
    return WebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        retry_handlers=[
            h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)
        ],
    )


def retry_after(exc: Exception) -> float | None:
    """Seconds Slack asks to wait (a 429's Retry-After, 1 if it says none); None if `exc`
    is not a rate limit."""
    if not isinstance(exc, SlackApiError) or exc.response.status_code != 429:
        return None
    headers = {str(k).lower(): v for k, v in (exc.response.headers or {}).items()}
    value = headers.get("retry-after")
    if isinstance(value, list):  # urllib's headers may come as lists
        value = value[0] if value else None
    try:
        return max(1.0, float(value or 1))
    except ValueError:
        return 1.0


def _refusal(why: str, channel_id: str) -> str:
    again = "then type `/timeline import` again."
    if why == "not_in_channel":
        what = f"I am not in <#{channel_id}>: invite me (`/invite @postmortem-bot`), {again}"
    elif why in ("ratelimited", "rate_limited"):
        what = f"Slack kept asking me to slow down: wait a minute, {again}"
    elif why == "missing_scope":
        what = (
            "the app may not read channel history (`channels:history` / `groups:history`): "
            f"reinstall it from manifest.yml, {again}"
        )
    else:
        what = again.capitalize()
    return (
        f":warning: I could not read the channel's history (Slack said `{why}`): {what} "
        "Nothing was kept."
    )


def posted(
    messages: list[dict[str, Any]], directory: Directory, own: tuple[str | None, str | None]
) -> list[Posted]:
    """Slack's messages as `Posted` records: words as people read them (names for ids),
    the author by name, apps remembered as apps. `own` is the bot's (bot_id, user id)."""
    bot_id, bot_user = own
    names = directory.names()
    authors: dict[Author, tuple[str, str]] = {}
    found = []
    for message in messages:
        subtype = str(message.get("subtype") or "")
        is_own = bool(
            (bot_id and message.get("bot_id") == bot_id)
            or (bot_user and message.get("user") == bot_user)
        )
        at = datetime.fromtimestamp(float(message["ts"]), UTC)
        if is_own or subtype not in SAID:  # never proposed: no names asked for
            found.append(Posted(message["ts"], at, "", "", False, "", subtype, is_own))
            continue
        author = message_author(message)
        if author not in authors:
            author_id = directory.author(author)
            shown = (
                directory.store.real_name(directory.team_id, author_id)
                if author.is_app
                else directory.user(author_id)
            )
            authors[author] = (author_id, author.name or shown or author_id)
        author_id, name = authors[author]
        thread = message.get("thread_ts")
        found.append(
            Posted(
                ts=message["ts"],
                at=at,
                author_id=author_id,
                author_name=name,
                is_app=author.is_app,
                text=message_text(message, names),
                subtype=subtype,
                in_thread=bool(thread and thread != message["ts"]),
            )
        )
    return found
