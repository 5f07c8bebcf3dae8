"""The git working clone against a real bare repository: commits, pushes, integration, outages."""

import subprocess
import threading

import pytest

from bot.publish import GitError, Refused, Repo, Unreachable, push_failure
from bot.publisher import Publisher

AUTHOR = ("postmortem-bot", "bot@example.com")


def git(*args, cwd=None):
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture
def remote(tmp_path):
    path = tmp_path / "remote.git"
    git("init", "--bare", "-q", "-b", "main", str(path))
    return path


def log(remote):
    return git("--git-dir", str(remote), "log", "--format=%s", "main").splitlines()


def test_commits_only_what_changed_and_pushes(tmp_path, remote):
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    first = repo.commit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1")
    assert first and repo.unpushed() == 1
    repo.push()
    assert repo.unpushed() == 0 and log(remote) == ["draft 1"]
    assert repo.commit({"hotfix-001/postmortem.md": "v1\n"}, "draft 2") is None
    assert log(remote) == ["draft 1"]
    author = git("--git-dir", str(remote), "log", "-1", "--format=%an <%ae>", "main").strip()
    assert author == "postmortem-bot <bot@example.com>"


def test_when_the_remote_moved_on_it_integrates_and_pushes_again(tmp_path, remote):
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    repo.commit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1")
    repo.push()
    other = tmp_path / "colleague"
    git("clone", "-q", str(remote), str(other))
    (other / "README.md").write_text("Our post-mortems\n")
    git("add", ".", cwd=other)
    git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "readme", cwd=other)
    git("push", "-q", cwd=other)

    repo.commit({"hotfix-002/postmortem.md": "v1\n"}, "hotfix-002 draft 1")
    repo.push()
    assert log(remote) == ["hotfix-002 draft 1", "readme", "draft 1"]
    assert repo.unpushed() == 0


def test_an_existing_remote_history_is_cloned_and_kept(tmp_path, remote):
    seed = tmp_path / "seed"
    git("clone", "-q", str(remote), str(seed))
    (seed / "hotfix-000").mkdir()
    (seed / "hotfix-000" / "postmortem.md").write_text("old\n")
    git("add", ".", cwd=seed)
    git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "old one", cwd=seed)
    git("push", "-q", "origin", "HEAD:main", cwd=seed)
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    repo.commit({"hotfix-001/postmortem.md": "new\n"}, "new one")
    repo.push()
    assert log(remote) == ["new one", "old one"]


def test_without_a_remote_it_is_a_local_repository(tmp_path):
    repo = Repo(tmp_path / "postmortems", None, "main", AUTHOR)
    assert repo.commit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1")
    repo.push()  # nothing to push to: no error
    assert git("log", "--format=%s", cwd=tmp_path / "postmortems").split() == ["draft", "1"]


def test_an_unreachable_remote_raises_and_the_publisher_keeps_going(tmp_path):
    missing = tmp_path / "nowhere.git"
    repo = Repo(tmp_path / "clone", str(missing), "main", AUTHOR)
    repo.commit({"a.md": "x\n"}, "one")
    with pytest.raises(GitError):
        repo.push()
    outcomes = []
    publisher = Publisher(repo).start()
    publisher.submit({"b.md": "y\n"}, "two", outcomes.append)
    publisher.wait_idle()
    assert outcomes[0].sha and not outcomes[0].pushed and "nowhere.git" in outcomes[0].error
    git("init", "--bare", "-q", "-b", "main", str(missing))
    publisher.retry_now()
    publisher.wait_idle()
    publisher.stop()
    assert log(missing) == ["two", "one"]


def test_a_remote_that_rejects_pushes_keeps_the_commit_until_it_accepts(tmp_path, remote):
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen during the audit' >&2\nexit 1\n")
    hook.chmod(0o755)
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    outcomes = []
    publisher = Publisher(repo).start()
    publisher.submit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1", outcomes.append)
    publisher.wait_idle()
    assert outcomes[0].sha and not outcomes[0].pushed
    assert "frozen during the audit" in outcomes[0].error
    hook.unlink()
    publisher.retry_now()
    publisher.wait_idle()
    publisher.stop()
    assert log(remote) == ["draft 1"] and repo.unpushed() == 0


def hook(remote, name, script):
    path = remote / "hooks" / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def test_a_push_the_remote_refuses_is_told_apart_from_an_unreachable_one(tmp_path, remote):
    hook(
        remote,
        "pre-receive",
        "echo 'Pushes are frozen during the audit.   ' >&2\necho '' >&2\n"
        "echo 'Ask <#infra> & wait.' >&2\nexit 1\n",
    )
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    repo.commit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1")
    with pytest.raises(Refused) as refused:
        repo.push()
    assert refused.value.reason == "pre-receive hook declined"
    assert refused.value.said == "Pushes are frozen during the audit. Ask <#infra> & wait."
    assert "POSTMORTEM_BRANCH" in refused.value.advice  # what a person can do about it
    assert "main" not in git("--git-dir", str(remote), "branch") and repo.unpushed() == 1

    away = Repo(tmp_path / "other", str(tmp_path / "nowhere.git"), "main", AUTHOR)
    away.commit({"a.md": "x\n"}, "one")
    with pytest.raises(Unreachable) as unreachable:
        away.push()
    assert not isinstance(unreachable.value, Refused)
    assert "does not appear to be a git repository" in str(unreachable.value)


