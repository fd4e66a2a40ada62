"""The provider's schedule: agenda, day and week by local day in their zone, across clock changes; offers,
cancellations and removals marked with their reason until their time has passed; htmx navigation; budgets."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from respite.demo import DEMO_PASSWORD, seed_demo
from respite.extensions import db
from respite.models import AssignmentStatus, RespiteSession, SessionStatus, User, utcnow
from respite.visits import services
from tests import factories
from tests.helpers import assert_statement_budget, page_nav, sign_in

S = SessionStatus
A = AssignmentStatus
HTMX = {"HX-Request": "true"}
CHICAGO = ZoneInfo("America/Chicago")


def local(day, hour, minute=0, fold=0):
    return datetime.combine(day, time(hour, minute), CHICAGO).replace(fold=fold).astimezone(UTC)


def today():
    return utcnow().astimezone(CHICAGO).date()


def hold(client, starts, minutes=120, *, status=A.ACCEPTED, session_status=S.CONFIRMED, reason="", **extra):
    """An assignment of the client's provider to a new session from `starts` (UTC), for `minutes`."""
    session = factories.RespiteSessionFactory(
        status=session_status, starts_at=starts, ends_at=starts + timedelta(minutes=minutes), **extra
    )
    return factories.AssignmentFactory(
        session=session, provider=client.user.provider_profile, status=status, reason=reason
    )


def entry(body, assignment):
    """The schedule's entry of `assignment` (its <li>), or None."""
    match = re.search(rf'<li class="schedule-entry[^"]*" id="assignment-{assignment.id}">(.*?)</li>', body, re.S)
    return match.group(1) if match else None


def day_section(body, day):
    pattern = rf'<section class="schedule-day" aria-labelledby="day-{day.isoformat()}".*?</section>'
    match = re.search(pattern, body, re.S)
    return match.group(0) if match else ""


# --- Who may open it -------------------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/schedule")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_coordinator", "as_kiosk"])
def test_the_schedule_is_for_providers(request, client_fixture):
    assert request.getfixturevalue(client_fixture).get("/schedule").status_code == 403


def test_a_provider_without_a_profile_sees_an_empty_schedule(client):
    user = factories.UserFactory(role="provider")
    sign_in(client, user)
    assert "Nothing on your schedule" in client.get("/schedule").text


# --- The agenda -------------------------------------------------------------------------------------


def test_the_agenda_shows_the_next_14_days_by_day_with_time_person_place_and_status(as_provider):
    first = hold(as_provider, local(today() + timedelta(days=1), 9), center=factories.CenterFactory(name="Maple House"))
    home = hold(
        as_provider,
        local(today() + timedelta(days=3), 14),
        center=None,
        location_kind="home",
        address="4 Elm Row, Springfield",
    )
    beyond = hold(as_provider, local(today() + timedelta(days=14), 9))
    theirs = factories.AssignmentFactory(session__starts_at=local(today() + timedelta(days=2), 9))
    body = as_provider.get("/schedule").text

    shown = entry(body, first)
    assert "09:00 – 11:00" in shown
    assert first.session.recipient.full_name in shown
    assert "Maple House" in shown
    assert "badge-confirmed" in shown
    assert f'href="/sessions/{first.session_id}"' in shown
    assert "4 Elm Row, Springfield" in entry(body, home)
    assert "At home" in entry(body, home)
    assert entry(body, beyond) is None
    assert entry(body, theirs) is None
    assert theirs.session.recipient.full_name not in body
    # Grouped by day, soonest first.
    assert body.index(f"day-{(today() + timedelta(days=1)).isoformat()}") < body.index(
        f"day-{(today() + timedelta(days=3)).isoformat()}"
    )
    assert first.session.recipient.full_name in day_section(body, today() + timedelta(days=1))


def test_the_agenda_pages_by_14_days(as_provider):
    later = hold(as_provider, local(today() + timedelta(days=20), 9))
    body = as_provider.get("/schedule").text
    assert entry(body, later) is None
    next_day = (today() + timedelta(days=14)).isoformat()
    assert f'href="/schedule?day={next_day}"' in body
    assert f'href="/schedule?day={(today() - timedelta(days=14)).isoformat()}"' in body
    assert entry(as_provider.get(f"/schedule?day={next_day}").text, later) is not None


def test_an_offer_waits_for_the_providers_answer(as_provider):
    offer = hold(as_provider, local(today() + timedelta(days=2), 10), status=A.OFFERED, session_status=S.REQUESTED)
    shown = entry(as_provider.get("/schedule").text, offer)
    link = f'<a class="offer-mark" href="/sessions/{offer.session_id}">Offer — waiting for your answer</a>'
    assert link in shown


def test_a_cancelled_session_stays_with_its_reason_until_its_time_has_passed(as_provider):
    coming = hold(
        as_provider,
        utcnow() - timedelta(minutes=30),
        60,
        status=A.CANCELLED,
        session_status=S.CANCELLED,
        status_reason="Grandma is in hospital",
    )
    over = hold(
        as_provider,
        utcnow() - timedelta(minutes=90),
        60,
        status=A.CANCELLED,
        session_status=S.CANCELLED,
        status_reason="Snow day",
    )
    body = as_provider.get("/schedule?view=day").text
    shown = entry(body, coming)
    assert "badge-cancelled" in shown
    assert "Reason: Grandma is in hospital" in shown
    assert f'href="/sessions/{coming.session_id}"' in shown
    assert entry(body, over) is None
    assert "Snow day" not in body


