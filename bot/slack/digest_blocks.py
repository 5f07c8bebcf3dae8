"""Block Kit for the weekly digest: the week's incidents, the post-mortems still open, the action
items overdue with their owners; a private incident is counted, never named."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.digest import Digest
from bot.durations import format_duration
from bot.insights_text import MONTHS, summary_lines
from bot.models import Incident
from bot.slack.blocks import Block, context, header, section
from bot.slack.limits import SECTION_TEXT, fit, more
from bot.slack.text import escape, mention

MAX_LISTED = 15  # lines per list; the rest are counted


def week_label(since: datetime, until: datetime) -> str:
    """`Nov 24 – Nov 30, 2026`: the week's first and last day (UTC), English month names."""
    first, last = since.date(), (until - timedelta(microseconds=1)).date()
    return (
        f"{MONTHS[first.month - 1]} {first.day} – {MONTHS[last.month - 1]} {last.day}, {last.year}"
    )


def _name(incident: Incident) -> str:
    return f"*{incident.hotfix_id}* {escape(incident.title)} · <#{incident.channel_id}>"


def _part(title: str, lines: list[str], hidden: int, empty: str, where: str) -> Block:
    """A titled list in one section: up to MAX_LISTED lines, then how many more (and private
    ones, counted) and where to see them."""
    room = SECTION_TEXT - len(title) - 200
    listed = fit(lines, 1, room, most=MAX_LISTED)
    text = "\n".join([f"*{title}*", *listed.texts] if lines or hidden else [f"*{title}*", empty])
    if listed.after:
        text += "\n" + more(listed.after, where)
    if hidden:
        text += f"\n_and {hidden} of private incidents (their members see them)_"
    return section(text)


def _headline(digest: Digest) -> str:
    """The summary's count, times to detect and resolve, and post-mortems (bot/insights_text)."""
    wanted = ("Time to detect", "Time to resolve", "Post-mortems")
    lines = summary_lines(digest.figures)
    return " · ".join([lines[0], *(x for x in lines[1:] if x.startswith(wanted))])


def build_digest(digest: Digest, late_by: timedelta | None = None) -> tuple[str, list[Block]]:
    """(the notification text, the blocks) of one digest; `late_by`: how late it goes out (the
    bot was down at its moment), said in a note. Three lists of one section each (under
    SECTION_TEXT), a header and notes: well within Slack's 12,000 characters of blocks."""
    week = week_label(digest.since, digest.until)
    shown = [i for i in digest.began if not i.private]
    began = [
        f"{_name(i)} · {i.severity.label} · " + ("resolved" if i.resolved_at else "*open*")
        for i in shown
    ]
    open_pms = [i for i in digest.open_postmortems if not i.private]
    postmortems = [
        f"{_name(i)} · "
        + (
            f"*overdue by {format_duration(digest.until - i.deadline_at)}*"
            if digest.overdue(i) and i.deadline_at
            else "due in " + format_duration((i.deadline_at or digest.until) - digest.until)
        )
        for i in open_pms
    ]
    actions = [(i, a) for i, a in digest.overdue_actions if not i.private]
    action_lines = [
        f"*{i.hotfix_id}* {a.label} {escape(a.text)} · "
        + (mention(a.owner_id) if a.owner_id else "_no owner_")
        + f" · due {a.due}"
        for i, a in actions
    ]
    blocks: list[Block] = [
        header(f"Incidents this week: {week}"),
        _part(
            f"Began this week: {len(digest.began)}",
            began,
            len(digest.began) - len(shown),
            "No incident began this week. :relieved:",
            "`/incident list` lists them",
        ),
        _part(
            f"Post-mortems still open: {len(digest.open_postmortems)}",
            postmortems,
            len(digest.open_postmortems) - len(open_pms),
            "None: every resolved incident has its post-mortem. :tada:",
            "each incident's channel has its checklist",
        ),
        _part(
            f"Action items overdue: {len(digest.overdue_actions)}",
            action_lines,
            len(digest.overdue_actions) - len(actions),
            "None overdue.",
            "`/incident actions` in each incident's channel lists them",
        ),
        context(
            f"The last 90 days: {_headline(digest)}. The chart follows; "
            "`/incident insights` draws one for any period."
        ),
    ]
    if late_by is not None:
        blocks.append(
            context(f"This digest is {format_duration(late_by)} late: I was not running then.")
        )
    text = f"Incidents this week ({week}): {len(digest.began)} began, " + (
        f"{len(digest.open_postmortems)} post-mortems open, "
        f"{len(digest.overdue_actions)} action items overdue"
    )
    return text, blocks
