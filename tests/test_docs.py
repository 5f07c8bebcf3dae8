"""Docs are part of the feature: the README, the help text and the code stay in step."""

import re
from pathlib import Path

from bot.settings import SETTINGS
from bot.slack.blocks import HELP
from bot.slack.incident_commands import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def settings_table():
    rows = re.findall(r"^\| `([A-Z_]+)` \| (.+?) \| (.+?) \|$", README, re.MULTILINE)
    return {name: (default, text) for name, default, text in rows}


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()[1:]]
    assert commands == ["scripts/demo", "scripts/test"]
    for command in commands:
        assert (ROOT / command).exists()
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_is_in_the_readme_with_its_default_and_help():
    table = settings_table()
    assert list(table) == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        default, text = table[setting.name]
        if setting.default is not None:
            assert default == f"`{setting.default}`", setting.name
        assert text == setting.help, setting.name


def test_every_subcommand_is_documented_and_in_the_help():
    subcommands = SUBCOMMANDS
    help_text = " ".join(usage for usage, _ in HELP)
    for sub in subcommands:
        assert f"/incident {sub}" in README, sub
        assert f"/incident {sub}" in help_text, sub
    for usage, _ in HELP:
        first_words = " ".join(usage.split()[:2])
        assert first_words.split(" <")[0] in README, usage


def test_every_thing_people_do_is_in_who_may_do_what():
    """Each command, shortcut, button and form of the route table (its Grid case names it)
    has its row in the README's table; membership events are no one's action."""
    from tests.test_security_grid import CASES

    table = README.split("## Who may do what")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `") or "`" in line[:60]]
    missing = [
        name
        for kind, name in CASES
        if not name.startswith("member_") and not any(f"`{name}" in row for row in rows)
    ]
    assert missing == []


def test_procfile_runs_the_bot():
    assert (ROOT / "Procfile").read_text().strip() == "web: python -m bot run"


def test_every_command_line_subcommand_is_in_the_readme(capsys):
    import pytest

    from bot.__main__ import main

    with pytest.raises(SystemExit):
        main(["--help"])
    listed = re.search(r"\{([a-z,]+)\}", capsys.readouterr().out)
    assert listed and "lint" in listed[1].split(",")

    def documented(command):  # `scripts/demo` stands for `python -m bot demo`
        script = ROOT / "scripts" / command
        by_script = script.exists() and f"bot {command}" in script.read_text()
        in_readme = f"python -m bot {command}" in README
        return in_readme or (by_script and f"scripts/{command}" in README)

    assert [c for c in listed[1].split(",") if not documented(c)] == []
