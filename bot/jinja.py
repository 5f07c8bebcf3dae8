"""Rendering the team's templates with Jinja2: the filters for user text, the `todo()` that
records the guidance a draft still shows, and errors that name the template's line."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from bot.markdown import block, cell, comment, inline, lines
from bot.sections import TemplateError

# Stands in the rendered draft for its open points, which are known only once it is rendered
# (every `todo()` shown is one); replaced afterwards.
OPEN_POINTS = "\x00open points\x00"


NONE = "_None._"  # what an optional section left empty shows instead of its guidance


class Placeholders:
    """`todo(text, where)` in a template: shows `text` (template guidance) and notes it under
    `where` (a section key, `header` or `actions`), so readiness can count what is left."""

    def __init__(self, quiet: frozenset[str] = frozenset()) -> None:
        self.shown: dict[str, list[str]] = {}
        self.quiet = quiet  # optional sections left empty: no guidance, just NONE

    def __call__(self, text: Any, where: str = "") -> Any:
        if where in self.quiet:
            return NONE
        self.shown.setdefault(where, []).append(str(text))
        return text


def environment(templates_dir: Path) -> jinja2.Environment:
    """Sandboxed: a template reads the values it is given, not Python's insides."""
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(templates_dir),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(inline=inline, block=block, cell=cell, lines=lines, comment=comment)
    return env


def _line(exc: BaseException, path: Path) -> str:
    """`:392` for the template line an error came from (Jinja puts template frames in the
    traceback): where the template called what failed, and the line inside the macro too."""
    tb = exc.__traceback__ or sys.exc_info()[2]
    lines = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            lines.append(tb.tb_lineno)
        tb = tb.tb_next
    if not lines:
        return ""
    inner = f" (in the macro at line {lines[-1]})" if lines[-1] != lines[0] else ""
    return f":{lines[0]}{inner}"


def _hint(message: str) -> str:
    """Jinja's words, with what they mean here: `'dict object' has no attribute 'x'` is most
    often a section or field the declaration does not have."""
    if found := re.search(r"has no attribute '([^']+)'", message):
        return (
            f"{message} (is `{found[1]}` a section or field missing from the "
            "`{#- postmortem-bot` declaration?)"
        )
    return message


def render(
    templates_dir: Path,
    name: str,
    context: dict[str, Any],
    placeholders: Placeholders | None = None,
) -> str:
    """Render one template; a broken or missing template is a TemplateError naming the file and
    line, not a crash."""
    path = templates_dir / name
    values = {**context, "todo": placeholders or Placeholders()}
    try:
        return environment(templates_dir).get_template(name).render(values)
    except jinja2.TemplateNotFound:
        raise TemplateError(f"{path}: the template was not found.") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{path}:{exc.lineno}: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(
            f"{path}{_line(exc, path)}: uses something the bot does not provide: "
            f"{_hint(exc.message or '')}"
        ) from None
    except jinja2.TemplateError as exc:  # e.g. the sandbox refusing an unsafe attribute
        raise TemplateError(f"{path}{_line(exc, path)}: {exc.message}") from None
    except Exception as exc:  # whatever the template's own code raises: 1/0, recursion, ...
        raise TemplateError(f"{path}{_line(exc, path)}: {type(exc).__name__}: {exc}") from None
