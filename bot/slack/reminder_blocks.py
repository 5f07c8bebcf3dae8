"""Block Kit for reminders and the App Home: what is missing, how long is left, one click on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.assignments import Part, part_of
from bot.durations import format_duration
from bot.models import ActionItem, Incident
from bot.retro import SectionState
from bot.slack.blocks import Block, button, context, header, section, sections
from bot.slack.limits import (
    BLOCKS_TEXT,
    SECTION_TEXT,
    VIEW_BLOCKS,
    fit,
    more,
    share,
    text_size,
)
from bot.slack.retro_blocks import Ids, action_line
from bot.slack.text import date, escape, mention

MAX_LISTED = 10
HOME_ROOM = 1500  # characters of the App Home kept for its headers and notes
HOME_BUTTONS = 3  # post-mortems (the first due) with buttons in the App Home
ELSEWHERE = (
    "From anywhere, also once an incident channel is archived (a DM with me will do): "
    "`/incident write hotfix-NNN`, `/incident draft hotfix-NNN`, `/incident publish hotfix-NNN`."
)


class ReminderIds:
    WRITE_NEXT = "reminder_write"
    LATEST_DRAFT = "reminder_draft"
    # "Remind me later" (action_id unique within a block, as Slack wants): value `i<incident
    # id>` or `a<action item id>`
    SNOOZE_2H = "reminder_snooze_2h"
    SNOOZE_MORNING = "reminder_snooze_morning"


SNOOZES = (ReminderIds.SNOOZE_2H, ReminderIds.SNOOZE_MORNING)


def snooze_buttons(target: str) -> list[Block]:
    """ "Remind me later" on a reminder DM: in 2 hours, or the next working morning (of the
    person, on their clock). `target`: `i<incident id>` or `a<action item id>`."""
    return [
        button("Remind me in 2 hours", ReminderIds.SNOOZE_2H, target),
        button("Tomorrow morning", ReminderIds.SNOOZE_MORNING, target),
    ]


def _listed(
    title: str,
    lines: list[str],
    where: str = "the draft's first line lists them all (*Latest draft*)",
) -> str:
    """A titled list that fits one section, saying how many are left out and `where` they are."""
    listed = fit(lines, 1, SECTION_TEXT - len(title) - 150, most=MAX_LISTED)
    text = "\n".join([f"*{title}*", *listed.texts])
    if listed.after:
        text += "\n" + more(listed.after, where)
    return text


def build_deadline_dm(
    incident: Incident,
    open_points: list[str],
    now: datetime,
    overdue: bool = False,
    notes: tuple[str, ...] = (),
    publishes: str = "makes it final",
    part: Part | None = None,
    owners: Sequence[str] = (),
) -> list[Block]:
    """A DM to an owner: the incident, the time left (or how late), `notes` (mrkdwn: what went
    wrong, that this is the last reminder), the draft's open points (most important first),
    buttons. `publishes`: what `/incident publish` does (review mode: opens the pull
    request). With `part` (bot/assignments.py), the recipient's own: first the sections given
    to them that nobody has written yet, then the rest of `open_points` (each section given to
    someone else says whose), or, for someone who is no post-mortem owner, a line on the rest
    naming `owners`."""
    assert incident.deadline_at
    name = f"*{incident.hotfix_id}* ({escape(incident.title)})"
    when = f"{date(incident.deadline_at)} ({incident.deadline_at:%Y-%m-%d %H:%M} UTC)"
    if overdue:
        head = (
            f":alarm_clock: The post-mortem of {name} is *overdue by "
            f"{format_duration(now - incident.deadline_at)}*: it was due {when}."
        )
    else:
        head = (
            f":hourglass_flowing_sand: The post-mortem of {name} is due in "
            f"*{format_duration(incident.deadline_at - now)}*: {when}."
        )
    blocks: list[Block] = [section(head), *(section(note) for note in notes)]
    part = part or Part((), tuple((p, None) for p in open_points))
    if part.yours:
        blocks.append(section(_yours(incident, part)))
    rest = [
        f"• {escape(p.removesuffix('.'))} (given to {mention(w)})." if w else f"• {escape(p)}"
        for p, w in part.rest
    ]
    title = f"{len(rest)} open point(s)"
    if not part.whole:
        theirs = ", ".join(mention(u) for u in owners) or "the post-mortem owners"
        line = f"*The rest*: {title}, for the post-mortem owners ({theirs}); *Latest draft* "
        blocks.append(section(f"{line}lists them all." if rest else "Nothing else is open."))
    elif rest:
        blocks.append(section(_listed(f"The rest: {title}" if part.yours else title, rest)))
    elif not part.yours:
        blocks.append(
            section(f"Everything is written: `/incident publish` in the channel {publishes}.")
        )
    value = str(incident.id)
    blocks.append(
        {
            "type": "actions",
            "elements": [
                button("Write the next section", ReminderIds.WRITE_NEXT, value, "primary"),
                button("Latest draft", ReminderIds.LATEST_DRAFT, value),
                *snooze_buttons(f"i{incident.id}"),
            ],
        }
    )
    blocks.append(context(f"Discussion and drafts: <#{incident.channel_id}>"))
    return blocks


def build_deadline_dms(
    incident: Incident,
    open_points: list[str],
    states: Sequence[SectionState],
    owners: Sequence[str],
    people: Sequence[str],
    **dm: Any,
) -> dict[str, list[Block]]:
    """Each person's own deadline DM (build_deadline_dm with `dm`): first the sections given to
    them that nobody has written yet (`states`, Retro.states), then the rest of `open_points`;
    someone neither among `owners` nor the commander gets their part and a line on the rest."""
    whole = {*owners, incident.commander_id}
    return {
        person: build_deadline_dm(
            incident,
            open_points,
            part=part_of(person, states, open_points, person in whole),
            owners=owners,
            **dm,
        )
        for person in people
    }


def _yours(incident: Incident, part: Part) -> str:
    """The sections given to the recipient that nobody has written yet, each with its command."""
    lines = [
        f"• *{escape(s.title)}*{'' if s.required else ' (optional)'}: "
        f"`/incident write {incident.hotfix_id} {s.key}`"
        for s in part.yours
    ]
    title = f"Yours: {len(lines)} section(s) nobody has written yet"
    return _listed(title, lines, "`/incident assign` in the channel lists them all")


def build_action_reminder(incident: Incident, item: ActionItem, now: datetime) -> list[Block]:
    return [
        section(
            f":hourglass_flowing_sand: *{item.label}* of *{incident.hotfix_id}* is due "
            f"{item.due.isoformat() if item.due else ''}:\n>{escape(item.text)}"
        ),
        {
            "type": "actions",
            "elements": [
                button("Mark done", Ids.ACTION_DONE, str(item.id), "primary"),
                *snooze_buttons(f"a{item.id}"),
            ],
        },
    ]


def build_home(
    open_incidents: list[Incident],
    owned: list[Incident],
    actions: list[tuple[Incident, ActionItem]],
    now: datetime,
    headline: Sequence[Block] = (),
    coming: Mapping[int, datetime] | None = None,
) -> dict[str, Any]:
    """The App Home tab for one person: `headline` (the workspace's numbers: home_blocks.py),
    then their open incidents, the post-mortems they own (the first due first) and their open
    action items, as many of each as fit Slack's view with the headline, each list saying how
    many more there are and where to see them."""
    owned = sorted(owned, key=lambda i: (i.deadline_at or now, i.number))
    parts = [
        (
            "Your incidents",
            [
                f"*{i.hotfix_id}* {escape(i.title)} · {i.severity.label} · <#{i.channel_id}>"
                for i in open_incidents
            ],
            "No open incidents. :relieved:",
            "more",
            "`/incident list` lists them all",
        ),
        (
            "Post-mortems you own",
            [_owned_line(i, now, (coming or {}).get(i.id)) for i in owned],
            "None waiting on you.",
            "more due later",
            "each incident's channel has its checklist",
        ),
        (
            "Your action items",
            [f"{i.hotfix_id}: {action_line(a)}" for i, a in actions],
            "No open action items.",
            "more due later",
            "`/incident actions` in each incident's channel lists them",
        ),
    ]
    # three headers, two dividers (three under a headline) and a note under each list are
    # what else the tab holds, with the headline
    top = [*headline, {"type": "divider"}] if headline else []
    needs = [fit(lines, VIEW_BLOCKS, 10**9).groups for _, lines, *_ in parts]
    buttons = [_home_buttons(i) for i in owned[:HOME_BUTTONS]]
    block_room = share(
        [max(1, len(n)) for n in needs], VIEW_BLOCKS - 8 - len(buttons) - 1 - len(top)
    )
    char_room = share(
        [sum(len(x) + 1 for x in lines) for _, lines, *_ in parts],
        BLOCKS_TEXT - HOME_ROOM - text_size(top),
    )
    blocks: list[Block] = top
    for n, (title, lines, empty, what, where) in enumerate(parts):
        if n:
            blocks.append({"type": "divider"})
        blocks.append(header(title))
        if not lines:
            blocks.append(section(empty))
            continue
        listed = fit(lines, block_room[n], char_room[n])
        blocks += sections(listed.texts)
        if listed.after:
            blocks.append(context(more(listed.after, where, what)))
        if title == "Post-mortems you own":
            blocks += buttons
            blocks.append(context(ELSEWHERE))
    return {"type": "home", "blocks": blocks}


def _home_buttons(incident: Incident) -> Block:
    """Write the next section of a post-mortem, or get its draft by DM, from the App Home."""
    value = str(incident.id)
    return {
        "type": "actions",
        "elements": [
            button(f"Write {incident.hotfix_id}", ReminderIds.WRITE_NEXT, value),
            button(f"Draft of {incident.hotfix_id}", ReminderIds.LATEST_DRAFT, value),
        ],
    }


def build_undeliverable(incident: Incident, person: str, error: str, item: str = "") -> str:
    """What the commander reads when a reminder cannot reach `person` (a user id): why, in
    words (`deactivated`: users.info says `deleted`; else Slack's error code), and the command
    that hands their part to someone else. `item`: the action item's label (AI-001), if the
    reminder was about one."""
    why = {
        "deactivated": "their Slack account is deactivated",
        "user_not_found": "Slack does not know them",
    }.get(error, f"Slack refused the DM (`{error}`)")
    what = f"{item} of {incident.hotfix_id}" if item else f"the {incident.hotfix_id} post-mortem"
    head = f"A reminder of {what} could not be delivered to <@{person}>: {why}."
    if item:
        fix = f"`/incident action {item} @someone` gives {item} to someone who can get it."
    elif person == incident.commander_id:
        fix = "`/incident commander @someone` hands the incident to someone who can get them."
    else:
        fix = "`/incident owner add @someone` (and `owner remove` for them) hands their part on."
    return f"{head} {fix}"


def _owned_line(incident: Incident, now: datetime, coming: datetime | None) -> str:
    """`*hotfix-001* title · due in 5h (date) · #channel`, and when the person's next reminder
    comes (`coming`, on their working hours), if one is planned."""
    assert incident.deadline_at
    left = (
        f"due in {format_duration(incident.deadline_at - now)}"
        if incident.deadline_at > now
        else f"*overdue by {format_duration(now - incident.deadline_at)}*"
    )
    return (
        f"*{incident.hotfix_id}* {escape(incident.title)} · {left} "
        f"({date(incident.deadline_at)}) · <#{incident.channel_id}>"
        + (f" · your next reminder {date(coming)}" if coming else "")
    )
