"""Which of an incident channel's messages `/timeline import` proposes, which it ticks in
advance, and the milestone each suggests. Plain Python over plain records; no Slack (the edge,
bot/slack/history.py, turns Slack's messages into `Posted`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.models import ONE_TIME, Milestone

# Message subtypes that are something someone said (or an app's alert). The others are Slack's
# notices (channel_join, channel_leave, channel_topic, channel_purpose, channel_name,
# pinned_item, channel_archive, ...: docs.slack.dev "Message subtypes") and never proposed.
SAID = frozenset({"", "bot_message", "thread_broadcast", "file_share", "me_message"})

# The milestone words of bot/timeline.py (Milestone values), in the forms people write them in
# a channel. The first one found in a message (reading from its start) is the suggestion.
_WORDS: dict[Milestone, str] = {
    Milestone.DETECTED: r"detected|triggered",
    Milestone.INVESTIGATING: r"investigating",
    Milestone.ROOT_CAUSE: r"root[ _-]?cause",
    Milestone.FIX: r"fix|fixed",
    Milestone.DEPLOYED: r"deployed|rolled out",
    Milestone.VERIFIED: r"verified",
    Milestone.MONITORING: r"monitoring",
    Milestone.RESOLVED: r"resolved",
}
_KEYWORD_RE = re.compile(
    "|".join(rf"(?P<{m.name}>\b(?:{words})\b)" for m, words in _WORDS.items()), re.IGNORECASE
)


@dataclass(frozen=True)
class Posted:
    """One message of the channel (or of one of its threads) as plain values: `ts` Slack's
    id of it, `at` its time (UTC), who posted it (`author_name` as shown; `is_app` for an
    app's message such as an alert), its words as people read them (`text`, "" if none),
    Slack's `subtype` ("" for an ordinary message), whether the bot itself posted it (`own`)
    and whether it is a reply in a thread."""

    ts: str
    at: datetime
    author_id: str
    author_name: str
    is_app: bool
    text: str
    subtype: str = ""
    own: bool = False
    in_thread: bool = False


@dataclass(frozen=True)
class Proposal:
    """A message worth keeping: `milestone` the one its words suggest (never "Incident
    began" or "Incident closed": only commands move those), `preselected` whether it is
    ticked in advance and `why` (a few words for the form)."""

    ts: str
    at: datetime
    author_id: str
    author_name: str
    text: str
    milestone: Milestone | None
    preselected: bool
    why: str
    in_thread: bool = False

    @property
    def first_line(self) -> str:
        return next((line.strip() for line in self.text.split("\n") if line.strip()), "")


def keyword(text: str) -> Milestone | None:
    """The milestone whose word comes first in `text`: "Root cause: the pool" ->
    ROOT_CAUSE, "deployed the fix" -> DEPLOYED, "all resolved" -> RESOLVED; None if none."""
    found = _KEYWORD_RE.search(text)
    return Milestone[found.lastgroup] if found and found.lastgroup else None


def propose(
    messages: Iterable[Posted], kept: set[str], milestones: set[Milestone]
) -> list[Proposal]:
    """The messages worth proposing, oldest first, each once (a thread reply also sent to
    the channel comes back twice): what people said and apps' alerts, thread replies
    included; not Slack's notices (see SAID), the bot's own messages, empty ones, nor those
    whose ts is in `kept` (already in the timeline).

    Ticked in advance: apps' messages (alerts) and messages with a milestone word. Each
    milestone is suggested once, on the first message that says it, unless the timeline has
    it already (`milestones`); "resolved" ticks a message but suggests nothing: only
    `/incident resolve` closes an incident (the same for "began")."""
    seen: set[str] = set()
    have = set(milestones)
    found = []
    for message in sorted(messages, key=lambda m: (m.at, m.ts)):
        if (
            message.ts in seen
            or message.ts in kept
            or message.own
            or message.subtype not in SAID
            or not message.text.strip()
        ):
            continue
        seen.add(message.ts)
        word = keyword(message.text)
        milestone = word if word not in ONE_TIME and word not in have else None
        if milestone:
            have.add(milestone)
        found.append(
            Proposal(
                ts=message.ts,
                at=message.at,
                author_id=message.author_id,
                author_name=message.author_name,
                text=message.text,
                milestone=milestone,
                preselected=bool(word) or message.is_app,
                why=_why(word, milestone, message.is_app),
                in_thread=message.in_thread,
            )
        )
    return found


def _why(word: Milestone | None, milestone: Milestone | None, is_app: bool) -> str:
    if milestone:
        return f"Marks: {milestone.label}"
    if word in ONE_TIME:
        return f"Says “{word.value if word else ''}” (an entry; commands close incidents)"
    if word:
        return f"Says “{word.value}” ({word.label} is marked already)"
    return "An app's message (an alert)" if is_app else ""
