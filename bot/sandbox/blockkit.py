"""Block Kit validation with Slack's limits: what Slack refuses as `invalid_blocks`.

Covers the blocks and elements a bot like this uses; anything else is refused, as Slack refuses
unknown types and unknown fields.
"""

from __future__ import annotations

import re
from typing import Any

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
# The text of all of a message's blocks together. Slack documents no total, but answers
# chat.postMessage with `msg_blocks_too_long` past about 12,000 characters (slackapi/bolt-js
# #2509, #2867; 12,000 is the documented total of `markdown` blocks): the stricter reading.
MAX_BLOCKS_TEXT = 12_000
MAX_MESSAGE_TEXT = 40_000  # chat.postMessage: a longer `text` is cut (`message_truncated`)


# What Slack reads between < and > in mrkdwn: mentions, channels, specials, dates and links.
# Anything else (`<what triggered it>` in a help text) Slack takes for a link and shows wrongly.
_TOKEN_RE = re.compile(r"<([^<>]*)>")
_SLACK_TOKEN_RE = re.compile(
    r"^(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|!(?:here|channel|everyone)|!subteam\^[A-Z0-9]+"
    r"|!date\^\d+\^[^|]*|(?:https?|mailto|tel):[^|\s]+)(?:\|[^<>]*)?$"
)


# What is left of markup or an escape cut in two: `<@U12` with no `>`, `&am`. (A lone `>`
# is mrkdwn's quote mark.)
_BROKEN_RE = re.compile(r"<[^<>]*(?:<|$)|&(?!amp;|lt;|gt;)")


def stray_markup(blocks: Any, text: str = "") -> list[str]:
    """`<...>` in the mrkdwn of a message that is not Slack markup (Slack accepts it, and
    shows it as a broken link), and markup or an escape cut in two (shown as broken text):
    each as a short note."""
    texts = [text]

    def walk(obj: Any) -> None:
        if isinstance(obj, dict):
            if obj.get("type") == "mrkdwn" and isinstance(obj.get("text"), str):
                texts.append(obj["text"])
            for value in obj.values():
                walk(value)
        elif isinstance(obj, list):
            for value in obj:
                walk(value)

    walk(blocks)
    return [
        f"<{token}> would show as a link"
        for t in texts
        for token in _TOKEN_RE.findall(t)
        if not _SLACK_TOKEN_RE.match(token)
    ] + [
        f"{t[max(0, m.start() - 20) : m.end() + 20]!r}: markup cut in two"
        for t in texts
        for m in _BROKEN_RE.finditer(t)
    ]


class BlockError(ValueError):
    """A Block Kit payload Slack would refuse; the message says where and why."""


class BlocksTooLong(BlockError):
    """Blocks each within its limits that hold too much text together (`msg_blocks_too_long`)."""


def text_size(obj: Any) -> int:
    """Characters in every `text` string of a payload, at any depth."""
    if isinstance(obj, dict):
        own = len(obj["text"]) if isinstance(obj.get("text"), str) else 0
        return own + sum(text_size(v) for v in obj.values() if isinstance(v, dict | list))
    if isinstance(obj, list):
        return sum(text_size(v) for v in obj)
    return 0


def _check(cond: bool, where: str, why: str) -> None:
    if not cond:
        raise BlockError(f"{where}: {why}")


def _fields(obj: Any, where: str, required: set[str], optional: set[str]) -> None:
    _check(isinstance(obj, dict), where, "must be an object")
    missing = required - obj.keys()
    _check(not missing, where, f"missing required field(s) {sorted(missing)}")
    extra = obj.keys() - required - optional - {"type"}
    _check(not extra, where, f"unknown field(s) {sorted(extra)}")


def _text(obj: Any, where: str, max_len: int, plain_only: bool = False) -> None:
    _fields(obj, where, {"type", "text"}, {"emoji", "verbatim"})
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    _check(obj["type"] in kinds, where, f"text type must be one of {kinds}")
    _check(isinstance(obj["text"], str), where, "text must be a string")
    _check(0 < len(obj["text"]) <= max_len, where, f"text must be 1 to {max_len} characters")
    if obj["type"] == "mrkdwn":
        _check("emoji" not in obj, where, "emoji is only for plain_text")


