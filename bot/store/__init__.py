"""Storage: one SQLite file (WAL) through sqlite-utils; every query is scoped by Slack team_id.

`Store` is the one object the rest of the bot holds; it combines a mixin per noun (a module
each in this package) over `Rows` (connection.py: a connection per thread, the write
transaction). A new table: a migration in bot/migrations.py and a module here."""

from __future__ import annotations

from pathlib import Path

from bot.group_commit import GroupCommit
from bot.models import Incident
from bot.store.actions import ActionRows
from bot.store.assignments import AssignmentRows
from bot.store.connection import (
    AFTER_ACK_WAIT_S,
    BUSY,
    CHECKPOINT_EVERY_S,
    FULL,
    WRITE_WAIT_S,
    Rows,
    StoreUnavailable,
    after_ack,
    answering,
)
from bot.store.drafts import DraftRows
from bot.store.imports import ImportRows
from bot.store.incidents import INCIDENT_TABLES, IncidentRows
from bot.store.insights import InsightRows
from bot.store.kept import KeptRows
from bot.store.leases import LeaseRows
from bot.store.people import PeopleRows
from bot.store.reminders import ReminderRows
from bot.store.resolution import ResolutionRows
from bot.store.reviews import ReviewRows
from bot.store.rows import add_event, from_db, insert, to_db
from bot.store.sections import SectionRows
from bot.store.timeline import TimelineRows

__all__ = [
    "BUSY",
    "FULL",
    "INCIDENT_TABLES",
    "Rows",
    "Store",
    "StoreUnavailable",
    "add_event",
    "after_ack",
    "answering",
    "from_db",
    "insert",
    "to_db",
]


class Store(
    ResolutionRows,
    IncidentRows,
    TimelineRows,
    PeopleRows,
    SectionRows,
    AssignmentRows,
    ActionRows,
    DraftRows,
    ReminderRows,
    LeaseRows,
    KeptRows,
    ImportRows,
    ReviewRows,
    InsightRows,
):
    """The bot's SQLite database, every noun's rows on one object. Safe to share between
    threads: each gets its own connection; timeline entries are written by one thread for all
    (bot/group_commit.py)."""

    def __init__(
        self,
        path: Path | str,
        checkpoint_every_s: float = CHECKPOINT_EVERY_S,
        after_ack_wait_s: float = AFTER_ACK_WAIT_S,
    ) -> None:
        super().__init__(path, checkpoint_every_s, after_ack_wait_s)
        self._known = {}
        self._zones = {}
        self._by_channel: dict[tuple[str, str], Incident] = {}
        self._entries = GroupCommit(
            lambda: self.write(WRITE_WAIT_S), lambda: StoreUnavailable(BUSY), WRITE_WAIT_S
        )
        self._open()

    def close(self) -> None:
        self._entries.close()
        super().close()
