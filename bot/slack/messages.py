"""A Slack message as people read it: its words as plain text, and who posted it.

Pure: payload dicts in, strings out; names are looked up through callables the caller passes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.free_text import without_controls

# Slack markup in `text` (docs.slack.dev "Formatting text for app surfaces"): <@U1|ann>, <#C1|ops>,
# <!here>, <!subteam^S1|@sre>, <!date^1700000000^{date}|fallback>, <https://x|label>. Typed
# < > & arrive as &lt; &gt; &amp;, so a real "<" only ever opens markup.
_TOKEN_RE = re.compile(r"<([^<>]*)>")
_SCHEME_RE = re.compile(r"^[a-z][a-z0-9+.-]*:(?://)?", re.IGNORECASE)
_BULLETS = "•◦▪"  # Slack's bullets for list indent 0, 1, 2, then again
_MAX_INDENT = 8  # rich_text_list `indent` runs 0..8 (docs.slack.dev rich-text-list-element)


def _nobody(_id: str) -> str | None:
    return None


@dataclass(frozen=True)
class Names:
    """Name lookups the caller provides, e.g. `user=lambda uid: cached_users_info(uid)`.

    Each returns the current display name (no `@`/`#`) or None; it must not raise, so a lookup
    backed by users.info / conversations.info catches its own API errors and caches.
    """

    user: Callable[[str], str | None] = _nobody
    channel: Callable[[str], str | None] = _nobody


@dataclass(frozen=True)
class Author:
    """Who posted a message: a person (`U…` id) or an app (`B…` bot id, `is_app`).

    `name` is what Slack shows above the message when the payload carries it, else None (the
    caller then asks users.info or bots.info).
    """

    id: str
    name: str | None
    is_app: bool


def message_author(message: dict[str, Any]) -> Author:
    """`{"bot_id": "B1", "bot_profile": {"name": "PagerDuty"}}` -> Author("B1", "PagerDuty", True).

    An app's message has `bot_id` or `subtype: "bot_message"` (events/MessageBotPayload.json);
    Slack shows a custom `username` (chat:write.customize, incoming webhooks) over the app's
    `bot_profile.name` (events/MessagePayload.json). A person's message has `user`, and
    sometimes `user_profile` with `display_name`/`real_name` (events/AppMentionPayload.json).
    """
    bot_id = _str(message, "bot_id")
    if bot_id or message.get("subtype") == "bot_message":
        name = _str(message, "username") or _str(message.get("bot_profile"), "name")
        return Author(bot_id or _str(message, "user") or "unknown", name or None, True)
    profile = message.get("user_profile")
    name = _str(profile, "display_name") or _str(profile, "real_name")
    return Author(_str(message, "user") or "unknown", name or None, False)


def message_text(message: dict[str, Any], names: Names) -> str:
    """What a person reads in a Slack message, as plain text with its line breaks; "" if nothing.

    Shapes (app-backend/interactive-components/MessageShortcutPayload.json, events/Message*.json):
    `text` (mrkdwn), `blocks`, legacy `attachments` (alerting tools), `files` (file_share).
    Output: the body, then each attachment, then each file (`📎 title (permalink)`), one per line.
    The body is the blocks when they render to anything: Slack shows blocks and keeps `text` only
    as the notification fallback (docs.slack.dev chat.postMessage), and for a message typed in
    the composer `text` is a copy of its rich_text block (docs.slack.dev rich-text-block), so it
    is never shown twice. Otherwise (no blocks, or only buttons/images/dividers) it is `text`.
    Mentions: `@` + names.user(id), else the token's label, else `@unknown-user` (same for
    `#channel`); user groups `@` + label, else `@group`; links `label (url)`, or the url alone
    when the label is the url (with or without its scheme); `mailto:` is dropped. Link previews
    Slack unfurled (`from_url`) are left out: the url is already in the text.
    """
    if not isinstance(message, dict):
        return ""
    body = _blocks(message.get("blocks"), names) or _mrkdwn(_str(message, "text"), names)
    attachments = [_attachment(a, names) for a in _dicts(message.get("attachments"))]
    files = [_file(f) for f in _dicts(message.get("files"))]
    return _tidy(_lines([body, *attachments, *files]))


def _str(obj: Any, key: str) -> str:
    value = obj.get(key) if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


def _dicts(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))


def _int(value: Any, low: int, high: int) -> int:
    number = value if isinstance(value, int) and not isinstance(value, bool) else low
    return min(max(number, low), high)


def _lines(parts: list[str], sep: str = "\n") -> str:
    return sep.join(part for part in parts if part.strip())


def _tidy(text: str) -> str:
    """Controls out, \r\n -> \n, trailing spaces off, blank runs -> one blank line, ends trimmed."""
    lines = [line.rstrip() for line in without_controls(text).split("\n")]
    kept = [line for i, line in enumerate(lines) if line or (i > 0 and lines[i - 1])]
    return "\n".join(kept).strip("\n")


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _mrkdwn(text: str, names: Names) -> str:
    """`<@U1> see <https://x|dash> &lt;3` -> `@ann see dash (https://x) <3`."""
    pieces = _TOKEN_RE.split(text)  # plain, token, plain, token, ..., plain
    return "".join(_token(p, names) if i % 2 else _unescape(p) for i, p in enumerate(pieces))


def _token(token: str, names: Names) -> str:
    target, _, label = (_unescape(part) for part in token.partition("|"))
    if target.startswith("@"):
        return _named("@", target[1:], label, names.user)
    if target.startswith("#"):
        return _named("#", target[1:], label, names.channel)
    if target.startswith("!"):
        kind, _, rest = target[1:].partition("^")
        if kind == "subteam":
            return "@" + (label.removeprefix("@") or "group")
        if kind == "date":
            return label or _utc(rest.partition("^")[0])
        return "@" + kind  # here, channel, everyone
    return _link(target, label)


def _named(sigil: str, key: str, label: str, lookup: Callable[[str], str | None]) -> str:
    """`@` + current name, else the token's label, else `@unknown-user` (`#unknown-channel`)."""
    found = lookup(key) if key else None
    unknown = "unknown-user" if sigil == "@" else "unknown-channel"
    return sigil + (found or label.removeprefix(sigil) or unknown)


