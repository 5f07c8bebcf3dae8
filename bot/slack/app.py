"""The Bolt app: one factory that assembles it, one route table, one error handler."""

from __future__ import annotations

import json
import logging
import random
import re
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse, Respond
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot import logs
from bot.assignments import Assignments
from bot.config import Config
from bot.digest import Digests
from bot.drafts import Drafts, check_templates
from bot.entries import Timeline
from bot.errors import BotError, NotAllowed
from bot.hosts import host_for, where
from bot.incidents import Clock, Incidents, utcnow
from bot.insights import Insights
from bot.models import Incident, Milestone
from bot.postmortem import DEFAULT_TEMPLATES
from bot.private import redact
from bot.publish import Repo
from bot.publisher import Publisher
from bot.reminders import Reminders, Settings
from bot.retro import Retro
from bot.reviews import Reviews
from bot.sections import TemplateError, load_sections
from bot.slack import blocks, recovery
from bot.slack.assign_blocks import ASSIGN_PERSON, ASSIGN_SECTION
from bot.slack.assign_commands import AssignCommands
from bot.slack.channels import Channels
from bot.slack.digest_sender import DigestSender
from bot.slack.drafting import Drafting
from bot.slack.echoes import Echoes
from bot.slack.escalation_sender import EscalationSender
from bot.slack.executor import acks_at_once, answered_in_ack, keep_acks
from bot.slack.failures import FAILURES, Told, reason
from bot.slack.following import Following
from bot.slack.import_blocks import IMPORT_MODAL
from bot.slack.import_commands import TimelineImport, is_import, is_not_import
from bot.slack.incident_commands import IncidentCommands
from bot.slack.insight_commands import InsightCommands
from bot.slack.keeping import Keeping
from bot.slack.members import Members
from bot.slack.pacing import Pacer
from bot.slack.payloads import error_text, team_of
from bot.slack.reminder_blocks import SNOOZES, ReminderIds
from bot.slack.reminder_commands import ReminderCommands
from bot.slack.reminder_sender import ReminderSender
from bot.slack.retro_blocks import Ids
from bot.slack.retro_commands import RetroCommands
from bot.slack.reviewing import RefreshHome, Reviewing
from bot.slack.snoozing import Snoozing
from bot.slack.text import decode, escape
from bot.slack.timeline_commands import TimelineCommands
from bot.slack.zones import Zones
from bot.store import Store, StoreUnavailable

logger = logging.getLogger(__name__)

# Every listener, in one place; tests compare it with manifest.yml.
COMMANDS = ("/incident", "/timeline")
SHORTCUTS = ("add_to_timeline",)
EVENTS = (
    "member_joined_channel",
    "member_left_channel",
    "app_home_opened",
    "reaction_added",
    "reaction_removed",
    "pin_added",
    "pin_removed",
    "message",
)
# The checklist's two menus that give a section to someone: one listener
ASSIGN_MENUS = re.compile(f"^({ASSIGN_SECTION}|{ASSIGN_PERSON})$")
# Events API names of the `message` listener's subscriptions (manifest bot_events)
MESSAGE_EVENTS = ("message.channels", "message.groups")

FIELD_ERROR = 1000  # characters: more than a field's error shows well
SORRY = (
    ":warning: Something went wrong on our side and the command did not complete. "
    "Nothing was recorded; please try again in a moment."
)


