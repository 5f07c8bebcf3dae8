"""Review mode end to end, without a host token (git alone): drafts go to the incident's
branch, `/incident publish` puts it up for review, and a merge made by a person with plain git
(merge commit, squash, rebase) publishes it, once; a branch deleted unmerged makes it a draft
again; reviewers' commits stay; a reopen after a merge starts a new branch. Through the running
bot, the strict Slack emulator and a real bare repository."""

from datetime import timedelta

import pytest

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
    said,
    watch,
)


def test_drafts_go_to_the_incidents_branch_and_publish_opens_a_review(slack, bot, remote, resolved):
    assert on_remote(remote, BRANCH) is not None  # the first draft, on its branch
    assert on_remote(remote, "main") is None  # nothing published
    draft = [m for m in resolved.messages if m.files][-1]
    assert f"on branch `{BRANCH}`" in draft.text

    announcement = put_up_for_review(slack, bot, resolved)
    assert f"up for review on `{BRANCH}`." in announcement.text
    assert "merging it publishes the post-mortem" in announcement.text
    assert f"Open a pull request from `{BRANCH}` to `main`" in announcement.text  # plain git
    incident = bot.store.incident_by_channel(slack.ws.team_id, resolved.id)
    assert incident.published_at is None
    assert bot.store.review(incident).status == "open"
    again = slack.command("alice", "/incident", "publish", resolved.name)
    assert "is in review already" in again.text


def merge_commit(colleague):
    as_person(colleague, "merge", "--no-ff", "-q", "-m", "Merge hotfix-001", f"origin/{BRANCH}")


def squash(colleague):
    as_person(colleague, "merge", "--squash", "-q", f"origin/{BRANCH}")
    as_person(colleague, "commit", "-qm", "hotfix-001 post-mortem (#1)")


def rebase(colleague):
    as_person(colleague, "cherry-pick", f"main..origin/{BRANCH}")


@pytest.mark.parametrize("merge", [merge_commit, squash, rebase])
def test_a_merge_of_any_style_publishes_once_and_the_merged_text_is_final(
    slack, bot, remote, resolved, colleague, clock, merge
):
    put_up_for_review(slack, bot, resolved)
    git("fetch", "-q", cwd=colleague)
    git("checkout", "-q", "-B", "review", f"origin/{BRANCH}", cwd=colleague)
    edited = (colleague / PM).read_text() + "\nReviewed by Dana: add a canary stage.\n"
    (colleague / PM).write_text(edited)
    as_person(colleague, "commit", "-qam", "review: canary")
    git("push", "-q", "origin", f"HEAD:{BRANCH}", cwd=colleague)
    git("checkout", "-q", "main", cwd=colleague)
    git("fetch", "-q", cwd=colleague)
    watch(bot)
    assert not said(resolved, ":tada:")  # pushed to, not merged

    merge(colleague)
    git("push", "-q", "origin", "main", cwd=colleague)
    clock.now = T0 + timedelta(days=1)
    watch(bot)
    watch(bot)  # a second look announces nothing more
    tada = said(resolved, ":tada:")
    assert len(tada) == 1, [m.text for m in resolved.messages]
    assert "is *published*" in tada[0].text and "Dana Reviewer merged" in tada[0].text
    incident = bot.store.incident_by_channel(slack.ws.team_id, resolved.id)
    assert incident.published_at is not None
    assert bot.store.review(incident).status == "merged"
    assert not [r for r in bot.store.pending_reminders() if r.incident_id == incident.id]

    # the bot never overwrites the merged text: a later draft is not committed anywhere
    before = git("--git-dir", str(remote), "for-each-ref").splitlines()
    slack.command("alice", "/incident", "draft", resolved.name)
    wait_for(lambda: "Not committed: the merged" in str([m.text for m in resolved.messages]))
    quiet(bot)
    assert git("--git-dir", str(remote), "for-each-ref").splitlines() == before
    final = on_remote(remote, "main")
    assert "add a canary stage" in final
    assert "[date]" not in final and "Post-mortem completed 2026-11-26" in final


