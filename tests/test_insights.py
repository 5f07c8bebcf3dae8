"""Insights: figures across incidents, from a hand-made set of incidents written through the
store's real methods on a real SQLite file; every answer is worked out by hand below."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.errors import UsageError
from bot.insights import Insights, incident_times, parse_instant, parse_period, quantile
from bot.insights_model import Period, Spread
from bot.models import Incident, Milestone, Priority, Severity
from bot.store import Store
from tests.conftest import Clock

H = 3600
DAY = 86400
SINCE = datetime(2026, 1, 26, tzinfo=UTC)  # a Monday; weeks of 01-26, 02-02 (empty), 02-09
UNTIL = datetime(2026, 2, 16, tzinfo=UTC)  # the Monday after: [since, until) is three weeks
NOW = datetime(2026, 2, 20, 12, 0, tzinfo=UTC)


def t(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


class Incidents:
    """Writes incidents as the workflow does: started, with a channel, entries, resolved."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.n = 0

    def start(self, severity: Severity, started: datetime) -> Incident:
        self.n += 1
        incident = self.store.create_incident(
            team_id="T1",
            title=f"incident {self.n}",
            severity=severity,
            private=False,
            user_id="U1",
            started_at=started,
        )
        return self.store.attach_channel(incident, f"C{self.n}", f"inc-{self.n}", started)

    def entry(self, incident: Incident, at: datetime, milestone: Milestone | None) -> int:
        entry = self.store.add_entry(
            incident, at=at, text="said", author_id="U1", milestone=milestone, source="command"
        )
        return entry.id

    def move_began(self, incident: Incident, to: datetime) -> None:
        (began,) = [
            e for e in self.store.entries("T1", incident.id) if e.milestone is Milestone.BEGAN
        ]
        self.store.update_entry(
            "T1", began.id, at=to, text=began.text, milestone=Milestone.BEGAN, by="U1", when=to
        )

    def resolve(self, incident: Incident, at: datetime, deadline: datetime) -> Incident:
        return self.store.resolve_incident(
            incident, at=at, deadline_at=deadline, user_id="U1", when=at
        )

    def publish(self, incident: Incident, at: datetime) -> None:
        assert self.store.publish_incident(incident, at=at, user_id="U1") is not None

    def action(
        self, incident: Incident, at: datetime, due: date | None, done: datetime | None = None
    ) -> None:
        action_id, _ = self.store.add_action_item(
            incident,
            text="do it",
            owner_id="U2",
            due=due,
            priority=Priority.SHORT_TERM,
            why=None,
            created_by="U1",
            at=at,
            source=None,
        )
        if done is not None:
            self.store.close_action_item("T1", action_id, at=done, check=lambda deciders: None)


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    store = Store(tmp_path / "incidents.db")
    yield store
    store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def made(store: Store) -> dict[str, Incident]:
    return make_incidents(store)


