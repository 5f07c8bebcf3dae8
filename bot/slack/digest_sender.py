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
from bot.slack.failures import FAILURES, reason
from bot.slack.insight_commands import ALT_TXT_CHARS, chart_png
from bot.slack.pacing import Pacer
from bot.store.reminders import Reminder

logger = logging.getLogger(__name__)

MESSAGE, CHART = "digest", "digest:chart"  # the deliveries recorded, one each
LATE = timedelta(minutes=15)  # a digest later than this says so
# Errors no retry will fix (the channel is gone, archived, or the bot is not in it)
PERMANENT = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "restricted_action",
        "invalid_auth",
        "token_revoked",
        "missing_scope",
    }
)


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
        # what Slack took whose row the database did not (busy): (reminder id, MESSAGE or
        # CHART) -> (channel, ts or file id); written at the row's next try, not posted again
        self._accepted: dict[tuple[int, str], tuple[str, str]] = {}

    def fire(self, reminder: Reminder) -> list[Reminder]:
        """Post what of the digest is not in Slack yet; returns what to schedule (a retry, or
        next week's digest). A failure no retry fixes is logged (the operator reads it; `python
        -m bot check` names the channel's problem) and next week's digest still comes."""
        now = self.clock()
        digest = self.digests.digest(reminder.team_id, reminder.due_at)
        done = self.reminders.deliveries(reminder.id)
        for what in (MESSAGE, CHART):
            if what not in done and (key := (reminder.id, what)) in self._accepted:
                channel, ts = self._accepted[key]
                self._record(key, channel, ts)
                done[what] = ts
        try:
            if MESSAGE not in done:
                late = now - reminder.due_at
                text, blocks = build_digest(digest, late if late > LATE else None)
                posted = self.pacer.post(
                    self.client, channel=self.channel, text=text, blocks=blocks
                )
                self._record((reminder.id, MESSAGE), str(posted["channel"]), str(posted["ts"]))
            if CHART not in done:
                uploaded = self.client.files_upload_v2(
                    channel=self.channel,
                    content=chart_png(digest.figures),
                    filename=f"incidents-{digest.until:%Y%m%d}.png",
                    title=f"Incidents, the 90 days to {digest.until:%Y-%m-%d}",
                    alt_txt=alt_text(digest.figures)[:ALT_TXT_CHARS],
                )
                file_id = str((uploaded.get("file") or {}).get("id", ""))
                self._record((reminder.id, CHART), self.channel, file_id)
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

    def _record(self, key: tuple[int, str], channel: str, ts: str) -> None:
        """Record what Slack took; remembered until the row is written (a busy database
        raises, and the row's next try writes it instead of posting again)."""
        self._accepted[key] = (channel, ts)
        self.reminders.record_delivery(key[0], key[1], channel, ts)
        del self._accepted[key]
