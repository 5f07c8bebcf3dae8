"""Each person's time zone, as their Slack profile gives it, for reading the times they type."""

from __future__ import annotations

import logging
import threading
import time
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.errors import UsageError
from bot.slack.executor import before_ack
from bot.slack.failures import reason
from bot.when import ZoneSource

logger = logging.getLogger(__name__)

CACHE_S = 12 * 3600  # people travel: their zone is asked again after this
LOOKUP_TIMEOUT_S = 2  # asked before the ack (Slack allows 3 s), once, without retries


class ZoneUnknown(UsageError):
    """Slack could not say the person's time zone (just now, or at all)."""

    def __init__(self, in_profile: bool = False) -> None:
        why = (
            "Your Slack profile has no time zone I can read"
            if in_profile
            else "I couldn't get your time zone from Slack just now"
        )
        fix = "set your time zone in Slack's preferences" if in_profile else "try again"
        super().__init__(
            f"{why}, so I can't tell which moment a time without a zone means for you. Add "
            "the zone (`14:05Z` for UTC, `14:05+01:00`, or `14:05 Europe/Berlin`), use a "
            f"relative time (`-15m`), or {fix}."
        )


class Zones:
    """Time zones by (team, user): the `tz` of Slack's users.info, asked the first time a
    person types a time without a zone and kept in memory for CACHE_S seconds (no database
    write on the command path). `fixed` (from TIMELINE_TIME_ZONE) answers for everyone."""

    def __init__(self, fixed: tzinfo | None = None) -> None:
        self.fixed = fixed
        self._known: dict[tuple[str, str], tuple[tzinfo, float]] = {}
        self._lock = threading.Lock()

    def source(self, client: WebClient, team_id: str, user_id: str) -> ZoneSource:
        """What the workflow calls, only if it needs the zone."""
        return lambda: self.zone(client, team_id, user_id)

    def zone(self, client: WebClient, team_id: str, user_id: str) -> tzinfo:
        """The person's zone; raises ZoneUnknown if Slack cannot say and it was never known."""
        if self.fixed is not None:
            return self.fixed
        key = (team_id, user_id)
        with self._lock:
            known = self._known.get(key)
        if known and time.monotonic() - known[1] < CACHE_S:
            return known[0]
        quick = before_ack(client, LOOKUP_TIMEOUT_S)
        try:
            name = quick.users_info(user=user_id)["user"].get("tz")
        except (SlackApiError, OSError) as exc:
            logger.warning("time zone of %s unknown: %s", user_id, reason(exc))
            if known:
                return known[0]  # as it was: better than refusing
            raise ZoneUnknown() from None
        try:
            zone = ZoneInfo(str(name).strip())
        except (ZoneInfoNotFoundError, ValueError):
            logger.warning("time zone of %s unusable: %r", user_id, name)
            raise ZoneUnknown(in_profile=True) from None
        with self._lock:
            self._known[key] = (zone, time.monotonic())
        return zone
