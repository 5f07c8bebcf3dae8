"""Who may do what (README, "Who may do what"), decided from the store as it is now: who is in
the incident channel, who commands it, who owns what. Plain Python; no Slack."""

from __future__ import annotations

from collections.abc import Callable

from bot.errors import NotAllowed
from bot.models import Incident
from bot.store import Store

UNSEEN = (
    ":lock: That is for an incident you cannot see (a private incident is for the people in its "
    "channel; ask one of them to invite you); nothing was done."
)


def may_see(store: Store, incident: Incident, user_id: str) -> bool:
    """Whether `user_id` may see the incident now: a public one once it has its channel, a
    private one as a member of its channel (see `may_change`)."""
    return bool(incident.channel_id) and may_change(store, incident, user_id)


def may_change(store: Store, incident: Incident, user_id: str) -> bool:
    """Whether the incident is open to `user_id` now: a public one to the workspace, a private
    one to the members of its channel as the store knows them now (Slack's
    `member_joined_channel` and `member_left_channel` events keep that list)."""
    if not incident.private:
        return True
    channel = incident.channel_id
    return bool(channel) and store.is_member(incident.team_id, channel or "", user_id)


def check_may_change(store: Store, incident: Incident, user_id: str) -> None:
    """NotAllowed (UNSEEN, which names nothing of the incident) unless `may_change`."""
    if not may_change(store, incident, user_id):
        raise NotAllowed(UNSEEN)


def check_handover(
    store: Store, incident: Incident, actor: str, is_deactivated: Callable[[str], bool]
) -> None:
    """Whether `actor` may name the incident's commander now: the commander may hand over; anyone
    else (in the channel: the command is typed there) only once the commander is no longer in
    the channel or their account is deactivated (`is_deactivated(user_id)`, asked only then).
    `incident` as it is now. Raises NotAllowed naming the commander."""
    commander = incident.commander_id
    if actor == commander:
        return
    in_channel = bool(incident.channel_id) and store.is_member(
        incident.team_id, incident.channel_id or "", commander
    )
    if in_channel and not is_deactivated(commander):
        raise NotAllowed(
            f"<@{commander}> commands {incident.hotfix_id}; only they can hand over: ask them "
            f"to type `/incident commander @you`. Anyone in the channel can take command once "
            "the commander has left it."
        )
