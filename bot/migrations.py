"""The database schema, created and evolved through sqlite-utils migrations (run at every start)."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("postmortem-bot")


@migrations()
def m001_incidents(db: Database) -> None:
    db.table("incidents").create(
        {
            "id": int,
            "team_id": str,
            "number": int,
            "title": str,
            "severity": str,
            "status": str,
            "private": int,
            "commander_id": str,
            "created_by": str,
            "started_at": str,
            "channel_id": str,
            "channel_name": str,
            "resolved_at": str,
            "deadline_at": str,
            "kickoff_ts": str,
            "created_at": str,
        },
        pk="id",
        not_null={"team_id", "number", "title", "severity", "status", "private", "started_at"},
    )
    db.table("incidents").create_index(["team_id", "number"], unique=True)
    db.table("incidents").create_index(["team_id", "channel_id"], unique=True)
    db.table("incidents").create_index(["team_id", "status"])

    db.table("timeline").create(
        {
            "id": int,
            "team_id": str,
            "incident_id": int,
            "at": str,
            "text": str,
            "milestone": str,
            "author_id": str,
            "source": str,
            "message_ts": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
        not_null={"team_id", "incident_id", "at", "text", "author_id", "source"},
    )
    db.table("timeline").create_index(["team_id", "incident_id", "at"])
    db.table("timeline").create_index(["team_id", "incident_id", "message_ts"], unique=True)

    db.table("owners").create(
        {"team_id": str, "incident_id": int, "user_id": str, "added_at": str},
        pk=("team_id", "incident_id", "user_id"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("members").create(
        {"team_id": str, "channel_id": str, "user_id": str, "joined_at": str},
        pk=("team_id", "channel_id", "user_id"),
    )
    db.table("events").create(
        {
            "id": int,
            "team_id": str,
            "incident_id": int,
            "at": str,
            "user_id": str,
            "kind": str,
            "detail": str,
        },
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("events").create_index(["team_id", "incident_id", "at"])
    db.table("users").create(
        {"team_id": str, "user_id": str, "name": str, "updated_at": str},
        pk=("team_id", "user_id"),
    )


@migrations()
def m002_postmortem(db: Database) -> None:
    incidents = db.table("incidents")
    incidents.add_column("checklist_ts", str)
    incidents.add_column("published_at", str)
    incidents.add_column("repo_warned", int)
    db.table("section_values").create(
        {
            "team_id": str,
            "incident_id": int,
            "section": str,
            "field": str,
            "value": str,
            "author_id": str,
            "updated_at": str,
        },
        pk=("team_id", "incident_id", "section", "field"),
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("action_items").create(
        {
            "id": int,
            "team_id": str,
            "incident_id": int,
            "number": int,
            "text": str,
            "owner_id": str,
            "due": str,
            "priority": str,
            "why": str,
            "status": str,
            "created_by": str,
            "created_at": str,
            "done_at": str,
            "dm_channel": str,
            "dm_ts": str,
        },
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
        not_null={"team_id", "incident_id", "number", "text", "priority", "status"},
    )
    db.table("action_items").create_index(["team_id", "incident_id", "number"], unique=True)
    db.table("drafts").create(
        {
            "id": int,
            "team_id": str,
            "incident_id": int,
            "version": int,
            "markdown": str,
            "created_at": str,
            "created_by": str,
            "final": int,
        },
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("drafts").create_index(["team_id", "incident_id", "version"], unique=True)
    db.table("users").add_column("real_name", str)
    db.table("speakers").create(
        {"team_id": str, "incident_id": int, "user_id": str},
        pk=("team_id", "incident_id", "user_id"),
    )


@migrations()
def m003_reminders(db: Database) -> None:
    db.table("reminders").create(
        {
            "id": int,
            "team_id": str,
            "incident_id": int,
            "kind": str,
            "key": str,
            "due_at": str,
            "status": str,
            "action_item_id": int,
            "attempts": int,
            "last_error": str,
            "sent_at": str,
        },
        pk="id",
        foreign_keys=[("incident_id", "incidents", "id")],
        not_null={"team_id", "incident_id", "kind", "key", "due_at", "status"},
    )
    db.table("reminders").create_index(["team_id", "incident_id", "key"], unique=True)
    db.table("reminders").create_index(["status", "due_at"])
    db.table("reminder_deliveries").create(
        {"reminder_id": int, "user_id": str, "channel": str, "ts": str, "sent_at": str},
        pk=("reminder_id", "user_id"),
        foreign_keys=[("reminder_id", "reminders", "id")],
    )
    db.table("leases").create(
        {"name": str, "holder": str, "expires_at": str},
        pk="name",
    )


@migrations()
def m004_stable_timeline(db: Database) -> None:
    """Entry numbers that never change (a deleted entry keeps its number, marked deleted), the
    channel messages that show each entry, and apps told apart from people."""
    timeline = db.table("timeline")
    for column, kind in (
        ("number", int),
        ("deleted_at", str),
        ("deleted_by", str),
        ("edited_at", str),
        ("edited_by", str),
        ("kept_by", str),  # who kept a channel message in the timeline (its author may be an app)
    ):
        timeline.add_column(column, kind)
    db.execute(  # in the order they were recorded (UPDATE ... FROM: SQLite 3.33 or newer)
        "UPDATE timeline SET number = n.number FROM (SELECT id, ROW_NUMBER() OVER "
        "(PARTITION BY team_id, incident_id ORDER BY id) AS number FROM timeline) AS n "
        "WHERE timeline.id = n.id"
    )
    timeline.create_index(["team_id", "incident_id", "number"], unique=True)
    # One "Incident began" and at most one "Incident closed" (only while resolved), as the
    # workflow now keeps them: what earlier versions let in twice becomes a plain event.
    db.execute(
        "UPDATE timeline SET milestone = NULL WHERE milestone = 'began' AND id NOT IN "
        "(SELECT MIN(id) FROM timeline WHERE milestone = 'began' GROUP BY incident_id)"
    )
    db.execute(
        "UPDATE timeline SET milestone = NULL WHERE milestone = 'resolved' AND incident_id IN "
        "(SELECT id FROM incidents WHERE status != 'resolved')"
    )
    db.execute(  # keep the one at the incident's resolution time (else the last recorded)
        "UPDATE timeline SET milestone = NULL WHERE milestone = 'resolved' AND id NOT IN "
        "(SELECT kept FROM (SELECT COALESCE((SELECT MAX(t.id) FROM timeline AS t "
        "WHERE t.incident_id = i.id AND t.milestone = 'resolved' AND t.at = i.resolved_at), "
        "(SELECT MAX(t.id) FROM timeline AS t WHERE t.incident_id = i.id "
        "AND t.milestone = 'resolved')) AS kept FROM incidents AS i) WHERE kept IS NOT NULL)"
    )
    db.table("echoes").create(
        {"team_id": str, "channel_id": str, "ts": str, "entry_id": int, "posted_at": str},
        pk=("channel_id", "ts", "entry_id"),
        foreign_keys=[("entry_id", "timeline", "id")],
    )
    db.table("echoes").create_index(["entry_id"])
    db.table("users").add_column("is_app", int)


@migrations()
def m005_draft_logs(db: Database) -> None:
    """Each draft keeps its incident log too: a change to the log alone is a change."""
    db.table("drafts").add_column("log", str)


@migrations()
def m006_action_sources(db: Database) -> None:
    """An action item remembers the modal it came from: a submission Slack sends twice makes
    one item."""
    db.table("action_items").add_column("source", str)
    db.table("action_items").create_index(["team_id", "source"], unique=True)


@migrations()
def m007_edit_traces(db: Database) -> None:
    """A log line keeps what was there before: an edited entry's text, the previous commander."""
    db.table("events").add_column("was", str)


