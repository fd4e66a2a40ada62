"""Two-step sign-in: turning it on, signing in with a code or a recovery code, codes never accepted twice,
coordinators required to have it, and every change needing the current password."""

import re
import time

import pyotp
import pytest

from respite.accounts import twofactor
from respite.extensions import db
from respite.models import RecoveryCode
from tests.helpers import TEST_PASSWORD, audit_rows, field_error, mailed_link, sign_in


def secret_on_page(client):
    page = client.get("/account/two-step").text
    return re.search(r'<code class="secret-key">([A-Z2-7]+)</code>', page).group(1)


def turn_on(client, password=TEST_PASSWORD):
    secret = secret_on_page(client)
    response = client.post("/account/two-step", data={"code": pyotp.TOTP(secret).now(), "current_password": password})
    return secret, response


def codes_in(response):
    return re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", response.text)


def next_code(secret):
    """The code of the next 30 seconds: the one that turned it on has been spent, and the window allows one step."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def password_step(client, user):
    return client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})


def code_step(client, code):
    return client.post("/login/code", data={"code": code})


def test_turning_it_on_shows_a_qr_code_and_ten_recovery_codes_once(as_caregiver):
    page = as_caregiver.get("/account/two-step").text
    assert 'src="data:image/svg+xml' in page
    secret, response = turn_on(as_caregiver)

    assert response.status_code == 200
    assert len(set(codes_in(response))) == 10
    user = as_caregiver.user
    assert user.has_two_factor
    assert user.totp_secret == secret
    assert db.session.query(RecoveryCode).filter_by(user_id=user.id).count() == 10
    assert all(len(row.code_hash) == 64 for row in db.session.query(RecoveryCode))
    assert audit_rows("account.two_factor_on")
    assert "On since" in as_caregiver.get("/account/two-step").text
    assert as_caregiver.get("/caregiver").status_code == 200  # this sign-in stays


def test_turning_it_on_needs_a_right_code_and_the_password(as_caregiver):
    secret = secret_on_page(as_caregiver)
    wrong_code = as_caregiver.post("/account/two-step", data={"code": "000000", "current_password": TEST_PASSWORD})
    assert wrong_code.status_code == 422
    assert field_error(wrong_code, "code").startswith("That code doesn't match")
    wrong_password = as_caregiver.post(
        "/account/two-step", data={"code": pyotp.TOTP(secret).now(), "current_password": "not my password"}
    )
    assert field_error(wrong_password, "current_password") == "That is not your current password."
    assert not as_caregiver.user.has_two_factor
    assert audit_rows("account.reauth_failed")


def test_signing_in_takes_the_password_then_a_code(app, client, caregiver):
    helper = app.test_client()
    sign_in(helper, caregiver)
    secret, _ = turn_on(helper)
    client = app.test_client()

    first = password_step(client, caregiver)

    assert first.headers["Location"] == "/login/code"
    assert client.get("/caregiver").status_code == 302  # not signed in yet
    assert audit_rows("auth.first_step")
    second = code_step(client, next_code(secret))
    assert second.headers["Location"] == "/"
    assert client.get("/caregiver").status_code == 200


def test_a_code_is_not_accepted_twice(app, caregiver):
    helper = app.test_client()
    sign_in(helper, caregiver)
    secret, _ = turn_on(helper)  # the code used to turn it on is spent
    code = pyotp.TOTP(secret).now()
    client = app.test_client()
    password_step(client, caregiver)

    response = code_step(client, code)

    assert response.status_code == 401
    assert "That code doesn" in response.text
    (failed,) = [row for row in audit_rows("auth.login_failed") if row.meta.get("reason") == "code_reused"]
    assert failed.entity_id == str(caregiver.id)


def test_a_recovery_code_signs_in_once(app, caregiver):
    helper = app.test_client()
    sign_in(helper, caregiver)
    _, response = turn_on(helper)
    code = codes_in(response)[0]

    first, second = app.test_client(), app.test_client()
    password_step(first, caregiver)
    assert code_step(first, code.upper()).status_code == 302
    password_step(second, caregiver)
    assert code_step(second, code).status_code == 401
    assert twofactor.recovery_codes_left(caregiver) == 9
    assert audit_rows("auth.recovery_code_used")


def test_the_code_must_follow_the_password_within_minutes(app, client, caregiver, monkeypatch):
    helper = app.test_client()
    sign_in(helper, caregiver)
    secret, _ = turn_on(helper)
    password_step(client, caregiver)
    with client.session_transaction() as session:
        session["second_step"] = {**session["second_step"], "at": session["second_step"]["at"] - 301}

    response = code_step(client, next_code(secret))

    assert response.headers["Location"] == "/login"


def test_guessing_codes_is_throttled(app, client, caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "SECOND_STEP_LIMIT", "3 per 15 minutes")
    helper = app.test_client()
    sign_in(helper, caregiver)
    turn_on(helper)
    password_step(client, caregiver)
    for guess in ("111111", "222222", "333333"):
        assert code_step(client, guess).status_code == 401
    assert code_step(client, "444444").status_code == 429


def test_without_a_pending_password_step_there_is_nothing_to_enter(client):
    assert client.get("/login/code").headers["Location"] == "/login"


def test_new_recovery_codes_replace_the_old_ones(as_caregiver):
    _, response = turn_on(as_caregiver)
    old = codes_in(response)
    renewed = as_caregiver.post("/account/two-step/recovery-codes", data={"current_password": TEST_PASSWORD})
    new = codes_in(renewed)
    assert len(new) == 10
    assert not set(new) & set(old)
    assert twofactor.recovery_codes_left(as_caregiver.user) == 10
    refused = as_caregiver.post("/account/two-step/recovery-codes", data={"current_password": "wrong"})
    assert refused.status_code == 422


def test_turning_it_off_needs_the_password(as_caregiver):
    turn_on(as_caregiver)
    assert as_caregiver.post("/account/two-step/off", data={"current_password": "wrong"}).status_code == 422
    assert as_caregiver.user.has_two_factor
    assert as_caregiver.post("/account/two-step/off", data={"current_password": TEST_PASSWORD}).status_code == 302
    assert not as_caregiver.user.has_two_factor
    assert audit_rows("account.two_factor_off")


# --- Required for coordinators ----------------------------------------------------------------------


@pytest.fixture
def required(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_ROLES", ("coordinator",))


def test_a_coordinator_without_it_is_sent_to_set_it_up_first(required, as_coordinator):
    response = as_coordinator.get("/coordinator")
    assert response.headers["Location"] == "/account/two-step"
    assert as_coordinator.get("/admin/users").headers["Location"] == "/account/two-step"
    turn_on(as_coordinator)
    assert as_coordinator.get("/coordinator").status_code == 200


def test_a_coordinator_may_not_turn_it_off(required, as_coordinator):
    turn_on(as_coordinator)
    page = as_coordinator.get("/account/two-step").text
    assert "Turn two-step sign-in off" not in page
    response = as_coordinator.post("/account/two-step/off", data={"current_password": TEST_PASSWORD})
    assert response.status_code == 422
    assert as_coordinator.user.has_two_factor


def test_others_are_not_made_to(required, as_caregiver, as_provider):
    assert as_caregiver.get("/caregiver").status_code == 200
    assert as_provider.get("/provider").status_code == 200


def test_a_coordinator_can_still_sign_out_before_setting_it_up(required, as_coordinator):
    assert as_coordinator.post("/logout").headers["Location"] == "/login"


def test_a_password_reset_never_skips_the_second_step(app, client, caregiver):
    helper = app.test_client()
    sign_in(helper, caregiver)
    secret, _ = turn_on(helper)
    client.post("/password/forgot", data={"email": caregiver.email})

    response = client.post(
        mailed_link(app, caregiver.email),
        data={"password": "a new walk by the canal", "confirm": "a new walk by the canal"},
    )

    assert response.headers["Location"] == "/login/code"
    assert client.get("/caregiver").status_code == 302
    assert code_step(client, next_code(secret)).headers["Location"] == "/"
    assert client.get("/caregiver").status_code == 200
