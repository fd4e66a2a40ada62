"""Who may open what: default deny, role guards, the sign-in redirect, and what each dashboard shows."""

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from respite import audit
from respite.extensions import db
from respite.models import utcnow
from respite.scheduling import services as scheduling
from tests import factories
from tests.helpers import audit_rows, sign_in

DASHBOARDS = {
    "caregiver": "/caregiver",
    "provider": "/provider",
    "coordinator": "/coordinator",
    "kiosk": "/kiosk",
}

# Every route × signed out and each role, with the answer each gets: test_access_matrix.py.

# Pages anyone may open. A new entry here is a decision, not an accident.
PUBLIC_ENDPOINTS = {
    "static",
    "dashboards.home",
    "health.healthz",
    "accounts.signup",
    "accounts.login",
    "accounts.invitation",
    "accounts.link_sent",
    "accounts.confirm_sign_up",  # the emailed link's secret is its own key
    "accounts.forgot_password",
    "accounts.reset_password",  # the emailed link's secret is its own key
    "accounts.second_step",  # answers only after the password's step, within minutes
    "realtime.stream",  # answers 401 itself when nobody is signed in
    "calendar.feed",  # a secret address is its own key; a wrong one answers 404
    "kiosk.board",  # a paired tablet's board (its device cookie is checked inside); the pairing screen without it
    "kiosk.pair",  # a pairing code is its own key; failures are throttled
}


# --- Default deny -----------------------------------------------------------


def test_every_endpoint_carries_an_access_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    without_rule = sorted(e for e in endpoints if getattr(app.view_functions[e], "access_rule", None) is None)
    assert endpoints
    assert without_rule == []


def test_only_the_expected_endpoints_are_public(app):
    public = {
        rule.endpoint for rule in app.url_map.iter_rules() if app.view_functions[rule.endpoint].access_rule == "public"
    }
    assert public == PUBLIC_ENDPOINTS


def test_a_view_without_a_rule_is_refused(app, client, monkeypatch):
    def forgotten_view():
        return "open to everyone"

    monkeypatch.setitem(app.view_functions, "dashboards.home", forgotten_view)

    response = client.get("/")

    assert response.status_code == 403
    assert "open to everyone" not in response.get_data(as_text=True)
    assert "Not allowed" in response.get_data(as_text=True)


# --- Signed out ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("current_url", "redirect"),
    [
        ("http://localhost/caregiver?tab=hours", "/login?next=%2Fcaregiver%3Ftab%3Dhours"),
        ("https://elsewhere.example/caregiver", "/login"),
        (None, "/login"),
    ],
)
def test_signed_out_htmx_request_sends_the_whole_page_to_sign_in(client, current_url, redirect):
    headers = {"HX-Request": "true"}
    if current_url:
        headers["HX-Current-URL"] = current_url

    response = client.get("/caregiver", headers=headers)

    # Not a 302: htmx would follow it and swap the sign-in page into the fragment's place.
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == redirect
    assert "Location" not in response.headers


def test_signed_out_visitor_sees_the_welcome_page(client):
    response = client.get("/")

    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Create a caregiver account" in text
    assert 'href="/login"' in text


def test_sign_out_needs_a_signed_in_user(client):
    response = client.post("/logout")

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


# --- Roles ----------------------------------------------------------------------


def test_home_sends_each_role_to_its_dashboard(client, any_role_user):
    sign_in(client, any_role_user)

    response = client.get("/")

    assert response.status_code == 302
    assert response.headers["Location"] == DASHBOARDS[any_role_user.role]


def test_refused_post_is_audited_with_its_method(as_caregiver):
    response = as_caregiver.post("/admin/invitations", data={"email": "someone@example.test"})

    assert response.status_code == 403
    (denied,) = audit_rows("access.denied")
    assert denied.meta == {"endpoint": "admin.invitations", "method": "POST"}


def test_deactivated_user_is_signed_out_on_the_next_request(as_caregiver):
    as_caregiver.user.active = False
    db.session.flush()

    response = as_caregiver.get("/caregiver")

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


