"""The team's template is the one source of sections: a template that adds one, removes one and
renames one drives the checklist, the guided path, the readiness check and the reminders, end
to end; a broken declaration is an error naming the file and line, at start and in `check`."""

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.postmortem import DEFAULT_TEMPLATES
from bot.sandbox import BOT_TOKEN
from bot.sections import TemplateError, load_sections, parse_declaration
from tests.conftest import Clock, make_config, serve
from tests.test_incident_commands import open_incident

T0 = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)

# No "Five Whys"; "What Went Well" renamed "Highlights"; a "Security Review" added; "Notes"
# optional. Only began, detected and resolved are required milestones.
TEAM = """\
{#- postmortem-bot
sections:
  - key: summary
    title: "Executive Summary"
    fields:
      text: {label: "Summary", prompt: "What happened, for the rest of the company"}
  - key: highlights
    title: "Highlights"
    fields:
      text: {label: "What worked", prompt: "What made the response go well"}
  - key: security
    title: "Security Review"
    fields:
      exposure: {label: "Data exposure", prompt: "What data was exposed, if any", one line: true}
      disclosure: {label: "Disclosure", prompt: "Who must be told, and when"}
  - key: notes
    title: "Notes"
    required: false
    fields:
      text: {label: "Notes", prompt: "Anything else"}
milestones:
  required: [began, detected, resolved]
-#}
<!-- {{ open_points }} -->
# {{ title | inline }} ({{ hotfix_id }})

## Executive Summary
{{ s.summary.text | block if s.summary.text else todo("[What happened]", "summary") }}

## Highlights
{{ s.highlights.text | block if s.highlights.text else todo("[What worked]", "highlights") }}

## Security Review
{% set sec = s.security %}
**Data exposure**: {{ sec.exposure | inline if sec.exposure else todo("[none?]", "security") }}
**Disclosure**: {{ sec.disclosure | inline if sec.disclosure else todo("[who]", "security") }}

## Notes
{{ s.notes.text | block if s.notes.text else todo("[Anything else]", "notes") }}

## Timeline
{% for row in timeline %}
- {{ row.time }} {{ row.event | inline }}{{ " (not recorded yet)" if row.missing else "" }}
{% endfor %}
"""


@pytest.fixture
def team_templates(tmp_path):
    folder = tmp_path / "team-templates"
    folder.mkdir()
    (folder / "postmortem.md.j2").write_text(TEAM)
    shutil.copy(DEFAULT_TEMPLATES / "hotfix.md.j2", folder)
    return folder


@pytest.fixture
def clock():
    return Clock(T0)


def test_the_bundled_template_declares_the_seeds_sections():
    catalog = load_sections(DEFAULT_TEMPLATES)
    titles = [s.title for s in catalog]
    assert titles[0] == "Executive Summary" and "Five Whys Analysis" in titles
    assert len(catalog) == 12 and all(s.required for s in catalog)
    assert len(catalog.required_milestones) == 9


