"""Web API work after the ack: the incident channel, invitations, topic, kick-off, announcement."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.incidents import Incidents
from bot.models import Incident
from bot.naming import channel_name
from bot.slack import blocks
from bot.slack.failures import FAILURES, reason
from bot.slack.pacing import Pacer
from bot.slack.text import escape
from bot.store import StoreUnavailable

logger = logging.getLogger(__name__)

NAME_ATTEMPTS = 10
DISCARD_ATTEMPTS = 3
# what to do about conversations.create's refusals (its errors in Slack's method reference)
CREATE_ADVICE = {
    "missing_scope": ". The app lacks a scope (`channels:manage`, `groups:write`): reinstall it "
    "from its manifest",
    "restricted_action": ". The workspace lets only some people create channels: ask a Slack admin",
    "not_allowed_token_type": ". SLACK_BOT_TOKEN must be the bot token (`xoxb-`)",
    "invalid_name_specials": ". Try a title without special characters",
    "invalid_name_maxlength": ". Try a shorter title",
}
LOOKUPS_AFTER_TIMEOUT = 3  # looks for a channel Slack may have made without answering in time
LOOKUP_EVERY_S = 1.5


def start_command(incident: Incident) -> str:
    """The `/incident start` that opens this incident again (escaped for Slack)."""
    private = "--private " if incident.private else ""
    return f"/incident start {private}{escape(incident.title)} {incident.severity.value}"


class NotOpened(Exception):
    """An incident's channel could not be made or kept; the message says why, for the starter."""


