"""Posting drafts: names from Slack, the file upload, the commit, the checklist kept current."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.drafts import Drafts
from bot.errors import BotError
from bot.models import Incident
from bot.publish import Outcome, Publisher
from bot.retro import Retro
from bot.slack.failures import FAILURES, reason
from bot.slack.pacing import Pacer
from bot.slack.retro_blocks import build_checklist, draft_summary
from bot.slack.text import escape

logger = logging.getLogger(__name__)


class Drafting:
    """The Web API and git work of a draft, done after the ack."""

    def __init__(
        self, drafts: Drafts, retro: Retro, publisher: Publisher, where: str, pacer: Pacer
    ) -> None:
        self.drafts = drafts
        self.pacer = pacer
        self.retro = retro
        self.store = drafts.store
        self.publisher = publisher
        self.where = where  # how people find the repository, e.g. "git@host:team/pm.git (main)"

    def _learn_names(self, client: WebClient, incident: Incident) -> None:
        """Real names of everyone the draft mentions, asked of Slack once and kept."""
        pm = self.drafts.load(incident)
        ids = pm.participants() + [a.owner_id for a in pm.actions if a.owner_id]
        for user_id in self.store.missing_real_names(incident.team_id, ids):
            try:
                user = client.users_info(user=user_id)["user"]
            except FAILURES as exc:
                logger.warning("users.info %s: %s", user_id, reason(exc))
                continue
            real = user.get("real_name") or user.get("profile", {}).get("real_name") or user["name"]
            self.store.remember_user(incident.team_id, user_id, user["name"], real)

    def _learn_speakers(self, client: WebClient, incident: Incident) -> None:
        """People who spoke in the incident channel are participants too."""
        if not incident.channel_id:
            return
        try:
            history = client.conversations_history(channel=incident.channel_id, limit=1000)
        except FAILURES as exc:
            logger.warning("conversations.history: %s", reason(exc))
            return
        messages: list[dict[str, Any]] = history.get("messages", [])
        speakers = [
            m["user"]
            for m in messages
            if m.get("user") and not m.get("bot_id") and not m.get("subtype")
        ]
        self.drafts.add_speakers(incident, list(dict.fromkeys(reversed(speakers))))

    def post(
        self, client: WebClient, incident: Incident, user_id: str, final: bool = False
    ) -> None:
        """Render the draft, commit it in the background, upload it with a summary."""
        assert incident.channel_id
        channel = incident.channel_id
        self._learn_speakers(client, incident)
        self._learn_names(client, incident)
        try:
            draft = self.drafts.make(incident, user_id, final=final)
        except BotError as error:
            self.pacer.post(
                client, channel=channel, text=f":warning: No draft: {escape(str(error))}"
            )
            return
        kind = "final post-mortem" if final else f"post-mortem draft {draft.version}"
        message = f"{incident.hotfix_id}: {kind}\n\n{incident.title}\n\nPosted by postmortem-bot."
        self.publisher.submit(
            draft.files, message, lambda outcome: self._committed(client, incident, outcome)
        )
        title = f"{incident.hotfix_id} post-mortem" + ("" if final else f" (draft {draft.version})")
        where = f"`{incident.hotfix_id}/postmortem.md` in {self.where}"
        try:
            client.files_upload_v2(
                channel=channel,
                content=draft.postmortem,
                filename=f"{incident.hotfix_id}-postmortem.md",
                title=title,
                initial_comment=draft_summary(draft, where),
            )
        except FAILURES as exc:
            logger.warning("draft upload for %s failed: %s", incident.hotfix_id, reason(exc))
            self.pacer.post(
                client,
                channel=channel,
                text=(
                    f":warning: Slack refused the draft file ({reason(exc)}); it is committed to "
                    f"{where} all the same."
                ),
            )

    def _committed(self, client: WebClient, incident: Incident, outcome: Outcome) -> None:
        """After git: if the push failed, tell the channel once (until a push succeeds)."""
        if outcome.pushed or not incident.channel_id:
            return
        if self.store.mark_repo_warned(incident):
            self.pacer.post(
                client,
                channel=incident.channel_id,
                text=(
                    f":warning: The post-mortem repository is not reachable right now "
                    f"({escape((outcome.error or '')[:300])}). The draft is committed locally and "
                    "will be pushed as soon as it is; nothing is lost."
                ),
            )

    def pushed(self, client: WebClient) -> None:
        """A delayed push went through: tell the channels that were warned."""
        for channel in self.store.take_repo_warnings():
            try:
                self.pacer.post(
                    client,
                    channel=channel,
                    text=(
                        ":white_check_mark: The post-mortem is now in the repository "
                        f"({self.where})."
                    ),
                )
            except FAILURES as exc:
                logger.warning("push notice: %s", reason(exc))

    def refresh_checklist(self, client: WebClient, incident: Incident) -> None:
        """Update the checklist message in place, if the incident has one."""
        if not (incident.checklist_ts and incident.channel_id):
            return
        try:
            client.chat_update(
                channel=incident.channel_id,
                ts=incident.checklist_ts,
                text=f"Post-mortem checklist of {incident.hotfix_id}",
                blocks=build_checklist(
                    incident, self.retro.states(incident), self.retro.actions(incident)
                ),
            )
        except FAILURES as exc:
            logger.warning("checklist of %s not updated: %s", incident.hotfix_id, reason(exc))

    def post_checklist(self, client: WebClient, incident: Incident) -> Incident:
        assert incident.channel_id
        posted = self.pacer.post(
            client,
            channel=incident.channel_id,
            text=f"Post-mortem checklist of {incident.hotfix_id}",
            blocks=build_checklist(
                incident, self.retro.states(incident), self.retro.actions(incident)
            ),
        )
        return self.store.update_incident(
            incident.team_id,
            incident.id,
            at=self.drafts.clock(),
            user_id="",
            checklist_ts=posted["ts"],
        )
