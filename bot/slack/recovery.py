"""At start: what a stopped process left half-done after an ack is finished or undone.

A process can die (out of memory, a redeploy, SIGKILL) between an ack and the end of its work.
Three such half-made states are found from the database: an incident whose channel never came
(undone, and its starter told), a resolved incident without its retrospective checklist
(posted now), and timeline entries of the last hour that no message in the channel shows
(shown now)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk import WebClient

from bot.incidents import Incidents
from bot.slack.channels import Channels
from bot.slack.drafting import Drafting
from bot.slack.echoes import Echoes

logger = logging.getLogger(__name__)

RESTARTED = "the bot was restarted while it made the incident's channel"
ECHOED_WITHIN = timedelta(hours=1)  # older entries not shown by now are left to the draft


def recover(
    client: WebClient,
    incidents: Incidents,
    channels: Channels,
    drafting: Drafting,
    echoes: Echoes,
    started: datetime,
) -> None:
    """Finish or undo, in every workspace, what the process before this one (which started at
    `started`, UTC) left half-done. Errors are logged; nothing here stops the bot."""
    store = incidents.store
    for team_id in store.teams():
        try:
            for incident in store.unopened(team_id, started):
                logger.warning("%s: a start without its channel, undone", incident.hotfix_id)
                channels.undo_unopened(client, incident, RESTARTED)
            for incident in store.unpublished(team_id):
                if incident.channel_id and not incident.checklist_ts:
                    logger.warning("%s: its checklist was never posted", incident.hotfix_id)
                    drafting.post_checklist(client, incident)
            for entry in store.unechoed(team_id, started - ECHOED_WITHIN):
                shown_in = store.incident(team_id, entry.incident_id)
                if shown_in is not None and shown_in.channel_id:
                    echoes.post(client, shown_in, entry, None)
        except Exception:
            logger.exception("recovery in %s failed", team_id)
