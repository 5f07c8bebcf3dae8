"""Sections given to people (`/incident assign`, the checklist): who writes which part of a
post-mortem, and each person's part of a deadline reminder, theirs first. A section given to
nobody is the post-mortem owners'. Plain Python over the store; no Slack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.access import check_may_change
from bot.errors import NotAllowed, UsageError, quoted
from bot.models import Incident
from bot.readiness import unwritten
from bot.retro import Retro, SectionState
from bot.sections import Section
from bot.store.assignments import Assignment

NOBODY = ("nobody", "none", "no-one", "noone")  # `/incident assign <section> nobody`


@dataclass(frozen=True)
class Change:
    """What `/incident assign` did: `section` was `before`'s and is `after`'s (user ids; None:
    nobody's, the post-mortem owners')."""

    section: Section
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


class Assignments:
    """Giving an incident's sections to people, as the team's template declares them."""

    def __init__(self, retro: Retro) -> None:
        self.retro = retro
        self.store = retro.store

    def section(self, name: str) -> Section:
        """The section `name` means: its key (`root_cause`), the beginning of its key, or words
        of its title (`root`, `five whys`), case-insensitive. UsageError naming the keys when it
        means none, the candidates when it means several."""
        found = self.retro.sections.matches(name)
        if len(found) == 1:
            return found[0]
        if found:
            raise UsageError(
                f"{quoted(name)} could be " + ", ".join(f"`{s.key}`" for s in found) + ": "
                "give more of its name, e.g. `/incident assign "
                f"{found[0].key} @someone`."
            )
        raise UsageError(
            f"There is no section {quoted(name)}. Sections: {self.retro.sections.names}; e.g. "
            f"`/incident assign {self.retro.sections.sections[0].key} @someone`."
        )

    def assign(
        self, incident: Incident, actor: str, section: Section, user_id: str | None
    ) -> Change:
        """Give `section` to `user_id` (None: to nobody), by `actor` now. NotAllowed (and
        nothing changes) unless `actor` may change the incident now (a private one: a member
        of its channel); the edge checks first that they act from the channel."""
        check_may_change(self.store, incident, actor)
        before = self.store.assign_section(
            incident, section.key, user_id, by=actor, at=self.retro.clock()
        )
        return Change(section, before, user_id)

    def check_member(self, incident: Incident, user_id: str) -> None:
        """NotAllowed unless `user_id` is in the incident channel as the bot knows it now: a
        click on the checklist proves nothing about who may (a crafted request, someone who
        left the channel since, a public channel read without joining)."""
        channel = incident.channel_id
        if not (channel and self.store.is_member(incident.team_id, channel, user_id)):
            raise NotAllowed(
                f":warning: Only people in the incident channel can give the {incident.hotfix_id} "
                "post-mortem's sections to people; nothing was changed."
            )

    def listed(self, incident: Incident) -> list[tuple[SectionState, Assignment]]:
        """The sections given to someone, in the template's order, with their assignment."""
        given = self.store.assignments(incident)
        return [
            (st, given[st.section.key])
            for st in self.retro.states(incident)
            if st.section.key in given
        ]


@dataclass(frozen=True)
class Part:
    """What one person's deadline reminder lists. `yours`: the sections given to them that
    nobody has written yet, in the template's order. `rest`: the draft's other open points,
    most important first, each with whose section it is when it is given to someone (a user
    id; None: nobody's, or no section). `whole`: False for someone who is neither a
    post-mortem owner nor the commander; their DM sums the rest up in a line."""

    yours: tuple[Section, ...]
    rest: tuple[tuple[str, str | None], ...]
    whole: bool = True


def part_of(person: str, states: Sequence[SectionState], points: list[str], whole: bool) -> Part:
    """`person`'s part of a reminder listing `points` (the draft's open points, bot/readiness.py)
    for the sections in `states` (Retro.states)."""
    empty = [st for st in states if not st.written]
    yours = tuple(st.section for st in empty if st.assignee == person)
    theirs = {unwritten(st.section): st.assignee for st in empty if st.assignee}
    own = {unwritten(section) for section in yours}
    rest = tuple((p, theirs.get(p)) for p in points if p not in own)
    return Part(yours, rest, whole)


def with_assignees(owners: list[str], states: Sequence[SectionState]) -> list[str]:
    """Who a deadline reminder goes to: `owners` (the post-mortem owners, or the commander when
    none is named), then everyone else who has a section nobody has written yet, in the
    template's order; each once."""
    given = [st.assignee for st in states if st.assignee and not st.written]
    return list(dict.fromkeys([*owners, *given]))
