"""Import rows: each `/timeline import` (who asked, its modal, the page it is at) and the
messages it proposes with what was ticked; a page's submission counts once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.models import Milestone
from bot.proposals import Proposal
from bot.store.rows import Rows, from_db, insert, to_db

Then = Literal["next", "rest", "stop"]  # after a page: the next one, tick the rest, stop
LIVE = ("reading", "open", "waiting")


@dataclass(frozen=True)
class Import:
    """One import: `page` is the page its next submission must be (from 1) of `pages`;
    `status` reading -> open -> keeping -> done (or failed, or replaced by a newer import of
    the same incident); open -> waiting when every page so far is submitted while
    `threads_left` threads are still being read (their replies come as pages appended at the
    end), `rest` if the pre-selected of those are to be kept as they come. `threads_unread`
    threads were given up on (`unread_why`): their replies are not proposed."""

    id: int
    team_id: str
    incident_id: int
    user_id: str
    view_id: str | None
    status: str
    page: int
    pages: int
    started_at: datetime
    first_pages: int = 0
    threads_left: int = 0
    threads_unread: int = 0
    unread_why: str = ""
    rest: bool = False


def _import(row: dict[str, Any]) -> Import:
    started = from_db(row["started_at"])
    assert started is not None
    return Import(
        id=row["id"],
        team_id=row["team_id"],
        incident_id=row["incident_id"],
        user_id=row["user_id"],
        view_id=row["view_id"],
        status=row["status"],
        page=row["page"] or 0,
        pages=row["pages"] or 0,
        started_at=started,
        first_pages=row["first_pages"] or 0,
        threads_left=row["threads_left"] or 0,
        threads_unread=row["threads_unread"] or 0,
        unread_why=row["unread_why"] or "",
        rest=bool(row["rest"]),
    )


def _settle(db: Any, import_id: int) -> bool:
    """A waiting import once no thread is left to read, or new pages came: open at the page
    it waits for if that page exists now (unless the rest is kept as it comes), else keeping."""
    row = db.execute(
        "SELECT page, pages, threads_left, rest FROM imports WHERE id = ? AND status = 'waiting'",
        [import_id],
    ).fetchone()
    if row is None:
        return False
    page, pages, left, rest = row
    if not rest and page <= pages:
        db.execute("UPDATE imports SET status = 'open' WHERE id = ?", [import_id])
    elif not left:
        db.execute("UPDATE imports SET status = 'keeping' WHERE id = ?", [import_id])
    else:
        return False
    return True


def _rows(
    import_id: int, first_position: int, first_page: int, pages: Sequence[Sequence[Proposal]]
) -> list[tuple[Any, ...]]:
    return [
        (
            *(import_id, position, number, p.ts, to_db(p.at), p.author_id),
            *(p.author_name, p.text, p.milestone.value if p.milestone else None),
            *(int(p.preselected), p.why, int(p.in_thread)),
        )
        for position, (number, p) in enumerate(
            ((number, p) for number, page in enumerate(pages, first_page) for p in page),
            first_position,
        )
    ]


INSERT = (
    "INSERT INTO import_proposals (import_id, position, page, ts, at, author_id, "
    "author_name, text, milestone, preselected, why, in_thread) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _proposal(row: dict[str, Any]) -> Proposal:
    at = from_db(row["at"])
    assert at is not None
    return Proposal(
        ts=row["ts"],
        at=at,
        author_id=row["author_id"],
        author_name=row["author_name"],
        text=row["text"],
        milestone=Milestone(row["milestone"]) if row["milestone"] else None,
        preselected=bool(row["preselected"]),
        why=row["why"] or "",
        in_thread=bool(row["in_thread"]),
    )


class ImportRows(Rows):
    """The `imports` and `import_proposals` tables; every query scoped by team_id."""

    def start_import(self, team_id: str, incident_id: int, user_id: str, at: datetime) -> int:
        """A new import of the incident's channel, by `user_id`; the incident's earlier ones
        still reading or open are replaced (their forms' submissions are then stale)."""
        with self.write() as db:
            db.execute(
                "UPDATE imports SET status = 'replaced' WHERE team_id = ? AND incident_id = ? "
                f"AND status IN {LIVE}",
                [team_id, incident_id],
            )
            return insert(
                db,
                "imports",
                {
                    "team_id": team_id,
                    "incident_id": incident_id,
                    "user_id": user_id,
                    "status": "reading",
                    "page": 0,
                    "pages": 0,
                    "started_at": to_db(at),
                    "kept": 0,
                },
            )

    def import_view(self, team_id: str, import_id: int, view_id: str) -> None:
        """The modal that shows the import."""
        with self.write() as db:
            db.execute(
                "UPDATE imports SET view_id = ? WHERE team_id = ? AND id = ?",
                [view_id, team_id, import_id],
            )

    def in_timeline(self, team_id: str, incident_id: int, channel_id: str) -> set[str]:
        """The ts of the channel's messages the timeline has already: messages kept (and not
        deleted) and the bot's echoes of entries."""
        rows = self._query(
            "SELECT message_ts AS ts FROM timeline WHERE team_id = ? AND incident_id = ? "
            "AND message_ts IS NOT NULL AND deleted_at IS NULL "
            "UNION SELECT ts FROM echoes WHERE team_id = ? AND channel_id = ?",
            [team_id, incident_id, team_id, channel_id],
        )
        return {r["ts"] for r in rows}

    def get_import(self, team_id: str, import_id: int) -> Import | None:
        row = self._one("SELECT * FROM imports WHERE team_id = ? AND id = ?", [team_id, import_id])
        return _import(row) if row else None

    def save_proposals(
        self,
        team_id: str,
        import_id: int,
        pages: Sequence[Sequence[Proposal]],
        threads_left: int = 0,
        unread: tuple[int, str] = (0, ""),
    ) -> bool:
        """The proposals, page by page (`pages[0]` is page 1), with `threads_left` threads
        still to be read and `unread` (threads given up on, why); the import is then open at
        page 1. False (nothing saved) if it is no longer reading (replaced meanwhile)."""
        with self.write() as db:
            moved = db.execute(
                "UPDATE imports SET status = 'open', page = 1, pages = ?, first_pages = ?, "
                "threads_left = ?, "
                "threads_unread = ?, unread_why = ? "
                "WHERE team_id = ? AND id = ? AND status = 'reading'",
                [len(pages), len(pages), threads_left, *unread, team_id, import_id],
            ).rowcount
            if not moved:
                return False
            db.conn.executemany(INSERT, _rows(import_id, 0, 1, pages))
            return True

    def append_proposals(
        self,
        team_id: str,
        import_id: int,
        pages: Sequence[Sequence[Proposal]],
        threads_left: int,
        unread: tuple[int, str] = (0, ""),
    ) -> tuple[Import, bool] | None:
        """Replies read after page 1 showed: `pages` appended after the last page (pages
        already shown never change), `threads_left` still to read, `unread` (threads given up
        on, why) added. A waiting import opens at its next page when there is one (or keeps
        the pre-selected, with `rest`), or is keeping once nothing is left. None (nothing
        saved) when the import is over (kept, stopped, replaced); else the import as it is
        now, and whether it stopped waiting."""
        pages = [page for page in pages if page]
        with self.write() as db:
            row = db.execute(
                "SELECT pages, rest, (SELECT COALESCE(MAX(position), -1) + 1 FROM "
                "import_proposals WHERE import_id = imports.id) FROM imports "
                "WHERE team_id = ? AND id = ? AND status IN ('open', 'waiting')",
                [team_id, import_id],
            ).fetchone()
            if row is None:
                return None
            last, rest, position = row
            db.conn.executemany(INSERT, _rows(import_id, position, last + 1, pages))
            if rest:
                db.execute(
                    "UPDATE import_proposals SET chosen = preselected "
                    "WHERE import_id = ? AND page > ?",
                    [import_id, last],
                )
            unread_count, why = unread
            db.execute(
                "UPDATE imports SET pages = ?, threads_left = ?, "
                "threads_unread = threads_unread + ?, "
                "unread_why = CASE WHEN ? > 0 THEN ? ELSE unread_why END WHERE id = ?",
                [last + len(pages), threads_left, unread_count, unread_count, why, import_id],
            )
            moved = _settle(db, import_id)
        state = self.get_import(team_id, import_id)
        return (state, moved) if state else None

    def lose_threads(self, team_id: str, import_id: int, why: str) -> tuple[Import, bool] | None:
        """The threads still to be read will not be (the reading stopped: `why`); a waiting
        import moves on (as in append_proposals). The import as it is now, and whether it
        stopped waiting; None if it is gone."""
        with self.write() as db:
            db.execute(
                "UPDATE imports SET threads_unread = threads_unread + threads_left, "
                "threads_left = 0, unread_why = ? WHERE team_id = ? AND id = ? "
                "AND threads_left > 0",
                [why, team_id, import_id],
            )
            moved = _settle(db, import_id)
        state = self.get_import(team_id, import_id)
        return (state, moved) if state else None

    def proposed(self, import_id: int) -> tuple[set[str], set[Milestone]]:
        """The ts of the messages the import proposes, and the milestones it suggests."""
        rows = list(
            self._query(
                "SELECT ts, milestone FROM import_proposals WHERE import_id = ?", [import_id]
            )
        )
        return {r["ts"] for r in rows}, {Milestone(r["milestone"]) for r in rows if r["milestone"]}

    def proposals_on(self, import_id: int, page: int) -> list[tuple[int, Proposal]]:
        """(position, proposal) of one page, oldest first."""
        rows = self._query(
            "SELECT * FROM import_proposals WHERE import_id = ? AND page = ? ORDER BY position",
            [import_id, page],
        )
        return [(r["position"], _proposal(r)) for r in rows]

    def proposal_counts(self, import_id: int, after_page: int) -> tuple[int, int]:
        """(proposals, of them ticked in advance) on the pages after `after_page`."""
        row = self._one(
            "SELECT COUNT(*) AS n, COALESCE(SUM(preselected), 0) AS pre FROM import_proposals "
            "WHERE import_id = ? AND page > ?",
            [import_id, after_page],
        )
        return (row["n"], row["pre"]) if row else (0, 0)

    def submit_page(
        self, team_id: str, import_id: int, page: int, ticked: set[int], then: Then
    ) -> Import | None:
        """Page `page` submitted with the proposals at positions `ticked`: they are chosen,
        the page's others not; `then` "rest" chooses the pre-selected ones of the later pages
        (and of the replies still being read, as they come), "stop" none of them. The last
        page while threads are still being read finishes nothing: the import waits for their
        replies (status waiting, at the page after the last). Returns the import as it is
        now, or None when this submission is stale (the import is not open at that page:
        already submitted, replaced, finished), and then nothing changed."""
        with self.write() as db:
            current = db.execute(
                "SELECT pages, threads_left FROM imports WHERE team_id = ? AND id = ? "
                "AND status = 'open' AND page = ?",
                [team_id, import_id, page],
            ).fetchone()
            if current is None:
                return None
            pages, left = current
            last = then == "stop" or ((then == "rest" or page >= pages) and not left)
            waits = not last and (then == "rest" or page >= pages)
            status = "keeping" if last else "waiting" if waits else "open"
            db.execute(
                "UPDATE imports SET page = ?, status = ?, rest = ? WHERE id = ?",
                [pages + 1 if waits else page + 1, status, int(then == "rest"), import_id],
            )
            marks = ",".join("?" for _ in ticked) or "NULL"
            db.execute(
                f"UPDATE import_proposals SET chosen = COALESCE(position IN ({marks}), 0) "
                "WHERE import_id = ? AND page = ?",
                [*sorted(ticked), import_id, page],
            )
            if then == "rest":
                db.execute(
                    "UPDATE import_proposals SET chosen = preselected "
                    "WHERE import_id = ? AND page > ?",
                    [import_id, page],
                )
        return self.get_import(team_id, import_id)

    def start_keeping(self, team_id: str, import_id: int) -> bool:
        """Claim a keeping import's keeping (once: True for the one caller that moved it)."""
        with self.write() as db:
            return bool(
                db.execute(
                    "UPDATE imports SET status = 'saving' WHERE team_id = ? AND id = ? "
                    "AND status = 'keeping'",
                    [team_id, import_id],
                ).rowcount
            )

    def revise_proposals(self, team_id: str, incident_id: int, ts: str, text: str | None) -> None:
        """The message `ts` was edited in Slack (`text`: its words now) or deleted (None): the
        incident's unfinished imports propose it as it is now; a deleted one is never kept.
        Most edits are of messages no import proposes: those write nothing."""
        where = (
            "WHERE ts = ? AND import_id IN (SELECT id FROM imports WHERE team_id = ? AND "
            "incident_id = ? AND status IN ('reading', 'open', 'waiting', 'saving', 'keeping'))"
        )
        params = [ts, team_id, incident_id]
        if self._one(f"SELECT 1 AS found FROM import_proposals {where} LIMIT 1", params) is None:
            return
        with self.write() as db:
            db.execute(
                "UPDATE import_proposals SET text = COALESCE(?, ''), "
                f"chosen = CASE WHEN ? IS NULL THEN 0 ELSE chosen END {where}",
                [text, text, *params],
            )

    def chosen(self, import_id: int) -> list[Proposal]:
        """The proposals chosen, oldest first (not those whose message was deleted since)."""
        rows = self._query(
            "SELECT * FROM import_proposals WHERE import_id = ? AND chosen = 1 AND text != '' "
            "ORDER BY position",
            [import_id],
        )
        return [_proposal(r) for r in rows]

    def end_import(
        self, team_id: str, import_id: int, status: str, at: datetime, kept: int = 0
    ) -> None:
        """The import is done (`kept` entries), or failed."""
        with self.write() as db:
            db.execute(
                "UPDATE imports SET status = ?, finished_at = ?, kept = ? "
                "WHERE team_id = ? AND id = ?",
                [status, to_db(at), kept, team_id, import_id],
            )