def test_a_session_the_provider_was_taken_off_stays_marked_without_a_link(as_provider):
    changed = hold(
        as_provider,
        local(today() + timedelta(days=1), 13),
        status=A.CANCELLED,
        session_status=S.REQUESTED,
        reason="The family changed the time of the request.",
    )
    declined = hold(as_provider, local(today() + timedelta(days=2), 13), status=A.DECLINED, session_status=S.REQUESTED)
    body = as_provider.get("/schedule").text
    shown = entry(body, changed)
    assert "No longer yours" in shown
    assert "Reason: The family changed the time of the request." in shown
    assert "href=" not in shown  # its page is no longer the provider's to open
    assert entry(body, declined) is None


def test_the_days_completed_visits_stay_on_it(as_provider):
    done = hold(as_provider, utcnow() - timedelta(hours=3), 60, session_status=S.COMPLETED)
    assert "badge-completed" in entry(as_provider.get("/schedule?view=day").text, done)


# --- Day and week --------------------------------------------------------------------------------


def test_the_day_view_shows_one_local_day(as_provider):
    day = today() + timedelta(days=2)
    morning = hold(as_provider, local(day, 0, 30), 60)
    evening = hold(as_provider, local(day, 23, 0), 30)
    next_morning = hold(as_provider, local(day + timedelta(days=1), 0, 15), 30)
    body = as_provider.get(f"/schedule?view=day&day={day.isoformat()}").text
    assert day.strftime("%A %-d %B %Y") in body
    assert entry(body, morning)
    assert entry(body, evening)
    assert entry(body, next_morning) is None
    assert f'href="/schedule?view=day&amp;day={(day - timedelta(days=1)).isoformat()}"' in body
    assert f'href="/schedule?view=day&amp;day={(day + timedelta(days=1)).isoformat()}"' in body


def test_the_week_view_runs_monday_to_sunday_in_seven_days(as_provider):
    thursday = date(2026, 12, 10)
    monday, sunday = date(2026, 12, 7), date(2026, 12, 13)
    first = hold(as_provider, local(monday, 8))
    last = hold(as_provider, local(sunday, 20))
    outside = hold(as_provider, local(sunday + timedelta(days=1), 8))
    body = as_provider.get(f"/schedule?view=week&day={thursday.isoformat()}").text
    assert len(re.findall(r'<section class="schedule-day"', body)) == 7
    assert "7 – 13 December 2026" in body
    assert entry(day_section(body, monday), first)
    assert entry(day_section(body, sunday), last)
    assert entry(body, outside) is None
    assert "Nothing booked" in day_section(body, thursday)
    assert 'href="/schedule?view=week&amp;day=2026-11-30"' in body
    assert 'href="/schedule?view=week&amp;day=2026-12-14"' in body


def test_the_week_of_the_clocks_going_back_has_a_25_hour_sunday(as_provider):
    """Sunday 1 November 2026 in Chicago runs from 05:00 to 06:00 UTC the next day: 25 hours."""
    sunday = date(2026, 11, 1)
    before_change = hold(as_provider, local(sunday, 1, 30), 90)  # 01:30 CDT – 02:00 CST
    late = hold(as_provider, local(sunday, 23, 15), 30)  # 05:15 UTC on Monday: still Sunday on the clock
    monday = hold(as_provider, local(sunday + timedelta(days=1), 0, 15), 30)
    body = as_provider.get(f"/schedule?view=week&day={sunday.isoformat()}").text
    assert "26 October – 1 November 2026" in body
    section = day_section(body, sunday)
    assert "25 hours: the clocks change." in section
    assert "01:30 – 02:00" in entry(section, before_change)
    assert "23:15 – 23:45" in entry(section, late)
    assert entry(body, monday) is None
    assert body.count("the clocks change") == 1  # the other six days have 24 hours


def test_the_week_of_the_clocks_going_forward_has_a_23_hour_sunday(as_provider):
    sunday = date(2027, 3, 14)
    late = hold(as_provider, local(sunday, 23, 0), 45)
    body = as_provider.get(f"/schedule?view=week&day={sunday.isoformat()}").text
    section = day_section(body, sunday)
    assert "23 hours: the clocks change." in section
    assert "23:00 – 23:45" in entry(section, late)


def test_times_and_days_follow_the_providers_own_zone(as_provider):
    as_provider.user.timezone = "Asia/Tokyo"
    day = today() + timedelta(days=5)
    tokyo_morning = datetime.combine(day, time(9, 0), ZoneInfo("Asia/Tokyo")).astimezone(UTC)
    shown = hold(as_provider, tokyo_morning)
    body = as_provider.get(f"/schedule?view=day&day={day.isoformat()}").text
    assert "09:00 – 11:00" in entry(body, shown)


