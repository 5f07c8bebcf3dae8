"""Who hears of work after the ack that Slack would not show in the incident channel: the
person who asked (through their command's response_url, which works where the bot is not, or
else a DM), or, when nobody asked, the incident commander by DM."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.models import Incident
from bot.slack.failures import FAILURES, reason
from bot.slack.pacing import Pacer

logger = logging.getLogger(__name__)

# Slack's answers when the bot cannot post in a channel any more: removed from a public
# channel (`not_in_channel`), from a private one (`channel_not_found`: it cannot see it), or
# the channel was archived. (chat.postMessage, files.completeUploadExternal, chat.update.)
GONE = ("not_in_channel", "channel_not_found", "is_archived")
BOT_NAME = "postmortem-bot"  # the manifest's name, if auth.test cannot say


@dataclass(frozen=True)
class Asker:
    """Someone whose request is being worked on after the ack: `respond` is their command's
    or button's response_url (None after a modal: they hear by DM)."""

    user_id: str
    respond: Respond | None = None


class Audience:
    """Posts in an incident channel; if Slack says no, tells whoever should know instead."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self._name: str | None = None
        self._lock = threading.Lock()

    def bot_name(self, client: WebClient) -> str:
        """The bot's handle for `/invite @...` (auth.test's `user`), asked of Slack once."""
        with self._lock:
            if self._name is None:
                try:
                    self._name = str(client.auth_test().get("user") or BOT_NAME)
                except FAILURES as exc:
                    logger.warning("auth.test: %s", reason(exc))
                    return BOT_NAME
            return self._name

    def why(self, client: WebClient, channel_id: str, error: str) -> str:
        """Why Slack would not show something in the channel, and what to do, for people."""
        if not channel_id:
            return "the incident has no channel (Slack did not create it)"
        if error in ("not_in_channel", "channel_not_found"):
            return (
                f"I am not in <#{channel_id}> any more (Slack says `{error}`): invite me back "
                f"with `/invite @{self.bot_name(client)}` in that channel"
            )
        if error == "is_archived":
            return f"<#{channel_id}> is archived (Slack says `{error}`)"
        return f"Slack refused it (`{error}`)"

    def post(
        self, client: WebClient, incident: Incident, askers: list[Asker], text: str, **kwargs: Any
    ) -> bool:
        """Post `text` in the incident channel. If Slack refuses, the askers (or, with none,
        the commander) get the message and the reason instead. True if it was posted."""
        channel = incident.channel_id or ""
        error = "channel_not_found"  # an incident whose channel was never made
        if channel:
            try:
                self.pacer.post(client, channel=channel, text=text, **kwargs)
                return True
            except FAILURES as exc:
                error = reason(exc)
        logger.warning("post in %s refused: %s", incident.hotfix_id, error)
        quoted = "\n".join(f"> {line}" for line in text.splitlines())
        why = self.why(client, channel, error)
        self.tell(
            client, incident, askers, f":warning: Not posted in the channel: {why}.\n{quoted}"
        )
        return False

    def tell(self, client: WebClient, incident: Incident, askers: list[Asker], text: str) -> None:
        """`text` to each asker once (response_url, else a DM); with no askers, to the
        incident commander by DM. A DM Slack refuses too is only logged."""
        latest = {a.user_id: a for a in askers}  # someone who asked five times hears it once
        if not latest:
            self._dm(client, incident.commander_id, text)
        for asker in latest.values():
            if asker.respond is None or not _responded(asker.respond, text):
                self._dm(client, asker.user_id, text)

    def whisper(self, client: WebClient, channel_id: str, user_id: str, text: str) -> None:
        """`text` for one person only, in the channel where they acted (chat.postEphemeral);
        by DM where Slack refuses that (they are not in it, the bot is not, it is archived).
        A DM Slack refuses too is only logged."""
        try:
            client.chat_postEphemeral(channel=channel_id, user=user_id, text=text)
            return
        except FAILURES as exc:
            logger.info("ephemeral to %s refused (%s); a DM instead", user_id, reason(exc))
        self._dm(client, user_id, text)

    def _dm(self, client: WebClient, user_id: str, text: str) -> None:
        try:
            self.pacer.post(client, channel=user_id, text=text)
        except FAILURES as exc:
            logger.warning("DM to %s refused (%s): %s", user_id, reason(exc), text[:80])


def _responded(respond: Respond, text: str) -> bool:
    """An ephemeral through the response_url; False if it has expired or fails."""
    try:
        answer = respond(response_type="ephemeral", replace_original=False, text=text)
    except (OSError, ValueError) as exc:
        logger.info("response_url failed (%s); a DM instead", exc)
        return False
    return bool(answer.status_code == 200)
