"""Where POSTMORTEM_REPO lives on the web, the links to open a pull request by hand (as
GitHub and GitLab print them on push, or build them with no token), and host_for."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.hosts import HostRepo, host_for, link_from_push, new_pull_request_link, where
from bot.hosts.github import GitHubHost
from bot.hosts.gitlab import GitLabHost
from bot.sandbox.githost import TOKEN, GitHost
from tests.conftest import START, Clock
from tests.githosts import HEAD, bare_repo

HUB = HostRepo("github.com", "acme/postmortems", "https://github.com/acme/postmortems", "github")
LAB = HostRepo(
    "gitlab.example.com",
    "group/sub/project",
    "https://gitlab.example.com/group/sub/project",
    "gitlab",
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("git@github.com:acme/postmortems.git", HUB),
        ("https://github.com/acme/postmortems", HUB),
        ("https://github.com/acme/postmortems.git", HUB),
        ("https://github.com/acme/postmortems/", HUB),
        ("ssh://git@github.com/acme/postmortems.git", HUB),
        ("ssh://git@gitlab.example.com:2222/group/sub/project.git", LAB),
        ("git@gitlab.example.com:group/sub/project.git", LAB),
        (
            "https://oauth2:glpat-SECRET@gitlab.example.com:8443/group/sub/project.git",
            HostRepo(
                "gitlab.example.com",
                "group/sub/project",
                "https://gitlab.example.com:8443/group/sub/project",
                "gitlab",
            ),
        ),
        (
            "http://git.internal/team/pm.git",
            HostRepo("git.internal", "team/pm", "http://git.internal/team/pm", None),
        ),
    ],
)
def test_where_a_repository_lives(url: str, expected: HostRepo) -> None:
    assert where(url) == expected


def test_credentials_are_never_kept() -> None:
    found = where("https://user:ghp_SECRET@github.com/acme/postmortems.git")
    assert found == HUB
    assert "SECRET" not in repr(found) and "user" not in repr(found)


@pytest.mark.parametrize(
    "url",
    [
        "/srv/git/postmortems.git",
        "../postmortems",
        "file:///srv/git/postmortems.git",
        "C:\\repos\\postmortems",
        "C:/repos/postmortems",
        "C:Users/me/postmortems",  # a drive-relative Windows path, not host C
        "https://github.com/acme",  # no project
        "https://github.com/",
        "",
    ],
)
def test_a_local_path_or_half_a_url_has_no_host(url: str) -> None:
    assert where(url) is None


def test_links_to_open_a_pull_request_by_hand() -> None:
    assert new_pull_request_link(HUB, "postmortem/hotfix-001", "main") == (
        "https://github.com/acme/postmortems/compare/main...postmortem/hotfix-001?expand=1"
    )
    assert new_pull_request_link(LAB, "postmortem/hotfix-001", "release 1") == (
        "https://gitlab.example.com/group/sub/project/-/merge_requests/new"
        "?merge_request%5Bsource_branch%5D=postmortem%2Fhotfix-001"
        "&merge_request%5Btarget_branch%5D=release+1"
    )
    assert new_pull_request_link(HUB, "a#b?c", "main") == (
        "https://github.com/acme/postmortems/compare/main...a%23b%3Fc?expand=1"
    )
    unknown = HostRepo("git.internal", "team/pm", "https://git.internal/team/pm")
    assert new_pull_request_link(unknown, "x", "main") is None


GITHUB_PUSH = """\
Enumerating objects: 4, done.
Writing objects: 100% (3/3), 390 bytes | 195.00 KiB/s, done.
remote: Resolving deltas: 100% (1/1), completed with 1 local object.
remote:
remote: Create a pull request for 'postmortem/hotfix-001' on GitHub by visiting:
remote:      https://github.com/acme/postmortems/pull/new/postmortem/hotfix-001
remote:
To github.com:acme/postmortems.git
 * [new branch]      postmortem/hotfix-001 -> postmortem/hotfix-001
