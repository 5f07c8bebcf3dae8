"""Block Kit for escalations to ESCALATE_TO: what is overdue, by how long, what is missing and
who owns it; a private incident's only by its ID and commander. Pure functions."""

from __future__ import annotations

from datetime import datetime

from bot.durations import format_duration
from bot.escalate_to import EscalateTo
from bot.models import ActionItem, Incident
from bot.reminders import action_due_moment
from bot.slack.blocks import Block, context, section
from bot.slack.limits import SECTION_TEXT, fit, more
from bot.slack.text import date, escape, mention

MAX_LISTED = 10  # open points listed; the rest are counted


def build_escalation(
    incident: Incident, owners: list[str], open_points: list[str], now: datetime
) -> tuple[str, list[Block]]:
    """(text, blocks) telling that the post-mortem is overdue: by how long and since when,
    its owners and commander (mentions), the draft's open points (most important first, the
    first ten), where it is discussed. `now`, `incident.deadline_at`: UTC."""
    assert incident.deadline_at is not None
    late = format_duration(now - incident.deadline_at)
    when = f"{date(incident.deadline_at)} ({incident.deadline_at:%Y-%m-%d %H:%M} UTC)"
    head = (
        f":rotating_light: The post-mortem of *{incident.hotfix_id}* ({escape(incident.title)}) "
        f"is *overdue by {late}*: it was due {when}."
    )
    who = (
        f"*Owners:* {', '.join(mention(o) for o in owners)} · "
        f"*Commander:* {mention(incident.commander_id)}"
    )
    blocks: list[Block] = [section(head), section(who)]
    if open_points:
        title = f"*Still missing ({len(open_points)}):*"
        listed = fit(
            [f"• {escape(p)}" for p in open_points], 1, SECTION_TEXT - 200, most=MAX_LISTED
        )
        text = "\n".join([title, *listed.texts])
        if listed.after:
            text += "\n" + more(listed.after, f"`/incident draft {incident.hotfix_id}` lists all")
        blocks.append(section(text))
    else:
        blocks.append(section("Everything is written: it waits for `/incident publish`."))
    blocks.append(context(f"Told once (ESCALATE_AFTER). Discussion: <#{incident.channel_id}>"))
    return f"The {incident.hotfix_id} post-mortem is overdue by {late}", blocks


def build_action_escalation(
    incident: Incident, item: ActionItem, now: datetime
) -> tuple[str, list[Block]]:
    """(text, blocks) telling that an action item is overdue: its label, text, owner (or that
    it has none), due date and how late (past the end of that day, UTC), the commander."""
    due = action_due_moment(item)
    assert due is not None and item.due is not None
    late = format_duration(now - due)
    head = (
        f":rotating_light: *{item.label}* of *{incident.hotfix_id}* "
        f"({escape(incident.title)}) is *overdue by {late}*: it was due "
        f"{item.due.isoformat()} (the end of that day, UTC).\n>{escape(item.text)}"
    )
    owner = mention(item.owner_id) if item.owner_id else "nobody yet"
    who = f"*Owner:* {owner} · *Commander:* {mention(incident.commander_id)}"
    blocks: list[Block] = [
        section(head),
        section(who),
        context(f"Told once (ESCALATE_AFTER). Discussion: <#{incident.channel_id}>"),
    ]
    return f"{item.label} of {incident.hotfix_id} is overdue by {late}", blocks


def build_private_escalation(
    incident: Incident, item: ActionItem | None
) -> tuple[str, list[Block]]:
    """What an audience not known to be all in a private incident reads: its ID, that it is
    overdue, its commander; no title, no contents, no owner."""
    what = f"{item.label} of a private incident" if item else "A private incident"
    text = (
        f"{what} ({incident.hotfix_id}) is overdue; its commander is "
        f"{mention(incident.commander_id)}"
    )
    return text, [section(f":rotating_light: {text}.")]


def build_escalation_refused(to: EscalateTo, error: str, what: str) -> str:
    """What the commander reads when Slack refused the escalation of `what` (`the hotfix-001
    post-mortem`, `AI-001 of hotfix-001`): where it was to go, why (Slack's error code, or
    `deactivated`), what to change."""
    why = {
        "channel_not_found": "Slack does not know that channel or person, or the bot cannot "
        "see the channel (a private channel the bot is not in)",
        "not_in_channel": "the bot is not in that channel",
        "is_archived": "that channel is archived",
        "user_not_found": "Slack does not know that person",
        "deactivated": "that account is deactivated",
    }.get(error, "Slack refused it")
    fix = (
        "Whoever runs the bot can invite it to that channel, or set ESCALATE_TO to another."
        if to.channel
        else "Whoever runs the bot can set ESCALATE_TO to someone who can get it."
    )
    return (
        f":warning: The escalation to {to.words} (`{to.id}`, the ESCALATE_TO setting) could not "
        f"be delivered: {why} (`{error}`). It was to say that {what} is overdue. {fix}"
    )
