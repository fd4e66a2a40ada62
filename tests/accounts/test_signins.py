"""Sign-ins the server ends: a copied cookie dies with sign-out, a new password or email; nothing lengthens one."""

import time

import pytest

from respite import realtime
from respite.accounts import signins
from respite.extensions import db
from tests.helpers import TEST_PASSWORD, sign_in

NEW_PASSWORD = "a different long passphrase"


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie (as a thief would)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def signed_in(client, path="/caregiver"):
    return client.get(path).status_code == 200


def test_a_copied_cookie_works_only_while_its_sign_in_lasts(app, as_caregiver):
    thief = copy_of(app, as_caregiver)
    assert signed_in(thief)
    as_caregiver.post("/logout")
    assert not signed_in(as_caregiver)
    assert not signed_in(thief)


def test_signing_out_ends_the_sign_ins_on_every_device(app, caregiver):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, caregiver)
    sign_in(laptop, caregiver)
    phone.post("/logout")
    assert not signed_in(laptop)


def test_a_new_password_ends_every_other_sign_in_and_keeps_this_one(app, as_caregiver):
    thief = copy_of(app, as_caregiver)
    response = as_caregiver.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert signed_in(as_caregiver)
    assert not signed_in(thief)


def test_a_new_email_ends_every_other_sign_in_and_keeps_this_one(app, as_caregiver):
    thief = copy_of(app, as_caregiver)
    user = as_caregiver.user
    as_caregiver.post(
        "/account",
        data={
            "display_name": user.display_name,
            "email": "new.address@example.org",
            "timezone": user.timezone,
            "current_password": TEST_PASSWORD,
        },
    )
    assert signed_in(as_caregiver)
    assert not signed_in(thief)


def test_other_changes_leave_other_sign_ins_alone(app, as_caregiver):
    laptop = copy_of(app, as_caregiver)
    user = as_caregiver.user
    as_caregiver.post("/account", data={"display_name": "Rosa M.", "email": user.email, "timezone": user.timezone})
    assert signed_in(laptop)


def test_a_deactivated_account_is_signed_out_at_once(as_caregiver):
    as_caregiver.user.active = False
    db.session.flush()
    assert not signed_in(as_caregiver)


def test_a_sign_in_ends_its_lifetime_after_it_began_whatever_was_saved_since(app, as_caregiver, monkeypatch):
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"].total_seconds()
    user = as_caregiver.user
    # Saving details re-signs the cookie; the sign-in's start stays where it was.
    as_caregiver.post("/account", data={"display_name": "Rosa M.", "email": user.email, "timezone": user.timezone})
    started = time.time()
    monkeypatch.setattr(signins.time, "time", lambda: started + lifetime - 5)
    assert signed_in(as_caregiver)
    monkeypatch.setattr(signins.time, "time", lambda: started + lifetime + 5)
    assert not signed_in(as_caregiver)


@pytest.mark.parametrize("key", [signins.GENERATION, signins.STARTED])
def test_a_session_without_its_sign_in_facts_is_not_signed_in(as_caregiver, key):
    with as_caregiver.session_transaction() as session:
        del session[key]
    assert not signed_in(as_caregiver)


def test_each_sign_in_starts_a_fresh_session_with_a_new_csrf_token(app, client, caregiver):
    client.get("/login")
    with client.session_transaction() as session:
        session["csrf_token"] = "planted-before-sign-in"
        session["left_over"] = "from someone else"
    sign_in(client, caregiver)
    with client.session_transaction() as session:
        assert session.get("csrf_token") != "planted-before-sign-in"
        assert "left_over" not in session


def test_ending_every_sign_in_closes_open_streams(app, as_caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "SSE_STREAM_MAX_SECONDS", 5.0)
    stream = as_caregiver.get("/events", buffered=False)
    started = time.monotonic()
    signins.end_every_sign_in(as_caregiver.user)
    db.session.commit()
    body = b"".join(stream.response).decode()
    assert time.monotonic() - started < 3  # ended by the event, not by its lifetime
    assert realtime.EventType.SIGNED_OUT not in body


# --- Staff are signed out when idle ------------------------------------------------------------------


def test_a_provider_is_signed_out_after_half_an_hour_without_activity(app, as_provider, monkeypatch):
    idle = app.config["STAFF_IDLE_MINUTES"] * 60
    started = time.time()
    monkeypatch.setattr(signins.time, "time", lambda: started + idle - 60)
    assert signed_in(as_provider, "/provider")  # a page load is activity: the half hour starts again
    monkeypatch.setattr(signins.time, "time", lambda: started + 2 * idle - 120)
    assert signed_in(as_provider, "/provider")
    monkeypatch.setattr(signins.time, "time", lambda: started + 3 * idle)

    response = as_provider.get("/provider", follow_redirects=True)

    assert response.request.path == "/login"
    assert "You were signed out after 30 minutes without activity." in response.text


def test_a_live_region_refreshing_itself_is_not_activity(app, as_coordinator, monkeypatch):
    idle = app.config["STAFF_IDLE_MINUTES"] * 60
    started = time.time()
    monkeypatch.setattr(signins.time, "time", lambda: started + idle - 60)
    assert as_coordinator.get("/coordinator", headers={"HX-Request": "true"}).status_code == 200
    monkeypatch.setattr(signins.time, "time", lambda: started + idle + 1)
    assert not signed_in(as_coordinator, "/coordinator")


def test_caregivers_are_not_timed_out_for_idleness(app, as_caregiver, monkeypatch):
    started = time.time()
    monkeypatch.setattr(signins.time, "time", lambda: started + 3 * 3600)
    assert signed_in(as_caregiver)


def test_staff_pages_carry_the_idle_warning_and_stay_signed_in_counts_as_activity(app, as_provider, monkeypatch):
    page = as_provider.get("/provider").text
    assert 'data-idle-minutes="30"' in page
    assert 'class="idle-warning" role="alert" hidden' in page
    idle = app.config["STAFF_IDLE_MINUTES"] * 60
    started = time.time()
    monkeypatch.setattr(signins.time, "time", lambda: started + idle - 60)
    assert as_provider.post("/keep-alive").status_code == 204
    monkeypatch.setattr(signins.time, "time", lambda: started + idle + 60)
    assert signed_in(as_provider, "/provider")


def test_no_idle_warning_for_families(as_caregiver):
    assert "data-idle-minutes" not in as_caregiver.get("/caregiver").text
