"""Reviews of post-mortems as pull requests (POSTMORTEM_REVIEW=pull-request): a round per
branch, opened, merged or back to drafting; every change one conditional UPDATE, so a merge
is announced once however many watchers look. Every query scoped by team_id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.models import Incident
from bot.store.rows import Rows, add_event, from_db, to_db

DRAFTING, OPEN, MERGED = "drafting", "open", "merged"


@dataclass(frozen=True)
class Review:
    """One round of review: `branch`, `status` (drafting, open, merged), the pull
    request (`number` with a host token, `url` its page or the page that opens one), who
    opened it and when (UTC), the channel message announcing it (`thread_ts`), the merge (who,
    when, its commit) and whether it was told in the channel."""

    team_id: str
    incident_id: int
    round: int
    branch: str
    status: str
    number: int | None = None
    url: str | None = None
    opened_by: str | None = None
    opened_at: datetime | None = None
    thread_ts: str | None = None
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit: str | None = None
    announced: int | None = None


def _review(row: dict[str, Any]) -> Review:
    return Review(
        **{
            **row,
            "opened_at": from_db(row["opened_at"]),
            "merged_at": from_db(row["merged_at"]),
        }
    )


class ReviewRows(Rows):
    """The `reviews` table."""

    def review(self, incident: Incident) -> Review | None:
        """The incident's latest round of review, if it has one."""
        row = self._one(
            "SELECT * FROM reviews WHERE team_id = ? AND incident_id = ? "
            "ORDER BY round DESC LIMIT 1",
            [incident.team_id, incident.id],
        )
        return _review(row) if row else None

    def start_review(self, incident: Incident, round_: int, branch: str) -> Review:
        """Round `round_` on `branch` (a draft is about to go there); the existing row if that
        round began already."""
        with self.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO reviews (team_id, incident_id, round, branch, status) "
                "VALUES (?, ?, ?, ?, ?)",
                [incident.team_id, incident.id, round_, branch, DRAFTING],
            )
        found = self.review(incident)
        assert found is not None
        return found

    def open_review(
        self,
        review: Review,
        *,
        number: int | None,
        url: str,
        by: str,
        at: datetime,
    ) -> Review | None:
        """The pull request was opened (or its page given): the round is open. None if the
        round is no longer drafting (opened meanwhile, or merged)."""
        with self.write() as db:
            moved = db.execute(
                "UPDATE reviews SET status = ?, number = ?, url = ?, opened_by = ?, "
                "opened_at = ? WHERE team_id = ? AND incident_id = ? AND round = ? "
                "AND status = ?",
                [OPEN, number, url, by, to_db(at), *self._key(review), DRAFTING],
            ).rowcount
            if not moved:
                return None
            add_event(db, review.team_id, review.incident_id, at, by, "review", url)
        return self._round(review)

    def announced_review(self, review: Review, thread_ts: str) -> None:
        """The channel message announcing the pull request: comments are relayed under it."""
        with self.write() as db:
            db.execute(
                "UPDATE reviews SET thread_ts = ? WHERE team_id = ? AND incident_id = ? "
                "AND round = ?",
                [thread_ts, *self._key(review)],
            )

    def merge_review(
        self, review: Review, *, commit: str, by: str, at: datetime, noticed: datetime
    ) -> bool:
        """The round's branch was merged (`at`, by `by`, in `commit`): True for the one caller
        that recorded it (it announces it); False if it was recorded already."""
        with self.write() as db:
            moved = db.execute(
                "UPDATE reviews SET status = ?, merged_at = ?, merged_by = ?, merge_commit = ? "
                "WHERE team_id = ? AND incident_id = ? AND round = ? AND status != ?",
                [MERGED, to_db(at), by, commit, *self._key(review), MERGED],
            ).rowcount
            if moved:
                add_event(
                    db, review.team_id, review.incident_id, noticed, "", "merged", f"{by} {commit}"
                )
            return bool(moved)

    def close_review(self, review: Review, at: datetime) -> bool:
        """The pull request was closed without merging: the round is drafting again (True for
        the one caller that recorded it)."""
        with self.write() as db:
            moved = db.execute(
                "UPDATE reviews SET status = ?, number = NULL, url = NULL, thread_ts = NULL "
                "WHERE team_id = ? AND incident_id = ? AND round = ? AND status = ?",
                [DRAFTING, *self._key(review), OPEN],
            ).rowcount
            if moved:
                add_event(db, review.team_id, review.incident_id, at, "", "review closed", "")
            return bool(moved)

    def relayed_comments(self, review: Review) -> set[int]:
        """The host's ids of the comments relayed to Slack (GitHub numbers conversation and
        line comments apart: a set, not a high-water mark)."""
        return {
            int(row["comment_id"])
            for row in self._query(
                "SELECT comment_id FROM review_comments WHERE team_id = ? AND incident_id = ? "
                "AND round = ?",
                list(self._key(review)),
            )
        }

    def relayed_comment(self, review: Review, comment_id: int) -> None:
        with self.write() as db:
            db.execute(
                "INSERT OR IGNORE INTO review_comments (team_id, incident_id, round, comment_id) "
                "VALUES (?, ?, ?, ?)",
                [*self._key(review), comment_id],
            )

    def unannounced_merges(self) -> list[Review]:
        """Merged rounds whose merge was not told in the channel yet (a process stopped in
        between): the watcher finishes them."""
        return [
            _review(row)
            for row in self._query(
                "SELECT * FROM reviews WHERE status = ? AND announced IS NULL "
                "ORDER BY team_id, incident_id",
                [MERGED],
            )
        ]

    def claim_announcement(self, review: Review) -> bool:
        """True for the one caller that tells the merge (it says it once)."""
        with self.write() as db:
            return bool(
                db.execute(
                    "UPDATE reviews SET announced = 1 WHERE team_id = ? AND incident_id = ? "
                    "AND round = ? AND announced IS NULL",
                    list(self._key(review)),
                ).rowcount
            )

    def watched_reviews(self) -> list[Review]:
        """Every round not merged yet, in every workspace: the watcher looks for their merge."""
        return [
            _review(row)
            for row in self._query(
                "SELECT * FROM reviews WHERE status != ? ORDER BY team_id, incident_id", [MERGED]
            )
        ]

    def _round(self, review: Review) -> Review | None:
        row = self._one(
            "SELECT * FROM reviews WHERE team_id = ? AND incident_id = ? AND round = ?",
            list(self._key(review)),
        )
        return _review(row) if row else None

    @staticmethod
    def _key(review: Review) -> tuple[str, int, int]:
        return review.team_id, review.incident_id, review.round


__all__ = ["DRAFTING", "MERGED", "OPEN", "Review", "ReviewRows"]
