"""Is a post-mortem file ready? Its open points read from the Markdown alone (as a reviewer left
it, no database), by bot/readiness.py's own rules, for `python -m bot lint` in the post-mortem
repository's CI. What the file looks like is learned by rendering the team's template."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from bot.errors import BotError
from bot.jinja import Placeholders, render
from bot.models import ActionItem, Entry, Incident, Milestone, Priority, Severity, Status
from bot.postmortem import POSTMORTEM_TEMPLATE, PostMortem, context
from bot.readiness import check_readiness
from bot.report import Report
from bot.retro import SectionState
from bot.sections import Catalog, load_sections

_BRACKETS = re.compile(r"\[[^\[\]\n]{2,}\]")  # `[What was found]`, as readiness quotes it
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark §2.4
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# What the samples are recognised by in the template's rendering.
_SAMPLE_DAY = date(1999, 12, 31)
_EVENT, _ACTION, _OWNER, _DUE = "PMBLINTEVENT", "PMBLINTACTION", "PMBLINTOWNER", date(2000, 1, 5)


class NotAPostMortem(BotError):
    """The file cannot be read, or is not a post-mortem the template renders."""


def _key(guidance: str) -> str:
    """What a piece of guidance is found by: its first `[...]`, else its first line."""
    found = _BRACKETS.search(guidance)
    return found[0] if found else guidance.strip().splitlines()[0].strip()


def _cells(line: str) -> list[str]:
    """A GFM table row's cells (§4.10), `\\|` and other escapes undone."""
    inner = line.strip().removeprefix("|")
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [_ESCAPE.sub(r"\1", c.strip()) for c in _CELL_SPLIT.split(inner)]


@dataclass(frozen=True)
class Shape:
    """What the team's template renders, learned from two sample incidents: where the
    timeline's times and events are, how an action item and its owner and due date read, and
    the guidance each part shows while nobody has written it (`where` as `todo()` names it)."""

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


def _sample(catalog: Catalog, resolved: bool) -> PostMortem:
    """A sample incident: resolved with two action items (one without owner or due date), or
    open with nothing but its beginning and one entry (no participants: the header's guidance)."""
    start = datetime.combine(_SAMPLE_DAY, time(23, 0), UTC)
    who, end = ("U0", start + timedelta(minutes=5)) if resolved else ("", None)
    incident = Incident(0, "T0", 1, "Sample", Severity.SEV3, Status.OPEN, False, who, who, start)
    incident = replace(incident, resolved_at=end)
    entries = [
        Entry(1, 0, start, "Sample", who, Milestone.BEGAN, "system", 1),
        Entry(2, 0, start + timedelta(minutes=1), _EVENT, who, None, "command", 2),
    ]
    actions = [
        ActionItem(1, 0, 1, _ACTION, Priority.IMMEDIATE, "U0", _DUE),
        ActionItem(2, 0, 2, _ACTION + "2", Priority.IMMEDIATE),
    ]
    return PostMortem(
        report=Report(incident, [], entries, start + timedelta(minutes=10)),
        sections=[SectionState(section, {}, []) for section in catalog],
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
    row = _line(empty, f"| {_EVENT} |", "the timeline table")
    cells = _cells(row)
    table = empty[: empty.index(row)]
    while len(table) > 1 and table[-2].lstrip().startswith("|"):
        table.pop()
    labels = {m.label for m in catalog.required_milestones if m is not Milestone.BEGAN}
    missing = [_cells(ln) for ln in empty if ln.lstrip().startswith("|")]
    missing = [c for c in missing if len(c) == len(cells) and c[cells.index(_EVENT)] in labels]
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
        header=_cells(table[-1]) if table else [],
        time_col=cells.index("23:01"),
        event_col=cells.index(_EVENT),
        not_recorded=missing[0][cells.index("23:01")] if missing else "",
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
    )


# --- reading a file ----------------------------------------------------------------------------


def lint_file(path: Path, shape: Shape) -> list[str]:
    """The open points of the post-mortem at `path`, most important first; [] when it is
    ready. Raises NotAPostMortem for a file that cannot be read or is no post-mortem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise NotAPostMortem(f"cannot be read ({why})") from None
    return lint(text, shape)


def lint(markdown: str, shape: Shape) -> list[str]:
    """The open points of a post-mortem's Markdown (see `lint_file`): bot/readiness.py's
    check_readiness, given the timeline, action items, written sections and template guidance
    this text shows. Raises NotAPostMortem if it has no timeline table of the template's."""
    lines = _outside_code(markdown.replace("\r\n", "\n").replace("\r", "\n").splitlines())
    entries, points, undated = _timeline(lines, shape)
    # a milestone whose time cannot be read is there (said above), but in no order
    required = tuple(m for m in shape.catalog.required_milestones if m not in undated)
    catalog = replace(shape.catalog, required_milestones=required)
    report = Report(_NOBODY, [], entries, _NOBODY.started_at)
    states, shown = _sections("\n".join(lines), shape)
    return points + check_readiness(catalog, states, _actions(lines, shape), report, shown)


