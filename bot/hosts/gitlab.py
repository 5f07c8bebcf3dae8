"""Merge requests on GitLab (gitlab.com or self-managed), through python-gitlab. Each method
names the REST endpoint it calls (docs.gitlab.com/api); every failure is a HostError."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import gitlab
import requests
from gitlab.exceptions import GitlabError
from gitlab.v4.objects import ProjectMergeRequest

from bot.hosts.model import Comment, HostError, PullRequest, after
from bot.hosts.refusals import Voice, branch_hints, refusal, unreachable
from bot.hosts.urls import HostRepo

logger = logging.getLogger(__name__)

TIMEOUT_S = 15
# Each call: a rate limit is not slept through (the caller hears retry_after and decides);
# 5xx and dropped connections are retried a few times with python-gitlab's backoff.
CALL: dict[str, Any] = {"obey_rate_limit": False, "max_retries": 3}
STATES = {"opened": "open", "merged": "merged", "closed": "closed", "locked": "open"}


class GitLabHost:
    """The merge requests of `repo` on the GitLab at `url` (`https://HOST` by default)."""

    def __init__(self, repo: HostRepo, token: str, *, url: str | None = None) -> None:
        self.repo = repo
        self.url = (url or repo.web_url.removesuffix("/" + repo.path)).rstrip("/")
        self._voice = Voice(
            "GitLab", "GITLAB_TOKEN", "the `api` scope (role Developer or more)", repo.path
        )
        self._seen = threading.local()  # the last answer's headers, for Retry-After
        session = requests.Session()
        session.hooks["response"].append(self._saw)
        self._gl = gitlab.Gitlab(
            self.url,
            private_token=token,
            timeout=TIMEOUT_S,
            retry_transient_errors=True,
            session=session,
            per_page=100,
        )
        self._project = self._gl.projects.get(repo.path, lazy=True)

    def _saw(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._seen.headers = dict(response.headers)

    @contextmanager
    def _calling(self, what: str, hints: dict[str, str] | None = None) -> Iterator[None]:
        self._seen.headers = {}
        try:
            yield
        except GitlabError as exc:
            message = exc.error_message
            if isinstance(message, list):
                message = "; ".join(str(m) for m in message)
            status = exc.response_code or 0
            raise refusal(
                self._voice, status, str(message), what, getattr(self._seen, "headers", {}), hints
            ) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise unreachable(self._voice, what, f"{type(exc).__name__} at {self.url}") from exc

    def open_pull_request(
        self, head: str, base: str, title: str, body: str, reviewers: list[str]
    ) -> PullRequest:
        """Open a merge request from `head` into `base` (`POST /projects/:id/merge_requests`,
        docs.gitlab.com/api/merge_requests#create-mr); if one is open from `head` already
        (GitLab answers 409 "Another open merge request already exists for this source
        branch: !N") it is found (`GET /projects/:id/merge_requests?source_branch=HEAD&state=
        opened`) and returned, `existed=True`. Reviewers are set after: each username's id
        from `GET /users?username=NAME` (docs.gitlab.com/api/users#list-users), then `PUT
        /projects/:id/merge_requests/:iid` with `reviewer_ids` (docs.gitlab.com/api/
        merge_requests#update-mr). GitLab leaves out a reviewer who cannot see the project
        without refusing; those, and unknown usernames, are in `refused_reviewers`. If
        setting reviewers fails otherwise (a rate limit), the merge request is returned with
        every reviewer in `refused_reviewers` and the error in `review_error`."""
        what = f"opening a merge request from `{head}` into `{base}`"
        existed = False
        with self._calling(
            what,
            branch_hints(
                head, base, "GitLab", ("Source branch", "Target branch", "same project/branch")
            ),
        ):
            try:
                mr = self._project.mergerequests.create(
                    {
                        "source_branch": head,
                        "target_branch": base,
                        "title": title,
                        "description": body,
                    },
                    **CALL,
                )
            except GitlabError as exc:
                if exc.response_code != 409:
                    raise
                mr = self._existing(head, base, exc)
                existed = True
        try:
            refused = self._request_reviews(mr, reviewers) if reviewers else ()
        except HostError as exc:  # the merge request is open: it is returned all the same
            logger.warning("No reviews requested on !%s: %s", mr.iid, exc)
            return _pull(mr, existed=existed, refused=tuple(reviewers), review_error=exc)
        return _pull(mr, existed=existed, refused=refused)

    def _existing(self, head: str, base: str, exc: GitlabError) -> ProjectMergeRequest:
        found = self._project.mergerequests.list(
            source_branch=head, target_branch=base, state="opened", get_all=True, **CALL
        )
        if not found:
            raise exc
        return self._project.mergerequests.get(found[0].iid, **CALL)

    def _request_reviews(self, mr: ProjectMergeRequest, reviewers: list[str]) -> tuple[str, ...]:
        with self._calling(f"asking for reviews on merge request !{mr.iid}"):
            ids: dict[str, int] = {}
            for name in reviewers:
                users = self._gl.users.list(username=name, get_all=False, **CALL)
                if users:
                    ids[name] = int(users[0].id)
            kept = [r["id"] for r in mr.reviewers or [] if isinstance(r, dict)]
            wanted = kept + [i for i in ids.values() if i not in kept]
            answer = self._project.mergerequests.update(mr.iid, {"reviewer_ids": wanted}, **CALL)
        now = {str(r.get("username")) for r in answer.get("reviewers") or []}
        return tuple(name for name in reviewers if name not in now)

    def repository(self) -> str:
        """The project's page, if this token may see it (`GET /projects/:id`,
        docs.gitlab.com/api/projects/#get-a-single-project). Raises HostError."""
        with self._calling(f"reading {self.repo.path}"):
            return str(self._gl.projects.get(self.repo.path, **CALL).web_url)

    def pull_request(self, number: int) -> PullRequest:
        """Merge request !`number` as it is now (`GET /projects/:id/merge_requests/:iid`,
        docs.gitlab.com/api/merge_requests#get-single-mr). GitLab's `opened` and `locked`
        are open; `merged_by` is `merge_user` (or the older `merged_by`)."""
        with self._calling(f"reading merge request !{number}"):
            return _pull(self._project.mergerequests.get(number, **CALL))

    def comments(self, number: int, since_id: int | None = None) -> list[Comment]:
        """The comments on merge request !`number`, oldest first, all pages (`GET /projects/
        :id/merge_requests/:iid/notes?sort=asc&order_by=created_at`, docs.gitlab.com/api/
        notes#list-all-merge-request-notes): discussion notes and diff notes (`type`
        DiffNote, `position.new_path`/`new_line`), without GitLab's system notes ("requested
        review from", "merged"). With `since_id`, only those after that note."""
        with self._calling(f"reading the comments of merge request !{number}"):
            mr = self._project.mergerequests.get(number, lazy=True)
            notes = mr.notes.list(get_all=True, sort="asc", order_by="created_at", **CALL)
            web = self._project.mergerequests.get(number, **CALL).web_url
        found = []
        for note in notes:
            if getattr(note, "system", False):
                continue
            position = getattr(note, "position", None) or {}
            found.append(
                Comment(
                    int(note.id),
                    str((note.author or {}).get("username", "")),
                    note.body or "",
                    f"{web}#note_{note.id}",
                    _utc(note.created_at),
                    position.get("new_path") or position.get("old_path"),
                    position.get("new_line") or position.get("old_line"),
                )
            )
        return after(found, since_id)


def _utc(text: str) -> datetime:
    """GitLab's times ("2026-12-01T02:13:00.000Z") as tz-aware UTC."""
    when = datetime.fromisoformat(text)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _pull(
    mr: ProjectMergeRequest,
    *,
    existed: bool = False,
    refused: tuple[str, ...] = (),
    review_error: HostError | None = None,
) -> PullRequest:
    state = STATES.get(mr.state, "closed")
    merger = getattr(mr, "merge_user", None) or getattr(mr, "merged_by", None)
    merged_at = getattr(mr, "merged_at", None)
    return PullRequest(
        number=int(mr.iid),
        url=mr.web_url,
        state="merged" if state == "merged" else "open" if state == "open" else "closed",
        head=mr.source_branch,
        base=mr.target_branch,
        merged_by=str(merger["username"]) if state == "merged" and merger else None,
        merged_at=_utc(merged_at) if state == "merged" and merged_at else None,
        refused_reviewers=refused,
        existed=existed,
        review_error=str(review_error) if review_error else None,
    )
