"""Is a post-mortem file ready? Its open points read from the Markdown alone (as a reviewer left
it, no database), by bot/readiness.py's own rules, for `python -m bot lint` in the post-mortem
repository's CI. What the file looks like is learned from the team's template
(bot/lint_shape.py)."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from bot.lint_shape import NotAPostMortem, Shape, below, cells, learn
from bot.models import ActionItem, Entry, Incident, Milestone, Priority, Severity, Status
from bot.readiness import check_readiness
from bot.report import Report
from bot.retro import SectionState

__all__ = ["NotAPostMortem", "Shape", "learn", "lint", "lint_file"]

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_LIST = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:\s+\[[ xX]\])?(?:\s+|$)")  # `- `, `1. `, `- [ ] `
# What a person leaves where words should be: `[Thank the people who helped]`, `TODO`, `TBD: ...`
_PLACEHOLDER = re.compile(
    r"(?:\[[^\[\]\n]*\](?!\()\s*)+|(?i:todo|tbd|tbc|fixme)\W*|(?:TODO|TBD|TBC|FIXME)\b.*"
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
    text = markdown.replace("\r\n", "\n").replace("\r", "\n").splitlines()
    lines = _outside_code(text)
    entries, points, undated = _timeline(lines, shape)
    # a milestone whose time cannot be read is there (said above), but in no order
    required = tuple(m for m in shape.catalog.required_milestones if m not in undated)
    catalog = replace(shape.catalog, required_milestones=required)
    report = Report(_NOBODY, [], entries, _NOBODY.started_at)
    states, shown = _sections("\n".join(lines), shape, _written(_outside_code(text, "`…`"), shape))
    return points + check_readiness(catalog, states, _actions(lines, shape), report, shown)


_NOBODY = Incident(0, "", 0, "", Severity.SEV3, Status.OPEN, False, "", "", datetime.min)


def _outside_code(lines: list[str], code: str = "") -> list[str]:
    """The lines, those in fenced code blocks (§4.5) `code` (blank: what people quote there is
    text, no table row or guidance)."""
    fence = ""
    out = []
    for line in lines:
        found = _FENCE.match(line)
        if fence:
            if found and found[1][0] == fence[0] and len(found[1]) >= len(fence):
                fence = ""
            line = code
        elif found:
            fence, line = found[1], code
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
            if ln.lstrip().startswith("|") and cells(ln) == shape.header
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
        row_cells = cells(row)
        if len(row_cells) <= max(shape.time_col, shape.event_col):
            continue
        shown, event = row_cells[shape.time_col], row_cells[shape.event_col]
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


def _written(lines: list[str], shape: Shape) -> set[str]:
    """The sections with words of their own where the template puts their words: under their
    headings or after their labels, not what the template shows there itself (its guidance,
    a duration it computes) and not a placeholder a person left (`TODO`, `[...]`)."""
    written: set[str] = set()
    for where, line in below(lines, shape.anchors):
        place = shape.places.get(where)
        if place is None or line in place.shown or line.startswith(tuple(place.computed)):
            continue
        sections, words = place.sections, line
        for pattern, owners in place.labels.values():
            if label := pattern.fullmatch(line):
                sections, words = owners, label["value"]
                break
        words = _LIST.sub("", words, count=1).strip().strip("*_ \t")
        if words and not _PLACEHOLDER.fullmatch(words):
            written |= sections
    return written


def _sections(
    text: str, shape: Shape, written: set[str]
) -> tuple[list[SectionState], dict[str, list[str]]]:
    """Each section as written or not (by `written`, else, where the template shows it nowhere
    lint can find, empty while it still shows all the guidance it shows when nobody wrote it),
    and the guidance the text still shows, by `where`."""
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
        if section.key in shape.located:
            empty = section.key not in written
        else:
            empty = bool(core) and all(got[k] >= n for k, n in core.items())
        states.append(SectionState(section, {} if empty else {"": "written"}, []))
    return states, shown
