"""The fake code host refuses what GitHub and GitLab refuse, in their words and shapes: so a
client that passes against it sends what the real hosts take."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.githost import READ_TOKEN, TOKEN, GitHost
from tests.conftest import START, Clock
from tests.githosts import HEAD, bare_repo


def call(
    fake: GitHost, method: str, path: str, body: Any = None, token: str = TOKEN
) -> tuple[int, Any, Any]:
    headers = {"Content-Type": "application/json"}
    if fake.flavor == "github":
        headers["Authorization"] = f"token {token}"
    else:
        headers["PRIVATE-TOKEN"] = token
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(fake.api_url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, json.loads(reply.read()), reply.headers
    except urllib.error.HTTPError as refused:
        raw = refused.read()
        return (
            refused.code,
            json.loads(raw) if raw.startswith((b"{", b"[")) else raw,
            refused.headers,
        )


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHost]:
    with GitHost("github", bare_repo(tmp_path), clock=Clock(START)) as fake:
        yield fake


@pytest.fixture
def gitlab(tmp_path: Path) -> Iterator[GitHost]:
    with GitHost("gitlab", bare_repo(tmp_path), clock=Clock(START)) as fake:
        yield fake


PULLS = "/repos/acme/postmortems/pulls"
MRS = "/api/v4/projects/acme%2Fpostmortems/merge_requests"


def test_github_refuses_a_pull_request_missing_a_field(github: GitHost) -> None:
    status, body, _ = call(github, "POST", PULLS, {"head": HEAD, "base": "main"})
    assert status == 422 and body["message"] == "Validation Failed"
    assert body["errors"] == [
        {"resource": "PullRequest", "field": "title", "code": "missing_field"}
    ]


def test_github_refuses_a_head_that_was_never_pushed(github: GitHost) -> None:
    status, body, _ = call(github, "POST", PULLS, {"title": "t", "head": "nope", "base": "main"})
    assert status == 422
    assert body["errors"] == [{"resource": "PullRequest", "field": "head", "code": "invalid"}]
    assert github.pulls == {}


def test_github_refuses_a_second_pull_request_for_a_head(github: GitHost) -> None:
    pull = {"title": "t", "head": HEAD, "base": "main"}
    assert call(github, "POST", PULLS, pull)[0] == 201
    status, body, _ = call(github, "POST", PULLS, {**pull, "head": f"acme:{HEAD}"})
    assert status == 422
    assert body["errors"][0]["message"] == f"A pull request already exists for acme:{HEAD}."


def test_github_tokens(github: GitHost) -> None:
    assert call(github, "GET", PULLS, token="wrong")[:2] == (
        401,
        {
            "message": "Bad credentials",
            "documentation_url": "https://docs.github.com/rest",
            "status": "401",
        },
    )
    status, body, _ = call(
        github, "POST", PULLS, {"title": "t", "head": HEAD, "base": "main"}, token=READ_TOKEN
    )
    assert status == 403 and "not accessible" in body["message"]
    assert call(github, "GET", "/repos/acme/other/pulls")[0] == 404


def test_github_reviewers_are_all_or_nothing(github: GitHost) -> None:
    call(github, "POST", PULLS, {"title": "t", "head": HEAD, "base": "main"})
    status, body, _ = call(
        github, "POST", f"{PULLS}/1/requested_reviewers", {"reviewers": ["alice", "mallory"]}
    )
    assert status == 422 and body["message"].startswith("Reviews may only be requested from")
    assert github.pulls[1].reviewers == []


def test_github_lists_in_pages_with_a_link_header(github: GitHost) -> None:
    call(github, "POST", PULLS, {"title": "t", "head": HEAD, "base": "main"})
    for n in range(5):
        github.comment(1, f"c{n}")
    status, body, headers = call(
        github, "GET", "/repos/acme/postmortems/issues/1/comments?per_page=2"
    )
    assert status == 200 and [c["body"] for c in body] == ["c0", "c1"]
    assert 'rel="next"' in headers["Link"] and "page=2" in headers["Link"]
    listed = call(github, "GET", PULLS)[1]
    assert "merged" not in listed[0]  # GitHub's list leaves it out; the pull itself has it
    assert call(github, "GET", f"{PULLS}/1")[1]["merged"] is False


def test_gitlab_refuses_missing_fields_unpushed_branches_and_a_second_request(
    gitlab: GitHost,
) -> None:
    status, body, _ = call(gitlab, "POST", MRS, {"source_branch": HEAD})
    assert (status, body) == (400, {"error": "target_branch is missing, title is missing"})
    status, body, _ = call(
        gitlab, "POST", MRS, {"source_branch": "nope", "target_branch": "main", "title": "t"}
    )
    assert (status, body) == (422, {"message": ['Source branch "nope" does not exist']})
    mr = {"source_branch": HEAD, "target_branch": "main", "title": "t"}
    assert call(gitlab, "POST", MRS, mr)[0] == 201
    status, body, _ = call(gitlab, "POST", MRS, mr)
    assert status == 409
    assert body == {
        "message": ["Another open merge request already exists for this source branch: !1"]
    }


def test_gitlab_tokens_and_projects(gitlab: GitHost) -> None:
    assert call(gitlab, "GET", MRS, token="wrong")[:2] == (401, {"message": "401 Unauthorized"})
    mr = {"source_branch": HEAD, "target_branch": "main", "title": "t"}
    assert call(gitlab, "POST", MRS, mr, token=READ_TOKEN)[:2] == (
        403,
        {"message": "403 Forbidden"},
    )
    assert call(gitlab, "GET", "/api/v4/projects/acme%2Fother/merge_requests")[:2] == (
        404,
        {"message": "404 Project Not Found"},
    )


def test_gitlab_drops_a_reviewer_who_is_not_a_member_and_notes_newest_first(
    gitlab: GitHost,
) -> None:
    call(gitlab, "POST", MRS, {"source_branch": HEAD, "target_branch": "main", "title": "t"})
    ids = {u["username"]: u["id"] for u in call(gitlab, "GET", "/api/v4/users")[1]}
    status, body, _ = call(
        gitlab, "PUT", f"{MRS}/1", {"reviewer_ids": [ids["alice"], ids["mallory"]]}
    )
    assert status == 200 and [r["username"] for r in body["reviewers"]] == ["alice"]
    gitlab.comment(1, "later")
    notes = call(gitlab, "GET", f"{MRS}/1/notes")[1]
    assert [(n["body"], n["system"]) for n in notes] == [
        ("later", False),
        ("requested review from @alice", True),
    ]


def test_rate_limits_say_how_long_to_wait(github: GitHost, gitlab: GitHost) -> None:
    github.rate_limit(retry_after=12)
    status, body, headers = call(github, "GET", PULLS)
    assert status == 403 and "secondary rate limit" in body["message"]
    assert headers["Retry-After"] == "12"
    gitlab.rate_limit(retry_after=12)
    status, body, headers = call(gitlab, "GET", MRS)
    assert (status, body, headers["Retry-After"]) == (429, b"Retry later", "12")
    assert call(gitlab, "GET", MRS)[0] == 200  # once
