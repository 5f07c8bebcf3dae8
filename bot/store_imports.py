"""Import rows: each `/timeline import` (who asked, its modal, the page it is at) and the
messages it proposes with what was ticked; a page's submission counts once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.models import Milestone
from bot.proposals import Proposal
from bot.rows import Rows, from_db, insert, to_db

Then = Literal["next", "rest", "stop"]  # after a page: the next one, tick the rest, stop
LIVE = ("reading", "open")


@dataclass(frozen=True)
class Import:
    """One import: `page` is the page its next submission must be (from 1) of `pages`;
    `status` reading -> open -> keeping -> done (or failed, or replaced by a newer import of
    the same incident)."""

    id: int
    team_id: str
    incident_id: int
    user_id: str
    view_id: str | None
    status: str
    page: int
    pages: int
    started_at: datetime


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
        self, team_id: str, import_id: int, pages: Sequence[Sequence[Proposal]]
    ) -> bool:
        """The proposals, page by page (`pages[0]` is page 1); the import is then open at page
        1. False (nothing saved) if it is no longer reading (replaced meanwhile)."""
        with self.write() as db:
            moved = db.execute(
                "UPDATE imports SET status = 'open', page = 1, pages = ? "
                "WHERE team_id = ? AND id = ? AND status = 'reading'",
                [len(pages), team_id, import_id],
            ).rowcount
            if not moved:
                return False
            rows = [
                (
                    *(import_id, position, number, p.ts, to_db(p.at), p.author_id),
                    *(p.author_name, p.text, p.milestone.value if p.milestone else None),
                    *(int(p.preselected), p.why, int(p.in_thread)),
                )
                for position, (number, p) in enumerate(
                    (number, p) for number, page in enumerate(pages, 1) for p in page
                )
            ]
            db.conn.executemany(
                "INSERT INTO import_proposals (import_id, position, page, ts, at, author_id, "
                "author_name, text, milestone, preselected, why, in_thread) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            return True

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
        the page's others not; `then` "rest" chooses the pre-selected ones of the later pages,
        "stop" none of them. Returns the import as it is now, or None when this submission is
        stale (the import is not open at that page: already submitted, replaced, finished),
        and then nothing changed."""
        with self.write() as db:
            current = db.execute(
                "SELECT pages FROM imports WHERE team_id = ? AND id = ? AND status = 'open' "
                "AND page = ?",
                [team_id, import_id, page],
            ).fetchone()
            if current is None:
                return None
            last = then != "next" or page >= current[0]
            db.execute(
                "UPDATE imports SET page = ?, status = ? WHERE id = ?",
                [page + 1, "keeping" if last else "open", import_id],
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

    def chosen(self, import_id: int) -> list[Proposal]:
        """The proposals chosen, oldest first."""
        rows = self._query(
            "SELECT * FROM import_proposals WHERE import_id = ? AND chosen = 1 ORDER BY position",
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
