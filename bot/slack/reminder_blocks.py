"""Block Kit for reminders and the App Home: what is missing, how long is left, one click on."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.durations import format_duration
from bot.models import ActionItem, Incident
from bot.slack.blocks import MAX_SECTION_TEXT, Block, button, context, header, section
from bot.slack.retro_blocks import Ids, action_line
from bot.slack.text import date, escape

MAX_LISTED = 10


class ReminderIds:
    WRITE_NEXT = "reminder_write"
    LATEST_DRAFT = "reminder_draft"


def _listed(title: str, lines: list[str]) -> str:
    """A titled list that fits one section (3,000 characters), saying how many are left out."""
    text = f"*{title}*"
    for shown, line in enumerate(lines):
        more = f"\n… and {len(lines) - shown} more"
        if shown == MAX_LISTED or len(text) + 1 + len(line) + 30 > MAX_SECTION_TEXT:
            return text + more
        text += "\n" + line
    return text


def build_deadline_dm(
    incident: Incident,
    open_points: list[str],
    now: datetime,
    overdue: bool = False,
    notes: tuple[str, ...] = (),
) -> list[Block]:
    """A DM to an owner: the incident, the time left (or how late), `notes` (mrkdwn: what went
    wrong, that this is the last reminder), the draft's open points (most important first),
    buttons."""
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
    if open_points:
        lines = [f"• {escape(p)}" for p in open_points]
        blocks.append(section(_listed(f"{len(open_points)} open point(s)", lines)))
    else:
        blocks.append(
            section("Everything is written: `/incident publish` in the channel makes it final.")
        )
    value = str(incident.id)
    blocks.append(
        {
            "type": "actions",
            "elements": [
                button("Write the next section", ReminderIds.WRITE_NEXT, value, "primary"),
                button("Latest draft", ReminderIds.LATEST_DRAFT, value),
            ],
        }
    )
    blocks.append(context(f"Discussion and drafts: <#{incident.channel_id}>"))
    return blocks


def build_action_reminder(incident: Incident, item: ActionItem, now: datetime) -> list[Block]:
    return [
        section(
            f":hourglass_flowing_sand: *{item.label}* of *{incident.hotfix_id}* is due "
            f"{item.due.isoformat() if item.due else ''}:\n>{escape(item.text)}"
        ),
        {
            "type": "actions",
            "elements": [button("Mark done", Ids.ACTION_DONE, str(item.id), "primary")],
        },
    ]


def build_home(
    open_incidents: list[Incident],
    owned: list[Incident],
    actions: list[tuple[Incident, ActionItem]],
    now: datetime,
) -> dict[str, Any]:
    """The App Home tab for one person."""

    blocks: list[Block] = [header("Your incidents")]
    if open_incidents:
        blocks += [
            section(f"*{i.hotfix_id}* {escape(i.title)} · {i.severity.label} · <#{i.channel_id}>")
            for i in open_incidents[:20]
        ]
    else:
        blocks.append(section("No open incidents. :relieved:"))
    blocks += [{"type": "divider"}, header("Post-mortems you own")]
    if owned:
        for i in owned[:20]:
            assert i.deadline_at
            left = (
                f"due in {format_duration(i.deadline_at - now)}"
                if i.deadline_at > now
                else f"*overdue by {format_duration(now - i.deadline_at)}*"
            )
            blocks.append(
                section(
                    f"*{i.hotfix_id}* {escape(i.title)} · {left} "
                    f"({date(i.deadline_at)}) · <#{i.channel_id}>"
                )
            )
    else:
        blocks.append(section("None waiting on you."))
    blocks += [{"type": "divider"}, header("Your action items")]
    if actions:
        blocks += [section(f"{i.hotfix_id}: {action_line(a)}") for i, a in actions[:40]]
    else:
        blocks.append(section("No open action items."))
    return {"type": "home", "blocks": blocks}


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
