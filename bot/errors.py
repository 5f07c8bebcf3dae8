"""Named errors of the workflow, with messages fit to show the person who caused them."""

QUOTE_LIMIT = 40


def quoted(text: str) -> str:
    """What the person typed, echoed in an error message: in backticks, on one line, cut short
    (a refusal never repeats 100 KB back at them)."""
    text = " ".join(str(text).split()).replace("`", "'")
    return f"`{text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + '…'}`"


class BotError(Exception):
    """Base class: the message is safe and useful to show the user as it is."""


class UsageError(BotError):
    """The command was malformed; the message says what was wrong and what to type."""


class NotAnIncidentChannel(BotError):
    """A command that needs an incident channel was used elsewhere."""

    def __init__(self, command: str = "This command") -> None:
        super().__init__(
            f"{command} works only in an incident channel. "
            "Run it in the channel that `/incident start` created, or open one with "
            "`/incident start <title>`."
        )


class NotAllowed(BotError):
    """The person may not make this change."""


class NotFound(BotError):
    """The thing referred to does not exist (in this workspace)."""


class Conflict(BotError):
    """Someone else changed the same thing a moment earlier; nothing was changed by this."""
