"""The program calendar: weeks built from local dates (across daylight-saving changes), sessions on their
local day, rows by center or by provider, and what needs a coordinator marked."""

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from respite.matching import calendar
from respite.matching.calendar import Grouping
from respite.models import AssignmentStatus, SessionStatus
from tests import factories
from tests.helpers import ON_POSTGRES

S = SessionStatus
A = AssignmentStatus
CHICAGO = ZoneInfo("America/Chicago")
# Clocks go back in Chicago at 02:00 on Sunday 1 November 2026: that week has 169 hours.
FALL_BACK_WEEK = date(2026, 10, 26)
LATER_WEEK = date(2031, 6, 9)  # a Monday, with no clock change


def chicago(*parts, fold=0):
    """A Chicago wall-clock time, in UTC."""
    return datetime(*parts, tzinfo=CHICAGO, fold=fold).astimezone(UTC)


def session_at(starts_at, hours=2, **extra):
    return factories.RespiteSessionFactory(starts_at=starts_at, ends_at=starts_at + timedelta(hours=hours), **extra)


def booked(provider, starts_at, hours=2, **extra):
    session = session_at(starts_at, hours, status=S.CONFIRMED, **extra)
    factories.AssignmentFactory(session=session, provider=provider, status=A.ACCEPTED)
    return session


def row_of(week, key):
    (found,) = [r for r in week.rows if r.key == key]
    return found


def ids_by_day(row):
    return [[b.session.id for b in day] for day in row.days]


def kinds(week, session):
    (booking,) = [b for b in week.bookings if b.session.id == session.id]
    return [p.kind for p in booking.problems]


# --- Weeks from local dates -----------------------------------------------------------------


def test_a_week_across_the_fall_back_has_169_hours():
    start, end = calendar.week_bounds(FALL_BACK_WEEK, CHICAGO)
    assert start == datetime(2026, 10, 26, 5, tzinfo=UTC)  # midnight CDT
    assert end == datetime(2026, 11, 2, 6, tzinfo=UTC)  # midnight CST
    assert end - start == timedelta(hours=169)


def test_a_week_across_the_spring_forward_has_167_hours():
    start, end = calendar.week_bounds(date(2026, 3, 2), CHICAGO)
    assert (start, end) == (datetime(2026, 3, 2, 6, tzinfo=UTC), datetime(2026, 3, 9, 5, tzinfo=UTC))


def test_any_day_names_its_monday():
    assert calendar.monday_of(date(2026, 11, 1)) == FALL_BACK_WEEK
    assert calendar.monday_of(FALL_BACK_WEEK) == FALL_BACK_WEEK
    # Late on Sunday in Chicago is already Monday in UTC: this week is still the Chicago one.
    assert calendar.this_monday(CHICAGO, now=chicago(2026, 11, 1, 23, 30)) == FALL_BACK_WEEK


def test_sessions_land_on_their_local_day_across_the_fall_back(coordinator):
    center = factories.CenterFactory(name="Oak Center")
    saturday_night = session_at(chicago(2026, 10, 31, 22, 0), center=center)
    first_one_thirty = session_at(chicago(2026, 11, 1, 1, 30, fold=0), hours=1, center=center)  # CDT
    second_one_thirty = session_at(chicago(2026, 11, 1, 1, 30, fold=1), hours=1, center=center)  # CST, an hour on
    sunday_late = session_at(chicago(2026, 11, 1, 23, 30), center=center)  # Monday 05:30 in UTC
    monday_after = session_at(chicago(2026, 11, 2, 0, 30), center=center)

    week = calendar.program_week(coordinator, FALL_BACK_WEEK, Grouping.CENTER)
    days = ids_by_day(row_of(week, f"center-{center.id}"))
    assert days[5] == [saturday_night.id]
    assert days[6] == [first_one_thirty.id, second_one_thirty.id, sunday_late.id]
    assert monday_after.id not in sum(days, [])

    following = calendar.program_week(coordinator, FALL_BACK_WEEK + timedelta(days=7), Grouping.CENTER)
    assert ids_by_day(row_of(following, f"center-{center.id}"))[0] == [monday_after.id]