@pytest.mark.parametrize("query", ["?view=month", "?day=yesterday", "?day=0001-01-01", "?view=week&day=2026-02-30"])
def test_an_unknown_view_or_day_falls_back_to_the_agenda_from_today(as_provider, query):
    response = as_provider.get(f"/schedule{query}")
    assert response.status_code == 200
    assert 'id="schedule-live"' in response.text


# --- Navigation, the live region ------------------------------------------------------------------


def test_navigation_is_plain_links_boosted_with_htmx(as_provider):
    body = as_provider.get("/schedule?view=week&day=2026-12-10").text
    previous = re.search(r'<a id="schedule-previous"[^>]*>', body).group(0)
    assert 'href="/schedule?view=week&amp;day=2026-11-30"' in previous
    assert 'hx-get="/schedule?view=week&amp;day=2026-11-30"' in previous
    assert 'hx-target="#schedule-live"' in previous
    assert 'hx-push-url="true"' in previous
    assert re.search(r'<a id="schedule-today" href="/schedule\?view=week"', body)
    assert re.search(r'<a id="schedule-view-day" href="/schedule\?view=day&amp;day=2026-12-10"', body)
    assert re.search(r'id="schedule-view-week"[^>]*aria-current="page"', body)


def test_htmx_navigation_gets_the_region_only_and_a_history_restore_the_whole_page(as_provider):
    response = as_provider.get("/schedule?view=week&day=2026-12-10", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="schedule-live"')
    assert 'hx-get="/schedule?view=week&amp;day=2026-12-10"' in response.text
    assert 'hx-trigger="sse:session, respite:resync from:body"' in response.text
    assert "HX-Request" in response.headers["Vary"]
    restored = as_provider.get(
        "/schedule?view=week&day=2026-12-10", headers={**HTMX, "HX-History-Restore-Request": "true"}
    )
    assert "<html" in restored.text


def test_a_schedule_without_a_day_follows_the_clock(as_provider):
    region = as_provider.get("/schedule?view=day", headers=HTMX).text
    assert 'hx-get="/schedule?view=day"' in region


def test_a_change_to_a_session_refreshes_the_schedule(as_provider, as_coordinator, published):
    held = hold(as_provider, local(today() + timedelta(days=2), 10), session_status=S.REQUESTED)
    as_coordinator.post(f"/sessions/{held.session_id}/cancel", data={"reason": "Family away"})
    assert any(channel.endswith(f".user.{as_provider.user.id}") and kind == "session" for channel, kind, _ in published)
    shown = entry(as_provider.get("/schedule", headers=HTMX).text, held)
    assert "Reason: Family away" in shown


# --- Statement budgets ----------------------------------------------------------------------------


def schedule_adder(client, day):
    """Adds n ten-minute sessions on `day` (a provider can't hold overlapping ones): accepted, offers, cancelled."""
    added = [0]

    def add(n):
        for i in range(added[0], added[0] + n):
            starts = local(day, 7) + timedelta(minutes=12 * i)
            kind = i % 3
            hold(
                client,
                starts,
                10,
                status=(A.ACCEPTED, A.OFFERED, A.CANCELLED)[kind],
                session_status=(S.CONFIRMED, S.REQUESTED, S.CANCELLED)[kind],
                center=None if kind == 1 else factories.CenterFactory(),
                location_kind="home" if kind == 1 else "center",
            )
        added[0] += n

    return add


@pytest.mark.parametrize("view", ["agenda", "day", "week"])
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "region"])
def test_schedule_statement_budget(as_provider, view, headers):
    day = today() + timedelta(days=2)
    # sign-in check, the provider's profile, the assignments with their sessions, people and places
    assert_statement_budget(
        as_provider,
        f"/schedule?view={view}&day={day.isoformat()}",
        schedule_adder(as_provider, day),
        3 + page_nav(headers),
        headers=headers,
    )


def test_the_schedule_query_uses_local_midnights():
    profile = factories.ProviderProfileFactory()
    plan = services.provider_schedule(profile, "America/Chicago", view="week", day=date(2026, 11, 1))
    assert [d.day for d in plan.days] == [date(2026, 10, 26) + timedelta(days=n) for n in range(7)]
    assert [d.hours for d in plan.days] == [24, 24, 24, 24, 24, 24, 25]
    assert plan.days[-1].ends_at == datetime(2026, 11, 2, 6, tzinfo=UTC)


# --- The demo ---------------------------------------------------------------------------------------


def test_the_demo_providers_schedule_has_a_cancelled_home_visit_with_its_reason(app):
    seed_demo()
    marcus = db.session.scalar(select(User).where(User.email == "provider@demo.respite.test"))
    client = app.test_client()
    sign_in(client, marcus, DEMO_PASSWORD)
    body = client.get("/schedule").text
    assert "Elena Martinez" in body
    assert "badge-confirmed" in body
    assert "Reason: Luis is visiting that afternoon." in body
    cancelled = db.session.scalar(select(RespiteSession).where(RespiteSession.status_reason.like("Luis%")))
    assert cancelled.location_kind == "home"