def test_a_protected_branch_quotes_the_remote_not_git(tmp_path, remote):
    hook(
        remote,
        "update",
        'echo "error: GH006: Protected branch update failed for $1." >&2\n'
        "echo 'error: At least 1 approving review is required.' >&2\nexit 1\n",
    )
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    repo.commit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1")
    with pytest.raises(Refused) as refused:
        repo.push()
    assert refused.value.reason == "hook declined"
    assert refused.value.said == (
        "error: GH006: Protected branch update failed for refs/heads/main. "
        "error: At least 1 approving review is required."
    )  # not git's own "hook declined to update refs/heads/main"


def test_a_remote_still_ahead_after_integrating_is_a_refusal(tmp_path, remote):
    """Pushes go to a mirror that has a commit the fetched remote lacks: integrating what was
    fetched cannot make the push a fast-forward."""
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    repo.commit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1")
    repo.push()
    repo.commit({"hotfix-001/postmortem.md": "v2\n"}, "draft 2")
    mirror = tmp_path / "mirror.git"
    git("init", "--bare", "-q", "-b", "main", str(mirror))
    seed = tmp_path / "seed"
    git("clone", "-q", str(mirror), str(seed))
    git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "--allow-empty", "-m", "x",
        cwd=seed)  # fmt: skip
    git("push", "-q", "origin", "HEAD:main", cwd=seed)
    git("remote", "set-url", "--push", "origin", str(mirror), cwd=tmp_path / "clone")
    with pytest.raises(Refused) as refused:
        repo.push()
    assert refused.value.behind and refused.value.reason in ("fetch first", "non-fast-forward")
    assert "history" in refused.value.advice


@pytest.mark.parametrize(
    ("stderr", "said"),
    [
        (  # HTTPS: what GitHub answers a token without write access
            "remote: Permission to team/postmortems.git denied to postmortem-bot.\n"
            "fatal: unable to access 'https://github.com/team/postmortems.git/': The requested "
            "URL returned error: 403\n",
            "Permission to team/postmortems.git denied to postmortem-bot.",
        ),
        (  # SSH: a key the server does not know
            "git@github.com: Permission denied (publickey).\n"
            "fatal: Could not read from remote repository.\n",
            "git@github.com: Permission denied (publickey).",
        ),
    ],
)
def test_a_denied_push_is_a_refusal_with_the_servers_words(stderr, said):
    refused = push_failure("", stderr, "main")
    assert isinstance(refused, Refused) and refused.reason == "permission denied"
    assert refused.said == said and "write access" in refused.advice


def test_the_publisher_counts_refusals_in_a_row_until_a_push_goes_through(tmp_path, remote):
    refusing = hook(remote, "pre-receive", "echo 'frozen' >&2\nexit 1\n")
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    publisher = Publisher(repo)
    seen, pushed = [], []
    publisher.on_refused = lambda refused, times: seen.append((refused.said, times))
    publisher.on_pushed = lambda: pushed.append(True)
    publisher.start()
    outcomes = []
    publisher.submit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1", outcomes.append)
    publisher.retry_now()
    publisher.retry_now()
    publisher.wait_idle()
    assert outcomes[0].sha and not outcomes[0].pushed and outcomes[0].committed
    assert outcomes[0].refused is not None and outcomes[0].refused.said == "frozen"
    assert seen == [("frozen", 1), ("frozen", 2), ("frozen", 3)]
    refusing.unlink()
    publisher.retry_now()
    publisher.wait_idle()
    publisher.stop()
    assert pushed == [True] and publisher.refusals == 0 and log(remote) == ["draft 1"]


def test_a_failing_callback_does_not_stop_the_git_thread(tmp_path, remote):
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    publisher = Publisher(repo).start()

    def broken(outcome):
        raise RuntimeError("Slack is down")

    publisher.submit({"a.md": "1\n"}, "one", broken)
    outcomes = []
    publisher.submit({"a.md": "2\n"}, "two", outcomes.append)
    publisher.wait_idle()
    publisher.stop()
    assert outcomes and outcomes[0].pushed and log(remote) == ["two", "one"]


def test_the_publisher_sends_review_drafts_to_their_branch_and_retries_them(tmp_path, remote):
    hook(remote, "pre-receive", "echo 'frozen' >&2\nexit 1\n")
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    outcomes, watched = [], []
    publisher = Publisher(repo).start()
    publisher.watch = lambda: watched.append(True)
    branch = "postmortem/hotfix-001"
    publisher.submit({"hotfix-001/postmortem.md": "v1\n"}, "draft 1", outcomes.append, branch)
    publisher.wait_idle()
    assert outcomes[0].branch == branch and outcomes[0].sha and not outcomes[0].pushed
    assert outcomes[0].refused is not None and "frozen" in outcomes[0].refused.said
    (remote / "hooks" / "pre-receive").unlink()
    publisher.retry_now()
    publisher.wait_idle()
    publisher.stop()
    assert git("--git-dir", str(remote), "log", "--format=%s", branch).splitlines() == ["draft 1"]
    assert git("--git-dir", str(remote), "branch", "--list", "main").strip() == ""
    assert watched  # the review watcher runs with each retry


def test_the_watcher_gets_its_turn_while_jobs_keep_coming(tmp_path, remote):
    repo = Repo(tmp_path / "clone", str(remote), "main", AUTHOR)
    publisher = Publisher(repo, retry_every_s=0.2).start()
    watched = threading.Event()
    publisher.watch = watched.set
    for _ in range(200):  # a job every 10 ms, far more often than the retry's 200 ms
        publisher.run(lambda: None)
        if watched.wait(0.01):
            break
    publisher.stop()
    assert watched.is_set()
