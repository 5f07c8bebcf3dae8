"""Secrets and files (issue 13): credentials in POSTMORTEM_REPO never leave the bot, the bot's
files are its own user's only whatever the umask, and the settings git is given can never be
options to it. Through the running bot and the strict Slack emulator, real git (over HTTP with
a token, served by `git http-backend`), and `python -m bot check` / `run` as processes."""

import base64
import io
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot import logs
from bot.config import ConfigError, load_config
from bot.publisher import Publisher
from bot.sandbox import BOT_TOKEN, SIGNING_SECRET
from bot.sandbox.harness import serve
from bot.slack.app import repo_for
from bot.store import Store
from tests import test_process
from tests.conftest import Clock, make_config, wait_for
from tests.test_publish_flow import T0, quiet, resolve_with_a_draft

TOKEN = "ghp_S3cr3tT0kenFromTheVault42"


class GitOverHttp(BaseHTTPRequestHandler):
    """Smart HTTP through `git http-backend` (git's own CGI server), for one bare repository
    under `root`; like a forge, it asks for credentials (401) and takes only TOKEN."""

    root = ""

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._serve()

    def do_POST(self):
        self._serve()

    def _serve(self):
        sent = self.headers.get("Authorization", "")
        if sent != "Basic " + base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode():
            self.send_response(401 if not sent else 403)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        path, _, query = self.path.partition("?")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        env = {
            "PATH": os.environ["PATH"],
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "x-access-token",
            "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
            "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
        }
        done = subprocess.run(
            ["git", "http-backend"], input=body, env=env, capture_output=True, check=True
        )
        head, _, payload = done.stdout.partition(b"\r\n\r\n")
        headers = [line.split(":", 1) for line in head.decode().split("\r\n") if ":" in line]
        status = next((int(v.split()[0]) for k, v in headers if k.lower() == "status"), 200)
        self.send_response(status)
        for key, value in headers:
            if key.lower() != "status":
                self.send_header(key, value.strip())
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@contextmanager
def http_remote(tmp_path):
    """(the URL with the token in it, the bare repository behind it)."""
    bare = tmp_path / "srv" / "org" / "pm.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(bare)], check=True)
    handler = type("Handler", (GitOverHttp,), {"root": str(tmp_path / "srv")})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://x-access-token:{TOKEN}@127.0.0.1:{server.server_port}/org/pm.git", bare
    finally:
        server.shutdown()
        server.server_close()


def everything_slack_got(slack):
    """Every Web API call the bot made and every message, DM and ephemeral people see."""
    with slack.ws.lock:
        seen = [repr(slack.api.calls), repr(slack.ws.ephemerals)]
        seen += [repr(channel.messages) for channel in slack.ws.channels.values()]
    return "\n".join(seen)


def env_for(slack, tmp_path, **settings):
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "POSTMORTEM_"))},
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_PATH": str(tmp_path / "data" / "incidents.db"),
        **settings,
    }


