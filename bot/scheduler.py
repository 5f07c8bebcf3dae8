"""Firing reminders with APScheduler, rebuilt from the database; one sender per database.

Only the process holding the database lease (renewed every few seconds) schedules and sends;
another process on the same database waits until the lease expires. The reminder rows'
pending -> sending claim makes even an overlap harmless.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from bot.reminders import Reminder, Reminders
from bot.store import Store

logger = logging.getLogger(__name__)

LEASE = "reminders"

# Sends one reminder; returns reminders to (re)schedule: a retry, the next nudge.
Fire = Callable[[int], list[Reminder]]


def _dead(holder: str) -> bool:
    """A lease holder that was a process on this machine which no longer exists (a restart
    after a crash takes over at once instead of waiting for the lease to expire)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class ReminderScheduler:
    def __init__(
        self,
        store: Store,
        reminders: Reminders,
        fire: Fire,
        lease_s: float = 30.0,
        tick_s: float = 1.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.clock = clock  # the workflow's clock, which reminders' due times are read against
        self.reminders = reminders
        self.fire = fire
        self.lease_s = lease_s
        self.tick_s = tick_s
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leader = False
        self._renewed = datetime.min.replace(tzinfo=UTC)
        self.scheduler = BackgroundScheduler(timezone=UTC)
        self._firing: set[int] = set()  # a running date job is no longer in the job store
        self._due: dict[int, datetime] = {}  # each job's reminder as it was scheduled
        self._busy = 0  # ticks and fires running now
        self._busy_lock = threading.Lock()
        self._stopping = False

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)

    @property
    def busy(self) -> bool:
        """A tick or a reminder is being worked on right now (a reminder's job that has not
        started yet is not counted: its row is still pending)."""
        with self._busy_lock:
            return self._busy > 0

    def start(self) -> ReminderScheduler:
        self.scheduler.start()
        self.tick()
        self.scheduler.add_job(
            self.tick, "interval", seconds=self.tick_s, id="tick", max_instances=1, coalesce=True
        )
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop firing; let a reminder being sent finish (shutdown(wait=True) would deadlock
        APScheduler 3 against a running job that looks up jobs)."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.leader:
            self.store.drop_lease(LEASE, self.holder)
            self.leader = False

    def _take_lease(self) -> bool:
        now = datetime.now(UTC)
        return self.store.take_lease(
            LEASE,
            self.holder,
            now=now,
            until=now + timedelta(seconds=self.lease_s),
            is_dead=_dead,
        )

    def tick(self) -> None:
        """Renew the lease now and then; as the sender, give every pending reminder a job (what
        other processes planned shows up here within a tick)."""
        if self._stopping:
            return
        with self._working():
            self._tick()

    def _tick(self) -> None:
        now = datetime.now(UTC)
        leader = self.leader
        if not leader or now - self._renewed > timedelta(seconds=self.lease_s / 3):
            try:
                leader = self._take_lease()
            except Exception:  # a locked or full disk must not stop the scheduler
                logger.exception("could not renew the reminder lease")
                return
            self._renewed = now
        if leader and not self.leader:
            logger.info("this process sends the reminders (%s)", self.holder)
            self.reminders.recover()
        if not leader and self.leader:
            logger.warning("another process took over the reminders")
            for job in self.scheduler.get_jobs():
                if job.id != "tick":
                    job.remove()
        self.leader = leader
        if leader:
            for reminder in self.reminders.pending():
                if reminder.id in self._firing:
                    continue
                if (
                    self.scheduler.get_job(f"reminder-{reminder.id}") is None
                    or self._due.get(reminder.id) != reminder.due_at  # re-timed meanwhile
                ):
                    self.schedule(reminder)

    def schedule(self, reminder: Reminder) -> None:
        """A job that fires at the reminder's time (at once if that has passed). APScheduler
        runs on the machine's clock: the job fires as long from now as the reminder is due from
        the workflow's clock (the same clock, outside tests)."""
        if not (self.leader and self.scheduler.running):
            return  # the sender's next tick picks it up from the database
        self._due[reminder.id] = reminder.due_at
        wait = max(timedelta(0), reminder.due_at - self.clock())
        run_at = datetime.now(UTC) + wait
        self.scheduler.add_job(
            self._fire,
            "date",
            run_date=run_at,
            args=[reminder.id],
            id=f"reminder-{reminder.id}",
            replace_existing=True,
            misfire_grace_time=None,
            max_instances=2,  # a retry may be planned while this run finishes
        )

    def _fire(self, reminder_id: int) -> None:
        if self._stopping:
            return
        with self._working():
            self._fire_one(reminder_id)

    @contextmanager
    def _working(self) -> Iterator[None]:
        with self._busy_lock:
            self._busy += 1
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy -= 1

    def _fire_one(self, reminder_id: int) -> None:
        self._firing.add(reminder_id)
        try:
            again = self.fire(reminder_id)
        except Exception:  # one broken reminder must never stop the others
            logger.exception("reminder %s failed; it will be tried again", reminder_id)
            again = []
            try:
                self.reminders.release(reminder_id)  # the next tick schedules it again
            except Exception:
                logger.exception("reminder %s stays claimed until the next start", reminder_id)
        finally:
            self._firing.discard(reminder_id)
        for reminder in again:
            self.schedule(reminder)
