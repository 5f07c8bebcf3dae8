"""The code host of POSTMORTEM_REPO (GitHub, GitHub Enterprise, GitLab): where it is, links to
open a pull request by hand, and pull requests through the host's API when a token is set.
Plain modules: no Slack, no store. `host_for` picks the client from the environment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from bot.hosts.model import Comment, ErrorKind, Host, HostError, PullRequest, State
from bot.hosts.urls import HostRepo, link_from_push, new_pull_request_link, where

__all__ = [
    "Comment",
    "ErrorKind",
    "Host",
    "HostError",
    "HostRepo",
    "PullRequest",
    "State",
    "host_for",
    "link_from_push",
    "new_pull_request_link",
    "where",
]


def host_for(repo_url: str, env: Mapping[str, str]) -> Host | None:
    """The client for POSTMORTEM_REPO's host, or None (a local path, or no token). GitHub when
    GITHUB_TOKEN is set (API: GITHUB_API_URL, else api.github.com for github.com and
    `https://HOST/api/v3` for GitHub Enterprise Server); else GitLab when GITLAB_TOKEN is set
    (GITLAB_URL, else `https://HOST`). Nothing is called until a method is."""
    found = where(repo_url)
    if found is None:
        return None
    github_token = env.get("GITHUB_TOKEN", "").strip()
    gitlab_token = env.get("GITLAB_TOKEN", "").strip()
    if github_token:
        from bot.hosts.github import GitHubHost

        api = env.get("GITHUB_API_URL", "").strip() or None
        return GitHubHost(replace(found, kind="github"), github_token, api=api)
    if gitlab_token:
        from bot.hosts.gitlab import GitLabHost

        url = env.get("GITLAB_URL", "").strip() or None
        return GitLabHost(replace(found, kind="gitlab"), gitlab_token, url=url)
    return None