"""
GITLAB_PUSH = """\
remote: \x1b[K
remote: To create a merge request for postmortem/hotfix-001, visit:\x1b[K
remote:   https://gitlab.example.com/group/project/-/merge_requests/new?merge_request%5Bsource_branch%5D=postmortem%2Fhotfix-001\x1b[K
remote: \x1b[K
To gitlab.example.com:group/project.git
 * [new branch]      postmortem/hotfix-001 -> postmortem/hotfix-001
"""
GITLAB_PUSH_AGAIN = """\
remote:
remote: View merge request for postmortem/hotfix-001:
remote:   https://gitlab.example.com/group/project/-/merge_requests/7
remote:
To gitlab.example.com:group/project.git
   c6fd0b3..d9a3b21  postmortem/hotfix-001 -> postmortem/hotfix-001
"""


def test_the_link_a_remote_prints_on_push() -> None:
    assert link_from_push(GITHUB_PUSH) == (
        "https://github.com/acme/postmortems/pull/new/postmortem/hotfix-001"
    )
    assert link_from_push(GITLAB_PUSH) == (
        "https://gitlab.example.com/group/project/-/merge_requests/new"
        "?merge_request%5Bsource_branch%5D=postmortem%2Fhotfix-001"
    )
    assert link_from_push(GITLAB_PUSH_AGAIN) == (
        "https://gitlab.example.com/group/project/-/merge_requests/7"
    )
    plain = "To /srv/git/pm.git\n * [new branch]      x -> x\n"
    assert link_from_push(plain) is None
    assert link_from_push("remote: Create a pull request for 'x' on GitHub by visiting:\n") is None
    assert link_from_push("remote: see https://evil.example/x\n") is None


def test_host_for_needs_a_host_and_a_token() -> None:
    assert host_for("git@github.com:acme/postmortems.git", {}) is None
    assert host_for("/srv/git/pm.git", {"GITHUB_TOKEN": "t"}) is None
    assert host_for("git@github.com:acme/postmortems.git", {"GITHUB_TOKEN": "  "}) is None


def test_host_for_finds_each_hosts_api() -> None:
    public = host_for("git@github.com:acme/postmortems.git", {"GITHUB_TOKEN": "t"})
    assert isinstance(public, GitHubHost) and public.api == "https://api.github.com"
    enterprise = host_for("git@ghe.example.com:acme/pm.git", {"GITHUB_TOKEN": "t"})
    assert isinstance(enterprise, GitHubHost)
    assert enterprise.api == "https://ghe.example.com/api/v3"
    assert enterprise.repo.kind == "github"
    on_port = host_for("https://ghe.example.com:8443/acme/pm.git", {"GITHUB_TOKEN": "t"})
    assert isinstance(on_port, GitHubHost)
    assert on_port.api == "https://ghe.example.com:8443/api/v3"
    moved = host_for(
        "git@github.com:acme/pm.git",
        {"GITHUB_TOKEN": "t", "GITHUB_API_URL": "https://proxy.example/gh/"},
    )
    assert isinstance(moved, GitHubHost) and moved.api == "https://proxy.example/gh"
    lab = host_for("ssh://git@code.example.com:2222/g/p.git", {"GITLAB_TOKEN": "t"})
    assert isinstance(lab, GitLabHost) and lab.url == "https://code.example.com"
    assert lab.repo.kind == "gitlab"  # the token says GitLab, whatever the host's name
    own = host_for(
        "git@code.example.com:g/p.git", {"GITLAB_TOKEN": "t", "GITLAB_URL": "http://x:8"}
    )
    assert isinstance(own, GitLabHost) and own.url == "http://x:8"


@pytest.mark.parametrize("flavor", ["github", "gitlab"])
def test_host_for_talks_to_the_host(flavor: str, tmp_path: Path) -> None:
    """From the environment alone, as the bot will be configured (GitHub pausing between
    writes as GitHub asks)."""
    with GitHost(flavor, bare_repo(tmp_path), clock=Clock(START)) as fake:  # type: ignore[arg-type]
        env = (
            {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": fake.api_url}
            if flavor == "github"
            else {"GITLAB_TOKEN": TOKEN, "GITLAB_URL": fake.api_url}
        )
        host = host_for(f"{fake.web_url}.git", env)
        assert host is not None
        pr = host.open_pull_request(HEAD, "main", "Hotfix 1", "", ["alice"])
        assert fake.pulls[pr.number].reviewers == ["alice"]
        assert host.pull_request(pr.number).url == pr.url
