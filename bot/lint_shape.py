"""What a team's post-mortem looks like, for `python -m bot lint` (bot/lint.py): learned by
rendering its template for sample incidents, where the timeline, the action items and each
section's words sit, and what the template shows there while nobody has written them."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.errors import BotError
from bot.jinja import Placeholders, render
from bot.models import ActionItem, Entry, Incident, Milestone, Priority, Severity, Status
from bot.postmortem import POSTMORTEM_TEMPLATE, PostMortem, context
from bot.report import Report
from bot.retro import SectionState
from bot.sections import Catalog, load_sections

_BRACKETS = re.compile(r"\[[^\[\]\n]{2,}\]")  # `[What was found]`, as readiness quotes it
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark §2.4
# What the samples are recognised by in the template's rendering.
_SAMPLE_DAY = date(1999, 12, 31)
_EVENT, _ACTION, _OWNER, _DUE = "PMBLINTEVENT", "PMBLINTACTION", "PMBLINTOWNER", date(2000, 1, 5)
_WORDS = re.compile(r"PMBLINTW(\d+)Z")  # a section's field, written: `PMBLINTW7Z`


class NotAPostMortem(BotError):
    """The file cannot be read, or is not a post-mortem the template renders."""


def _key(guidance: str) -> str:
    """What a piece of guidance is found by: its first `[...]`, else its first line."""
    found = _BRACKETS.search(guidance)
    return found[0] if found else guidance.strip().splitlines()[0].strip()


def cells(line: str) -> list[str]:
    """A GFM table row's cells (§4.10), `\\|` and other escapes undone."""
    inner = line.strip().removeprefix("|")
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [_ESCAPE.sub(r"\1", c.strip()) for c in _CELL_SPLIT.split(inner)]


@dataclass(frozen=True)
class Shape:
    """What the team's template renders, learned from sample incidents (open; resolved, with
    durations of 5 and 635 minutes; resolved with every field written): where the timeline's
    times and events are, how an action item and its owner and due date read, the guidance each
    part shows while nobody has written it (`where` as `todo()` names it), and where each
    section's words sit. A duration the template computes where a field's words go (`Duration
    of Impact`) is not told from one a person typed: neither makes the section written."""

    catalog: Catalog
    header: list[str]  # the timeline table's header cells
    time_col: int
    event_col: int
    not_recorded: str  # the time cell of a required milestone not recorded (`HH:MM`)
    date_prefix: str  # `**Incident Date**: `, before the YYYY-MM-DD the day's times are in
    item: re.Pattern[str]  # an action item's line: groups `label`, `text`
    owner_prefix: str
    due_prefix: str
    examples: frozenset[str]  # the texts of the template's example action items
    unwritten: dict[str, str]  # `[Person responsible]`, `[Date]`: by "owner", "due"
    guidance: dict[str, Counter[str]]  # where -> keys of the guidance it may show, and how many
    core: dict[str, Counter[str]]  # where -> what it shows while empty, resolved or not
    anchors: frozenset[str]  # lines every draft shows as they are: headings, `**Code Issue**:`
    places: dict[Anchor, Place]  # where sections' words sit, by the anchor line above them

    @property
    def located(self) -> set[str]:
        """The sections whose words lint knows where to find."""
        return {s for p in self.places.values() for s in p.sections | p.owners}


Anchor = tuple[str, str]  # (the heading above, the line): ("## Root Cause Analysis", "---")


@dataclass
class Place:
    """The lines below an anchor (up to the next): the sections whose words are written there
    as blocks, label lines (`- **Total Affected**: ...`: a pattern whose group `value` is the
    words, and its sections), lines the template shows there itself, and the beginnings of
    lines whose rest it computes (`- **Duration of impact**: `: any value counts as computed)."""

    sections: set[str] = field(default_factory=set)
    labels: dict[str, tuple[re.Pattern[str], set[str]]] = field(default_factory=dict)
    shown: set[str] = field(default_factory=set)
    computed: set[str] = field(default_factory=set)

    @property
    def owners(self) -> set[str]:
        return {s for _, sections in self.labels.values() for s in sections}


