"""`/incident insights [30d|90d|quarter|year] [sev1 ...] [public]`: the workspace's figures
across incidents as a chart and a short summary, to the person (their DM with the bot) or, with
`public`, to the channel. Acknowledged at once; the figures and the chart follow."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import NotAnIncidentChannel, UsageError
from bot.incidents import Incidents
from bot.insights import Insights, parse_period
from bot.insights_model import Bucket, Figures
from bot.insights_text import alt_text, summary_lines
from bot.models import Severity
from bot.slack.failures import FAILURES, reason
from bot.slack.payloads import Command
from bot.slack.text import escape

logger = logging.getLogger(__name__)

DEFAULT_PERIOD = "90d"
WEEKLY_UP_TO = timedelta(days=120)  # longer periods are shown per month
ALT_TXT_CHARS = 1000  # files.getUploadURLExternal refuses longer alt text (alt_txt_too_large)
USAGE = "`/incident insights [30d|90d|quarter|year] [sev1 sev2 ...] [public]`"


def parse_words(words: list[str]) -> tuple[str, tuple[str, ...], bool]:
    """(period, severities, public) of what follows `/incident insights`. Raises UsageError
    naming the word it could not read."""
    period, severities, public = "", [], False
    known = {s.value for s in Severity}
    for word in (w.lower() for w in words):
        if word == "public":
            public = True
        elif word in known:
            severities.append(word)
        elif not period:
            period = word
        else:
            raise UsageError(f"“{escape(word)}” is not a period, a severity or `public`. {USAGE}")
    return period or DEFAULT_PERIOD, tuple(dict.fromkeys(severities)), public


class InsightCommands:
    def __init__(self, insights: Insights, incidents: Incidents) -> None:
        self.figures = insights
        self.incidents = incidents

    def _typed_there(self, command: Command) -> None:
        """With `public`: in an incident's channel, only someone the incident is open to
        (a request that names a private incident's channel proves nothing: README, "Who may do
        what"). Raises NotAllowed otherwise; other channels are Slack's to allow."""
        try:
            self.incidents.in_channel(
                command.team_id, command.channel_id, USAGE, user_id=command.user_id
            )
        except NotAnIncidentChannel:
            return

    def insights(self, command: Command, ack: Ack, respond: Respond, client: WebClient) -> None:
        """Ack first (the period and words checked), then figures, chart and upload."""
        period, severities, public = parse_words(command.args[1:])
        if public:
            self._typed_there(command)
        now: datetime = self.figures.clock()
        since, until = parse_period(period, now)
        where = "here" if public else "in your DM with me"
        ack(
            response_type="ephemeral",
            text=f":bar_chart: Working out the insights since {since:%Y-%m-%d}; the chart "
            f"follows {where}.",
        )
        bucket: Bucket = "week" if until - since <= WEEKLY_UP_TO else "month"
        figures = self.figures.figures(command.team_id, since, until, severities, bucket)
        text = "\n".join(summary_lines(figures))
        channel = command.channel_id
        try:
            if not public:
                channel = client.conversations_open(users=command.user_id)["channel"]["id"]
            client.files_upload_v2(
                channel=channel,
                content=chart_png(figures),
                filename=f"insights-{since:%Y%m%d}-{until:%Y%m%d}.png",
                title=f"Incidents since {since:%Y-%m-%d}",
                alt_txt=alt_text(figures)[:ALT_TXT_CHARS],
                initial_comment=text,
            )
        except FAILURES as exc:
            why = reason(exc)
            logger.warning("insights upload refused: %s", why)
            respond(
                response_type="ephemeral",
                replace_original=False,
                text=f":warning: The chart could not be posted {where} (Slack said `{why}`"
                + ("; invite me to this channel, or leave out `public`)" if public else ")")
                + f". The figures:\n{text}",
            )


def chart_png(figures: Figures) -> bytes:
    """bot/charts.py's PNG; matplotlib is imported at the first chart, not at start (it
    doubles the start-up time and adds 30 MiB to a bot that may never draw one)."""
    from bot.charts import render_chart

    return render_chart(figures)