@migrations()
def m008_kept_messages(db: Database) -> None:
    """How each channel message was kept (a reaction with its emoji, a pin, the shortcut) and by
    whom, so that a message kept two ways is one entry that stays while one way remains; the
    entry's permalink and thread, and whether the bot has confirmed it on the message."""
    timeline = db.table("timeline")
    for column in ("permalink", "thread_ts", "confirmed"):
        timeline.add_column(column, str)
    db.table("kept").create(
        {
            "id": int,
            "team_id": str,
            "incident_id": int,
            "entry_id": int,
            "how": str,  # reaction, pin, shortcut
            "emoji": str,  # the reaction's emoji; "" for a pin or the shortcut
            "user_id": str,
            "at": str,
            "milestone": str,  # the milestone the emoji marked, if any
        },
        pk="id",
        not_null={"team_id", "incident_id", "entry_id", "how", "emoji", "user_id", "at"},
    )
    db.table("kept").create_index(["entry_id", "how", "emoji", "user_id"], unique=True)
    db.execute(  # the messages kept before: by the shortcut
        "INSERT INTO kept (team_id, incident_id, entry_id, how, emoji, user_id, at) "
        "SELECT team_id, incident_id, id, 'shortcut', '', kept_by, COALESCE(created_at, at) "
        "FROM timeline WHERE source = 'message' AND kept_by IS NOT NULL"
    )


