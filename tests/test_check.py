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
