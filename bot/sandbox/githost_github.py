"""GitHub's REST API as the local code host answers it: the pull request, review request and
comment endpoints PyGithub calls, with GitHub's JSON shapes and refusals (docs.github.com/rest)."""

from __future__ import annotations

from typing import Any

from bot.sandbox.githost import GitHost
from bot.sandbox.githost_records import Answer, Note, Pull, page, stamp

DOCS = "https://docs.github.com/rest"
NOT_COLLABORATOR = (
    "Reviews may only be requested from collaborators. One or more of the users or teams you "
    "specified is not a collaborator of the {repo} repository."
)


def _error(status: int, message: str, **extra: Any) -> Answer:
    return (
        status,
        {"message": message, **extra, "documentation_url": DOCS, "status": str(status)},
        {},
    )


def _invalid(*errors: dict[str, str]) -> Answer:
    return _error(
        422, "Validation Failed", errors=[{"resource": "PullRequest", **e} for e in errors]
    )


def answer_github(
    host: GitHost,
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
    headers: dict[str, str],
) -> Answer:
    auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    token = auth.split(" ", 1)[1].strip() if " " in auth else ""
    if not token:
        return _error(401, "Requires authentication")
    if token not in host.tokens:
        return _error(401, "Bad credentials")
    parts = path.removeprefix("/api/v3").strip("/").split("/")
    if parts[:1] != ["repos"] or "/".join(parts[1:3]) != host.repo:
        return _error(404, "Not Found")
    rest, api = parts[3:], GitHubJson(host)
    if method != "GET" and token not in host.writers:
        return _error(403, "Resource not accessible by personal access token")
    if body is None:
        return _error(400, "Problems parsing JSON")
    with host.lock:
        if rest == [] and method == "GET":
            return 200, api.repo(), {}
        if rest == ["pulls"] and method == "POST":
            return _create(host, api, body, host.tokens[token])
        if rest == ["pulls"] and method == "GET":
            return _list(host, api, query)
        number = int(rest[1]) if len(rest) >= 2 and rest[1].isdigit() else None
        kind = rest[0] if rest else ""
        if number is None or number not in host.pulls or kind not in {"pulls", "issues"}:
            return _error(404, "Not Found")
        pull, tail = host.pulls[number], rest[2:]
        if kind == "pulls" and tail == [] and method == "GET":
            return 200, api.pull(pull), {}
        if kind == "pulls" and tail == ["requested_reviewers"] and method == "POST":
            return _request_reviews(host, api, pull, body)
        if tail == ["comments"] and method == "GET":
            review = kind == "pulls"
            notes = [n for n in host.notes if n.number == number and bool(n.path) == review]
            shown = [api.review_comment(n) if review else api.issue_comment(n) for n in notes]
            url = f"{api.api}/repos/{host.repo}/{kind}/{number}/comments"
            items, links = page(shown, query, url)
            return 200, items, links
    return _error(404, "Not Found")


def _create(host: GitHost, api: GitHubJson, body: dict[str, Any], login: str) -> Answer:
    """POST /repos/{owner}/{repo}/pulls (docs.github.com/rest/pulls/pulls#create-a-pull-request)."""
    missing = [
        f for f in ("title", "head", "base") if not isinstance(body.get(f), str) or not body[f]
    ]
    if missing:
        return _invalid(*({"field": f, "code": "missing_field"} for f in missing))
    owner = host.repo.split("/")[0]
    head, base = body["head"], body["base"]
    if ":" in head:
        head_owner, head = head.split(":", 1)
        if head_owner != owner:
            return _invalid({"field": "head", "code": "invalid"})
    head_sha, base_sha = host.sha(head), host.sha(base)
    if base_sha is None:
        return _invalid({"field": "base", "code": "invalid"})
    if head_sha is None:
        return _invalid({"field": "head", "code": "invalid"})
    if any(p.head == head and p.base == base and p.state == "open" for p in host.pulls.values()):
        return _invalid(
            {"code": "custom", "message": f"A pull request already exists for {owner}:{head}."}
        )
    if head_sha == base_sha:
        return _invalid({"code": "custom", "message": f"No commits between {base} and {head}"})
    pull = host.open_pull(head, base, body["title"], str(body.get("body") or ""), login)
    return 201, api.pull(pull), {"Location": api.pull_url(pull)}


def _list(host: GitHost, api: GitHubJson, query: dict[str, str]) -> Answer:
    """GET /repos/{owner}/{repo}/pulls: `state` open (default), closed or all; `head` as
    OWNER:BRANCH; `base`. Items in GitHub's shorter list shape (no `merged`)."""
    state = query.get("state", "open")
    if state not in {"open", "closed", "all"}:
        return _invalid({"field": "state", "code": "invalid"})
    owner, _, head = query.get("head", "").partition(":")
    found = [
        p
        for p in sorted(host.pulls.values(), key=lambda p: -p.number)
        if (state == "all" or (p.state == "open") == (state == "open"))
        and (not query.get("head") or (owner == host.repo.split("/")[0] and p.head == head))
        and (not query.get("base") or p.base == query["base"])
    ]
    items, links = page(
        [api.pull(p, listed=True) for p in found], query, f"{api.api}/repos/{host.repo}/pulls"
    )
    return 200, items, links


