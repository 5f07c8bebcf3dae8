"""Pull requests on GitHub and GitHub Enterprise Server, through PyGithub. Each method names
the REST endpoint it calls (docs.github.com/rest); every failure is a HostError."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import requests
from github import Auth, Github, GithubException
from github.PullRequest import PullRequest as GhPull
from urllib3.util.retry import Retry

from bot.hosts.model import Comment, HostError, PullRequest, after
from bot.hosts.refusals import Voice, branch_hints, refusal, unreachable
from bot.hosts.urls import HostRepo

logger = logging.getLogger(__name__)

PUBLIC_API = "https://api.github.com"
TIMEOUT_S = 15
# Only idempotent reads are retried, on a dropped connection or a 502/503/504, with backoff;
# a rate limit is not waited out here (the caller hears retry_after and decides).
RETRY = Retry(
    total=3, backoff_factor=0.5, status_forcelist=(502, 503, 504), allowed_methods={"GET"}
)


def api_url(repo: HostRepo) -> str:
    """GitHub's REST API for a repository: api.github.com on github.com, `/api/v3` on the web
    host's origin for GitHub Enterprise Server (docs.github.com/enterprise-server/rest, "About
    the REST API": `http(s)://HOSTNAME/api/v3`)."""
    if repo.host.lower() in {"github.com", "www.github.com"}:
        return PUBLIC_API
    return repo.web_url.removesuffix("/" + repo.path) + "/api/v3"