def test_the_page_shows_the_fall_back_week_by_day(as_coordinator):
    center = factories.CenterFactory(name="Oak Center")
    sunday_late = session_at(
        chicago(2026, 11, 1, 23, 30), center=center, recipient__first_name="Ada", recipient__last_name="Late"
    )
    body = as_coordinator.get("/program?week=2026-10-30").text
    days = re.findall(r'<th scope="col"><time datetime="([\d-]+)">([^<]+)</time></th>', body)
    assert days == [
        ("2026-10-26", "Mon 26 Oct"),
        ("2026-10-27", "Tue 27 Oct"),
        ("2026-10-28", "Wed 28 Oct"),
        ("2026-10-29", "Thu 29 Oct"),
        ("2026-10-30", "Fri 30 Oct"),
        ("2026-10-31", "Sat 31 Oct"),
        ("2026-11-01", "Sun 1 Nov"),
    ]
    grid_row = re.search(rf'<tr id="row-center-{center.id}">(.*?)</tr>', body, re.S).group(1)
    cells = re.findall(r"<td>(.*?)</td>", grid_row, re.S)
    assert len(cells) == 7
    assert "Ada Late" in cells[6]
    assert "23:30 – Mon 2 Nov, 01:30" in cells[6]
    assert not any("Ada Late" in cell for cell in cells[:6])
    # The phone's list by day: the same session under Sunday.
    sunday = re.search(r'<h3 id="day-2026-11-01">Sunday 1 November</h3>(.*?)</section>', body, re.S).group(1)
    assert "Ada Late" in sunday
    assert "Oak Center" in sunday
    assert f'href="/queue/{sunday_late.id}"' in sunday
    assert "Ada Late" not in as_coordinator.get("/program?week=2026-11-02").text


# --- Rows ---------------------------------------------------------------------------------------


def test_rows_by_center_are_every_center_then_home_visits(coordinator):
    quiet = factories.CenterFactory(name="Aspen House")
    busy = factories.CenterFactory(name="Birch Hall")
    at_home = session_at(chicago(2031, 6, 10, 9), center=None, location_kind="home", address="1 Elm St")
    at_birch = session_at(chicago(2031, 6, 11, 9), center=busy)
    week = calendar.program_week(coordinator, LATER_WEEK, Grouping.CENTER)
    keys = [r.key for r in week.rows]
    assert keys.index(f"center-{quiet.id}") < keys.index(f"center-{busy.id}") < keys.index("home") == len(keys) - 1
    assert row_of(week, f"center-{quiet.id}").count == 0
    assert ids_by_day(row_of(week, f"center-{busy.id}"))[2] == [at_birch.id]
    assert ids_by_day(row_of(week, "home"))[1] == [at_home.id]


def test_rows_by_provider_are_every_active_provider_then_the_uncovered(coordinator):
    free = factories.ProviderProfileFactory(user__display_name="Ann Free")
    working = factories.ProviderProfileFactory(user__display_name="Ben Working")
    gone = factories.ProviderProfileFactory(user__display_name="Cal Gone", active=False)
    theirs = booked(working, chicago(2031, 6, 12, 9))
    past_provider = booked(gone, chicago(2031, 6, 12, 13))
    request_ = session_at(chicago(2031, 6, 13, 9))
    week = calendar.program_week(coordinator, LATER_WEEK, Grouping.PROVIDER)
    labels = [r.label for r in week.rows]
    assert labels.index("Ann Free") < labels.index("Ben Working") < labels.index("Cal Gone")
    assert labels[-1] == "Uncovered"
    assert row_of(week, f"provider-{free.id}").count == 0
    assert ids_by_day(row_of(week, f"provider-{working.id}"))[3] == [theirs.id]
    assert ids_by_day(row_of(week, f"provider-{gone.id}"))[3] == [past_provider.id]
    assert ids_by_day(row_of(week, "uncovered"))[4] == [request_.id]


def test_cancelled_and_declined_sessions_are_left_out(coordinator):
    center = factories.CenterFactory()
    shown = session_at(chicago(2031, 6, 10, 9), center=center)
    session_at(chicago(2031, 6, 10, 12), center=center, status=S.CANCELLED)
    session_at(chicago(2031, 6, 10, 15), center=center, status=S.DECLINED)
    week = calendar.program_week(coordinator, LATER_WEEK, Grouping.CENTER)
    assert [b.session.id for b in week.bookings] == [shown.id]


