"""`/incident assign` and the checklist's menus: give a section of the post-mortem to someone,
take it back, list whose each is; the assignee of a private incident is invited to its channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.access import UNSEEN
from bot.action_words import plain_mention
from bot.assignments import NOBODY, Assignments, Change
from bot.errors import UsageError, quoted
from bot.incidents import Incidents
from bot.models import Incident
from bot.reminders import Reminders
from bot.slack.assign_blocks import (
    ASSIGN_PERSON,
    ASSIGN_SECTION,
    USAGE,
    announce,
    build_assignments,
)
from bot.slack.audience import Asker
from bot.slack.channels import invite
from bot.slack.drafting import Drafting
from bot.slack.payloads import Command, team_of
from bot.slack.text import decode, escape, mention, parse_mention

logger = logging.getLogger(__name__)

EXAMPLE = "`/incident assign root_cause @carol`"


class AssignCommands:
    def __init__(
        self,
        incidents: Incidents,
        assignments: Assignments,
        drafting: Drafting,
        reminders: Reminders,
    ) -> None:
        self.incidents = incidents
        self.assignments = assignments
        self.drafting = drafting
        self.reminders = reminders

    def assign(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        """`/incident assign <section> @person|nobody`; alone, the list. Typed in the incident
        channel, by someone in it (the rule of `/incident owner`)."""
        incident = self.incidents.in_channel(
            command.team_id, command.channel_id, "`/incident assign`", user_id=command.user_id
        )
        words = command.args[1:]
        if not words:
            listed = self.assignments.listed(incident)
            ack(
                response_type="ephemeral",
                text=f"Sections of {incident.hotfix_id} given to people",
                blocks=build_assignments(
                    incident,
                    listed,
                    self.incidents.owners(incident),
                    self.assignments.retro.sections.names,
                ),
            )
            return
        person = _person(words[-1], len(words))
        section = self.assignments.section(decode(" ".join(words[:-1])))
        change = self.assignments.assign(incident, command.user_id, section, person)
        if not change.changed:
            whose = f"{mention(person)}'s" if person else "nobody's (the post-mortem owners')"
            name = f"*{escape(section.title)}* of {incident.hotfix_id}"
            ack(response_type="ephemeral", text=f"{name} is {whose} already; nothing changed.")
            return
        ack(response_type="in_channel", text=self._announcement(incident, command.user_id, change))
        self._after(client, incident, change, [Asker(command.user_id, respond)])

    def handle_choice(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        """A section or a person picked in the checklist's menus: once both are, the section is
        theirs. Who may is decided now, from who is in the channel now (the checklist is
        shown to anyone who reads the channel, and a request can be crafted)."""
        ack()
        user_id = body["user"]["id"]
        incident = self.incidents.in_channel(team_of(body), body["channel"]["id"])
        if not self.incidents.may_see(incident, user_id):
            respond(response_type="ephemeral", replace_original=False, text=UNSEEN)
            return
        key, person = _chosen(body)
        if key is None or person is None:
            return  # the other menu comes next
        self.assignments.check_member(incident, user_id)  # NotAllowed: told by the error handler
        section = self.assignments.retro.sections.get(key)
        if section is None:  # a checklist from before the team's template changed
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f"That section is no longer in the team's post-mortem template. {USAGE}.",
            )
            return
        change = self.assignments.assign(incident, user_id, section, person)
        askers = [Asker(user_id, respond)]
        if change.changed:
            text = self._announcement(incident, user_id, change)
            self.drafting.audience.post(client, incident, askers, text)
        self._after(client, incident, change, askers)

    def _announcement(self, incident: Incident, by: str, change: Change) -> str:
        return announce(incident, change.section.title, by, change.before, change.after)

    def _after(
        self, client: WebClient, incident: Incident, change: Change, askers: list[Asker]
    ) -> None:
        """After the ack: a private incident's assignee is invited to its channel (only its
        people may see or write it, or get its reminders), the reminders are planned again for
        the people they now go to, and the checklist shows whose each section is."""
        if change.after and incident.private:
            invite(client, incident, [change.after])
        self.reminders.plan_for(incident)
        self.drafting.refresh_checklist(client, incident, askers)


def _person(word: str, count: int) -> str | None:
    """The user id a command's last word names (`<@U…>`), None for `nobody`; UsageError saying
    what to type for anything else (`count`: how many words there were)."""
    typed = decode(word)
    if count == 1:
        raise UsageError(
            f"Give the section and who writes it: {EXAMPLE} (or `nobody` to take it back); "
            "`/incident assign` alone lists whose each is."
        )
    if found := parse_mention(word):
        return found[0]
    if typed.lower() in NOBODY:
        return None
    if name := plain_mention(typed):
        raise UsageError(
            f"{quoted(name)} is text, not a person: pick them from Slack's @ menu as you type, "
            f"e.g. {EXAMPLE}."
        )
    raise UsageError(
        f"{quoted(typed)} is not a person. End with whoever writes the section, mentioned with "
        f"@, or `nobody`: {EXAMPLE}."
    )


def _chosen(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(section key, user id) picked in the checklist's menus, as this person's Slack shows
    them now: the menu just used (`actions`) and the other one (`state`, in the same block)."""
    action = body["actions"][0]
    values = ((body.get("state") or {}).get("values") or {}).get(action.get("block_id"), {})
    picked = {k: v for k, v in values.items() if isinstance(v, dict)}
    picked[action["action_id"]] = action
    option = (picked.get(ASSIGN_SECTION) or {}).get("selected_option") or {}
    person = (picked.get(ASSIGN_PERSON) or {}).get("selected_user")
    return option.get("value"), person
