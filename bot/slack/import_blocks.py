"""The `/timeline import` modal: while the history is read, then page after page of proposals
grouped by hour (checkboxes), within Slack's view limits. Pure builders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.proposals import Proposal
from bot.slack.limits import BLOCKS_TEXT, VIEW_BLOCKS, clip, text_size
from bot.slack.text import escape

IMPORT_MODAL = "timeline_import"  # the modal's callback_id
PICK = "pick"  # action_id of every page's checkboxes
THEN = "then"  # block_id and action_id of "what next" (radio buttons)
TITLE = "Import history"  # a modal title holds 24 characters
# Block Kit reference (docs.slack.dev/reference/block-kit): checkboxes hold at most 10
# options; an option's text and description at most 75 characters each; a modal's
# private_metadata at most 3,000 characters, its blocks at most 100 (VIEW_BLOCKS).
CHECKBOXES = 10
OPTION_TEXT = 75
# Each page: its intro and "what next" blocks, and room for their text.
FIXED_BLOCKS = 2
FIXED_TEXT = 1_200
LABEL = len("14:05–14:59")

Block = dict[str, Any]


def _plain(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _view(blocks: list[Block], *, close: str = "Close") -> dict[str, Any]:
    return {"type": "modal", "title": _plain(TITLE), "close": _plain(close), "blocks": blocks}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, 3000)}}


def build_reading(channel_id: str, since: datetime) -> dict[str, Any]:
    """Shown at once, while the history is read (no inputs: nothing to submit yet)."""
    return _view(
        [
            _section(
                f":hourglass_flowing_sand: Reading <#{channel_id}>'s history since "
                f"{since:%H:%M} UTC ({since:%Y-%m-%d})…\nLong channels take a while; this form "
                "shows the messages worth keeping when they are read."
            )
        ]
    )


def build_note(text: str) -> dict[str, Any]:
    """A form that only says something (a failure, nothing to propose, done)."""
    return _view([_section(text)])


def option(position: int, proposal: Proposal) -> Block:
    """`14:05 alice: first line…` (a thread reply `↳ 14:07 bob: …`), `why` under it."""
    lead = "↳ " if proposal.in_thread else ""
    text = f"{lead}{proposal.at:%H:%M} {proposal.author_name}: {proposal.first_line}"
    found: Block = {
        "text": {"type": "mrkdwn", "text": clip(escape(text), OPTION_TEXT)},
        "value": str(position),
    }
    if proposal.why:
        found["description"] = _plain(clip(proposal.why, OPTION_TEXT))
    return found


def _hour(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def _header(hour: datetime, continued: bool) -> Block:
    more = " (continued)" if continued else ""
    return {"type": "header", "text": _plain(f"{hour:%a %d %b, %H:00} UTC{more}")}


def _groups(rows: Sequence[tuple[int, Proposal]]) -> list[tuple[datetime, list[list[int]]]]:
    """Indexes of `rows` by hour, each hour in runs of at most CHECKBOXES."""
    found: list[tuple[datetime, list[list[int]]]] = []
    for i, (_, proposal) in enumerate(rows):
        hour = _hour(proposal.at)
        if not found or found[-1][0] != hour:
            found.append((hour, [[]]))
        runs = found[-1][1]
        if len(runs[-1]) == CHECKBOXES:
            runs.append([])
        runs[-1].append(i)
    return found


def _checkboxes(rows: Sequence[tuple[int, Proposal]], run: list[int], block_id: str) -> Block:
    options = [option(*rows[i]) for i in run]
    first, last = rows[run[0]][1].at, rows[run[-1]][1].at
    element: Block = {"type": "checkboxes", "action_id": PICK, "options": options}
    ticked = [o for i, o in zip(run, options, strict=True) if rows[i][1].preselected]
    if ticked:
        element["initial_options"] = ticked
    label = f"{first:%H:%M}" + (f"–{last:%H:%M}" if last != first else "")
    return {
        "type": "input",
        "block_id": block_id,
        "optional": True,
        "label": _plain(label),
        "element": element,
    }


def proposal_blocks(rows: Sequence[tuple[int, Proposal]], continued: bool) -> list[Block]:
    """Headers per hour and checkboxes of (position, proposal) rows; `continued`: the first
    hour began on the page before."""
    blocks = []
    for n, (hour, runs) in enumerate(_groups(rows)):
        blocks.append(_header(hour, continued and n == 0))
        blocks += [_checkboxes(rows, run, f"p{rows[run[0]][0]}") for run in runs]
    return blocks


def paginate(proposals: Sequence[Proposal]) -> list[list[Proposal]]:
    """The proposals in pages that each fit one modal with its intro and "what next": at
    most VIEW_BLOCKS blocks and BLOCKS_TEXT characters of text (bot/slack/limits.py; each
    input's label counted at its longest, `14:05–14:59`). Always at least one page (empty
    for no proposals)."""
    pages: list[list[Proposal]] = [[]]
    blocks = size = run = 0  # of the page so far; run: options in its last checkboxes
    for proposal in proposals:
        page = pages[-1]
        for fresh in (False, True):
            new_hour = fresh or not page or _hour(page[-1].at) != _hour(proposal.at)
            cost = text_size(option(0, proposal))
            more = 0
            if new_hour:
                more, cost = 2, cost + text_size(_header(_hour(proposal.at), True)) + LABEL
            elif run == CHECKBOXES:
                more, cost = 1, cost + LABEL
            fits = blocks + more + FIXED_BLOCKS <= VIEW_BLOCKS
            if fresh or (fits and size + cost + FIXED_TEXT <= BLOCKS_TEXT):
                break
            pages.append([])  # does not fit: the next page, where it is the first
            page, blocks, size, run = pages[-1], 0, 0, 0
        page.append(proposal)
        blocks, size, run = blocks + more, size + cost, 1 if more else run + 1
    return pages


@dataclass(frozen=True)
class Threads:
    """The threads of an import for its form: `left` still being read, `unread` given up
    on (and Slack's `why`), `later` whether the page shown holds replies read later."""

    left: int = 0
    unread: int = 0
    why: str = ""
    later: bool = False


def threads_note(threads: Threads) -> str:
    """What the form says about the threads: still being read, or not read."""
    notes = []
    if threads.left:
        notes.append(
            f":hourglass_flowing_sand: *{threads.left:,} thread(s) are still being read* "
            "(Slack allows the bot 50 a minute): their replies will follow on pages after "
            "these, titled _Thread replies read later_."
        )
    if threads.unread:
        notes.append(
            f":warning: *{threads.unread:,} thread(s) were not read* ({threads.why}): their "
            "replies are not proposed here. Type `/timeline import` again later to have them "
            "proposed (what is in the timeline by then is left out)."
        )
    return "\n".join(notes)


def build_page(
    meta: dict[str, Any],
    hotfix_id: str,
    rows: Sequence[tuple[int, Proposal]],
    pages: int,
    later: tuple[int, int],
    continued: bool,
    threads: Threads = Threads(),
) -> dict[str, Any]:
    """Page meta["page"] of `pages`: the proposals in `rows` (position, proposal), ticked
    where pre-selected; on every page but the last, what comes next (`later`: proposals on
    the pages after this one, and how many of them are pre-selected). While `threads.left`
    threads are still being read, the last page does not finish the import: "next" waits for
    their replies."""
    page = int(meta["page"])
    last = page >= pages and not threads.left
    what = (
        f"*Thread replies read later* in <#{meta['channel']}>"
        if threads.later
        else f"messages of <#{meta['channel']}>"
    )
    more = "+" if threads.left else ""
    intro = (
        f"*Page {page} of {pages}{more}* · {what} worth keeping in "
        f"{hotfix_id}'s timeline, with their own times and authors. Ticked in advance: "
        "alerts and messages with a milestone word (the milestone it marks is under it)."
    )
    note = threads_note(threads)
    blocks = [_section(f"{intro}\n{note}" if note else intro), *proposal_blocks(rows, continued)]
    if not last:
        count, ticked = later
        coming = " and the replies still being read" if threads.left else ""
        choices = [
            (
                "next",
                f"Show the next page ({count:,} more messages)"
                if page < pages
                else "Wait for the thread replies still being read",
            ),
            ("rest", f"Keep these, and the pre-selected later ({ticked:,}{coming})"),
            ("stop", "Keep these, and nothing later" + (" (no thread replies)" if more else "")),
        ]
        options = [{"text": _plain(clip(text, OPTION_TEXT)), "value": v} for v, text in choices]
        blocks.append(
            {
                "type": "input",
                "block_id": THEN,
                "label": _plain("Then"),
                "element": {
                    "type": "radio_buttons",
                    "action_id": THEN,
                    "options": options,
                    "initial_option": options[0],
                },
            }
        )
    return {
        **_view(blocks, close="Cancel"),
        "callback_id": IMPORT_MODAL,
        "submit": _plain("Keep ticked" if last else "Continue"),
        "private_metadata": json.dumps(meta),
    }


def build_waiting(
    meta: dict[str, Any], chosen: int, threads: Threads, rest: bool
) -> dict[str, Any]:
    """Every page so far submitted while `threads.left` threads are still being read: the
    form waits (the bot updates it when their replies are read); "Check now" asks again."""
    then = (
        "the pre-selected among their replies are kept as they are read, with the "
        f"{chosen:,} chosen so far, and this form then says so."
        if rest
        else "this form shows their replies as the next page when they are read; nothing "
        f"is kept before that (the {chosen:,} chosen so far are remembered)."
    )
    text = (
        f":hourglass_flowing_sand: Still reading *{threads.left:,} thread(s)* of "
        f"<#{meta['channel']}> at the pace Slack allows (50 a minute): {then}"
    )
    return {
        **_view([_section(text)], close="Cancel"),
        "callback_id": IMPORT_MODAL,
        "submit": _plain("Check now"),
        "private_metadata": json.dumps({**meta, "waiting": True}),
    }


def ticked(view: dict[str, Any]) -> tuple[set[int], str]:
    """From a submitted page: the positions ticked on it, and what next ("next", "rest",
    "stop"; "stop" on the last page)."""
    values = (view.get("state") or {}).get("values") or {}
    found: set[int] = set()
    then = "stop"
    for block_id, actions in values.items():
        for action_id, state in actions.items():
            if action_id == PICK and block_id.startswith("p"):
                found |= {
                    int(o["value"])
                    for o in state.get("selected_options") or []
                    if str(o.get("value", "")).isdigit()
                }
            elif block_id == THEN and action_id == THEN:
                then = ((state.get("selected_option") or {}).get("value")) or "next"
    return found, then if then in ("next", "rest", "stop") else "next"
