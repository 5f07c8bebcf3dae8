"""Free text people give the bot, cleaned and capped in one place: each kind of field (a title,
a timeline entry, an action item and its reason, a post-mortem section's field) loses its
control characters and, past its limit, is refused in the same words everywhere."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UsageError

# C0 and C1 control characters but tab and newline: a NUL makes git take the post-mortem for a
# binary file, an ESC sequence recolours the terminal that prints it, a form feed splits a line.
# And Unicode's bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
# they make text display in another order than it reads ("Trojan Source", CVE-2021-42574), in
# Slack, in a rendered post-mortem and in a diff alike. Right-to-left text needs none of them
# (the marks U+200E/U+200F and the joiners U+200C/U+200D, which scripts and emoji use, stay).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def without_controls(text: str) -> str:
    """Text as it is kept: control characters and bidirectional overrides dropped, tabs and line
    breaks kept (\r\n -> \n)."""
    return _CONTROL_RE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


class TooLong(UsageError):
    """Text over the limit of its kind of field; nothing was stored. `field` names the field
    it was given for (a modal's input), when the caller said."""

    def __init__(self, kind: Kind, length: int, field: str = "") -> None:
        super().__init__(
            f"{kind.what} is {length:,} characters; the limit is {kind.limit:,}. {kind.advice}"
        )
        self.kind = kind
        self.field = field


@dataclass(frozen=True)
class Kind:
    """A kind of free-text field: what the refusal calls it, its limit in characters (after
    cleaning), what to do instead, and whether line breaks and tabs are kept."""

    what: str
    limit: int
    advice: str
    multiline: bool = True

    def clean(self, text: str, field: str = "") -> str:
        """`text` as it is kept: control characters dropped (a one-line kind also turns every
        run of white space into one space), ends trimmed. TooLong (naming `field`) if what is
        left is longer than the limit."""
        kept = without_controls(text)
        kept = kept.strip() if self.multiline else " ".join(kept.split())
        if len(kept) > self.limit:
            raise TooLong(self, len(kept), field)
        return kept

    def cut(self, text: str) -> str:
        """Cleaned text someone did not type and cannot shorten (a kept channel message: an
        alert's attachment runs long), kept within the limit with a line that says what was
        cut; the message itself stays in the channel."""
        kept = without_controls(text).strip()
        if len(kept) <= self.limit:
            return kept
        room = self.limit - 80
        return f"{kept[:room]}\n… (cut here: {len(kept) - room:,} more characters in the message)"


# The limits fit Slack's: an entry or a reason shows in one section block (3,000 characters),
# and a modal's text input holds at most 3,000 (Block Kit's plain_text_input `max_length`).
TITLE = Kind("That title", 200, "Keep it short; the details go in the timeline.", multiline=False)
ENTRY = Kind("That entry", 3000, "Split it into shorter entries.")
ACTION = Kind(
    "That action item", 500, "Say what needs doing; the details go in `why:`.", multiline=False
)
WHY = Kind("That reason", 3000, "Keep the gist and link to the details.")
SECTION = Kind("That text", 3000, "Keep the gist here and link to a longer document.")