class GitHubHost:
    """The pull requests of `repo` through the API at `api` with `token`. `writes_apart_s`:
    the pause PyGithub keeps between writes (GitHub asks for about a second, "Best practices
    for using the REST API"); tests set 0. `clock`: epoch seconds, to tell how long until a
    spent hourly rate limit resets."""

    def __init__(
        self,
        repo: HostRepo,
        token: str,
        *,
        api: str | None = None,
        writes_apart_s: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.repo = repo
        self._clock = clock  # epoch seconds: how long until a spent rate limit resets
        self.api = (api or api_url(repo)).rstrip("/")
        self._voice = Voice(
            "GitHub",
            "GITHUB_TOKEN",
            "`repo` scope (a fine-grained token: Pull requests and Contents, read and write)",
            repo.path,
        )
        self._gh = Github(
            auth=Auth.Token(token),
            base_url=self.api,
            timeout=TIMEOUT_S,
            retry=RETRY,
            seconds_between_requests=None,
            seconds_between_writes=writes_apart_s or None,
            per_page=100,
            lazy=True,
        )

    @contextmanager
    def _calling(self, what: str, hints: dict[str, str] | None = None) -> Iterator[None]:
        try:
            yield
        except GithubException as exc:
            raise self._refusal(exc, what, hints) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise unreachable(self._voice, what, f"{type(exc).__name__} at {self.api}") from exc

    def _refusal(
        self, exc: GithubException, what: str, hints: dict[str, str] | None = None
    ) -> HostError:
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or exc.message or "")
        details = [
            str(e.get("message") or f"{e.get('field', '')} {e.get('code', '')}".strip())
            for e in data.get("errors") or []
            if isinstance(e, dict)
        ]
        said = "; ".join([message, *details]) if details else message
        return refusal(self._voice, exc.status, said, what, exc.headers, hints, self._clock())

    def open_pull_request(
        self, head: str, base: str, title: str, body: str, reviewers: list[str]
    ) -> PullRequest:
        """Open a pull request from branch `head` into `base` (`POST /repos/{owner}/{repo}/
        pulls`, docs.github.com/rest/pulls/pulls#create-a-pull-request), then request
        `reviewers` (`POST .../pulls/{n}/requested_reviewers`, docs.github.com/rest/pulls/
        review-requests#request-reviewers-for-a-pull-request). If one is already open from
        `head` (GitHub answers 422 "A pull request already exists for OWNER:HEAD.") it is
        found (`GET .../pulls?head=OWNER:HEAD&base=BASE&state=open`, docs.github.com/rest/
        pulls/pulls#list-pull-requests) and returned, `existed=True`. GitHub refuses the
        whole review request if one reviewer is not a collaborator (422), so then each is
        asked alone; the refused are in `refused_reviewers` and the pull request stays. If
        requesting reviews fails otherwise (a rate limit), the pull request is returned with
        every reviewer in `refused_reviewers` and the error in `review_error`. Raises
        HostError ("invalid" for a head branch GitHub does not have)."""
        what = f"opening a pull request from `{head}` into `{base}`"
        repo = self._gh.get_repo(self.repo.path)
        existed = False
        with self._calling(
            what,
            branch_hints(
                head, base, "GitHub", ("head invalid", "base invalid", "No commits between")
            ),
        ):
            try:
                pull = repo.create_pull(base=base, head=head, title=title, body=body)
            except GithubException as exc:
                pull = self._open_from(exc, head, base)
                existed = True
        try:
            refused = self._request_reviews(pull, reviewers) if reviewers else ()
        except HostError as exc:  # the pull request is open: it is returned all the same
            logger.warning("No reviews requested on #%s: %s", pull.number, exc)
            return _pull(pull, existed=existed, refused=tuple(reviewers), review_error=exc)
        return _pull(pull, existed=existed, refused=refused)

    def _open_from(self, exc: GithubException, head: str, base: str) -> GhPull:
        if exc.status != 422 or "already exists" not in str(exc.data):
            raise exc
        repo = self._gh.get_repo(self.repo.path)
        for pull in repo.get_pulls(state="open", head=f"{self.repo.owner}:{head}", base=base):
            return pull
        raise exc

    def _request_reviews(self, pull: GhPull, reviewers: list[str]) -> tuple[str, ...]:
        what = f"requesting reviews on pull request #{pull.number}"
        with self._calling(what):
            try:
                pull.create_review_request(reviewers=reviewers)
                return ()
            except GithubException as exc:
                if exc.status != 422:
                    raise
        refused = []
        for login in reviewers:
            with self._calling(what):
                try:
                    pull.create_review_request(reviewers=[login])
                except GithubException as exc:
                    if exc.status != 422:
                        raise
                    refused.append(login)
        return tuple(refused)

    def repository(self) -> str:
        """The repository's page, if this token may see it (`GET /repos/{owner}/{repo}`,
        docs.github.com/rest/repos/repos#get-a-repository). Raises HostError."""
        with self._calling(f"reading {self.repo.path}"):
            return str(self._gh.get_repo(self.repo.path).html_url)  # lazy: read here

    def pull_request(self, number: int) -> PullRequest:
        """Pull request `number` as it is now (`GET /repos/{owner}/{repo}/pulls/{n}`,
        docs.github.com/rest/pulls/pulls#get-a-pull-request): merged when `merged` is true,
        else GitHub's `state` (open or closed)."""
        with self._calling(f"reading pull request #{number}"):
            pull = self._gh.get_repo(self.repo.path).get_pull(number)
            return _pull(pull)

    def comments(self, number: int, since_id: int | None = None) -> list[Comment]:
        """The comments on pull request `number`, oldest first, all pages: its conversation
        (`GET /repos/{owner}/{repo}/issues/{n}/comments`, docs.github.com/rest/issues/
        comments#list-issue-comments) and its diff (`GET .../pulls/{n}/comments`,
        docs.github.com/rest/pulls/comments#list-review-comments-on-a-pull-request). With
        `since_id`, only those after that comment: the two kinds are numbered apart, so
        "after" is by time, then id (a comment no longer there: those with a larger id)."""
        with self._calling(f"reading the comments of pull request #{number}"):
            pull = self._gh.get_repo(self.repo.path).get_pull(number)
            found = [
                Comment(c.id, _login(c.user), c.body or "", c.html_url, _utc(c.created_at))
                for c in pull.get_issue_comments()
            ]
            found += [
                Comment(
                    c.id,
                    _login(c.user),
                    c.body or "",
                    c.html_url,
                    _utc(c.created_at),
                    c.path,
                    c.line if c.line is not None else c.original_line,
                )
                for c in pull.get_review_comments()
            ]
        return after(found, since_id)


def _utc(when: datetime | None) -> datetime:
    assert when is not None, "GitHub gives every comment a created_at"
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _login(user: Any) -> str:
    return str(user.login) if user is not None else "ghost"  # GitHub's name for a deleted user


def _pull(
    pull: GhPull,
    *,
    existed: bool = False,
    refused: tuple[str, ...] = (),
    review_error: HostError | None = None,
) -> PullRequest:
    merged = bool(pull.merged)
    return PullRequest(
        number=pull.number,
        url=pull.html_url,
        state="merged" if merged else ("open" if pull.state == "open" else "closed"),
        head=pull.head.ref,
        base=pull.base.ref,
        merged_by=_login(pull.merged_by) if merged and pull.merged_by else None,
        merged_at=_utc(pull.merged_at) if merged and pull.merged_at else None,
        refused_reviewers=refused,
        existed=existed,
        review_error=str(review_error) if review_error else None,
    )
