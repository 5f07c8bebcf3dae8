"""Found by an adversarial review of review mode (POSTMORTEM_REVIEW=pull-request): merges the
watcher misses or invents, reviewers' force-pushes undone, comments relayed forever, hostile
text from the host, faults while opening, and a restart between noticing a merge and saying
so. Through the running bot, the strict Slack emulator, a real bare repository and, with a
token, the local fake host (bot/sandbox/githost.py) over real HTTP. Twelve of these failed on
the code as it was reviewed (commit c0ad404 and those before it fixed them)."""

import threading
from datetime import timedelta

import pytest

from bot.sandbox.harness import serve
from tests.conftest import wait_for
from tests.reviewing import (
    BRANCH,
    PM,
    T0,
    as_person,
    git,
    on_remote,
    put_up_for_review,
    quiet,
    resolve,
    said,
    watch,
)


def merge_commit(colleague, branch=BRANCH):
    git("fetch", "-q", cwd=colleague)
    git("checkout", "-q", "main", cwd=colleague)
    git("merge", "-q", "--ff-only", "origin/main", cwd=colleague)
    as_person(colleague, "merge", "--no-ff", "-q", "-m", "Merge review", f"origin/{branch}")
    git("push", "-q", "origin", "main", cwd=colleague)


def drafts(channel):
    return [m for m in channel.messages if m.files]


def draft_again(slack, bot, channel, entry):
    before = len(drafts(channel))
    slack.command("alice", "/timeline", entry, channel.name)
    slack.command("alice", "/incident", "draft", channel.name)
    wait_for(lambda: len(drafts(channel)) > before, what="another draft")
    quiet(bot)


def thread_replies(channel, announcement):
    return [m for m in channel.messages if m.thread_ts == announcement.ts and m.ts != m.thread_ts]


def incident_of(slack, bot, channel):
    return bot.store.incident_by_channel(slack.ws.team_id, channel.id)


# --- merge detection ---------------------------------------------------------------------


def test_a_merge_commit_is_noticed_though_a_draft_reached_the_branch_after_it(
    slack, bot, resolved, colleague, clock
):
    """Dana merges the pull request (a merge commit); within the watcher's minute alice adds a
    timeline entry and drafts: the draft goes to the (merged) review branch, whose head is then
    no longer in main, and the post-mortem's file on main is what it was at the new fork."""
    put_up_for_review(slack, bot, resolved)
    merge_commit(colleague)
    draft_again(slack, bot, resolved, "16:10 fix: rolled back deploy 4512")
    clock.now = T0 + timedelta(days=1)
    watch(bot)
    watch(bot)
    assert len(said(resolved, ":tada:")) == 1, [m.text for m in resolved.messages[-4:]]
    assert incident_of(slack, bot, resolved).published_at is not None


def test_an_edit_of_the_published_file_on_main_does_not_publish_the_next_round(
    slack, bot, remote, resolved, colleague
):
    """After round 1 was merged and a reopen started `postmortem/hotfix-001-2`, someone fixes a
    typo in hotfix-001/postmortem.md straight on main: round 2 was not merged."""
    put_up_for_review(slack, bot, resolved)
    merge_commit(colleague)
    watch(bot)
    assert len(said(resolved, ":tada:")) == 1
    slack.command("alice", "/incident", "reopen", resolved.name)
    quiet(bot)
    slack.command("alice", "/incident", "resolve 16:28", resolved.name)
    wait_for(lambda: on_remote(remote, f"{BRANCH}-2") is not None, what="the second branch")
    quiet(bot)
    git("pull", "-q", cwd=colleague)
    text = (colleague / PM).read_text()
    (colleague / PM).write_text(text + "\nTypo fixed on main.\n")
    as_person(colleague, "commit", "-qam", "fix a typo in hotfix-001")
    git("push", "-q", "origin", "main", cwd=colleague)
    watch(bot)
    assert len(said(resolved, ":tada:")) == 1, said(resolved, ":tada:")[-1].text
    incident = incident_of(slack, bot, resolved)
    assert incident.published_at is None
    assert bot.store.review(incident).status != "merged"


def test_a_rebase_by_the_web_button_is_not_credited_to_the_bot(slack, bot, resolved, colleague):
    """GitHub's "Rebase and merge" keeps each commit's author (the bot wrote the drafts) and
    commits as GitHub: the announcement named the bot as the one who merged."""
    put_up_for_review(slack, bot, resolved)
    git("fetch", "-q", cwd=colleague)
    git(
        "-c",
        "user.name=GitHub",
        "-c",
        "user.email=noreply@github.com",
        "cherry-pick",
        f"main..origin/{BRANCH}",
        cwd=colleague,
    )
    git("push", "-q", "origin", "main", cwd=colleague)
    watch(bot)
    (tada,) = said(resolved, ":tada:")
    assert "Incident Bot merged" not in tada.text, tada.text


