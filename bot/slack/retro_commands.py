"""The guided retrospective in Slack: `/incident write|action|actions|draft|publish`, the
checklist's buttons, the section and action modals, and the owners' "Mark done"."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.access import UNSEEN
from bot.action_words import (
    ParsedAction,
    action_number,
    parse_action,
    parse_action_change,
    plain_mention,
)
from bot.errors import BotError, UsageError, quoted
from bot.free_text import TooLong, without_controls
from bot.incidents import Incidents
from bot.models import ActionItem, Incident, Priority
from bot.reminders import Reminders
from bot.retro import Retro
from bot.slack.audience import Asker
from bot.slack.channels import invite
from bot.slack.drafting import Drafting
from bot.slack.failures import FAILURES, reason
from bot.slack.limits import page_number
from bot.slack.payloads import Command, error_text, team_of
from bot.slack.publishing import Publishing
from bot.slack.retro_blocks import (
    action_line,
    build_action_dm,
    build_action_modal,
    build_actions_list,
    build_section_modal,
)
from bot.slack.reviewing import Reviewing
from bot.slack.text import decode, escape, mention, parse_mention
from bot.slack.views import open_view

logger = logging.getLogger(__name__)

_AROUND = "()[]{},.;:!?\"'"  # punctuation typed around a mention: `(@bob)`, `@bob,`


def _action_word(word: str) -> str:
    """A word of `/incident action` as parse_action reads it: a picked person stays a Slack
    mention (`<@U123|bob>`, also inside `(...)`); anything else is decoded to what was typed."""
    core = word.strip(_AROUND)
    return core if parse_mention(core) else decode(word)


def _picked(words: list[str]) -> Callable[[str], str | None]:
    """The user id of a word of `_action_word` that is a person picked from Slack's @ menu in
    `words` (as Slack sent them); None for any other, `<@U0EVIL>` typed as text included."""
    people = {}
    for word in words:
        core = word.strip(_AROUND)
        if found := parse_mention(core):
            people[core] = found[0]
    return people.get


class RetroCommands:
    def __init__(
        self, incidents: Incidents, retro: Retro, drafting: Drafting, reminders: Reminders
    ) -> None:
        self.incidents = incidents
        self.retro = retro
        self.drafting = drafting
        self.reminders = reminders
        self.pacer = drafting.pacer
        self.publishing = Publishing(incidents, retro, drafting, reminders)
        self.reviewing: Reviewing | None = None  # review mode (POSTMORTEM_REVIEW)

    def _here(self, command: Command) -> Incident:
        return self.incidents.in_channel(
            command.team_id, command.channel_id, "`/incident`", user_id=command.user_id
        )

    def _about(self, command: Command) -> tuple[Incident, list[str]]:
        """The incident named first (`hotfix-007`, from anywhere) or the channel's, and the rest
        of the words after the subcommand."""
        return self.incidents.about(
            command.team_id, command.channel_id, command.user_id, command.args[1:], "`/incident`"
        )

    # --- after resolution --------------------------------------------------------------------

    def after_resolve(
        self, client: WebClient, incident: Incident, user_id: str, respond: Respond | None = None
    ) -> None:
        """The retrospective begins: the checklist, then the first draft. What Slack refuses
        reaches `user_id` (through `respond`, else a DM)."""
        askers = [Asker(user_id, respond)]
        if incident.checklist_ts:
            self.drafting.refresh_checklist(client, incident, askers)
        else:
            incident = self.drafting.post_checklist(client, incident, askers)
        self.drafting.post(client, incident, user_id, respond=respond)

    # --- subcommands -------------------------------------------------------------------------

    def write(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        incident, words = self._about(command)
        named = "" if command.channel_id == incident.channel_id else f" {incident.hotfix_id}"
        wanted = " ".join(words)
        if wanted:
            section = self.retro.sections.find(decode(wanted))
            if section is None:
                raise UsageError(
                    f"There is no section {quoted(decode(wanted))}. "
                    f"Sections: {self.retro.sections.names}."
                )
        else:
            section = self.retro.next_empty(incident, command.user_id)
            if section is None:
                ack(
                    response_type="ephemeral",
                    text=(
                        ":white_check_mark: Every section is written. "
                        "`/incident write &lt;section&gt;` "
                        f"edits one ({self.retro.sections.names}); "
                        "`/incident draft` posts the draft."
                    ),
                )
                return
        values = self.retro.values(incident, section)  # a WAL read: never waits on writers
        ack()
        open_view(
            client,
            command.trigger_id,
            build_section_modal(incident, section, values, incident.channel_id or ""),
            f"Type `/incident write{named} {section.key}` again.",
        )

    def action(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        incident = self._here(command)
        words = command.args[1:]
        if not words:
            ack()
            open_view(
                client,
                command.trigger_id,
                build_action_modal(incident, command.channel_id),
                "Type `/incident action` again.",
            )
            return
        typed = [_action_word(w) for w in words]
        if (number := action_number(words[0])) is not None:  # `AI-001 why: ...`: change it
            change = parse_action_change(typed[1:], _picked(words))
            before, item = self.retro.change_action(incident, number, change, command.user_id)
            ack(
                response_type="in_channel",
                text=f"{item.label} changed by {mention(command.user_id)}: {action_line(item)}",
            )
            if item.owner_id != before.owner_id:
                self._assigned(client, incident, item)  # the new owner hears of it
            else:
                self.reminders.plan_actions(incident, self.retro.actions(incident))
                self.drafting.refresh_checklist(client, incident)
            return
        parsed = parse_action(typed, _picked(words))
        item, _ = self.retro.add_action(incident, parsed, command.user_id)
        ack(
            response_type="in_channel",
            text=f"Action item added by {mention(command.user_id)}: {action_line(item)}",
        )
        self._assigned(client, incident, item)

    def actions(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        incident, words = self._about(command)
        ack(
            response_type="ephemeral",
            text=f"Action items of {incident.hotfix_id}",
            blocks=build_actions_list(
                incident,
                self.retro.actions(incident),
                page_number(words, "/incident actions page 2"),
            ),
        )

    def draft(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        incident, _ = self._about(command)
        where = (
            "here" if command.channel_id == incident.channel_id else f"in <#{incident.channel_id}>"
        )
        ack(
            response_type="ephemeral",
            text=f"Drafting the {incident.hotfix_id} post-mortem; it will be posted {where}.",
        )
        self.drafting.post(client, incident, command.user_id, respond=respond)

    def publish(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        """`/incident publish`: publishes; in review mode, opens the pull request instead."""
        if self.reviewing is not None:
            self.reviewing.publish(command, ack, respond, client)
        else:
            self.publishing.publish(command, ack, respond, client)

    # --- buttons and modals ------------------------------------------------------------------

    def handle_write_button(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        team_id, channel_id = team_of(body), body["channel"]["id"]
        incident = self.incidents.in_channel(team_id, channel_id)
        if self._unseen(incident, body["user"]["id"], respond):
            return
        section = self.retro.sections.get(body["actions"][0]["value"])
        if section is None:  # a checklist from before the team's template changed
            respond(
                response_type="ephemeral",
                replace_original=False,
                text="That section is no longer in the team's post-mortem template. "
                f"`/incident write` opens the next one ({self.retro.sections.names}).",
            )
            return
        open_view(
            client,
            body["trigger_id"],
            build_section_modal(
                incident, section, self.retro.values(incident, section), channel_id
            ),
            "Click the button again.",
        )

    def handle_add_action_button(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        incident = self.incidents.in_channel(team_of(body), body["channel"]["id"])
        if self._unseen(incident, body["user"]["id"], respond):
            return
        open_view(
            client,
            body["trigger_id"],
            build_action_modal(incident, body["channel"]["id"]),
            "Click the button again.",
        )

    def handle_draft_button(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        incident = self.incidents.in_channel(team_of(body), body["channel"]["id"])
        if self._unseen(incident, body["user"]["id"], respond):
            return
        self.drafting.post(client, incident, body["user"]["id"], respond=respond)

    def handle_section_submission(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        meta = json.loads(view["private_metadata"])
        incident = self.incidents.in_channel(team_of(body), meta["channel"])
        values = {
            key: block.get("value", {}).get("value") or ""
            for key, block in view["state"]["values"].items()
        }
        try:
            self.retro.save(incident, meta["section"], values, body["user"]["id"])
        except TooLong as error:  # the modal stays open, the words under the field
            ack(response_action="errors", errors={error.field: str(error)})
            return
        ack()
        self.drafting.refresh_checklist(client, incident, [Asker(body["user"]["id"])])

    def handle_action_submission(
        self, ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        meta = json.loads(view["private_metadata"])
        incident = self.incidents.in_channel(team_of(body), meta["channel"])
        state = {key: block["value"] for key, block in view["state"]["values"].items()}
        text = without_controls(state["text"].get("value") or "").strip()
        if not text:
            ack(response_action="errors", errors={"text": "What needs doing?"})
            return
        owner = state["owner"].get("selected_user")
        named = next(filter(None, map(plain_mention, text.split())), None)
        if named and not owner:  # `@bob` in the text: they meant bob, but nobody was picked
            ack(
                response_action="errors",
                errors={
                    "owner": f"{named} in the action item is text, not a person in this "
                    "workspace. Pick the owner here (or leave out the @)."
                },
            )
            return
        picked = state["due"].get("selected_date")
        try:
            due = date.fromisoformat(picked) if picked else None
        except ValueError:
            ack(response_action="errors", errors={"due": "Pick the date from the calendar."})
            return
        if problem := self.retro.due_problem(due):
            ack(response_action="errors", errors={"due": problem})  # the modal stays open
            return
        option = state["priority"].get("selected_option") or {"value": "short-term"}
        parsed = ParsedAction(
            text=text,
            owner_id=owner,
            due=due,
            priority=Priority(option["value"]),
            why=state["why"].get("value") or None,
        )
        user_id = body["user"]["id"]
        try:
            item, made = self.retro.add_action(incident, parsed, user_id, f"view:{view['id']}")
        except TooLong as error:  # the modal stays open, the words under the field
            ack(response_action="errors", errors={error.field: str(error)})
            return
        ack()
        if not made:  # the same submission again (a double click, a retry): done already
            logger.info("%s: the same submission again", item.label)
            return
        self.drafting.audience.post(
            client,
            incident,
            [Asker(user_id)],
            f"Action item added by {mention(user_id)}: {action_line(item)}",
        )
        self._assigned(client, incident, item)

    def handle_action_done(
        self, ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ack()
        team_id = team_of(body)
        try:
            value = str(body["actions"][0].get("value", ""))
            if not (value.isascii() and value.isdigit()):
                raise UsageError("That button is not for an action item; nothing was done.")
            item, closed = self.retro.mark_done(team_id, int(value), body["user"]["id"])
        except BotError as error:
            respond(replace_original=False, text=f":warning: {error_text(error)}")
            return
        incident = self.incidents.store.incident(team_id, item.incident_id)
        assert incident is not None
        if closed:  # its reminder and escalation, if still to come, never will
            self.reminders.plan_actions(incident, self.retro.actions(incident))
        container = body.get("container", {})
        try:
            client.chat_update(
                channel=container["channel_id"],
                ts=container["message_ts"],
                text=f"{item.label} done",
                blocks=build_action_dm(incident, item),
            )
        except FAILURES as exc:  # the DM keeps its button; the item is done all the same
            logger.warning("DM of %s not updated: %s", item.label, reason(exc))
        if closed and incident.channel_id:
            askers = [Asker(body["user"]["id"], respond)]
            self.drafting.audience.post(
                client,
                incident,
                askers,
                f":white_check_mark: {mention(body['user']['id'])} closed {item.label}: "
                f"{escape(item.text)}",
            )
            self.drafting.refresh_checklist(client, incident, askers)

    # --- shared ------------------------------------------------------------------------------

    def _unseen(self, incident: Incident, user_id: str, respond: Respond) -> bool:
        """True, once the person is told, if they may not see the incident now: a button names
        an incident, which is no proof that the person clicking may see it (a crafted click, or
        one on a message from before they left its private channel)."""
        if self.incidents.may_see(incident, user_id):
            return False
        respond(response_type="ephemeral", replace_original=False, text=UNSEEN)
        return True

    def _assigned(self, client: WebClient, incident: Incident, item: ActionItem) -> None:
        """The owner hears about it in a DM with a "Mark done" button (first: it needs no
        database, which may be busy); then its reminders are planned and the checklist updates.
        In a private incident the owner is invited to its channel first, as post-mortem owners
        and a new commander are: only its channel's people may see or close its items."""
        posted = None
        if item.owner_id and incident.private:
            invite(client, incident, [item.owner_id])
        if item.owner_id:
            try:
                posted = self.pacer.post(
                    client,
                    channel=item.owner_id,
                    text=f"You own {item.label} of {incident.hotfix_id}",
                    blocks=build_action_dm(incident, item),
                )
            except FAILURES as exc:
                logger.warning("DM for %s failed: %s", item.label, reason(exc))
        if posted is not None:
            self.retro.record_dm(item, incident.team_id, posted["channel"], posted["ts"])
        self.reminders.plan_actions(incident, self.retro.actions(incident))
        self.drafting.refresh_checklist(client, incident)