# --- What needs a coordinator -----------------------------------------------------------------


def test_an_uncovered_request_is_marked(coordinator):
    request_ = session_at(chicago(2031, 6, 10, 9))
    factories.AssignmentFactory(session=request_, status=A.OFFERED)
    week = calendar.program_week(coordinator, LATER_WEEK, Grouping.CENTER)
    (booking,) = week.bookings
    assert [(p.kind, p.label, p.detail) for p in booking.problems] == [
        ("uncovered", "Uncovered", "No provider yet; 1 offer out.")
    ]
    assert week.problem_counts() == {"uncovered": 1}


def test_a_provider_booked_outside_their_availability_is_marked(coordinator):
    provider = factories.ProviderProfileFactory(user__display_name="Dee Hours")
    factories.AvailabilityFactory(provider=provider, weekday=0, start_minute=8 * 60, end_minute=18 * 60)
    inside = booked(provider, chicago(2031, 6, 9, 9))  # Monday 9:00-11:00, within Monday 8-18
    outside = booked(provider, chicago(2031, 6, 11, 9))  # Wednesday: no hours
    late = booked(provider, chicago(2031, 6, 9, 17))  # Monday 17:00-19:00, past 18:00
    week = calendar.program_week(coordinator, LATER_WEEK, Grouping.PROVIDER)
    assert kinds(week, inside) == []
    assert kinds(week, outside) == ["outside_availability"]
    assert kinds(week, late) == ["outside_availability"]
    assert week.problem_counts() == {"outside_availability": 2}


def test_time_off_counts_as_outside_availability(coordinator):
    provider = factories.ProviderProfileFactory()
    factories.AvailabilityFactory(provider=provider, weekday=1)
    factories.AvailabilityFactory(
        provider=provider, kind="time_off", starts_at=chicago(2031, 6, 10, 0), ends_at=chicago(2031, 6, 11, 0)
    )
    on_leave = booked(provider, chicago(2031, 6, 10, 9))
    week = calendar.program_week(coordinator, LATER_WEEK, Grouping.CENTER)
    assert kinds(week, on_leave) == ["outside_availability"]


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL's exclusion constraint refuses such rows outright")
def test_a_provider_on_two_sessions_at_once_is_marked(coordinator):
    provider = factories.ProviderProfileFactory(user__display_name="Eve Twice")
    for weekday in range(7):
        factories.AvailabilityFactory(provider=provider, weekday=weekday)
    first = booked(provider, chicago(2031, 6, 10, 9), recipient__first_name="Fay", recipient__last_name="One")
    second = booked(provider, chicago(2031, 6, 10, 10), recipient__first_name="Gus", recipient__last_name="Two")
    apart = booked(provider, chicago(2031, 6, 10, 14))
    week = calendar.program_week(coordinator, LATER_WEEK, Grouping.PROVIDER)
    assert kinds(week, first) == ["double_booked"]
    assert kinds(week, second) == ["double_booked"]
    assert kinds(week, apart) == []
    (problem,) = [b for b in week.bookings if b.session.id == first.id][0].problems
    assert problem.detail == "Eve Twice also has Gus Two, Tue 10 Jun 2031, 10:00 – 12:00."


def test_the_page_marks_problems_at_a_glance(as_coordinator):
    provider = factories.ProviderProfileFactory(user__display_name="Dee Hours")
    booked(provider, chicago(2031, 6, 11, 9), recipient__first_name="Hal", recipient__last_name="Outside")
    session_at(chicago(2031, 6, 12, 9), recipient__first_name="Ida", recipient__last_name="Waiting")
    body = as_coordinator.get("/program?week=2031-06-09&by=provider").text
    assert "1 without a provider" in body
    assert "1 outside their provider's hours" in body
    outside = booking_html(body, "Hal Outside")
    assert outside.startswith('<li class="booking booking-problem">')
    assert "This is outside Dee Hours&#39;s availability." in outside
    waiting = booking_html(body, "Ida Waiting")
    assert waiting.startswith('<li class="booking booking-uncovered">')
    assert "No provider yet." in waiting


def booking_html(body, name):
    """The first booking on the page (grid or list) that names `name`, up to the next booking."""
    return next(
        chunk for chunk in re.split(r'(?=<li class="booking)', body) if chunk.startswith("<li") and name in chunk
    )
