"""The emulator's method table matches Slack's reference data, where that data is at hand."""

import json

import pytest

from bot.sandbox.methods import COMMON_ERRORS, METHODS
from tests.conftest import SHARED

SUBSET = SHARED / "slack" / "emulator-method-subset.json"
DOCS = SHARED / "slack" / "slack-api-ref" / "docs.slack.dev" / "methods"
TIERS = {"Tier 1": 1, "Tier 2": 2, "Tier 3": 3, "Tier 4": 4, "Special": 0}
DOC_TIERS = {"t1": 1, "t2": 2, "t3": 3, "t4": 4, "t5": 0}


def from_docs(name):
    """A method outside the subset, flattened like the subset from Slack's own doc JSON."""
    doc = json.loads((DOCS / f"{name}.json").read_text())
    args = doc["args"]
    return {
        "rate_limit": {v: k for k, v in TIERS.items()}[DOC_TIERS[doc["rate_limits"]]],
        "required": args.get("required", []),
        "args": args.get("properties", {}),
        "errors": doc.get("errors") or {},
        "scopes": doc.get("scope") or {},
    }


@pytest.fixture(scope="module")
def reference():
    if not SUBSET.exists():
        pytest.skip(f"Slack's method reference is not at hand ({SUBSET}); checked where it is")
    return json.loads(SUBSET.read_text())


def test_every_method_matches_the_reference(reference):
    methods = reference["methods"]
    assert set(methods) <= set(METHODS)
    for name, ours in METHODS.items():
        theirs = methods[name] if name in methods else from_docs(name)
        assert ours["tier"] == TIERS[theirs["rate_limit"]], name
        assert set(ours["required"]) == set(theirs["required"]) - {"token"}, name
        assert set(ours["args"]) == set(theirs["args"]) - {"token"}, name
        assert set(ours["errors"]) == set(theirs.get("errors") or {}), name
        assert set(ours["scopes"]) == set((theirs.get("scopes") or {}).get("bot") or []), name
    assert set(COMMON_ERRORS) == set(reference["_common_errors"])


def test_every_web_api_method_the_bot_calls_is_served():
    import ast
    from pathlib import Path

    called = set()
    for path in (Path(__file__).resolve().parents[1] / "bot" / "slack").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and (node.value.id == "client")
            ):
                called.add(node.attr)
    called -= {"token", "base_url", "retry_handlers", "timeout"}  # settings, not methods
    assert called, "found no Web API calls: the scan is broken"
    served = {name.replace(".", "_") for name in METHODS}
    if "files_upload_v2" in called:  # slack_sdk's helper for the two external-upload methods
        called.remove("files_upload_v2")
        called |= {"files_getUploadURLExternal", "files_completeUploadExternal"}
    assert called <= served, called - served
