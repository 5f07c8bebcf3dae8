"""`python -m bot lint`: a post-mortem file's open points, read from its Markdown alone, are the
ones the bot's readiness gives for the same incident; a reviewer's edits count."""

import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.action_words import ActionChange
from bot.drafts import Drafts
from bot.entries import Timeline
from bot.incidents import Incidents
from bot.lint import NotAPostMortem, learn, lint, lint_file
from bot.models import Priority, Severity
from bot.postmortem import DEFAULT_TEMPLATES
from bot.retro import ParsedAction, Retro
from bot.sections import load_sections
from bot.store import Store
from tests.conftest import Clock
from tests.test_postmortem_render import HOSTILE, multi_day_incident

ROOT = Path(__file__).resolve().parents[1]
BEGAN = datetime(2026, 11, 24, 22, 40, tzinfo=UTC)


@pytest.fixture
def clock():
    return Clock(BEGAN)


def make_world(tmp_path, clock, templates=DEFAULT_TEMPLATES):
    store = Store(tmp_path / "incidents.db")
    incidents = Incidents(store, clock)
    retro = Retro(store, clock, load_sections(templates))
    drafts = Drafts(incidents, retro, templates, clock)
    for uid, handle, real in (("U1", "alice", "Alice Martin"), ("U2", "bob", "Bob Okafor")):
        store.remember_user("T1", uid, handle, real)
    return store, incidents, retro, drafts


@pytest.fixture
def world(tmp_path, clock):
    world = make_world(tmp_path, clock)
    yield world
    world[0].close()


@pytest.fixture(scope="module")
def shape():
    return learn(DEFAULT_TEMPLATES)


def record(world, clock, incident, *lines):
    """`/timeline` entries: ("2026-11-24 23:05", "detected: ..."), recorded a minute later."""
    timeline = Timeline(world[0], clock, timedelta(hours=48))
    for at, text in lines:
        clock.now = datetime.fromisoformat(at + "+00:00") + timedelta(minutes=1)
        timeline.record(incident, "U2", f"{at} {text}", lambda: UTC)


def same(world, incident, shape):
    """The draft's open points as the bot says them, after checking lint reads the same."""
    postmortem, _, readiness = world[3].render(incident)
    assert lint(postmortem, shape) == readiness
    return readiness


def complete(world, clock):
    """The multi-day incident of the golden file, its last action item given owner and due."""
    incident = multi_day_incident(world, clock)
    change = ActionChange(owner_id="U1", due=date(2027, 1, 15))
    world[2].change_action(incident, 4, change, "U2")
    return incident


def write(tmp_path, name, text):
    path = tmp_path / name / "postmortem.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# --- the same points as readiness ---------------------------------------------------------


def test_an_empty_draft_has_every_point_the_bot_gives(world, clock, shape):
    incident = world[1].start(
        "T1", "U1", "Checkout API returning 500s", Severity.SEV2, private=False
    )
    points = same(world, incident, shape)
    assert points[0] == "The timeline has no “First detection” (`/timeline HH:MM detected: …`)."
    assert "No action items yet (`/incident action`)." in points
    assert "Section “Executive Summary” is not written yet." in points
    assert points[-1] == "Section “Appendix” is not written yet."
    assert len(points) == 8 + 1 + 12


def test_a_complete_draft_is_ready(world, clock, shape):
    assert same(world, complete(world, clock), shape) == []


def test_the_golden_file_has_the_bots_one_point(shape):
    path = ROOT / "tests" / "golden" / "postmortem-multiday.md"
    assert lint_file(path, shape) == [
        "AI-004 has no owner and no due date (`/incident action AI-004 @owner due YYYY-MM-DD`).",
    ]


def test_action_items_without_owner_or_due_date(world, clock, shape):
    incident = multi_day_incident(world, clock)
    for text, owner, due in (
        ("Owner, no date", "U2", None),
        ("Date, no owner", None, date(2027, 1, 2)),
        ("Both", "U1", date(2027, 1, 3)),
    ):
        world[2].add_action(
            incident, ParsedAction(text, owner, due, Priority.SHORT_TERM, None), "U2"
        )
    assert [p.split(" (")[0] for p in same(world, incident, shape)] == [
        "AI-004 has no owner and no due date",  # by number, though the draft shows it last
        "AI-005 has no due date",
        "AI-006 has no owner",
    ]