def _link(url: str, label: str) -> str:
    shown = url.removeprefix("mailto:")
    if not label or label in (url, shown, _SCHEME_RE.sub("", url).rstrip("/")):
        return shown
    return f"{label} ({shown})" if shown else label


def _utc(stamp: Any) -> str:
    try:
        return f"{datetime.fromtimestamp(float(stamp), UTC):%Y-%m-%d %H:%M} UTC"
    except (TypeError, ValueError, OverflowError, OSError):
        return ""


def _text_object(obj: Any, names: Names) -> str:
    """A Block Kit text object: `plain_text` is literal, `mrkdwn` is decoded."""
    text = _str(obj, "text")
    return _mrkdwn(text, names) if _str(obj, "type") == "mrkdwn" else text


def _blocks(blocks: Any, names: Names) -> str:
    return _lines([_block(block, names) for block in _dicts(blocks)])


def _block(block: dict[str, Any], names: Names) -> str:
    """rich_text, section (text + fields), header, context, markdown; others show no words."""
    kind = block.get("type")
    if kind == "rich_text":
        return "\n".join(_rich(element, names, 0) for element in _dicts(block.get("elements")))
    if kind in ("section", "header"):
        fields = [_text_object(field, names) for field in _dicts(block.get("fields"))]
        return _lines([_text_object(block.get("text"), names), *fields])
    if kind == "context":
        return _lines([_text_object(e, names) for e in _dicts(block.get("elements"))], " ")
    if kind == "markdown":
        return _str(block, "text")
    return ""


