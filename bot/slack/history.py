"""Reading an incident channel's history for `/timeline import`: conversations.history page by
page, then conversations.replies for each thread, as plain `Posted` records."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

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


def read_channel(client: WebClient, channel_id: str, since: datetime) -> list[dict[str, Any]]:
    """The channel's messages since `since` (UTC), thread replies included, as Slack gives
    them (dicts), each once, oldest first. Raises HistoryRefused (not_in_channel, ratelimited
    after the client's retries, missing_scope, a timeout, ...)."""
    oldest = f"{since.timestamp():.6f}"
    try:
        found = {
            m["ts"]: m
            for m in _pages(
                client.conversations_history, channel=channel_id, oldest=oldest, inclusive=True
            )
            if isinstance(m.get("ts"), str)
        }
        parents = [m["ts"] for m in found.values() if m.get("reply_count") and m.get("thread_ts")]
        for parent in parents:
            for reply in _pages(client.conversations_replies, channel=channel_id, ts=parent):
                if isinstance(reply.get("ts"), str) and reply["ts"] not in found:
                    found[reply["ts"]] = {**reply, "thread_ts": reply.get("thread_ts", parent)}
    except FAILURES as exc:
        why = reason(exc)
        logger.warning("reading history of %s: %s", channel_id, why)
        raise HistoryRefused(_refusal(why, channel_id)) from exc
    return sorted(found.values(), key=lambda m: float(m["ts"]))


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
