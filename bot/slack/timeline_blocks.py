"""Block Kit for the timeline: the echo of each entry in the channel, and the numbered list."""

from __future__ import annotations

from datetime import datetime

from bot.durations import format_duration
from bot.models import Entry, Incident, Milestone
from bot.slack.blocks import MAX_BLOCKS, MAX_SECTION_TEXT, Block, context, section
from bot.slack.text import date, escape, mention

ECHO_BLOCK = "timeline_entry"  # block_id prefix: a message the bot posted to show entries
MAX_LINE = 1000  # one entry in the list; `/timeline` shows it whole in its echo and the log
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


def build_echo(
    entries: list[Entry],
    began: datetime,
    resolved_at: datetime | None,
    now: datetime,
    apps: dict[str, str],
) -> list[Block]:
    """The channel message that shows these entries: each with its UTC time (and date, when not
    today), each reader's local time, its number and author; a deleted one only as deleted."""
    blocks: list[Block] = []
    for entry in entries[: MAX_BLOCKS // 2]:
        block_id = f"{ECHO_BLOCK}_{entry.number}"
        if entry.deleted_at is not None:
            who = f" by {mention(entry.deleted_by)}" if entry.deleted_by else ""
            blocks.append(
                {
                    **section(f":wastebasket: ~Entry {entry.label}~ was deleted{who}."),
                    "block_id": block_id,
                }
            )
            continue
        label = f"*{entry.milestone.label}* · " if entry.milestone else ""
        blocks.append(
            {
                **section(f":clock2: *{when_utc(entry.at, now)}* · {label}{escape(entry.text)}"),
                "block_id": block_id,
            }
        )
        kept = "kept from a message of" if entry.source == "message" else "by"
        notes = [
            f"{entry.label} · {kept} {author_of(entry, apps)} · {date(entry.at)} your time",
        ]
        if entry.edited_by:
            notes.append(f"edited by {mention(entry.edited_by)}")
        line = " · ".join(notes)
        if why := warning(entry, began, resolved_at):
            line += "\n" + why
        blocks.append(context(line))
    return blocks


def echo_text(entries: list[Entry], apps: dict[str, str]) -> str:
    """The notification text of an echo (what a phone shows)."""
    live = [e for e in entries if e.deleted_at is None]
    if len(entries) == 1 and live:
        entry = live[0]
        label = f"{entry.milestone.label} · " if entry.milestone else ""
        first_line = entry.text.splitlines()[0] if entry.text else ""
        return f"{entry.label} {entry.at:%H:%M} UTC · {label}{escape(first_line)}"[:300]
    if len(entries) == 1:
        return f"Timeline entry {entries[0].label} was deleted"
    return f"{len(live)} timeline entries ({', '.join(e.label for e in entries)})"


def entry_line(entry: Entry, apps: dict[str, str]) -> str:
    label = f"*{entry.milestone.label}* · " if entry.milestone else ""
    text = escape(" ⏎ ".join(entry.text.splitlines()))
    return f"`{entry.label}` `{entry.at:%Y-%m-%d %H:%M}` {label}{text} — {author_of(entry, apps)}"


def build_timeline(
    incident: Incident, entries: list[Entry], deleted: list[int], apps: dict[str, str]
) -> list[Block]:
    """The timeline in time order with each entry's number (as much as fits in one message:
    the latest entries if not all), and which numbers were deleted."""
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    blocks = [section(f"*Timeline of {incident.hotfix_id}* ({count}, UTC)")]
    chunks: list[str] = []
    current = ""
    for entry in reversed(entries):  # the latest first, so that they are the ones kept
        line = entry_line(entry, apps)
        if len(line) > MAX_LINE:
            line = line[: MAX_LINE - 1] + "…"
        if current and len(current) + len(line) + 1 > MAX_SECTION_TEXT:
            chunks.append(current)
            current = ""
        current = f"{line}\n{current}" if current else line
    if current:
        chunks.append(current)
    shown = chunks[: MAX_BLOCKS - 3]
    blocks += [section(c) for c in reversed(shown)]
    if len(shown) < len(chunks):
        blocks.insert(1, context("Older entries are left out here; the post-mortem has them all."))
    notes = ["`/timeline edit N [time] [text]` · `/timeline delete N`"]
    if deleted:
        notes.append("deleted: " + ", ".join(f"#{n}" for n in deleted[:50]))
    blocks.append(context(" · ".join(notes)))
    return blocks
