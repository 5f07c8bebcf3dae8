"""The SQLite store: WAL, migrations, atomic hotfix numbers, team scoping, aware UTC times."""

import dataclasses
import multiprocessing
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.models import Milestone, Severity
from bot.store import Store, to_db

T0 = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)


def _start(store, team="T1", user="U1", title="db down", at=T0):
    return store.create_incident(
        team_id=team,
        title=title,
        severity=Severity.SEV2,
        private=False,
        user_id=user,
        started_at=at,
    )


def test_wal_busy_timeout_and_migrations_are_idempotent(tmp_path):
    path = tmp_path / "nested" / "dir" / "incidents.db"
    store = Store(path)
    assert store.db.journal_mode == "wal"
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 2000  # under Slack's 3 s
    store.close()
    again = Store(path)  # second start: migrations already applied, nothing breaks
    applied = list(again.db.query("SELECT name FROM _sqlite_migrations"))
    assert [r["name"] for r in applied] == [
        "m001_incidents",
        "m002_postmortem",
        "m003_reminders",
        "m004_stable_timeline",
        "m005_draft_logs",
        "m006_action_sources",
        "m007_edit_traces",
        "m008_kept_messages",
        "m009_imports",
        "m010_reviews",
        "m011_milestone_index",
        "m012_workspace_reminders",
        "m013_user_zones",
        "m014_section_assignments",
    ]
    again.close()


def test_upgrading_keeps_the_reminders_and_their_deliveries_and_takes_workspace_rows(tmp_path):
    """m012 rebuilds `reminders` without the foreign key on incident_id (the digest's is 0)."""
    import sqlite3

    from sqlite_utils import Database

    from bot.migrations import migrations

    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m012_workspace_reminders")
    db.table("incidents").insert(
        {
            "id": 1,
            "team_id": "T1",
            "number": 1,
            "title": "x",
            "severity": "sev3",
            "status": "open",
            "private": 0,
            "started_at": "2026",
        }
    )
    row = {
        "team_id": "T1",
        "incident_id": 1,
        "kind": "before",
        "key": "k",
        "due_at": "2026-11-30T09:00:00+00:00",
        "status": "sent",
        "attempts": 1,
    }
    db.table("reminders").insert({"id": 7, **row})
    db.table("reminder_deliveries").insert({"reminder_id": 7, "user_id": "U1", "ts": "1.0"})
    db.conn.commit()
    db.conn.close()
    store = Store(path)
    assert store.reminder(7).key == "k" and store.reminder_deliveries(7) == {"U1": "1.0"}
    store.db.table("reminders").insert({**row, "incident_id": 0, "key": "digest@x"})
    with pytest.raises(sqlite3.IntegrityError):  # the unique key holds after the rebuild
        store.db.table("reminders").insert({**row, "incident_id": 0, "key": "digest@x"})
    assert store.db.execute("PRAGMA foreign_key_check").fetchall() == []
    store.close()


def test_a_section_is_given_to_one_person_at_a_time_and_taken_back(tmp_path):
    """m014: one row per section; giving it again replaces whose it is, nobody removes it; an
    upgraded database (up to m013) gets the table."""
    import sqlite3

    from sqlite_utils import Database

    from bot.migrations import migrations

    path = tmp_path / "old.db"
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m014_section_assignments")
    db.conn.close()
    store = Store(path)
    incident = _start(store, "T1")
    other = dataclasses.replace(incident, team_id="T2")  # the same id, another workspace
    later = T0 + timedelta(minutes=5)
    assert store.assign_section(incident, "root_cause", "U2", by="U1", at=T0) is None
    assert store.assign_section(incident, "root_cause", "U2", by="U9", at=later) == "U2"
    assert store.assign_section(incident, "summary", "U3", by="U1", at=later) is None
    (first, second) = store.assignments(incident).values()
    assert (first.section, first.user_id, first.assigned_by) == ("root_cause", "U2", "U1")
    assert first.assigned_at == T0, "the same person again changes nothing"
    assert first.assigned_at.tzinfo is not None and second.section == "summary"
    assert store.assign_section(incident, "root_cause", "U4", by="U2", at=later) == "U2"
    assert store.assignments(incident)["root_cause"].user_id == "U4"
    assert store.assign_section(incident, "root_cause", None, by="U2", at=later) == "U4"
    assert list(store.assignments(incident)) == ["summary"]
    assert store.assignments(other) == {}, "scoped by team"
    with pytest.raises(sqlite3.IntegrityError):
        store.db.table("section_assignments").insert(
            {"team_id": "T1", "incident_id": incident.id, "section": "impact"}
        )
    store.close()


