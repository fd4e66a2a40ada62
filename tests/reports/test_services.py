"""The reports' figures on a small data set built by hand, exact to the minute, on either database.

Three weeks at Maple House (America/Chicago), Monday 19 October to Sunday 8 November 2026, across the
night the clocks go back (Sunday 1 November, 02:00): a session that starts at 22:00 that Sunday is
04:00 UTC on the Monday, and still belongs to the week that started on 26 October.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from respite.extensions import db
from respite.models import AuditLog
from respite.reports import charts, figures, services
from respite.reports.periods import DayRange, default_days, latest_last_day
from respite.reports.services import PlaceKind
from tests import factories

CHICAGO = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
FIRST, LAST = date(2026, 10, 19), date(2026, 11, 8)


def local(day: str, hour: int, minute: int = 0, zone: ZoneInfo = CHICAGO) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), zone).astimezone(UTC)


@dataclass
class World:
    maple: object
    birch: object
    ann: object  # providers at Maple
    ben: object
    cleo: object  # a provider at Birch
    rosa: object  # caregivers
    james: object
    kim: object
    idle: object  # a caregiver with no sessions at all
    sessions: dict


def session(recipient, center, start, end, status, *, created, **extra):
    return factories.RespiteSessionFactory(
        recipient=recipient, center=center, starts_at=start, ends_at=end, status=status, created_at=created, **extra
    )


def assign(row, provider, *, at, status="accepted"):
    return factories.AssignmentFactory(session=row, provider=provider, status=status, created_at=at)


def logged(action, row, at):
    """An audit row about `row` at a time of our choosing (the chain itself is not what is tested here)."""
    return db.session.add(
        AuditLog(
            created_at=at,
            action=action,
            entity_type="RespiteSession",
            entity_id=str(row.id),
            prev_hash="0" * 64,
            row_hash=secrets.token_hex(32),
        )
    )


@pytest.fixture
def world():
    maple = factories.CenterFactory(name="Maple House", timezone="America/Chicago")
    birch = factories.CenterFactory(name="Birch House", timezone="Europe/London")
    ann = factories.ProviderProfileFactory(center=maple, user__display_name="Ann Able")
    ben = factories.ProviderProfileFactory(center=maple, user__display_name="Ben Baker")
    cleo = factories.ProviderProfileFactory(center=birch, user__display_name="Cleo Cole")
    rosa = factories.CaregiverProfileFactory(full_name="Rosa Reyes", annual_allotment_minutes=100 * 60)
    james = factories.CaregiverProfileFactory(full_name="James Jones", annual_allotment_minutes=50 * 60)
    kim = factories.CaregiverProfileFactory(full_name="Kim Kent", annual_allotment_minutes=10 * 60)
    idle = factories.CaregiverProfileFactory(full_name="Ida Idle", annual_allotment_minutes=20 * 60)
    elena = factories.CareRecipientFactory(caregiver=rosa)
    lily = factories.CareRecipientFactory(caregiver=james)
    kai = factories.CareRecipientFactory(caregiver=kim)
    s = {}
    # Completed: 10:00-13:00 booked, 10:05-13:20 on the clock (195 minutes); filled 6 hours after the request.
    s[1] = session(
        elena,
        maple,
        local("2026-10-20", 10),
        local("2026-10-20", 13),
        "completed",
        created=local("2026-10-19", 9),
        checked_in_at=local("2026-10-20", 10, 5),
        checked_out_at=local("2026-10-20", 13, 20),
    )
    assign(s[1], ann, at=local("2026-10-19", 15))
    # Completed, never checked in or out: its booked 120 minutes; filled after 24 hours.
    s[2] = session(
        lily, maple, local("2026-10-22", 9), local("2026-10-22", 11), "completed", created=local("2026-10-20", 8)
    )
    assign(s[2], ben, at=local("2026-10-21", 8))
    # Completed, 22:00 on the Sunday the clocks went back (04:00 UTC on Monday): the week of 26 October.
    s[3] = session(
        elena, maple, local("2026-11-01", 22), local("2026-11-02", 0), "completed", created=local("2026-10-26", 9)
    )
    assign(s[3], ann, at=local("2026-10-26", 21))
    # Completed, just after midnight on the Monday: the week of 2 November.
    s[4] = session(
        lily, maple, local("2026-11-02", 0, 30), local("2026-11-02", 2, 30), "completed", created=local("2026-10-27", 9)
    )
    assign(s[4], ben, at=local("2026-10-27", 11))
    # Cancelled: the same reason twice (spacing aside); one was confirmed first (the log says when).
    s[5] = session(
        elena,
        maple,
        local("2026-10-28", 10),
        local("2026-10-28", 12),
        "cancelled",
        created=local("2026-10-21", 9),
        status_reason="Unwell",
    )
    s[6] = session(
        lily,
        maple,
        local("2026-10-29", 10),
        local("2026-10-29", 12),
        "cancelled",
        created=local("2026-10-22", 9),
        status_reason="  Unwell ",
    )
    assign(s[6], ann, at=local("2026-10-22", 13), status="cancelled")
    # Changed by the family after it was confirmed: cancelled with a reason naming the new time.
    s[7] = session(
        lily,
        maple,
        local("2026-10-30", 10),
        local("2026-10-30", 12),
        "cancelled",
        created=local("2026-10-28", 9),
        status_reason="Changed by the family: new request for Sat 7 Nov 2026, 10:00 (America/Chicago)",
    )
    s[8] = session(
        elena,
        maple,
        local("2026-11-03", 10),
        local("2026-11-03", 12),
        "no_show",
        created=local("2026-10-29", 9),
        status_reason="Waited 20 minutes",
    )
    assign(s[8], ann, at=local("2026-10-30", 9))
    s[9] = session(
        lily,
        maple,
        local("2026-11-10", 10),
        local("2026-11-10", 12),
        "declined",
        created=local("2026-10-21", 10),
        status_reason="No provider free",
    )
    s[10] = session(
        elena, maple, local("2026-11-12", 10), local("2026-11-12", 12), "requested", created=local("2026-11-04", 9)
    )
    # Confirmed: the accepted assignment is from 12:00, but the log says it was accepted at 11:00.
    s[11] = session(
        elena, maple, local("2026-11-05", 10), local("2026-11-05", 14), "confirmed", created=local("2026-10-27", 10)
    )
    assign(s[11], ben, at=local("2026-10-27", 12))
    # Elsewhere: a completed hour at Birch House, and a home visit of an hour and a half.
    s[12] = session(
        kai,
        birch,
        local("2026-11-04", 14, zone=LONDON),
        local("2026-11-04", 15, zone=LONDON),
        "completed",
        created=local("2026-11-04", 9),
    )
    assign(s[12], cleo, at=local("2026-11-04", 10))
    s[13] = session(
        lily,
        None,
        local("2026-11-05", 10),
        local("2026-11-05", 11, 30),
        "completed",
        created=local("2026-11-01", 9),
        location_kind="home",
        address="1 Home Street",
    )
    assign(s[13], ann, at=local("2026-11-01", 10))
    logged("session.assign", s[6], local("2026-10-22", 13))
    logged("session.accept", s[11], local("2026-10-27", 11))
    logged("session.cancel", s[11], local("2026-10-27", 10, 30))  # not a confirmation
    db.session.flush()
    return World(maple, birch, ann, ben, cleo, rosa, james, kim, idle, s)


def place(kind, center=None):
    for candidate in services.places():
        if candidate.kind == kind and (center is None or candidate.center_id == center.id):
            return candidate
    raise AssertionError(kind)


def scope(where, first=FIRST, last=LAST, zone=None):
    zone = zone or services.report_zone(where, "America/Chicago")
    return services.scope_for(where, first, last, zone)


def at_maple(world):
    return scope(place(PlaceKind.CENTER, world.maple))


# --- Periods ---------------------------------------------------------------------------------


def test_weeks_start_at_local_midnight_on_monday_and_are_longer_when_the_clocks_go_back():
    weeks = DayRange(FIRST, LAST, CHICAGO).weeks()

    assert [w.opens for w in weeks] == [date(2026, 10, 19), date(2026, 10, 26), date(2026, 11, 2)]
    assert weeks[1].starts_at == datetime(2026, 10, 26, 5, tzinfo=UTC)  # midnight CDT
    assert weeks[1].ends_at == datetime(2026, 11, 2, 6, tzinfo=UTC)  # midnight CST
    assert weeks[1].ends_at - weeks[1].starts_at == timedelta(hours=169)
    assert [w.ends_at for w in weeks[:-1]] == [w.starts_at for w in weeks[1:]]


def test_a_week_is_shorter_when_the_clocks_go_forward():
    weeks = DayRange(date(2026, 3, 2), date(2026, 3, 15), CHICAGO).weeks()  # clocks forward on Sunday 8 March

    assert weeks[0].ends_at - weeks[0].starts_at == timedelta(hours=167)
    assert weeks[1].ends_at - weeks[1].starts_at == timedelta(hours=168)


def test_the_first_and_last_periods_are_cut_to_the_range():
    days = DayRange(date(2026, 10, 21), date(2026, 11, 4), CHICAGO)

    weeks = days.weeks()
    months = days.months()

    assert [(w.opens, w.first_day, w.last_day) for w in weeks] == [
        (date(2026, 10, 19), date(2026, 10, 21), date(2026, 10, 25)),
        (date(2026, 10, 26), date(2026, 10, 26), date(2026, 11, 1)),
        (date(2026, 11, 2), date(2026, 11, 2), date(2026, 11, 4)),
    ]
    assert [(m.opens, m.first_day, m.last_day) for m in months] == [
        (date(2026, 10, 1), date(2026, 10, 21), date(2026, 10, 31)),
        (date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 4)),
    ]
    assert weeks[0].starts_at == days.starts_at
    assert weeks[-1].ends_at == days.ends_at


def test_the_default_range_is_twelve_weeks_to_today_and_a_range_is_three_years_at_most():
    assert default_days(date(2026, 11, 29)) == (date(2026, 9, 7), date(2026, 11, 29))
    assert len(DayRange(*default_days(date(2026, 11, 29)), CHICAGO).weeks()) == 12
    assert latest_last_day(date(2026, 1, 1)) == date(2028, 12, 31)
    assert latest_last_day(date(2024, 2, 29)) == date(2027, 2, 28)


# --- Hours delivered -------------------------------------------------------------------------------


def test_hours_delivered_per_week_and_month_at_a_center(world):
    where = at_maple(world)

    weekly = services.hours_delivered(where, where.days.weeks())
    monthly = services.hours_delivered(where, where.days.months())

    # 195 (checked in and out) + 120 (booked); the Sunday-night session; the one after midnight.
    assert [(r.period.opens, r.sessions, r.minutes) for r in weekly] == [
        (date(2026, 10, 19), 2, 315),
        (date(2026, 10, 26), 1, 120),
        (date(2026, 11, 2), 1, 120),
    ]
    assert [(r.period.opens, r.sessions, r.minutes) for r in monthly] == [
        (date(2026, 10, 1), 2, 315),
        (date(2026, 11, 1), 2, 240),
    ]


def test_weeks_on_another_clock_put_the_sunday_night_session_in_the_next_week(world):
    where = scope(place(PlaceKind.CENTER, world.maple), zone=ZoneInfo("UTC"))

    weekly = services.hours_delivered(where, where.days.weeks())

    assert [(r.sessions, r.minutes) for r in weekly] == [(2, 315), (0, 0), (2, 240)]


def test_hours_delivered_for_the_whole_program_and_for_home_visits(world):
    everywhere = scope(place(PlaceKind.ALL))
    at_home = scope(place(PlaceKind.HOME))

    assert [(r.sessions, r.minutes) for r in services.hours_delivered(everywhere, everywhere.days.weeks())] == [
        (2, 315),
        (1, 120),
        (3, 270),  # and Birch House's hour, and the home visit's hour and a half
    ]
    assert [(r.sessions, r.minutes) for r in services.hours_delivered(at_home, at_home.days.weeks())] == [
        (0, 0),
        (0, 0),
        (1, 90),
    ]


def test_a_center_s_report_follows_its_own_clock(world):
    birch = place(PlaceKind.CENTER, world.birch)

    assert services.report_zone(birch, "America/Chicago").key == "Europe/London"
    assert services.report_zone(place(PlaceKind.ALL), "America/Chicago").key == "America/Chicago"
    assert services.report_zone(place(PlaceKind.HOME), "Asia/Tokyo").key == "Asia/Tokyo"


# --- Requests ---------------------------------------------------------------------------------------


def test_requests_received_filled_and_the_hours_to_fill_them(world):
    report = services.requests_received(at_maple(world))

    # Week of 19 Oct: 1, 2, 5, 6 (filled 4 h after, says the log), 9 (declined); filled after 6, 24 and 4 hours.
    # Week of 26 Oct: 3, 4, 7, 8, 11 (accepted after 1 h, says the log); filled after 12, 2, 24 and 1 hours.
    # Week of 2 Nov: 10, still open.
    assert [(r.received, r.filled, r.declined) for r in report.weeks] == [(5, 3, 1), (5, 4, 0), (1, 0, 0)]
    assert [r.median_hours for r in report.weeks] == [pytest.approx(6), pytest.approx(7), None]
    assert [r.average_hours for r in report.weeks] == [pytest.approx(34 / 3), pytest.approx(39 / 4), None]
    total = report.total
    assert (total.period, total.received, total.filled, total.declined) == (None, 11, 7, 1)
    assert total.median_hours == pytest.approx(6)  # of 1, 2, 4, 6, 12, 24, 24
    assert total.average_hours == pytest.approx(73 / 7)


def test_an_empty_range_has_no_requests_and_no_time_to_fill(world):
    report = services.requests_received(scope(place(PlaceKind.ALL), date(2025, 1, 1), date(2025, 1, 31)))

    assert [r.received for r in report.weeks] == [0] * 5
    assert report.total == services.RequestsRow(None, 0, 0, 0, None, None)


# --- Cancellations, no-shows and reasons -------------------------------------------------------------


def test_cancellations_and_no_shows_per_week_by_the_booked_start(world):
    rows = services.called_off(at_maple(world))

    assert [(r.cancelled, r.no_shows) for r in rows] == [(0, 0), (3, 0), (0, 1)]


def test_reasons_are_grouped_most_frequent_first(world):
    found = services.reasons(at_maple(world))

    assert [(r.status, r.reason.lower(), r.sessions) for r in found.called_off] == [
        ("cancelled", "unwell", 2),
        ("cancelled", services.REPLACED.lower(), 1),
        ("no_show", "waited 20 minutes", 1),
    ]
    assert [(r.status_label, r.reason, r.sessions) for r in found.declined] == [("Declined", "No provider free", 1)]
    assert services.reasons(at_maple(world), limit=1).called_off == found.called_off[:1]


def test_reasons_in_any_case_are_one_reason_and_none_given_is_said_so(world):
    world.sessions[5].status_reason = "UNWELL"
    world.sessions[7].status_reason = ""

    found = services.reasons(at_maple(world))

    assert sorted((r.reason.lower(), r.sessions) for r in found.called_off) == [
        ("no reason given", 1),
        ("unwell", 2),
        ("waited 20 minutes", 1),
    ]


# --- Caregivers and providers -------------------------------------------------------------------------


def test_hours_used_and_allotted_per_caregiver_at_a_center(world):
    ranking = services.caregiver_hours(at_maple(world))

    # Rosa: completed 180 + 120 booked minutes; a no-show (120), a confirmed (240) and a requested (120) session.
    assert ranking.total == 2
    assert [(r.name, r.allotted_minutes, r.completed_minutes, r.booked_minutes) for r in ranking.rows] == [
        ("Rosa Reyes", 6000, 300, 480),
        ("James Jones", 3000, 240, 0),
    ]
    assert ranking.rows[0].used_minutes == 780


def test_hours_used_for_the_whole_program_include_every_active_caregiver(world):
    ranking = services.caregiver_hours(scope(place(PlaceKind.ALL)))

    assert [(r.name, r.completed_minutes, r.booked_minutes) for r in ranking.rows] == [
        ("Rosa Reyes", 300, 480),
        ("James Jones", 330, 0),  # and the home visit
        ("Kim Kent", 60, 0),
        ("Ida Idle", 0, 0),
    ]
    first = services.caregiver_hours(scope(place(PlaceKind.ALL)), limit=1)
    assert (len(first.rows), first.total) == (1, 4)


def test_hours_used_count_the_year_of_the_range_s_last_day(world):
    ranking = services.caregiver_hours(scope(place(PlaceKind.ALL), date(2025, 12, 1), date(2025, 12, 31)))

    assert all(r.used_minutes == 0 for r in ranking.rows)


def test_providers_load_at_a_center(world):
    ranking = services.provider_load(at_maple(world))

    # Ann: 195 + 120 given (the no-show and the cancelled one don't count); Ben: 120 + 120 given, 240 booked.
    assert [(r.name, r.given_sessions, r.given_minutes, r.booked_sessions, r.booked_minutes) for r in ranking.rows] == [
        ("Ben Baker", 2, 240, 1, 240),
        ("Ann Able", 2, 315, 0, 0),
    ]
    assert ranking.total == 2


def test_providers_load_for_the_program_and_the_home_visits(world):
    idle = factories.ProviderProfileFactory(center=world.maple, user__display_name="Ivy Idle")
    factories.ProviderProfileFactory(center=world.maple, user__display_name="Gone Away", active=False)

    everywhere = services.provider_load(scope(place(PlaceKind.ALL)))
    at_home = services.provider_load(scope(place(PlaceKind.HOME)))
    at_maple_ = services.provider_load(at_maple(world))

    assert [(r.name, r.given_minutes + r.booked_minutes) for r in everywhere.rows] == [
        ("Ben Baker", 480),
        ("Ann Able", 405),
        ("Cleo Cole", 60),
        ("Ivy Idle", 0),
    ]
    assert [(r.name, r.given_sessions, r.given_minutes) for r in at_home.rows] == [("Ann Able", 1, 90)]
    assert idle.user.display_name in [r.name for r in at_maple_.rows]


def test_program_reports_gathers_every_report(world):
    reports = services.program_reports(at_maple(world))

    assert len(reports.weekly_hours) == 3
    assert len(reports.monthly_hours) == 2
    assert reports.requests.total.received == 11
    assert reports.caregivers.total == 2
    assert reports.providers.total == 2


# --- Charts and files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("largest", "whole", "expected"),
    [(7.2, False, (8, 2)), (10, True, (10, 5)), (3, True, (3, 1)), (0, False, (1, 0.25)), (1234, False, (1500, 500))],
)
def test_scales_end_at_a_round_number(largest, whole, expected):
    assert charts.nice_scale(largest, whole=whole) == expected


def test_a_column_chart_places_its_bars_and_a_chart_of_nothing_is_empty():
    chart = charts.column_chart(
        "Title", ["a", "b"], [("One", [2, 0]), ("Two", [1, 3])], x_title="x", y_title="y", stacked=True, whole=True
    )
    nothing = charts.column_chart("Title", ["a", "b"], [("One", [0, 0])], x_title="x", y_title="y")

    # 170 units of height for 3 sessions at most.
    assert [(r.series, round(r.height, 1)) for r in chart.rects] == [(0, 113.3), (1, 56.7), (1, 170.0)]
    assert chart.rects[1].y + chart.rects[1].height == pytest.approx(chart.rects[0].y)  # stacked on the first
    assert [t.text for t in chart.value_ticks] == ["0", "1", "2", "3"]
    assert nothing.empty
    assert not nothing.rects


def test_a_line_breaks_where_a_week_has_no_value():
    chart = charts.line_chart("Title", ["a", "b", "c", "d"], [("Median", [1, 2, None, 4])], x_title="x", y_title="y")

    assert len(chart.lines) == 1
    assert len(chart.lines[0].points.split()) == 2
    assert len(chart.dots) == 3


def test_a_row_chart_marks_each_allotment_and_shortens_long_names():
    chart = charts.row_chart(
        "Title",
        ["A" * 80, "Bo"],
        [("Used", [10, 0])],
        x_title="Hours",
        limits=[20, 40],
        marker="Allotment",
        value_text=lambda i: "x",
    )

    assert len(chart.rules) == 2
    assert chart.rules[1].x1 == pytest.approx(chart.plot.right)
    names = [label.text for label in chart.labels if label.anchor == "start"]
    assert names[0].endswith("…")
    assert len(names[0]) < 80
    assert names[1] == "Bo"


def test_the_page_s_charts_sum_each_report_up(world):
    page = figures.charts(services.program_reports(at_maple(world)))

    assert page.weekly_hours.title == (
        "Hours delivered per week, 19 Oct – 8 Nov 2026: 9.3 hours in 4 completed sessions; "
        "the most in one week: 5.3 hours, in the week of 19 Oct 2026."
    )
    assert page.requests.title.endswith("11 received, 7 filled.")
    assert "a median of 6 hours and an average of 10.4" in page.waits.title
    assert page.called_off.title.endswith("3 cancelled, 1 no-show.")
    assert "Rosa Reyes has used the most, 13 of 100 hours" in page.caregivers.title


def test_a_csv_cell_a_spreadsheet_would_run_is_written_as_text():
    text = figures.csv_text((["Reason"], [["=HYPERLINK(1)"], ["-2"], ["Unwell"], [3]]))

    assert text.splitlines() == ["Reason", "'=HYPERLINK(1)", "'-2", "Unwell", "3"]
