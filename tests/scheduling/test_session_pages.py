"""The sessions page and a session's own page: who may open them, what they show, live regions and statement budgets."""

import re
from datetime import time, timedelta

import pytest

from respite import audit
from respite.extensions import db
from respite.models import AssignmentStatus, Role, SessionStatus, utcnow
from respite.scheduling import services
from respite.timefmt import zone_or_utc
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, page_nav

S = SessionStatus
A = AssignmentStatus
HTMX = {"HX-Request": "true"}


def own_recipient(client):
    return factories.CareRecipientFactory(caregiver=client.user.caregiver_profile)


def in_days(days, **extra):
    starts = utcnow() + timedelta(days=days)
    return factories.RespiteSessionFactory(starts_at=starts, ends_at=starts + timedelta(hours=2), **extra)


# --- Who may open them --------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in(client):
    session = factories.RespiteSessionFactory()
    for path in ("/sessions", f"/sessions/{session.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("client_fixture", ["as_coordinator", "as_kiosk"])
def test_the_sessions_page_is_for_families_and_providers(request, client_fixture):
    assert request.getfixturevalue(client_fixture).get("/sessions").status_code == 403


def test_a_kiosk_never_opens_a_session_page_even_at_its_own_center(as_kiosk):
    session = factories.RespiteSessionFactory(center=as_kiosk.user.center, status=S.CONFIRMED)
    assert as_kiosk.get(f"/sessions/{session.id}").status_code == 403
    assert audit_rows("access.denied")[-1].meta["endpoint"] == "scheduling.session"


@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_provider", "as_coordinator"])
def test_an_unknown_session_is_not_found(request, client_fixture):
    assert request.getfixturevalue(client_fixture).get("/sessions/999999").status_code == 404


@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_provider"])
def test_someone_elses_session_is_not_found(request, client_fixture):
    session = factories.AssignmentFactory().session  # another family's, another provider's
    client = request.getfixturevalue(client_fixture)
    assert client.get(f"/sessions/{session.id}").status_code == 404
    assert client.get(f"/sessions/{session.id}", headers=HTMX).status_code == 404


@pytest.mark.parametrize(("status", "found"), [(A.OFFERED, True), (A.ACCEPTED, True), (A.DECLINED, False)])
def test_a_provider_opens_the_sessions_they_hold(as_provider, status, found):
    assignment = factories.AssignmentFactory(provider=as_provider.user.provider_profile, status=status)
    assert as_provider.get(f"/sessions/{assignment.session_id}").status_code == (200 if found else 404)


def test_the_family_and_a_coordinator_open_it(as_caregiver, as_coordinator):
    session = factories.RespiteSessionFactory(recipient=own_recipient(as_caregiver))
    assert as_caregiver.get(f"/sessions/{session.id}").status_code == 200
    assert as_coordinator.get(f"/sessions/{session.id}").status_code == 200


def test_the_sessions_page_lists_only_the_viewers_own(as_caregiver):
    mine = in_days(1, recipient=own_recipient(as_caregiver))
    theirs = in_days(2)
    body = as_caregiver.get("/sessions").text
    assert f'id="session-{mine.id}"' in body
    assert f'id="session-{theirs.id}"' not in body
    assert theirs.recipient.full_name not in body


# --- What the sessions page shows ------------------------------------------------------------


def test_coming_sessions_with_who_is_coming_and_a_history_with_reasons(as_caregiver):
    recipient = own_recipient(as_caregiver)
    coming = in_days(1, recipient=recipient, status=S.CONFIRMED)
    provider = factories.AssignmentFactory(session=coming, provider__user__display_name="Ben Okafor").provider
    cancelled = in_days(2, recipient=recipient, status=S.CANCELLED, status_reason="Grandma visits")
    declined = in_days(-3, recipient=recipient, status=S.DECLINED, status_reason="No one free")
    completed = in_days(-5, recipient=recipient, status=S.COMPLETED)
    body = as_caregiver.get("/sessions").text
    coming_part, history_part = body.split('id="history-heading"')
    assert f'id="session-{coming.id}"' in coming_part
    assert provider.user.display_name in coming_part
    assert f'href="/sessions/{coming.id}"' in coming_part
    for past in (cancelled, declined, completed):
        assert f'id="session-{past.id}"' in history_part
    assert history_part.index(f"session-{cancelled.id}") < history_part.index(f"session-{completed.id}")
    assert "Grandma visits" in history_part
    assert "No one free" in history_part
    assert "badge-cancelled" in history_part
    assert "badge-declined" in history_part


def test_the_family_sees_its_hours_left_on_the_sessions_page(as_caregiver):
    profile = as_caregiver.user.caregiver_profile
    profile.annual_allotment_minutes = 10 * 60
    in_days(1, recipient=own_recipient(as_caregiver))  # 2 hours
    region = as_caregiver.get("/sessions", headers=HTMX).text
    assert "Respite hours left this year" in region
    assert "8 h" in region


def test_a_providers_sessions_page_shows_what_they_hold(as_provider):
    held = factories.AssignmentFactory(provider=as_provider.user.provider_profile).session
    body = as_provider.get("/sessions").text
    assert f'id="session-{held.id}"' in body
    assert "Respite hours left" not in body


def test_history_pages_link_to_each_other_and_the_region_keeps_its_page(as_caregiver):
    recipient = own_recipient(as_caregiver)
    for day in range(1, 23):
        in_days(-day, recipient=recipient, status=S.COMPLETED)
    first = as_caregiver.get("/sessions").text
    assert 'href="/sessions?page=2">Older' in first
    second = as_caregiver.get("/sessions?page=2", headers=HTMX).text
    assert 'hx-get="/sessions?page=2"' in second
    assert 'href="/sessions">Newer' in second
    assert len(re.findall(r'<tr role="row" id="session-', second)) == 2


def test_the_sessions_page_region_answers_htmx_alone_and_refetches_on_session_events(as_caregiver):
    response = as_caregiver.get("/sessions", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert 'id="sessions-live"' in response.text
    assert 'hx-trigger="sse:session, respite:resync from:body"' in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert "<html" in as_caregiver.get("/sessions").text


# --- What a session's page shows ----------------------------------------------------------


def test_the_session_page_shows_the_person_time_place_provider_notes_and_timeline(as_caregiver, as_coordinator):
    center = factories.CenterFactory(name="Maple House", address="12 Maple Road")
    session = in_days(1, recipient=own_recipient(as_caregiver), center=center, request_notes="Likes jigsaws")
    factories.AssignmentFactory(session=session, provider__user__display_name="Ben Okafor")
    audit.record("session.request", session, actor=as_caregiver.user)
    audit.record("session.confirm", session, actor=as_coordinator.user)
    body = as_caregiver.get(f"/sessions/{session.id}").text
    for shown in (session.recipient.full_name, "Maple House", "12 Maple Road", "Ben Okafor", "Likes jigsaws"):
        assert shown in body
    assert "Requested</strong> by you" in body
    assert f"Confirmed</strong> by {as_coordinator.user.display_name} (coordinator)" in body
    assert "times in America/Chicago" in body


def test_a_home_session_shows_its_address(as_caregiver):
    session = in_days(1, recipient=own_recipient(as_caregiver), center=None, location_kind="home", address="4 Elm Row")
    body = as_caregiver.get(f"/sessions/{session.id}").text
    assert "At home" in body
    assert "4 Elm Row" in body


def test_times_are_in_the_viewers_zone(as_caregiver, as_coordinator):
    session = factories.RespiteSessionFactory(
        recipient=own_recipient(as_caregiver),
        starts_at=utcnow().replace(year=utcnow().year + 1, month=1, day=15, hour=15, minute=0, second=0, microsecond=0),
    )
    session.ends_at = session.starts_at + timedelta(hours=2)
    as_coordinator.user.timezone = "Europe/Berlin"
    db.session.flush()
    assert "09:00 – 11:00" in as_caregiver.get(f"/sessions/{session.id}").text  # Chicago, winter
    assert "16:00 – 18:00" in as_coordinator.get(f"/sessions/{session.id}").text  # Berlin, winter


def test_cancelling_from_the_session_page_shows_the_reason_everywhere(as_caregiver, as_coordinator):
    session = in_days(1, recipient=own_recipient(as_caregiver))
    page = as_caregiver.get(f"/sessions/{session.id}").text
    assert f'action="/sessions/{session.id}/cancel"' in page
    assert 'name="reason"' in page
    assert 'name="return_to" value="session"' in page
    response = as_caregiver.post(
        f"/sessions/{session.id}/cancel",
        data={"reason": "Plans changed", "version": session.version, "return_to": "session"},
    )
    assert response.headers["Location"] == f"/sessions/{session.id}"  # back where the form was
    after = as_caregiver.get(f"/sessions/{session.id}").text
    assert f'action="/sessions/{session.id}/cancel"' not in after
    assert "badge-cancelled" in after
    assert "Reason: Plans changed" in after
    assert "Cancelled</strong> by you" in after
    seen_by_coordinator = as_coordinator.get(f"/sessions/{session.id}").text
    assert f"Cancelled</strong> by {as_caregiver.user.display_name} (family)" in seen_by_coordinator


def test_a_provider_sees_a_cancelled_session_and_its_reason_on_the_dashboard_and_its_page(as_provider, as_coordinator):
    assignment = factories.AssignmentFactory(provider=as_provider.user.provider_profile)
    session = assignment.session
    as_coordinator.post(f"/sessions/{session.id}/cancel", data={"reason": "Snow day"})
    dashboard = as_provider.get("/provider", headers=HTMX).text
    assert f'href="/sessions/{session.id}"' in dashboard
    assert "badge-cancelled" in dashboard
    assert "Snow day" in dashboard
    page = as_provider.get(f"/sessions/{session.id}").text
    assert "Reason: Snow day" in page
    assert f"Cancelled</strong> by {as_coordinator.user.display_name} (coordinator)" in page


def test_every_list_leads_to_the_session_page(as_caregiver, as_coordinator):
    session = in_days(1, recipient=own_recipient(as_caregiver))
    link = f'href="/sessions/{session.id}"'
    assert link in as_caregiver.get("/caregiver").text
    assert 'href="/sessions"' in as_caregiver.get("/caregiver").text
    assert link in as_caregiver.get("/sessions").text
    # A coordinator's dashboard leads to the request's panel (respite.matching), and that to the session page.
    assert f'href="/queue/{session.id}"' in as_coordinator.get("/coordinator").text
    assert link in as_coordinator.get(f"/queue/{session.id}").text


def test_the_session_page_region_answers_htmx_alone(as_caregiver):
    session = in_days(1, recipient=own_recipient(as_caregiver))
    response = as_caregiver.get(f"/sessions/{session.id}", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert f'hx-get="/sessions/{session.id}"' in response.text
    assert 'hx-trigger="sse:session, respite:resync from:body"' in response.text
    assert "hx-preserve" in response.text  # a reason being typed survives a refresh
    assert "HX-Request" in response.headers["Vary"]


# --- Hours left, live ---------------------------------------------------------------------


def test_a_cancel_tells_the_familys_open_pages_and_they_show_the_new_hours(as_caregiver, published):
    profile = as_caregiver.user.caregiver_profile
    profile.annual_allotment_minutes = 10 * 60
    session = in_days(1, recipient=own_recipient(as_caregiver))
    assert "8 h" in as_caregiver.get("/caregiver", headers=HTMX).text
    as_caregiver.post(f"/sessions/{session.id}/cancel", data={"version": session.version})
    assert any(
        channel.endswith(f".user.{as_caregiver.user.id}") and kind == "session" for channel, kind, _ in published
    )
    for path in ("/caregiver", "/sessions"):
        region = as_caregiver.get(path, headers=HTMX).text
        assert 'hx-trigger="sse:session' in region
        assert "10 h" in region


def test_a_new_request_tells_the_familys_open_pages_and_they_show_the_new_hours(as_caregiver, published):
    profile = as_caregiver.user.caregiver_profile
    profile.annual_allotment_minutes = 100 * 60
    recipient = own_recipient(as_caregiver)
    center = factories.CenterFactory()
    zone = zone_or_utc(as_caregiver.user.timezone)
    today = utcnow().astimezone(zone).date()
    day = today + timedelta(days=2)
    expected = "97 h" if day.year == today.year else "100 h"  # late December: next year's hours
    details = services.RequestDetails(
        recipient_id=recipient.id, day=day, start=time(10, 0), minutes=180, center_id=center.id
    )
    services.request_sessions(as_caregiver.user, details)
    db.session.commit()
    assert any(
        channel.endswith(f".user.{as_caregiver.user.id}") and kind == "session" for channel, kind, _ in published
    )
    for path in ("/caregiver", "/sessions"):
        assert expected in as_caregiver.get(path, headers=HTMX).text


# --- Statement budgets --------------------------------------------------------------------


def add_family_sessions(client, n):
    """n coming sessions, each with a provider, and n past ones (one person's sessions never overlap)."""
    recipient = own_recipient(client)
    for day in range(1, n + 1):
        factories.AssignmentFactory(session=in_days(day, recipient=recipient, status=S.CONFIRMED))
        factories.AssignmentFactory(session=in_days(-2, recipient=recipient, status=S.COMPLETED))


def provider_session_adder(client):
    """Adds n coming and n past sessions held by the client's provider, one a day (a provider can't double book)."""
    profile, days = client.user.provider_profile, [0]

    def add(n):
        for day in range(days[0] + 1, days[0] + n + 1):
            factories.AssignmentFactory(provider=profile, session=in_days(day))
            factories.AssignmentFactory(provider=profile, session=in_days(-day, status=S.COMPLETED))
        days[0] += n

    return add


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "region"])
def test_sessions_page_statement_budget_for_a_family(as_caregiver, headers):
    # sign-in check, the family's profile, hours used, coming, history and its count, providers
    assert_statement_budget(
        as_caregiver,
        "/sessions",
        lambda n: add_family_sessions(as_caregiver, n),
        7 + page_nav(headers),
        headers=headers,
    )


def test_sessions_page_statement_budget_for_a_provider(as_provider):
    assert_statement_budget(as_provider, "/sessions", provider_session_adder(as_provider), 5 + NAV)


@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_coordinator"])
def test_session_page_statement_budget_with_a_long_timeline(request, as_caregiver, client_fixture):
    client = request.getfixturevalue(client_fixture)
    session = in_days(1, recipient=own_recipient(as_caregiver), status=S.CONFIRMED)
    actors = [as_caregiver.user, factories.UserFactory(role=Role.COORDINATOR)]

    def add_history(n):
        for i in range(n):
            factories.AssignmentFactory(session=session)
            audit.record("session.edit", session, actor=actors[i % 2], meta={"reason": f"change {i}"})

    # sign-in check, the session (scoped), its details, providers, timeline, whom to message about it
    assert_statement_budget(client, f"/sessions/{session.id}", add_history, 6 + NAV)


@pytest.mark.parametrize("page", ["0", "-3", str(10**30), "many"])
def test_a_page_number_out_of_range_shows_a_page_not_an_error(as_caregiver, page):
    assert as_caregiver.get(f"/sessions?page={page}").status_code == 200