def _request_reviews(host: GitHost, api: GitHubJson, pull: Pull, body: dict[str, Any]) -> Answer:
    """POST .../pulls/{n}/requested_reviewers: all or nothing; 422 if one is not a
    collaborator, or is the author (docs.github.com/rest/pulls/review-requests)."""
    reviewers = body.get("reviewers", [])
    if not isinstance(reviewers, list) or not all(isinstance(r, str) for r in reviewers):
        return _invalid({"field": "reviewers", "code": "invalid"})
    if pull.author in reviewers:
        return _error(422, "Review cannot be requested from pull request author.")
    if any(r not in host.members for r in reviewers):
        return _error(422, NOT_COLLABORATOR.format(repo=host.repo))
    pull.reviewers += [r for r in reviewers if r not in pull.reviewers]
    return 201, api.pull(pull), {}


class GitHubJson:
    """The objects as GitHub writes them (the fields PyGithub reads, and their neighbours)."""

    def __init__(self, host: GitHost) -> None:
        self.host = host
        self.api = host.base_url + "/api/v3"

    def user(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": self.host.user_ids.get(login, 1),
            "type": "User",
            "url": f"{self.api}/users/{login}",
            "html_url": f"{self.host.base_url}/{login}",
            "site_admin": False,
        }

    def repo(self) -> dict[str, Any]:
        owner, name = self.host.repo.split("/")
        return {
            "id": 1,
            "name": name,
            "full_name": self.host.repo,
            "private": True,
            "owner": self.user(owner),
            "html_url": self.host.web_url,
            "url": f"{self.api}/repos/{self.host.repo}",
            "default_branch": "main",
        }

    def pull_url(self, pull: Pull) -> str:
        return f"{self.api}/repos/{self.host.repo}/pulls/{pull.number}"

    def _ref(self, branch: str, sha: str) -> dict[str, Any]:
        owner = self.host.repo.split("/")[0]
        return {
            "label": f"{owner}:{branch}",
            "ref": branch,
            "sha": sha,
            "user": self.user(owner),
            "repo": self.repo(),
        }

    def pull(self, pull: Pull, *, listed: bool = False) -> dict[str, Any]:
        url = self.pull_url(pull)
        issue = f"{self.api}/repos/{self.host.repo}/issues/{pull.number}"
        shown: dict[str, Any] = {
            "url": url,
            "id": 10_000 + pull.number,
            "number": pull.number,
            "html_url": f"{self.host.web_url}/pull/{pull.number}",
            "issue_url": issue,
            "comments_url": f"{issue}/comments",
            "review_comments_url": f"{url}/comments",
            "state": "open" if pull.state == "open" else "closed",
            "locked": False,
            "title": pull.title,
            "body": pull.body,
            "user": self.user(pull.author),
            "created_at": stamp(pull.created_at),
            "updated_at": stamp(pull.updated_at),
            "closed_at": stamp(pull.closed_at),
            "merged_at": stamp(pull.merged_at),
            "merge_commit_sha": None,
            "draft": False,
            "requested_reviewers": [self.user(r) for r in pull.reviewers],
            "requested_teams": [],
            "labels": [],
            "assignees": [],
            "head": self._ref(pull.head, pull.head_sha),
            "base": self._ref(pull.base, self.host.sha(pull.base) or ""),
            "author_association": "MEMBER",
        }
        if not listed:  # the list leaves these out; PyGithub fetches the pull for them
            comments = [n for n in self.host.notes if n.number == pull.number]
            shown |= {
                "merged": pull.state == "merged",
                "merged_by": self.user(pull.merged_by) if pull.merged_by else None,
                "mergeable": pull.state == "open",
                "comments": sum(not n.path for n in comments),
                "review_comments": sum(bool(n.path) for n in comments),
                "commits": 1,
            }
        return shown

    def issue_comment(self, note: Note) -> dict[str, Any]:
        return {
            "id": note.id,
            "url": f"{self.api}/repos/{self.host.repo}/issues/comments/{note.id}",
            "html_url": f"{self.host.web_url}/pull/{note.number}#issuecomment-{note.id}",
            "issue_url": f"{self.api}/repos/{self.host.repo}/issues/{note.number}",
            "body": note.body,
            "user": self.user(note.author),
            "created_at": stamp(note.created_at),
            "updated_at": stamp(note.created_at),
            "author_association": "MEMBER",
        }

    def review_comment(self, note: Note) -> dict[str, Any]:
        pull = self.host.pulls[note.number]
        return {
            "id": note.id,
            "pull_request_review_id": note.id + 1,
            "url": f"{self.api}/repos/{self.host.repo}/pulls/comments/{note.id}",
            "html_url": f"{self.host.web_url}/pull/{note.number}#discussion_r{note.id}",
            "pull_request_url": self.pull_url(pull),
            "diff_hunk": "@@ -0,0 +1 @@",
            "path": note.path,
            "position": note.line,
            "original_position": note.line,
            "line": note.line,
            "original_line": note.line,
            "side": "RIGHT",
            "start_line": None,
            "commit_id": pull.head_sha,
            "original_commit_id": pull.head_sha,
            "body": note.body,
            "user": self.user(note.author),
            "created_at": stamp(note.created_at),
            "updated_at": stamp(note.created_at),
            "author_association": "MEMBER",
        }