def test_a_team_template_drives_checklist_guided_path_readiness_and_reminders(
    slack, store, tmp_path, team_templates, clock
):
    config = make_config(
        tmp_path,
        slack,
        TEMPLATES_DIR=str(team_templates),
        POSTMORTEM_DEADLINE="2h",
        REMINDERS_BEFORE="1h",
    )
    with serve(slack, config, store, clock) as bot:
        channel = open_incident(slack)
        clock.now = T0 + timedelta(minutes=30)
        slack.command("alice", "/timeline", "15:40 detected: alert", channel.name)
        slack.command("alice", "/incident", "resolve", channel.name)
        bot.settle()
        checklist = next(m for m in channel.messages if "Post-mortem of" in str(m.blocks))
        shown = json.dumps(checklist.blocks)
        for title in ("Executive Summary", "Highlights", "Security Review", "Notes"):
            assert title in shown
        assert "Five Whys" not in shown and "What Went Well" not in shown
        assert "empty (optional)" in shown and "0 of 4 sections written" in shown

        # the guided path: the team's order, the team's fields and prompts
        opened = []
        for _ in range(3):
            slack.command("alice", "/incident", "write", channel.name)
            modal = slack.modal("alice")
            opened.append(modal["title"]["text"])
            inputs = [b for b in modal["blocks"] if b["type"] == "input"]
            slack.submit("alice", {inputs[0]["block_id"]: "written"})
        assert opened == ["Executive Summary", "Highlights", "Security Review"]
        assert "What data was exposed, if any" in json.dumps(inputs)
        before = len(slack.ephemerals("alice"))
        slack.command("alice", "/incident", "write", channel.name)  # only Notes is left: optional
        assert slack.modal("alice", wait=0.5) is None
        assert "Every section is written" in slack.ephemerals("alice")[before].text

        slack.command("alice", "/incident", "draft", channel.name)
        bot.settle()
        summary = next(m.text for m in reversed(channel.messages) if m.files)
        assert "Five Whys" not in summary and "What Went Well" not in summary
        assert "“Security Review” still shows 1 placeholder" in summary
        assert "Notes" not in summary, "an optional section left empty is no open point"
        draft = next(m for m in reversed(channel.messages) if m.files).files[0]["content"]
        assert "## Notes\n_None._" in draft.decode(), "and shows no guidance"

        # the reminder DM lists the same open points
        incident = bot.store.incident_by_channel(slack.ws.team_id, channel.id)
        (due,) = [r for r in bot.store.pending_reminders() if r.kind == "before"]
        clock.now = due.due_at  # its time: one fired early waits for it
        bot.sender.fire(due.id)
        dm = slack.ws.im(slack.user("alice")).messages[-1]
        text = json.dumps(dm.blocks)
        assert "Security Review" in text and "Five Whys" not in text
        assert incident.hotfix_id in text


def test_the_team_template_says_which_milestones_are_required(
    slack, store, tmp_path, team_templates, clock
):
    config = make_config(tmp_path, slack, TEMPLATES_DIR=str(team_templates))
    with serve(slack, config, store, clock) as bot:
        channel = open_incident(slack)
        slack.command("alice", "/incident", "draft", channel.name)
        bot.settle()
        summary = next(m.text for m in reversed(channel.messages) if m.files)
        content = next(m for m in reversed(channel.messages) if m.files).files[0]["content"]
    assert "no “First detection”" in summary and "no “Incident closed”" in summary
    assert "Fix implemented" not in summary, "not required by this template"
    timeline = content.decode().split("## Timeline")[1]
    assert timeline.count("(not recorded yet)") == 2


@pytest.mark.parametrize(
    "declaration, problem",
    [
        ("sections: []", ":3: `sections:` should list at least one section"),
        (
            "sections:\n  - key: summary\n    title: x\n    fields: {}\n",
            ":6: Section `summary` has no fields",
        ),
        (
            "sections:\n  - key: Sum mary\n    title: x\n"
            "    fields:\n      a: {label: a, prompt: b}",
            ":4: A section's key `Sum mary` should be lowercase",
        ),
        (
            "sections:\n  - key: a\n    title: x\n    required: maybe\n"
            "    fields:\n      a: {label: a, prompt: b}",
            ":6: `required` should be true or false",
        ),
        (
            "sections:\n  - key: a\n    title: x\n    fields:\n      a: {label: a}",
            ":7: Field `a.a` has `label`, `prompt`",
        ),
        ("sections: [\n", ":5: the declaration is not valid YAML"),
        (
            "sections:\n  - key: a\n    title: x\n    fields:\n      a: {label: a, prompt: b}\n"
            "milestones:\n  required: [began, lunch]",
            ":9: `lunch` is not a milestone",
        ),
    ],
)
def test_a_broken_declaration_names_the_file_and_line(declaration, problem):
    source = "{# a comment #}\n{#- postmortem-bot\n" + declaration + "\n-#}\nbody\n"
    with pytest.raises(TemplateError) as raised:
        parse_declaration(source, "team/postmortem.md.j2")
    assert str(raised.value).startswith("team/postmortem.md.j2:")
    assert problem in str(raised.value)


