"""manifest.yml, the Slack app's declaration: the bot scopes it asks for, the events it
subscribes to."""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"


def manifest_scopes(path: Path = MANIFEST) -> frozenset[str] | None:
    """The bot scopes manifest.yml asks for (None without the file, e.g. a bare install)."""
    if not path.exists():
        return None
    manifest = yaml.safe_load(path.read_text())
    return frozenset(manifest["oauth_config"]["scopes"]["bot"])


def manifest_events(path: Path = MANIFEST) -> frozenset[str] | None:
    """The bot events manifest.yml subscribes to (settings.event_subscriptions.bot_events;
    None without the file)."""
    if not path.exists():
        return None
    manifest = yaml.safe_load(path.read_text())
    subscriptions = manifest.get("settings", {}).get("event_subscriptions", {})
    return frozenset(subscriptions.get("bot_events") or ())
