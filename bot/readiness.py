"""Is the post-mortem ready? Its open points in plain words, the most important first: the
timeline (milestones missing or out of order), then action items, then empty sections, then
the template guidance the draft still shows."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence

from bot.models import ActionItem, Milestone
from bot.report import Report
from bot.retro import SectionState
from bot.sections import Catalog, Section

# The order the response milestones should happen in.
MILESTONE_ORDER = (
    Milestone.BEGAN,
    Milestone.DETECTED,
    Milestone.INVESTIGATING,
    Milestone.ROOT_CAUSE,
    Milestone.FIX,
    Milestone.DEPLOYED,
    Milestone.VERIFIED,
    Milestone.RESOLVED,
    Milestone.MONITORING,
)
# How to record each milestone, for the open point that says it is missing.
_HOW: dict[Milestone, str] = {
    m: "`/incident resolve`" if m is Milestone.RESOLVED else f"`/timeline HH:MM {m.value}: …`"
    for m in Milestone
}


def timeline_points(report: Report, required: Sequence[Milestone]) -> list[str]:
    """Required milestones not recorded, and recorded ones out of order."""
    first: dict[Milestone, object] = {}
    for entry in report.entries:
        if entry.milestone and entry.milestone not in first:
            first[entry.milestone] = entry.at
    points = [
        f"The timeline has no “{m.label}” ({_HOW[m]})."
        for m in MILESTONE_ORDER
        if m in required and m not in first
    ]
    seen = [m for m in MILESTONE_ORDER if m in first]
    disorder = [
        f"“{later.label}” ({first[later]:%Y-%m-%d %H:%M}) comes before "
        f"“{earlier.label}” ({first[earlier]:%Y-%m-%d %H:%M})."
        for earlier, later in itertools.pairwise(seen)
        if first[later] < first[earlier]  # type: ignore[operator]
    ]
    return disorder + points


def action_points(actions: Sequence[ActionItem]) -> list[str]:
    if not actions:
        return ["No action items yet (`/incident action`)."]
    points = []
    for item in actions:
        missing = [
            what for what, value in (("owner", item.owner_id), ("due date", item.due)) if not value
        ]
        if missing:
            points.append(
                f"{item.label} has no {' and no '.join(missing)} "
                f"(`/incident action {item.label} @owner due YYYY-MM-DD`)."
            )
    return points


def unwritten(section: Section) -> str:
    """The open point of a required section nobody has written yet."""
    return f"Section “{section.title}” is not written yet."


def check_readiness(
    catalog: Catalog,
    states: Sequence[SectionState],
    actions: Sequence[ActionItem],
    report: Report,
    placeholders: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Everything that keeps the draft from being complete, most important first; [] when
    it is ready. `placeholders`: the template guidance the draft shows, by section key."""
    points = timeline_points(report, catalog.required_milestones) + action_points(actions)
    empty = {st.section.key for st in states if not st.written}
    points += [
        unwritten(st.section) for st in states if st.section.key in empty and st.section.required
    ]
    titles = {st.section.key: st.section.title for st in states}
    for where, shown in (placeholders or {}).items():
        if where in empty or where == "actions":
            continue  # said above: the section is empty, the action items lack something
        name = "the header" if where in ("header", "") else f"“{titles.get(where, where)}”"
        example = re.search(r"\[[^\[\]\n]{2,}\]", shown[0])  # `[What was found]`, not markup
        points.append(
            f"{name} still shows {len(shown)} placeholder{'s' * (len(shown) != 1)} of the "
            f"template, e.g. {example[0] if example else shown[0].strip()[:60]}"
        )
    return points
