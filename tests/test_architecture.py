"""The house in one picture: Slack stays at the edge; imports go down, never up."""

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parents[1] / "bot"
# Entry points and the edge: they wire Slack (or the sandbox) to the workflow.
EDGE = {
    "slack",
    "server.py",
    "__main__.py",
    "demo.py",
    "demo_review.py",
    "playground.py",
    "check.py",
    "sandbox",
}
SLACK_LIBS = ("slack_bolt", "slack_sdk")
SQLITE_LIBS = ("sqlite3", "sqlite_utils")
# The code hosts' clients (PyGithub, python-gitlab): only bot/hosts/ speaks to a code host.
HOSTS = "hosts"
HOST_LIBS = {"github", "gitlab"}
# The store (bot/store/, a module per noun) and the plain modules under it: only these hold SQL.
STORE = "store"
STORE_MAY_IMPORT = {
    "budget",
    "checkpoint",
    "errors",
    "group_commit",
    "migrations",
    "models",
    "private",
    "proposals",  # plain: what an import proposes
    STORE,
}
SQL_MODULES = {"migrations.py", "checkpoint.py"}  # the schema; the WAL checkpoint
# Beside the store, these plain modules talk to SQLite (a connection, its types): no rules.
SQLITE_HELPERS = SQL_MODULES | {"group_commit.py"}
# What each workflow module may import from the bot package (lower layers only).
ALLOWED = {
    "errors": set(),
    "models": set(),
    "durations": {"errors"},
    "when": {"durations", "errors"},
    "git_settings": set(),
    "settings": set(),
    "config": {
        "working_hours",
        "digest_at",
        "durations",
        "errors",
        "escalate_to",
        "git_settings",
        "models",
        "settings",
        "timeline",
        "when",
    },
    "digest_at": set(),
    "working_hours": set(),
    "escalate_to": set(),
    "digest": {"digest_at", "insights", "insights_model", "models", "reminders", "store"},
    "naming": set(),
    "severity_words": {"errors", "models"},
    "free_text": {"errors"},
    "timeline": {"errors", "free_text", "models", "when"},
    "migrations": set(),
    "group_commit": {"errors"},
    "budget": set(),
    "checkpoint": set(),
    "proposals": {"models"},
    "private": set(),
    "logs": {"private"},
    "report": {"durations", "models"},
    "markdown": set(),
    "sections": {"errors", "models"},
    "jinja": {"markdown", "sections"},
    "readiness": {"models", "report", "retro", "sections"},
    "lint_shape": {"errors", "jinja", "models", "postmortem", "report", "retro", "sections"},
    "lint": {"lint_shape", "models", "readiness", "report", "retro"},
    "retro": {"access", "action_words", "errors", "free_text", "models", "sections", "store"},
    "assignments": {"access", "errors", "models", "readiness", "retro", "sections", "store"},
    "access": {"errors", "models", "store"},
    "incidents": {"access", "errors", "free_text", "logs", "models", "report", "store", "when"},
    "kept": {"errors", "free_text", "models", "store", "timeline"},
    "entries": {"errors", "kept", "models", "store", "timeline", "when"},
    "insights_model": set(),
    "insights": {"errors", "insights_model", "models", "store"},
    "insights_cli": {
        "config",
        "durations",
        "errors",
        "insights",
        "insights_model",
        "models",
        "store",
    },
    "insights_text": {"durations", "insights_model", "models"},
    "charts": {"insights_model", "insights_text", "models"},
    "insights_example": {"charts", "insights_model"},
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


def bot_modules(path):
    """The bot's top-level modules (or packages) that `path` imports, in either form:
    `from bot.x import y`, `import bot.x`, `from bot import x`."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[1] for a in node.names if a.name.startswith("bot."))
        elif isinstance(node, ast.ImportFrom) and node.module == "bot":
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot."):
            yield node.module.split(".")[1]


def test_the_store_imports_only_plain_modules():
    """bot/store/ (every module in it, a new one too) sits on errors, models and the SQLite
    helpers, never on the rules above it."""
    modules = sorted((BOT / STORE).glob("*.py"))
    assert {p.name for p in modules} >= {"__init__.py", "connection.py", "rows.py"}
    for path in modules:
        used = set(bot_modules(path))
        assert used <= STORE_MAY_IMPORT, f"bot/store/{path.name} imports {used - STORE_MAY_IMPORT}"
    assert not (BOT / "store.py").exists(), "storage is the bot/store/ package"


def rules_modules():
    """Every module of the bot outside the store, the edge's entry points and the emulator."""
    for path in BOT.rglob("*.py"):
        top = path.relative_to(BOT).parts[0]
        if top not in {STORE, "sandbox", "__main__.py"} and top not in SQLITE_HELPERS:
            yield path


def test_the_rules_import_the_store_not_sqlite():
    offenders = []
    for path in rules_modules():
        offenders += [
            f"{path.relative_to(BOT)}: {m}" for m in imports(path) if m.startswith(SQLITE_LIBS)
        ]
    assert offenders == []


def sql_in(source, name):
    """Where module `name` runs SQL itself: `.execute(`/`.query(` calls, `with ....write()`
    blocks (a store transaction), and reaching for a connection (`.db`, `.conn`)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in ("execute", "executemany", "executescript", "query"):
                found.append(f"{name}:{node.lineno}: .{node.func.attr}(")
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "write"
                ):
                    found.append(f"{name}:{node.lineno}: with .write()")
        elif isinstance(node, ast.Attribute) and node.attr in ("db", "conn"):
            found.append(f"{name}:{node.lineno}: .{node.attr}")
    return found


def test_sql_lives_in_the_store():
    """Rules call store methods; a table's SQL lives in its module in bot/store/ (or, for the
    schema, bot/migrations.py; the WAL checkpoint, bot/checkpoint.py)."""
    offenders = []
    for path in BOT.rglob("*.py"):
        top = path.relative_to(BOT).parts[0]
        if top not in {STORE, "sandbox"} and top not in SQL_MODULES:
            offenders += sql_in(path.read_text(), str(path.relative_to(BOT)))
    assert offenders == []


def test_the_sql_check_sees_sql():
    """The check above finds each shape of SQL it looks for (else it could never fail)."""
    sample = (
        "def f(store, db):\n"
        "    store.db.query('SELECT 1')\n"
        "    db.conn.execute('DELETE FROM x')\n"
        "    with store.write() as db:\n"
        "        pass\n"
        "    store.stream.write('not SQL')\n"
    )
    kinds = sorted(hit.split(": ", 1)[1] for hit in sql_in(sample, "sample.py"))
    assert kinds == [".conn", ".db", ".execute(", ".query(", "with .write()"]


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


def test_only_bot_hosts_speaks_to_code_hosts():
    """PyGithub and python-gitlab are imported in bot/hosts/ alone; the fake host in the
    sandbox answers them over HTTP and imports neither."""
    offenders = []
    for path in BOT.rglob("*.py"):
        if path.relative_to(BOT).parts[0] == HOSTS:
            continue
        offenders += [
            f"{path.relative_to(BOT)}: {m}" for m in imports(path) if m.split(".")[0] in HOST_LIBS
        ]
    assert offenders == []


def test_bot_hosts_is_plain():
    """bot/hosts/ (every module in it) stands alone: no Slack, no SQLite, nothing of the bot
    but itself and bot/errors.py (HostError is a BotError), so the workflow can call it and
    tests can run it against the fake host."""
    modules = sorted((BOT / HOSTS).glob("*.py"))
    assert {p.name for p in modules} >= {"__init__.py", "urls.py", "github.py", "gitlab.py"}
    for path in modules:
        used = set(bot_modules(path))
        assert used <= {HOSTS, "errors"}, f"bot/hosts/{path.name} imports {used}"
        libs = [m for m in imports(path) if m.startswith(SLACK_LIBS + SQLITE_LIBS)]
        assert libs == [], f"bot/hosts/{path.name} imports {libs}"


def test_the_app_starts_without_matplotlib():
    """Charts import matplotlib at the first chart: at start it doubled the time to a ready
    /healthz and added 30 MiB (bench/bench.py)."""
    import subprocess
    import sys

    code = "import sys, bot.__main__, bot.slack.app; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
