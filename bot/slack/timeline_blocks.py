"""Block Kit for the timeline: the echo of each entry in the channel, and the numbered list."""

from __future__ import annotations

from datetime import datetime

from bot.durations import format_duration
from bot.models import Entry, Incident, Milestone
from bot.slack.blocks import Block, context, section
from bot.slack.limits import (
    BLOCKS_TEXT,
    MESSAGE_BLOCKS,
    SECTION_TEXT,
    clip,
    more,
    page_of,
    pages,
    share,
    text_size,
)
from bot.slack.text import date, escape, mention

ECHO_BLOCK = "timeline_entry"  # block_id prefix: a message the bot posted to show entries
MAX_LINE_TEXT = 900  # of one entry in the list, so that a page holds many
CUT = "… _(cut: the post-mortem draft, `/incident draft`, has it whole)_"
LIST_ROOM = 1500  # characters of a list message kept for its title and notes
FIX_TIME = "If the time is wrong: `/timeline edit {n} HH:MM`."


def when_utc(at: datetime, now: datetime) -> str:
    """`14:05 UTC`, with the date when it is not today (UTC)."""
    return f"{at:%H:%M} UTC" if at.date() == now.date() else f"{at:%Y-%m-%d %H:%M} UTC"


def author_of(entry: Entry, apps: dict[str, str]) -> str:
    """A person as a mention; an app by its name (a `B…` id would show as nobody)."""
    return escape(apps[entry.author_id]) if entry.author_id in apps else mention(entry.author_id)


def summary(entry: Entry, now: datetime) -> str:
    """`#5 · 14:05 UTC · First detection · disk alert fired`, one line, as Slack text."""
    label = f"{entry.milestone.label} · " if entry.milestone else ""
    first_line = escape(entry.text.splitlines()[0] if entry.text else "")
    return f"{entry.label} · {when_utc(entry.at, now)} · {label}{first_line}"


def warning(entry: Entry, began: datetime, resolved_at: datetime | None) -> str:
    """Why an entry's time looks wrong, and the command that corrects it; "" if it doesn't."""
    if entry.milestone is not Milestone.BEGAN and entry.at < began:
        return (
            f":warning: This is {format_duration(began - entry.at)} before the incident began "
            f"({began:%Y-%m-%d %H:%M} UTC). " + FIX_TIME.format(n=entry.number)
        )
    if (
        resolved_at
        and entry.at > resolved_at
        and entry.milestone not in (Milestone.RESOLVED, Milestone.MONITORING)
    ):
        return (
            f":warning: This is {format_duration(entry.at - resolved_at)} after the incident "
            f"was resolved ({resolved_at:%Y-%m-%d %H:%M} UTC). " + FIX_TIME.format(n=entry.number)
        )
    return ""


def _echo_section(entry: Entry, now: datetime, room: int) -> Block:
    """An entry's section in its echo, its text clipped to `room` characters."""
    block_id = f"{ECHO_BLOCK}_{entry.number}"
    if entry.deleted_at is not None:
        who = f" by {mention(entry.deleted_by)}" if entry.deleted_by else ""
        text = f":wastebasket: ~Entry {entry.label}~ was deleted{who}."
    else:
        label = f"*{entry.milestone.label}* · " if entry.milestone else ""
        text = f":clock2: *{when_utc(entry.at, now)}* · {label}{escape(entry.text)}"
    return {**section(clip(text, room, CUT)), "block_id": block_id}


def _echo_context(
    entry: Entry, began: datetime, resolved_at: datetime | None, apps: dict[str, str]
) -> Block:
    kept = "kept from a message of" if entry.source == "message" else "by"
    notes = [f"{entry.label} · {kept} {author_of(entry, apps)} · {date(entry.at)} your time"]
    if entry.edited_by:
        notes.append(f"edited by {mention(entry.edited_by)}")
    line = " · ".join(notes)
    if why := warning(entry, began, resolved_at):
        line += "\n" + why
    return context(line)