def test_milestones_out_of_order_within_one_day(world, clock, shape):
    incident = world[1].start("T1", "U1", "db down", Severity.SEV2, private=False)
    record(
        world,
        clock,
        incident,
        ("2026-11-24 22:50", "root-cause: disk full"),
        ("2026-11-24 23:05", "investigating: looked at disks"),
        ("2026-11-24 23:05", "detected: alert"),  # the same minute: in no order
        ("2026-11-24 23:06", "fix: rm logs"),
    )
    assert "| 22:50 | Root cause identified |" in world[3].render(incident)[0]
    assert same(world, incident, shape)[:2] == [
        "“Root cause identified” (2026-11-24 22:50) comes before “Investigation started” "
        "(2026-11-24 23:05).",
        "The timeline has no “Fix deployed” (`/timeline HH:MM deployed: …`).",
    ]


def test_milestones_out_of_order_across_days_and_resolved(world, clock, shape):
    incident = multi_day_incident(world, clock)
    record(world, clock, incident, ("2026-11-24 22:30", "verified: checks green"))
    points = same(world, incident, shape)
    assert points[0].startswith("“Verification complete” (2026-11-24 22:30) comes before")


def test_sections_partly_written(world, clock, shape):
    incident = world[1].start("T1", "U1", "db down", Severity.SEV2, private=False)
    world[2].save(incident, "impact", {"users_total": "1200"}, "U1")
    world[2].save(incident, "five_whys", {"why2": "because"}, "U1")
    world[2].save(incident, "contributing", {"factor1": "no alert"}, "U1")
    points = same(world, incident, shape)
    assert (
        "“Impact Analysis” still shows 11 placeholders of the template, e.g. [which types of users]"
        in points
    )
    clock.now = BEGAN + timedelta(hours=2)
    resolved = world[1].resolve(incident, "U1", "2026-11-24 23:30", lambda: UTC)
    assert (
        "“Impact Analysis” still shows 10 placeholders of the template, e.g. [which types of users]"
        in same(world, resolved, shape)
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_what_people_write_cannot_fool_it(world, clock, shape, text):
    incident = complete(world, clock)
    world[0].add_entry(
        incident, at=BEGAN, text=text, author_id="U2", milestone=None, source="command"
    )
    world[2].save(incident, "summary", {"text": text}, "U2")
    world[2].save(incident, "lessons", {"technical": text}, "U2")
    world[2].add_action(
        incident, ParsedAction(text[:500], None, None, Priority.IMMEDIATE, text), "U2"
    )
    assert len(same(world, incident, shape)) == 1


def test_a_teams_own_template_with_an_optional_section(tmp_path, clock):
    templates = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, templates)
    source = (templates / "postmortem.md.j2").read_text()
    source = source.replace(
        'title: "Acknowledgments"', 'title: "Acknowledgments"\n    required: false'
    )
    source = source.replace(
        "required: [began, detected, investigating, root-cause, fix, deployed, verified, "
        "resolved, monitoring]",
        "required: [began, root-cause, fix]",
    )
    (templates / "postmortem.md.j2").write_text(source)
    world = make_world(tmp_path, clock, templates)
    incident = world[1].start("T1", "U1", "db down", Severity.SEV2, private=False)
    points = same(world, incident, learn(templates))
    assert (
        points[0]
        == "The timeline has no “Root cause identified” (`/timeline HH:MM root-cause: …`)."
    )
    assert not any("Acknowledgments" in p for p in points)
    world[0].close()


# --- a reviewer's edits -----------------------------------------------------------------------


def test_a_section_written_by_hand_is_no_longer_reported(world, clock, shape):
    incident = world[1].start("T1", "U1", "db down", Severity.SEV2, private=False)
    postmortem, _, readiness = world[3].render(incident)
    summary = postmortem.split("## Executive Summary\n")[1].split("\n---")[0]
    edited = postmortem.replace(summary, "\nThe database filled its disk.\n")
    edited = edited.replace("- **Total Affected**: [number]", "- **Total Affected**: 1200")
    points = lint(edited, shape)
    assert "Section “Executive Summary” is not written yet." in readiness
    assert "Section “Executive Summary” is not written yet." not in points
    assert "Section “Impact Analysis” is not written yet." not in points
    assert (
        "“Impact Analysis” still shows 11 placeholders of the template, e.g. [which types of users]"
        in points
    )


