"""`ESCALATE_TO`: who is told when a post-mortem or an action item stays overdue, a person (a
user ID, or its mention) or a channel (a channel ID)."""

from __future__ import annotations

import re
from dataclasses import dataclass

ESCALATE_TO_HELP = (
    "write a user ID (`U0123ABCD`, or `<@U0123ABCD>` as Slack writes a mention) or a channel "
    "ID (`C0123456789`; a private channel's `G...`), not a name"
)
# Slack's ids: users U... (W... in Enterprise Grid), channels C... (private ones G... too)
_USER_RE = re.compile(r"^(?:<@([UW][A-Z0-9]{2,})(?:\|[^<>]*)?>|@?([UW][A-Z0-9]{2,}))$")
_CHANNEL_RE = re.compile(r"^[CG][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class EscalateTo:
    """Where escalations go: `id` is a user ID (a DM, chat.postMessage opens it) or a channel
    ID (`channel`)."""

    id: str
    channel: bool

    @property
    def words(self) -> str:
        """How messages name it: `<@U0123ABCD>` or `<#C0123456789>`."""
        return f"<#{self.id}>" if self.channel else f"<@{self.id}>"


def parse_escalate_to(text: str) -> EscalateTo:
    """`U0123ABCD`, `@U0123ABCD`, `<@U0123ABCD>` (`<@U0123ABCD|ann>`), `W0123ABCD`: a person;
    `C0123456789`, `G0123456789`: a channel. ValueError saying what to write otherwise (a
    `#name` or `@name` is refused: names change, ids do not)."""
    text = text.strip()
    if user := _USER_RE.match(text):
        return EscalateTo(user[1] or user[2], channel=False)
    if _CHANNEL_RE.match(text):
        return EscalateTo(text, channel=True)
    raise ValueError(f"{text!r} is not a user or channel ID; {ESCALATE_TO_HELP}")
