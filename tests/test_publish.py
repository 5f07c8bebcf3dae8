"""The git working clone against a real bare repository: commits, pushes, integration, outages."""

import subprocess

import pytest

from bot.publish import GitError, Publisher, Repo

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
