"""Calendar feeds: a secret address turned on, renewed and off from the account page; the feed parsed back."""

import re
from datetime import timedelta

import pytest
from icalendar import Calendar

from respite.calendar import services
from respite.extensions import db
from respite.models import AssignmentStatus, SessionStatus, utcnow
from tests import factories
from tests.helpers import assert_statement_budget, audit_rows

S = SessionStatus
A = AssignmentStatus
FEED_LINK = re.compile(r"https?://[^/\s\"<]+(/calendar/[A-Za-z0-9_-]+\.ics)")


def turn_on(client):
    """POST the account page's button; return the feed's path from the one-time answer."""
    response = client.post("/account/calendar")
    assert response.status_code == 200
    return FEED_LINK.search(response.text).group(1)


def parse(response):
    assert response.status_code == 200
    return Calendar.from_ical(response.data)


def events(calendar):
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def in_days(days, **extra):
    starts = (utcnow() + timedelta(days=days)).replace(microsecond=0)
    return factories.RespiteSessionFactory(starts_at=starts, ends_at=starts + timedelta(hours=3), **extra)


# --- Turning it on, anew and off -------------------------------------------------------------


def test_the_account_page_offers_the_feed_and_the_address_is_shown_once(as_caregiver, client):
    page = as_caregiver.get("/account").text
    assert "Turn on the calendar feed" in page
    response = as_caregiver.post("/account/calendar")
    path = FEED_LINK.search(response.text).group(1)
    assert f"webcal://localhost{path}" in response.text
    assert "make a new address" in response.text
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    db.session.refresh(as_caregiver.user)
    assert as_caregiver.user.calendar_token_hash == services.token_hash(token)
    page = as_caregiver.get("/account").text
    assert "Your calendar feed is on" in page
    assert token not in page  # only its hash is kept
    assert client.get(path).status_code == 200  # no cookies needed
    (row,) = audit_rows("calendar.enable")
    assert row.actor_id == as_caregiver.user.id
    assert row.meta == {"renewed": False}


def test_the_address_is_on_the_configured_base_url_not_the_requests_host(app, as_caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "BASE_URL", "https://respite.example.org")
    response = as_caregiver.post("/account/calendar")  # served on localhost
    assert re.search(r">https://respite\.example\.org/calendar/[A-Za-z0-9_-]+\.ics<", response.text)
    assert re.search(r'"webcal://respite\.example\.org/calendar/[A-Za-z0-9_-]+\.ics"', response.text)
    assert "localhost/calendar" not in response.text


def test_a_new_address_stops_the_old_one(as_provider, client):
    old = turn_on(as_provider)
    new = turn_on(as_provider)
    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert [row.meta["renewed"] for row in audit_rows("calendar.enable")] == [False, True]


def test_turning_it_off_makes_the_address_answer_404(as_coordinator, client):
    path = turn_on(as_coordinator)
    response = as_coordinator.post("/account/calendar/off", follow_redirects=True)
    assert "Your calendar feed is off" in response.text
    assert "Turn on the calendar feed" in response.text
    assert client.get(path).status_code == 404
    assert len(audit_rows("calendar.revoke")) == 1
    as_coordinator.post("/account/calendar/off")  # already off: nothing to record
    assert len(audit_rows("calendar.revoke")) == 1


def test_wrong_tokens_and_inactive_users_get_404(as_caregiver, client):
    path = turn_on(as_caregiver)
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404
    assert client.get(path.replace(".ics", "x.ics")).status_code == 404
    as_caregiver.user.active = False
    db.session.flush()
    assert client.get(path).status_code == 404


def test_a_kiosk_has_no_feed(as_kiosk, client):
    assert as_kiosk.post("/account/calendar").status_code == 403
    kiosk = as_kiosk.user
    kiosk.calendar_token_hash = services.token_hash("kiosk-token")
    db.session.flush()
    assert client.get("/calendar/kiosk-token.ics").status_code == 404
    with pytest.raises(PermissionError):
        services.enable_feed(kiosk)
    assert services.feed_sessions(kiosk) == []


def test_signed_out_visitors_can_not_turn_a_feed_on(client):
    assert client.post("/account/calendar").status_code == 302


# --- What the feed holds ----------------------------------------------------------------------


