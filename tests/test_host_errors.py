"""What each host refuses reaches the bot as one HostError kind, in words that say what to
change: a bad token, a reader's token, an unknown repository or number, a rate limit, branch
protection, a host that does not answer."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.hosts import HostError
from bot.sandbox.githost import READ_TOKEN, TOKEN, GitHost
from tests.conftest import START, Clock
from tests.githosts import HEAD, Hosted, bare_repo, client_of


@pytest.fixture(params=["github", "gitlab"])
def hosted(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hosted]:
    with GitHost(request.param, bare_repo(tmp_path), clock=Clock(START)) as fake:
        yield Hosted(fake, client_of(fake, TOKEN))


def refusal(call: object) -> HostError:
    assert callable(call)
    with pytest.raises(HostError) as raised:
        call()
    return raised.value


def token_name(hosted: Hosted) -> str:
    return "GITHUB_TOKEN" if hosted.fake.flavor == "github" else "GITLAB_TOKEN"


def test_a_wrong_token_says_to_make_a_new_one(hosted: Hosted) -> None:
    client = client_of(hosted.fake, "not-a-token")
    error = refusal(lambda: client.open_pull_request(HEAD, "main", "Hotfix", "", []))
    assert error.kind == "bad_token"
    assert f"{token_name(hosted)} was refused" in str(error) and "(401 " in str(error)
    assert "401 401" not in str(error)
    assert "make a new token" in str(error)
    scope = "`repo` scope" if hosted.fake.flavor == "github" else "`api` scope"
    assert scope in str(error)
    assert "not-a-token" not in str(error)
    assert hosted.fake.pulls == {}


def test_a_token_that_may_only_read_says_what_access_to_give(hosted: Hosted) -> None:
    client = client_of(hosted.fake, READ_TOKEN)
    error = refusal(lambda: client.open_pull_request(HEAD, "main", "Hotfix", "", []))
    assert error.kind == "no_permission"
    assert "403" in str(error) and "write access" in str(error) and token_name(hosted) in str(error)


def test_an_unknown_repository_says_to_check_postmortem_repo(hosted: Hosted) -> None:
    client = client_of(hosted.fake, TOKEN, repo="acme/nothing-here")
    error = refusal(lambda: client.open_pull_request(HEAD, "main", "Hotfix", "", []))
    assert error.kind == "not_found"
    assert "404" in str(error) and "POSTMORTEM_REPO" in str(error)
    assert "acme/nothing-here" in str(error)


def test_an_unknown_number_is_not_found(hosted: Hosted) -> None:
    assert refusal(lambda: hosted.client.pull_request(42)).kind == "not_found"
    assert refusal(lambda: hosted.client.comments(42)).kind == "not_found"


def test_an_unknown_base_branch_is_invalid(hosted: Hosted) -> None:
    error = refusal(lambda: hosted.client.open_pull_request(HEAD, "trunk", "Hotfix", "", []))
    assert error.kind == "invalid" and "`trunk` is not a branch" in str(error)
    assert "check POSTMORTEM_BRANCH" in str(error)


def test_a_rate_limit_is_reported_with_its_wait_not_slept_through(hosted: Hosted) -> None:
    hosted.fake.rate_limit(retry_after=30)
    started = time.monotonic()
    error = refusal(lambda: hosted.client.pull_request(1))
    assert time.monotonic() - started < 5
    assert (error.kind, error.retry_after) == ("rate_limited", 30)
    assert "30 seconds" in str(error)


def test_a_spent_hourly_limit_says_when_it_resets(hosted: Hosted) -> None:
    """GitHub's primary limit sends no Retry-After: the wait is until x-ratelimit-reset."""
    hosted.fake.rate_limit(retry_after=600, hourly=True)
    error = refusal(lambda: hosted.client.pull_request(1))
    assert (error.kind, error.retry_after) == ("rate_limited", 600)
    assert "in 600 seconds" in str(error)


def test_branch_protection_is_its_own_kind(hosted: Hosted) -> None:
    end = "/pulls" if hosted.fake.flavor == "github" else "/merge_requests"
    hosted.fake.fail("POST", end, 405, {"message": "Protected branch update failed"})
    error = refusal(lambda: hosted.client.open_pull_request(HEAD, "main", "Hotfix", "", []))
    assert error.kind == "protected" and "protection" in str(error)


def test_a_host_that_does_not_answer_is_unreachable(hosted: Hosted) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    hosted.fake.stop()
    gone = GitHost(hosted.fake.flavor, hosted.fake.bare, port=port)  # never started
    gone.stop()
    client = client_of(gone, TOKEN)
    error = refusal(lambda: client.open_pull_request(HEAD, "main", "Hotfix", "", []))
    assert error.kind == "unreachable" and "could not be reached" in str(error)