def make_incidents(store: Store) -> dict[str, Incident]:
    """A: every milestone in order. B: started 02-02 03:00, "Incident began" moved back to
    01-31 23:00; investigating before detection; a deleted "Fix deployed" before the real one.
    C: detected before it began. D: still open. E: post-mortem open, not yet due. F: began
    before the period, resolved in it. G: begins after it. H: never got its channel."""
    w = Incidents(store)
    a = w.start(Severity.SEV1, t(1, 27, 10))
    for at, m in [
        (t(1, 27, 10, 10), Milestone.DETECTED),  # detect 10m = 600
        (t(1, 27, 10, 20), Milestone.INVESTIGATING),  # investigate 10m = 600
        (t(1, 27, 11), Milestone.ROOT_CAUSE),  # root cause 1h = 3600
        (t(1, 27, 12), Milestone.DEPLOYED),  # fix deployed 2h = 7200
    ]:
        w.entry(a, at, m)
    a = w.resolve(a, t(1, 27, 13), t(1, 30, 13))  # resolve 3h = 10800
    w.publish(a, t(1, 29, 9))  # on time
    w.action(a, t(1, 28, 10), date(2026, 2, 5), done=t(2, 4))  # closed
    w.action(a, t(1, 28, 10), date(2026, 2, 10))  # open, overdue; age 18d 14h = 1605600

    b = w.start(Severity.SEV2, t(2, 2, 3))  # Monday 02-02: the week that stays empty
    w.move_began(b, t(1, 31, 23))  # a Saturday in January: week of 01-26, month of January
    w.entry(b, t(2, 1, 9), Milestone.DETECTED)  # detect 10h = 36000
    w.entry(b, t(2, 1, 8), Milestone.INVESTIGATING)  # before detection: investigate missing
    deleted = w.entry(b, t(2, 1, 9, 30), Milestone.DEPLOYED)
    store.delete_entry("T1", deleted, by="U1", when=t(2, 2, 4))
    w.entry(b, t(2, 1, 12), Milestone.DEPLOYED)  # fix deployed 13h = 46800 (not 37800)
    w.entry(b, t(2, 1, 12, 30), None)  # a plain entry counts for nothing
    b = w.resolve(b, t(2, 2, 5), t(2, 4, 5))  # resolve 30h = 108000; root cause missing
    w.publish(b, t(2, 5, 5))  # late by 1d = 86400
    w.action(b, t(2, 11, 12), None)  # open, undated: age 4d 12h = 388800
    w.action(b, t(2, 11, 18), date(2026, 2, 15), done=t(2, 16, 6))  # done after until: open,
    # overdue at until (02-15 ended), age 4d 6h = 367200

    c = w.start(Severity.SEV3, t(2, 11, 8))
    w.entry(c, t(2, 11, 7, 50), Milestone.DETECTED)  # before it began: detect missing
    w.entry(c, t(2, 11, 8, 30), Milestone.INVESTIGATING)  # 8:30 - 7:50 = 40m = 2400
    w.entry(c, t(2, 11, 9), Milestone.ROOT_CAUSE)  # root cause 1h = 3600; deployed missing
    w.resolve(c, t(2, 11, 10), t(2, 13, 10))  # resolve 2h = 7200; open, overdue on 02-20
    w.action(c, t(2, 12), date(2026, 2, 16))  # open, due the day until begins: not overdue;
    # age 4d = 345600

    d = w.start(Severity.SEV1, t(2, 12, 12))
    w.entry(d, t(2, 12, 12, 20), Milestone.DETECTED)  # detect 20m = 1200
    w.entry(d, t(2, 12, 12, 30), Milestone.INVESTIGATING)  # investigate 10m = 600
    w.entry(d, t(2, 12, 13), Milestone.ROOT_CAUSE)  # root cause 1h = 3600
    w.entry(d, t(2, 12, 14), Milestone.DEPLOYED)  # fix deployed 2h = 7200; still open
    w.action(d, t(2, 17), date(2026, 2, 1))  # added after until: not counted

    e = w.start(Severity.SEV4, t(2, 13))
    w.entry(e, t(2, 13, 0, 30), Milestone.DETECTED)  # detect 30m = 1800
    w.entry(e, t(2, 13, 0, 45), Milestone.INVESTIGATING)  # investigate 15m = 900
    w.entry(e, t(2, 13, 2), Milestone.ROOT_CAUSE)  # root cause 2h = 7200
    w.entry(e, t(2, 13, 3), Milestone.DEPLOYED)  # fix deployed 3h = 10800
    w.resolve(e, t(2, 13, 4), t(2, 25, 4))  # resolve 4h = 14400; open, due after now

    f = w.start(Severity.SEV2, t(1, 20))
    f = w.resolve(f, t(1, 27, 9), t(1, 29, 9))
    w.publish(f, t(1, 28))  # on time
    w.action(f, t(1, 21), date(2026, 1, 22))  # not of the period's incidents

    g = w.start(Severity.SEV3, t(2, 16, 1))
    w.resolve(g, t(2, 16, 2), t(2, 18, 2))
    store.create_incident(  # H: a start whose channel never came is no incident
        team_id="T1",
        title="H",
        severity=Severity.SEV1,
        private=False,
        user_id="U1",
        started_at=t(2, 3),
    )
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "G": g}


def figures(store, clock, **kwargs):
    return Insights(store, clock).figures("T1", SINCE, UNTIL, **kwargs)


def test_each_incidents_times_follow_its_first_live_milestones(store, made):
    facts = {f.number: f for f in store.incident_facts("T1", SINCE, UNTIL)}
    times = {name: incident_times(facts[made[name].number]) for name in "ABCDE"}
    assert times == {
        "A": {
            "detect": 600,
            "investigate": 600,
            "root_cause": 3600,
            "fix_deployed": 7200,
            "resolve": 10800,
        },
        # began: the moved entry (01-31 23:00), not the start; the deleted deploy never counts
        "B": {
            "detect": 36000,
            "investigate": None,
            "root_cause": None,
            "fix_deployed": 46800,
            "resolve": 108000,
        },
        "C": {
            "detect": None,
            "investigate": 2400,
            "root_cause": 3600,
            "fix_deployed": None,
            "resolve": 7200,
        },
        "D": {
            "detect": 1200,
            "investigate": 600,
            "root_cause": 3600,
            "fix_deployed": 7200,
            "resolve": None,
        },
        "E": {
            "detect": 1800,
            "investigate": 900,
            "root_cause": 7200,
            "fix_deployed": 10800,
            "resolve": 14400,
        },
    }
    # F (began 01-20) is read for its post-mortem: resolved in the period; G not at all
    assert sorted(facts) == sorted(made[n].number for n in "ABCDEF")