def last_release(path):
    """A database as the release before stable entry numbers left it (migrations to m003)."""
    import sqlite3

    from sqlite_utils import Database

    from bot.migrations import migrations

    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before="m004_stable_timeline")
    return db


def test_upgrading_numbers_the_entries_of_each_incident_in_the_order_they_were_recorded(
    tmp_path,
):
    path = tmp_path / "old.db"
    db = last_release(path)
    for incident_id in (1, 2):
        db.table("incidents").insert(
            {
                "id": incident_id,
                "team_id": "T1",
                "number": incident_id,
                "title": "x",
                "severity": "sev3",
                "status": "open",
                "private": 0,
                "started_at": "2026",
            }
        )
    rows = [(1, "10:00"), (2, "09:00"), (1, "08:00"), (1, "11:00"), (2, "12:00")]
    for incident_id, at in rows:  # recorded in this order; times out of order
        db.table("timeline").insert(
            {
                "team_id": "T1",
                "incident_id": incident_id,
                "at": f"2026-11-26T{at}",
                "text": at,
                "author_id": "U1",
                "source": "command",
            }
        )
    db.conn.commit()
    db.conn.close()
    store = Store(path)
    numbered = {
        (r["incident_id"], r["text"]): r["number"] for r in store.db.query("SELECT * FROM timeline")
    }
    assert numbered == {
        (1, "10:00"): 1,
        (1, "08:00"): 2,
        (1, "11:00"): 3,
        (2, "09:00"): 1,
        (2, "12:00"): 2,
    }
    store.close()


