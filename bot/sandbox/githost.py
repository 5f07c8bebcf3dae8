"""A local code host for tests and the sandbox: GitHub's REST API (as github.com's and GitHub
Enterprise's /api/v3) or GitLab's /api/v4, for one repository whose branches are those of a
real bare repository. Strict like the hosts; merges, closes and comments come from helpers."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from bot.sandbox.githost_records import Answer, Fault, Note, Pull

Flavor = Literal["github", "gitlab"]
TOKEN = "host-token-write"  # an account with write access
READ_TOKEN = "host-token-read"  # an account that can see the repository, not write to it
BOT = "postmortem-bot"


class GitHost:
    """Repository `repo` ("acme/postmortems") on a GitHub or GitLab served on 127.0.0.1.
    Branches: those of the bare repository `bare` (read with `git rev-parse`). `members`
    may be asked for reviews; `others` are users who exist but are not members; TOKEN is
    BOT's write token, READ_TOKEN a reader's. `clock` gives every time the host records."""

    def __init__(
        self,
        flavor: Flavor,
        bare: Path,
        *,
        repo: str = "acme/postmortems",
        members: tuple[str, ...] = ("alice", "bob", "carol"),
        others: tuple[str, ...] = ("mallory",),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        port: int = 0,
    ) -> None:
        self.flavor = flavor
        self.bare = bare
        self.repo = repo
        self.clock = clock
        self.members = {BOT, *members}
        self.user_ids = {name: 100 + i for i, name in enumerate([BOT, *members, *others])}
        self.tokens = {TOKEN: BOT, READ_TOKEN: members[0] if members else "reader"}
        self.writers = {TOKEN}
        self.pulls: dict[int, Pull] = {}
        self.notes: list[Note] = []
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, in order
        # GitHub numbers conversation and review comments apart; GitLab's notes share one.
        self._ids = {"issue": 2_000_000, "review": 900_000, "note": 5_000}
        self.lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """GITHUB_API_URL (Enterprise shape, /api/v3) or GITLAB_URL (the host itself)."""
        return self.base_url + "/api/v3" if self.flavor == "github" else self.base_url

    @property
    def web_url(self) -> str:
        return f"{self.base_url}/{self.repo}"

    def start(self) -> GitHost:
        self._thread = threading.Thread(target=lambda: self._server.serve_forever(0.05))
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (and free the port); again, or before start, does nothing more."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> GitHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what people do on the host (test helpers) ---------------------------------------

    def merge(self, number: int, *, by: str = "alice") -> None:
        """`by` merges #`number` now (by the host's clock), as on the host's page."""
        with self.lock:
            pull = self.pulls[number]
            assert pull.state == "open", f"#{number} is {pull.state}"
            assert by in self.user_ids, f"{by} has no account on this host"
            pull.state, pull.merged_by = "merged", by
            pull.merged_at = pull.closed_at = pull.updated_at = self.clock()
            self._system(number, "merged")

    def close(self, number: int, *, by: str = "alice") -> None:
        """`by` closes #`number` unmerged, now."""
        with self.lock:
            pull = self.pulls[number]
            assert pull.state == "open", f"#{number} is {pull.state}"
            pull.state, pull.closed_by, pull.closed_at = "closed", by, self.clock()
            self._system(number, "closed")

    def comment(
        self,
        number: int,
        body: str,
        *,
        by: str = "alice",
        path: str | None = None,
        line: int | None = None,
    ) -> int:
        """A comment on #`number` (on line `line` of `path` in its diff, if given); its id."""
        with self.lock:
            assert number in self.pulls, f"no pull request #{number}"
            kind = "note" if self.flavor == "gitlab" else "review" if path else "issue"
            self._ids[kind] += 1
            note = Note(self._ids[kind], number, by, body, self.clock(), path, line)
            self.notes.append(note)
            return note.id

    def _system(self, number: int, body: str) -> None:
        if self.flavor == "gitlab":
            self._ids["note"] += 1
            self.notes.append(Note(self._ids["note"], number, BOT, body, self.clock(), system=True))

    def fail(
        self,
        method: str,
        path_end: str,
        status: int,
        body: Any,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` `method` requests to a path ending in `path_end` so."""
        self.faults.append(Fault(method, path_end, (status, body, headers or {}), times))

    def rate_limit(self, retry_after: int = 60, times: int = 1, *, hourly: bool = False) -> None:
        """The next requests are refused as the host refuses too many: GitHub's secondary
        rate limit (403, Retry-After) or, `hourly`, its primary one (403, no Retry-After,
        `x-ratelimit-remaining: 0` and the reset's epoch second); GitLab's 429 (Retry-After)."""
        if self.flavor == "github" and hourly:
            reset = int(self.clock().timestamp()) + retry_after
            body = {
                "message": f"API rate limit exceeded for user ID {self.user_ids[BOT]}.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            }
            limits = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-reset": str(reset),
                "x-ratelimit-resource": "core",
            }
            self.fail("*", "", 403, body, limits, times)
        elif self.flavor == "github":
            body = {
                "message": "You have exceeded a secondary rate limit. Please wait a few "
                "minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
            }
            self.fail("*", "", 403, body, {"Retry-After": str(retry_after)}, times)
        else:
            self.fail("*", "", 429, "Retry later", {"Retry-After": str(retry_after)}, times)

    # --- what the host knows -------------------------------------------------------------

    def sha(self, branch: str) -> str | None:
        """The commit at the tip of `branch` in the bare repository, or None (no such
        branch): the host knows only what was pushed."""
        if not branch or branch.startswith("-"):
            return None
        found = subprocess.run(
            [
                "git",
                "--git-dir",
                str(self.bare),
                "rev-parse",
                "--verify",
                "--quiet",
                f"refs/heads/{branch}^{{commit}}",
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return found.stdout.strip() or None

    def open_pull(self, head: str, base: str, title: str, body: str, author: str) -> Pull:
        with self.lock:
            number = max(self.pulls, default=0) + 1
            now = self.clock()
            pull = Pull(
                number, head, base, title, body, author, now, self.sha(head) or "", updated_at=now
            )
            self.pulls[number] = pull
            return pull

    def open_from(self, head: str) -> Pull | None:
        return next((p for p in self.pulls.values() if p.head == head and p.state == "open"), None)

    def fault_for(self, method: str, path: str) -> Answer | None:
        with self.lock:
            for fault in self.faults:
                if fault.method in (method, "*") and path.endswith(fault.path_end):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault.answer
        return None


def _handler(host: GitHost) -> type[BaseHTTPRequestHandler]:
    from bot.sandbox.githost_github import answer_github
    from bot.sandbox.githost_gitlab import answer_gitlab

    answer = answer_github if host.flavor == "github" else answer_gitlab

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            host.requests.append((self.command, parts.path))
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = None
            status, payload, headers = host.fault_for(self.command, parts.path) or answer(
                host,
                self.command,
                parts.path,
                dict(parse_qsl(parts.query)),
                body,
                dict(self.headers.items()),
            )
            text = isinstance(payload, str)  # GitLab's 429 is plain text: "Retry later"
            data = payload.encode() if text else json.dumps(payload).encode()
            self.send_response(status)
            kind = "text/plain" if text else "application/json"
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler
