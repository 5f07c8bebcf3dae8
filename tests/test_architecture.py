"""The house in one picture: Slack stays at the edge; imports go down, never up."""

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
# Entry points and the edge: they wire Slack (or the sandbox) to the workflow.
EDGE = {"slack", "server.py", "__main__.py", "demo.py", "playground.py", "check.py", "sandbox"}
SLACK_LIBS = ("slack_bolt", "slack_sdk")
# What each workflow module may import from the bot package (lower layers only).
ALLOWED = {
    "errors": set(),
    "models": set(),
    "durations": {"errors"},
    "when": {"durations", "errors"},
    "git_settings": set(),
    "config": {"durations", "errors", "git_settings", "when"},
    "naming": set(),
    "severity_words": {"errors", "models"},
    "free_text": {"errors"},
    "timeline": {"errors", "free_text", "models", "when"},
    "migrations": set(),
    "group_commit": {"errors"},
    "budget": set(),
    "checkpoint": set(),
    "rows": set(),
    "store_timeline": {"budget", "errors", "group_commit", "models", "rows"},
    "store_people": {"errors", "rows"},
    "store_imports": {"models", "proposals", "rows"},
    "proposals": {"models"},
    "store": {
        "budget",
        "checkpoint",
        "errors",
        "group_commit",
        "migrations",
        "models",
        "private",
        "rows",
        "store_imports",
        "store_people",
        "store_timeline",
    },
    "private": set(),
    "logs": {"private"},
    "report": {"durations", "models"},
    "markdown": set(),
    "sections": {"errors", "models"},
    "jinja": {"markdown", "sections"},
    "readiness": {"models", "report", "retro", "sections"},
    "retro": {"access", "action_words", "errors", "free_text", "models", "sections", "store"},
    "access": {"errors", "models", "store"},
    "incidents": {"access", "errors", "free_text", "logs", "models", "report", "store", "when"},
    "entries": {"errors", "free_text", "models", "store", "timeline", "when"},
}


def imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_only_the_edge_imports_slack_libraries():
    offenders = []
    for path in BOT.rglob("*.py"):
        top = path.relative_to(BOT).parts[0]
        if top in EDGE:
            continue
        offenders += [
            f"{path.relative_to(BOT)}: {m}" for m in imports(path) if m.startswith(SLACK_LIBS)
        ]
    assert offenders == []


def test_workflow_modules_import_only_lower_layers():
    for name, allowed in ALLOWED.items():
        used = {m.split(".")[1] for m in imports(BOT / f"{name}.py") if m.startswith("bot.")}
        assert used <= allowed, f"bot/{name}.py imports {used - allowed}"


def test_the_workflow_never_imports_the_edge_or_the_emulator():
    for path in BOT.glob("*.py"):
        if path.name in EDGE:
            continue
        for module in imports(path):
            assert not module.startswith(("bot.slack", "bot.sandbox", "bot.server")), path


def test_every_module_says_what_it_owns():
    for path in BOT.rglob("*.py"):
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc and len(doc.splitlines()) <= 8, (
            f"{path.relative_to(BOT)} needs a short docstring"
        )