def test_hotfix_numbers_count_per_workspace(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    assert [_start(store, "T1").hotfix_id for _ in range(3)] == [
        "hotfix-001",
        "hotfix-002",
        "hotfix-003",
    ]
    assert _start(store, "T2").hotfix_id == "hotfix-001"


def test_more_digits_after_999(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.db.execute(
        "INSERT INTO incidents (team_id, number, title, severity, status, private, started_at) "
        "VALUES ('T1', 999, 'x', 'sev3', 'open', 0, ?)",
        [to_db(T0)],
    )
    store.db.conn.commit()
    assert _start(store).hotfix_id == "hotfix-1000"


def test_concurrent_starts_in_threads_get_distinct_numbers(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    results = []
    barrier = threading.Barrier(8)

    def start():
        barrier.wait()
        for _ in range(5):
            results.append(_start(store).number)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(1, 41))


def _start_in_process(path, count):
    store = Store(path)
    for _ in range(count):
        _start(store)
    store.close()


def test_concurrent_starts_in_processes_get_distinct_numbers(tmp_path):
    path = tmp_path / "db.sqlite"
    Store(path).close()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_start_in_process, args=(path, 10)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    numbers = [r[0] for r in sqlite3.connect(path).execute("SELECT number FROM incidents")]
    assert sorted(numbers) == list(range(1, 41))


def test_every_query_is_scoped_by_team(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    mine = _start(store, "T1")
    store.update_incident("T1", mine.id, at=T0, user_id="U1", channel_id="C1")
    assert store.incident_by_channel("T2", "C1") is None
    assert store.incident("T2", mine.id) is None
    assert store.entries("T2", mine.id) == []
    assert store.open_incidents("T2") == []
    with pytest.raises(LookupError):
        store.update_incident("T2", mine.id, at=T0, user_id="U9", title="hijacked")
    assert store.incident("T1", mine.id).title == "db down"


def test_times_come_back_timezone_aware_in_utc(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    paris = timezone(timedelta(hours=1))
    incident = _start(store, at=datetime(2026, 11, 26, 15, 0, tzinfo=paris))
    assert incident.started_at == T0
    assert incident.started_at.utcoffset() == timedelta(0)
    (began,) = store.entries("T1", incident.id)
    assert began.milestone is Milestone.BEGAN and began.at == T0
    raw = store.db.execute("SELECT started_at FROM incidents").fetchone()[0]
    assert raw.endswith("+00:00")
    with pytest.raises(ValueError):
        to_db(datetime(2026, 1, 1))


def test_a_failed_write_leaves_nothing_half_written(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    incident = _start(store)
    with pytest.raises(sqlite3.IntegrityError), store.write() as db:
        db.execute("UPDATE incidents SET title = 'changed' WHERE id = ?", [incident.id])
        db.execute("INSERT INTO timeline (team_id) VALUES ('T1')")  # violates NOT NULL
    assert store.incident("T1", incident.id).title == "db down"


def _fill(store, incident, n=150):
    for k in range(n):
        store.add_entry(
            incident,
            at=T0,
            text=f"{k} " + "x" * 2000,
            author_id="U1",
            milestone=None,
            source="command",
        )


def test_commits_never_checkpoint_the_write_ahead_log(tmp_path):
    """A commit that copied the log into the database file would keep every write queued
    behind it waiting: only the background checkpointer does (here: never)."""
    path = tmp_path / "db.sqlite"
    store = Store(path, checkpoint_every_s=3600)
    incident = _start(store)
    before = path.stat().st_size
    _fill(store, incident, 600)  # ~600 pages: past SQLite's own mark of 1,000 log frames
    assert path.stat().st_size == before, "a commit checkpointed the log"
    assert (tmp_path / "db.sqlite-wal").stat().st_size > 1000 * 4096
    store.close()


def test_the_background_checkpointer_moves_the_log_into_the_database(tmp_path):
    from tests.conftest import wait_for

    path = tmp_path / "db.sqlite"
    store = Store(path, checkpoint_every_s=0.05)
    incident = _start(store)
    before = path.stat().st_size
    _fill(store, incident)
    wait_for(lambda: path.stat().st_size > before + 100 * 4096, what="a checkpoint")
    store.close()
    assert len(Store(path).entries("T1", incident.id)) == 151  # the "began" entry too


def test_upgrading_keeps_one_beginning_and_at_most_one_resolution(tmp_path):
    """Earlier versions let `began:` in from a kept message and `resolved:` in while open."""
    path = tmp_path / "old.db"
    db = last_release(path)
    for incident_id, status, resolved in ((1, "open", None), (2, "resolved", "2026-11-26T11")):
        db.table("incidents").insert(
            {
                "id": incident_id,
                "team_id": "T1",
                "number": incident_id,
                "title": "x",
                "severity": "sev3",
                "status": status,
                "private": 0,
                "started_at": "2026-11-26T09",
                "resolved_at": resolved,
            }
        )
    rows = [
        (1, "2026-11-26T09", "began"),
        (1, "2026-11-26T10", "began"),  # a kept message that said "began: ..."
        (1, "2026-11-26T10", "resolved"),  # typed while it was open
        (2, "2026-11-26T09", "began"),
        (2, "2026-11-26T11", "resolved"),  # /incident resolve
        (2, "2026-11-26T12", "resolved"),  # then `resolved:` typed: a second one
    ]
    for incident_id, at, milestone in rows:
        db.table("timeline").insert(
            {
                "team_id": "T1",
                "incident_id": incident_id,
                "at": at,
                "text": milestone,
                "milestone": milestone,
                "author_id": "U1",
                "source": "command",
            }
        )
    db.conn.commit()
    db.conn.close()
    store = Store(path)
    kept = [
        (r["incident_id"], r["at"], r["milestone"])
        for r in store.db.query("SELECT * FROM timeline ORDER BY id")
    ]
    assert kept == [
        (1, "2026-11-26T09", "began"),
        (1, "2026-11-26T10", None),
        (1, "2026-11-26T10", None),
        (2, "2026-11-26T09", "began"),
        (2, "2026-11-26T11", "resolved"),
        (2, "2026-11-26T12", None),
    ]
    store.close()


def test_an_unopened_start_is_undone_with_every_row_that_refers_to_it(tmp_path):
    from bot.store import INCIDENT_TABLES

    store = Store(tmp_path / "x.db")
    with_incident = {t for t in store.db.table_names() if "incident_id" in store.db[t].columns_dict}
    assert set(INCIDENT_TABLES) == with_incident, "a new table must be listed for the undo"
    at = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    first = store.create_incident(
        team_id="T1", title="a", severity=Severity.SEV2, private=False, user_id="U1", started_at=at
    )
    assert store.discard_unopened("T1", first.id)
    again = store.create_incident(
        team_id="T1", title="b", severity=Severity.SEV2, private=False, user_id="U1", started_at=at
    )
    assert again.number == 1, "the number of an undone start is free again"
    store.attach_channel(again, "C1", "inc-001-b", at)
    assert not store.discard_unopened("T1", again.id), "an incident with its channel stays"
    orphan = store.create_incident(
        team_id="T1", title="c", severity=Severity.SEV2, private=False, user_id="U1", started_at=at
    )
    later = store.create_incident(
        team_id="T1",
        title="d",
        severity=Severity.SEV2,
        private=False,
        user_id="U1",
        started_at=at + timedelta(minutes=11),
    )
    titles = [r["title"] for r in store.db.query("SELECT title FROM incidents")]
    assert orphan.title not in titles, "a start left without its channel is cleared"
    assert later.number == 2
    store.close()
