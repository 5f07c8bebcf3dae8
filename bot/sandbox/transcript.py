"""What each person in the sandbox would see, as terminal text (with colour where it helps)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox.workspace import Ephemeral, Message, Workspace

EMOJI = {
    "white_check_mark": "✅",
    "white_large_square": "⬜",
    "rotating_light": "🚨",
    "warning": "⚠️",
    "hourglass_flowing_sand": "⏳",
    "alarm_clock": "⏰",
    "tada": "🎉",
    "large_green_circle": "🟢",
    "arrows_counterclockwise": "🔄",
    "relieved": "😌",
    "lock": "🔒",
    "clock2": "🕑",
    "wastebasket": "🗑️",
    "pencil2": "✏️",
    "arrow_right_hook": "↪️",
}


@dataclass(frozen=True)
class Style:
    colour: bool

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.colour else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def accent(self, text: str) -> str:
        return self._wrap("36", text)

    def person(self, text: str) -> str:
        return self._wrap("35", text)

    def button(self, text: str) -> str:
        return self._wrap("7", f" {text} ")


class Renderer:
    """Slack mrkdwn and Block Kit -> readable lines for one workspace."""

    def __init__(self, ws: Workspace, style: Style, viewer: str | None = None) -> None:
        self.ws = ws
        self.style = style
        self.viewer = viewer  # whose clock `<!date>` is shown on, as Slack does (else UTC)

    def local(self, stamp: str) -> str:
        """A `<!date^…>` timestamp on the viewer's clock: `2026-11-30 15:05 CET`."""
        zone = ZoneInfo(self.ws.user_named(self.viewer).tz) if self.viewer else UTC
        return f"{datetime.fromtimestamp(int(stamp), zone):%Y-%m-%d %H:%M %Z}"

    def name(self, user_id: str) -> str:
        user = self.ws.users.get(user_id)
        return user.name if user else user_id

    def mrkdwn(self, text: str) -> str:
        def token(m: re.Match[str]) -> str:
            target, _, label = m.group(1).partition("|")
            if target.startswith("@"):
                return self.style.person("@" + (label or self.name(target[1:])))
            if target.startswith("#"):
                channel = self.ws.channels.get(target[1:])
                return self.style.accent("#" + (label or (channel.name if channel else target)))
            if target.startswith("!date"):
                stamp = target.split("^")[1] if "^" in target else ""
                return self.local(stamp) if stamp.isdigit() else label or target
            if target.startswith("!"):
                return "@" + (label or target[1:])
            return f"{label} ({target})" if label else target

        text = re.sub(r"<([^<>]*)>", token, text)
        text = re.sub(r":([a-z_]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), text)
        text = re.sub(
            r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", lambda m: self.style.bold(m.group(1)), text
        )
        return html.unescape(text)

    def _text(self, obj: dict[str, Any] | None) -> str:
        if not obj:
            return ""
        return self.mrkdwn(obj["text"]) if obj.get("type") == "mrkdwn" else obj["text"]

    def blocks(
        self, blocks: list[dict[str, Any]], numbered: list[dict[str, Any]] | None = None
    ) -> list[str]:
        """Lines for these blocks; buttons are numbered (and collected) for `click N`."""
        lines: list[str] = []

        def button(element: dict[str, Any]) -> str:
            label = element["text"]["text"]
            if numbered is not None:
                numbered.append(element)
                label = f"{len(numbered)}: {label}"
            return self.style.button(label)

        for block in blocks:
            kind = block["type"]
            if kind == "header":
                lines.append(self.style.bold(block["text"]["text"]))
            elif kind == "section":
                text = self._text(block.get("text"))
                if "fields" in block:
                    text += ("\n" if text else "") + "\n".join(
                        self._text(f) for f in block["fields"]
                    )
                accessory = block.get("accessory")
                if accessory and accessory.get("type") == "button":
                    text += "  " + button(accessory)
                lines.append(text)
            elif kind == "context":
                lines.append(
                    self.style.dim(
                        " ".join(self._text(e) for e in block["elements"] if "text" in e)
                    )
                )
            elif kind == "actions":
                lines.append(
                    "  ".join(button(e) for e in block["elements"] if e["type"] == "button")
                )
            elif kind == "divider":
                lines.append(self.style.dim("─" * 40))
            elif kind == "input":
                lines.append(f"[{block['label']['text']}]")
        return lines

    def author(self, message: Message) -> str:
        """Who Slack shows above a message: a person's name, or an app's (its custom
        username, its bot profile, or the name it was registered with)."""
        if not message.bot_id:
            return self.name(message.user)
        if message.bot_id == self.ws.bot_id:
            return self.ws.bot.real_name
        profile = message.extra.get("bot_profile") or {}
        return str(
            message.extra.get("username")
            or profile.get("name")
            or self.ws.apps.get(message.bot_id, "an app")
        )

    def message(
        self, message: Message | Ephemeral, numbered: list[dict[str, Any]] | None = None
    ) -> list[str]:
        body = (
            self.blocks(message.blocks, numbered) if message.blocks else [self.mrkdwn(message.text)]
        )
        for attachment in getattr(message, "attachments", None) or []:  # alerting tools
            said = attachment.get("title") or attachment.get("fallback") or ""
            if attachment.get("text"):
                said += ("\n" if said else "") + str(attachment["text"])
            body.append("▍ " + self.mrkdwn(str(said)).replace("\n", "\n▍ "))
        files = getattr(message, "files", None) or []
        if message.blocks and message.text and isinstance(message, Message) and files:
            body.insert(0, self.mrkdwn(message.text))
        elif files and message.text:
            body = [self.mrkdwn(message.text)]
        body += [f"📎 {f['name']} ({f['length']:,} bytes)" for f in files]
        return body


def marks(message: Message) -> str:
    """What Slack shows under a message: in a thread, replies, reactions, a pin."""
    shown = []
    if message.is_reply:
        shown.append("↳ in a thread")
    if message.reply_count:
        shown.append(f"{message.reply_count} repl{'y' if message.reply_count == 1 else 'ies'}")
    shown += [f":{name}: {len(users)}" for name, users in message.reactions.items()]
    if message.pinned:
        shown.append("📌 pinned")
    if message.edited:
        shown.append("(edited)")
    return " · ".join(shown)


def transcript(ws: Workspace, who: str, style: Style) -> list[str]:
    """Everything `who` saw: their channels, what only they saw, their DMs, in order."""
    user = ws.user_named(who)
    render = Renderer(ws, style, who)
    items: list[tuple[str, str, list[str]]] = []
    for channel in ws.channels.values():
        if user.id not in channel.members or channel.name == "general":
            continue
        where = f"DM with {ws.bot.name}" if channel.is_im else f"#{channel.name}"
        for message in channel.messages:
            body = render.message(message)
            if shown := marks(message):
                body.append(style.dim(shown))
            items.append((message.ts, f"{where} · {render.author(message)}", body))
    for ephemeral in (e for e in ws.ephemerals if e.user == user.id):
        channel = ws.channels[ephemeral.channel]
        items.append(
            (ephemeral.ts, f"#{channel.name} · only you can see this", render.message(ephemeral))
        )
    lines = []
    for _, heading, body in sorted(items, key=lambda item: float(item[0] or 0)):
        lines.append(style.accent(heading))
        lines += ["    " + line.replace("\n", "\n    ") for line in body]
    return lines
