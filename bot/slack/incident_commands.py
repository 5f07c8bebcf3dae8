"""`/incident`: parse the subcommand, call the workflow, ack, then do the Web API work."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.assignments import with_assignees
from bot.digest import Digests
from bot.errors import UsageError, quoted
from bot.incidents import Incidents
from bot.models import Incident
from bot.reminders import Reminders
from bot.severity_words import VALID_SEVERITIES, parse_severity, parse_start, severity_note
from bot.slack import blocks
from bot.slack.channels import Channels
from bot.slack.echoes import Echoes
from bot.slack.executor import before_ack
from bot.slack.failures import FAILURES, reason
from bot.slack.limits import page_number
from bot.slack.payloads import Command, replies_errors, users_in
from bot.slack.retro_commands import RetroCommands
from bot.slack.text import decode, mention
from bot.slack.zones import Zones
from bot.working_hours import zone_named

logger = logging.getLogger(__name__)

# `/incident <subcommand>`: each is a method of the same name, of IncidentCommands or RetroCommands.
LIFECYCLE = (
    "start",
    "resolve",
    "reopen",
    "commander",
    "owner",
    "severity",
    "status",
    "list",
    "help",
)
RETROSPECTIVE = ("write", "action", "actions", "draft", "publish")
# ... and of the classes register() adds (bot/slack/app.py): AssignCommands
ASSIGNING = ("assign",)
SUBCOMMANDS = LIFECYCLE + RETROSPECTIVE + ASSIGNING


def deactivated(client: WebClient, user_id: str) -> bool:
    """Whether Slack says the account is deactivated (users.info `deleted`; asked before the
    ack); a lookup that fails (or `user_not_found`) counts as not: the person keeps what they
    have."""
    try:
        return bool(before_ack(client).users_info(user=user_id)["user"].get("deleted"))
    except FAILURES as exc:
        logger.warning("users.info %s: %s", user_id, reason(exc))
        return False


class IncidentCommands:
    def __init__(
        self,
        incidents: Incidents,
        channels: Channels,
        retro: RetroCommands,
        reminders: Reminders,
        zones: Zones,
        echoes: Echoes,
    ) -> None:
        self.incidents = incidents
        self.zones = zones
        self.echoes = echoes
        self.channels = channels
        self.retro = retro
        self.reminders = reminders
        self.subcommands: dict[str, Callable[..., None]] = {
            **{name: getattr(self, name) for name in LIFECYCLE},
            **{name: getattr(retro, name) for name in RETROSPECTIVE},
        }
        self.subcommands["owners"] = self.owner

    @replies_errors
    def handle_incident(
        self, ack: Ack, body: dict[str, Any], respond: Respond, client: WebClient
    ) -> None:
        command = Command.from_body(body, self.incidents.store)
        args = command.args
        name = args[0].lower() if args else "help"
        sub = self.subcommands.get(name)
        if sub is None:
            raise UsageError(
                f"{quoted('/incident ' + decode(args[0]))} is not a command. Try "
                "`/incident start <title>`, `/incident resolve`, `/incident status` or "
                "`/incident help`."
            )
        sub(command, ack=ack, respond=respond, client=client)

    def start(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        start = parse_start(command.args[1:])
        title = decode(" ".join(start.title))
        incident = self.incidents.start(
            command.team_id, command.user_id, title, start.severity, private=start.private
        )
        ack(
            response_type="ephemeral",
            text=f"{blocks.opened_text(incident)}\n{severity_note(start.given)}",
        )
        self.channels.open(client, incident, respond)
        Digests(self.incidents.store, self.reminders, self.incidents.clock).plan(command.team_id)

    def _here(self, command: Command) -> Incident:
        return self.incidents.in_channel(
            command.team_id, command.channel_id, "`/incident`", user_id=command.user_id
        )

    def resolve(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        incident = self.incidents.resolve(
            self._here(command),
            command.user_id,
            " ".join(command.args[1:]),
            self.zones.source(client, command.team_id, command.user_id),
        )
        ack(
            response_type="in_channel",
            text=f"{incident.hotfix_id} resolved; the post-mortem is due "
            f"{incident.deadline_at:%Y-%m-%d %H:%M} UTC.",
            blocks=blocks.build_resolved(incident, command.user_id),
        )
        self.reminders.plan_for(incident)
        self.channels.update_topic(client, incident)
        began = self.incidents.report(incident).began
        self.echoes.recheck(client, incident, began, None)  # entries now after the resolution
        self.retro.after_resolve(client, incident, command.user_id)

    def reopen(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        before = self._here(command)
        incident = self.incidents.reopen(before, command.user_id)
        self.reminders.cancel_deadline(incident)
        ack(
            response_type="in_channel",
            text=f":arrows_counterclockwise: {mention(command.user_id)} reopened "
            f"{incident.hotfix_id}. Its post-mortem deadline waits for the next "
            "`/incident resolve`.",
        )
        self.channels.update_topic(client, incident)
        began = self.incidents.report(incident).began
        self.echoes.recheck(client, incident, began, before.resolved_at)  # no "after" warnings
        self.retro.drafting.refresh_checklist(client, incident)  # no deadline any more

    def commander(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        usage = "/incident commander @user"
        users = users_in(command.args[1:], usage)
        if len(users) != 1:
            raise UsageError(f"An incident has one commander: `{usage}`.")
        incident = self.incidents.set_commander(
            self._here(command), command.user_id, users[0], lambda user: deactivated(client, user)
        )
        ack(
            response_type="in_channel",
            text=f":large_green_circle: {mention(users[0])} is now the incident commander "
            f"of {incident.hotfix_id} (handed over by {mention(command.user_id)}).",
        )
        self.channels.invite(client, incident, users)
        self.channels.update_topic(client, incident)
        self.reminders.plan_for(incident)  # who waits for whose working hours changed

    def owner(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        usage = "/incident owner @user [@user ...]"
        words = command.args[1:]
        action = "set"
        if words and words[0].lower() in ("add", "remove"):
            action = words.pop(0).lower()
        users = users_in(words, usage)
        incident = self._here(command)
        owners = self.incidents.change_owners(incident, command.user_id, action, users)
        ack(
            response_type="in_channel",
            text=f"Post-mortem owners of {incident.hotfix_id}: "
            + " ".join(mention(u) for u in owners),
        )
        self.channels.invite(client, incident, owners)
        self.reminders.plan_for(
            self.incidents.store.incident(incident.team_id, incident.id) or incident
        )

    def severity(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        if len(command.args) < 2:
            raise UsageError(
                f"Give one severity, e.g. `/incident severity sev1`: {VALID_SEVERITIES}."
            )
        severity = parse_severity([decode(w) for w in command.args[1:]])
        before = self._here(command)
        incident = self.incidents.set_severity(before, command.user_id, severity)
        ack(
            response_type="in_channel",
            text=f"{incident.hotfix_id} is now {severity.label} (was {before.severity.label}; "
            f"set by {mention(command.user_id)}).",
        )
        self.channels.update_topic(client, incident)

    def status(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        incident, _ = self.incidents.about(
            command.team_id, command.channel_id, command.user_id, command.args[1:], "`/incident`"
        )
        report = self.incidents.report(incident)
        states = self.retro.retro.states(incident)
        given = [(st.section.title, st.assignee, st.written) for st in states if st.assignee]
        assignees = [p for p in with_assignees(report.owners, states) if p not in report.owners]
        ack(
            response_type="ephemeral",
            text=f"Status of {report.incident.hotfix_id}",
            blocks=blocks.build_status(
                report, self.next_reminders(incident, report.owners, assignees), given
            ),
        )

    def next_reminders(
        self, incident: Incident, owners: list[str], assignees: list[str]
    ) -> list[tuple[str, datetime, bool]]:
        """(person, when UTC, zone known) of the next reminder DMs of the owners, the
        commander and `assignees` (those with a section nobody has written yet, who get the
        owners' reminders too), on their working hours; zones as last seen (no Slack call
        before the ack)."""
        store = self.incidents.store
        people = list(dict.fromkeys([*owners, incident.commander_id, *assignees]))
        zones = {p: store.zone_name(incident.team_id, p) for p in people}
        found = self.reminders.next_for(
            incident, people, lambda p: zone_named(zones[p]), also=assignees
        )
        return [(p, found[p], zones[p] is not None) for p in people if p in found]

    def list(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        incidents = self.incidents.visible_open(command.team_id, command.user_id)
        ack(
            response_type="ephemeral",
            text=f"{len(incidents)} open incidents",
            blocks=blocks.build_list(
                incidents, page_number(command.args[1:], "/incident list page 2")
            ),
        )

    def help(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        ack(
            response_type="ephemeral",
            text=blocks.help_text(),
            blocks=blocks.build_help(self.channels.keeping),
        )