def bot_command(command, env, cwd):
    """`python -m bot <command>` as a process: (exit code, everything it printed)."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


# --- credentials in the repository URL ------------------------------------------------------


def test_the_token_is_in_no_draft_summary_refusal_dm_or_notice(slack, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with http_remote(tmp_path) as (url, bare):
        hidden = url.replace(f"x-access-token:{TOKEN}", "***")
        refusing = bare / "hooks" / "pre-receive"
        refusing.write_text(f"#!/bin/sh\necho 'frozen; was pushed to {url}' >&2\nexit 1\n")
        refusing.chmod(0o755)
        config = make_config(tmp_path, slack, POSTMORTEM_REPO=url)
        store = Store(config.database_path)
        clock = Clock(T0)
        with serve(slack, config, store, clock) as bot:
            channel = resolve_with_a_draft(slack, bot, clock)
            draft = next(m for m in channel.messages if m.files)
            assert "refused the push" in draft.text and f"`{hidden}`" in draft.text
            for _ in range(2):  # two more refusals in a row: the commander hears it by DM
                bot.publisher.retry_now()
                quiet(bot)
            dm = wait_for(
                lambda: [
                    m for m in slack.ws.im(slack.user("alice")).messages if "refused" in m.text
                ],
                what="the commander's DM",
            )
            assert f"`{hidden}`" in dm[-1].text
            refusing.unlink()
            bot.publisher.retry_now()  # now it goes in, and the channel hears so
            quiet(bot)
            assert any("is now in the repository" in m.text for m in channel.messages)
            pushed = subprocess.run(
                ["git", "--git-dir", str(bare), "log", "--format=%s", "main"],
                capture_output=True,
                text=True,
            )
            assert "hotfix-001" in pushed.stdout  # the token in the URL was really used
        store.close()
    assert TOKEN not in everything_slack_got(slack)
    assert TOKEN not in caplog.text


def test_what_git_says_about_the_url_reaches_nobody_with_the_token(slack, tmp_path, caplog):
    # git:// has no room for credentials: git quotes them back ("unable to look up
    # x-access-token:<token>@127.0.0.1:1"), and the draft summary shows git's words.
    caplog.set_level(logging.DEBUG)
    config = make_config(
        tmp_path, slack, POSTMORTEM_REPO=f"git://x-access-token:{TOKEN}@127.0.0.1:1/org/pm.git"
    )
    store = Store(config.database_path)
    clock = Clock(T0)
    with serve(slack, config, store, clock) as bot:
        channel = resolve_with_a_draft(slack, bot, clock)
        draft = next(m for m in channel.messages if m.files)
        assert "not reachable" in draft.text and "***@127.0.0.1" in draft.text
    store.close()
    assert TOKEN not in everything_slack_got(slack)
    assert "not reachable, will retry" in caplog.text
    assert TOKEN not in caplog.text


def test_check_never_prints_the_token(slack, tmp_path):
    with http_remote(tmp_path) as (url, _):
        code, out = bot_command("check", env_for(slack, tmp_path, POSTMORTEM_REPO=url), tmp_path)
    assert TOKEN not in out
    assert code == 0, out
    assert "reachable and writable: http://***@127.0.0.1:" in out
    unreachable = f"git://x-access-token:{TOKEN}@127.0.0.1:1/org/pm.git"
    code, out = bot_command(
        "check", env_for(slack, tmp_path, POSTMORTEM_REPO=unreachable), tmp_path
    )
    assert TOKEN not in out
    assert code == 1 and "not reachable" in out and "***@127.0.0.1" in out


def test_the_log_hides_url_credentials_whoever_logs_them():
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    logs.configure("INFO", json_lines=True, to=out)  # as in production, into memory
    try:
        log = logging.getLogger("bot.anywhere")
        log.warning("cloning %s", f"https://x-access-token:{TOKEN}@github.com/org/pm.git")
        log.warning("cloning https://%s@gitlab.example/org/pm.git", TOKEN)
        log.warning("pushing to user:%s@host.example:org/pm.git", TOKEN)
    finally:
        logs.stop()
        root.handlers[:], root.level = saved
    written = out.getvalue()
    assert "https://***@github.com/org/pm.git" in written
    assert "https://***@gitlab.example/org/pm.git" in written
    assert TOKEN not in written


# --- files only the bot's user can read -----------------------------------------------------


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask-022", "umask-000"])
def test_the_bots_files_are_private_whatever_the_umask(slack, tmp_path, umask):
    remote = tmp_path / "pm.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(remote)], check=True)
    config = make_config(tmp_path, slack, POSTMORTEM_REPO=str(remote))
    before = os.umask(umask)
    try:
        store = Store(config.database_path)
        store.db.execute("CREATE TABLE IF NOT EXISTS probe (x)")  # the -wal and -shm exist
        publisher = Publisher(repo_for(config)).start()
        outcomes = []
        publisher.submit({"hotfix-001/postmortem.md": "# draft\n"}, "draft", outcomes.append)
        publisher.wait_idle()
        publisher.stop()
    finally:
        os.umask(before)
    assert outcomes and outcomes[0].pushed
    data = tmp_path / "data"
    files = {
        "data folder": data,
        "database": data / "incidents.db",
        "-wal": data / "incidents.db-wal",
        "-shm": data / "incidents.db-shm",
        "clone": data / "repo",
        "clone's .git/config": data / "repo" / ".git" / "config",
    }
    modes = {name: oct(mode(path)) for name, path in files.items()}
    store.close()
    assert modes == {
        "data folder": "0o700",
        "database": "0o600",
        "-wal": "0o600",
        "-shm": "0o600",
        "clone": "0o700",
        "clone's .git/config": "0o600",
    }


def test_a_database_others_could_read_is_made_private_at_start(tmp_path):
    path = tmp_path / "incidents.db"
    files = [path, tmp_path / "incidents.db-wal", tmp_path / "incidents.db-shm"]
    before = os.umask(0o022)
    try:
        earlier = sqlite3.connect(path)  # an earlier version's database, still open (a crash)
        earlier.execute("PRAGMA journal_mode=WAL")
        earlier.execute("CREATE TABLE old (x)")
        earlier.commit()
        assert [mode(f) for f in files] == [0o644] * 3
        store = Store(path)
        modes = [mode(f) for f in files]
        store.close()
        earlier.close()
    finally:
        os.umask(before)
    assert modes == [0o600] * 3


def test_check_flags_a_data_folder_and_database_others_can_read(slack, tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "incidents.db").touch()
    (data / "incidents.db").chmod(0o644)
    code, out = bot_command("check", env_for(slack, tmp_path), tmp_path)
    assert code == 1, out
    assert f"Other users of this machine can read the data folder {data} (mode 755)" in out
    assert f"→ chmod 700 {data}" in out
    assert f"→ chmod 600 {data / 'incidents.db'}" in out
    data.chmod(0o700)
    (data / "incidents.db").chmod(0o600)
    code, out = bot_command("check", env_for(slack, tmp_path), tmp_path)
    assert code == 0, out
    assert f"✓ The data folder is the bot's user's only: {data}" in out


# --- settings that reach git ----------------------------------------------------------------


def test_a_repo_setting_that_git_would_read_as_an_option_runs_nothing(slack, tmp_path):
    # Deployed from a git checkout with an `origin`: `git ls-remote --heads <option>` would
    # list origin with the given --upload-pack, running the command.
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(bare)], check=True)
    deploy = tmp_path / "deploy"
    subprocess.run(["git", "init", "-q", str(deploy)], check=True)
    subprocess.run(["git", "-C", str(deploy), "remote", "add", "origin", str(bare)], check=True)
    marker = tmp_path / "ran"
    env = env_for(slack, tmp_path, POSTMORTEM_REPO=f"--upload-pack=touch {marker}")
    for command in ("check", "run"):
        code, out = bot_command(command, env, deploy)
        assert not marker.exists(), f"`{command}` ran the command in POSTMORTEM_REPO"
        assert code == 2, out
        assert "POSTMORTEM_REPO: it must not begin with `-` (git would read it as an option)" in out
        assert "Traceback" not in out


@pytest.mark.parametrize(
    ("branch", "rule"),
    [
        ("--force", "it must not begin with `-` (git would read it as an option)"),
        ("-x", "it must not begin with `-` (git would read it as an option)"),
        ("a.lock", "no part of it (between slashes) can end with .lock"),
        ("foo/", "it cannot begin or end with / or contain //"),
        (".hidden", "no part of it (between slashes) can begin with a dot"),
    ],
)
def test_a_branch_name_git_refuses_is_refused_at_start_naming_the_rule(
    slack, tmp_path, branch, rule
):
    with pytest.raises(ConfigError) as refused:
        load_config(env_for(slack, tmp_path, POSTMORTEM_BRANCH=branch))
    assert str(refused.value) == (
        f"POSTMORTEM_BRANCH: {branch!r} is not a branch name git accepts: {rule}"
    )
    assert subprocess.run(["git", "check-ref-format", "--branch", branch]).returncode != 0


def test_branch_names_git_accepts_are_taken(slack, tmp_path):
    for branch in ("main", "release/2026-q4", "post-mortems", "team_a/drafts.v2"):
        assert load_config(env_for(slack, tmp_path, POSTMORTEM_BRANCH=branch)).branch == branch


@pytest.mark.parametrize("where", ["under a file", "in /proc"])
def test_check_says_when_the_data_folder_cannot_be_made_and_gives_no_chmod_advice(
    slack, tmp_path, where
):
    """Found by a new user: `check` said "Ready to run" for a folder `run` could not make, and
    for a path under a file advised `chmod 700` on the file, then crashed."""
    (tmp_path / "afile").write_text("not a folder")
    path = tmp_path / "afile" / "x.db" if where == "under a file" else "/proc/pmbot/x.db"
    code, out = bot_command("check", env_for(slack, tmp_path, DATABASE_PATH=str(path)), tmp_path)
    assert code == 1, out
    assert "Traceback" not in out and "chmod" not in out, out
    assert "→ Point DATABASE_PATH at a file in a writable (persistent) folder." in out
    assert ("is a file" if where == "under a file" else "is not writable") in out


def test_run_warns_of_a_data_folder_others_can_enter(slack, tmp_path):
    """`run` leaves a folder it did not make as it is, and says so in its log."""
    data = tmp_path / "deep"  # test_process.bot_process's data folder
    data.mkdir()
    data.chmod(0o755)
    with test_process.bot_process(tmp_path, slack, SLACK_SIGNING_SECRET=SIGNING_SECRET) as bot:
        pass
    assert f"other users of this machine can enter the data folder {data} (mode 755)" in (
        bot.output
    )
