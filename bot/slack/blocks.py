"""Block Kit builders: pure functions from incidents and entries to Slack messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.durations import format_duration
from bot.models import Incident, Milestone, Status
from bot.report import Report
from bot.slack.limits import (
    BLOCKS_TEXT,
    FIELD_TEXT,
    HEADER_TEXT,
    MESSAGE_BLOCKS,
    SECTION_TEXT,
    clip,
    fit,
    more,
    page_of,
    pages,
)
from bot.slack.text import date, escape, mention, utc

Block = dict[str, Any]

# Every command with an example; shown by `/incident help` and in the kick-off message.
HELP: tuple[tuple[str, str], ...] = (
    ("/incident start <title> [sev1|sev2|sev3|sev4]", "open an incident with its own channel"),
    ("/incident start --private <title>", "open a private incident (security); never announced"),
    ("/timeline <text>", "record what happened, now"),
    (
        "/timeline 14:05 detected: PagerDuty alert on checkout 5xx",
        "backdate (your own clock; `14:05Z` for UTC), mark a milestone",
    ),
    ("/timeline -15m investigating: checking the deploy log", "relative time"),
    ("/timeline", "list the timeline with each entry's number (the latest, if not all fit)"),
    ("/timeline page 2", "the entries before those (page 3 before these, ...)"),
    ("/timeline edit 3 14:10 root-cause: bad config push", "change entry #3 (author or commander)"),
    ("/timeline delete 3", "delete entry #3; its number is never reused"),
    (
        "/timeline import",
        "review the channel's messages since the incident began and keep those ticked (commander)",
    ),
    ("/incident commander @user", "hand over incident command"),
    (
        "/incident owner @user [@user ...]",
        "set the post-mortem owners (or `owner add|remove @user`)",
    ),
    (
        "/incident assign root_cause @user",
        "give a post-mortem section to someone (`nobody` takes it back; alone: who has which)",
    ),
    ("/incident severity sev1", "change the severity"),
    ("/incident status [hotfix-NNN]", "summary with times and durations so far"),
    (
        "/incident insights [30d|90d|quarter|year] [sev1 ...] [public]",
        "the trend across incidents: a chart and the figures, to you (or the channel: public)",
    ),
    ("/incident resolve [14:40]", "record resolution; starts the post-mortem deadline"),
    ("/incident reopen", "reopen a resolved incident; resolving again restarts the deadline"),
    ("/incident list [page 2]", "open incidents in this workspace (the next ones on page 2)"),
    (
        "/incident write [hotfix-NNN] [section]",
        "write the next empty post-mortem section (or the one named)",
    ),
    (
        "/incident action Add 5xx alert @user due 2026-12-01 immediate why: catch it early",
        "add an action item; its owner gets a DM",
    ),
    ("/incident action AI-001 @user due 2026-12-01", "complete or change action item AI-001"),
    (
        "/incident actions [hotfix-NNN] [page 2]",
        "list the action items (the next ones on page 2)",
    ),
    (
        "/incident draft [hotfix-NNN]",
        "post the post-mortem draft in the incident channel and commit it to the repository",
    ),
    (
        "/incident publish [hotfix-NNN]",
        "mark the post-mortem final: one last draft, committed (where the team reviews in "
        "pull requests: open its pull request; the merge publishes it)",
    ),
    ("/incident help", "this list"),
)

MILESTONE_HELP = ", ".join(f"`{m.value}:`" for m in Milestone)


def section(text: str) -> Block:
    """A mrkdwn section; text past Slack's 3,000 characters is cut between whole entities
    (callers that may go past it say where the rest is)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}}


def sections(texts: list[str]) -> list[Block]:
    """A section for each text (the blocks of a `limits.fit` list)."""
    return [section(text) for text in texts]


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, SECTION_TEXT)}]}


def header(text: str) -> Block:
    return {
        "type": "header",
        "text": {"type": "plain_text", "text": clip(text, HEADER_TEXT), "emoji": True},
    }


def button(text: str, action_id: str, value: str = "", style: str | None = None) -> Block:
    button: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
    }
    if value:
        button["value"] = value
    if style:
        button["style"] = style
    return button


def help_text() -> str:
    lines = [f"`{escape(usage)}` — {what}" for usage, what in HELP]
    return "\n".join(lines) + f"\nMilestone keywords: {MILESTONE_HELP}"


