"""`python -m bot playground`: an interactive terminal Slack on the sandbox, to try the bot.

Be anyone (`as carol`), type slash commands as in Slack, read channels and DMs, click buttons,
fill modals at the prompt and read the draft. Everything runs locally, against the real bot.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from bot.config import ConfigError
from bot.demo import PEOPLE, give_zones, sandbox_config
from bot.drafts import check_templates
from bot.manifest import manifest_scopes
from bot.postmortem import DEFAULT_TEMPLATES
from bot.sandbox import Emulator
from bot.sandbox.errors import Refused
from bot.sandbox.harness import RunningBot, serve
from bot.sandbox.server import BOT_SCOPES
from bot.sandbox.transcript import Renderer, Style, marks
from bot.sandbox.workspace import Channel, Ephemeral, Message
from bot.sections import TemplateError
from bot.store import Store

HELP = """\
Type slash commands as in Slack:   /incident start Checkout is down sev2
                                   /timeline 14:05 detected: PagerDuty alert
Who and where:   as <name>  · people · channels · go <#channel>
Read:            show [#channel] · dms · home · draft
Act:             say <text> · click <n> · add <n> (message n of `show` to the timeline) · modal
On message n of `show`:   reply <n> <text> (in its thread) · react <n> <emoji> · unreact <n>
                 <emoji> · pin <n> · unpin <n> · edit <n> <text> · delete <n>   (yours only)
Other:           help · quit          (↑/↓ recall earlier lines)
Each person has their own time zone (`people` lists them): a time you type without a zone is
read on your clock, and every time is shown to you on it."""

SETTINGS = (
    "POSTMORTEM_DEADLINE",
    "REMINDERS_BEFORE",
    "OVERDUE_NUDGE_EVERY",
    "ACTION_REMINDER_BEFORE",
    "REMINDER_HOURS",
    "TEMPLATES_DIR",
    "INCIDENT_CHANNEL_PREFIX",
    "TIMELINE_TIME_ZONE",
    "TIMELINE_REACTION",
    "TIMELINE_MILESTONE_REACTIONS",
)


class Playground:
    def __init__(
        self, slack: Emulator, bot: RunningBot, out: TextIO, style: Style, ask: Callable[[str], str]
    ) -> None:
        self.slack = slack
        self.bot = bot
        self.out = out
        self.style = style
        self.ask = ask
        self.me = PEOPLE[0]
        self.render = Renderer(slack.ws, style, self.me)
        self.here = "general"
        self.buttons: list[dict[str, Any]] = []
        self.button_messages: list[Message | Ephemeral] = []
        self.shown: list[Message] = []
        self.seen: dict[str, set[str]] = {p: set() for p in PEOPLE}
        for person in PEOPLE:
            self.seen[person] = self._all_ts(person)

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    # --- the loop ------------------------------------------------------------------------------

    def run(self) -> int:
        self.say(
            self.style.bold("postmortem-bot playground")
            + " — a local Slack with "
            + ", ".join(PEOPLE)
            + ". Type `help` for the commands."
        )
        while True:
            prompt = f"{self.style.person(self.me)} in {self.style.accent('#' + self.here)} › "
            try:
                line = self.ask(prompt).strip()
            except EOFError:
                self.say()
                return 0
            if not line:
                continue
            if line in ("quit", "exit"):
                return 0
            try:
                self.handle(line)
            except (KeyError, ValueError, IndexError, AssertionError) as error:
                self.say(self.style.bold("? ") + str(error).strip("'\""))

    def handle(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        if word.startswith("/"):
            self.slash(word, rest)
            return
        action = getattr(self, f"do_{word}", None)
        if action is None:
            raise ValueError(f"`{word}` is not a playground command; type `help`.")
        action(rest.strip())

    # --- commands ------------------------------------------------------------------------------

    def do_help(self, _: str) -> None:
        self.say(HELP)

    def do_as(self, name: str) -> None:
        name = name.lstrip("@")
        if name not in PEOPLE:
            raise ValueError(f"Nobody here is called {name}: {', '.join(PEOPLE)}.")
        self.me = name
        self.render.viewer = name
        zone = self.slack.ws.user_named(name).tz
        self.say(f"You are {self.style.person(name)} ({zone}).")
        self.news()

    def do_people(self, _: str) -> None:
        for user in self.slack.ws.users.values():
            if not user.is_bot:
                who = self.style.person("@" + user.name)
                self.say(f"  {who}  {user.real_name}  " + self.style.dim(user.tz))

    def do_channels(self, _: str) -> None:
        me = self.slack.user(self.me)
        for channel in self.slack.ws.channels.values():
            if channel.is_im:
                continue
            member = me in channel.members
            lock = "🔒 " if channel.is_private else ""
            if member or not channel.is_private:
                mark = "" if member else self.style.dim("  (not a member)")
                self.say(f"  {lock}#{channel.name}{mark}")

    def do_go(self, name: str) -> None:
        channel = self.slack.channel(name.lstrip("#"))
        me = self.slack.user(self.me)
        if not self.slack.ws.can_see(me, channel):
            raise ValueError(f"#{channel.name} is private and you are not in it.")
        if me not in channel.members:  # opening a public channel and typing there joins it
            self.slack.join(self.me, channel.name)
            self.say(self.style.dim(f"You joined #{channel.name}."))
            self.bot.settle()
        self.seen[self.me] |= {m.ts for m in channel.messages}
        self.here = channel.name
        self.do_show("")

    def do_show(self, name: str) -> None:
        channel = self.slack.channel(name.lstrip("#")) if name else self.slack.channel(self.here)
        topic = self.render.mrkdwn(channel.topic)
        self.say(self.style.bold(f"#{channel.name}") + self.style.dim(f"  {topic}"))
        self._messages(channel.messages[-15:], numbered=True)

    def do_dms(self, _: str) -> None:
        self.say(self.style.bold("Your DMs with postmortem-bot"))
        self._messages(self.slack.ws.im(self.slack.user(self.me)).messages[-10:], numbered=True)

    def do_say(self, text: str) -> None:
        if not text:
            raise ValueError("Say what? `say <text>`")
        self.slack.say(self.me, self.here, text)
        self.after()

    def _shown(self, rest: str, usage: str) -> tuple[Message, str]:
        """Message n of the last `show` (or `dms`), and what follows n on the line."""
        number, _, more = rest.partition(" ")
        if not number.isdigit() or not 1 <= int(number) <= len(self.shown):
            raise ValueError(f"`{usage}`: n is a message of the last `show`; type `show` first.")
        return self.shown[int(number) - 1], more.strip()

    def _on_message(self, act: Callable[[Message, str], object], rest: str, usage: str) -> None:
        message, more = self._shown(rest, usage)
        if not more and usage.count("<") > 1:
            raise ValueError(f"`{usage}`")
        try:
            act(message, more)
        except Refused as refused:
            raise ValueError(f"Slack would not: {refused}.") from None
        self.after()

    def do_reply(self, rest: str) -> None:
        self._on_message(
            lambda m, text: self.slack.say(self.me, m.channel, text, thread_ts=m.ts),
            rest,
            "reply <n> <text>",
        )

    def do_react(self, rest: str) -> None:
        self._on_message(
            lambda m, emoji: self.slack.react(self.me, m.channel, m.ts, emoji.strip(":")),
            rest,
            "react <n> <emoji>",
        )
        self.say(self.style.dim("(reacted)"))

    def do_unreact(self, rest: str) -> None:
        self._on_message(
            lambda m, emoji: self.slack.unreact(self.me, m.channel, m.ts, emoji.strip(":")),
            rest,
            "unreact <n> <emoji>",
        )
        self.say(self.style.dim("(reaction removed)"))

    def do_pin(self, rest: str) -> None:
        self._on_message(lambda m, _: self.slack.pin(self.me, m.channel, m.ts), rest, "pin <n>")
        self.say(self.style.dim("(pinned)"))

    def do_unpin(self, rest: str) -> None:
        self._on_message(lambda m, _: self.slack.unpin(self.me, m.channel, m.ts), rest, "unpin <n>")
        self.say(self.style.dim("(unpinned)"))

    def do_edit(self, rest: str) -> None:
        self._on_message(
            lambda m, text: self.slack.edit(self.me, m.channel, m.ts, text),
            rest,
            "edit <n> <text>",
        )
        self.say(self.style.dim("(edited)"))

    def do_delete(self, rest: str) -> None:
        self._on_message(
            lambda m, _: self.slack.delete(self.me, m.channel, m.ts), rest, "delete <n>"
        )
        self.say(self.style.dim("(deleted)"))

    def do_click(self, number: str) -> None:
        n = int(number) - 1
        if not 0 <= n < len(self.buttons):
            raise ValueError("No such button: `show` or `dms` numbers them.")
        button, message = self.buttons[n], self.button_messages[n]
        before = (message.text, str(message.blocks))
        self.slack.click(self.me, message, button["action_id"], button.get("value"))
        self.after()
        if (message.text, str(message.blocks)) != before:  # Slack updated it in place
            self.say(self.style.dim("(the message now reads)"))
            for line in self.render.message(message):
                self.say("    " + line.replace("\n", "\n    "))

    def do_add(self, number: str) -> None:
        if not number.isdigit() or not 1 <= int(number) <= len(self.shown):
            raise ValueError(
                "`add <n>` keeps message n of the last `show` (or `dms`): type `show` first."
            )
        message = self.shown[int(number) - 1]
        self.slack.shortcut(self.me, "add_to_timeline", self.here, message)
        self.after()

    def do_home(self, _: str) -> None:
        import json

        body = {
            "type": "event_callback",
            "team_id": self.slack.ws.team_id,
            "api_app_id": "A0",
            "event_id": "EvHome",
            "event_time": 0,
            "event": {
                "type": "app_home_opened",
                "user": self.slack.user(self.me),
                "tab": "home",
                "channel": "D0",
                "event_ts": "0",
            },
        }
        self.slack.send(json.dumps(body).encode(), "application/json")
        self.bot.settle()
        home = self.slack.api.home.get(self.slack.user(self.me))
        for line in self.render.blocks(home["blocks"] if home else []):
            self.say("  " + line.replace("\n", "\n  "))

    def do_draft(self, _: str) -> None:
        for channel in [self.slack.channel(self.here), *self.slack.ws.channels.values()]:
            for message in reversed(channel.messages):
                for file in message.files or []:
                    self.say(file["content"].decode())
                    return
        raise ValueError("No draft yet: resolve an incident or type /incident draft.")

    def do_modal(self, _: str) -> None:
        view = self.slack.modal(self.me, wait=0)
        if view is None:
            raise ValueError("You have no modal open.")
        while view is not None:
            self.say(
                self.style.bold(f"── {view['title']['text']} ──")
                + self.style.dim("  (Enter keeps a value, `-` clears it, \\n for a new line)")
            )
            values = {
                block["block_id"]: self._field(block)
                for block in view["blocks"]
                if block["type"] == "input"
            }
            reply = self.slack.submit(self.me, values)
            errors = reply.json.get("errors") if reply.json else None
            if not errors:
                self.say(self.style.accent("✓ Saved."))
                break
            for field, why in errors.items():
                self.say(self.style.bold(f"  {field}: {why}"))
        self.after()

    # --- helpers -------------------------------------------------------------------------------

    def slash(self, command: str, text: str) -> None:
        reply = self.slack.command(self.me, command, text, self.here)
        if reply.status == 404:
            raise ValueError(
                f"{command} is not a command of this app (try /incident or /timeline)."
            )
        self.after()

    def _field(self, block: dict[str, Any]) -> Any:
        element = block["element"]
        label = block["label"]["text"] + ("" if block.get("optional") else " *")
        hint = block.get("hint", {}).get("text", "")
        if hint:
            self.say(self.style.dim(f"  {hint}"))
        kind = element["type"]
        if kind in ("checkboxes", "radio_buttons"):
            return self._choices(label, element)
        if kind == "static_select":
            for n, option in enumerate(element["options"], start=1):
                self.say(f"    {n}. {option['text']['text']}")
        current = element.get("initial_value") or element.get("initial_option", {}).get("value", "")
        shown = f" [{current[:40]}]" if current else ""
        answer = self.ask(f"  {label}{shown}: ").strip()
        if answer == "-":
            return None
        if not answer:
            return current or None
        if kind == "users_select":
            return self.slack.user(answer.lstrip("@"))
        if kind == "static_select":
            return element["options"][int(answer) - 1]["value"]
        return answer.replace("\\n", "\n")

    def _choices(self, label: str, element: dict[str, Any]) -> Any:
        """Checkboxes or radio buttons, as Slack shows them: each option (its description
        under it) with what is ticked. Enter keeps what is shown; numbers choose (`1 3`: tick
        those), `-` ticks none. Returns what the emulator fills in (None: as shown)."""
        ticked = [o["value"] for o in element.get("initial_options", [])]
        if element.get("initial_option"):
            ticked = [element["initial_option"]["value"]]
        box = ("[x]", "[ ]") if element["type"] == "checkboxes" else ("(•)", "( )")
        for n, option in enumerate(element["options"], start=1):
            mark = box[0] if option["value"] in ticked else box[1]
            self.say(f"    {n}. {mark} {self.render.mrkdwn(option['text']['text'])}")
            if option.get("description"):
                self.say(self.style.dim(f"          {option['description']['text']}"))
        answer = self.ask(f"  {label} (numbers, Enter keeps, - none): ").strip()
        if not answer:
            return None
        if answer == "-":
            return [] if element["type"] == "checkboxes" else None
        options = element["options"]
        numbers = answer.replace(",", " ").split()
        if not all(n.isdigit() and 1 <= int(n) <= len(options) for n in numbers):
            raise ValueError(f"Type option numbers from 1 to {len(options)}, Enter or -.")
        chosen = [options[int(n) - 1]["value"] for n in numbers]
        return chosen if element["type"] == "checkboxes" else chosen[0]

    def _messages(self, messages: list[Message], numbered: bool) -> None:
        self.buttons, self.button_messages, self.shown = [], [], list(messages)
        for n, message in enumerate(messages, start=1):
            author = self.render.author(message)
            count = len(self.buttons)
            body = self.render.message(message, self.buttons)
            self.button_messages += [message] * (len(self.buttons) - count)
            prefix = self.style.dim(f"{n:>3} ") if numbered else ""
            self.say(prefix + self.style.person(author))
            for line in body:
                self.say("      " + line.replace("\n", "\n      "))
            if shown := marks(message):
                self.say("      " + self.style.dim(shown))

    def _visible(self, person: str) -> list[tuple[str, Channel, Message]]:
        user = self.slack.user(person)
        found = []
        for channel in self.slack.ws.channels.values():
            if user in channel.members:
                found += [(m.ts, channel, m) for m in channel.messages]
        return found

    def _all_ts(self, person: str) -> set[str]:
        user = self.slack.user(person)
        return {ts for ts, _, _ in self._visible(person)} | {
            e.ts for e in self.slack.ws.ephemerals if e.user == user
        }

    def after(self) -> None:
        self.bot.settle()
        self.news()

    def news(self) -> None:
        """What appeared for you since you last looked: messages, whispers, DMs, a modal."""
        user = self.slack.user(self.me)
        seen = self.seen[self.me]
        fresh: list[tuple[str, str, Any]] = []
        for ts, channel, message in self._visible(self.me):
            if ts not in seen:
                where = "DM" if channel.is_im else f"#{channel.name}"
                fresh.append((ts, where, message))
        for ephemeral in self.slack.ws.ephemerals:
            if ephemeral.user == user and ephemeral.ts not in seen:
                channel = self.slack.ws.channels[ephemeral.channel]
                fresh.append((ephemeral.ts, f"#{channel.name} · only you", ephemeral))
        self.buttons, self.button_messages = [], []  # `add n` keeps the last `show`'s numbers
        for ts, where, item in sorted(fresh, key=lambda f: float(f[0] or 0)):
            seen.add(ts)
            author = (
                "postmortem-bot"
                if getattr(item, "bot_id", None) or where.endswith("only you")
                else self.render.name(item.user)
            )
            self.say(self.style.accent(where) + " · " + self.style.person(author))
            count = len(self.buttons)
            for line in self.render.message(item, self.buttons):
                self.say("    " + line.replace("\n", "\n    "))
            self.button_messages += [item] * (len(self.buttons) - count)  # ephemerals too
        new_channels = [
            c
            for c in self.slack.ws.channels.values()
            if c.name.startswith(("inc-",))
            and user in c.members
            and c.name != self.here
            and any(ts in {m.ts for m in c.messages} for ts, _, _ in fresh)
        ]
        if new_channels:
            self.say(self.style.dim(f"  (type `go #{new_channels[-1].name}` to go there)"))
        modal = self.slack.modal(self.me, wait=0)
        if modal:
            title = modal["title"]["text"]
            self.say(self.style.bold(f"A modal is open: {title}.") + " Type `modal` to fill it.")


def _reader() -> Callable[[str], str]:
    with contextlib.suppress(ImportError):
        import readline  # noqa: F401  (history and line editing for input())
    return input


def run_playground(out: TextIO = sys.stdout, ask: Callable[[str], str] | None = None) -> int:
    style = Style(out.isatty() and os.environ.get("NO_COLOR") is None)
    folder = Path(tempfile.mkdtemp(prefix="postmortem-playground-"))
    settings = {k: os.environ[k] for k in SETTINGS if os.environ.get(k)}
    if os.environ.get("POSTMORTEM_REVIEW", "commit").lower() != "commit":
        print(
            "postmortem-bot: POSTMORTEM_REVIEW is not played here: the playground commits its "
            "drafts to a repository of its own. `scripts/demo --review` shows review mode.",
            file=out,
        )
    with Emulator(people=PEOPLE, scopes=manifest_scopes() or BOT_SCOPES) as slack:
        give_zones(slack)
        try:
            config = sandbox_config(slack, folder / "data", **settings)
            check_templates(config.templates_dir or DEFAULT_TEMPLATES)
        except (ConfigError, TemplateError) as error:
            print(f"postmortem-bot: {error}", file=sys.stderr)
            return 2
        store = Store(config.database_path)
        try:
            with serve(slack, config, store) as bot:
                code = Playground(slack, bot, out, style, ask or _reader()).run()
        finally:
            store.close()
    print(f"The playground's data and post-mortem repository: {folder}", file=out)
    return code