def _sample(
    catalog: Catalog, resolved: bool, minutes: int = 1, written: bool = False
) -> PostMortem:
    """A sample incident: resolved with two action items (one without owner or due date) and
    its milestones `minutes` apart, or open with nothing but its beginning and one entry (no
    participants: the header's guidance). `written`: every field of every section says
    `PMBLINTW<n>Z`, n counting the fields in the catalog's order."""
    start = datetime.combine(_SAMPLE_DAY, time(23, 0), UTC)
    who, end = ("U0", start + timedelta(minutes=5 * minutes)) if resolved else ("", None)
    incident = Incident(0, "T0", 1, "Sample", Severity.SEV3, Status.OPEN, False, who, who, start)
    incident = replace(incident, resolved_at=end)
    entries = [
        Entry(1, 0, start, "Sample", who, Milestone.BEGAN, "system", 1),
        Entry(2, 0, start + timedelta(minutes=1), _EVENT, who, None, "command", 2),
    ]
    steps = (Milestone.DETECTED, Milestone.ROOT_CAUSE, Milestone.FIX, Milestone.DEPLOYED)
    entries += [
        Entry(3 + n, 0, start + timedelta(minutes=minutes * (n + 1)), "x", who, m, "command", 3 + n)
        for n, m in enumerate(steps if resolved else ())
    ]
    actions = [
        ActionItem(1, 0, 1, _ACTION, Priority.IMMEDIATE, "U0", _DUE),
        ActionItem(2, 0, 2, _ACTION + "2", Priority.IMMEDIATE),
    ]
    fields = itertools.count()
    return PostMortem(
        report=Report(incident, [], entries, start + timedelta(minutes=10 * minutes)),
        sections=[
            SectionState(
                section,
                {f.key: f"PMBLINTW{next(fields)}Z" for f in section.fields} if written else {},
                [],
            )
            for section in catalog
        ],
        actions=actions if resolved else [],
        speakers=[],
        events=[],
        catalog=catalog,
        deadline=timedelta(hours=48),
    )


def _draw(templates_dir: Path, pm: PostMortem) -> tuple[list[str], dict[str, Counter[str]]]:
    shown = Placeholders()
    name = {"U0": _OWNER}.get
    now = datetime.combine(_SAMPLE_DAY + timedelta(days=2), time(12, 0), UTC)
    text = render(
        templates_dir, POSTMORTEM_TEMPLATE, context(pm, lambda u: name(u, u), now, 0), shown
    )
    return text.splitlines(), {w: Counter(map(_key, g)) for w, g in shown.shown.items()}


def _line(lines: list[str], needle: str, what: str) -> str:
    found = next((ln for ln in lines if needle in ln), None)
    if found is None:
        raise NotAPostMortem(f"the template never shows {what}; `lint` cannot read its drafts.")
    return found


