"""`python -m bot insights` as people run it: a process over a real database file, the figures
of tests/test_insights.py's incidents as a table, CSV and JSON."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import Store
from tests.test_insights import make_incidents

ROOT = Path(__file__).resolve().parents[1]
PERIOD = ["--since", "3w", "--until", "2026-02-16"]  # 01-26 to 02-16, as in test_insights


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("insights") / "incidents.db"
    store = Store(path)
    make_incidents(store)
    store.close()
    return path


def insights(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "insights", *args],
        env={**env, "DATABASE_PATH": str(database)},
        cwd=database.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_table_for_people(database):
    done = insights(database, *PERIOD)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "Incidents that began 2026-01-26 00:00 to 2026-02-16 00:00 UTC (all severities): 5"
    )
    # detect: 4 incidents, 1 missing, median 1500 s = 25m, p90 25740 s = 7h 9m
    assert lines[3].split() == ["Time", "to", "detect", "4", "1", "25m", "7h", "9m"]
    assert "2 on time, 1 late (median 1d late), 2 open" in done.stdout
    assert "5 opened, 1 closed, 2 overdue" in done.stdout
    weeks = [line.split()[:2] for line in lines if line.startswith("2026-")]
    assert weeks == [["2026-01-26", "2"], ["2026-02-02", "0"], ["2026-02-09", "3"]]


def test_csv_one_row_per_period_then_all(database):
    done = insights(database, *PERIOD, "--bucket", "month", "--csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [(r["period"], r["incidents"]) for r in rows] == [
        ("2026-01-01", "2"),
        ("2026-02-01", "3"),
        ("all", "5"),
    ]
    assert rows[0]["overdue"] == ""  # a figure of the whole period only
    everything = rows[-1]
    assert (everything["detect_median_s"], everything["detect_p90_s"]) == ("1500.0", "25740.0")
    assert everything["resolve_missing"] == "1"
    assert everything["median_open_action_age_s"] == "378000.0"


def test_json_is_the_figures(database):
    done = insights(database, *PERIOD, "--json", "--severity", "sev1")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["since"] == "2026-01-26T00:00:00+00:00"
    assert figures["until"] == "2026-02-16T00:00:00+00:00"
    assert figures["severities"] == ["sev1"] and figures["incidents"] == 2  # A and D
    assert figures["times"]["detect"] == {
        "count": 2,
        "missing": 0,
        "median_s": 900,
        "p90_s": pytest.approx(1140),
    }
    assert [p["start"] for p in figures["periods"]] == ["2026-01-26", "2026-02-02", "2026-02-09"]


def test_what_to_type_when_it_cannot_answer(database, tmp_path):
    done = insights(database, "--since", "lately")
    assert done.returncode == 2 and done.stdout == ""
    assert "write `30d`, `90d`" in done.stderr
    done = insights(database, "--until", "soon")
    assert done.returncode == 2 and "write `now`, a date like" in done.stderr
    done = insights(database, "--severity", "critical")
    assert done.returncode == 2 and "sev1, sev2, sev3, sev4" in done.stderr
    done = insights(tmp_path / "none.db")
    assert done.returncode == 2 and "no database at" in done.stderr