def test_a_familys_feed_holds_its_sessions_with_statuses_in_utc(as_caregiver, client):
    user = as_caregiver.user
    user.timezone = "Europe/Berlin"
    recipient = factories.CareRecipientFactory(caregiver=user.caregiver_profile, first_name="Elena")
    requested = in_days(2, recipient=recipient, request_notes="Likes jigsaws")
    confirmed = in_days(3, recipient=recipient, status=S.CONFIRMED)
    factories.AssignmentFactory(session=confirmed, provider__user__display_name="Ben Okafor")
    cancelled = in_days(4, recipient=recipient, status=S.CANCELLED, status_reason="Flu")
    declined = in_days(5, recipient=recipient, status=S.DECLINED)
    completed = in_days(-10, recipient=recipient, status=S.COMPLETED)
    too_old = in_days(-100, recipient=recipient, status=S.COMPLETED)
    someone_elses = in_days(2)
    home = in_days(6, recipient=recipient, center=None, location_kind="home", address="4 Elm Row")

    response = client.get(turn_on(as_caregiver))
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, max-age=300"
    calendar = parse(response)
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"
    assert str(calendar["X-WR-CALNAME"]) == "Respite sessions"
    assert str(calendar["VERSION"]) == "2.0"
    found = events(calendar)
    expected = {requested: "TENTATIVE", confirmed: "CONFIRMED", cancelled: "CANCELLED", declined: "CANCELLED"}
    expected[completed] = "CONFIRMED"
    expected[home] = "TENTATIVE"
    assert set(found) == {f"session-{s.id}@respite" for s in expected}
    for session, status in expected.items():
        event = found[f"session-{session.id}@respite"]
        assert str(event["STATUS"]) == status
        assert event.decoded("DTSTART") == session.starts_at
        assert event.decoded("DTSTART").tzinfo.utcoffset(None) == timedelta(0)
        assert event.decoded("DTEND") == session.ends_at
        assert str(event["SUMMARY"]) == "Respite for Elena"
        assert int(event["SEQUENCE"]) == session.version - 1
        assert event.decoded("LAST-MODIFIED").replace(microsecond=0) == session.updated_at.replace(microsecond=0)
    assert re.search(r"DTSTART:\d{8}T\d{6}Z", response.text)  # UTC, not a local time
    assert f"session-{too_old.id}@respite" not in found
    assert f"session-{someone_elses.id}@respite" not in found
    confirmed_event = found[f"session-{confirmed.id}@respite"]
    assert "Provider: Ben Okafor" in str(confirmed_event["DESCRIPTION"])
    assert "Likes jigsaws" in str(found[f"session-{requested.id}@respite"]["DESCRIPTION"])
    assert "Cancelled: Flu" in str(found[f"session-{cancelled.id}@respite"]["DESCRIPTION"])
    assert str(confirmed_event["LOCATION"]) == f"{confirmed.center.name}, {confirmed.center.address}"
    assert str(found[f"session-{home.id}@respite"]["LOCATION"]) == "4 Elm Row"
    assert str(confirmed_event["URL"]).endswith(f"/sessions/{confirmed.id}")


def test_a_providers_feed_holds_the_sessions_they_hold(as_provider, client):
    profile = as_provider.user.provider_profile
    accepted = factories.AssignmentFactory(provider=profile, session=in_days(1, status=S.CONFIRMED)).session
    offered = factories.AssignmentFactory(provider=profile, session=in_days(2), status=A.OFFERED).session
    cancelled = factories.AssignmentFactory(
        provider=profile, session=in_days(3, status=S.CANCELLED), status=A.CANCELLED
    ).session
    declined = factories.AssignmentFactory(provider=profile, session=in_days(4), status=A.DECLINED).session
    found = events(parse(client.get(turn_on(as_provider))))
    assert set(found) == {f"session-{s.id}@respite" for s in (accepted, offered, cancelled)}
    assert f"session-{declined.id}@respite" not in found
    event = found[f"session-{accepted.id}@respite"]
    assert str(event["SUMMARY"]) == f"Respite: {accepted.recipient.short_name}"
    assert f"Family: {accepted.caregiver.full_name}" in str(event["DESCRIPTION"])
    assert str(found[f"session-{cancelled.id}@respite"]["STATUS"]) == "CANCELLED"


def test_a_coordinators_feed_holds_the_programs_coming_sessions(as_coordinator, client):
    coming = [in_days(1), in_days(2, status=S.CONFIRMED)]
    past = in_days(-2, status=S.COMPLETED)
    found = events(parse(client.get(turn_on(as_coordinator))))
    assert set(found) == {f"session-{s.id}@respite" for s in coming}
    assert f"session-{past.id}@respite" not in found
    assert str(found[f"session-{coming[0].id}@respite"]["SUMMARY"]) == f"Respite: {coming[0].recipient.short_name}"


def test_the_feed_reads_a_fixed_number_of_statements(as_caregiver, client):
    path = turn_on(as_caregiver)
    profile = as_caregiver.user.caregiver_profile

    def add_sessions(n):
        recipient = factories.CareRecipientFactory(caregiver=profile)  # one person's sessions never overlap
        for day in range(1, n + 1):
            factories.AssignmentFactory(session=in_days(day, recipient=recipient, status=S.CONFIRMED))

    # the user by token, the sessions, who is coming
    assert_statement_budget(client, path, add_sessions, 3)


def test_a_feed_of_no_sessions_is_still_a_calendar(as_coordinator, client):
    calendar = parse(client.get(turn_on(as_coordinator)))
    assert calendar.walk("VEVENT") == []
    assert str(calendar["PRODID"]) == services.PRODID