def _id(obj: dict[str, Any], key: str, where: str, max_len: int = 255) -> None:
    if key in obj:
        value = obj[key]
        _check(isinstance(value, str) and 0 < len(value) <= max_len, where, f"bad {key}")


def _option(obj: Any, where: str) -> None:
    _fields(obj, where, {"text", "value"}, {"description", "url"})
    _text(obj["text"], f"{where}.text", 75)
    if "description" in obj:
        _text(obj["description"], f"{where}.description", 75)
    _check(isinstance(obj["value"], str) and len(obj["value"]) <= 150, where, "bad value")


_ELEMENT_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "button": ({"text"}, {"action_id", "value", "url", "style", "confirm", "accessibility_label"}),
    "static_select": (
        {"type"},
        {
            "action_id",
            "placeholder",
            "options",
            "option_groups",
            "initial_option",
            "confirm",
            "focus_on_load",
        },
    ),
    "overflow": ({"options"}, {"action_id", "confirm"}),
    "users_select": (
        set(),
        {"action_id", "placeholder", "initial_user", "confirm", "focus_on_load"},
    ),
    "multi_users_select": (
        set(),
        {
            "action_id",
            "placeholder",
            "initial_users",
            "max_selected_items",
            "confirm",
            "focus_on_load",
        },
    ),
    "conversations_select": (
        set(),
        {
            "action_id",
            "placeholder",
            "initial_conversation",
            "default_to_current_conversation",
            "filter",
            "response_url_enabled",
            "confirm",
            "focus_on_load",
        },
    ),
    "datepicker": (set(), {"action_id", "placeholder", "initial_date", "confirm", "focus_on_load"}),
    "timepicker": (
        set(),
        {"action_id", "placeholder", "initial_time", "confirm", "focus_on_load", "timezone"},
    ),
    "plain_text_input": (
        set(),
        {
            "action_id",
            "placeholder",
            "initial_value",
            "multiline",
            "min_length",
            "max_length",
            "dispatch_action_config",
            "focus_on_load",
        },
    ),
    "checkboxes": (set(), {"action_id", "options", "initial_options", "confirm", "focus_on_load"}),
    "radio_buttons": (
        set(),
        {"action_id", "options", "initial_option", "confirm", "focus_on_load"},
    ),
    "image": ({"image_url", "alt_text"}, set()),
}


def _element(obj: Any, where: str) -> None:
    _check(
        isinstance(obj, dict) and obj.get("type") in _ELEMENT_FIELDS,
        where,
        f"unknown element type {obj.get('type') if isinstance(obj, dict) else obj!r}",
    )
    required, optional = _ELEMENT_FIELDS[obj["type"]]
    _fields(obj, where, required - {"type"}, optional)
    _id(obj, "action_id", where)
    kind = obj["type"]
    if kind == "button":
        _text(obj["text"], f"{where}.text", 75, plain_only=True)
        _check(len(obj.get("value", "")) <= 2000, where, "value over 2000 characters")
        _check(obj.get("style", "primary") in ("primary", "danger"), where, "bad style")
    if "placeholder" in obj:
        _text(obj["placeholder"], f"{where}.placeholder", 150, plain_only=True)
    if "options" in obj:
        opts = obj["options"]
        _check(isinstance(opts, list) and 0 < len(opts) <= 100, where, "1 to 100 options")
        for i, opt in enumerate(opts):
            _option(opt, f"{where}.options[{i}]")
        if kind in ("checkboxes", "radio_buttons"):  # Block Kit reference: at most 10 each
            _check(len(opts) <= 10, where, "1 to 10 options")
            values = [o["value"] for o in opts]
            _check(len(values) == len(set(values)), where, "duplicate option value")
            shown = obj.get("initial_options", []) + (
                [obj["initial_option"]] if "initial_option" in obj else []
            )
            _check(all(o in opts for o in shown), where, "an initial option that is not an option")
    if kind == "static_select":
        _check(("options" in obj) != ("option_groups" in obj), where, "options or option_groups")
    if kind == "plain_text_input":
        _check(0 <= obj.get("max_length", 3000) <= 3000, where, "max_length over 3000")
        _check(len(obj.get("initial_value", "")) <= 3000, where, "initial_value too long")
    if kind == "datepicker" and "initial_date" in obj:
        value = obj["initial_date"]
        _check(
            isinstance(value, str) and len(value) == 10 and value[4] == "-",
            where,
            "initial_date must be YYYY-MM-DD",
        )