def create_client(config: Config) -> WebClient:
    """A Web API client for `SLACK_API_URL`, retrying rate limits, 5xx and connection errors."""
    return WebClient(
        token=config.bot_token,
        base_url=config.api_url,
        timeout=config.api_timeout,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def handle_error(
    error: Exception,
    response: BoltResponse | None,
    body: dict[str, Any],
    respond: Respond | None,
    client: WebClient,
) -> None:
    """Log the traceback; answer the person with a short apology, never a 500 or a trace.

    Before the ack the apology is the answer. After it (`response` is None: Slack has its
    answer and the rest of the work failed) the person hears what did not happen through the
    request's response URL, or by DM where there is none (a modal's submission)."""
    if isinstance(error, BotError):
        logger.warning("after the ack: %s", error)
    else:
        logger.error("unhandled error in a listener", exc_info=error)
    if response is not None:
        response.status = 200
        response.body = json.dumps(answer_before_ack(error, body))
        response.headers["content-type"] = ["application/json;charset=utf-8"]
        return
    text = after_ack_text(error, body)
    try:
        if respond is not None and respond.response_url:
            respond(response_type="ephemeral", replace_original=False, text=text)
        elif user := body.get("user_id") or (body.get("user") or {}).get("id"):
            client.chat_postMessage(channel=user, text=text)
    except FAILURES as exc:
        logger.warning("the failure could not be told: %s", reason(exc))


def answer_before_ack(error: Exception, body: dict[str, Any]) -> dict[str, Any]:
    """The answer to a request whose listener failed before its ack. A form's submission can
    only be answered with errors on its fields (Slack shows nothing else in a modal): the form
    stays open, with what went wrong under its first field."""
    text = error_text(error) if isinstance(error, BotError) else SORRY
    view = body.get("view") or {}
    if body.get("type") == "view_submission":
        inputs = [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"]
        if inputs:
            return {"response_action": "errors", "errors": {inputs[0]: text[:FIELD_ERROR]}}
    return {"response_type": "ephemeral", "text": text}


def after_ack_text(error: Exception, body: dict[str, Any]) -> str:
    """What a person reads when the work after their answer failed."""
    if command := body.get("command"):
        what = f"`{escape(command)} {escape(decode(body.get('text') or ''))}`".replace(" `", "`")
    else:
        what = "what you just did"
    if isinstance(error, Told | NotAllowed):  # a refusal: nothing was done, and it says why
        return str(error)
    if isinstance(error, StoreUnavailable):
        why = "the incident database stayed busy (another process held it)"
    elif isinstance(error, BotError):
        why = error_text(error)
    else:
        why = f"something went wrong on our side ({type(error).__name__}, in the bot's log)"
    return (
        f":warning: {what} was answered, but not all of it happened: {why}. What the answer "
        "said is recorded; the rest follows with the next change (`/incident status` shows "
        "where things stand, `/incident draft` posts the draft)."
    )


class LogRequest(Middleware):
    """One line per request from Slack, with an id that every line of its work carries; and the
    request's ack made one that stays made (executor.KeptAck), before any listener runs.

    (A Middleware class rather than a function: Bolt calls it as it is, where a function costs a
    round of argument matching on every request.)
    """

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        log_request(req.body)
        keep_acks(req)
        return next()


def log_request(body: dict[str, Any]) -> None:
    logs.request_id.set(f"{random.getrandbits(48):012x}")  # no system call, unlike uuid4
    logs.incident.set(None)
    kind = body.get("command") or body.get("type") or "request"
    detail = (
        (body.get("actions") or [{}])[0].get("action_id")
        or body.get("callback_id")
        or (body.get("view") or {}).get("callback_id")
        or (body.get("event") or {}).get("type")
        or ""
    )
    team = team_of(body)
    user = body.get("user_id") or (body.get("user") or {}).get("id", "")
    logger.info("slack %s %s team=%s user=%s", kind, detail, team, user)


def register(
    app: App,
    incidents: Incidents,
    channels: Channels,
    retro: RetroCommands,
    reminders: ReminderCommands,
    timeline: TimelineCommands,
    keeping: Keeping,
    following: Following,
) -> None:
    incident = IncidentCommands(
        incidents, channels, retro, retro.reminders, timeline.zones, timeline.echoes
    )

    insights = InsightCommands(reminders.insights, incidents)
    incident.subcommands["insights"] = insights.insights
    assigning = AssignCommands(incidents, Assignments(retro.retro), retro.drafting, retro.reminders)
    incident.subcommands["assign"] = assigning.assign
    app.command("/incident")(acks_at_once(incident.handle_incident))
    importer = TimelineImport(incidents, timeline.timeline, timeline.drafting)
    app.command("/timeline", matchers=[is_import])(acks_at_once(importer.handle_import))
    app.command("/timeline", matchers=[is_not_import], middleware=[answered_in_ack])(
        acks_at_once(timeline.handle_timeline)
    )
    app.shortcut("add_to_timeline")(acks_at_once(timeline.handle_add_to_timeline))
    app.view(IMPORT_MODAL)(acks_at_once(importer.handle_submission))
    app.action(Ids.WRITE_SECTION)(acks_at_once(retro.handle_write_button))
    app.action(Ids.ADD_ACTION)(acks_at_once(retro.handle_add_action_button))
    app.action(Ids.POST_DRAFT)(acks_at_once(retro.handle_draft_button))
    app.action(Ids.ACTION_DONE)(acks_at_once(retro.handle_action_done))
    app.action(ASSIGN_MENUS)(acks_at_once(assigning.handle_choice))
    app.action(Ids.PUBLISH_ANYWAY)(acks_at_once(retro.publishing.handle_publish_anyway))
    app.action(Ids.KEEP_WRITING)(acks_at_once(retro.publishing.handle_keep_writing))
    if retro.reviewing is not None:
        app.action(Ids.READY_FOR_REVIEW)(acks_at_once(retro.reviewing.handle_ready_button))
    app.view(Ids.SECTION_MODAL)(acks_at_once(retro.handle_section_submission))
    app.view(Ids.ACTION_MODAL)(acks_at_once(retro.handle_action_submission))
    app.action(ReminderIds.WRITE_NEXT)(acks_at_once(reminders.handle_write_next))
    app.action(ReminderIds.LATEST_DRAFT)(acks_at_once(reminders.handle_latest_draft))
    snoozing = Snoozing(incidents, retro.retro, retro.reminders)
    for snooze in SNOOZES:
        app.action(snooze)(acks_at_once(snoozing.handle_snooze))
    app.event("app_home_opened")(acks_at_once(reminders.handle_home_opened))

    def handle_membership(event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id = team_of(body)
        if incidents.store.incident_by_channel(team_id, event["channel"]):
            incidents.note_member(
                team_id, event["channel"], event["user"], event["type"] == "member_joined_channel"
            )

    app.event("member_joined_channel")(acks_at_once(handle_membership))
    app.event("member_left_channel")(acks_at_once(handle_membership))
    app.event("reaction_added")(acks_at_once(keeping.handle_reaction_added))
    app.event("reaction_removed")(acks_at_once(keeping.handle_reaction_removed))
    app.event("pin_added")(acks_at_once(keeping.handle_pin_added))
    app.event("pin_removed")(acks_at_once(keeping.handle_pin_removed))
    app.event("message")(acks_at_once(following.handle_message))
    app.use(LogRequest())
    app.error(handle_error)


class _QuietTokenWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN itself and warns that the client's token wins: it is the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_QUIET_TOKEN_WARNING = _QuietTokenWarning()


def repo_for(config: Config) -> Repo:
    """The working copy: a clone of POSTMORTEM_REPO, or a local repository in the data folder."""
    folder = "repo" if config.repo else "postmortems"
    return Repo(config.data_dir / folder, config.repo, config.branch, config.git_author)


def repo_location(config: Config) -> str:
    """Where the post-mortems go, for people: the repository (its URL's credentials hidden,
    bot/private.py `redact`) and the branch, as code: `https://***@host/pm.git` (branch `main`)."""
    where = redact(config.repo) if config.repo else config.data_dir / "postmortems"
    return f"`{where}` (branch `{config.branch}`)"


def review_mode(
    config: Config,
    incidents: Incidents,
    drafting: Drafting,
    reminders: Reminders,
    publisher: Publisher,
    refresh_home: RefreshHome,
) -> Reviewing:
    """POSTMORTEM_REVIEW=pull-request: drafts go to a branch per incident, `/incident publish`
    opens its pull request, the publisher's thread watches for merges."""
    assert config.repo
    reviews = Reviews(incidents, dict(config.reviewer_accounts))
    drafting.branch_for = reviews.branch_for
    drafting.drafts.review = True
    drafting.reviewing = True
    host = host_for(config.repo, dict(config.hosting))
    return Reviewing(
        reviews, drafting, reminders, publisher, host, where(config.repo), refresh_home
    )


def reminder_settings(config: Config) -> Settings:
    return Settings(
        config.reminders_before,
        config.nudge_every,
        config.action_reminder_before,
        config.digest_at,
        config.hours,
        escalate_after=config.escalate_after,
    )


def templates_of(config: Config) -> Path:
    """The team's templates (TEMPLATES_DIR), or the bundled ones."""
    return config.templates_dir or DEFAULT_TEMPLATES


def create_reminder_sender(
    config: Config, store: Store, client: WebClient, clock: Clock = utcnow
) -> ReminderSender:
    """What the scheduler calls to send a due reminder."""
    retro = Retro(store, clock, load_sections(templates_of(config)))
    drafts = Drafts(Incidents(store, clock, config.deadline), retro, templates_of(config), clock)
    sender = ReminderSender(
        store,
        retro,
        Reminders(store, reminder_settings(config), clock),
        client,
        clock,
        lambda incident: open_points(drafts, incident),
    )
    if config.reviewing:
        sender.publishes = "puts it up for review: a pull request, and merging it publishes"
    if config.digest_channel:
        digests = Digests(store, sender.reminders, clock)
        sender.digest = DigestSender(
            digests, sender.reminders, client, config.digest_channel, clock, sender.pacer
        )
    if config.escalate_after is not None and config.escalate_to is not None:
        sender.escalation = EscalationSender(
            store,
            sender.reminders,
            config.escalate_to,
            sender.post,
            sender.gone,
            sender.open_points,
            clock,
        )
    return sender


def open_points(drafts: Drafts, incident: Incident) -> list[str]:
    """The draft's open points for a reminder DM; a template that fails to render is one."""
    try:
        return drafts.render(incident)[2]
    except TemplateError as error:
        return [f"The post-mortem template cannot be rendered: {error}"]


def replan_reminders(config: Config, store: Store, clock: Clock = utcnow) -> int:
    """At start: the reminders the current settings ask for (see Reminders.replan_all), and
    each workspace's next weekly digest (or none, DIGEST_CHANNEL unset: see Digests.plan)."""
    reminders = Reminders(store, reminder_settings(config), clock)
    retro = Retro(store, clock, load_sections(templates_of(config)))
    planned = reminders.replan_all(retro, config.deadline)
    return planned + Digests(store, reminders, clock).plan_all()


def create_app(
    config: Config,
    store: Store,
    publisher: Publisher,
    *,
    client: WebClient | None = None,
    clock: Clock = utcnow,
    listener_executor: Executor | None = None,
    pacer: Pacer | None = None,
    echoes: Echoes | None = None,
    recover: bool = False,
) -> App:
    """Assemble the Bolt app from its collaborators; no I/O beyond Bolt's token check.

    `pacer` (one per process: it knows when each channel last got a message) and `echoes`
    (the timeline's channel messages, sent by threads of their own) are made here unless
    given; give them to wait for or stop their work (tests, shutdown). `recover` (the real
    process) finishes or undoes, on a thread of its own, what a process before this one left
    half-done (bot/slack/recovery.py)."""
    # the sections people are asked for come from the team's template: checked first, at start
    sections = check_templates(templates_of(config))
    bolt_logger = logging.getLogger("bot.bolt")
    bolt_logger.addFilter(_QUIET_TOKEN_WARNING)
    app = App(
        signing_secret=config.signing_secret or "",
        client=client or create_client(config),
        request_verification_enabled=not config.socket_mode,
        logger=bolt_logger,
        listener_executor=listener_executor,
    )
    incidents = Incidents(store, clock, config.deadline, Members(app.client).confirm)
    retro = Retro(store, clock, sections)
    drafts = Drafts(incidents, retro, templates_of(config), clock)
    pacer = pacer or Pacer()
    echoes = echoes or Echoes(store, pacer, clock)
    repo = f"`{redact(config.repo)}`" if config.repo else ""
    drafting = Drafting(drafts, retro, publisher, repo_location(config), pacer, repo)
    echoes.bot_name = drafting.audience.bot_name
    publisher.on_pushed = lambda: drafting.pushed(app.client)
    publisher.on_refused = lambda refused, times: drafting.refused(app.client, refused, times)
    reminders = Reminders(store, reminder_settings(config), clock)
    channels = Channels(
        incidents,
        config.channel_prefix,
        config.announce_channel,
        pacer,
        blocks.keeping_hint(config.timeline_reactions, config.milestone_reactions),
    )
    timeline = Timeline(store, clock, config.deadline)
    emoji: dict[str, Milestone | None] = dict.fromkeys(config.timeline_reactions)
    keeping = Keeping(
        incidents, timeline, {**emoji, **dict(config.milestone_reactions)}, drafting.audience
    )
    retro_commands = RetroCommands(incidents, retro, drafting, reminders)
    reminder_commands = ReminderCommands(
        incidents, retro, drafts, Insights(store, incidents.clock), reminders
    )
    if config.reviewing:
        retro_commands.reviewing = review_mode(
            config, incidents, drafting, reminders, publisher, reminder_commands.publish_home
        )
        publisher.watch = lambda: retro_commands.reviewing.watch(app.client)  # type: ignore[union-attr]
    register(
        app,
        incidents,
        channels,
        retro_commands,
        reminder_commands,
        TimelineCommands(
            incidents, timeline, Zones(config.timeline_zone), echoes, reminders, drafting
        ),
        keeping,
        Following(incidents, timeline, echoes, keeping),
    )
    if recover:
        threading.Thread(
            target=recovery.recover,
            args=(app.client, incidents, channels, drafting, echoes, clock()),
            name="recovery",
            daemon=True,
        ).start()
    return app