def _rich(element: dict[str, Any], names: Names, depth: int) -> str:
    """rich_text_section / _preformatted (verbatim) / _quote (`> ` lines) / _list."""
    kind = element.get("type")
    if kind == "rich_text_list":
        return _rich_list(element, names, depth) if depth <= _MAX_INDENT else ""
    text = "".join(_inline(item, names) for item in _dicts(element.get("elements")))
    text = text.rstrip("\n")  # the composer ends a section with "\n" before the next one
    if kind == "rich_text_quote":
        return "\n".join("> " + line for line in text.split("\n"))
    return text


def _rich_list(element: dict[str, Any], names: Names, depth: int) -> str:
    """`• item` / `3. item` lines, two spaces per indent level, continuation lines aligned."""
    indent = _int(element.get("indent"), 0, _MAX_INDENT)
    number = _int(element.get("offset"), 0, 10**6)
    lines = []
    for item in _dicts(element.get("elements")):
        if item.get("type") == "rich_text_list":
            lines.append(_rich(item, names, depth + 1))
            continue
        number += 1
        mark = f"{number}. " if element.get("style") == "ordered" else _BULLETS[indent % 3] + " "
        lead = "  " * indent
        text = _rich(item, names, depth + 1).replace("\n", "\n" + lead + " " * len(mark))
        lines.append(lead + mark + text)
    return "\n".join(lines)


def _inline(item: dict[str, Any], names: Names) -> str:
    """One rich text element: text, link, user, channel, usergroup, broadcast, emoji, date."""
    kind = item.get("type")
    if kind == "text":
        return _str(item, "text")
    if kind == "link":
        return _link(_str(item, "url"), _str(item, "text"))
    if kind == "user":
        return _named("@", _str(item, "user_id"), "", names.user)
    if kind == "channel":
        return _named("#", _str(item, "channel_id"), "", names.channel)
    if kind == "usergroup":
        return "@group"
    if kind == "broadcast":
        return "@" + (_str(item, "range") or "here")
    if kind == "emoji":
        return _emoji(item)
    if kind == "date":
        return _str(item, "fallback") or _utc(item.get("timestamp"))
    return _str(item, "text") or _str(item, "fallback") or _str(item, "url") or _str(item, "value")


def _emoji(item: dict[str, Any]) -> str:
    """The emoji's `unicode` code points (`1f525`, `1f468-200d-1f4bb`), else `:name:`."""
    try:
        points = [int(point, 16) for point in _str(item, "unicode").split("-")]
    except ValueError:
        points = []
    if points and all(0x20 <= p <= 0x10FFFF and not 0xD800 <= p <= 0xDFFF for p in points):
        return "".join(map(chr, points))
    name = _str(item, "name")
    return f":{name}:" if name else ""


def _attachment(attachment: dict[str, Any], names: Names) -> str:
    """Legacy attachment lines: pretext, author, title (link), text, `Title: value`, blocks,
    footer; `fallback` only when none of those has words (api.slack.com/docs/attachments)."""
    if _str(attachment, "from_url") and not attachment.get("is_msg_unfurl"):
        return ""  # a link preview Slack unfurled; the url is in the message already
    fields = []
    for field in _dicts(attachment.get("fields")):
        title, value = _mrkdwn(_str(field, "title"), names), _mrkdwn(_str(field, "value"), names)
        fields.append(f"{title}: {value}" if title.strip() and value.strip() else title + value)
    shown = _lines(
        [
            _mrkdwn(_str(attachment, "pretext"), names),
            _mrkdwn(_str(attachment, "author_name"), names),
            _link(_str(attachment, "title_link"), _mrkdwn(_str(attachment, "title"), names)),
            _mrkdwn(_str(attachment, "text"), names),
            *fields,
            _blocks(attachment.get("blocks"), names),
            _mrkdwn(_str(attachment, "footer"), names),
        ]
    )
    return shown or _mrkdwn(_str(attachment, "fallback"), names)


def _file(file: dict[str, Any]) -> str:
    """`📎 title (permalink)` (events/MessageFileSharePayload.json `files[]`)."""
    name = _str(file, "title") or _str(file, "name") or "file"
    link = _str(file, "permalink")
    return f"📎 {name} ({link})" if link else f"📎 {name}"