class Channels:
    """Web API work on incident channels, done after the ack."""

    def __init__(
        self,
        incidents: Incidents,
        prefix: str,
        announce_channel: str | None,
        pacer: Pacer,
        keeping: str = blocks.keeping_hint(),
    ) -> None:
        self.incidents = incidents
        self.keeping = keeping  # how a message is kept by emoji or pin (blocks.keeping_hint)
        self.pacer = pacer
        self.prefix = prefix
        self.announce_channel = announce_channel

    def _try(self, problems: list[str], what: str, call: Callable[[], Any]) -> Any:
        """Run one step; a Slack error or a database that stays busy is noted for the user and
        the rest goes on."""
        try:
            return call()
        except FAILURES as exc:
            logger.warning("%s failed: %s", what, reason(exc))
            problems.append(f"{what} ({reason(exc)})")
        except StoreUnavailable as exc:
            logger.warning("%s failed: %s", what, exc)
            problems.append(f"{what} (the incident database stayed busy)")
        return None

    def create_channel(self, client: WebClient, incident: Incident) -> Incident:
        """Create the incident's channel (the next free name) and keep it with the incident.

        Raises NotOpened, after undoing what was done (the incident, the channel), when Slack
        refuses the channel or the database stays busy for `Store.after_ack_wait_s`."""
        for attempt in range(NAME_ATTEMPTS):
            name = channel_name(self.prefix, incident.number, incident.title, attempt)
            asked = time.time()
            channel: dict[str, Any]
            try:
                made = client.conversations_create(
                    name=name, is_private=incident.private, team_id=incident.team_id
                )  # team_id: required with an org-wide install's token (Slack's reference)
                channel = made["channel"]
            except FAILURES as exc:
                why = reason(exc)
                if why == "name_taken":
                    continue
                if why != "timeout":
                    advice = CREATE_ADVICE.get(why, "")
                    raise NotOpened(f"Slack did not create its channel ({why}){advice}") from exc
                found = self._made_anyway(client, incident, name, asked)
                if found is None:
                    raise NotOpened(
                        f"Slack did not answer in time when asked for its channel; if #{name} "
                        "appears all the same, archive it"
                    ) from exc
                channel = found
            try:
                return self.incidents.attach_channel(incident, channel["id"], channel["name"])
            except StoreUnavailable as exc:
                archived = self._archive(client, channel["id"])
                raise NotOpened(
                    "the incident database stayed busy (another process held it for "
                    "longer than the bot waits), so it could not keep its channel "
                    + ("(now archived)" if archived else f"<#{channel['id']}> (archive it)")
                ) from exc
        raise NotOpened(
            f"no channel name was free after {NAME_ATTEMPTS} tries ({name} was taken too)"
        )

    def _made_anyway(
        self,
        client: WebClient,
        incident: Incident,
        name: str,
        asked: float,
        lookups: int = LOOKUPS_AFTER_TIMEOUT,
    ) -> dict[str, Any] | None:
        """The channel `name` in the incident's workspace, if Slack made it after all (its
        answer was lost to a timeout): looked for `lookups` times, among channels created since
        it was `asked` for (Unix time), private if the incident is (someone else's public
        channel of that name must never become a private incident's)."""
        for attempt in range(lookups):
            if attempt:
                time.sleep(LOOKUP_EVERY_S)
            try:
                listed = client.conversations_list(
                    types="public_channel,private_channel",
                    exclude_archived=True,
                    limit=1000,
                    team_id=incident.team_id,  # required with an org-wide install's token
                )
            except FAILURES as exc:
                logger.warning("looking for #%s: %s", name, reason(exc))
                continue
            channels: list[dict[str, Any]] = listed.get("channels", [])
            for channel in channels:
                if (
                    channel.get("name") == name
                    and channel.get("created", 0) >= int(asked) - 1
                    and bool(channel.get("is_private")) == incident.private
                ):
                    return channel
        return None

    def undo_unopened(self, client: WebClient, incident: Incident, why: str) -> None:
        """Undo a start left without its channel (see bot/slack/recovery.py): the channel Slack
        may have made for it is archived, the incident goes, and its starter hears `why` by DM
        with the command that opens it again."""
        for attempt in range(NAME_ATTEMPTS):
            name = channel_name(self.prefix, incident.number, incident.title, attempt)
            asked = incident.started_at.timestamp()
            made = self._made_anyway(client, incident, name, asked, lookups=1)
            if made is None:
                break
            self._archive(client, made["id"])
        self._discard(incident)
        try:
            self.pacer.post(
                client,
                channel=incident.created_by,
                text=f":warning: {incident.hotfix_id} was not opened: {why}. "
                f"Type `{start_command(incident)}` again to open it.",
            )
        except FAILURES as exc:
            logger.warning("starter of %s not told: %s", incident.hotfix_id, reason(exc))

    def _discard(self, incident: Incident) -> None:
        """Undo the start (the database may still be busy: a few tries, then the next
        `/incident start` clears it, see Store.create_incident)."""
        for _ in range(DISCARD_ATTEMPTS):
            try:
                self.incidents.discard_unopened(incident)
                return
            except StoreUnavailable:
                continue
        logger.error("%s left without a channel: the database stayed busy", incident.hotfix_id)

    def _archive(self, client: WebClient, channel: str) -> bool:
        try:
            client.conversations_archive(channel=channel)
            return True
        except FAILURES as exc:
            logger.warning("channel %s not archived: %s", channel, reason(exc))
            return False

    def open(self, client: WebClient, incident: Incident, respond: Respond) -> None:
        """Create the channel and set it up; tell the starter how it went. Without its channel
        there is no incident: the start is undone and the starter told to type it again."""
        try:
            incident = self.create_channel(client, incident)
        except NotOpened as exc:
            logger.warning("%s not opened: %s", incident.hotfix_id, exc)
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f":warning: {incident.hotfix_id} was not opened: {exc}. "
                f"Type `{start_command(incident)}` again to open it.",
            )
            self._discard(incident)
            return
        assert incident.channel_id
        channel = incident.channel_id
        problems: list[str] = []
        self._try(
            problems,
            "inviting you",
            lambda: client.conversations_invite(channel=channel, users=incident.created_by),
        )
        self._try(
            problems,
            "setting the topic",
            lambda: client.conversations_setTopic(channel=channel, topic=blocks.topic(incident)),
        )
        kickoff = self._try(
            problems,
            "posting the kick-off message",
            lambda: self.pacer.post(
                client,
                channel=channel,
                text=blocks.kickoff_text(incident),
                blocks=blocks.build_kickoff(incident, self.keeping),
            ),
        )
        if kickoff is not None:
            ts = kickoff["ts"]
            self._try(
                problems,
                "remembering the kick-off message",
                lambda: self.incidents.record_kickoff(incident, ts),
            )
            self._try(
                problems,
                "pinning the kick-off message",
                lambda: client.pins_add(channel=channel, timestamp=kickoff["ts"]),
            )
        if self.announce_channel and not incident.private:
            announce = self.announce_channel
            self._try(
                problems,
                "announcing it",
                lambda: self.pacer.post(
                    client,
                    channel=announce,
                    text=f"{incident.hotfix_id} opened: {escape(incident.title)}",
                    blocks=blocks.build_announcement(incident),
                ),
            )
        note = f" Some steps failed: {'; '.join(problems)}." if problems else ""
        respond(
            response_type="ephemeral",
            replace_original=False,
            text=f":white_check_mark: {incident.hotfix_id} is open in <#{channel}>.{note}",
        )

    def invite(self, client: WebClient, incident: Incident, users: list[str]) -> None:
        invite(client, incident, users)

    def update_topic(self, client: WebClient, incident: Incident) -> None:
        if not incident.channel_id:
            return
        try:
            client.conversations_setTopic(channel=incident.channel_id, topic=blocks.topic(incident))
        except FAILURES as exc:
            logger.warning("topic of %s not updated: %s", incident.hotfix_id, reason(exc))


def invite(client: WebClient, incident: Incident, users: list[str]) -> None:
    """Invite `users` (ids) to the incident's channel: a new commander, post-mortem owners, and
    in a private incident an action item's owner (only its channel's people may see or close
    it). Someone already in it is the usual case; other refusals are logged, not raised."""
    if not incident.channel_id:
        return
    for user in users:
        try:
            client.conversations_invite(channel=incident.channel_id, users=user)
        except FAILURES as exc:
            if reason(exc) != "already_in_channel":
                logger.warning("invite to %s failed: %s", incident.hotfix_id, reason(exc))
