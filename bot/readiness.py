"""Is the post-mortem ready? The open points a draft still has, in plain words."""

from __future__ import annotations

import itertools

from bot.models import ActionItem, Entry, Milestone
from bot.sections import Section

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


def check_readiness(
    empty_sections: list[Section], actions: list[ActionItem], entries: list[Entry]
) -> list[str]:
    """Everything that keeps the draft from being complete; [] when it is ready."""
    points = [f"Section “{s.title}” is not written yet." for s in empty_sections]
    if not actions:
        points.append("No action items yet (`/incident action`).")
    for item in actions:
        missing = [
            what for what, value in (("owner", item.owner_id), ("due date", item.due)) if not value
        ]
        if missing:
            points.append(f"{item.label} has no {' and no '.join(missing)}.")
    first = {}
    for entry in entries:
        if entry.milestone and entry.milestone not in first:
            first[entry.milestone] = entry.at
    if Milestone.DETECTED not in first:
        points.append("The timeline has no detection (`/timeline HH:MM detected: ...`).")
    if Milestone.RESOLVED not in first:
        points.append("The timeline has no resolution (`/incident resolve`).")
    seen = [m for m in MILESTONE_ORDER if m in first]
    for earlier, later in itertools.pairwise(seen):
        if first[later] < first[earlier]:
            points.append(
                f"“{later.label}” ({first[later]:%Y-%m-%d %H:%M}) comes before "
                f"“{earlier.label}” ({first[earlier]:%Y-%m-%d %H:%M})."
            )
    return points