def test_a_template_that_uses_an_undeclared_section_is_refused_at_start_and_in_check(
    slack, tmp_path, team_templates
):
    (team_templates / "postmortem.md.j2").write_text(
        TEAM.replace("## Highlights", "## Why\n{{ s.five_whys.why1 }}\n## Highlights")
    )
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_API_URL": slack.api_url,
        "DATABASE_PATH": str(tmp_path / "data" / "incidents.db"),
        "TEMPLATES_DIR": str(team_templates),
        "PORT": "39998",
    }
    run = subprocess.run(
        [sys.executable, "-m", "bot", "run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2
    assert f"{team_templates / 'postmortem.md.j2'}:" in run.stderr
    assert "five_whys" in run.stderr and "Traceback" not in run.stderr
    check = subprocess.run(
        [sys.executable, "-m", "bot", "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 1 and "five_whys" in check.stdout


@pytest.mark.parametrize(
    "change, problem",
    [
        (("## Highlights", "## Highlights\n{{ todo('[x]', 'nosuch') }}"), "names no declared"),
        (("{{ s.highlights.text | block if s.highlights.text else", "{{"), "never shows it"),
    ],
)
def test_an_inconsistent_template_is_refused(team_templates, change, problem):
    from bot.drafts import check_templates

    path = team_templates / "postmortem.md.j2"
    path.write_text(TEAM.replace(*change))
    with pytest.raises(TemplateError) as raised:
        check_templates(team_templates)
    assert str(raised.value).startswith(f"{path}:") and problem in str(raised.value)


def test_the_playground_says_what_is_wrong_with_a_template(tmp_path, team_templates):
    (team_templates / "postmortem.md.j2").write_text(TEAM.replace("sections:", "sections: [", 1))
    env = {**__import__("os").environ, "TEMPLATES_DIR": str(team_templates)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "playground"],
        input="quit\n",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "postmortem.md.j2:" in done.stderr and "not valid YAML" in done.stderr


@pytest.mark.parametrize(
    "body, problem",
    [
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ lipsum.__globals__ }}", "unsafe"),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "RecursionError"),
    ],
)
def test_a_template_whose_code_fails_is_a_template_error(team_templates, body, problem):
    from bot.drafts import check_templates

    path = team_templates / "postmortem.md.j2"
    path.write_text(TEAM + body + "\n")
    with pytest.raises(TemplateError) as raised:
        check_templates(team_templates)
    assert str(raised.value).startswith(f"{path}:") and problem in str(raised.value)


@pytest.mark.parametrize(
    "declaration, problem",
    [
        ("sections:\n  - ? [a]\n    : b\n", "not a plain name"),
        (
            "sections:\n  - key: items\n    title: x\n    fields:\n      a: {label: a, prompt: b}",
            "a name the bot or Jinja uses",
        ),
        (
            "sections:\n  - key: a\n    title: x\n    fields:\n      values: {label: a, prompt: b}",
            "not a name the bot or Jinja uses",
        ),
        (
            "sections:\n  - key: a\n    title: null\n    fields:\n      b: {label: a, prompt: b}",
            "The title of `a` should be some text",
        ),
        (
            "sections:\n"
            + "".join(
                f"  - key: s{n}\n    title: x\n    fields:\n      a: {{label: a, prompt: b}}\n"
                for n in range(41)
            ),
            "At most 40 sections",
        ),
    ],
)
def test_a_declaration_slack_or_jinja_could_not_take_is_refused(declaration, problem):
    with pytest.raises(TemplateError) as raised:
        parse_declaration("{#- postmortem-bot\n" + declaration + "\n-#}\n", "t.md.j2")
    assert problem in str(raised.value)
