"""GitLab's REST API v4 as the local code host answers it: the merge request, user and note
endpoints python-gitlab calls, with GitLab's JSON shapes and refusals (docs.gitlab.com/api)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from bot.sandbox.githost import GitHost
from bot.sandbox.githost_records import Answer, Note, Pull, page, stamp

PROJECT_ID = 7
STATES = {"open": "opened", "closed": "closed", "merged": "merged"}


def _message(status: int, message: Any) -> Answer:
    return status, {"message": message}, {}


def answer_gitlab(
    host: GitHost,
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
    headers: dict[str, str],
) -> Answer:
    lower = {k.lower(): v for k, v in headers.items()}
    token = lower.get("private-token") or lower.get("authorization", "").removeprefix("Bearer ")
    if token not in host.tokens:
        return _message(401, "401 Unauthorized")
    parts = [unquote(p) for p in path.split("/")[1:]]
    if parts[:2] != ["api", "v4"]:
        return _message(404, "404 Not Found")
    rest, api = parts[2:], GitLabJson(host)
    if body is None:
        return 400, {"error": "The provided content-type 'application/json' is not supported."}, {}
    if rest == ["users"] and method == "GET":
        name = query.get("username")
        found = (
            [api.user(name)]
            if name in host.user_ids
            else []
            if name
            else [api.user(u) for u in host.user_ids]
        )
        return 200, found, {}
    if rest[:1] != ["projects"] or len(rest) < 2 or rest[1] not in {host.repo, str(PROJECT_ID)}:
        return _message(404, "404 Project Not Found")
    if method != "GET" and token not in host.writers:
        return _message(403, "403 Forbidden")
    tail = rest[2:]
    with host.lock:
        if tail == [] and method == "GET":
            return 200, api.project(), {}
        if tail == ["merge_requests"] and method == "POST":
            return _create(host, api, body, host.tokens[token])
        if tail == ["merge_requests"] and method == "GET":
            return _list(host, api, query, path)
        if tail[:1] != ["merge_requests"] or len(tail) < 2 or not tail[1].isdigit():
            return _message(404, "404 Not found")
        pull = host.pulls.get(int(tail[1]))
        if pull is None:
            return _message(404, "404 Not found")
        if tail[2:] == [] and method == "GET":
            return 200, api.merge_request(pull), {}
        if tail[2:] == [] and method == "PUT":
            return _update(host, api, pull, body)
        if tail[2:] == ["notes"] and method == "GET":
            return _notes(host, api, pull, query, path)
    return _message(404, "404 Not Found")


def _create(host: GitHost, api: GitLabJson, body: dict[str, Any], login: str) -> Answer:
    """POST /projects/:id/merge_requests (docs.gitlab.com/api/merge_requests#create-mr)."""
    missing = [f for f in ("source_branch", "target_branch", "title") if not body.get(f)]
    if missing:
        return 400, {"error": ", ".join(f"{f} is missing" for f in missing)}, {}
    head, base = str(body["source_branch"]), str(body["target_branch"])
    if head == base:
        return _message(422, ["You can't use same project/branch for source and target"])
    head_sha = host.sha(head)
    if head_sha is None:
        return _message(422, [f'Source branch "{head}" does not exist'])
    if host.sha(base) is None:
        return _message(422, [f'Target branch "{base}" does not exist'])
    existing = host.open_from(head)
    if existing is not None and existing.base == base:
        return _message(
            409,
            [
                "Another open merge request already exists for this source branch: "
                f"!{existing.number}"
            ],
        )
    pull = host.open_pull(head, base, str(body["title"]), str(body.get("description") or ""), login)
    return 201, api.merge_request(pull), {}


def _list(host: GitHost, api: GitLabJson, query: dict[str, str], path: str) -> Answer:
    """GET /projects/:id/merge_requests: `state` opened|closed|merged|locked|all,
    `source_branch`, `target_branch`; newest first."""
    state = query.get("state", "all")
    found = [
        p
        for p in sorted(host.pulls.values(), key=lambda p: -p.number)
        if state in {"all", STATES[p.state]}
        and query.get("source_branch", p.head) == p.head
        and query.get("target_branch", p.base) == p.base
    ]
    return (200, *page([api.merge_request(p) for p in found], query, host.base_url + path))


def _update(host: GitHost, api: GitLabJson, pull: Pull, body: dict[str, Any]) -> Answer:
    """PUT /projects/:id/merge_requests/:iid with `reviewer_ids` (and title, description): an
    id of someone who is not a member is left out, without an error, as GitLab does."""
    ids = body.get("reviewer_ids")
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            return 400, {"error": "reviewer_ids is invalid"}, {}
        names = {i: n for n, i in host.user_ids.items()}
        now = [names[i] for i in ids if names.get(i) in host.members]
        added = [n for n in now if n not in pull.reviewers]
        pull.reviewers = now
        if added:
            host._system(pull.number, "requested review from " + ", ".join(f"@{n}" for n in added))
    for field, attr in (("title", "title"), ("description", "body")):
        if isinstance(body.get(field), str):
            setattr(pull, attr, body[field])
    pull.updated_at = host.clock()
    return 200, api.merge_request(pull), {}


def _notes(host: GitHost, api: GitLabJson, pull: Pull, query: dict[str, str], path: str) -> Answer:
    """GET .../merge_requests/:iid/notes: `sort` desc by default (docs.gitlab.com/api/notes),
    `order_by` created_at or updated_at; system notes included, as GitLab does."""
    notes = sorted(
        (n for n in host.notes if n.number == pull.number),
        key=lambda n: (n.created_at, n.id),
        reverse=query.get("sort", "desc") != "asc",
    )
    return (200, *page([api.note(n) for n in notes], query, host.base_url + path))


class GitLabJson:
    """The objects as GitLab writes them (the fields python-gitlab and the bot read)."""

    def __init__(self, host: GitHost) -> None:
        self.host = host

    def user(self, name: str) -> dict[str, Any]:
        return {
            "id": self.host.user_ids[name],
            "username": name,
            "name": name.title(),
            "state": "active",
            "locked": False,
            "avatar_url": None,
            "web_url": f"{self.host.base_url}/{name}",
        }

    def project(self) -> dict[str, Any]:
        return {
            "id": PROJECT_ID,
            "path_with_namespace": self.host.repo,
            "web_url": self.host.web_url,
            "default_branch": "main",
        }

    def merge_request(self, pull: Pull) -> dict[str, Any]:
        merged_by = self.user(pull.merged_by) if pull.merged_by else None
        return {
            "id": 300 + pull.number,
            "iid": pull.number,
            "project_id": PROJECT_ID,
            "title": pull.title,
            "description": pull.body,
            "state": STATES[pull.state],
            "created_at": stamp(pull.created_at, millis=True),
            "updated_at": stamp(pull.updated_at, millis=True),
            "merged_by": merged_by,
            "merge_user": merged_by,
            "merged_at": stamp(pull.merged_at, millis=True),
            "closed_by": self.user(pull.closed_by) if pull.closed_by else None,
            "closed_at": stamp(pull.closed_at if pull.state == "closed" else None, millis=True),
            "target_branch": pull.base,
            "source_branch": pull.head,
            "source_project_id": PROJECT_ID,
            "target_project_id": PROJECT_ID,
            "author": self.user(pull.author),
            "assignees": [],
            "assignee": None,
            "reviewers": [self.user(r) for r in pull.reviewers],
            "draft": False,
            "work_in_progress": False,
            "merge_status": "can_be_merged",
            "detailed_merge_status": "mergeable",
            "sha": pull.head_sha,
            "user_notes_count": sum(
                n.number == pull.number and not n.system for n in self.host.notes
            ),
            "references": {"short": f"!{pull.number}", "full": f"{self.host.repo}!{pull.number}"},
            "web_url": f"{self.host.web_url}/-/merge_requests/{pull.number}",
        }

    def note(self, note: Note) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "id": note.id,
            "type": "DiffNote" if note.path else None,
            "body": note.body,
            "author": self.user(note.author),
            "created_at": stamp(note.created_at, millis=True),
            "updated_at": stamp(note.created_at, millis=True),
            "system": note.system,
            "noteable_id": 300 + note.number,
            "noteable_type": "MergeRequest",
            "noteable_iid": note.number,
            "project_id": PROJECT_ID,
            "resolvable": bool(note.path),
            "confidential": False,
            "internal": False,
        }
        if note.path:
            sha = self.host.pulls[note.number].head_sha
            shown["position"] = {
                "base_sha": sha,
                "start_sha": sha,
                "head_sha": sha,
                "position_type": "text",
                "old_path": note.path,
                "new_path": note.path,
                "old_line": None,
                "new_line": note.line,
            }
        return shown
