"""Review branches against a real bare repository: a branch per incident, each way of merging
it (merge commit, squash, rebase), closing without merging, reviewers' commits on the branch,
and a new branch after a reopen. Colleagues act with plain git in clones of their own."""

import subprocess

import pytest

from bot.branches import Branches, ReviewConflict, review_branch
from bot.publish import Repo
from tests.reviewing import git

AUTHOR = ("postmortem-bot", "bot@example.com")
PM = "hotfix-001/postmortem.md"
LOG = "hotfix-001/hotfix.md"
BRANCH = "postmortem/hotfix-001"
DRAFT = "# hotfix-001\n\n## Summary\n\nTBD\n\n## Root cause\n\nTBD\n\n## Lessons\n\nTBD\n"


@pytest.fixture
def remote(tmp_path):
    path = tmp_path / "remote.git"
    git("init", "--bare", "-q", "-b", "main", str(path))
    seed = tmp_path / "seed"
    git("clone", "-q", str(path), str(seed))
    (seed / "README.md").write_text("Our post-mortems\n")
    git("add", ".", cwd=seed)
    as_person(seed, "commit", "-qm", "readme")
    git("push", "-q", "origin", "main", cwd=seed)
    return path


def as_person(cwd, *args, name="Alice Reviewer"):
    return git("-c", f"user.name={name}", "-c", "user.email=alice@example.com", *args, cwd=cwd)


@pytest.fixture
def colleague(tmp_path, remote):
    """A person's clone: fetches, merges and pushes as people do."""
    path = tmp_path / "alice"
    git("clone", "-q", str(remote), str(path))
    return path


@pytest.fixture
def branches(tmp_path, remote):
    return Branches(Repo(tmp_path / "clone", str(remote), "main", AUTHOR))


def on_remote(remote, ref, path):
    return git("--git-dir", str(remote), "show", f"{ref}:{path}")


def draft(branches, text, log="log v1\n", branch=BRANCH):
    sha = branches.commit(branch, {PM: text, LOG: log}, "hotfix-001: draft")
    if sha:
        branches.push(branch)
    return sha


def checkout_review(colleague):
    git("fetch", "-q", "origin", cwd=colleague)
    git("checkout", "-q", "-B", BRANCH, f"origin/{BRANCH}", cwd=colleague)


def test_each_draft_goes_to_the_incidents_branch_and_never_to_the_base(branches, remote):
    assert draft(branches, DRAFT)
    assert on_remote(remote, BRANCH, PM) == DRAFT
    with pytest.raises(subprocess.CalledProcessError):
        on_remote(remote, "main", PM)
    assert draft(branches, DRAFT.replace("TBD", "Checkout failed", 1))
    assert draft(branches, DRAFT.replace("TBD", "Checkout failed", 1)) is None  # no change
    history = git("--git-dir", str(remote), "log", "--format=%s", BRANCH).splitlines()
    assert history == ["hotfix-001: draft", "hotfix-001: draft", "readme"]
    assert branches.merged(BRANCH, PM) is None


def merge_commit(colleague):
    git("checkout", "-q", "main", cwd=colleague)
    git("pull", "-q", cwd=colleague)
    as_person(colleague, "merge", "--no-ff", "-q", "-m", "Merge hotfix-001", f"origin/{BRANCH}")


def squash(colleague):
    git("checkout", "-q", "main", cwd=colleague)
    git("pull", "-q", cwd=colleague)
    as_person(colleague, "merge", "--squash", "-q", f"origin/{BRANCH}")
    as_person(colleague, "commit", "-qm", "hotfix-001 post-mortem (#12)")


def rebase(colleague):
    checkout_review(colleague)
    as_person(colleague, "rebase", "-q", "main")  # nothing new on main: replayed anew instead
    git("checkout", "-q", "main", cwd=colleague)
    as_person(colleague, "cherry-pick", f"main..{BRANCH}")  # new commits, new ids


@pytest.mark.parametrize("merge", [merge_commit, squash, rebase])
def test_a_merge_of_any_style_is_noticed_with_who_when_and_the_merged_text(
    branches, remote, colleague, merge
):
    draft(branches, DRAFT)
    checkout_review(colleague)
    (colleague / PM).write_text(DRAFT.replace("## Lessons\n\nTBD", "## Lessons\n\nTest it"))
    as_person(colleague, "commit", "-qam", "review: lessons")
    git("push", "-q", "origin", BRANCH, cwd=colleague)
    branches.fetch()
    assert branches.merged(BRANCH, PM) is None

    merge(colleague)
    git("push", "-q", "origin", "main", cwd=colleague)
    git("push", "-q", "origin", "--delete", BRANCH, cwd=colleague)  # "delete branch"
    branches.fetch()
    merged = branches.merged(BRANCH, PM)
    assert merged is not None
    assert merged.by == "Alice Reviewer"
    assert merged.at.utcoffset().total_seconds() == 0
    assert "Test it" in merged.postmortem  # the reviewer's edit is the final text
    assert merged.commit == git("rev-parse", "main", cwd=colleague).strip()


def test_a_branch_deleted_without_merging_is_gone_and_not_merged(branches, remote, colleague):
    draft(branches, DRAFT)
    branches.fetch()
    assert branches.on_remote(BRANCH)
    git("push", "-q", "origin", "--delete", BRANCH, cwd=colleague)
    branches.fetch()
    assert not branches.on_remote(BRANCH)
    assert branches.merged(BRANCH, PM) is None


