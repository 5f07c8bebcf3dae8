"""Drafts of the post-mortem: read everything at one moment, render both files, keep versions."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from bot.incidents import Incidents
from bot.jinja import OPEN_POINTS, Placeholders, render
from bot.markdown import comment
from bot.models import Entry, Incident, Milestone, Severity, Status
from bot.postmortem import HOTFIX_TEMPLATE, POSTMORTEM_TEMPLATE, PostMortem, context
from bot.report import Report
from bot.retro import Retro, SectionState
from bot.sections import Catalog, Field, Section, TemplateError, load_sections


@dataclass(frozen=True)
class Draft:
    incident: Incident
    version: int
    postmortem: str
    hotfix: str
    readiness: list[str]
    changed: list[str] | None  # headings that changed since the last draft; None for the first
    final: bool

    @property
    def files(self) -> dict[str, str]:
        folder = self.incident.hotfix_id
        return {f"{folder}/postmortem.md": self.postmortem, f"{folder}/hotfix.md": self.hotfix}


def _parts(markdown: str) -> dict[str, str]:
    """Top-level sections (`## ...`) of a draft, without its generated first line."""
    body = markdown.split("\n", 1)[1] if markdown.startswith("<!--") else markdown
    parts: dict[str, str] = {}
    heading = "Header"
    for chunk in re.split(r"^(## .+)$", body, flags=re.MULTILINE):
        if chunk.startswith("## "):
            heading = chunk[3:].strip()
        else:
            parts[heading] = parts.get(heading, "") + chunk
    return parts


def changes(previous: str | None, current: str) -> list[str] | None:
    if previous is None:
        return None
    before, after = _parts(previous), _parts(current)
    return [h for h in after if before.get(h) != after[h]]


class Drafts:
    def __init__(
        self, incidents: Incidents, retro: Retro, templates_dir: Path, clock: Callable[[], datetime]
    ) -> None:
        self.incidents = incidents
        self.retro = retro
        self.store = incidents.store
        self.templates_dir = templates_dir
        self.clock = clock
        self.review = False  # review mode: a resolved incident's draft is dated as final

    def load(self, incident: Incident) -> PostMortem:
        team, store = incident.team_id, self.store
        speakers = store.speakers(incident)
        report = self.incidents.report(incident)
        authors = {e.author_id for e in report.entries}
        resolved, due = incident.resolved_at, incident.deadline_at
        return PostMortem(
            report=report,
            sections=self.retro.states(incident),
            actions=self.retro.actions(incident),
            speakers=speakers,
            events=store.events(team, incident.id),
            catalog=self.retro.sections,
            deadline=due - resolved if resolved and due else self.incidents.deadline,
            apps=frozenset(a for a in authors if store.is_app(team, a)),
        )

    def add_speakers(self, incident: Incident, user_ids: list[str]) -> None:
        self.store.add_speakers(incident, user_ids)

    def name(self, team_id: str) -> Callable[[str], str]:
        """Real names for one draft, each person's looked up once (a timeline names its
        authors on every entry); never a raw `<@U...>`."""

        @cache
        def name(user_id: str) -> str:
            return self.store.real_name(team_id, user_id) or f"user {user_id}"

        return name

    def render(self, incident: Incident, version: int = 0) -> tuple[str, str, list[str]]:
        """(postmortem.md, hotfix.md, readiness), without recording anything."""
        pm = self.load(incident)
        now = self.clock()
        values = context(pm, self.name(incident.team_id), now, version)
        if self.review and incident.status is Status.RESOLVED and not incident.published_at:
            # review mode: the draft a reviewer merges is the final text, dated by its draft
            values["completed"] = f"{now:%Y-%m-%d}"
        quiet = frozenset(
            st.section.key for st in pm.sections if not st.written and not st.section.required
        )
        shown = Placeholders(quiet)
        postmortem = render(self.templates_dir, POSTMORTEM_TEMPLATE, values, shown)
        readiness = pm.readiness(shown.shown)
        summary = "Ready." if not readiness else "Not ready: " + comment(" ".join(readiness))
        return (
            postmortem.replace(OPEN_POINTS, summary),
            render(self.templates_dir, HOTFIX_TEMPLATE, values),
            readiness,
        )

    def make(self, incident: Incident, user_id: str, final: bool = False) -> Draft:
        """Render and record the next draft version.

        The version is taken atomically first (a row without text yet), so drafts made at the
        same moment, by other threads or processes, each get their own and none is lost to a
        taken number; "what changed" compares with the last draft finished before it. Raises
        TemplateError (the template cannot render; the version is given back) or
        StoreUnavailable."""
        version = self.store.take_draft_version(
            incident, at=self.clock(), user_id=user_id, final=final
        )
        try:
            previous = self.store.draft_before(incident, version)
            postmortem, hotfix, readiness = self.render(incident, version)
            self.store.fill_draft(incident, version, postmortem, hotfix)
        except BaseException:
            self.store.give_back_draft_version(incident, version)
            raise
        return Draft(
            incident,
            version,
            postmortem,
            hotfix,
            readiness,
            changes(previous, postmortem),
            final,
        )


def check_templates(templates_dir: Path) -> Catalog:
    """The sections the team's template declares, once both templates are known to render
    with them (an empty incident, as on its first draft). Raises TemplateError naming the
    file and line of anything broken or inconsistent (a field used but not declared)."""
    catalog = load_sections(templates_dir)
    now = datetime(2000, 1, 1, tzinfo=UTC)
    incident = Incident(
        id=0,
        team_id="T0",
        number=1,
        title="Sample incident",
        severity=Severity.SEV3,
        status=Status.OPEN,
        private=False,
        commander_id="U0",
        created_by="U0",
        started_at=now,
    )
    began = Entry(0, 0, now, "Sample incident", "U0", Milestone.BEGAN, "system", 1)
    pm = PostMortem(
        report=Report(incident, ["U0"], [began], now),
        sections=[SectionState(section, {}, []) for section in catalog],
        actions=[],
        speakers=[],
        events=[],
        catalog=catalog,
        deadline=timedelta(hours=48),
    )
    values = context(pm, lambda user_id: user_id, now, 0)
    shown = Placeholders()
    render(templates_dir, POSTMORTEM_TEMPLATE, values, shown)
    render(templates_dir, HOTFIX_TEMPLATE, values)
    path = templates_dir / POSTMORTEM_TEMPLATE
    known = {s.key for s in catalog} | {"header", "actions"}
    if unknown := sorted(set(shown.shown) - known):
        raise TemplateError(
            f'{path}: `todo(..., "{unknown[0]}")` names no declared section; a todo belongs '
            f"to one of {', '.join(sorted(known))}."
        )
    # every declared field, written: each must show in the draft (else what people write there
    # would vanish)
    markers = {(s.key, f.key): f"PMBFIELD{n}X" for n, (s, f) in enumerate(_fields(catalog))}
    written = [
        SectionState(s, {f.key: markers[s.key, f.key] for f in s.fields}, ["U0"]) for s in catalog
    ]
    full = render(
        templates_dir,
        POSTMORTEM_TEMPLATE,
        context(replace(pm, sections=written), lambda u: u, now, 0),
    )
    for (section, field), marker in markers.items():
        if marker not in full:
            raise TemplateError(
                f"{path}: `{section}.{field}` is declared, but the template never shows it "
                f"(add `{{{{ s.{section}.{field} }}}}` to its part, or take it out of the "
                "declaration)."
            )
    return catalog


def _fields(catalog: Catalog) -> list[tuple[Section, Field]]:
    return [(section, field) for section in catalog for field in section.fields]
