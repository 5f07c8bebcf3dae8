"""The README's first command: a whole incident in the sandbox, one process, exit 0."""

import os
import re
import subprocess
import sys
from pathlib import Path


def demo(tmp_path, *args, **env):
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, **env},
    )


def chart_of(out):
    """The insights chart the demo ends with: the PNG it saved (checked to be one an image
    library opens) and the summary lines printed under it."""
    from PIL import Image

    ending = out.split("The insights chart alice got in her DM, and its summary:\n")[1]
    path, *summary = ending.splitlines()
    png = Path(path.strip())
    assert path.startswith("  /") and png.suffix == ".png" and png.is_file(), path
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(png) as image:
        image.load()  # decodes every byte: a truncated or corrupt file raises
        assert image.format == "PNG" and image.width > 0 and image.height > 0
    # the very file alice got: its name and size are those of the upload in her DM
    assert f"📎 {png.name} ({len(data):,} bytes)" in out.split("═══ What bob saw")[0]
    return png, [line.strip() for line in summary if line.startswith("    ")]


def test_demo_plays_a_whole_incident_and_commits_the_post_mortem(tmp_path):
    done = demo(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for who in ("alice", "bob", "carol"):
        assert f"═══ What {who} saw in Slack ═══" in out
    assert "\033[" not in out, "no colour codes when the output is not a terminal"
    assert "Opening hotfix-001" in out
    assert "carol pins the rollback plan" in out
    assert "· PagerDuty" in out, "an alerting tool's message shows under its own name"
    assert "📌 pinned" in out and ":memo: 1" in out, "the pin and the bot's confirmation show"
    assert "First detection" in out and "Incident began" in out
    assert "is due in" in out, "a reminder reached an owner during the demo"
    assert "carol asks to be reminded later" in out
    assert ":zzz: I'll remind you again" in out and "at the deadline: no later." in out
    assert "closed AI-001" in out
    assert "Final post-mortem of hotfix-001" in out and "Ready: every section written" in out
    assert "Traceback" not in done.stderr
    (path,) = re.findall(r"^  (/\S+/hotfix-001/postmortem\.md)$", out, re.MULTILINE)
    postmortem = Path(path).read_text()
    assert postmortem.splitlines()[1] == "# Post-Mortem: Checkout API returning 500s"
    assert "For 40 minutes, one checkout in three failed" in postmortem
    assert "Rollback plan: revert 4512" in postmortem, "kept with a pin"
    assert "Resolved: #4521 checkout 5xx" in postmortem, "kept with a reaction"
    # published means finished: no template guidance, no placeholder row, the code as typed
    assert postmortem.splitlines()[0] == "<!-- Written with postmortem-bot. Ready. -->"
    guidance = re.findall(r"\[(?! \]|x\])[^\]\n]{2,}\]", postmortem)  # `[...]`, not a checkbox
    assert guidance == [] and "HH:MM" not in postmortem and "e.g.," not in postmortem
    assert "```yaml\npayments-api:\n  tls_pool_size: 0  # was 64\n```" in postmortem
    assert "(within 20 seconds of resolution)" in postmortem  # the demo's deadline
    repo = Path(path).parents[1]
    log = subprocess.run(
        ["git", "-C", str(repo), "log", "--format=%s"], capture_output=True, text=True, check=True
    ).stdout
    assert log.splitlines()[0] == "hotfix-001: final post-mortem"
    # it ends with alice's /incident insights: the chart of the demo's one incident
    assert "alice asks for the insights of the last 90 days" in out
    assert "Working out the insights since" in out  # the ack
    png, summary = chart_of(out)
    assert png.parent == Path(path).parents[3], "in the demo's own folder"
    assert re.fullmatch(r"1 incident in \S+ – \S+, all severities: 1 SEV2", summary[0])
    assert "Post-mortems: 1 of 1 on time, 0 late, 0 open" in summary
    assert "\n".join(f"    {line}" for line in summary) in out.split("═══ What bob saw")[0], (
        "the summary is what the bot posted with the chart in alice's DM"
    )


def test_no_secret_reaches_the_logs_of_a_whole_run(tmp_path):
    """The demo at DEBUG: every log line of a whole incident, scanned for tokens and secrets."""
    from bot.sandbox import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET

    done = demo(tmp_path, LOG_LEVEL="DEBUG", LOG_FORMAT="json")
    assert done.returncode == 0
    logs = done.stderr
    assert logs.count("\n") > 100, "DEBUG logging of a whole run"
    for secret in (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, "xoxb-", "xapp-"):
        assert secret not in logs and secret not in done.stdout, secret


def test_demo_review_ends_with_a_pull_request_merged_with_git(tmp_path):
    done = demo(tmp_path, "--review")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "on branch `postmortem/hotfix-001`" in out  # the drafts' branch
    assert "put the hotfix-001 post-mortem up for review: pull request #1" in out
    assert "Should the root cause say why no check caught a pool size of 0?" in out
    assert "↳ in a thread" in out  # the reviewer's comment, in the announcement's thread
    assert "is published: carol merged `postmortem/hotfix-001` into `main`" in out
    assert re.search(r"^  pull     #1 .*, merged$", out, re.MULTILINE)
    assert re.search(r"^  main     [0-9a-f]+ hotfix-001 post-mortem \(#1\)$", out, re.MULTILINE)
    assert "Final post-mortem" not in out  # the merge published it, not the command
    _, summary = chart_of(out)
    assert summary[0].startswith("1 incident in ")
    assert "Traceback" not in done.stderr