def test_time_figures_count_median_and_p90_leaving_out_the_missing(store, made, clock):
    got = figures(store, clock)
    assert got.incidents == 5  # A B C D E began in the period (B by its moved beginning)
    # Four values each (even counts): the median is the mean of the middle two; p90 sits at
    # rank (4 - 1) * 0.9 = 2.7: x[2] + 0.7 * (x[3] - x[2]).
    assert got.times == {
        # 600 1200 1800 36000 -> (1200 + 1800) / 2; 1800 + 0.7 * 34200 = 25740
        "detect": Spread(count=4, missing=1, median_s=1500, p90_s=pytest.approx(25740)),
        # 600 600 900 2400 -> 750; 900 + 0.7 * 1500 = 1950
        "investigate": Spread(count=4, missing=1, median_s=750, p90_s=pytest.approx(1950)),
        # 3600 3600 3600 7200 -> 3600; 3600 + 0.7 * 3600 = 6120
        "root_cause": Spread(count=4, missing=1, median_s=3600, p90_s=pytest.approx(6120)),
        # 7200 7200 10800 46800 -> 9000; 10800 + 0.7 * 36000 = 36000
        "fix_deployed": Spread(count=4, missing=1, median_s=9000, p90_s=pytest.approx(36000)),
        # 7200 10800 14400 108000 -> 12600; 14400 + 0.7 * 93600 = 79920
        "resolve": Spread(count=4, missing=1, median_s=12600, p90_s=pytest.approx(79920)),
    }


def test_severities_filter_every_figure(store, made, clock):
    got = figures(store, clock, severities=("SEV1",))
    assert got.severities == ("sev1",)
    assert got.incidents == 2  # A and D
    # detect 600 1200: median 900; p90 at rank 0.9: 600 + 0.9 * 600 = 1140
    assert got.times["detect"] == Spread(2, 0, 900, pytest.approx(1140))
    assert got.times["resolve"] == Spread(1, 1, 10800, 10800)  # D is open; one value
    assert (got.on_time, got.late, got.open) == (1, 0, 0)  # A
    assert got.actions_opened == 2  # A's two; D's came after until
    empty = figures(store, clock, severities=["sev2", "sev4"])  # B F; E
    assert empty.incidents == 2 and (empty.on_time, empty.late, empty.open) == (1, 1, 1)


def test_weeks_across_a_month_boundary_with_an_empty_week(store, made, clock):
    assert figures(store, clock).periods == [
        # A (01-27) and B (01-31, moved): detect 600, 36000 -> 18300; resolve 10800, 108000
        # -> 59400. Post-mortems by the day of resolution: F and A (01-27) on time
        Period(date(2026, 1, 26), 2, {"sev1": 1, "sev2": 1}, 18300, 59400, 2, 0, 0),
        # B started here, began before; it was resolved here (02-02), its post-mortem late
        Period(date(2026, 2, 2), 0, {}, None, None, 0, 1, 0),
        # C D E: detect (C missing) 1200, 1800 -> 1500; resolve (D open) 7200, 14400 -> 10800
        # C and E resolved here, their post-mortems open
        Period(date(2026, 2, 9), 3, {"sev1": 1, "sev3": 1, "sev4": 1}, 1500, 10800, 0, 0, 2),
    ]
    got = figures(store, clock)
    assert sum(p.on_time for p in got.periods) == got.on_time  # the periods add up
    assert sum(p.late for p in got.periods) == got.late
    assert sum(p.open for p in got.periods) == got.open


def test_months_hold_the_incidents_that_began_in_them(store, made, clock):
    got = figures(store, clock, bucket="month")
    assert [(p.start, p.incidents) for p in got.periods] == [
        (date(2026, 1, 1), 2),  # A and B (began 01-31, though started 02-02)
        (date(2026, 2, 1), 3),
    ]


def test_postmortems_of_incidents_resolved_in_the_period(store, made, clock):
    got = figures(store, clock)
    # resolved 01-26 .. 02-16: F and A on time, B late (1d), C and E open; C's deadline
    # (02-13) has passed on 02-20, E's (02-25) has not. D is open, G resolved after.
    assert (got.on_time, got.late, got.open, got.overdue) == (2, 1, 2, 1)
    assert got.median_late_s == DAY
    clock.now = t(2, 26)  # E's deadline has passed too
    assert figures(store, clock).overdue == 2


def test_action_items_as_of_the_end_of_the_period(store, made, clock):
    got = figures(store, clock)
    # A: 2, B: 2, C: 1 (D's came after until, F's incident began before since)
    assert (got.actions_opened, got.actions_closed) == (5, 1)
    assert got.actions_overdue == 2  # A's due 02-10; B's due 02-15, done only after until
    # open ages 345600 367200 388800 1605600: (367200 + 388800) / 2
    assert got.median_open_action_age_s == 378000