def test_a_placeholder_left_by_a_reviewer_is_reported(world, clock, shape):
    incident = complete(world, clock)
    postmortem, _, _ = world[3].render(incident)
    edited = postmortem.replace(
        "- **Revenue Loss**: Impact Analysis: Business: revenue loss.",
        "- **Revenue Loss**: [$amount or estimate]",
    )
    assert lint(edited, shape) == [
        "“Impact Analysis” still shows 1 placeholder of the template, e.g. [$amount or estimate]"
    ]


@pytest.mark.parametrize(
    "left", ["", "TODO", "TBD: ask Carol", "[Thank the people who helped]", "- \n- **TODO**"]
)
def test_a_section_a_reviewer_emptied_is_not_written(world, clock, shape, left):
    """The heading kept, the words gone (or a placeholder of the reviewer's own): not written,
    as the bot says it."""
    postmortem, _, _ = world[3].render(complete(world, clock))
    edited = postmortem.replace("Acknowledgments: Acknowledgments.\n", f"{left}\n")
    assert lint(edited, shape) == ["Section “Acknowledgments” is not written yet."]


def test_a_section_of_labels_a_reviewer_emptied_is_not_written(world, clock, shape):
    """Every label of Impact Analysis left with nothing or a placeholder, the computed duration
    of impact kept: not written. One label with words: written."""
    postmortem, _, _ = world[3].render(complete(world, clock))
    part = postmortem.split("#### Users\n")[1].split("\n### Timeline")[0]
    left = {"Duration of Impact": ": 4h 50m", "Teams Involved": ": TODO", "Reputation": ": [?]"}
    emptied = "\n".join(
        (label := ln.split(": ", 1)[0]) + left.get(label.strip("-* "), ":")
        if ln.startswith("- **")
        else ln
        for ln in part.splitlines()
    )
    edited = postmortem.replace(part, emptied)
    assert lint(edited, shape) == ["Section “Impact Analysis” is not written yet."]
    written = edited.replace("- **Revenue Loss**:", "- **Revenue Loss**: about $3k")
    assert lint(written, shape) == []


def test_sections_emptied_in_a_teams_own_template(tmp_path, clock):
    """Headings and labels a team renamed are learned from its template."""
    templates = tmp_path / "templates"
    shutil.copytree(DEFAULT_TEMPLATES, templates)
    source = (templates / "postmortem.md.j2").read_text()
    source = source.replace("## Acknowledgments\n", "## Thanks\n").replace(
        "- **Revenue Loss**:", "- **Money lost**:"
    )
    (templates / "postmortem.md.j2").write_text(source)
    world = make_world(tmp_path, clock, templates)
    shape = learn(templates)
    postmortem = world[3].render(complete(world, clock))[0]
    assert lint(postmortem, shape) == []
    edited = postmortem.replace("Acknowledgments: Acknowledgments.\n", "TBD\n")
    assert lint(edited, shape) == ["Section “Acknowledgments” is not written yet."]
    world[0].close()


def test_owners_and_milestones_given_by_hand(world, clock, shape):
    incident = world[1].start("T1", "U1", "db down", Severity.SEV2, private=False)
    world[2].add_action(
        incident, ParsedAction("Add disk alert", None, None, Priority.IMMEDIATE, None), "U1"
    )
    postmortem, _, readiness = world[3].render(incident)
    assert (
        "AI-001 has no owner and no due date (`/incident action AI-001 @owner due YYYY-MM-DD`)."
        in readiness
    )
    edited = postmortem.replace("  - **Owner**: [Person responsible]", "  - **Owner**: Bob Okafor")
    edited = edited.replace("  - **Due**: [Date]", "  - **Due**: 2026-12-01")
    edited = edited.replace(
        "| HH:MM | First detection | [Alerting/User] | [How detected] |",
        "| 22:45 | First detection | PagerDuty | disk alert |",
    )
    points = lint(edited, shape)
    assert not any("AI-001" in p for p in points)
    assert not any("First detection" in p for p in points)
    assert any("Investigation started" in p for p in points)


def test_a_time_it_cannot_read(world, clock, shape):
    postmortem, _, _ = world[3].render(complete(world, clock))
    edited = postmortem.replace(
        "| 2026-11-25 02:10 | Fix implemented |", "| around 2am | Fix implemented |"
    )
    assert lint(edited, shape) == [
        "The timeline's “Fix implemented” has a time lint cannot read: “around 2am” "
        "(YYYY-MM-DD HH:MM, or HH:MM with the incident's date in the header)."
    ]


