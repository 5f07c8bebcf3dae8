"""Where the word goes when a reminder cannot reach someone: the incident channel (addressed to
the commander), else the commander's DM, else the post-mortem owners' DMs."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.models import Incident
from bot.slack.failures import FAILURES, reason
from bot.store import Store

logger = logging.getLogger(__name__)

Post = Callable[[str, str], tuple[str, str]]  # (channel or user id, text) -> (channel, ts)
Gone = Callable[[str], str | None]  # user id -> why nobody reads their DMs, or None


class Reporter:
    """Delivers one report about a person (`about`) the reminders cannot reach, never to them."""

    def __init__(self, store: Store, post: Post, gone: Gone) -> None:
        self.store = store
        self.post = post
        self.gone = gone

    def tell(self, incident: Incident, about: str, words: str) -> tuple[str, str]:
        """Say `words` (mrkdwn) to the first audience that takes it: the incident channel, with
        the commander mentioned; if the channel refuses (archived, the bot removed), the
        commander by DM; if the commander is the one missing or deactivated too, every owner
        who can read it. Returns (channel, ts) of where it was said, or ("", "failed:nobody")."""
        commander = incident.commander_id
        refused = "channel_not_found"
        if incident.channel_id:
            lead = "" if about == commander else f"<@{commander}>: "
            try:
                return self.post(incident.channel_id, f":warning: {lead}{words}")
            except FAILURES as exc:
                refused = reason(exc)
                logger.warning("the report of %s was refused: %s", incident.hotfix_id, refused)
        text = (
            f":warning: {words} (Said here because <#{incident.channel_id}> refused it: "
            f"`{refused}`.)"
        )
        if about != commander and self.gone(commander) is None:
            try:
                return self.post(commander, text)
            except FAILURES as exc:
                logger.warning("the report to the commander was refused: %s", reason(exc))
        told: tuple[str, str] | None = None
        for owner in self.store.owners(incident.team_id, incident.id):
            if owner in (about, commander) or self.gone(owner) is not None:
                continue
            try:
                posted = self.post(owner, text)
            except FAILURES as exc:
                logger.warning("the report to an owner was refused: %s", reason(exc))
                continue
            told = told or posted
        if told is None:
            logger.error(
                "nobody could be told that %s misses the reminders of %s: %s",
                about,
                incident.hotfix_id,
                words,
            )
        return told or ("", "failed:nobody")