def learn(templates_dir: Path) -> Shape:
    """The shape of the drafts `templates_dir/postmortem.md.j2` renders. Raises TemplateError
    (a broken template) or NotAPostMortem (one that shows no timeline or action items)."""
    catalog = load_sections(templates_dir)
    empty, open_shown = _draw(templates_dir, _sample(catalog, resolved=False))
    full, closed_shown = _draw(templates_dir, _sample(catalog, resolved=True))
    later, _ = _draw(templates_dir, _sample(catalog, resolved=True, minutes=127))
    written, _ = _draw(templates_dir, _sample(catalog, resolved=True, written=True))
    anchors, places = _places(catalog, written, [empty, full, later])
    row = _line(empty, f"| {_EVENT} |", "the timeline table")
    row_cells = cells(row)
    table = empty[: empty.index(row)]
    while len(table) > 1 and table[-2].lstrip().startswith("|"):
        table.pop()
    labels = {m.label for m in catalog.required_milestones if m is not Milestone.BEGAN}
    missing = [cells(ln) for ln in empty if ln.lstrip().startswith("|")]
    missing = [
        c for c in missing if len(c) == len(row_cells) and c[row_cells.index(_EVENT)] in labels
    ]
    item = _line(full, _ACTION, "action items")
    label = item.index("AI-001")
    head = re.escape(item[:label]).replace(r"\[\ \]", r"\[[ xX]\]")
    tail = re.escape(item[label + 6 : item.index(_ACTION)])
    pattern = re.compile(rf"{head}(?P<label>AI-(?P<number>\d+)){tail}(?P<text>.*)")
    first = full[full.index(item) :]
    owner = _line(first, _OWNER, "an action item's owner")
    due = _line(first, _DUE.isoformat(), "an action item's due date")
    owner_prefix, due_prefix = owner[: owner.index(_OWNER)], due[: due.index(_DUE.isoformat())]
    second = full[full.index(_line(full, _ACTION + "2", "action items")) :]
    examples = [m["text"] for m in map(pattern.fullmatch, empty) if m]
    dated = _line(empty, _SAMPLE_DAY.isoformat(), "the incident's date")
    return Shape(
        catalog=catalog,
        header=cells(table[-1]) if table else [],
        time_col=row_cells.index("23:01"),
        event_col=row_cells.index(_EVENT),
        not_recorded=missing[0][row_cells.index("23:01")] if missing else "",
        date_prefix=dated[: dated.index(_SAMPLE_DAY.isoformat())],
        item=pattern,
        owner_prefix=owner_prefix,
        due_prefix=due_prefix,
        examples=frozenset(examples),
        unwritten={
            "owner": _line(second, owner_prefix, "an owner").removeprefix(owner_prefix),
            "due": _line(second, due_prefix, "a due date").removeprefix(due_prefix),
        },
        guidance={
            w: open_shown.get(w, Counter()) | closed_shown.get(w, Counter())
            for w in [*open_shown, *(w for w in closed_shown if w not in open_shown)]
            if w != "actions"
        },
        core={w: open_shown[w] & closed_shown.get(w, Counter()) for w in open_shown},
        anchors=anchors,
        places=places,
    )


def _common(a: str, b: str) -> str:
    """The longest beginning `a` and `b` share."""
    n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return a[:n]


def below(lines: list[str], anchors: frozenset[str]) -> Iterator[tuple[Anchor, str]]:
    """Each line that is no anchor (stripped, blank ones left out), with the anchor above it."""
    where: Anchor = ("", "")
    for raw in lines:
        line = raw.strip()
        if line in anchors:
            where = (line if line.startswith("#") else where[0], line)
        elif line:
            yield where, line


def _places(
    catalog: Catalog, written: list[str], unwritten: list[list[str]]
) -> tuple[frozenset[str], dict[Anchor, Place]]:
    """The anchors (lines of `written`, every field a marker, that every rendering shows as
    they are) and, below them, where sections' words sit; what the `unwritten` renderings (the
    last two resolved, with different durations) show there instead."""
    owner = [s.key for s in catalog for _ in s.fields]
    anchors = frozenset(
        line
        for line in (ln.strip() for ln in written)
        if line and not _WORDS.search(line) and all(line in map(str.strip, u) for u in unwritten)
    )
    places: dict[Anchor, Place] = {}
    for where, line in below(written, anchors):
        place = places.setdefault(where, Place())
        found = list(_WORDS.finditer(line))
        if not found:
            place.shown.add(line)
            continue
        sections = {owner[int(m[1])] for m in found}
        before, after = line[: found[0].start()], line[found[-1].end() :]
        if not re.search(r"[^\W\d_]", before):  # `1. `, `- `: a block of words, or a list
            place.sections |= sections
            continue
        head = re.sub(r"\d+", r"\\d+", re.escape(before.rstrip())).replace(r"\[\ \]", r"\[[ xX]\]")
        pattern = re.compile(rf"{head}\s*(?P<value>.*?)\s*(?:{re.escape(after.strip())})?")
        place.labels.setdefault(pattern.pattern, (pattern, set()))[1].update(sections)
    for lines in unwritten:
        for where, line in below(lines, anchors):
            if where in places:
                places[where].shown.add(line)
    resolved, later = (list(below(u, anchors)) for u in unwritten[-2:])
    for where, line in resolved:
        others = [ln for w, ln in later if w == where and ln != line]
        if where not in places or (where, line) in later or not others:
            continue
        same = max((_common(line, ln) for ln in others), key=len)
        same = re.sub(r"\w+$", "", same)  # `- **Time to detect**: 1` of `1m` and `1h 5m`
        if re.search(r"[^\W\d_]", same):
            places[where].computed.add(same.rstrip())
    return anchors, {w: p for w, p in places.items() if p.sections or p.labels}