def test_update_branch_or_another_incidents_file_on_main_is_not_a_merge(
    slack, bot, resolved, colleague
):
    """Regression: main moves (another incident's post-mortem merged), and GitHub's "Update
    branch" merges main into the review branch: neither is a merge of the review."""
    put_up_for_review(slack, bot, resolved)
    git("checkout", "-q", "main", cwd=colleague)
    (colleague / "hotfix-002").mkdir()
    (colleague / "hotfix-002" / "postmortem.md").write_text("# hotfix-002\n")
    git("add", ".", cwd=colleague)
    as_person(colleague, "commit", "-qm", "hotfix-002 post-mortem")
    git("push", "-q", "origin", "main", cwd=colleague)
    git("fetch", "-q", cwd=colleague)
    git("checkout", "-q", "-B", "review", f"origin/{BRANCH}", cwd=colleague)
    as_person(colleague, "merge", "-q", "--no-ff", "-m", "Merge main into review", "main")
    git("push", "-q", "origin", f"HEAD:{BRANCH}", cwd=colleague)
    watch(bot)
    watch(bot)
    assert not said(resolved, ":tada:")
    assert incident_of(slack, bot, resolved).published_at is None


# --- reviewers' commits ------------------------------------------------------------------


def test_a_reviewers_force_push_is_not_undone_by_the_bot(slack, bot, remote, resolved, colleague):
    """Dana force-pushes the review branch back one commit (dropping the bot's last draft);
    the bot's retry minute pushed its old local branch again, rebased onto hers."""
    draft_again(slack, bot, resolved, "16:10 fix: rolled back deploy 4512")
    assert "rolled back deploy 4512" in on_remote(remote, BRANCH)
    git("fetch", "-q", cwd=colleague)
    git("push", "-q", "--force", "origin", f"origin/{BRANCH}~1:refs/heads/{BRANCH}", cwd=colleague)
    hers = git("--git-dir", str(remote), "rev-parse", BRANCH).strip()
    watch(bot)
    watch(bot)
    watch(bot)
    now = git("--git-dir", str(remote), "rev-parse", BRANCH).strip()
    assert now == hers, "the bot pushed over the reviewer's force-push"
    assert "rolled back deploy 4512" not in on_remote(remote, BRANCH)


# --- restart between noticing a merge and saying so --------------------------------------


def test_a_merge_recorded_by_a_process_that_died_is_published_after_the_restart(
    slack, config, store, clock, colleague
):
    """The watcher's first step is one transaction (the round is `merged`); the process is
    SIGKILLed before it publishes and tells the channel. The state it leaves is made here with
    that same store call; a new process on the same database and clone must finish the job."""
    with serve(slack, config, store, clock) as first:
        channel = resolve(slack, first, clock)
        put_up_for_review(slack, first, channel)
        merge_commit(colleague)
        incident = store.incident_by_channel(slack.ws.team_id, channel.id)
        head = git("rev-parse", "HEAD", cwd=colleague).strip()
        at = T0 + timedelta(days=1)
        assert store.merge_review(
            store.review(incident), commit=head, by="Dana Reviewer", at=at, noticed=at
        )
    clock.now = T0 + timedelta(days=1, minutes=5)
    with serve(slack, config, store, clock) as second:
        watch(second)
        watch(second)
        incident = store.incident_by_channel(slack.ws.team_id, channel.id)
        assert incident.published_at is not None, "merged, never published"
        assert len(said(channel, ":tada:")) == 1, "merged, never announced"


# --- comments ----------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", ["github"])
def test_a_line_comment_after_a_conversation_comment_is_relayed_once(
    slack, bot, host, resolved, clock
):
    """GitHub numbers conversation comments (2,000,001...) and line comments (900,001...)
    apart; a line comment written after a conversation comment came back every minute."""
    announcement = put_up_for_review(slack, bot, resolved)
    clock.now += timedelta(minutes=1)
    host.comment(1, "Is the timeline complete?", by="bob")
    clock.now += timedelta(minutes=1)
    host.comment(1, "This line needs a source.", by="carol", path=PM, line=3)
    for _ in range(3):
        watch(bot)
    texts = [m.text for m in thread_replies(resolved, announcement)]
    assert len(texts) == 2, texts


@pytest.mark.parametrize("flavor", ["github", "gitlab"])
def test_a_comments_file_path_is_escaped(slack, bot, host, resolved):
    """A diff comment on a file a reviewer named `<!channel>.md` pinged the whole channel:
    the path is put in the message as it is."""
    announcement = put_up_for_review(slack, bot, resolved)
    host.comment(1, "why this file?", by="bob", path="notes/<!channel>.md", line=1)
    watch(bot)
    (reply,) = thread_replies(resolved, announcement)
    assert "<!channel>" not in reply.text, reply.text