def keeping_hint(
    emoji: tuple[str, ...] = ("pushpin",), milestones: tuple[tuple[str, Milestone], ...] = ()
) -> str:
    """How people keep a message without typing, with the emoji the settings name
    (TIMELINE_REACTION, TIMELINE_MILESTONE_REACTIONS): one mrkdwn sentence or two."""
    reactions = " or ".join(f":{e}:" for e in emoji) or "the timeline emoji"
    hint = (
        f"React with {reactions} on any message (thread replies too) or pin it to keep it in "
        "the timeline with its own time and author; right-click → *Add to timeline* works too."
    )
    if milestones:
        marks = ", ".join(f":{e}: {m.label}" for e, m in milestones)
        hint += f" These emoji also mark a milestone: {marks}."
    return hint


def build_help(keeping: str = keeping_hint()) -> list[Block]:
    """Every command, over as many sections as it takes (never cut), and `keeping`: how a
    message is kept without a command (keeping_hint)."""
    lines = help_text().split("\n")
    listed = fit(lines, MESSAGE_BLOCKS - 2, BLOCKS_TEXT - 500)  # tests: it all fits
    return [
        section("*postmortem-bot commands*"),
        *sections(listed.texts),
        context(
            "A time without a zone is read on your own clock (your Slack time zone); "
            "`14:05Z` is UTC. Mentions look like `@user`."
        ),
        context(keeping),
    ]


def incident_line(incident: Incident) -> str:
    where = f"<#{incident.channel_id}>" if incident.channel_id else "(channel being created)"
    lock = " :lock:" if incident.private else ""
    return (
        f"*{incident.hotfix_id}*{lock} {escape(incident.title)} · {incident.severity.label} · "
        f"IC {mention(incident.commander_id)} · {where}"
    )


def topic(incident: Incident) -> str:
    """The channel topic: ID, severity, commander, status (Slack allows 250 characters)."""
    head = (
        f"{incident.hotfix_id} · {incident.severity.label} · IC: {mention(incident.commander_id)}"
    )
    status = f" · Status: {incident.status.value}"
    room = 250 - len(head) - len(status) - 3
    return f"{head} · {clip(escape(incident.title), room)}{status}"


def build_kickoff(incident: Incident, keeping: str = keeping_hint()) -> list[Block]:
    commands = "\n".join(
        f"• `{escape(usage)}` — {what}"
        for usage, what in HELP
        if usage.startswith(
            (
                "/timeline",
                "/incident commander",
                "/incident owner",
                "/incident status",
                "/incident resolve",
            )
        )
    )
    return [
        header(f"🚨 {incident.hotfix_id}: {incident.title}"),
        section(
            f"*Severity* {incident.severity.label}   *Commander* {mention(incident.commander_id)}"
            f"   *Started* {date(incident.started_at)}"
        ),
        section(
            "*Record the response as it happens.* Times are read on your own clock and kept in "
            "UTC, with their author and a number; "
            f"a leading keyword marks a milestone ({MILESTONE_HELP}).\n" + commands
        ),
        context(
            "Began before it was opened? `/timeline 13:50 began: &lt;what triggered it&gt;` "
            "moves *Incident began*. "
            "Resolving starts the clock: the post-mortem is due soon after (48 hours by default). "
            f"{keeping} `/incident help` lists everything."
        ),
    ]


def kickoff_text(incident: Incident) -> str:
    commander = mention(incident.commander_id)
    return f"{incident.hotfix_id}: {escape(incident.title)} — commander {commander}"


