"""Block Kit for the retrospective: the checklist, the section and action modals, DMs, summaries."""

from __future__ import annotations

import json
from typing import Any

from bot.drafts import Draft
from bot.free_text import ACTION, SECTION, WHY
from bot.models import ActionItem, Incident, Priority, Status
from bot.retro import SectionState
from bot.sections import Section
from bot.slack.assign_blocks import ASSIGN_PERSON, ASSIGN_SECTION, assignee_note, build_assign_menus
from bot.slack.blocks import Block, button, context, header, paged, section
from bot.slack.limits import (
    BLOCKS_TEXT,
    SECTION_TEXT,
    clip,
    fit,
    more,
    share,
    text_size,
)
from bot.slack.text import date, escape, mention
from bot.store.reviews import OPEN, Review


class Ids:
    """Action and callback ids of the retrospective's interactive parts."""

    WRITE_SECTION = "write_section"
    ADD_ACTION = "add_action"
    POST_DRAFT = "post_draft"
    ACTION_DONE = "action_done"
    SECTION_MODAL = "section_modal"
    ACTION_MODAL = "action_modal"
    PUBLISH_ANYWAY = "publish_anyway"
    KEEP_WRITING = "keep_writing"
    READY_FOR_REVIEW = "ready_for_review"
    ASSIGN_SECTION = ASSIGN_SECTION  # the checklist's menus (bot/slack/assign_blocks.py)
    ASSIGN_PERSON = ASSIGN_PERSON


MAX_POINTS_SHOWN = 10
# Where every open point is: the draft's first line.
ALL_POINTS = "the draft's first line lists them all (`/incident draft`)"


def build_checklist(
    incident: Incident,
    states: list[SectionState],
    actions: list[ActionItem],
    review: Review | None = None,
    reviewing: bool = False,
) -> list[Block]:
    """The retrospective checklist: every section's state (and whose it is, while nobody has
    written it) with a button, the deadline, the menus that give a section to someone. In
    review mode (`reviewing`), the pull request of `review` once open, else "Ready for
    review"."""
    done = sum(s.written for s in states)
    due = f"due {date(incident.deadline_at)}" if incident.deadline_at else "due after resolution"
    state = ":white_check_mark: *Published*" if incident.published_at else f"*{due}*"
    if review and review.status == OPEN and not incident.published_at:
        link = f"<{review.url}|in review>" if review.url else "in review"
        state = f"*{link}* (merging publishes) · {state}"
    # the menus that give a section nobody has written to someone (their options are text too)
    menus = None if incident.published_at else build_assign_menus(states)
    blocks: list[Block] = [
        header(f"📝 Post-mortem of {incident.hotfix_id}"),
        section(
            f"{state} · {done} of {len(states)} sections written. "
            "Press a button to write a section, or type `/incident write` for the next "
            "empty one" + ("; the menus at the bottom give one to someone." if menus else ".")
        ),
    ]
    # one block per section (the template has at most 40); long titles share what is left
    titles = [escape(st.section.title) for st in states]
    rest = [_state_line(st, "") for st in states]  # each line but its title (and a button)
    room = BLOCKS_TEXT - text_size([*blocks, menus]) - sum(len(r) + 5 for r in rest) - 600
    rooms = share([len(t) for t in titles], room)
    for st, title, size in zip(states, titles, rooms, strict=True):
        line = _state_line(st, clip(title, max(size, 1)))
        blocks.append(
            {
                "type": "section",
                "block_id": f"section-{st.section.key}",
                "text": {"type": "mrkdwn", "text": clip(line, SECTION_TEXT)},
                "accessory": button(
                    "Edit" if st.written else "Write", Ids.WRITE_SECTION, st.section.key
                ),
            }
        )
    open_items = [a for a in actions if not a.done]
    missing = [a for a in actions if not (a.owner_id and a.due)]
    items = f"*Action items*: {len(actions)} ({len(open_items)} open"
    items += f", {len(missing)} without owner or due date)" if missing else ")"
    blocks.append(
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": items},
            "accessory": button("Add action item", Ids.ADD_ACTION),
        }
    )
    elements = [button("Post the draft", Ids.POST_DRAFT, style="primary")]
    ready = incident.status is Status.RESOLVED and not incident.published_at
    if reviewing and ready and not (review and review.status == OPEN):
        elements.append(button("Ready for review", Ids.READY_FOR_REVIEW, incident.hotfix_id))
    blocks.append({"type": "actions", "elements": elements})
    if menus is not None:
        blocks.append(menus)
    return blocks


def _state_line(state: SectionState, title: str) -> str:
    """A section's line in the checklist: its title (as given: escaped) and who wrote it."""
    if state.written:
        who = ", ".join(mention(a) for a in state.authors)
        return f":white_check_mark: *{title}* — written by {who}"
    optional = "" if state.section.required else " (optional)"
    return f":white_large_square: *{title}* — empty{optional}{assignee_note(state)}"


def _input(
    block_id: str, label: str, element: Block, hint: str = "", optional: bool = True
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": clip(label, 2000)},
        "element": element,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": clip(hint, 2000)}
    return block


def build_section_modal(
    incident: Incident, section: Section, values: dict[str, str], channel_id: str
) -> dict[str, Any]:
    """A modal with one input per field of the section, prompts from the template."""
    blocks: list[Block] = [context(f"{incident.hotfix_id}: {escape(incident.title)}")]
    for field in section.fields:
        element: Block = {
            "type": "plain_text_input",
            "action_id": "value",
            "multiline": field.multiline,
            "max_length": SECTION.limit,
        }
        if values.get(field.key):
            element["initial_value"] = values[field.key][: SECTION.limit]
        blocks.append(_input(field.key, field.label, element, field.prompt))
    return {
        "type": "modal",
        "callback_id": Ids.SECTION_MODAL,
        "title": {"type": "plain_text", "text": clip(section.title, 24)},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"channel": channel_id, "section": section.key}),
        "blocks": blocks,
    }