def test_a_branch_deleted_unmerged_is_a_draft_again_and_can_be_put_up_again(
    slack, bot, remote, resolved, colleague
):
    put_up_for_review(slack, bot, resolved)
    git("push", "-q", "origin", "--delete", BRANCH, cwd=colleague)
    watch(bot)
    back = said(resolved, ":leftwards_arrow_with_hook:")
    assert len(back) == 1 and "it is a draft again" in back[0].text
    incident = bot.store.incident_by_channel(slack.ws.team_id, resolved.id)
    assert bot.store.review(incident).status == "drafting" and incident.published_at is None
    watch(bot)
    assert len(said(resolved, ":leftwards_arrow_with_hook:")) == 1
    put_up_for_review(slack, bot, resolved)
    assert on_remote(remote, BRANCH) is not None  # pushed again with the new draft


def test_a_reviewers_commit_on_the_branch_stays_when_the_bot_drafts_again(
    slack, bot, remote, resolved, colleague
):
    git("fetch", "-q", cwd=colleague)
    git("checkout", "-q", "-B", "review", f"origin/{BRANCH}", cwd=colleague)
    text = (colleague / PM).read_text()
    (colleague / PM).write_text(text + "\nA reviewer's note at the end.\n")
    as_person(colleague, "commit", "-qam", "review: note")
    git("push", "-q", "origin", f"HEAD:{BRANCH}", cwd=colleague)

    slack.command("alice", "/timeline", "16:10 fix: rolled back deploy 4512", resolved.name)
    slack.command("alice", "/incident", "draft", resolved.name)
    wait_for(lambda: len([m for m in resolved.messages if m.files]) >= 2, what="a second draft")
    quiet(bot)
    now = on_remote(remote, BRANCH)
    assert "A reviewer's note at the end." in now and "rolled back deploy 4512" in now


def test_a_reopen_after_the_merge_starts_a_new_branch(slack, bot, remote, resolved, colleague):
    put_up_for_review(slack, bot, resolved)
    git("fetch", "-q", cwd=colleague)
    merge_commit(colleague)
    git("push", "-q", "origin", "main", cwd=colleague)
    watch(bot)
    assert said(resolved, ":tada:")
    slack.command("alice", "/incident", "reopen", resolved.name)
    quiet(bot)
    slack.command("alice", "/incident", "resolve 16:28", resolved.name)
    wait_for(lambda: on_remote(remote, f"{BRANCH}-2") is not None, what="the second branch")
    quiet(bot)
    watch(bot)
    assert len(said(resolved, ":tada:")) == 1  # the new branch is not taken for merged
    incident = bot.store.incident_by_channel(slack.ws.team_id, resolved.id)
    assert bot.store.review(incident).round == 2 and incident.published_at is None


def test_ready_for_review_is_decided_at_the_click(slack, bot, remote, resolved):
    checklist = next(m for m in resolved.messages if "ready_for_review" in str(m.blocks))
    slack.remove("bob", resolved.name)  # bob saw the button, then left the channel
    quiet(bot)
    assert slack.click("bob", checklist, "ready_for_review").status == 200
    wait_for(
        lambda: any(
            "Only people in the incident channel" in e.text for e in slack.ephemerals("bob")
        ),
        what="bob's refusal",
    )
    quiet(bot)
    assert not said(resolved, ":mag:")
    slack.click("alice", checklist, "ready_for_review")
    wait_for(lambda: said(resolved, ":mag:"), what="the announcement")
    quiet(bot)
    assert "ready_for_review" not in str(checklist.blocks)  # in review: the checklist says so
    assert "in review" in str(checklist.blocks)
    slack.click("alice", checklist, "post_draft")  # an old copy of the button: still decided now
    quiet(bot)
    assert len(said(resolved, ":mag:")) == 1
