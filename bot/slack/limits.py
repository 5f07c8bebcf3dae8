"""Slack's size limits, and fitting what the bot shows into them: text is cut only between whole
characters and whole Slack entities, and a list spreads over blocks and pages that say how many
more there are and where to see them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import regex

from bot.errors import UsageError, quoted
from bot.slack.text import decode

# Block Kit reference (docs.slack.dev/reference/block-kit): a message holds up to 50 blocks, a
# modal or a home tab up to 100; a section's text up to 3,000 characters, each of its fields up
# to 2,000, a header's up to 150.
MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
HEADER_TEXT = 150
# The text of all of a message's blocks together. Slack documents no total, but refuses
# chat.postMessage with `msg_blocks_too_long` past about 12,000 characters (slackapi/bolt-js
# #2509 and #2867; 12,000 is the documented total of `markdown` blocks). The bot keeps every
# message, and every view, within it.
BLOCKS_TEXT = 12_000

# What must never be cut in two: Slack markup (`<@U1>`, `<#C1|x>`, `<!date^...|...>`, links),
# the escapes `&amp;` `&lt;` `&gt;`, emoji codes (`:white_check_mark:`, with a skin tone), and
# a character as a reader sees it (a grapheme cluster: `é` as e + accent, a flag, a family).
_ATOM = regex.compile(
    r"<[^<>\n]*>|&(?:amp|lt|gt);|:[a-z0-9_+'-]+:(?::skin-tone-[2-6]:)?|\X", regex.DOTALL
)
CUT = "…"


def clip(text: str, limit: int, marker: str = CUT) -> str:
    """`text` if it has at most `limit` characters; else its longest beginning that ends
    between two atoms (see `_ATOM`), followed by `marker` (or by `…` where `marker` does not
    fit), in `limit` characters in all. ValueError for a `limit` under 1."""
    if len(text) <= limit:
        return text
    if limit < 1:
        raise ValueError(f"no text fits in {limit} characters")
    if len(marker) > limit // 2:
        marker = CUT
    room = limit - len(marker)
    end = 0
    for atom in _ATOM.finditer(text):
        if atom.end() > room:
            break
        end = atom.end()
    return text[:end].rstrip() + marker


def text_size(blocks: Any) -> int:
    """Characters of text in Block Kit (every `text` string, at any depth): what counts
    against BLOCKS_TEXT."""
    if isinstance(blocks, dict):
        own = len(blocks["text"]) if isinstance(blocks.get("text"), str) else 0
        return own + sum(text_size(v) for v in blocks.values() if isinstance(v, dict | list))
    if isinstance(blocks, list):
        return sum(text_size(v) for v in blocks)
    return 0


@dataclass(frozen=True)
class Fitted:
    """Lines `start` to `stop` (exclusive) of a list of `total`, laid out as section blocks:
    `groups` holds each block's lines (clipped where they had to be)."""

    groups: list[list[str]]
    start: int
    stop: int
    total: int

    @property
    def texts(self) -> list[str]:
        """Each block's text: its lines joined by line breaks (within SECTION_TEXT)."""
        return ["\n".join(group) for group in self.groups]

    @property
    def before(self) -> int:
        """Lines of the list before the ones shown."""
        return self.start

    @property
    def after(self) -> int:
        """Lines of the list after the ones shown."""
        return self.total - self.stop


def fit(
    lines: Sequence[str],
    blocks: int,
    chars: int,
    *,
    most: int | None = None,
    line_chars: int = SECTION_TEXT,
    marker: str = CUT,
    start: int = 0,
) -> Fitted:
    """As many of `lines` (from `start` on, in order) as fit in `blocks` section blocks that
    hold `chars` characters in all, `most` lines at most. A line longer than `line_chars` is
    clipped with `marker`; so is a first line longer than all the room there is, so that at
    least one line is shown whenever `blocks` >= 1 and `chars` > len(marker)."""
    groups: list[list[str]] = []
    size = 0  # of the last group's text
    used = 0  # characters in all groups
    stop = start
    while stop < len(lines) and (most is None or stop - start < most):
        line = clip(lines[stop], min(line_chars, SECTION_TEXT), marker)
        if groups and size + 1 + len(line) <= SECTION_TEXT and used + 1 + len(line) <= chars:
            groups[-1].append(line)
            size += 1 + len(line)
            used += 1 + len(line)
        elif len(groups) < blocks and used + len(line) <= chars:
            groups.append([line])
            size = len(line)
            used += len(line)
        elif stop == start and blocks >= 1 and chars > len(marker):
            groups.append([clip(line, chars, marker)])
            size = used = len(groups[-1][0])  # the room is used up: nothing joins it
        else:
            break
        stop += 1
    return Fitted(groups, start, stop, len(lines))


def pages(
    lines: Sequence[str],
    blocks: int,
    chars: int,
    *,
    latest_first: bool = False,
    line_chars: int = SECTION_TEXT,
    marker: str = CUT,
) -> list[Fitted]:
    """The whole list as pages of `fit`: page 1 holds the first lines, or with `latest_first`
    the last ones (each page in the list's order). Always at least one page (empty for an
    empty list); ValueError if not even one line fits."""
    order = list(reversed(lines)) if latest_first else list(lines)
    found: list[Fitted] = []
    start = 0
    while start < len(order) or not found:
        page = fit(order, blocks, chars, line_chars=line_chars, marker=marker, start=start)
        if page.stop == start and order:
            raise ValueError(f"no line fits in {blocks} blocks of {chars} characters")
        if latest_first:  # the same blocks, read backwards
            groups = [list(reversed(group)) for group in reversed(page.groups)]
            total = len(order)
            page = Fitted(groups, total - page.stop, total - page.start, total)
        found.append(page)
        start += page.stop - page.start
    return found


def share(needs: Sequence[int], total: int) -> list[int]:
    """`total` shared among parts that need `needs`: each gets what it needs if that is no
    more than an even share, and the parts that need more split the rest evenly."""
    given = [0] * len(needs)
    left = total
    order = sorted(range(len(needs)), key=lambda i: needs[i])
    for done, i in enumerate(order):
        given[i] = min(needs[i], left // (len(needs) - done))
        left -= given[i]
    return given


def more(count: int, where: str, what: str = "more") -> str:
    """The note under a list that does not show everything: `… and 12 more: `/incident
    actions page 2``, `… and 1,289 older entries: `/timeline page 2``."""
    return f"… and {count:,} {what}: {where}"


def page_number(words: Sequence[str], usage: str) -> int:
    """The page a list command asks for, from the words after it (as Slack sent them): none
    (page 1) or `page N`. UsageError with `usage` for anything else."""
    if not words:
        return 1
    if len(words) == 2 and words[0].lower() == "page" and regex.fullmatch(r"[0-9]{1,6}", words[1]):
        number = int(words[1])
        if number >= 1:
            return number
    raise UsageError(f"{quoted(decode(' '.join(words)))} is not a page. Try `{usage}`.")


def page_of(found: Sequence[Fitted], number: int, command: str) -> Fitted:
    """Page `number` (from 1) of `found`; UsageError naming the last page if there is none."""
    if number > len(found):
        last = len(found)
        where = f"`{command} page {last}` is the last" if last > 1 else f"`{command}` shows it all"
        raise UsageError(f"There is no page {number:,}: {last:,} page(s) in all; {where}.")
    return found[number - 1]
