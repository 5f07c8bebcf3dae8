"""The post-mortem draft and the incident log: their data, and rendering them with Jinja2."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.durations import format_duration
from bot.jinja import OPEN_POINTS
from bot.models import ActionItem, Entry, Milestone, Priority
from bot.readiness import MILESTONE_ORDER, check_readiness
from bot.report import Report
from bot.retro import SectionState
from bot.sections import POSTMORTEM_TEMPLATE, Catalog, TemplateError

__all__ = ["HOTFIX_TEMPLATE", "POSTMORTEM_TEMPLATE", "PostMortem", "TemplateError", "context"]

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
HOTFIX_TEMPLATE = "hotfix.md.j2"

_GROUPS = (
    (
        Priority.IMMEDIATE,
        "Priority actions to prevent immediate recurrence:",
        "[Prevents what]",
        ("AI-001", "AI-002"),
    ),
    (Priority.SHORT_TERM, "Important but not urgent:", "[Improves what]", ("AI-003",)),
    (Priority.LONG_TERM, "Structural improvements:", "[Systemic improvement]", ("AI-004",)),
)


# --- the data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostMortem:
    """Everything a draft is made of, read from the store at one moment."""

    report: Report
    sections: list[SectionState]
    actions: list[ActionItem]
    speakers: list[str]
    events: list[dict[str, Any]]
    catalog: Catalog
    deadline: timedelta  # the post-mortem is due this long after resolution
    apps: frozenset[str] = frozenset()  # authors of kept messages that are apps, not people

    def readiness(self, placeholders: Mapping[str, Sequence[str]] | None = None) -> list[str]:
        """The open points, most important first (see bot/readiness.py); `placeholders`: the
        template guidance a rendering showed."""
        return check_readiness(self.catalog, self.sections, self.actions, self.report, placeholders)

    def participants(self) -> list[str]:
        incident = self.report.incident
        ids = [
            incident.commander_id,
            *self.report.owners,
            *(e.author_id for e in self.report.entries),
            *self.speakers,
        ]
        return list(dict.fromkeys(i for i in ids if i and i not in self.apps))


def _metrics(report: Report) -> dict[str, Any]:
    impact = format_duration(report.duration) if report.incident.resolved_at else None
    return {"duration_of_impact": impact, "listed": report.metrics()}


def _timeline(pm: PostMortem, name: Callable[[str], str]) -> list[dict[str, Any]]:
    """Every entry in time order; each required milestone not recorded yet appears once,
    marked `missing`, where it belongs among the milestones that were (never after the end
    for want of a time)."""
    entries = pm.report.entries
    one_day = len({e.at.date() for e in entries}) <= 1
    rows: list[dict[str, Any]] = []
    for entry in entries:
        if entry.milestone is Milestone.BEGAN:
            who, event, notes = "System", entry.milestone.label, entry.text
        elif entry.milestone:
            who, event, notes = name(entry.author_id), entry.milestone.label, entry.text
        else:
            who, event, notes = name(entry.author_id), entry.text, ""
        rows.append(
            {
                "time": entry.at.strftime("%H:%M" if one_day else "%Y-%m-%d %H:%M"),
                "event": event,
                "who": who,
                "notes": notes,
                "milestone": entry.milestone.value if entry.milestone else "",
                "missing": False,
            }
        )
    recorded = {e.milestone for e in entries}
    rank = {m.value: n for n, m in enumerate(MILESTONE_ORDER)}
    for milestone in sorted(pm.catalog.required_milestones, key=lambda m: rank[m.value]):
        if milestone in recorded:
            continue
        later = [
            i
            for i, r in enumerate(rows)
            if r["milestone"] and rank[r["milestone"]] > rank[milestone.value]
        ]
        row = {
            "time": "HH:MM",
            "event": milestone.label,
            "who": "",
            "notes": "",
            "milestone": milestone.value,
            "missing": True,
        }
        rows.insert(later[0] if later else len(rows), row)
    return rows


def deadline_words(deadline: timedelta) -> str:
    """`48 hours`, `4 days 12 hours`, `90 minutes` as `1 hour 30 minutes`, `20 seconds`: the
    deadline as the template says it ("within 48 hours of resolution")."""
    seconds = round(deadline.total_seconds())
    if seconds < 60:
        return _count(seconds, "second")
    hours, minutes = divmod(seconds // 60, 60)
    days = 0
    if hours > 72:  # a long deadline reads better in days
        days, hours = divmod(hours, 24)
    parts = [_count(days, "day"), _count(hours, "hour"), _count(minutes, "minute")]
    return " ".join(p for p in parts if p.split()[0] != "0")


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}{'s' * (n != 1)}"


def context(
    pm: PostMortem, name: Callable[[str], str], now: datetime, version: int
) -> dict[str, Any]:
    """The template's variables: plain strings, lists and dicts (and `todo`, given when it is
    rendered: bot/jinja.py)."""
    incident = pm.report.incident
    groups = []
    for priority, intro, why_guidance, examples in _GROUPS:
        items = [
            {
                "label": a.label,
                "text": a.text,
                "done": a.done,
                "owner": name(a.owner_id) if a.owner_id else "",
                "due": a.due.isoformat() if a.due else "",
                "why": a.why or "",
            }
            for a in pm.actions
            if a.priority is priority
        ]
        groups.append(
            {
                "heading": priority.heading,
                "intro": intro,
                "items": items,
                "why_guidance": why_guidance,
                "examples": examples if not pm.actions else (),
            }
        )
    published = incident.published_at
    return {
        "title": incident.title,
        "hotfix_id": incident.hotfix_id,
        "incident_date": f"{pm.report.began:%Y-%m-%d}",
        "postmortem_date": f"{(published or now):%Y-%m-%d}",
        "completed": f"{published:%Y-%m-%d}" if published else "",
        "participants": [name(u) for u in pm.participants()],
        "commander": name(incident.commander_id),
        "owners": [name(u) for u in pm.report.owners],
        "severity": incident.severity.label,
        "status": "published" if published else incident.status.value,
        "started_at": f"{incident.started_at:%Y-%m-%d %H:%M} UTC",
        "resolved_at": f"{incident.resolved_at:%Y-%m-%d %H:%M} UTC" if incident.resolved_at else "",
        "deadline_at": f"{incident.deadline_at:%Y-%m-%d %H:%M} UTC" if incident.deadline_at else "",
        "timeline": _timeline(pm, name),
        "entries": [
            {
                "number": e.number,
                "at": f"{e.at:%Y-%m-%d %H:%M:%S} UTC",
                "who": name(e.author_id) + _edited_by(e, pm.events, name),
                "milestone": e.milestone.label if e.milestone else "",
                "text": e.text,
                "link": _link(e.permalink),
            }
            for e in pm.report.entries
        ],
        "history": [
            {
                "at": f"{e['at']:%Y-%m-%d %H:%M} UTC",
                "who": name(e["user_id"]) if e["user_id"] else "postmortem-bot",
                "what": _history(e, name),
            }
            for e in pm.events
        ],
        "s": {
            st.section.key: {f.key: st.values.get(f.key, "").strip() for f in st.section.fields}
            for st in pm.sections
        },
        "action_groups": groups,
        "actions": [g for group in groups for g in group["items"]],
        "metrics": _metrics(pm.report),
        "readiness": pm.readiness(),  # without the template's own guidance: see open_points
        "open_points": OPEN_POINTS,
        "written_factors": [
            n
            for n in (1, 2, 3)
            if any(values(pm, "contributing", f"{k}{n}") for k in ("factor", "how", "why"))
        ],
        "deadline_words": deadline_words(pm.deadline),
        "draft_version": version,
        "generated_at": f"{now:%Y-%m-%d %H:%M} UTC",
    }


def values(pm: PostMortem, section: str, field: str) -> str:
    """What was written in a section's field ("" if nothing, or if the template has no such)."""
    state = next((st for st in pm.sections if st.section.key == section), None)
    return state.values.get(field, "") if state else ""