# --- Dashboards show the viewer's own data ------------------------------------------


def _this_year_start(zone_name, hours=3):
    """A start an hour from now, or just past when that would fall in next year (31 December, late)."""
    now = utcnow()
    zone = ZoneInfo(zone_name)
    soon = now + timedelta(hours=1)
    if soon.astimezone(zone).year != now.astimezone(zone).year:
        return now - timedelta(hours=hours - 1)
    return soon


def test_caregiver_sees_recipients_sessions_and_hours_left(as_caregiver):
    profile = as_caregiver.user.caregiver_profile
    elena = factories.CareRecipientFactory(caregiver=profile, first_name="Elena", last_name="Martinez")
    start = _this_year_start(as_caregiver.user.timezone)
    factories.RespiteSessionFactory(
        recipient=elena, center__name="Maple House", starts_at=start, ends_at=start + timedelta(hours=3)
    )
    # A cancelled session uses no hours and is not coming up.
    factories.RespiteSessionFactory(
        recipient=elena, status="cancelled", starts_at=start, ends_at=start + timedelta(hours=2)
    )
    factories.CareRecipientFactory(caregiver=profile, first_name="Retired", last_name="Person", active=False)

    text = as_caregiver.get("/caregiver").get_data(as_text=True)

    assert "Elena Martinez" in text
    assert "Maple House" in text
    assert "Cancelled" not in text
    assert "Retired Person" not in text
    assert '<p class="stat-value">97 h</p>' in text  # 100 h allotted, 3 h booked
    assert "of 100 h allotted" in text


def test_caregiver_never_sees_another_familys_data(as_caregiver):
    other = factories.CareRecipientFactory(first_name="Zebedee", last_name="Stranger")
    factories.RespiteSessionFactory(recipient=other, center__name="Elsewhere Center")

    text = as_caregiver.get("/caregiver").get_data(as_text=True)

    assert "Zebedee" not in text
    assert "Elsewhere Center" not in text
    assert '<p class="stat-value">100 h</p>' in text
    assert "No respite booked yet" in text


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Tokyo", "Mon 2 Mar 2099, 10:30 – 13:00"),  # 01:30 UTC is 10:30 in Tokyo
        ("Mars/Olympus_Mons", "Mon 2 Mar 2099, 01:30 – 04:00"),  # an unknown stored zone falls back to UTC
    ],
)
def test_caregiver_sees_times_in_their_own_zone(as_caregiver, zone, shown):
    as_caregiver.user.timezone = zone
    db.session.flush()
    recipient = factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
    factories.RespiteSessionFactory(
        recipient=recipient,
        starts_at=datetime(2099, 3, 2, 1, 30, tzinfo=UTC),
        ends_at=datetime(2099, 3, 2, 4, 0, tzinfo=UTC),
    )

    response = as_caregiver.get("/caregiver")

    assert response.status_code == 200
    text = " ".join(response.get_data(as_text=True).replace("<strong>", "").replace("</strong>", "").split())
    assert shown in text


def test_hours_left_count_only_this_years_sessions():
    profile = factories.CaregiverProfileFactory(annual_allotment_minutes=10 * 60)
    recipient = factories.CareRecipientFactory(caregiver=profile)
    now = datetime(2030, 6, 15, 12, tzinfo=UTC)
    for starts_at, minutes, status in [
        (datetime(2030, 2, 1, 9, tzinfo=UTC), 150, "completed"),
        (datetime(2030, 7, 1, 9, tzinfo=UTC), 60, "requested"),
        (datetime(2030, 3, 1, 9, tzinfo=UTC), 240, "cancelled"),
        (datetime(2029, 12, 31, 9, tzinfo=UTC), 240, "completed"),
        (datetime(2031, 1, 2, 9, tzinfo=UTC), 240, "confirmed"),
    ]:
        factories.RespiteSessionFactory(
            recipient=recipient, starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), status=status
        )

    assert scheduling.minutes_used_this_year(profile, "UTC", now) == 210
    assert scheduling.minutes_left_this_year(profile, "UTC", now) == 390


