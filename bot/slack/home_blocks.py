"""The App Home's headline: the workspace's numbers of the last 90 days (bot/insights.py), in a
header, one section of fields and a note. It names no incident: private ones are counted only."""

from __future__ import annotations

from bot.insights_model import Figures, Spread
from bot.insights_text import short
from bot.slack.blocks import Block, context, header, section

PERIOD = "90d"  # what bot/insights.py `parse_period` reads; the header says it in words
TITLE = "Last 90 days"
UNKNOWN = "—"  # a time no incident has: never 0
POINTER = "`/incident insights` for the chart"
SCOPE = "Every incident of the workspace, private ones as numbers only."
FAILED = (
    ":warning: The workspace's numbers could not be worked out right now; they come back the "
    "next time you open this tab."
)


def build_headline(figures: Figures | None) -> list[Block]:
    """Three blocks: `TITLE`, a section of fields (incidents that began in the period; the
    median time to detect and to resolve, `—` when no incident has it, with how many lack it;
    post-mortems of incidents resolved in it on time, late, open and past their deadline; their
    action items overdue), and a note with the scope and `POINTER`. `figures` None: they could
    not be worked out, and the section says so instead."""
    if figures is None:
        return [header(TITLE), section(FAILED), context(POINTER)]
    fields = [
        ("Incidents", f"{figures.incidents:,}"),
        ("Median time to detect", _median(figures.times["detect"])),
        ("Median time to resolve", _median(figures.times["resolve"])),
        ("Post-mortems", _postmortems(figures)),
        ("Action items overdue", _actions(figures)),
    ]
    return [
        header(TITLE),
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields],
        },
        context(f"{SCOPE} {POINTER}."),
    ]


def _median(spread: Spread) -> str:
    """`20m`, `20m (1 of 4 incidents lack it)`; `—` when none has it."""
    median = UNKNOWN if spread.median_s is None else short(spread.median_s)
    if not spread.missing:
        return median
    total = spread.count + spread.missing
    lack = "incidents lack" if total != 1 else "incident lacks"
    return f"{median} ({spread.missing:,} of {total:,} {lack} it)"


def _postmortems(figures: Figures) -> str:
    """`1 on time · 1 late · 2 open (1 past the deadline)`, or `None due`."""
    if not figures.on_time + figures.late + figures.open:
        return "None due"
    overdue = f" ({figures.overdue:,} past the deadline)" if figures.overdue else ""
    return f"{figures.on_time:,} on time · {figures.late:,} late · {figures.open:,} open{overdue}"


def _actions(figures: Figures) -> str:
    """`1 (of 2 open)`: open action items of the period's incidents past their due day."""
    still_open = figures.actions_opened - figures.actions_closed
    if not still_open:
        return "0 (none open)"
    return f"{figures.actions_overdue:,} (of {still_open:,} open)"