def build_action_modal(incident: Incident, channel_id: str) -> dict[str, Any]:
    options = [
        {"text": {"type": "plain_text", "text": p.heading.split(" (")[0]}, "value": p.value}
        for p in Priority
    ]
    return {
        "type": "modal",
        "callback_id": Ids.ACTION_MODAL,
        "title": {"type": "plain_text", "text": "Add an action item"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"channel": channel_id}),
        "blocks": [
            context(f"{incident.hotfix_id}: {escape(incident.title)}"),
            _input(
                "text",
                "Action item",
                {"type": "plain_text_input", "action_id": "value", "max_length": ACTION.limit},
                optional=False,
            ),
            _input("owner", "Owner", {"type": "users_select", "action_id": "value"}),
            _input("due", "Due", {"type": "datepicker", "action_id": "value"}),
            _input(
                "priority",
                "Priority",
                {
                    "type": "static_select",
                    "action_id": "value",
                    "options": options,
                    "initial_option": options[1],
                },
                optional=False,
            ),
            _input(
                "why",
                "Why",
                {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": WHY.limit,
                },
                "What it prevents or improves",
            ),
        ],
    }


def action_line(item: ActionItem) -> str:
    owner = mention(item.owner_id) if item.owner_id else "_no owner_"
    due = item.due.isoformat() if item.due else "_no due date_"
    mark = ":white_check_mark:" if item.done else ":white_large_square:"
    return (
        f"{mark} *{item.label}* {escape(item.text)} · {owner} · due {due} · {item.priority.value}"
    )


def build_action_dm(incident: Incident, item: ActionItem) -> list[Block]:
    blocks: list[Block] = [
        section(
            f"You own *{item.label}* of *{incident.hotfix_id}* ({escape(incident.title)}) "
            f"in <#{incident.channel_id}>:\n>{escape(item.text)}\n"
            f"Due {item.due.isoformat() if item.due else '(no date yet)'} · "
            f"{item.priority.value}"
        )
    ]
    if item.done:
        blocks.append(context(":white_check_mark: Done. Thank you!"))
    else:
        blocks.append(
            {
                "type": "actions",
                "elements": [button("Mark done", Ids.ACTION_DONE, str(item.id), "primary")],
            }
        )
    return blocks


def build_actions_list(incident: Incident, items: list[ActionItem], page: int = 1) -> list[Block]:
    """Page `page` of the action items (as many as fit one message), saying how many more
    there are and the command that shows them. UsageError for a page past the last."""
    if not items:
        return [
            section(
                f"{incident.hotfix_id} has no action items yet. Add one with "
                "`/incident action &lt;text&gt; @owner [due YYYY-MM-DD] "
                "[immediate|short-term|long-term]`."
            )
        ]
    title = f"*Action items of {incident.hotfix_id}* ({len(items):,})"
    return paged(title, [action_line(i) for i in items], page, "/incident actions")


def build_publish_confirmation(incident: Incident, points: list[str], value: str) -> list[Block]:
    """Before publishing a post-mortem with open points: the points, in the order given, and
    the choice. Both buttons carry `value` (the hotfix id and the resolution they were shown
    for); the click decides from what is true then."""
    listed = fit([f"• {escape(p)}" for p in points], 1, SECTION_TEXT - 100, most=MAX_POINTS_SHOWN)
    text = listed.texts[0] if listed.texts else ""
    if listed.after:
        text += "\n• " + more(listed.after, ALL_POINTS)
    return [
        section(
            f":warning: *The {incident.hotfix_id} post-mortem is not ready yet: "
            f"{len(points)} open point(s).*"
        ),
        section(text),
        context("Publishing makes this version final and commits it to the repository."),
        {
            "type": "actions",
            "block_id": "publish",
            "elements": [
                button("Publish anyway", Ids.PUBLISH_ANYWAY, value, "danger"),
                button("Keep writing", Ids.KEEP_WRITING, value, "primary"),
            ],
        },
    ]


def draft_summary(draft: Draft, where: str) -> str:
    """The message that comes with an uploaded draft: readiness, changes, and `where` (a line
    saying where the draft is: in the repository, or why not yet)."""
    kind = "Final post-mortem" if draft.final else f"Draft {draft.version} of the post-mortem"
    lines = [f"*{kind} of {draft.incident.hotfix_id}*: {escape(draft.incident.title)}"]
    if draft.readiness:
        lines.append(f"Not ready yet, {len(draft.readiness)} open point(s):")
        points = [f"• {escape(p)}" for p in draft.readiness]
        listed = fit(points, 1, SECTION_TEXT, most=8, line_chars=300)
        lines += listed.texts
        if listed.after:
            lines.append(more(listed.after, "the file's first line lists them all"))
    else:
        lines.append(
            ":white_check_mark: Ready: every section written, the timeline complete, no "
            "placeholder left."
        )
    if draft.changed is None:
        lines.append("First draft.")
    elif draft.changed:
        lines.append("Changed since the last draft: " + ", ".join(draft.changed) + ".")
    else:
        lines.append("Nothing changed since the last draft.")
    lines.append(where)
    return "\n".join(lines)
