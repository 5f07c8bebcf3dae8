"""The post-mortem draft and the incident log: their data, and rendering them with Jinja2."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from bot.durations import format_duration
from bot.errors import BotError
from bot.markdown import block, cell, comment, inline, lines
from bot.models import ActionItem, Milestone, Priority
from bot.readiness import check_readiness
from bot.report import Report
from bot.retro import SectionState

DEFAULT_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
POSTMORTEM_TEMPLATE = "postmortem.md.j2"
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


class TemplateError(BotError):
    """The post-mortem template is missing or broken; the message says where."""


def environment(templates_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(inline=inline, block=block, cell=cell, lines=lines, comment=comment)
    return env


def render(templates_dir: Path, name: str, context: dict[str, Any]) -> str:
    """Render one template; a broken or missing template is a TemplateError, not a crash."""
    try:
        return environment(templates_dir).get_template(name).render(context)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"Template `{name}` was not found in {templates_dir}.") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"Template `{name}` line {exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(
            f"Template `{name}` uses something the bot does not provide: {exc.message}"
        ) from None


# --- the data ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostMortem:
    """Everything a draft is made of, read from the store at one moment."""

    report: Report
    sections: list[SectionState]
    actions: list[ActionItem]
    speakers: list[str]
    events: list[dict[str, Any]]
    apps: frozenset[str] = frozenset()  # authors of kept messages that are apps, not people

    @property
    def readiness(self) -> list[str]:
        empty = [s.section for s in self.sections if not s.written]
        return check_readiness(empty, self.actions, self.report.entries)

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


# The template's rows for milestones nobody has recorded yet: (who, notes) guidance.
_MISSING_ROWS = {
    Milestone.BEGAN: ("System", "[What triggered it]"),
    Milestone.DETECTED: ("[Alerting/User]", "[How detected]"),
    Milestone.INVESTIGATING: ("[Person]", "[What they checked first]"),
    Milestone.ROOT_CAUSE: ("[Person]", "[What was found]"),
    Milestone.FIX: ("[Person]", "[What change made]"),
    Milestone.DEPLOYED: ("[Person]", "[To which environment]"),
    Milestone.VERIFIED: ("[Person]", "[How verified]"),
    Milestone.RESOLVED: ("[Person]", "[Resolution confirmed]"),
    Milestone.MONITORING: ("Team", "[Watching for recurrence]"),
}


def _timeline(pm: PostMortem, name: Callable[[str], str]) -> list[dict[str, str]]:
    """Every entry in order, then a guidance row for each milestone not recorded yet."""
    entries = pm.report.entries
    one_day = len({e.at.date() for e in entries}) <= 1
    rows = []
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
            }
        )
    recorded = {e.milestone for e in entries}
    for milestone, (who, notes) in _MISSING_ROWS.items():
        if milestone not in recorded:
            rows.append({"time": "HH:MM", "event": milestone.label, "who": who, "notes": notes})
    return rows


def context(
    pm: PostMortem, name: Callable[[str], str], now: datetime, version: int
) -> dict[str, Any]:
    """The template's variables: plain strings, lists and dicts."""
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
                "who": name(e.author_id),
                "milestone": e.milestone.label if e.milestone else "",
                "text": e.text,
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
            st.section.key: {f.key: st.values.get(f.key, "") for f in st.section.fields}
            for st in pm.sections
        },
        "action_groups": groups,
        "actions": [g for group in groups for g in group["items"]],
        "metrics": _metrics(pm.report),
        "readiness": pm.readiness,
        "draft_version": version,
        "generated_at": f"{now:%Y-%m-%d %H:%M} UTC",
    }


def _history(event: dict[str, Any], name: Callable[[str], str]) -> str:
    kind, detail = event["kind"], event["detail"] or ""
    if kind == "opened":
        return f"Opened ({detail.upper()})"
    if kind == "commander":
        return f"Incident commander: {name(detail)}"
    if kind == "owners":
        return "Post-mortem owners: " + ", ".join(name(u) for u in detail.split())
    if kind == "severity":
        return f"Severity changed to {detail.upper()}"
    if kind == "resolved":
        return f"Resolved (at {datetime.fromisoformat(detail):%Y-%m-%d %H:%M} UTC)"
    if kind == "channel":
        return f"Channel #{detail} created"
    if kind.startswith("entry-"):  # entry-edited, entry-deleted, entry-restored
        return f"Timeline entry {detail} {kind.removeprefix('entry-')}"
    if kind == "reopened":
        return "Reopened"
    return f"{kind.capitalize()} {detail}".strip()