def build_echo(
    entries: list[Entry],
    began: datetime,
    resolved_at: datetime | None,
    now: datetime,
    apps: dict[str, str],
) -> list[Block]:
    """The channel message that shows these entries (at most MESSAGE_BLOCKS // 2): each with
    its UTC time (and date, when not today), each reader's local time, its number and author;
    a deleted one only as deleted. Texts that do not fit one message together are cut, the
    longest first, each saying where it is whole."""
    entries = entries[: MESSAGE_BLOCKS // 2]
    contexts = [
        _echo_context(e, began, resolved_at, apps) if e.deleted_at is None else None
        for e in entries
    ]
    fixed = sum(text_size(c) for c in contexts if c)
    sections = [_echo_section(e, now, SECTION_TEXT) for e in entries]
    sizes = [text_size(b) for b in sections]
    if fixed + sum(sizes) > BLOCKS_TEXT:
        rooms = share(sizes, BLOCKS_TEXT - fixed)
        sections = [_echo_section(e, now, r) for e, r in zip(entries, rooms, strict=True)]
    blocks: list[Block] = []
    for block, extra in zip(sections, contexts, strict=True):
        blocks.append(block)
        if extra:
            blocks.append(extra)
    return blocks


def echo_groups(
    entries: list[Entry],
    began: datetime,
    resolved_at: datetime | None,
    now: datetime,
    apps: dict[str, str],
) -> list[list[Entry]]:
    """`entries` in order, in as few messages as show each whole (an entry too long for a
    message of its own is cut in it)."""
    groups: list[list[Entry]] = []
    size = 0
    for entry in entries:
        own = text_size(build_echo([entry], began, resolved_at, now, apps))
        if groups and size + own <= BLOCKS_TEXT and len(groups[-1]) < MESSAGE_BLOCKS // 2:
            groups[-1].append(entry)
            size += own
        else:
            groups.append([entry])
            size = own
    return groups


def echo_text(entries: list[Entry], apps: dict[str, str]) -> str:
    """The notification text of an echo (what a phone shows)."""
    live = [e for e in entries if e.deleted_at is None]
    if len(entries) == 1 and live:
        entry = live[0]
        label = f"{entry.milestone.label} · " if entry.milestone else ""
        first_line = entry.text.splitlines()[0] if entry.text else ""
        return clip(f"{entry.label} {entry.at:%H:%M} UTC · {label}{escape(first_line)}", 300)
    if len(entries) == 1:
        return f"Timeline entry {entries[0].label} was deleted"
    return f"{len(live)} timeline entries ({', '.join(e.label for e in entries)})"


def entry_line(entry: Entry, apps: dict[str, str]) -> str:
    """`#5` `2026-11-26 14:05` *First detection* · text — author, on one line (a long text cut,
    saying where it is whole)."""
    label = f"*{entry.milestone.label}* · " if entry.milestone else ""
    text = clip(escape(" ⏎ ".join(entry.text.splitlines())), MAX_LINE_TEXT, CUT)
    return f"`{entry.label}` `{entry.at:%Y-%m-%d %H:%M}` {label}{text} — {author_of(entry, apps)}"


def build_timeline(
    incident: Incident,
    entries: list[Entry],
    deleted: list[int],
    apps: dict[str, str],
    page: int = 1,
) -> list[Block]:
    """Page `page` of the timeline, in time order with each entry's number: page 1 holds the
    latest entries that fit one message, page 2 the ones before them, and so on; each page
    says how many entries are older and newer and the command that shows them, and which
    numbers were deleted. UsageError for a page past the last."""
    lines = [entry_line(e, apps) for e in entries]
    found = pages(lines, MESSAGE_BLOCKS - 3, BLOCKS_TEXT - LIST_ROOM, latest_first=True)
    shown = page_of(found, page, "/timeline")
    count = f"{len(entries):,} entr{'y' if len(entries) == 1 else 'ies'}"
    title = f"*Timeline of {incident.hotfix_id}* ({count}, UTC)"
    if len(found) > 1:
        first, last = entries[shown.start], entries[shown.stop - 1]
        title += f" · page {page:,} of {len(found):,}: {first.label} to {last.label}"
    blocks = [section(title)] + [section(text) for text in shown.texts]
    notes = []
    if shown.before:
        notes.append(more(shown.before, f"`/timeline page {page + 1}`", "older entries"))
    if shown.after:
        newer = "`/timeline`" if page == 2 else f"`/timeline page {page - 1}`"
        notes.append(f"{shown.after:,} newer: {newer}")
    if notes:
        notes.append("every entry, whole: the post-mortem draft (`/incident draft`)")
        blocks.append(context(" · ".join(notes)))
    footer = "`/timeline edit N [time] [text]` · `/timeline delete N`"
    if deleted:
        numbers = ", ".join(f"#{n}" for n in deleted[:50])
        rest = f" and {len(deleted) - 50:,} more" if len(deleted) > 50 else ""
        footer += f" · deleted: {numbers}{rest}"
    blocks.append(context(footer))
    return blocks
