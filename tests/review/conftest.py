"""Fixtures of the review mode tests: a bare post-mortem repository with a first commit, a
colleague's clone, the bot in review mode (git alone, or with a token for the local GitHub or
GitLab when a test or module sets `flavor`), and an incident resolved with its first draft."""

import pytest

from bot.sandbox.githost import TOKEN, GitHost
from tests.conftest import Clock, make_config
from tests.reviewing import T0, make_colleague, make_remote, resolve


@pytest.fixture
def clock():
    return Clock(T0)


@pytest.fixture
def remote(tmp_path):
    return make_remote(tmp_path)


@pytest.fixture
def colleague(tmp_path, remote):
    return make_colleague(tmp_path, remote)


@pytest.fixture
def flavor():
    """No host token by default (git alone); tests parametrize "github" or "gitlab"."""
    return None


@pytest.fixture
def host(flavor, remote, clock):
    if flavor is None:
        yield None
        return
    with GitHost(flavor, remote, clock=clock) as fake:
        yield fake


@pytest.fixture
def config(tmp_path, slack, remote, host, monkeypatch):
    settings = {
        "POSTMORTEM_REVIEW": "pull-request",
        "POSTMORTEM_GIT_AUTHOR": "Incident Bot <bot@example.com>",
    }
    if host is None:
        return make_config(tmp_path, slack, POSTMORTEM_REPO=str(remote), **settings)
    url = f"{host.web_url}.git"
    # git reaches the bare repository when asked for the host's URL (git-config(1) insteadOf)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", url)
    token = {"github": "GITHUB_TOKEN", "gitlab": "GITLAB_TOKEN"}[host.flavor]
    api = {"github": "GITHUB_API_URL", "gitlab": "GITLAB_URL"}[host.flavor]
    return make_config(
        tmp_path,
        slack,
        POSTMORTEM_REPO=url,
        REVIEWER_ACCOUNTS=f"{slack.user('alice')}=carol",
        **settings,
        **{token: TOKEN, api: host.api_url},
    )


@pytest.fixture
def resolved(slack, bot, clock):
    return resolve(slack, bot, clock)