@pytest.mark.parametrize("flavor", ["github"])
def test_a_hostile_long_comment_is_cut_and_escaped(slack, bot, host, resolved):
    """Regression: 60 KB (GitHub takes 65,536 characters) of mentions, links and mrkdwn."""
    announcement = put_up_for_review(slack, bot, resolved)
    hostile = "<!channel> <@U0ALICE> <https://evil.example|click> *bold* ```\n" * 1000
    host.comment(1, hostile, by="mallory")
    watch(bot)
    (reply,) = thread_replies(resolved, announcement)
    assert len(reply.text) < 10_000
    assert "<!channel>" not in reply.text and "<@U0ALICE>" not in reply.text
    assert "<https://evil" not in reply.text


@pytest.mark.parametrize("flavor", ["github", "gitlab"])
def test_a_host_rate_limiting_the_watcher_closes_nothing_and_loses_no_comment(
    slack, bot, host, resolved
):
    """Regression: the host says "slow down" to every call of one watch."""
    announcement = put_up_for_review(slack, bot, resolved)
    host.comment(1, "first question", by="bob")
    host.rate_limit(retry_after=60, times=50)
    watch(bot)
    assert not said(resolved, ":leftwards_arrow_with_hook:")
    host.faults.clear()
    watch(bot)
    texts = [m.text for m in thread_replies(resolved, announcement)]
    assert len(texts) == 1 and "first question" in texts[0]


# --- opening -----------------------------------------------------------------------------


@pytest.mark.parametrize("flavor", ["github", "gitlab"])
def test_a_reviewer_request_failing_after_the_pull_request_opened_says_so(
    slack, bot, host, resolved
):
    """The host opens the pull request, then answers 500 to the request for reviewers: the
    person was told "No pull request was opened" and the round stayed a draft, though the
    pull request is there (comments are not relayed, its closing is not heard)."""
    if host.flavor == "github":
        host.fail("POST", "/requested_reviewers", 500, {"message": "Server Error"}, times=10)
    else:  # python-gitlab retries a 500 a few times
        host.fail("PUT", "/merge_requests/1", 500, {"message": "Internal"}, times=10)
    slack.command("alice", "/incident", "publish", resolved.name)
    quiet(bot)
    assert sorted(host.pulls) == [1]
    told = [e.text for e in slack.ephemerals("alice")] + [
        m.text for m in slack.ws.im(slack.user("alice")).messages
    ]
    assert not [t for t in told if "No pull request was opened" in t], told
    assert bot.store.review(incident_of(slack, bot, resolved)).status == "open"


@pytest.mark.parametrize("flavor", ["github", "gitlab"])
def test_two_publishes_at_once_open_one_pull_request_announced_once(slack, bot, host, resolved):
    """Regression: alice and bob type `/incident publish` at the same moment."""
    replies = []
    threads = [
        threading.Thread(
            target=lambda who=who: replies.append(
                slack.command(who, "/incident", "publish", resolved.name)
            )
        )
        for who in ("alice", "bob")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: said(resolved, ":mag:"), what="the announcement")
    quiet(bot)
    assert sorted(host.pulls) == [1]
    assert len(said(resolved, ":mag:")) == 1


@pytest.mark.parametrize("flavor", ["github"])
def test_a_pull_request_merged_into_another_branch_is_told(slack, bot, host, resolved):
    """Someone retargets the pull request to `release` and merges it there: main never gets
    the post-mortem, the host says merged, and the channel heard nothing (the checklist still
    says in review, forever)."""
    put_up_for_review(slack, bot, resolved)
    host.pulls[1].base = "release"
    host.merge(1, by="carol")
    watch(bot)
    watch(bot)
    after = [m.text for m in resolved.messages if "release" in m.text or "merged" in m.text]
    assert after, "the channel was not told of the merge elsewhere"


def test_the_remote_unreachable_while_watching_invents_no_closing(
    slack, bot, remote, resolved, tmp_path
):
    """Regression: the remote disappears for a while (a fetch fails): no "closed" for a branch
    the bot cannot see."""
    put_up_for_review(slack, bot, resolved)
    away = tmp_path / "away.git"
    remote.rename(away)
    try:
        watch(bot)
        watch(bot)
    finally:
        away.rename(remote)
    assert not said(resolved, ":leftwards_arrow_with_hook:")
    assert bot.store.review(incident_of(slack, bot, resolved)).status == "open"


def test_a_branch_deleted_after_its_squash_merge_stays_deleted(
    slack, bot, remote, resolved, colleague
):
    """GitHub's "Automatically delete head branches": the review branch goes once it is
    merged. The bot's retry minute pushed its local copy back, every time it was deleted."""
    put_up_for_review(slack, bot, resolved)
    git("fetch", "-q", cwd=colleague)
    as_person(colleague, "merge", "--squash", "-q", f"origin/{BRANCH}")
    as_person(colleague, "commit", "-qm", "hotfix-001 post-mortem (#1)")
    git("push", "-q", "origin", "main", ":" + BRANCH, cwd=colleague)
    for _ in range(3):
        watch(bot)
    assert len(said(resolved, ":tada:")) == 1
    assert on_remote(remote, BRANCH) is None, "the deleted branch is back"
