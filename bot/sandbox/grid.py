"""Enterprise Grid: what Slack sends an app installed org-wide, instead of to one workspace."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Org:
    """The Enterprise Grid organization the app is installed on, org-wide."""

    id: str = "E0ACMEORG"
    name: str = "Acme Org"


def org_wide(kind: str, payload: dict[str, Any], team_id: str, org: Org) -> dict[str, Any]:
    """`payload` (of `kind`: "interactive", "slash_commands" or "events_api", a workspace
    install's shape, for workspace `team_id`) as Slack sends it to an org-wide install; a
    new dict, `payload` is left as it is.

    Shapes from Slack's "organization-wide apps" reference, the java-slack-sdk JSON samples
    (shared/slack/java-slack-sdk-json-samples: `app-backend/`, `events/`) and Bolt's tests of
    org apps (tests/scenario_tests/test_events_org_apps.py):

    - interactivity (`block_actions`, `view_submission`, `view_closed`, `shortcut`,
      `message_action`): `team` is null, `is_enterprise_install: true`, `enterprise: {id,
      name}`; the workspace is only in `user.team_id` and, where there is a view,
      `view.team_id` (`view.app_installed_team_id` names the org);
    - slash commands: `team_id` stays, with `enterprise_id`, `enterprise_name` and
      `is_enterprise_install=true`;
    - events: the envelope's `team_id` stays, with `enterprise_id`, `context_team_id` and
      `context_enterprise_id`; `authorizations[0]` has `team_id: null` and
      `is_enterprise_install: true`; member events carry `event.enterprise`."""
    shaped = copy.deepcopy(payload)
    if kind == "slash_commands":
        shaped.update(enterprise_id=org.id, enterprise_name=org.name, is_enterprise_install="true")
    elif kind == "events_api":
        shaped.update(enterprise_id=org.id, context_team_id=team_id, context_enterprise_id=org.id)
        for authorization in shaped.get("authorizations", []):
            authorization.update(enterprise_id=org.id, team_id=None, is_enterprise_install=True)
        event = shaped.get("event", {})
        if "team" in event:
            event["enterprise"] = org.id
    elif kind == "interactive":
        shaped.update(
            team=None, is_enterprise_install=True, enterprise={"id": org.id, "name": org.name}
        )
        shaped.setdefault("user", {})["team_id"] = team_id
        if isinstance(shaped.get("view"), dict):
            shaped["view"].update(team_id=team_id, app_installed_team_id=org.id)
    return shaped
