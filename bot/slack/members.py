"""Who is in an incident channel, asked of Slack when the store does not know: someone whose
join the bot has not heard of yet (the event is on its way, or came while the bot was down) is
let in (and Incidents remembers them)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.models import Incident
from bot.slack.executor import before_ack
from bot.slack.failures import FAILURES, reason

logger = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 1  # asked before the ack (Slack allows 3 s), once, without retries
MAX_PAGES = 2  # of 200 members each: more than an incident channel holds, within the 3 s


class Members:
    """`confirm(incident, user_id)`: whether Slack says `user_id` is in the incident's channel
    now (`conversations.members`, paginated; its own client, without retries, waiting at most
    LOOKUP_TIMEOUT_S a page). Slack's refusal or silence is a no."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def confirm(self, incident: Incident, user_id: str) -> bool:
        if not incident.channel_id:
            return False
        quick = before_ack(self.client, LOOKUP_TIMEOUT_S)
        cursor = ""
        try:
            for _ in range(MAX_PAGES):
                page = quick.conversations_members(
                    channel=incident.channel_id, limit=200, cursor=cursor or None
                )
                if user_id in page.get("members", []):
                    return True
                cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
                if not cursor:
                    return False
        except FAILURES as exc:
            logger.warning("members of %s unknown: %s", incident.hotfix_id, reason(exc))
        return False