def test_hours_left_never_go_below_zero():
    profile = factories.CaregiverProfileFactory(annual_allotment_minutes=60)
    now = datetime(2030, 6, 15, 12, tzinfo=UTC)
    factories.RespiteSessionFactory(
        recipient__caregiver=profile, starts_at=now, ends_at=now + timedelta(hours=5), status="completed"
    )

    assert scheduling.minutes_left_this_year(profile, "UTC", now) == 0


def test_the_year_follows_the_caregivers_zone():
    profile = factories.CaregiverProfileFactory(annual_allotment_minutes=600)
    # 05:00 UTC on 1 January is still New Year's Eve in Chicago.
    starts_at = datetime(2030, 1, 1, 5, tzinfo=UTC)
    factories.RespiteSessionFactory(
        recipient__caregiver=profile, starts_at=starts_at, ends_at=starts_at + timedelta(hours=1), status="completed"
    )
    mid_2030 = datetime(2030, 6, 1, tzinfo=UTC)

    assert scheduling.minutes_used_this_year(profile, "UTC", mid_2030) == 60
    assert scheduling.minutes_used_this_year(profile, "America/Chicago", mid_2030) == 0


def test_provider_sees_their_own_assignments(as_provider):
    mine = factories.AssignmentFactory(
        provider=as_provider.user.provider_profile,
        session__recipient__first_name="Walter",
        session__recipient__last_name="Ashby",
    )
    factories.AssignmentFactory(
        provider=as_provider.user.provider_profile,
        status="declined",
        session__recipient__first_name="Declined",
        session__recipient__last_name="Visit",
        session__starts_at=mine.starts_at + timedelta(days=1),
    )
    factories.AssignmentFactory(session__recipient__first_name="Someone", session__recipient__last_name="Else")

    text = as_provider.get("/provider").get_data(as_text=True)

    assert "Walter Ashby" in text
    assert mine.session.center.name in text
    assert "Declined Visit" not in text
    assert "Someone Else" not in text


def test_provider_without_a_profile_sees_an_empty_list(client):
    provider = factories.UserFactory(role="provider")
    sign_in(client, provider)

    response = client.get("/provider")

    assert response.status_code == 200
    assert "No sessions coming up yet" in response.get_data(as_text=True)


def test_coordinator_sees_the_request_queue_and_counts(as_coordinator):
    factories.RespiteSessionFactory(
        recipient__first_name="Queued", recipient__last_name="First", request_notes="Morning appointment"
    )
    factories.RespiteSessionFactory(recipient__first_name="Queued", recipient__last_name="Second")
    factories.RespiteSessionFactory(status="confirmed", recipient__first_name="Already", recipient__last_name="Booked")

    text = as_coordinator.get("/coordinator").get_data(as_text=True)

    assert "Queued First" in text
    assert "Queued Second" in text
    assert "Morning appointment" in text
    assert "Already Booked" not in text
    assert '<p class="stat-value">2</p><p class="stat-label">Waiting for a provider</p>' in text
    assert '<p class="stat-value">1</p><p class="stat-label">Confirmed</p>' in text
    assert '<p class="stat-value">0</p><p class="stat-label">Completed</p>' in text


def test_coordinator_sees_recent_activity(as_coordinator):
    session = factories.RespiteSessionFactory()
    audit.record("session.cancel", session, actor=as_coordinator.user, meta={"reason": "Snowed in"})

    text = as_coordinator.get("/coordinator").get_data(as_text=True)

    assert f'{escape(as_coordinator.user.display_name)} cancelled <a href="/sessions/{session.id}">' in text
    assert ": Snowed in" in text
    assert "signed in</li>" not in text  # sign-ins are in the audit log, not here
    assert 'href="/admin/audit"' in text


def test_time_filters_show_nothing_for_no_time_and_hours_with_minutes(app):
    localtime, hours = app.jinja_env.filters["localtime"], app.jinja_env.filters["hours"]

    assert localtime(None) == ""
    assert hours(150) == "2 h 30 min"
    assert hours(None) == "0 h"
