"""The playground, driven as a person would type into it."""

import os
import subprocess
import sys

SESSION = """\
help
people
add x
/incident start Search results empty sev2
go #inc-001-search-results-empty
/timeline -20m detected: zero-result rate alert
as bob
go #inc-001-search-results-empty
/timeline -10m root-cause: index alias pointed at an empty index
as alice
/incident action Alert on zero-result rate @bob immediate
/incident resolve
/incident write
modal
Search returned nothing for 20 minutes after an index alias swap.
as bob
dms
click 1
home
as alice
/incident draft
draft
frobnicate
/nonsense
quit
"""


def play(session: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot playground` run with the typed `session` (and `settings` in its
    environment); it must exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", "bot", "playground"],
        input=session,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **settings},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_a_session_in_the_playground():
    done = play(SESSION)
    out = done.stdout
    assert "Commander @alice" in out  # the kick-off message, as people see it
    assert "@bob  Bob Example  Europe/Berlin" in out  # each on their own clock
    assert "`add <n>` keeps message n of the last `show`" in out
    assert "(type `go #inc-001-search-results-empty` to go there)" in out
    assert "You joined #inc-001-search-results-empty." in out
    assert "Root cause identified · index alias pointed at an empty index" in out
    assert "You own AI-001 of hotfix-001" in out or "You own AI-001" in out
    assert "A modal is open: Executive Summary." in out and "✓ Saved." in out
    assert "Done. Thank you!" in out  # bob clicked "Mark done" in his DM
    assert "Post-mortems you own" in out  # the App Home
    assert "# Post-Mortem: Search results empty" in out
    assert "Search returned nothing for 20 minutes after an index alias swap." in out
    assert "`frobnicate` is not a playground command" in out
    assert "/nonsense is not a command of this app" in out
    assert "\033[" not in out and "Traceback" not in done.stderr


THREADS = """\
say the checkout queue is backing up
show
reply 1 looking at the consumers
react 1 :pushpin:
react 1 pushpin
pin 1
show
as bob
show
edit 1 not mine
unreact 1 eyes
react 1 Push Pin
as alice
edit 1 the checkout queue is backing up (EU only)
show
delete 2
unpin 1
show
reply 9 nothing there
quit
"""


def test_threads_reactions_pins_edits_and_deletes_in_the_playground():
    done = play(THREADS)
    out = done.stdout
    assert "1 reply · :pushpin: 1 · 📌 pinned" in out
    assert "↳ in a thread" in out
    assert "Slack would not: already_reacted" in out
    assert "Slack would not: cant_update_message: bob did not write that message." in out
    assert "Slack would not: no_reaction" in out
    assert "Slack would not: invalid_name" in out
    assert "(EU only)" in out and "(edited)" in out
    assert "(deleted)" in out and "(unpinned)" in out
    assert "`reply <n> <text>`: n is a message of the last `show`" in out
    assert "Traceback" not in done.stderr


EMOJI_AND_IMPORT = """\
/incident start checkout errors
go #inc-001-checkout-errors
say checkout 5xx alert triggered
say lunch anyone?
say deployed the fix
show
react 2 bulb
show
/timeline
/timeline import
modal
1
quit
"""


def test_the_playground_takes_the_emoji_settings_and_shows_the_import_form():
    done = play(EMOJI_AND_IMPORT, TIMELINE_MILESTONE_REACTIONS="bulb:root-cause")
    out = done.stdout
    assert "Root cause identified · checkout 5xx alert triggered" in out  # the setting reached it
    assert ":memo: 1" in out  # the bot's confirmation, shown under the message
    assert "[x]" in out and "[ ]" in out  # the proposals, as ticked in advance
    assert "lunch anyone?" in out.split("/timeline import")[-1]
    assert "Traceback" not in done.stderr


def test_a_wrong_emoji_setting_stops_the_playground_with_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "playground"],
        input="quit\n",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TIMELINE_MILESTONE_REACTIONS": "bulb:began"},
    )
    assert done.returncode == 2
    assert "TIMELINE_MILESTONE_REACTIONS" in done.stderr and "Traceback" not in done.stderr
