"""Posting the weekly digest to DIGEST_CHANNEL: the message, then the chart, each recorded once
it is in Slack (a restart sends neither again), then the next week's digest planned."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.digest import Digests
from bot.insights_text import alt_text
from bot.reminders import Reminders
from bot.slack.digest_blocks import build_digest
from bot.slack.failures import FAILURES, PERMANENT, reason
from bot.slack.insight_commands import ALT_TXT_CHARS, chart_png
from bot.slack.pacing import Pacer
from bot.store.reminders import Reminder

logger = logging.getLogger(__name__)

MESSAGE, CHART = "digest", "digest:chart"  # the deliveries recorded, one each
LATE = timedelta(minutes=15)  # a digest later than this says so


class DigestSender:
    """Sends a claimed digest row to `channel` (a channel ID)."""

    def __init__(
        self,
        digests: Digests,
        reminders: Reminders,
        client: WebClient,
        channel: str,
        clock: Callable[[], datetime],
        pacer: Pacer | None = None,
    ) -> None:
        self.digests = digests
        self.reminders = reminders
        self.client = client
        self.channel = channel
        self.clock = clock
        self.pacer = pacer or Pacer()

    def fire(self, reminder: Reminder) -> list[Reminder]:
        """Post what of the digest is not in Slack yet; returns what to schedule (a retry, or
        next week's digest). A failure no retry fixes is logged (the operator reads it; `python
        -m bot check` names the channel's problem) and next week's digest still comes."""
        now = self.clock()
        digest = self.digests.digest(reminder.team_id, reminder.due_at)
        done = self.reminders.deliveries(reminder.id)  # a busy database's too: not again
        try:
            if MESSAGE not in done:
                late = now - reminder.due_at
                text, blocks = build_digest(digest, late if late > LATE else None)
                posted = self.pacer.post(
                    self.client, channel=self.channel, text=text, blocks=blocks
                )
                self.reminders.record_delivery(
                    reminder.id, MESSAGE, str(posted["channel"]), str(posted["ts"])
                )
            if CHART not in done:
                uploaded = self.client.files_upload_v2(
                    channel=self.channel,
                    content=chart_png(digest.figures),
                    filename=f"incidents-{digest.until:%Y%m%d}.png",
                    title=f"Incidents, the 90 days to {digest.until:%Y-%m-%d}",
                    alt_txt=alt_text(digest.figures)[:ALT_TXT_CHARS],
                )
                file_id = str((uploaded.get("file") or {}).get("id", ""))
                self.reminders.record_delivery(reminder.id, CHART, self.channel, file_id)
        except FAILURES as exc:
            error = reason(exc)
            if error not in PERMANENT and self.reminders.retry_later(reminder, error):
                logger.warning("weekly digest: Slack said %s; trying again", error)
                return [self.reminders.get(reminder.id)]
            logger.error(
                "the weekly digest could not be posted to DIGEST_CHANNEL %s: Slack said %s "
                "(invite the bot to the channel, or set DIGEST_CHANNEL to one it is in)",
                self.channel,
                error,
            )
            self.reminders.finish(reminder.id, "failed", error)
            return self.digests.plan(reminder.team_id, after=max(now, reminder.due_at))
        self.reminders.finish(reminder.id, "sent")
        return self.digests.plan(reminder.team_id, after=max(now, reminder.due_at))
