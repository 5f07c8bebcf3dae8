"""The post-mortem's sections, fields and required milestones, as the team's template declares
them (a `{#- postmortem-bot ... -#}` block of YAML at its top): what the bot asks for, in order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import BotError
from bot.models import Milestone

POSTMORTEM_TEMPLATE = "postmortem.md.j2"
# The declaration: a Jinja comment, so the template renders without it.
_DECLARATION_RE = re.compile(r"\{#-?\s*postmortem-bot\s*\n(?P<yaml>.*?)-?#\}", re.DOTALL)
_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,39}")
# Names a key cannot have: `todo()` groups (header, actions, timeline) and the methods of the
# mappings a template reads them from (`s.review.items` would be dict.items).
RESERVED = frozenset(
    {"header", "actions", "timeline"} | {name for name in dir(dict) if not name.startswith("_")}
)
# Slack's limits on what the declaration becomes: the checklist is one message (50 blocks), a
# section's modal one view (100 blocks).
MAX_SECTIONS = 40
MAX_FIELDS = 40


class TemplateError(BotError):
    """The post-mortem template is missing or broken; the message names the file and line."""


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    prompt: str  # the template's guidance, shown as the modal's hint
    multiline: bool = True


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    fields: tuple[Field, ...]
    required: bool = True  # an empty required section is an open point of the draft

    def field(self, key: str) -> Field:
        return next(f for f in self.fields if f.key == key)


@dataclass(frozen=True)
class Catalog:
    """Every section the template declares, in its order, and the milestones it requires."""

    sections: tuple[Section, ...]
    required_milestones: tuple[Milestone, ...]

    def __iter__(self) -> Iterator[Section]:
        return iter(self.sections)

    def __len__(self) -> int:
        return len(self.sections)

    def get(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def names(self) -> str:
        """`summary`, `impact`, ...: how people name them in `/incident write <section>`."""
        return ", ".join(f"`{s.key}`" for s in self.sections)

    def find(self, name: str) -> Section | None:
        """A section by key or title words: `root_cause`, `root-cause`, `five whys`, `root`;
        None when `name` means none or several (see `matches`)."""
        found = self.matches(name)
        return found[0] if len(found) == 1 else None

    def matches(self, name: str) -> list[Section]:
        """The sections `name` may mean, case-insensitive: the one whose key or title it is
        (`root_cause`, `root-cause`, `Technical Root Cause`), else, in the template's order,
        each whose key begins with it or whose title holds it (`root`, `five whys`)."""
        wanted = " ".join(name.lower().replace("-", " ").replace("_", " ").split())
        if not wanted:
            return []
        for section in self.sections:
            if wanted in (section.key.replace("_", " "), section.title.lower()):
                return [section]
        return [
            s
            for s in self.sections
            if s.key.replace("_", " ").startswith(wanted) or wanted in s.title.lower()
        ]


def load_sections(templates_dir: Path) -> Catalog:
    """The catalog declared in `templates_dir/postmortem.md.j2`. Raises TemplateError naming
    the file and line of what is missing or malformed."""
    path = templates_dir / POSTMORTEM_TEMPLATE
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    return parse_declaration(source, str(path))


def parse_declaration(source: str, where: str) -> Catalog:
    """Read the `{#- postmortem-bot` block of a template's source (see templates/)."""
    found = _DECLARATION_RE.search(source)
    if found is None:
        raise TemplateError(
            f"{where}: no `{{#- postmortem-bot` block declaring the sections (see the bundled "
            "templates/postmortem.md.j2 for its form)."
        )
    first_line = source.count("\n", 0, found.start("yaml")) + 1
    try:
        node = yaml.compose(found["yaml"], Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = first_line + (mark.line if mark else 0)
        why = getattr(exc, "problem", None) or "see its indentation and quotes"
        raise TemplateError(f"{where}:{line}: the declaration is not valid YAML ({why}).") from None
    return _Reader(where, first_line).catalog(node)


class _Reader:
    """Walks the YAML nodes, so that every complaint names its line in the template."""

    def __init__(self, where: str, first_line: int) -> None:
        self.where = where
        self.first_line = first_line

    def fail(self, node: Any, why: str) -> TemplateError:
        line = self.first_line + (node.start_mark.line if node is not None else 0)
        return TemplateError(f"{self.where}:{line}: {why}")

    def mapping(self, node: Any, what: str) -> dict[str, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, f"{what} should be a mapping (`key: value` lines).")
        found: dict[str, Any] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.fail(key, f"{what} has a key that is not a plain name.")
            if key.value in found:
                raise self.fail(key, f"{what} has `{key.value}` twice.")
            found[key.value] = value
        return found

    def text(self, node: Any, what: str) -> str:
        if (
            not isinstance(node, yaml.ScalarNode)
            or node.tag.endswith(":null")
            or not str(node.value).strip()
        ):
            raise self.fail(node, f"{what} should be some text.")
        return str(node.value).strip()

    def flag(self, node: Any, what: str) -> bool:
        value = yaml.safe_load(yaml.serialize(node)) if node is not None else None
        if not isinstance(value, bool):
            raise self.fail(node, f"{what} should be true or false.")
        return value

    def key(self, node: Any, what: str) -> str:
        key = self.text(node, what)
        if not _KEY_RE.fullmatch(key):
            raise self.fail(node, f"{what} `{key}` should be lowercase letters, digits and _.")
        if key in RESERVED:
            raise self.fail(node, f"{what} `{key}` is a name the bot or Jinja uses; pick another.")
        return key

    def catalog(self, node: Any) -> Catalog:
        top = self.mapping(node, "The declaration")
        unknown = set(top) - {"sections", "milestones"}
        if unknown:
            raise self.fail(node, f"The declaration has unknown part(s): {sorted(unknown)}.")
        listed = top.get("sections")
        if not isinstance(listed, yaml.SequenceNode) or not listed.value:
            raise self.fail(listed or node, "`sections:` should list at least one section.")
        if len(listed.value) > MAX_SECTIONS:
            raise self.fail(listed, f"At most {MAX_SECTIONS} sections fit in Slack's checklist.")
        sections = [self.section(item) for item in listed.value]
        keys = [s.key for s in sections]
        for item, key in zip(listed.value, keys, strict=True):
            if keys.count(key) > 1:
                raise self.fail(item, f"Section `{key}` is declared twice.")
        return Catalog(tuple(sections), self.milestones(top.get("milestones")))

    def section(self, node: Any) -> Section:
        part = self.mapping(node, "A section")
        unknown = set(part) - {"key", "title", "required", "fields"}
        if unknown or not {"key", "title", "fields"} <= set(part):
            raise self.fail(
                node,
                "A section has `key`, `title`, `fields` and, if it is optional, "
                "`required: false`" + (f"; not {sorted(unknown)}" if unknown else "") + ".",
            )
        key = self.key(part["key"], "A section's key")
        fields = self.mapping(part["fields"], f"The fields of `{key}`")
        if not fields:
            raise self.fail(part["fields"], f"Section `{key}` has no fields.")
        if len(fields) > MAX_FIELDS:
            raise self.fail(part["fields"], f"At most {MAX_FIELDS} fields fit in one modal.")
        required = self.flag(part["required"], "`required`") if "required" in part else True
        return Section(
            key=key,
            title=self.text(part["title"], f"The title of `{key}`"),
            fields=tuple(self.field(key, name, value) for name, value in fields.items()),
            required=required,
        )

    def field(self, section: str, name: str, node: Any) -> Field:
        if not _KEY_RE.fullmatch(name) or name in RESERVED:
            raise self.fail(
                node,
                f"Field `{section}.{name}`: keys are lowercase letters, digits and _, and not "
                "a name the bot or Jinja uses (`items`, `keys`, `values`, `header`, ...).",
            )
        part = self.mapping(node, f"Field `{section}.{name}`")
        unknown = set(part) - {"label", "prompt", "one line"}
        if unknown or not {"label", "prompt"} <= set(part):
            raise self.fail(
                node,
                f"Field `{section}.{name}` has `label`, `prompt` and maybe "
                "`one line: true`" + (f"; not {sorted(unknown)}" if unknown else "") + ".",
            )
        one_line = self.flag(part["one line"], "`one line`") if "one line" in part else False
        return Field(
            key=name,
            label=self.text(part["label"], f"The label of `{section}.{name}`"),
            prompt=self.text(part["prompt"], f"The prompt of `{section}.{name}`"),
            multiline=not one_line,
        )

    def milestones(self, node: Any) -> tuple[Milestone, ...]:
        if node is None:
            return (Milestone.BEGAN, Milestone.DETECTED, Milestone.RESOLVED)
        part = self.mapping(node, "`milestones:`")
        listed = part.get("required")
        if set(part) != {"required"} or not isinstance(listed, yaml.SequenceNode):
            raise self.fail(node, "`milestones:` has `required:`, a list such as [began, fix].")
        known = {m.value: m for m in Milestone}
        required = []
        for item in listed.value:
            name = self.text(item, "A milestone")
            if name not in known:
                raise self.fail(item, f"`{name}` is not a milestone: {', '.join(known)}.")
            required.append(known[name])
        return tuple(required)
