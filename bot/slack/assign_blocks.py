"""Block Kit for sections given to people: the checklist's "give a section to someone" menus,
`/incident assign`'s list and its announcements."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from bot.models import Incident
from bot.retro import SectionState
from bot.slack.blocks import Block, context, section, sections
from bot.slack.limits import BLOCKS_TEXT, MESSAGE_BLOCKS, clip, fit, more
from bot.slack.text import date, escape, mention
from bot.store.assignments import Assignment

# The checklist's menus (block_actions, one listener for both): the section, then the person.
ASSIGN_SECTION = "assign_section"
ASSIGN_PERSON = "assign_person"
OPTION_TEXT = 75  # Block Kit reference: an option's text is at most 75 characters
USAGE = "`/incident assign &lt;section&gt; @someone` (or `nobody`)"


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}


def build_assign_menus(states: Sequence[SectionState]) -> Block | None:
    """The checklist's actions block that gives a section nobody has written yet to someone:
    pick the section and the person, in either order; None when every section is written. Its
    block_id changes with whose each section is, so Slack shows the menus empty again after
    each change (a kept choice would give the next section to the same person unasked)."""
    empty = [st for st in states if not st.written]
    if not empty:
        return None
    given = repr([(st.section.key, st.assignee) for st in states]).encode()
    options = [
        {"text": _plain(clip(st.section.title, OPTION_TEXT)), "value": st.section.key}
        for st in empty
    ]
    return {
        "type": "actions",
        "block_id": f"assign-{zlib.crc32(given):08x}",
        "elements": [
            {
                "type": "static_select",
                "action_id": ASSIGN_SECTION,
                "placeholder": _plain("Give a section…"),
                "options": options,
            },
            {
                "type": "users_select",
                "action_id": ASSIGN_PERSON,
                "placeholder": _plain("…to someone"),
            },
        ],
    }


def assignee_note(state: SectionState) -> str:
    """What a section nobody has written yet shows after its state in the checklist."""
    return f" · {mention(state.assignee)}'s" if state.assignee and not state.written else ""


def announce(incident: Incident, title: str, by: str, before: str | None, after: str | None) -> str:
    """The channel's message about a section given (`after`) or taken back (`after` None) by
    `by`, naming whose it was (`before`)."""
    name = f"*{escape(title)}* of {incident.hotfix_id}"
    was = f"; it was {mention(before)}'s" if before else ""
    if after is None:
        return (
            f":memo: {name} is no longer {mention(before or by)}'s: the post-mortem owners "
            f"write it (taken back by {mention(by)})."
        )
    return f":memo: {name} is {mention(after)}'s to write (given by {mention(by)}{was})."


def build_assignments(
    incident: Incident,
    listed: Sequence[tuple[SectionState, Assignment]],
    owners: Sequence[str],
    keys: str,
) -> list[Block]:
    """`/incident assign` alone: the sections given to people, in the template's order, each
    with whose it is, who gave it and when, and whether it is written; then who writes the
    others (`owners`) and how to give one (`keys`: the sections' keys, as Catalog.names)."""
    theirs = ", ".join(mention(u) for u in owners)
    if not listed:
        return [
            section(
                f"No section of {incident.hotfix_id} is given to anyone: the post-mortem owners "
                f"({theirs}) write them all. {USAGE} gives one; sections: {keys}."
            )
        ]
    lines = [
        f"• *{escape(clip(st.section.title, 100))}* `{st.section.key}` — "
        f"{mention(given.user_id)}, "
        + ("written" if st.written else "still empty")
        + f" (given by {mention(given.assigned_by)}, {date(given.assigned_at)})"
        for st, given in listed
    ]
    listed_ = fit(lines, MESSAGE_BLOCKS - 3, BLOCKS_TEXT - 1500)
    blocks = [section(f"*Sections of {incident.hotfix_id} given to people* ({len(lines)})")]
    blocks += sections(listed_.texts)
    if listed_.after:
        blocks.append(context(more(listed_.after, "the checklist shows each section's")))
    others = f"The other sections are the post-mortem owners' ({theirs})."
    blocks.append(context(f"{others} {USAGE}; sections: {keys}."))
    return blocks