def _block(block: Any, where: str, surface: str) -> None:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "section":
        _fields(block, where, set(), {"text", "fields", "accessory", "block_id", "expand"})
        _check("text" in block or "fields" in block, where, "section needs text or fields")
        if "text" in block:
            _text(block["text"], f"{where}.text", 3000)
        if "fields" in block:
            _check(0 < len(block["fields"]) <= 10, where, "1 to 10 fields")
            for i, field in enumerate(block["fields"]):
                _text(field, f"{where}.fields[{i}]", 2000)
        if "accessory" in block:
            _element(block["accessory"], f"{where}.accessory")
    elif kind == "header":
        _fields(block, where, {"text"}, {"block_id"})
        _text(block["text"], f"{where}.text", 150, plain_only=True)
    elif kind == "divider":
        _fields(block, where, set(), {"block_id"})
    elif kind == "context":
        _fields(block, where, {"elements"}, {"block_id"})
        elements = block["elements"]
        _check(isinstance(elements, list) and 0 < len(elements) <= 10, where, "1 to 10 elements")
        for i, el in enumerate(elements):
            if isinstance(el, dict) and el.get("type") == "image":
                _element(el, f"{where}.elements[{i}]")
            else:
                _text(el, f"{where}.elements[{i}]", 3000)
    elif kind == "actions":
        _fields(block, where, {"elements"}, {"block_id"})
        elements = block["elements"]
        _check(isinstance(elements, list) and 0 < len(elements) <= 25, where, "1 to 25 elements")
        for i, el in enumerate(elements):
            _element(el, f"{where}.elements[{i}]")
        ids = [el.get("action_id") for el in elements if el.get("action_id")]
        _check(len(ids) == len(set(ids)), where, "duplicate action_id")
    elif kind == "input":
        _check(surface == "modal", where, "input blocks are only allowed in modals")
        _fields(
            block, where, {"label", "element"}, {"block_id", "hint", "optional", "dispatch_action"}
        )
        _text(block["label"], f"{where}.label", 2000, plain_only=True)
        if "hint" in block:
            _text(block["hint"], f"{where}.hint", 2000, plain_only=True)
        _element(block["element"], f"{where}.element")
    else:
        raise BlockError(f"{where}: unknown block type {kind!r}")
    _id(block, "block_id", where)


def validate_blocks(blocks: Any, surface: str = "message") -> None:
    """Raise BlockError if Slack would refuse these blocks on this surface (BlocksTooLong for a
    message whose blocks hold more than MAX_BLOCKS_TEXT characters of text together)."""
    _check(isinstance(blocks, list), "blocks", "must be an array")
    limit = MAX_BLOCKS[surface]
    _check(len(blocks) <= limit, "blocks", f"no more than {limit} items allowed")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        _block(block, f"blocks[{i}]", surface)
        block_id = block.get("block_id")
        if block_id:
            _check(block_id not in seen, f"blocks[{i}]", f"duplicate block_id {block_id!r}")
            seen.add(block_id)
    if surface == "message" and (size := text_size(blocks)) > MAX_BLOCKS_TEXT:
        raise BlocksTooLong(f"blocks: {size:,} characters of text, more than {MAX_BLOCKS_TEXT:,}")


def validate_view(view: Any) -> None:
    """Raise BlockError if Slack would refuse this modal or home tab view."""
    _check(isinstance(view, dict) and view.get("type") in ("modal", "home"), "view", "bad type")
    kind = view["type"]
    optional = {
        "blocks",
        "callback_id",
        "private_metadata",
        "external_id",
        "clear_on_close",
        "notify_on_close",
        "submit_disabled",
    }
    if kind == "modal":
        _fields(view, "view", {"title", "blocks"}, optional | {"submit", "close"})
        _text(view["title"], "view.title", 24, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                _text(view[key], f"view.{key}", 24, plain_only=True)
        has_input = any(b.get("type") == "input" for b in view["blocks"] if isinstance(b, dict))
        _check(not has_input or "submit" in view, "view", "a modal with inputs needs submit")
    else:
        _fields(view, "view", {"blocks"}, optional)
    _check(len(view.get("private_metadata", "")) <= 3000, "view", "private_metadata too long")
    _id(view, "callback_id", "view")
    validate_blocks(view["blocks"], kind)