@migrations()
def m009_imports(db: Database) -> None:
    """`/timeline import`: each reading of a channel's history (who asked, the modal showing
    it, the page it is at, the threads still being read) and the messages it proposes, page
    by page, with what was ticked."""
    db.table("imports").create(
        {
            "id": int,
            "team_id": str,
            "incident_id": int,
            "user_id": str,
            "view_id": str,
            "status": str,  # reading, open, waiting, keeping, done, failed, replaced
            "page": int,  # the page the next submission must be (from 1)
            "pages": int,
            "first_pages": int,  # the pages shown from the start; later ones: replies read later
            "threads_left": int,  # threads whose replies are still being read (after page 1)
            "threads_unread": int,  # threads given up on: their replies are not proposed
            "unread_why": str,  # why (Slack's error, or the reading stopped)
            "rest": int,  # 1: the pre-selected of what comes later are kept (chosen "rest")
            "started_at": str,
            "finished_at": str,
            "kept": int,
        },
        pk="id",
        not_null={"team_id", "incident_id", "user_id", "status", "started_at"},
    )
    db.table("imports").create_index(["team_id", "incident_id"])
    db.table("import_proposals").create(
        {
            "import_id": int,
            "position": int,
            "page": int,
            "ts": str,
            "at": str,
            "author_id": str,
            "author_name": str,
            "text": str,
            "milestone": str,
            "preselected": int,
            "why": str,
            "in_thread": int,
            "chosen": int,
        },
        pk=("import_id", "position"),
        foreign_keys=[("import_id", "imports", "id")],
    )
    db.table("import_proposals").create_index(["import_id", "page"])
    db.table("import_proposals").create_index(["import_id", "ts"], unique=True)


@migrations()
def m010_reviews(db: Database) -> None:
    """POSTMORTEM_REVIEW=pull-request: each review of an incident's post-mortem (a reopen after
    a merge starts another round): its branch, the pull request once opened, the merge or
    the closing, whether the merge was told; and the host's comments relayed to Slack."""
    db.table("reviews").create(
        {
            "team_id": str,
            "incident_id": int,
            "round": int,
            "branch": str,
            "status": str,  # drafting, open, merged
            "number": int,  # the pull request's number (a host token), else NULL
            "url": str,  # the pull request, or the page that opens one
            "opened_by": str,
            "opened_at": str,
            "thread_ts": str,  # the channel message that announced it: comments reply there
            "merged_at": str,
            "merged_by": str,  # as git or the host names them
            "merge_commit": str,
            "announced": int,  # 1 once the merge was told in the channel
        },
        pk=("team_id", "incident_id", "round"),
        not_null={"team_id", "incident_id", "round", "branch", "status"},
    )
    db.table("reviews").create_index(["status"])
    db.table("review_comments").create(
        {"team_id": str, "incident_id": int, "round": int, "comment_id": int},
        pk=("team_id", "incident_id", "round", "comment_id"),
    )


@migrations()
def m011_milestone_index(db: Database) -> None:
    """Insights read each incident's first entry of each milestone: one seek each, on an index
    of the milestone entries alone (a plain entry costs it nothing)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS timeline_milestones ON timeline "
        "(team_id, incident_id, milestone, at) WHERE milestone IS NOT NULL AND deleted_at IS NULL"
    )


@migrations()
def m012_workspace_reminders(db: Database) -> None:
    """A workspace's own reminders (the weekly digest) have incident_id 0, which names no
    incident: the column keeps NOT NULL (the unique key needs a value) but loses its foreign
    key. sqlite-utils rebuilds the table, keeping its rows, ids and indexes."""
    db.table("reminders").transform(drop_foreign_keys=["incident_id"])


@migrations()
def m013_user_zones(db: Database) -> None:
    """Each person's Slack time zone as last seen (users.info `tz`): when their reminders come
    (their working hours) is shown without asking Slack on the command's 3 s."""
    db.table("zones").create(
        {"team_id": str, "user_id": str, "tz": str, "updated_at": str},
        pk=("team_id", "user_id"),
    )


@migrations()
def m014_section_assignments(db: Database) -> None:
    """Sections given to people (`/incident assign`, the checklist): who writes which section of
    an incident's post-mortem, who gave it to them and when (UTC). One person per section; no
    row: the post-mortem owners'."""
    db.table("section_assignments").create(
        {
            "team_id": str,
            "incident_id": int,
            "section": str,  # the key the team's template declares (bot/sections.py)
            "user_id": str,
            "assigned_by": str,
            "assigned_at": str,
        },
        pk=("team_id", "incident_id", "section"),
        foreign_keys=[("incident_id", "incidents", "id")],
        not_null={"team_id", "incident_id", "section", "user_id", "assigned_by", "assigned_at"},
    )
