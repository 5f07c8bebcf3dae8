"""Opening a modal right after the ack; when Slack will not open it, the person is told."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient

from bot.slack.failures import FAILURES, Told, reason

logger = logging.getLogger(__name__)

# views.open's errors for a trigger_id that can no longer open anything (Slack's method
# reference): it lives 3 seconds and opens one view.
TRIGGER_GONE = ("expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id")


def open_view(client: WebClient, trigger_id: str, view: dict[str, Any], again: str) -> str:
    """`views.open` for the person whose click or command brought `trigger_id`; the id of the
    view it opened (for views.update).

    Raises Told (for the person, delivered by the app's error handler) when Slack refuses:
    `again` says what to do, e.g. "Type `/incident write` again." A trigger that expired (Slack
    or the bot was slow) is the usual case."""
    try:
        opened = client.views_open(trigger_id=trigger_id, view=view)
    except FAILURES as exc:
        why = reason(exc)
        logger.warning("views.open refused: %s", why)
        if why in TRIGGER_GONE:
            raise Told(
                f":hourglass: The form did not open: Slack took too long to hand it over "
                f"(`{why}`). {again}"
            ) from exc
        raise Told(f":warning: The form did not open (Slack said `{why}`). {again}") from exc
    return str((opened.get("view") or {}).get("id") or "")
