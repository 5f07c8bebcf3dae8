"""Severities as people write them (`sev 1`, `SEV-1`, `[SEV1]`, `P1`) at either end of an
incident's title, and the `--private` flag: `/incident start` and `/incident severity`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UsageError, quoted
from bot.models import DEFAULT_SEVERITY, Severity

# A severity as people write it, at either end of a title: `sev1`, `SEV-1`, `sev 1`, `sev_1`,
# `severity 1`, `[SEV1]`, `SEV1:`, or a paging priority `P1`..`P4` (= SEV1..SEV4). Never `S1`:
# "Outage in S3" is Amazon S3. The number is checked later: `sev 5` is refused, not kept.
_SEVERITY_RE = re.compile(
    r"(?:sev|severity) ?[-_:]? ?(?P<number>[0-9]+(?:[.,][0-9]+)?)|p(?P<priority>[0-9])",
    re.IGNORECASE | re.ASCII,
)
_BRACKETS = "[](){}:,|-–—"  # around a severity: `[SEV1]`, `SEV1:`, `- P1`
_SEPARATORS = ":,|-–—/"  # left dangling in the title once its severity is taken out
# P0 and P5 are real paging priorities (P0-first scales, Opsgenie's P5): refused, not kept.
_PRIORITY_SCALE = range(0, 6)
_PRIVATE = ("--private", "—private", "–private", "-private")
VALID_SEVERITIES = (
    "SEV1 (the most severe), SEV2, SEV3 or SEV4, written e.g. `sev1`, `sev 2`, `SEV-3` or `P4`"
)


@dataclass(frozen=True)
class SeverityWords:
    """A severity as someone typed it: its level, or None when the number is not 1-4."""

    severity: Severity | None
    words: tuple[str, ...]

    @property
    def typed(self) -> str:
        return " ".join(self.words)  # no markup: the words matched a severity's spelling


@dataclass(frozen=True)
class StartArgs:
    private: bool
    severity: Severity
    title: list[str]
    given: SeverityWords | None  # None: the default severity


def _level(number: str) -> Severity | None:
    """`1` -> SEV1; None for any other number (`0`, `5`, `1.5`)."""
    if number.isdecimal() and len(number) < 4 and 1 <= int(number) <= 4:
        return Severity(f"sev{int(number)}")
    return None


def _read_severity(words: list[str]) -> SeverityWords | None:
    """`sev 1`, `P2`, `[SEV-3]` -> their severity; None if the words do not name one."""
    found = _SEVERITY_RE.fullmatch(" ".join(words).strip(_BRACKETS + " "))
    if found is None:
        return None
    if found["priority"] is not None and int(found["priority"]) not in _PRIORITY_SCALE:
        return None  # `P7`: not a priority anyone pages with; it stays in the title
    return SeverityWords(_level(found["number"] or found["priority"]), tuple(words))


def _severity_at(words: list[str], *, last: bool) -> SeverityWords | None:
    """A severity in the first (or last) one or two words."""
    for count in (1, 2)[: len(words)]:
        if found := _read_severity(words[-count:] if last else words[:count]):
            return found
    return None


def _trim_separator(words: list[str], *, last: bool) -> list[str]:
    """`Payments down - sev1` -> `Payments down`, `SEV1: Payments down` -> `Payments down`."""
    if not words:
        return words
    edge = -1 if last else 0
    word = words[edge].rstrip(_SEPARATORS) if last else words[edge].lstrip(_SEPARATORS)
    if not word:
        return words[:-1] if last else words[1:]
    words = list(words)
    words[edge] = word
    return words


def parse_start(words: list[str]) -> StartArgs:
    """`[--private] <title words> [severity]`, the severity first or last, `--private` anywhere."""
    private = any(w.lower() in _PRIVATE for w in words)
    rest = [w for w in words if w.lower() not in _PRIVATE]
    at_end = _severity_at(rest, last=True)
    at_start = _severity_at(rest[: len(rest) - len(at_end.words)] if at_end else rest, last=False)
    ends = [f for f in (at_end, at_start) if f is not None]
    taken = [f for f in ends if f.severity is not None]
    if not taken:
        if ends:
            refused = ends[0].typed
            keep = (  # `P5` may be a machine type rather than a priority
                " (To keep it in the title, end the title with a severity: `... sev3`.)"
                if refused.strip(_BRACKETS).lower().startswith("p")
                else ""
            )
            raise UsageError(f"{quoted(refused)} is not a severity: use {VALID_SEVERITIES}.{keep}")
        return StartArgs(private, DEFAULT_SEVERITY, rest, None)
    if len({f.severity for f in taken}) > 1:
        raise UsageError(
            f"Two severities, {quoted(taken[1].typed)} and {quoted(taken[0].typed)}: "
            "give one, at the start or the end of the title."
        )
    if at_end in taken:
        rest = _trim_separator(rest[: len(rest) - len(at_end.words)], last=True)
    if at_start in taken:
        rest = _trim_separator(rest[len(at_start.words) :], last=False)
    again = [f for f in (_severity_at(rest, last=True), _severity_at(rest, last=False)) if f]
    # `outage sev 1 sev 2`, `sev 1 outage sev 5`: which was meant? (`P5` may be a machine type)
    if again := [f for f in again if f.severity or not f.typed.strip(_BRACKETS).lower()[:1] == "p"]:
        raise UsageError(  # `outage sev 1 sev 2`: which one was meant?
            f"Two severities, {quoted(again[0].typed)} and {quoted(taken[0].typed)}: "
            "give one, at the start or the end of the title."
        )
    severity = taken[0].severity
    assert severity is not None
    return StartArgs(private, severity, rest, taken[-1])


def parse_severity(words: list[str]) -> Severity:
    """`/incident severity` takes the same spellings as a title, and a bare `1`..`4`."""
    text = " ".join(words)
    found = _read_severity(words) or (
        SeverityWords(_level(text), tuple(words)) if text.isdecimal() else None
    )
    if found is None:
        raise UsageError(f"{quoted(text)} is not a severity; use {VALID_SEVERITIES}.")
    if found.severity is None:
        raise UsageError(f"There is no {quoted(found.typed)}: use {VALID_SEVERITIES}.")
    return found.severity


def severity_note(given: SeverityWords | None) -> str:
    """The starter's line about the severity: what was taken from which words, or the default."""
    if given is None or given.severity is None:
        return (
            f"Severity: {DEFAULT_SEVERITY.label}, the default (none was given). Change it with "
            "`/incident severity sev1` (SEV1 is the most severe, SEV4 the least)."
        )
    return (
        f"Severity: {given.severity.label}, from {quoted(given.typed)} in what you typed. "
        "Change it with `/incident severity sev2`."
    )
