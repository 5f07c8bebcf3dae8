"""Both clients (PyGithub, python-gitlab) against the local fake GitHub and GitLab over real
HTTP: opening a pull request, one already open, refused reviewers, state, comments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest

from bot.hosts import HostError
from bot.sandbox.githost import TOKEN, GitHost
from tests.conftest import START, Clock
from tests.githosts import HEAD, OTHER, Hosted, bare_repo, client_of


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture(params=["github", "gitlab"])
def hosted(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Hosted]:
    with GitHost(request.param, bare_repo(tmp_path), clock=clock) as fake:
        yield Hosted(fake, client_of(fake, TOKEN))


def test_opens_a_pull_request_and_asks_for_reviews(hosted: Hosted) -> None:
    pr = hosted.client.open_pull_request(HEAD, "main", "Hotfix 1", "The body", ["alice", "bob"])
    assert (pr.number, pr.state, pr.head, pr.base) == (1, "open", HEAD, "main")
    where = "pull/1" if hosted.fake.flavor == "github" else "-/merge_requests/1"
    assert pr.url == f"{hosted.fake.web_url}/{where}"
    assert (pr.refused_reviewers, pr.existed) == ((), False)
    opened = hosted.fake.pulls[1]
    assert (opened.title, opened.body) == ("Hotfix 1", "The body")
    assert opened.reviewers == ["alice", "bob"]


def test_one_already_open_for_the_branch_is_returned(hosted: Hosted) -> None:
    first = hosted.client.open_pull_request(HEAD, "main", "Hotfix 1", "", [])
    hosted.client.open_pull_request(OTHER, "main", "Hotfix 2", "", [])
    again = hosted.client.open_pull_request(HEAD, "main", "Hotfix 1 again", "", ["carol"])
    assert (again.number, again.url, again.existed) == (first.number, first.url, True)
    assert len(hosted.fake.pulls) == 2
    assert hosted.fake.pulls[1].reviewers == ["carol"]


def test_a_refused_reviewer_leaves_the_pull_request_and_the_others(hosted: Hosted) -> None:
    """mallory exists but is no collaborator/member; nobody-here does not exist."""
    pr = hosted.client.open_pull_request(
        HEAD, "main", "Hotfix 1", "", ["alice", "mallory", "nobody-here", "bob"]
    )
    assert pr.refused_reviewers == ("mallory", "nobody-here")
    assert pr.number in hosted.fake.pulls
    assert hosted.fake.pulls[pr.number].reviewers == ["alice", "bob"]


def test_a_failure_asking_for_reviews_still_returns_the_pull_request(hosted: Hosted) -> None:
    """A rate limit on the review request: the pull request is open all the same."""
    if hosted.fake.flavor == "github":
        body = {"message": "You have exceeded a secondary rate limit."}
        hosted.fake.fail("POST", "/requested_reviewers", 403, body, {"Retry-After": "60"})
    else:
        hosted.fake.fail("PUT", "/merge_requests/1", 429, "Retry later", {"Retry-After": "60"})
    pr = hosted.client.open_pull_request(HEAD, "main", "Hotfix 1", "", ["alice", "bob"])
    assert (pr.number, pr.state) == (1, "open")
    assert pr.refused_reviewers == ("alice", "bob")
    assert pr.review_error is not None and "in 60 seconds" in pr.review_error
    assert hosted.fake.pulls[1].reviewers == []


def test_a_branch_never_pushed_is_refused_and_nothing_is_opened(hosted: Hosted) -> None:
    with pytest.raises(HostError) as refused:
        hosted.client.open_pull_request("postmortem/hotfix-999", "main", "Hotfix", "", [])
    assert refused.value.kind == "invalid"
    assert "`postmortem/hotfix-999` is not a branch" in str(refused.value)
    assert "push it to POSTMORTEM_REPO first" in str(refused.value)
    assert hosted.fake.pulls == {}


def test_state_merged_by_whom_and_when_or_closed(hosted: Hosted, clock: Clock) -> None:
    one = hosted.client.open_pull_request(HEAD, "main", "Hotfix 1", "", [])
    two = hosted.client.open_pull_request(OTHER, "main", "Hotfix 2", "", [])
    assert hosted.client.pull_request(one.number).state == "open"
    clock.now = START + timedelta(hours=2, seconds=7)
    hosted.fake.merge(one.number, by="alice")
    hosted.fake.close(two.number)
    merged, closed = hosted.client.pull_request(one.number), hosted.client.pull_request(2)
    assert (merged.state, merged.merged_by, merged.merged_at) == (
        "merged",
        "alice",
        START + timedelta(hours=2, seconds=7),
    )
    assert merged.merged_at is not None and merged.merged_at.tzinfo is not None
    assert merged.merged_at.utcoffset() == timedelta(0)
    assert (closed.state, closed.merged_by, closed.merged_at) == ("closed", None, None)


def test_comments_of_both_kinds_oldest_first_and_since_an_id(hosted: Hosted, clock: Clock) -> None:
    """A diff comment between two conversation comments. On GitHub the two kinds are
    numbered apart (the diff comment's id is the smallest), so "after" cannot be by id."""
    pr = hosted.client.open_pull_request(HEAD, "main", "Hotfix 1", "", ["alice"])
    fake = hosted.fake
    first = fake.comment(pr.number, "Looks right", by="alice")
    clock.now += timedelta(minutes=1)
    on_line = fake.comment(pr.number, "Say which region", by="bob", path="hotfix-001.md", line=1)
    clock.now += timedelta(minutes=1)
    last = fake.comment(pr.number, "Approved", by="carol")
    hosted.fake.merge(pr.number)  # GitLab writes system notes for this and the review request
    found = hosted.client.comments(pr.number)
    assert [(c.id, c.author, c.body) for c in found] == [
        (first, "alice", "Looks right"),
        (on_line, "bob", "Say which region"),
        (last, "carol", "Approved"),
    ]
    assert [(c.path, c.line) for c in found] == [(None, None), ("hotfix-001.md", 1), (None, None)]
    assert found[0].created_at == START and found[0].created_at.tzinfo == UTC
    assert all(c.url.startswith(fake.web_url) and str(c.id) in c.url for c in found)
    assert [c.id for c in hosted.client.comments(pr.number, since_id=first)] == [on_line, last]
    assert [c.id for c in hosted.client.comments(pr.number, since_id=on_line)] == [last]
    assert hosted.client.comments(pr.number, since_id=last) == []


def test_comments_are_read_over_every_page(hosted: Hosted, clock: Clock) -> None:
    pr = hosted.client.open_pull_request(HEAD, "main", "Hotfix 1", "", [])
    ids = []
    for n in range(130):
        clock.now += timedelta(seconds=1)
        ids.append(hosted.fake.comment(pr.number, f"comment {n}"))
    assert [c.id for c in hosted.client.comments(pr.number)] == ids
