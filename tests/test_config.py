"""Configuration is validated at start: one line naming the variable, exit code 2."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config

GOOD = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"}


def test_defaults():
    config = load_config(GOOD)
    assert config.api_url == "https://slack.com/api/"
    assert config.port == 3000
    assert config.database_path == Path("data/incidents.db")
    assert config.channel_prefix == "inc-"
    assert config.announce_channel is None
    assert not config.socket_mode


def test_socket_mode_needs_no_signing_secret():
    config = load_config({"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_APP_TOKEN": "xapp-t"})
    assert config.socket_mode


def test_api_url_gets_its_trailing_slash():
    assert load_config({**GOOD, "SLACK_API_URL": "http://127.0.0.1:9/api"}).api_url == (
        "http://127.0.0.1:9/api/"
    )


@pytest.mark.parametrize(
    "env, variable",
    [
        ({}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong"}, "SLACK_APP_TOKEN"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"INCIDENT_CHANNEL_PREFIX": "INC "}, "INCIDENT_CHANNEL_PREFIX"),
        ({"ANNOUNCE_CHANNEL": "#incidents"}, "ANNOUNCE_CHANNEL"),
    ],
)
def test_bad_values_name_the_variable(env, variable):
    base = {} if env == {} else dict(GOOD)
    with pytest.raises(ConfigError) as raised:
        load_config({**base, **env})
    assert str(raised.value).startswith(variable)


def test_the_process_exits_2_with_one_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["SLACK_BOT_TOKEN"] = "not-a-token"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "SLACK_BOT_TOKEN" in lines[0]
    assert "Traceback" not in done.stderr


def test_timeline_reactions_default_to_the_pushpin_and_read_milestones():
    assert load_config(GOOD).timeline_reactions == ("pushpin",)
    assert load_config(GOOD).milestone_reactions == ()
    config = load_config(
        {
            **GOOD,
            "TIMELINE_REACTION": ":pushpin:, round_pushpin",
            "TIMELINE_MILESTONE_REACTIONS": "mag:investigating,bulb:root cause,"
            "white_check_mark:verified",
        }
    )
    assert config.timeline_reactions == ("pushpin", "round_pushpin")
    assert [(e, m.value) for e, m in config.milestone_reactions] == [
        ("mag", "investigating"),
        ("bulb", "root-cause"),
        ("white_check_mark", "verified"),
    ]


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("TIMELINE_MILESTONE_REACTIONS", "mag:founded", "'founded' is not a milestone"),
        ("TIMELINE_MILESTONE_REACTIONS", "tada:resolved", "resolved cannot be set by an emoji"),
        ("TIMELINE_MILESTONE_REACTIONS", "tada:began", "began cannot be set by an emoji"),
        ("TIMELINE_MILESTONE_REACTIONS", "mag", "expected `emoji:milestone` pairs"),
        ("TIMELINE_MILESTONE_REACTIONS", "pushpin:fix", "pushpin is in TIMELINE_REACTION too"),
        ("TIMELINE_MILESTONE_REACTIONS", "mag:fix,mag:verified", "mag is given two milestones"),
        ("TIMELINE_MILESTONE_REACTIONS", "pushpin:fix", "TIMELINE_REACTION too (its default)"),
        ("TIMELINE_MILESTONE_REACTIONS", "tada:resolved", "only `/incident resolve` records"),
        ("TIMELINE_REACTION", ",", "name at least one emoji"),
        ("TIMELINE_REACTION", "push pin", "'push pin' is not an emoji name"),
        ("TIMELINE_REACTION", "memo", "memo is the bot's own confirmation reaction"),
        ("TIMELINE_MILESTONE_REACTIONS", "memo:fix", "memo is the bot's own confirmation"),
    ],
)
def test_bad_timeline_reactions_are_named_in_one_line(variable, value, said):
    with pytest.raises(ConfigError) as error:
        load_config({**GOOD, variable: value})
    assert str(error.value).startswith(variable + ": ") and said in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "env, variable, said",
    [
        ({"POSTMORTEM_REVIEW": "pr"}, "POSTMORTEM_REVIEW", "expected `commit` or `pull-request`"),
        ({"POSTMORTEM_REVIEW": "pull-request"}, "POSTMORTEM_REVIEW", "needs POSTMORTEM_REPO"),
        ({"REVIEWER_ACCOUNTS": "U0123ABCD:octocat"}, "REVIEWER_ACCOUNTS", "U0123ABCD=octocat"),
        ({"REVIEWER_ACCOUNTS": "alice=octocat"}, "REVIEWER_ACCOUNTS", "got 'alice=octocat'"),
        (
            {"REVIEWER_ACCOUNTS": "U0123ABCD=octocat,U0123ABCD=hubot"},
            "REVIEWER_ACCOUNTS",
            "U0123ABCD is given twice",
        ),
    ],
)
def test_review_settings_are_checked_and_named(env, variable, said):
    with pytest.raises(ConfigError) as error:
        load_config({**GOOD, **env})
    assert str(error.value).startswith(variable + ": ") and said in str(error.value)


def test_review_mode_with_accounts_and_a_token():
    config = load_config(
        {
            **GOOD,
            "POSTMORTEM_REPO": "git@github.com:acme/postmortems.git",
            "POSTMORTEM_REVIEW": "Pull-Request",
            "REVIEWER_ACCOUNTS": " U0123ABCD=@octocat , W0456EFGH=hubot ",
            "GITHUB_TOKEN": "ghp_x",
        }
    )
    assert config.reviewing
    assert config.reviewer_accounts == (("U0123ABCD", "octocat"), ("W0456EFGH", "hubot"))
    assert config.hosting == (("GITHUB_TOKEN", "ghp_x"),)
    assert not load_config(GOOD).reviewing
