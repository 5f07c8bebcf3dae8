"""An incident's course after it opened: resolving (with its "Incident closed" entry), reopening,
moving the resolution, publishing, and the notes that its draft is not in the repository yet."""

from __future__ import annotations

from datetime import datetime

from bot.errors import Conflict
from bot.models import Incident, Milestone, Status
from bot.store.incidents import IncidentRows, _incident
from bot.store.rows import add_event, to_db
from bot.store.timeline import TimelineRows, insert_entry


class ResolutionRows(IncidentRows, TimelineRows):
    """Status changes of `incidents` that touch the timeline or the drafts in one transaction."""

    def mark_repo_warned(self, incident: Incident) -> bool:
        """Note that the channel was told its draft is not in the repository yet; False if it
        already was (`repo_warned`: 1 the channel was told, 2 the commander too)."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET repo_warned = 1 WHERE team_id = ? AND id = ? "
                "AND COALESCE(repo_warned, 0) = 0",
                [incident.team_id, incident.id],
            )
        return cur.rowcount == 1

    def repo_refusal_to_tell(self) -> list[Incident]:
        """Incidents whose channel was told of an unpushed draft and whose commander was not
        told yet that the repository keeps refusing it; marked told as they are returned."""
        with self.write() as db:
            rows = list(db.query("SELECT * FROM incidents WHERE repo_warned = 1"))
            db.execute("UPDATE incidents SET repo_warned = 2 WHERE repo_warned = 1")
        return [_incident(r) for r in rows]

    def take_repo_warnings(self) -> list[Incident]:
        """The incidents whose channel was told its draft was not in the repository (now it
        is); their notes are cleared."""
        with self.write() as db:
            rows = list(db.query("SELECT * FROM incidents WHERE repo_warned >= 1"))
            db.execute("UPDATE incidents SET repo_warned = 0 WHERE repo_warned >= 1")
        return [_incident(r) for r in rows]

    def resolve_incident(
        self,
        incident: Incident,
        *,
        at: datetime,
        deadline_at: datetime,
        user_id: str,
        when: datetime,
    ) -> Incident:
        """Resolved at `at` (UTC), the post-mortem due at `deadline_at`: the status, the one
        "Incident closed" entry and the log line in one transaction. Conflict if it was
        resolved meanwhile (two people resolving at once record one resolution)."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET status = ?, resolved_at = ?, deadline_at = ? "
                "WHERE team_id = ? AND id = ? AND status = ?",
                [
                    Status.RESOLVED.value,
                    to_db(at),
                    to_db(deadline_at),
                    incident.team_id,
                    incident.id,
                    Status.OPEN.value,
                ],
            )
            if cur.rowcount != 1:
                raise Conflict(
                    f"{incident.hotfix_id} was resolved a moment ago; `/incident "
                    "status` shows when."
                )
            insert_entry(
                db,
                team_id=incident.team_id,
                incident_id=incident.id,
                at=at,
                text="Resolution confirmed",
                author_id=user_id,
                milestone=Milestone.RESOLVED,
                source="system",
            )
            add_event(db, incident.team_id, incident.id, when, user_id, "resolved", at.isoformat())
            fresh = self._fresh(incident)  # as committed: not what came after
        return fresh

    def reopen_incident(self, incident: Incident, *, at: datetime, user_id: str) -> Incident:
        """Open again, in one transaction: no resolution, deadline or publication. "Incident
        closed" stays in the timeline as a plain event (it did happen), no longer a milestone;
        the next resolve records a new one. Conflict if it is open already."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET status = ?, resolved_at = NULL, deadline_at = NULL, "
                "published_at = NULL WHERE team_id = ? AND id = ? AND status = ?",
                [Status.OPEN.value, incident.team_id, incident.id, Status.RESOLVED.value],
            )
            if cur.rowcount != 1:
                raise Conflict(f"{incident.hotfix_id} is open already.")
            db.execute(
                "UPDATE timeline SET milestone = NULL, text = ? || text "
                "WHERE team_id = ? AND incident_id = ? AND milestone = ?",
                [
                    f"Declared resolved (reopened {at:%Y-%m-%d %H:%M} UTC): ",
                    incident.team_id,
                    incident.id,
                    Milestone.RESOLVED.value,
                ],
            )
            add_event(db, incident.team_id, incident.id, at, user_id, "reopened", "")
            fresh = self._fresh(incident)  # as committed: not what came after
        return fresh

    def move_resolution(
        self,
        incident: Incident,
        entry_id: int,
        *,
        at: datetime,
        text: str,
        deadline_at: datetime,
        by: str,
        when: datetime,
    ) -> Incident:
        """Move "Incident closed" (entry and incident together): resolved at `at`, the
        post-mortem due at `deadline_at`. Conflict if the incident was reopened meanwhile."""
        with self.write() as db:
            cur = db.execute(
                "UPDATE incidents SET resolved_at = ?, deadline_at = ? "
                "WHERE team_id = ? AND id = ? AND status = ? AND EXISTS (SELECT 1 FROM timeline "
                "WHERE id = ? AND milestone = ? AND deleted_at IS NULL)",
                [
                    to_db(at),
                    to_db(deadline_at),
                    incident.team_id,
                    incident.id,
                    Status.RESOLVED.value,
                    entry_id,
                    Milestone.RESOLVED.value,
                ],
            )
            if cur.rowcount != 1:
                raise Conflict(
                    f"{incident.hotfix_id} was reopened a moment ago, so there is no resolution "
                    "to move; nothing changed."
                )
            was = self._update(
                db, incident.team_id, entry_id, at=at, text=text, milestone=Milestone.RESOLVED
            )
            self._edited(db, incident.team_id, entry_id, by, when, "entry-edited", was)
            add_event(db, incident.team_id, incident.id, when, by, "resolved", at.isoformat())
            fresh = self._fresh(incident)  # as committed: not what came after
        return fresh

    def publish_incident(
        self, incident: Incident, *, at: datetime, user_id: str, final: str | None = None
    ) -> Incident | None:
        """The post-mortem is final as of `at`, in one transaction. Conflict if the incident is
        not resolved (a reopen came first) or was published since it was read (a second click, a
        second person). `final` (the post-mortem and its log, as they would be published now):
        when it is
        published already and its last final version says just that, nothing is written and
        the answer is None."""
        with self.write() as db:
            row = self._one(
                "SELECT status, published_at FROM incidents WHERE team_id = ? AND id = ?",
                [incident.team_id, incident.id],
            )
            if row is None or row["status"] != Status.RESOLVED.value:
                raise Conflict(
                    f"{incident.hotfix_id} was reopened a moment ago; resolve it again before "
                    "publishing its post-mortem."
                )
            read = to_db(incident.published_at) if incident.published_at else None
            if row["published_at"] != read:
                raise Conflict(
                    f"The {incident.hotfix_id} post-mortem was published a moment ago; "
                    "nothing more was done."
                )
            if final is not None and read is not None:
                last = self._one(
                    "SELECT markdown || COALESCE(log, '') AS both FROM drafts WHERE team_id = ? "
                    "AND incident_id = ? AND final = 1 ORDER BY version DESC LIMIT 1",
                    [incident.team_id, incident.id],
                )
                if last is not None and last["both"] == final:
                    return None
            db.execute(
                "UPDATE incidents SET published_at = ? WHERE team_id = ? AND id = ?",
                [to_db(at), incident.team_id, incident.id],
            )
            add_event(db, incident.team_id, incident.id, at, user_id, "published", "")
            fresh = self._fresh(incident)
        return fresh