def test_reviewers_commits_stay_and_the_next_draft_adds_only_its_own_change(
    branches, remote, colleague
):
    draft(branches, DRAFT)
    checkout_review(colleague)
    reviewed = DRAFT.replace("## Summary\n\nTBD", "## Summary\n\nCheckout was down 40 min")
    (colleague / PM).write_text(reviewed)
    as_person(colleague, "commit", "-qam", "review: summary")
    git("push", "-q", "origin", BRANCH, cwd=colleague)

    # the bot's next draft changes another section (and would say TBD in the summary)
    assert draft(branches, DRAFT.replace("## Lessons\n\nTBD", "## Lessons\n\nAlert sooner"))
    text = on_remote(remote, BRANCH, PM)
    assert "Checkout was down 40 min" in text and "Alert sooner" in text
    subjects = git("--git-dir", str(remote), "log", "--format=%s", BRANCH).splitlines()
    assert subjects[:3] == ["hotfix-001: draft", "review: summary", "hotfix-001: draft"]


def test_a_draft_that_changes_a_line_a_reviewer_changed_is_not_pushed(branches, remote, colleague):
    draft(branches, DRAFT)
    checkout_review(colleague)
    (colleague / PM).write_text(DRAFT.replace("## Root cause\n\nTBD", "## Root cause\n\nTheirs"))
    as_person(colleague, "commit", "-qam", "review: root cause")
    git("push", "-q", "origin", BRANCH, cwd=colleague)
    head = git("--git-dir", str(remote), "rev-parse", BRANCH)

    with pytest.raises(ReviewConflict) as refused:
        draft(branches, DRAFT.replace("## Root cause\n\nTBD", "## Root cause\n\nOurs"))
    assert "Reviewers changed the same lines" in refused.value.advice
    assert git("--git-dir", str(remote), "rev-parse", BRANCH) == head
    assert "Theirs" in on_remote(remote, BRANCH, PM)
    assert branches.unpushed() == []  # nothing left to retry for ever
    # a later draft that leaves that line alone goes through on top of theirs
    assert draft(
        branches, DRAFT.replace("## Root cause\n\nTBD", "## Root cause\n\nOurs"), log="log v2\n"
    )
    assert "Theirs" in on_remote(remote, BRANCH, PM)
    assert on_remote(remote, BRANCH, LOG) == "log v2\n"


def test_a_reviewer_push_between_commit_and_push_is_rebased_onto(branches, remote, colleague):
    draft(branches, DRAFT)
    assert branches.commit(BRANCH, {PM: DRAFT, LOG: "log v2\n"}, "hotfix-001: draft")
    checkout_review(colleague)
    (colleague / PM).write_text(DRAFT.replace("## Summary\n\nTBD", "## Summary\n\nMeanwhile"))
    as_person(colleague, "commit", "-qam", "review: meanwhile")
    git("push", "-q", "origin", BRANCH, cwd=colleague)
    assert branches.unpushed() == [BRANCH]

    branches.push(BRANCH)
    assert "Meanwhile" in on_remote(remote, BRANCH, PM)
    assert on_remote(remote, BRANCH, LOG) == "log v2\n"
    assert branches.unpushed() == []


def test_a_draft_made_while_the_remote_is_away_is_pushed_later(tmp_path, remote, branches):
    draft(branches, DRAFT)
    moved = tmp_path / "moved.git"
    remote.rename(moved)
    assert branches.commit(BRANCH, {PM: DRAFT, LOG: "log v2\n"}, "hotfix-001: draft")
    assert branches.unpushed() == [BRANCH]
    moved.rename(remote)
    assert branches.commit(BRANCH, {PM: DRAFT, LOG: "log v3\n"}, "hotfix-001: draft")
    branches.push(BRANCH)
    assert on_remote(remote, BRANCH, LOG) == "log v3\n"


def test_after_a_merge_a_reopen_starts_a_new_branch_from_the_merged_text(
    branches, remote, colleague
):
    draft(branches, DRAFT)
    merge_commit(colleague)
    git("push", "-q", "origin", "main", cwd=colleague)
    branches.fetch()
    first = branches.merged(BRANCH, PM)
    assert first is not None

    second = review_branch("hotfix-001", 2)
    assert second == "postmortem/hotfix-001-2"
    assert branches.merged(second, PM) is None  # not merged just by existing
    assert draft(branches, DRAFT + "\nReopened: it came back.\n", branch=second)
    branches.fetch()
    assert branches.merged(second, PM) is None
    git("pull", "-q", cwd=colleague)
    as_person(colleague, "merge", "--no-ff", "-q", "-m", "Merge round 2", f"origin/{second}")
    git("push", "-q", "origin", "main", cwd=colleague)
    branches.fetch()
    merged = branches.merged(second, PM)
    assert merged is not None and "it came back" in merged.postmortem


def test_the_base_branch_keeps_working_after_review_branches(tmp_path, remote, branches):
    """Switching the setting back: commits go to the base branch, not the last review branch."""
    draft(branches, DRAFT)
    repo = branches.repo
    assert repo.commit({"hotfix-002/postmortem.md": "v1\n"}, "hotfix-002 draft 1")
    repo.push()
    assert on_remote(remote, "main", "hotfix-002/postmortem.md") == "v1\n"
    with pytest.raises(subprocess.CalledProcessError):
        on_remote(remote, BRANCH, "hotfix-002/postmortem.md")