def build_status(
    report: Report,
    next_reminders: Sequence[tuple[str, datetime, bool]] = (),
    given: Sequence[tuple[str, str, bool]] = (),
) -> list[Block]:
    """The incident at a glance: roles, times, durations, the sections given to people
    (`given`: title, user id, whether written); any milestone recorded before the incident
    began is named (with the command that corrects it), never shown as `0s`;
    `next_reminders`: (person, when UTC, their time zone known) of the post-mortem's."""
    i = report.incident
    state = "resolved" if i.status is Status.RESOLVED else "open"
    fields = [
        f"*Status* {state}",
        f"*Severity* {i.severity.label}",
        f"*Commander* {mention(i.commander_id)}",
        f"*Post-mortem owners* {' '.join(mention(u) for u in report.owners)}",
        f"*Began* {date(report.began)} ({utc(report.began)})",
    ]
    if i.resolved_at is None:
        fields.append(f"*Duration so far* {format_duration(report.duration)}")
    fields += [
        f"*{name}* {value if not value.startswith('not computed') else 'not computed (below)'}"
        for name, value in report.metrics()
    ]
    if i.resolved_at and i.deadline_at:
        fields.append(f"*Resolved* {date(i.resolved_at)}")
        fields.append(f"*Post-mortem due* {date(i.deadline_at)}")
        if next_reminders:
            fields.append(
                "*Next reminders* "
                + " · ".join(
                    f"{mention(u)} {date(at)}" + ("" if known else " (zone not seen yet: UTC)")
                    for u, at, known in next_reminders
                )
            )
    milestones = [e for e in report.entries if e.milestone]
    blocks = [section(f"*{i.hotfix_id}: {escape(i.title)}*")]
    for n in range(0, len(fields), 10):  # Slack shows 10 fields to a section
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": clip(f, FIELD_TEXT)} for f in fields[n : n + 10]
                ],
            }
        )
    notes = [f"{len(report.entries):,} timeline entries · `/timeline` lists them"]
    if milestones:
        lines = [
            f"`{utc(e.at)}` {e.milestone.label if e.milestone else ''} ({e.label})"
            for e in milestones
        ]
        listed = fit(["*Milestones*", *lines], 1, SECTION_TEXT)
        blocks += sections(listed.texts)
        if listed.after:
            notes.insert(0, more(listed.after, "`/timeline` lists every entry", "more milestones"))
    if given:
        lines = [
            f"• {escape(clip(title, 100))}: {mention(user)}" + (" (written)" if written else "")
            for title, user, written in given
        ]
        listed = fit(["*Sections given to people*", *lines], 1, SECTION_TEXT)
        blocks += sections(listed.texts)
        if listed.after:
            notes.insert(0, more(listed.after, "`/incident assign` lists them all"))
    if contradictions := report.contradictions:
        fix = (
            "`/timeline edit N HH:MM` corrects an entry's time; "
            "`/timeline HH:MM began: …` moves the beginning."
        )
        lines = [f"• {c}" for c in contradictions.values()]
        listed = fit([":warning: *The timeline contradicts itself:*", *lines], 1, 2800)
        rest = (
            f"\n{more(listed.after, '`/timeline`', 'more contradictions')}" if listed.after else ""
        )
        blocks.append(section(f"{listed.texts[0]}{rest}\n{fix}"))
    blocks.append(context(" · ".join(notes)))
    return blocks


def build_list(incidents: list[Incident], page: int = 1) -> list[Block]:
    """Page `page` of the open incidents (as many as fit one message; the first page holds
    the first of `incidents`), saying how many more there are and the command that shows
    them. UsageError for a page past the last."""
    if not incidents:
        return [section("No open incidents. :relieved:")]
    lines = [incident_line(i) for i in incidents]
    return paged(f"*Open incidents* ({len(incidents):,})", lines, page, "/incident list")


def paged(title: str, lines: list[str], page: int, command: str) -> list[Block]:
    """Page `page` (from 1) of a titled list as one message's blocks: the title says which page
    of how many, and a note how many more follow and the `command ... page N` that shows them.
    UsageError for a page past the last."""
    found = pages(lines, MESSAGE_BLOCKS - 2, BLOCKS_TEXT - 500)
    shown = page_of(found, page, command)
    if len(found) > 1:
        title += f" · page {page:,} of {len(found):,}"
    blocks = [section(title), *sections(shown.texts)]
    if shown.after:
        blocks.append(context(more(shown.after, f"`{command} page {page + 1}`")))
    return blocks


def build_resolved(incident: Incident, by: str) -> list[Block]:
    assert incident.resolved_at and incident.deadline_at
    return [
        section(
            f":white_check_mark: *{incident.hotfix_id} resolved* at {utc(incident.resolved_at)} "
            f"({date(incident.resolved_at)} your time) by {mention(by)}."
        ),
        section(
            f"*The post-mortem is due {date(incident.deadline_at)}* "
            f"({incident.deadline_at:%Y-%m-%d %H:%M} UTC), "
            f"{format_duration(incident.deadline_at - incident.resolved_at)} after resolution."
        ),
    ]


def build_announcement(incident: Incident) -> list[Block]:
    return [
        section(
            f":rotating_light: *{incident.hotfix_id}* opened by {mention(incident.created_by)}: "
            f"{escape(incident.title)} · {incident.severity.label} · join <#{incident.channel_id}>"
        )
    ]


def opened_text(incident: Incident) -> str:
    lock = "private " if incident.private else ""
    return (
        f":rotating_light: Opening {lock}*{incident.hotfix_id}*: {escape(incident.title)} "
        f"({incident.severity.label}). You are the incident commander; "
        f"the channel is on its way ({date(incident.started_at)})."
    )