_NOBODY = Incident(0, "", 0, "", Severity.SEV3, Status.OPEN, False, "", "", datetime.min)


def _outside_code(lines: list[str]) -> list[str]:
    """The lines, those in fenced code blocks (§4.5) blank: what people quote there is text."""
    fence = ""
    out = []
    for line in lines:
        found = _FENCE.match(line)
        if fence:
            if found and found[1][0] == fence[0] and len(found[1]) >= len(fence):
                fence = ""
            line = ""
        elif found:
            fence, line = found[1], ""
        out.append(line)
    return out


def _when(cell: str, day: str) -> datetime | None:
    """`YYYY-MM-DD HH:MM`, or `HH:MM` on `day` (the incident's date), UTC; None if neither."""
    for text in (cell, f"{day} {cell}"):
        try:
            return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def _timeline(lines: list[str], shape: Shape) -> tuple[list[Entry], list[str], set[Milestone]]:
    """The timeline table's rows as entries, in time order (to the minute: two milestones typed
    with the same HH:MM are in no order); the points for milestones whose time cannot be read,
    and those milestones."""
    start = next(
        (
            i
            for i, ln in enumerate(lines)
            if ln.lstrip().startswith("|") and _cells(ln) == shape.header
        ),
        None,
    )
    if start is None:
        raise NotAPostMortem(
            f"not a post-mortem: it has no timeline table (| {' | '.join(shape.header)} |)"
        )
    day = next(
        (
            ln[len(shape.date_prefix) :].strip()[:10]
            for ln in lines
            if ln.startswith(shape.date_prefix)
        ),
        "",
    )
    labels = {m.label: m for m in Milestone}
    entries, points, undated = [], [], set()
    for n, row in enumerate(
        itertools.takewhile(lambda ln: ln.lstrip().startswith("|"), lines[start + 2 :])
    ):
        cells = _cells(row)
        if len(cells) <= max(shape.time_col, shape.event_col):
            continue
        shown, event = cells[shape.time_col], cells[shape.event_col]
        milestone = labels.get(event)
        if shown == shape.not_recorded:
            continue
        at = _when(shown, day)
        if at is None:
            if milestone:
                undated.add(milestone)
                points.append(
                    f"The timeline's “{event}” has a time lint cannot read: “{shown}” "
                    "(YYYY-MM-DD HH:MM, or HH:MM with the incident's date in the header)."
                )
            continue
        entries.append(Entry(n, 0, at, event, "", milestone, "command", n + 1))
    return sorted(entries, key=lambda e: e.at), points, undated


def _actions(lines: list[str], shape: Shape) -> list[ActionItem]:
    """The action items the text lists (not the template's examples) by number, as the bot
    keeps them, each with its owner and due date unless it shows none or the template's
    guidance (a due date is YYYY-MM-DD)."""
    found: list[tuple[int, str, dict[str, str]]] = []
    given: dict[str, str] | None = None
    for line in lines:
        if item := shape.item.fullmatch(line):
            given = None if item["text"].strip() in shape.examples else {}
            if given is not None:
                found.append((int(item["number"]), item["text"].strip(), given))
        elif given is not None and line.strip() and not line.startswith((" ", "\t")):
            given = None  # the item ended: a heading, a rule, the next part
        elif given is not None:
            for what, prefix in (("owner", shape.owner_prefix), ("due", shape.due_prefix)):
                if line.startswith(prefix) and what not in given:
                    value = line[len(prefix) :].strip()
                    given[what] = "" if value == shape.unwritten[what] else value
    return [
        ActionItem(n, 0, number, text, Priority.IMMEDIATE, given.get("owner") or None, _day(given))
        for n, (number, text, given) in enumerate(sorted(found, key=lambda f: f[0]))
    ]


def _day(given: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(given.get("due", ""))
    except ValueError:
        return None


def _sections(text: str, shape: Shape) -> tuple[list[SectionState], dict[str, list[str]]]:
    """Each section as written or not (empty while it still shows all the guidance it shows
    when nobody wrote it), and the guidance the text still shows, by `where`."""
    left: Counter[str] = Counter()
    for key in sorted({k for c in shape.guidance.values() for k in c}, key=len, reverse=True):
        left[key] = text.count(key)
        text = text.replace(key, "\0")
    shown: dict[str, list[str]] = {}
    for where, expected in shape.guidance.items():  # a key some parts share: the first first
        for key, n in expected.items():
            taken = min(n, left[key])
            left[key] -= taken
            shown.setdefault(where, []).extend([key] * taken)
    shown = {where: keys for where, keys in shown.items() if keys}
    states = []
    for section in shape.catalog:
        core = shape.core.get(section.key, Counter())
        got = Counter(shown.get(section.key, []))
        empty = bool(core) and all(got[k] >= n for k, n in core.items())
        states.append(SectionState(section, {} if empty else {"": "written"}, []))
    return states, shown
