"""The channel messages that show timeline entries (echoes): posted after the ack, at Slack's
pace, several entries to a message when they arrive together; changed in place when an entry
is edited or deleted, so the channel never shows a retracted entry as it was."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.errors import BotError
from bot.models import Entry, Incident, Milestone
from bot.slack import timeline_blocks
from bot.slack.audience import BOT_NAME
from bot.slack.failures import FAILURES, reason
from bot.slack.pacing import Pacer
from bot.store import Store

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
UPDATE_EVERY_S = 1.2  # Slack's Tier 3 (chat.update): 50+ a minute per workspace
PER_MESSAGE = 20  # entries in one message: 2 blocks each, Slack allows 50
RECORD_ATTEMPTS = 3
LOOKUPS_AFTER_TIMEOUT = 3  # looks for a message Slack may have posted without answering
LOOKUP_PAUSE_S = 2.0


@dataclass
class _Job:
    client: WebClient | None  # None for `call` work, which brings its own
    incident: Incident
    entry_ids: list[int]
    update: bool  # bring the messages that show these entries up to date (else: post them)
    respond: list[Respond] = field(default_factory=list)
    call: Callable[[], None] | None = None  # other work on the channel, in its turn


class Echoes:
    """One worker thread per channel with work, so a slow channel never holds up another;
    each message's content is read from the database when it is sent, never from the queue."""

    def __init__(self, store: Store, pacer: Pacer, clock: Clock) -> None:
        self.store = store
        self.pacer = pacer
        self.updates = Pacer(UPDATE_EVERY_S)  # chat.update: Tier 3, about 50 a minute
        self.clock = clock
        self._queues: dict[str, deque[_Job]] = {}
        self._lock = threading.Condition()
        self._working = 0
        # the bot's handle for `/invite @...`; the app gives Audience.bot_name (auth.test)
        self.bot_name: Callable[[WebClient], str] = lambda client: BOT_NAME

    # --- what the listeners call (after their ack; nothing here waits on Slack) -------------

    def post(
        self, client: WebClient, incident: Incident, entry: Entry, respond: Respond | None
    ) -> None:
        """Show a new entry in the incident channel."""
        job = _Job(client, incident, [entry.id], False, [respond] if respond else [])
        self._enqueue(incident, job)

    def refresh(
        self, client: WebClient, incident: Incident, entry: Entry, respond: Respond | None
    ) -> None:
        """Show an edited or deleted entry as it is now, in the message that shows it (if the
        bot posted one: "Incident began" and "Incident closed" have none of their own). Queued
        behind the entry's own post, if that is still on its way."""
        job = _Job(client, incident, [entry.id], True, [respond] if respond else [])
        self._enqueue(incident, job)

    def recheck(
        self,
        client: WebClient,
        incident: Incident,
        began_before: datetime,
        resolved_before: datetime | None,
    ) -> None:
        """The incident's beginning or resolution moved (or went, on reopening): the entries
        whose warning ("before the incident began", "after it was resolved") changes with it
        are shown anew, so no message tells people to correct a time that is right."""
        entries = self.store.entries(incident.team_id, incident.id)
        began = next((e.at for e in entries if e.milestone is Milestone.BEGAN), incident.started_at)
        for entry in entries:
            was = timeline_blocks.warning(entry, began_before, resolved_before)
            if was != timeline_blocks.warning(entry, began, incident.resolved_at):
                self.refresh(client, incident, entry, None)

    def show(
        self, client: WebClient, incident: Incident, entry: Entry, respond: Respond | None
    ) -> None:
        """Post the entry's message, or bring its existing one up to date (kept again)."""
        if self.store.echo_of(incident.team_id, entry.id) is None:
            self.post(client, incident, entry, respond)
        else:
            self.refresh(client, incident, entry, respond)

    def later(self, incident: Incident, work: Callable[[], None]) -> None:
        """Run other Web API work on the incident's channel in its worker's turn (for a
        listener that answers in its ack and must not wait on Slack before returning)."""
        self._enqueue(incident, _Job(None, incident, [], False, call=work))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued message is sent; False if that took longer than `timeout`."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queues or self._working:
                if not self._lock.wait(max(0.0, deadline - time.monotonic())):
                    return False
        return True

    # --- the workers ------------------------------------------------------------------------

    def _enqueue(self, incident: Incident, job: _Job) -> None:
        channel = incident.channel_id
        if not channel:
            return
        with self._lock:
            queue = self._queues.get(channel)
            if queue is None:
                queue = self._queues[channel] = deque()
                self._working += 1
                threading.Thread(
                    target=self._work, args=(channel,), name=f"echoes-{channel}", daemon=True
                ).start()
            queue.append(job)

    def _next(self, channel: str) -> _Job | None:
        """The next job, merged with the ones like it behind it (posts up to PER_MESSAGE
        entries; updates); None when the channel has no more work."""
        with self._lock:
            queue = self._queues[channel]
            if not queue:
                del self._queues[channel]
                self._working -= 1
                self._lock.notify_all()
                return None
            job = queue.popleft()
            while queue and job.call is None:
                nxt = queue[0]
                if (
                    nxt.call is not None
                    or nxt.update != job.update
                    or (not job.update and len(job.entry_ids) + len(nxt.entry_ids) > PER_MESSAGE)
                ):
                    break
                job.entry_ids += nxt.entry_ids
                job.respond += nxt.respond
                queue.popleft()
            return job

    def _work(self, channel: str) -> None:
        while (job := self._next(channel)) is not None:
            try:
                if job.call is not None:
                    job.call()
                elif job.client is not None:
                    (self._update if job.update else self._post)(channel, job, job.client)
            except Exception:  # one bad message must not stop the channel's others
                logger.exception("timeline echo in %s failed", channel)

    def _shown_as(
        self, job: _Job, entries: list[Entry]
    ) -> tuple[datetime, datetime | None, datetime, dict[str, str]]:
        """What an echo of `entries` depends on besides them: when the incident began and was
        resolved, now, and the names of the apps among their authors."""
        incident = self.store.incident(job.incident.team_id, job.incident.id) or job.incident
        began = next(
            (
                e.at
                for e in self.store.entries(incident.team_id, incident.id)
                if e.milestone is Milestone.BEGAN
            ),
            incident.started_at,
        )
        apps = {
            e.author_id: self.store.real_name(incident.team_id, e.author_id) or "an app"
            for e in entries
            if self.store.is_app(incident.team_id, e.author_id)
        }
        return began, incident.resolved_at, self.clock(), apps

    def _message(self, job: _Job, entries: list[Entry]) -> dict[str, Any]:
        began, resolved_at, now, apps = self._shown_as(job, entries)
        return {
            "text": timeline_blocks.echo_text(entries, apps),
            "blocks": timeline_blocks.build_echo(entries, began, resolved_at, now, apps),
        }

    def _post(self, channel: str, job: _Job, client: WebClient) -> None:
        team = job.incident.team_id
        entries = [self.store.entry(team, i) for i in job.entry_ids]
        entries = [  # deleted before anyone saw it: nothing to show
            e for e in entries if e.deleted_at is None and self.store.echo_of(team, e.id) is None
        ]
        if not entries:
            return
        # as many messages as Slack's limits need (long entries that came together)
        groups = timeline_blocks.echo_groups(entries, *self._shown_as(job, entries))
        for n, group in enumerate(groups):
            if why := self._post_group(channel, job, client, group):
                self._tell(job, [e for rest in groups[n:] for e in rest], why)
                return

    def _post_group(
        self, channel: str, job: _Job, client: WebClient, entries: list[Entry]
    ) -> str | None:
        """Post one message showing `entries` and record it; why not, if Slack refused it."""
        team = job.incident.team_id
        try:
            response = self.pacer.post(client, channel=channel, **self._message(job, entries))
            ts = str(response["ts"])
        except FAILURES as exc:
            # no answer in time: the message may be there all the same (then it must be known,
            # or a deletion could never take its text out of the channel)
            found = (
                self._find_posted(client, channel, entries) if reason(exc) == "timeout" else None
            )
            if found is None:
                return reason(exc)
            ts = found
        for attempt in range(RECORD_ATTEMPTS):
            try:
                self.store.record_echo(team, channel, ts, [e.id for e in entries], self.clock())
                return None
            except BotError as exc:  # the database is busy: the message is out, keep trying
                logger.warning("echo %s not recorded (%s), attempt %d", ts, exc, attempt + 1)
                time.sleep(1.0)
        return None

    def _find_posted(self, client: WebClient, channel: str, entries: list[Entry]) -> str | None:
        """The ts of the bot's message showing these entries among the channel's latest
        (conversations.history), if Slack posted it after all."""
        wanted = f"{timeline_blocks.ECHO_BLOCK}_{entries[0].number}"
        for attempt in range(LOOKUPS_AFTER_TIMEOUT):
            time.sleep(LOOKUP_PAUSE_S * attempt)  # Slack may still be posting it
            try:
                history = client.conversations_history(channel=channel, limit=50)
            except FAILURES as exc:
                logger.warning("conversations.history after a timeout: %s", reason(exc))
                continue
            messages: list[dict[str, Any]] = history.get("messages", [])
            for message in messages:
                if any(b.get("block_id") == wanted for b in message.get("blocks") or []):
                    return str(message["ts"])
        return None

    def _update(self, channel: str, job: _Job, client: WebClient) -> None:
        team = job.incident.team_id
        messages = {echo for i in job.entry_ids if (echo := self.store.echo_of(team, i))}
        for echo_channel, ts in sorted(messages):
            entries = self.store.echoed_entries(team, echo_channel, ts)
            self.updates.wait("chat.update")
            try:
                client.chat_update(channel=echo_channel, ts=ts, **self._message(job, entries))
            except FAILURES as exc:
                logger.warning("timeline echo %s not updated: %s", ts, reason(exc))
                _say(
                    job.respond,
                    f":warning: The change is recorded, but Slack did not let me change the "
                    f"entry's message in the channel ({reason(exc)}).",
                )

    def _tell(self, job: _Job, entries: list[Entry], why: str) -> None:
        """The entries are recorded; the people who added them hear why the channel did not."""
        logger.warning("timeline echo in %s not posted: %s", job.incident.hotfix_id, why)
        numbers = ", ".join(e.label for e in entries)
        name = self.bot_name(job.client) if job.client else BOT_NAME
        hint = {
            "not_in_channel": f" Invite me back with `/invite @{name}`.",
            "channel_not_found": f" Invite me back with `/invite @{name}`.",
            "is_archived": " The channel is archived; the entries stay in the post-mortem.",
        }.get(why, "")
        _say(
            job.respond,
            f":warning: Recorded in the timeline ({numbers}), but Slack did not let me show it "
            f"in the channel ({why}).{hint}",
        )


def _say(responders: list[Respond], text: str) -> None:
    """An ephemeral to each person, through their command's response_url (which works even
    where the bot is not in the channel)."""
    for respond in responders:
        try:
            respond(response_type="ephemeral", replace_original=False, text=text)
        except Exception as exc:  # an expired response_url: the log is all that is left
            logger.warning("could not tell the person (%s): %s", text[:60], exc)
