"""`python -m bot check` against the sandbox: what is right, what is wrong and how to fix it."""

import io
import subprocess

from bot.check import run_check
from bot.manifest import manifest_scopes
from bot.sandbox import BOT_TOKEN, SIGNING_SECRET, Emulator


def env_for(slack, tmp_path, **extra):
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_PATH": str(tmp_path / "data" / "x.db"),
        **extra,
    }


def check(env):
    out = io.StringIO()
    return run_check(env, out), out.getvalue()


def test_a_ready_deployment(slack, tmp_path):
    remote = tmp_path / "pm.git"
    subprocess.run(["git", "init", "--bare", "-q", str(remote)], check=True)
    code, out = check(env_for(slack, tmp_path, POSTMORTEM_REPO=str(remote)))
    assert code == 0, out
    assert "✓ The token works: bot @postmortem in workspace acme." in out
    assert "every scope manifest.yml asks for" in out
    assert "reachable and writable" in out and "Templates render" in out
    assert "Ready to run" in out


def test_each_problem_is_named_with_its_fix(tmp_path):
    with Emulator(
        scopes=(manifest_scopes() or frozenset()) - {"files:write", "pins:write"}
    ) as slack:
        code, out = check(env_for(slack, tmp_path, POSTMORTEM_REPO=str(tmp_path / "nowhere")))
    assert code == 1
    assert "Missing scope files:write" in out and "Missing scope pins:write" in out
    assert "Add pins:write under OAuth & Permissions" in out
    assert "reinstall the app" in out
    assert "not reachable" in out and "POSTMORTEM_REPO" in out


def test_a_refused_token_and_a_bad_setting(slack, tmp_path):
    code, out = check(env_for(slack, tmp_path, SLACK_BOT_TOKEN="xoxb-revoked"))
    assert code == 1 and "Slack refused the bot token (invalid_auth)" in out
    code, out = check(env_for(slack, tmp_path, PORT="http"))
    assert code == 2 and "PORT: expected a port number" in out
    assert BOT_TOKEN not in out


def test_a_missing_reactions_scope_is_named_with_its_fix(tmp_path):
    """The scopes come from auth.test's X-OAuth-Scopes header, as Slack sends them."""
    with Emulator(scopes=(manifest_scopes() or frozenset()) - {"reactions:read"}) as slack:
        code, out = check(env_for(slack, tmp_path))
    assert code == 1
    assert "✗ Missing scope reactions:read" in out
    assert "Add reactions:read under OAuth & Permissions" in out and "reinstall the app" in out
    assert "Missing scope reactions:write" not in out


def bare_with_main(tmp_path):
    remote = tmp_path / "pm.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(remote)], check=True)
    seed = tmp_path / "seed"
    subprocess.run(["git", "clone", "-q", str(remote), str(seed)], check=True)
    person = ["-c", "user.name=x", "-c", "user.email=x@example.com"]
    subprocess.run(
        ["git", *person, "commit", "-q", "--allow-empty", "-m", "a"], cwd=seed, check=True
    )
    subprocess.run(["git", "push", "-q", "origin", "main"], cwd=seed, check=True)
    return remote


def test_review_mode_on_plain_git_says_how_pull_requests_will_come(slack, tmp_path):
    remote = bare_with_main(tmp_path)
    code, out = check(
        env_for(slack, tmp_path, POSTMORTEM_REPO=str(remote), POSTMORTEM_REVIEW="pull-request")
    )
    assert code == 0, out
    assert "✓ Review mode with plain git" in out and "names the branch" in out


def test_review_mode_needs_the_base_branch(slack, tmp_path):
    remote = tmp_path / "empty.git"
    subprocess.run(["git", "init", "--bare", "-q", "-b", "main", str(remote)], check=True)
    code, out = check(
        env_for(slack, tmp_path, POSTMORTEM_REPO=str(remote), POSTMORTEM_REVIEW="pull-request")
    )
    assert code == 1
    assert "✗ Review mode: the repository has no branch main" in out
    assert "Push a first commit to main" in out


def test_review_mode_checks_the_host_token(slack, tmp_path, monkeypatch):
    from bot.sandbox.githost import TOKEN, GitHost

    remote = bare_with_main(tmp_path)
    with GitHost("github", remote) as host:
        url = f"{host.web_url}.git"
        monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
        monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote}.insteadOf")
        monkeypatch.setenv("GIT_CONFIG_VALUE_0", url)
        settings = {
            "POSTMORTEM_REPO": url,
            "POSTMORTEM_REVIEW": "pull-request",
            "GITHUB_API_URL": host.api_url,
        }
        code, out = check(env_for(slack, tmp_path, GITHUB_TOKEN=TOKEN, **settings))
        assert code == 0, out
        assert (
            f"✓ Review mode: pull requests are opened through the host's API for {host.web_url}"
            in out
        )
        code, out = check(env_for(slack, tmp_path, GITHUB_TOKEN="ghp_revoked", **settings))
        assert code == 1
        assert "✗ Review mode: GITHUB_TOKEN was refused by GitHub" in out
        assert "ghp_revoked" not in out
        code, out = check(env_for(slack, tmp_path, **settings))
        assert code == 0 and "Review mode with plain git" in out  # 127.0.0.1: no known host
    code, out = check(
        env_for(
            slack,
            tmp_path,
            POSTMORTEM_REPO="git@github.com:acme/postmortems.git",
            POSTMORTEM_REVIEW="pull-request",
        )
    )  # not reachable from here: said by the repository's line; the review line says the rest
    assert "Review mode without a token" in out and "https://github.com/acme/postmortems" in out


def test_the_digest_channel_is_checked(slack, tmp_path):
    bob = slack.user("bob")
    room = slack.ws.add_channel("digest", bob, members={bob, slack.ws.bot.id})
    code, out = check(
        env_for(slack, tmp_path, DIGEST_CHANNEL=room.id, DIGEST_AT="fri 16:30 Europe/Berlin")
    )
    assert code == 0, out
    assert "✓ The weekly digest goes to #digest on Fridays at 16:30 (Europe/Berlin)." in out
    outside = slack.ws.add_channel("elsewhere", bob)
    code, out = check(env_for(slack, tmp_path, DIGEST_CHANNEL=outside.id))
    assert code == 1 and f"DIGEST_CHANNEL {outside.id} (#elsewhere): the bot is not in it." in out
    assert "Invite the bot to the channel" in out
    hidden = slack.ws.add_channel("secret", bob, is_private=True)
    code, out = check(env_for(slack, tmp_path, DIGEST_CHANNEL=hidden.id))
    assert code == 1 and f"DIGEST_CHANNEL {hidden.id}: Slack said channel_not_found." in out
