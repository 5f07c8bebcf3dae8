"""Slack text on the way in (decode once) and on the way out (escape once, local-time dates)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from bot.free_text import without_controls

# Slack's own markup, as it arrives with `should_escape: true`: <@U123|name>, <#C123|name>,
# <!here>, <!subteam^S123|@team>, <https://x|label>. Anything a person typed as < > & arrives
# as &lt; &gt; &amp;, so a real "<" only ever opens Slack markup.
_TOKEN_RE = re.compile(r"<([^<>]*)>")
_MENTION_RE = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|([^>]*))?>$")

NameLookup = Callable[[str], str | None]


def _token_text(token: str, names: NameLookup) -> str:
    target, _, label = token.partition("|")
    if target.startswith("@"):
        return "@" + (label or names(target[1:]) or target[1:])
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        special = target[1:].split("^")[0]
        if special == "date":
            return label or target
        return label or "@" + special
    return label if label and label != target else target.removeprefix("mailto:")


def decode(text: str, names: NameLookup = lambda _uid: None) -> str:
    """Slack-formatted text -> what the person typed, e.g. `<@U1|ann> &lt;3` -> `@ann <3`."""
    plain = _TOKEN_RE.sub(lambda m: _token_text(m.group(1), names), text)
    return without_controls(plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))


def escape(text: str) -> str:
    """Plain text -> safe Slack mrkdwn: `<!channel>` shows as typed and pings no one."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


def parse_mention(token: str) -> tuple[str, str] | None:
    """`<@U123|alice>` -> ("U123", "alice"); None if the token is not a user mention."""
    if m := _MENTION_RE.match(token):
        return m.group(1), m.group(2) or ""
    return None


def split_args(text: str) -> list[str]:
    """Words of a command, keeping Slack markup tokens (which may contain spaces) whole."""
    return re.findall(r"<[^<>]*>|\S+", text)


def date(dt: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A time every reader sees in their own zone, with UTC as the fallback text."""
    return f"<!date^{int(dt.timestamp())}^{fmt}|{dt:%Y-%m-%d %H:%M} UTC>"


def utc(dt: datetime) -> str:
    return f"{dt:%H:%M} UTC"