def _edited_by(entry: Entry, events: list[dict[str, Any]], name: Callable[[str], str]) -> str:
    """` (edited by bob, 2026-11-26 15:41 UTC)`: the last edit of the entry by someone other
    than its author, for the log's Author cell ("" if there was none)."""
    edits = [
        e
        for e in events
        if e["kind"] == "entry-edited"
        and e["detail"] == entry.label
        and e["user_id"] not in ("", entry.author_id)
    ]
    if not edits:
        return ""
    return f" (edited by {name(edits[-1]['user_id'])}, {edits[-1]['at']:%Y-%m-%d %H:%M} UTC)"


def _link(permalink: str | None) -> str:
    """A kept message's permalink as the log shows it: an https URL with nothing in it that
    Markdown or a table cell would read (else "")."""
    if not permalink or not permalink.startswith("https://"):
        return ""
    return "" if any(c in permalink for c in " \t\n()<>|[]`") else permalink


def _history(event: dict[str, Any], name: Callable[[str], str]) -> str:
    kind, detail, was = event["kind"], event["detail"] or "", event.get("was")
    if kind == "opened":
        return f"Opened ({detail.upper()})"
    if kind == "commander":
        return f"Incident commander: {name(detail)}" + (f" (was {name(was)})" if was else "")
    if kind == "entry-edited" and was is not None:
        return f"Timeline entry {detail} edited; it said: “{was}”"
    if kind == "owners":
        return "Post-mortem owners: " + ", ".join(name(u) for u in detail.split())
    if kind == "severity":
        return f"Severity changed to {detail.upper()}"
    if kind == "resolved":
        return f"Resolved (at {datetime.fromisoformat(detail):%Y-%m-%d %H:%M} UTC)"
    if kind == "channel":
        return f"Channel #{detail} created"
    if kind == "entry-kept":
        return f"Timeline entry {detail} kept ({was})"
    if kind == "entry-unkept":
        return f"Timeline entry {detail}: {was} taken back"
    if kind == "entry-followed-edit":
        return f"Timeline entry {detail} followed its message's edit in Slack; it said: “{was}”"
    if kind == "entry-deleted-in-slack":
        return f"Timeline entry {detail} deleted in Slack (its message was deleted)"
    if kind == "entry-milestone":
        number, _, value = detail.partition(" ")
        said = Milestone(value).label if value in set(Milestone) else "no milestone"
        return f"Timeline entry {number} marked “{said}”"
    if kind.startswith("entry-"):  # entry-edited, entry-deleted, entry-restored
        return f"Timeline entry {detail} {kind.removeprefix('entry-')}"
    if kind == "reopened":
        return "Reopened"
    if kind == "review":
        return f"Pull request for review: {detail}"
    if kind == "merged":
        by, _, commit = detail.rpartition(" ")
        return f"Post-mortem merged by {by} (commit {commit[:12]})"
    if kind == "review closed":
        return "Pull request closed without merging"
    return f"{kind.capitalize()} {detail}".strip()