def test_quantiles_interpolate_between_closest_ranks():
    assert quantile([], 0.5) is None
    assert quantile([7], 0.9) == 7
    assert quantile([4, 1, 3, 2], 0.5) == 2.5
    assert quantile([1, 2, 3, 4], 0.9) == pytest.approx(3.7)  # 3 + 0.7 * (4 - 3)
    assert quantile(list(range(1, 12)), 0.9) == 10  # rank 10 * 0.9 = 9 exactly: x[9]


def test_figures_refuse_what_they_cannot_answer(store, clock):
    with pytest.raises(UsageError, match="sev1, sev2, sev3, sev4"):
        figures(store, clock, severities=("critical",))
    with pytest.raises(UsageError, match="`week` or `month`"):
        figures(store, clock, bucket="day")
    with pytest.raises(UsageError, match="before it starts"):
        Insights(store, clock).figures("T1", UNTIL, SINCE)
    nothing = figures(store, clock)  # no incidents: every period, no figures, never zeros
    assert nothing.incidents == 0 and len(nothing.periods) == 3
    assert nothing.times["detect"] == Spread(0, 0, None, None)


@pytest.mark.parametrize(
    ("text", "since"),
    [
        ("30d", datetime(2026, 10, 27, 15, 30, tzinfo=UTC)),
        ("90d", datetime(2026, 8, 28, 15, 30, tzinfo=UTC)),
        ("--since 90d", datetime(2026, 8, 28, 15, 30, tzinfo=UTC)),
        ("2w", datetime(2026, 11, 12, 15, 30, tzinfo=UTC)),
        ("quarter", datetime(2026, 10, 1, tzinfo=UTC)),  # this quarter: October on
        ("year", datetime(2025, 11, 26, 15, 30, tzinfo=UTC)),  # the last 365 days
        ("2026-01-01", datetime(2026, 1, 1, tzinfo=UTC)),
    ],
)
def test_periods_people_name(text, since):
    now = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    assert parse_period(text, now) == (since, now)


@pytest.mark.parametrize(
    ("now", "first"),
    [
        (t(1, 1, 0, 1), t(1, 1)),
        (t(3, 31, 23), t(1, 1)),
        (t(4, 1, 0, 1), t(4, 1)),
        (t(12, 31), t(10, 1)),
        # at a quarter's very first instant, the one just ended (this one is still empty)
        (t(1, 1), datetime(2025, 10, 1, tzinfo=UTC)),
        (t(4, 1), t(1, 1)),
    ],
)
def test_quarter_is_this_calendar_quarter(now, first):
    assert parse_period("quarter", now) == (first, now)


@pytest.mark.parametrize("text", ["", "lately", "0d", "99999d", "3m", "2030-01-01"])
def test_a_period_that_is_none_says_what_to_type(text):
    with pytest.raises(UsageError, match="write `30d`, `90d`"):
        parse_period(text, datetime(2026, 11, 26, tzinfo=UTC))


def test_instants():
    now = datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    assert parse_instant("now", now) == now
    assert parse_instant("2026-04-01", now) == t(4, 1)
    assert parse_instant("2026-04-01T12:00Z", now) == t(4, 1, 12)
    assert parse_instant("2026-04-01T14:00+02:00", now) == t(4, 1, 12)
    with pytest.raises(UsageError, match="write `now`, a date like"):
        parse_instant("tomorrow", now)


def test_insights_never_read_the_wall_clock(store, made):
    """Overdue is as of the clock given: a clock far back has nothing overdue."""
    got = Insights(store, Clock(t(2, 1))).figures("T1", SINCE, UNTIL)
    assert got.overdue == 0
    assert got.since == SINCE and got.until == UNTIL and got.bucket == "week"
    assert timedelta(0) < got.until - got.since


def test_a_period_where_none_began_still_tells_the_post_mortems_resolved_in_it(store, made, clock):
    from bot.insights_text import alt_text, summary_lines

    # [01-27 00:00, 09:30): nothing began (A at 10:00, F on 01-20); F was resolved at 09:00
    got = Insights(store, clock).figures("T1", t(1, 27), t(1, 27, 9, 30))
    assert got.incidents == 0 and (got.on_time, got.late, got.open) == (1, 0, 0)
    assert summary_lines(got) == [
        "No incidents in 2026-01-27 – 2026-01-27, all severities.",
        "Post-mortems: 1 of 1 on time, 0 late, 0 open",
    ]
    assert alt_text(got).endswith("Post-mortems: 1 of 1 on time, 0 late, 0 still open.")
