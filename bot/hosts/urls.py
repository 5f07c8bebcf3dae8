"""Where POSTMORTEM_REPO lives on the web (host, owner/project path, web URL) and the links a
person follows to open a pull request there by hand, with no token."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

Kind = Literal["github", "gitlab"]

# git's own rule (urls(7)): `[user@]host:path` is scp-like when a colon comes before any slash.
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/\[\]]+):(?P<path>(?!/).+)$")
_SCHEMES = {"ssh", "git", "git+ssh", "ssh+git", "http", "https"}
# What a remote prints on `git push` of a new branch (seen in real push output): GitHub's
# "remote: Create a pull request for 'B' on GitHub by visiting:" and GitLab's
# "remote: To create a merge request for B, visit:" (or, once one is open, "remote: View
# merge request for B:"), each followed by a `remote:` line holding the URL.
_LINK_INTRO = re.compile(
    r"^remote:\s*(?:Create a pull request for .+ by visiting:"
    r"|To create a merge request for .+, visit:"
    r"|View merge request for .+:)\s*$"
)
_LINK_LINE = re.compile(r"^remote:\s+(?P<url>https?://\S+)\s*$")
_ESCAPES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class HostRepo:
    """A repository on a web host: `host` the name alone ("github.com", no port, no user),
    `path` the owner/project path ("acme/postmortems", "group/sub/project"), `web_url` its
    page ("https://github.com/acme/postmortems"; http only if POSTMORTEM_REPO said http) and
    `kind` the host's software as guessed from its name (None: neither "github" nor "gitlab"
    in it; host_for sets it from the token given)."""

    host: str
    path: str
    web_url: str
    kind: Kind | None = None

    @property
    def owner(self) -> str:
        """The owner (GitHub) or top group (GitLab): "acme"."""
        return self.path.split("/", 1)[0]


def guess_kind(host: str) -> Kind | None:
    name = host.lower()
    if "github" in name:
        return "github"
    if "gitlab" in name:
        return "gitlab"
    return None


def where(repo_url: str) -> HostRepo | None:
    """The web host of POSTMORTEM_REPO, or None for a local path, a file:// URL or anything
    without a host and an owner/project path. Credentials (`https://user:token@host/...`) and
    an SSH port are never kept: the web URL is `https://HOST[:web port]/PATH` without `.git`."""
    repo_url = repo_url.strip()
    scp = None if "://" in repo_url else _SCP.match(repo_url)
    if scp is not None:
        host, port, path, scheme = scp["host"], None, scp["path"], "https"
        if len(host) == 1:  # C:\repo or C:/repo: a Windows drive, not a host
            return None
    else:
        try:
            parts = urlsplit(repo_url)
            port = parts.port
        except ValueError:
            return None
        if parts.scheme.lower() not in _SCHEMES or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
        web = parts.scheme.lower() in {"http", "https"}
        scheme = parts.scheme.lower() if web else "https"
        port = port if web else None
    path = path.strip("/").removesuffix(".git").strip("/")
    if path.count("/") < 1 or any(not part or part in {".", ".."} for part in path.split("/")):
        return None
    netloc = host if port is None else f"{host}:{port}"
    return HostRepo(host, path, f"{scheme}://{netloc}/{path}", guess_kind(host))


def new_pull_request_link(host_repo: HostRepo, head: str, base: str) -> str | None:
    """The host's page to open a pull request from `head` into `base` by hand (no token):
    GitHub's compare page (`/compare/BASE...HEAD?expand=1`), GitLab's new merge request
    form (`/-/merge_requests/new?merge_request[source_branch]=HEAD&...[target_branch]=BASE`,
    brackets encoded as GitLab encodes them). None when the host's kind is unknown."""
    if host_repo.kind == "github":
        return (
            f"{host_repo.web_url}/compare/"
            f"{quote(base, safe='/')}...{quote(head, safe='/')}?expand=1"
        )
    if host_repo.kind == "gitlab":
        query = urlencode(
            {"merge_request[source_branch]": head, "merge_request[target_branch]": base}
        )
        return f"{host_repo.web_url}/-/merge_requests/new?{query}"
    return None


def link_from_push(stderr: str) -> str | None:
    """The pull/merge request link a remote printed on `git push` (its stderr, as git gives
    it: `remote:` lines, perhaps with terminal escapes), or None if it printed none."""
    lines = [_ESCAPES.sub("", line).rstrip() for line in stderr.splitlines()]
    for intro, following in itertools.pairwise(lines):
        if _LINK_INTRO.match(intro):
            found = _LINK_LINE.match(following)
            if found:
                return found["url"]
    return None