def test_not_a_post_mortem(tmp_path, shape):
    with pytest.raises(NotAPostMortem, match="not a post-mortem: it has no timeline table"):
        lint_file(ROOT / "README.md", shape)
    with pytest.raises(NotAPostMortem, match="cannot be read"):
        lint_file(tmp_path / "missing.md", shape)
    (tmp_path / "binary.md").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(NotAPostMortem, match="cannot be read"):
        lint_file(tmp_path / "binary.md", shape)


# --- the command line -----------------------------------------------------------------------


def run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "bot", "lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        timeout=60,
    )


def test_the_command_line(tmp_path, world, clock):
    ready = write(tmp_path, "hotfix-001", world[3].render(complete(world, clock))[0])
    fresh = world[1].start("T1", "U1", "db down", Severity.SEV2, private=False)
    postmortem, _, readiness = world[3].render(fresh)
    open_ = write(tmp_path, "hotfix-002", postmortem)
    done = run("hotfix-001/postmortem.md", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "hotfix-001/postmortem.md: ready\n",
        "",
    )
    both = run("hotfix-001/postmortem.md", "hotfix-002/postmortem.md", cwd=tmp_path)
    assert both.returncode == 1
    assert both.stdout.splitlines() == [
        "hotfix-001/postmortem.md: ready",
        f"hotfix-002/postmortem.md: {len(readiness)} open points",
        *(f"  - {p}" for p in readiness),
    ]
    (tmp_path / "notes.md").write_text("# Notes\n\nNothing here.\n")
    bad = run(str(ready), str(open_), "notes.md", "hotfix-009/postmortem.md", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stdout.splitlines()[-2:] == [
        "notes.md: not a post-mortem: it has no timeline table (| Time | Event | Who | Notes |)",
        "hotfix-009/postmortem.md: cannot be read (No such file or directory)",
    ]


def test_a_broken_template_folder(tmp_path):
    done = run("--templates", str(tmp_path), "x.md", cwd=tmp_path)
    assert done.returncode == 2
    assert "postmortem.md.j2: cannot be read" in done.stderr


def test_code_people_quote_is_text(world, clock, shape):
    """A fenced block in a section (kept byte for byte) shows guidance or a timeline row only as
    an example: no open point."""
    incident = complete(world, clock)
    quoted = (
        "We saw:\n\n```\n| HH:MM | Fix deployed | [Person] |\n- **Total Affected**: [number]\n```"
    )
    world[2].save(incident, "description", {"text": quoted}, "U2")
    assert "- **Total Affected**: [number]" in world[3].render(incident)[0]
    assert same(world, incident, shape) == []
    world[2].save(incident, "acknowledgments", {"text": "```\n[x]\n```"}, "U2")
    assert same(world, incident, shape) == []  # code alone is words


# --- the README -----------------------------------------------------------------------------

README = (ROOT / "README.md").read_text()
LINT_PART = README.split('### "Ready" where the merge happens')[1].split("\n## ")[0]


def blocks(kind):
    return [b.split("\n", 1)[1] for b in LINT_PART.split("```")[1::2] if b.startswith(kind)]


def post_mortems(world, clock, tmp_path):
    """hotfix-001 ready; hotfix-002 with the README's two open points."""
    ready = world[3].render(complete(world, clock))[0]
    left = ready.replace(
        "**AI-004**: Move config to typed schema\n  - **Owner**: Alice Martin\n"
        "  - **Due**: 2027-01-15",
        "**AI-004**: Move config to typed schema\n  - **Owner**: [Person responsible]\n"
        "  - **Due**: [Date]",
    ).replace(
        "- **Revenue Loss**: Impact Analysis: Business: revenue loss.",
        "- **Revenue Loss**: [$amount or estimate]",
    )
    return write(tmp_path, "hotfix-001", ready), write(tmp_path, "hotfix-002", left)


def test_the_readmes_example_is_what_lint_prints(tmp_path, world, clock):
    post_mortems(world, clock, tmp_path)
    [example] = blocks("\n$ python -m bot lint")
    command, *shown = example.strip().splitlines()
    done = run(*command.split()[5:], cwd=tmp_path)
    assert (done.returncode, done.stdout.splitlines()) == (1, shown)


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def ci_jobs():
    """The README's GitHub and GitLab jobs: (name, the shell command that runs its script as the
    host does, the script, whether it fetches the whole history)."""
    github, gitlab = (yaml.safe_load(b) for b in blocks("yaml"))
    [step] = [st for st in github["jobs"]["lint"]["steps"] if "lint" in st.get("run", "")]
    # GitHub's `shell: bash` is `bash --noprofile --norc -eo pipefail {0}`, its default `bash -e`
    shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail"] if step.get("shell") else ["bash"]
    [checkout] = [st for st in github["jobs"]["lint"]["steps"] if "checkout" in st.get("uses", "")]
    job = gitlab["postmortem-ready"]
    script = [ln for ln in job["script"] if "pip install" not in ln]
    depth = checkout.get("with", {}).get("fetch-depth"), job.get("variables", {}).get("GIT_DEPTH")
    return [
        ("github", [*shell, "-e", "-c"], step["run"], depth[0] == 0),
        ("gitlab", ["bash", "-e", "-c"], "\n".join(script), depth[1] == 0),
    ]


def pull_request(tmp_path, world, clock):
    """A post-mortem repository (bare, behind `origin`) with a main branch and a pull request's
    branch for each of hotfix-001 (ready) and hotfix-002 (open points); hotfix-000 on main."""
    repo = tmp_path / "postmortems"
    repo.mkdir()
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(repo, "init", "-q", "-b", "main")
    commit = ["-c", "user.name=bot", "-c", "user.email=bot@example.com", "commit", "-q"]
    git(repo, *commit, "--allow-empty", "-m", "start")
    git(repo, "remote", "add", "origin", str(origin))
    ready, left = post_mortems(world, clock, repo)
    old = write(repo, "hotfix-000", "# not linted: the pull request leaves it alone\n")
    git(repo, "add", str(old))
    git(repo, *commit, "-m", "old")
    git(repo, "push", "-q", "origin", "main")
    for changed in (ready, left):
        git(repo, "checkout", "-q", "-B", f"pr-{changed.parent.name}", "main")
        git(repo, "add", str(changed))
        git(repo, *commit, "-m", "pm")
        git(repo, "push", "-q", "origin", f"pr-{changed.parent.name}")
    return origin


def run_job(command, script, cwd, tmp_path):
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "GITHUB_BASE_REF": "main",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "HOME": str(tmp_path),
    }
    return subprocess.run(
        [*command, script], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_readmes_ci_jobs_lint_what_a_pull_request_changes(tmp_path, world, clock):
    """The GitHub and GitLab jobs' scripts, run as the hosts run them in a checkout of a pull
    request's branch with the history the job asks for: only the post-mortems it changes are
    linted, and the job fails while one has open points, with lint's exit code."""
    origin = pull_request(tmp_path, world, clock)
    for name, command, script, whole in ci_jobs():
        assert whole, f"the {name} job fetches the whole history: a shallow clone has no merge base"
        for branch, code, expected in (
            ("pr-hotfix-001", 0, "hotfix-001/postmortem.md: ready"),
            ("pr-hotfix-002", 1, "hotfix-002/postmortem.md: 2 open points"),
        ):
            checkout = tmp_path / f"{name}-{branch}"
            git(tmp_path, "clone", "-q", "--branch", branch, str(origin), str(checkout))
            done = run_job(command, script, checkout, tmp_path)
            assert done.stdout.splitlines()[0] == expected, done.stderr
            assert "hotfix-000" not in done.stdout
            assert done.returncode == code, done.stderr


def test_the_readmes_ci_jobs_fail_where_git_cannot_diff(tmp_path, world, clock):
    """In a shallow clone of the pull request's branch alone (GitLab's GIT_DEPTH, GitHub's
    default fetch-depth), git finds no merge base: the job fails; it does not pass having
    linted nothing."""
    origin = pull_request(tmp_path, world, clock)
    for name, command, script, _ in ci_jobs():
        checkout = tmp_path / f"{name}-shallow"
        url = f"file://{origin}"
        git(
            tmp_path, "clone", "-q", "--depth", "1", "--branch", "pr-hotfix-002", url, str(checkout)
        )
        done = run_job(command, script, checkout, tmp_path)
        assert done.returncode != 0, f"{name}: {done.stdout}"
        assert "fatal" in done.stderr


def test_the_readme_says_a_point_may_be_fixed_in_the_pull_request():
    """The points name Slack commands; the README says the file may be fixed in the pull request
    instead, linking the review section by GitHub's anchor for its heading."""
    assert "may as well fix the file in the pull request" in LINT_PART
    [target] = re.findall(r"\(#(review-as-a-pull-request[^)]*)\)", LINT_PART)
    [heading] = [ln[4:] for ln in README.splitlines() if ln.startswith("### Review as a pull")]
    slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
    assert target == slug
