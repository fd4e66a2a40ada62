"""Sign-up, sign-in with throttling (never a lockout), sign-out, and the account page."""

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select, update

from respite.accounts import services
from respite.accounts.passwords import password_needs_rehash, verify_password
from respite.accounts.views import _safe_next, generic_failure
from respite.extensions import db
from respite.models import CaregiverProfile, EmailLink, User, utcnow
from tests import factories
from tests.helpers import TEST_PASSWORD, audit_rows, field_error, mailed_link, sent_mail, sign_in

NEW_PASSWORD = "a brand new passphrase"


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _login(client, email, password, **query):
    return client.post("/login", query_string=query, data={"email": email, "password": password})


def _failure_message(response):
    match = re.search(r'<div class="form-errors" role="alert" id="login-failure"><p>(.*?)</p>', response.text)
    return match and match.group(1)


# --- Sign-up ------------------------------------------------------------------------

SIGN_UP = {
    "display_name": "Rosa Martinez",
    "email": "Rosa.Martinez@Example.COM",
    "password": "tea at three o'clock",
    "timezone": "America/Chicago",
}


def _zone_groups(response):
    """The time zone list as {group label: [option values]}, in page order."""
    select = re.search(r'<select[^>]* name="timezone"[^>]*>(.*?)</select>', response.text, re.S).group(1)
    return {
        label: re.findall(r'<option[^>]* value="([^"]*)"', options)
        for label, options in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S)
    }


def _selected_zones(response):
    return re.findall(r'<option[^>]* selected[^>]* value="([^"]*)"', response.text)


def test_sign_up_page_preselects_the_browsers_zone(client):
    response = client.get("/signup?tz=Europe/Paris")

    assert response.status_code == 200
    assert _selected_zones(response) == ["Europe/Paris"]


def sign_up(app, client, **changes):
    """Ask for an account, open the emailed link and press its button: the answer to that press."""
    data = {**SIGN_UP, **changes}
    assert client.post("/signup", data=data).status_code == 302
    return client.post(mailed_link(app, data["email"].lower()))


def test_sign_up_sends_a_link_that_creates_the_caregiver_and_signs_in(app, client):
    response = client.post("/signup", data=SIGN_UP, follow_redirects=True)

    assert response.request.path == "/email-sent/sign_up"
    assert "We have sent an email to <strong>rosa.martinez@example.com</strong>" in response.text
    assert _count(User) == 0  # nothing yet: the address must be confirmed first
    (message,) = sent_mail(app, "rosa.martinez@example.com")
    assert message["Subject"] == "Confirm your email to finish your Respite account"
    link = mailed_link(app, "rosa.martinez@example.com")
    assert link.startswith("/signup/confirm/")
    page = client.get(link)  # opening the link (a mail scanner might) makes nothing
    assert "Create my account" in page.text
    assert _count(User) == 0

    response = client.post(link, follow_redirects=True)

    assert response.request.path == "/caregiver"
    assert "Welcome, Rosa Martinez. Your account is ready." in response.text
    user = db.session.scalar(select(User).where(User.email == "rosa.martinez@example.com"))
    assert user.role == "caregiver"
    assert user.timezone == "America/Chicago"
    assert user.password_hash.startswith("$argon2id$")
    assert verify_password(user.password_hash, SIGN_UP["password"])
    assert user.caregiver_profile.full_name == "Rosa Martinez"
    assert user.caregiver_profile.annual_allotment_minutes == 100 * 60  # the program's default, not 0 h
    (signed_up,) = audit_rows("auth.sign_up")
    assert signed_up.actor_id == user.id
    assert signed_up.entity_type == "User"
    assert signed_up.entity_id == str(user.id)


def test_a_sign_up_link_works_once(app, client):
    sign_up(app, client)
    client.post("/logout")
    link = mailed_link(app, "rosa.martinez@example.com")

    for again in (client.get(link), client.post(link)):
        assert again.status_code == 404
        assert "This link has been used already: the account it made is ready. Sign in." in again.text
    assert _count(User) == 1


def test_an_expired_or_made_up_link_does_nothing(app, client):
    client.post("/signup", data=SIGN_UP)
    link = mailed_link(app, "rosa.martinez@example.com")
    db.session.execute(update(EmailLink).values(expires_at=utcnow() - timedelta(seconds=1)))

    assert client.post(link).status_code == 404
    assert client.post("/signup/confirm/not-a-real-token").status_code == 404
    assert _count(User) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "", "Tell us your name."),
        ("email", "rosa-at-example", "Enter a valid email address."),
        ("email", "rosa@example", "Enter a valid email address."),
        ("email", "rosa@@example.com", "Enter a valid email address."),
        ("email", "rosa@example.invalid", "Enter a valid email address."),  # reserved, unlike .test
        ("email", "", "Enter your email."),
        ("password", "short", "Use at least 12 characters."),
        ("password", "elevenchars", "Use at least 12 characters."),
        ("password", "p" * 129, "Use at most 128 characters."),
        ("timezone", "Mars/Olympus_Mons", "Choose a time zone from the list."),
        ("timezone", "US/Eastern", "Choose a time zone from the list."),  # an older name: not offered
        ("timezone", "", "Choose a time zone from the list."),
    ],
)
def test_sign_up_refuses_bad_input_beside_the_field(client, field, value, message):
    response = client.post("/signup", data={**SIGN_UP, field: value})

    assert response.status_code == 422
    assert field_error(response, field) == message
    assert "Please correct the field marked below." in response.text
    assert _count(User) == 0
    assert _count(CaregiverProfile) == 0
    assert audit_rows() == []


@pytest.mark.parametrize(
    ("taken", "email"),
    [
        ("taken@example.com", "TAKEN@Example.Com"),
        ("caregiver@demo.respite.test", "caregiver@demo.respite.test"),
    ],
)
def test_sign_up_with_an_email_in_use_answers_the_same_and_tells_only_the_mailbox(app, client, taken, email):
    owner = factories.UserFactory(email=taken)
    fresh = client.post("/signup", data={**SIGN_UP, "email": "someone.new@example.com"})

    response = client.post("/signup", data={**SIGN_UP, "email": email})

    assert (response.status_code, response.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])
    assert "already" not in client.get(response.headers["Location"]).text
    (message,) = sent_mail(app, taken)
    assert message["Subject"] == "You already have a Respite account"
    assert "/password/forgot" in message.get_content()
    assert "/signup/confirm/" not in message.get_content()
    assert _count(User) == 1
    (repeated,) = audit_rows("auth.sign_up_repeated")
    assert repeated.entity_id == str(owner.id)


def test_sign_up_with_a_malformed_email_gives_only_that_message(client):
    factories.UserFactory(email="not-an-email")  # a stored address the check would refuse today

    response = client.post("/signup", data={**SIGN_UP, "email": "not-an-email"})

    assert response.status_code == 422
    assert field_error(response, "email") == "Enter a valid email address."


@pytest.mark.parametrize("email", ["rosa@demo.respite.test", "rosa@example.test", "rosa@example.org"])
def test_sign_up_accepts_addresses_on_test_domains(app, client, email):
    response = sign_up(app, client, email=email)

    assert response.status_code == 302
    assert db.session.scalar(select(User.email).where(User.role == "caregiver")) == email


def test_sign_up_offers_canonical_zones_by_region_with_suggestions_first(client):
    factories.CenterFactory(timezone="Asia/Tokyo")
    factories.UserFactory(timezone="Europe/Lisbon")
    factories.UserFactory(timezone="US/Eastern")

    groups = _zone_groups(client.get("/signup"))

    assert list(groups) == [
        "Suggested",
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
        "UTC",
    ]
    # A public page suggests the centers' zones only: nothing about anyone's account.
    assert groups["Suggested"] == ["Asia/Tokyo"]
    assert groups["UTC"] == ["UTC"]
    offered = {zone for zones in groups.values() for zone in zones}
    for zone in ["America/Chicago", "Europe/London", "Europe/Amsterdam", "Australia/Sydney", "Asia/Kolkata"]:
        assert zone in offered
    assert "America/Argentina/Buenos_Aires" in groups["America"]
    for legacy in ["US/Eastern", "Africa/Asmera", "Asia/Calcutta", "Etc/GMT+5", "GMT", "EST5EDT"]:
        assert legacy not in offered
    assert len(offered) < 450


def test_sign_up_zone_options_read_city_first_and_carry_older_names_for_the_browser(client):
    text = client.get("/signup").text

    assert re.search(r'value="America/Argentina/Buenos_Aires">Buenos Aires, Argentina</option>', text)
    kolkata = re.search(r'<option data-aliases="([^"]*)" value="Asia/Kolkata">Kolkata</option>', text)
    assert "Asia/Calcutta" in kolkata.group(1).split()  # what Chrome reports for India


@pytest.mark.parametrize("path", ["/signup", "/login"])
def test_signed_in_user_is_sent_home_from_sign_up_and_sign_in(as_caregiver, path):
    response = as_caregiver.get(path)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- Sign-in ---------------------------------------------------------------------------


def test_sign_in_page(client):
    response = client.get("/login?next=/account")

    assert response.status_code == 200
    assert 'action="/login?next=/account"' in response.text
    assert _failure_message(response) is None


@pytest.mark.parametrize(
    ("role", "dashboard"),
    [("caregiver", "/caregiver"), ("provider", "/provider"), ("coordinator", "/coordinator"), ("kiosk", "/kiosk")],
)
def test_each_role_signs_in_to_its_dashboard(request, client, role, dashboard):
    user = request.getfixturevalue(role)

    response = client.post(
        "/login", data={"email": user.email.upper(), "password": TEST_PASSWORD}, follow_redirects=True
    )

    assert response.status_code == 200
    assert response.request.path == dashboard
    assert f"Signed in as {user.display_name}." in response.text
    (login,) = audit_rows("auth.login")
    assert (login.actor_id, login.actor_role, login.entity_id) == (user.id, role, str(user.id))
    assert user.last_login_at > utcnow() - timedelta(minutes=1)


def test_empty_sign_in_form_shows_what_is_missing(client):
    response = client.post("/login", data={"email": "", "password": ""})

    assert response.status_code == 422
    assert field_error(response, "email") == "Enter your email."
    assert field_error(response, "password") == "Enter your password."
    assert audit_rows() == []


def _inactive(user):
    user.active = False


@pytest.mark.parametrize(
    ("case", "prepare", "email", "password", "reason"),
    [
        ("wrong password", None, None, "not the password", "password"),
        ("unknown email", None, "nobody@example.test", TEST_PASSWORD, "unknown"),
        ("inactive account", _inactive, None, TEST_PASSWORD, "inactive"),
    ],
)
def test_failed_sign_in_gives_one_generic_message(
    client, caregiver, monkeypatch, case, prepare, email, password, reason
):
    if prepare:
        prepare(caregiver)
        db.session.flush()
    password_checks = []
    monkeypatch.setattr(
        services, "verify_password", lambda *args: password_checks.append(args) or verify_password(*args)
    )

    response = _login(client, email or caregiver.email, password)

    assert response.status_code == 401
    assert _failure_message(response) == generic_failure().replace("'", "&#39;")
    assert 'value="not the password"' not in response.text
    (failed,) = audit_rows("auth.login_failed")
    assert failed.actor_id is None
    assert failed.meta["reason"] == reason
    # Every failure costs one password check, so timing tells no more than the message.
    assert len(password_checks) == 1
    assert client.get("/caregiver").status_code == 302


# --- Throttling, never a lockout ----------------------------------------------------------------------


def _from(address):
    return {"REMOTE_ADDR": address}


def test_failed_sign_ins_from_one_address_to_one_account_are_throttled(app, client, caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_FAILURE_LIMIT", "3 per 15 minutes")
    for _ in range(3):
        assert _login(client, caregiver.email, "wrong guess").status_code == 401

    response = _login(client, caregiver.email, TEST_PASSWORD)  # even the right password waits, from here

    assert response.status_code == 429
    assert 800 <= int(response.headers["Retry-After"]) <= 900
    assert "too many tries from here. Please wait 15 minutes and try again." in response.text
    assert audit_rows("auth.login") == []
    (throttled,) = audit_rows("access.throttled")
    assert throttled.meta["endpoint"] == "accounts.login"


def test_no_one_elsewhere_can_keep_the_owner_out(app, client, caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_FAILURE_LIMIT", "3 per 15 minutes")
    stranger = app.test_client()
    for _ in range(5):
        stranger.post("/login", data={"email": caregiver.email, "password": "guess"}, environ_base=_from("203.0.113.9"))

    response = client.post(
        "/login", data={"email": caregiver.email, "password": TEST_PASSWORD}, environ_base=_from("198.51.100.4")
    )

    assert response.status_code == 302
    assert audit_rows("auth.login")


def test_a_successful_sign_in_costs_nothing_of_the_failure_limit(app, client, caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_FAILURE_LIMIT", "2 per 15 minutes")
    for _ in range(4):
        assert _login(client, caregiver.email, TEST_PASSWORD).status_code == 302
        client.post("/logout")
    assert _login(client, caregiver.email, "wrong").status_code == 401


def test_one_address_trying_many_accounts_is_throttled(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_LIMIT", "4 per minute")
    for number in range(4):
        assert _login(client, f"person{number}@example.test", "guess").status_code == 401

    response = _login(client, "person9@example.test", "guess")

    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) <= 60
    assert "Please wait" in response.text
    # The page itself still opens: only attempts count.
    assert client.get("/login").status_code == 200


def test_sign_ups_from_one_address_are_throttled(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_UP_LIMIT", "1 per hour")
    client.post("/signup", data={})
    assert client.post("/signup", data={}).status_code == 429
    assert client.get("/signup").status_code == 200


def test_throttling_falls_back_to_memory_while_redis_is_away(app, client, caregiver, monkeypatch):
    from limits.storage import storage_from_string

    from respite.extensions import limiter

    monkeypatch.setitem(app.config, "SIGN_IN_FAILURE_LIMIT", "2 per 15 minutes")
    away = storage_from_string("redis://127.0.0.1:9/0", socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(limiter, "_storage", away)
    monkeypatch.setattr(limiter, "_storage_dead", False)
    for _ in range(2):
        assert _login(client, caregiver.email, "wrong").status_code == 401
    assert _login(client, caregiver.email, "wrong").status_code == 429


def test_sign_in_upgrades_an_outdated_password_hash(client):
    weak_hash = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(TEST_PASSWORD)
    user = factories.UserFactory(password_hash=weak_hash)

    sign_in(client, user)

    assert user.password_hash != weak_hash
    assert not password_needs_rehash(user.password_hash)
    assert verify_password(user.password_hash, TEST_PASSWORD)


def test_invited_user_without_a_password_cannot_sign_in(client):
    invited = factories.UserFactory(role="provider", password_hash=None)

    assert _login(client, invited.email, "").status_code == 422
    assert _login(client, invited.email, "any password at all").status_code == 401


@pytest.mark.parametrize("target", ["/account", "/caregiver?tab=hours"])
def test_sign_in_follows_a_same_site_next(client, caregiver, target):
    response = _login(client, caregiver.email, TEST_PASSWORD, next=target)

    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example/path",
        "http:/evil.example",
    ],
)
def test_sign_in_refuses_an_open_redirect(client, caregiver, target):
    response = _login(client, caregiver.email, TEST_PASSWORD, next=target)

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\\evil.example", "/ok\nSet-Cookie: x=1", "", None])
def test_safe_next_keeps_only_plain_site_paths(target):
    assert _safe_next(target) is None


def test_sign_in_after_the_redirect_returns_to_the_page(client, caregiver):
    login_url = client.get("/account").headers["Location"]

    response = client.post(login_url, data={"email": caregiver.email, "password": TEST_PASSWORD})

    assert response.headers["Location"] == "/account"


# --- Sign-out -------------------------------------------------------------------------


def test_sign_out_is_post_only(as_caregiver):
    response = as_caregiver.get("/logout")

    assert response.status_code == 405
    assert as_caregiver.get("/caregiver").status_code == 200
    assert audit_rows("auth.logout") == []


def test_sign_out_ends_the_session_and_is_audited(as_caregiver):
    response = as_caregiver.post("/logout", follow_redirects=True)

    assert response.request.path == "/login"
    assert "You are signed out." in response.text
    (logout,) = audit_rows("auth.logout")
    assert logout.actor_id == as_caregiver.user.id
    dashboard = as_caregiver.get("/caregiver")
    assert dashboard.status_code == 302
    assert urlsplit(dashboard.headers["Location"]).path == "/login"


# --- Account details --------------------------------------------------------------------


def test_account_page_shows_current_details(as_provider):
    response = as_provider.get("/account")

    assert response.status_code == 200
    assert f'value="{as_provider.user.email}"' in response.text
    assert _selected_zones(response) == ["America/Chicago"]
    assert _zone_groups(response)["Suggested"][0] == "America/Chicago"


def test_account_with_an_older_zone_name_keeps_it_and_can_still_save(as_caregiver):
    user = as_caregiver.user
    user.timezone = "US/Eastern"
    db.session.flush()

    page = as_caregiver.get("/account")
    response = as_caregiver.post(
        "/account", data={"display_name": "Rosa Renamed", "email": user.email, "timezone": "US/Eastern"}
    )

    assert _zone_groups(page)["Suggested"][0] == "US/Eastern"
    assert _selected_zones(page) == ["US/Eastern"]
    assert "US/Eastern (older name of New York)" in page.text
    assert response.status_code == 302
    assert (user.display_name, user.timezone) == ("Rosa Renamed", "US/Eastern")


def test_account_may_move_from_an_older_zone_name_to_a_listed_one(as_caregiver):
    user = as_caregiver.user
    user.timezone = "Asia/Calcutta"
    db.session.flush()

    response = as_caregiver.post(
        "/account", data={"display_name": user.display_name, "email": user.email, "timezone": "Asia/Kolkata"}
    )

    assert response.status_code == 302
    assert user.timezone == "Asia/Kolkata"


def test_account_refuses_an_older_zone_name_it_does_not_hold(as_caregiver):
    user = as_caregiver.user

    response = as_caregiver.post(
        "/account", data={"display_name": user.display_name, "email": user.email, "timezone": "US/Eastern"}
    )

    assert response.status_code == 422
    assert field_error(response, "timezone") == "Choose a time zone from the list."
    assert user.timezone == "America/Chicago"


def test_account_details_change_and_are_audited(as_caregiver):
    user = as_caregiver.user
    old_email, old_name = user.email, user.display_name

    response = as_caregiver.post(
        "/account",
        data={
            "display_name": "Rosa M. Martinez",
            "email": "Rosa.New@Example.com",
            "timezone": "Europe/Madrid",
            "current_password": TEST_PASSWORD,
        },
        follow_redirects=True,
    )

    assert response.status_code == 200
    assert "Your account details are saved." in response.text
    assert (user.display_name, user.email, user.timezone) == (
        "Rosa M. Martinez",
        "rosa.new@example.com",
        "Europe/Madrid",
    )
    assert user.caregiver_profile.full_name == "Rosa M. Martinez"
    (update,) = audit_rows("account.update")
    assert update.meta == {
        "changed": ["display_name", "email", "timezone"],
        "email": {"from": f"{old_email[:2]}***@{old_email.split('@')[1]}", "to": "ro***@example.com"},
        "display_name": {"from": old_name, "to": "Rosa M. Martinez"},
    }
    assert update.actor_id == user.id


def test_account_only_names_the_fields_that_changed(as_provider):
    user = as_provider.user  # its address is on the .test domain, as the demo's are

    as_provider.post(
        "/account", data={"display_name": "New Name", "email": user.email.upper(), "timezone": user.timezone}
    )

    (update,) = audit_rows("account.update")
    assert update.meta["changed"] == ["display_name"]
    assert "email" not in update.meta
    assert user.email == user.email.lower()


def test_account_with_nothing_changed_writes_nothing(as_coordinator):
    user = as_coordinator.user

    response = as_coordinator.post(
        "/account",
        data={"display_name": user.display_name, "email": user.email, "timezone": user.timezone},
        follow_redirects=True,
    )

    assert "Nothing changed." in response.text
    assert audit_rows("account.update") == []


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("Taken@Example.com", "Another account already uses this email address."),
        ("rosa@example", "Enter a valid email address."),
        ("rosa@@example.com", "Enter a valid email address."),
        ("", "Enter your email."),
    ],
)
def test_account_refuses_a_bad_or_taken_email(as_caregiver, email, message):
    factories.UserFactory(email="taken@example.com")
    before = as_caregiver.user.email

    response = as_caregiver.post(
        "/account",
        data={"display_name": "Rosa", "email": email, "timezone": "America/Chicago"},
    )

    assert response.status_code == 422
    assert field_error(response, "email") == message
    assert "Sign in instead" not in response.text
    assert as_caregiver.user.email == before
    assert audit_rows("account.update") == []


def test_account_page_never_offers_to_sign_in(as_caregiver):
    assert "Sign in instead" not in as_caregiver.get("/account").text


@pytest.mark.parametrize("email", ["rosa@example.test", "caregiver@demo.respite.test"])
def test_account_takes_an_address_on_a_test_domain_and_back(as_caregiver, email):
    user = as_caregiver.user
    details = {"display_name": user.display_name, "timezone": user.timezone, "current_password": TEST_PASSWORD}

    away = as_caregiver.post("/account", data={**details, "email": "rosa@example.org"})
    back = as_caregiver.post("/account", data={**details, "email": email})

    assert (away.status_code, back.status_code) == (302, 302)
    assert user.email == email


@pytest.mark.parametrize(
    ("password", "message"),
    [("", "Enter your current password to change your email."), ("wrong", "That is not your current password.")],
)
def test_a_new_email_needs_the_current_password(as_caregiver, password, message):
    user = as_caregiver.user
    old = user.email

    response = as_caregiver.post(
        "/account",
        data={
            "display_name": user.display_name,
            "email": "someone.else@example.com",
            "timezone": user.timezone,
            "current_password": password,
        },
    )

    assert response.status_code == 422
    assert field_error(response, "current_password") == message
    assert user.email == old
    assert audit_rows("account.reauth_failed")


# --- Password ---------------------------------------------------------------------------


def _change_password(client, current, new=NEW_PASSWORD, confirm=None):
    return client.post(
        "/account/password",
        data={"current_password": current, "new_password": new, "confirm": new if confirm is None else confirm},
    )


def test_password_change_refuses_a_wrong_current_password(as_caregiver):
    response = _change_password(as_caregiver, "not my password")

    assert response.status_code == 422
    assert field_error(response, "current_password") == "That is not your current password."
    assert f'value="{as_caregiver.user.email}"' in response.text  # the details form is still filled in
    assert verify_password(as_caregiver.user.password_hash, TEST_PASSWORD)
    assert len(audit_rows("account.password_change_failed")) == 1


@pytest.mark.parametrize(
    ("new", "confirm", "field", "message"),
    [
        ("short", "short", "new_password", "Use at least 12 characters."),
        ("x" * 129, "x" * 129, "new_password", "Use at most 128 characters."),
        (NEW_PASSWORD, "something else entirely", "confirm", "The two new passwords differ."),
    ],
)
def test_password_change_checks_the_new_password(as_caregiver, new, confirm, field, message):
    response = _change_password(as_caregiver, TEST_PASSWORD, new, confirm)

    assert response.status_code == 422
    assert field_error(response, field) == message
    assert verify_password(as_caregiver.user.password_hash, TEST_PASSWORD)


def test_password_change_takes_effect(app, as_caregiver):
    response = _change_password(as_caregiver, TEST_PASSWORD)

    assert response.status_code == 302
    assert len(audit_rows("account.password_change")) == 1
    old = _login(app.test_client(), as_caregiver.user.email, TEST_PASSWORD)
    assert old.status_code == 401
    sign_in(app.test_client(), as_caregiver.user, NEW_PASSWORD)


def test_sign_in_lasts_the_configured_time_and_is_not_renewed(app, client, caregiver, monkeypatch):
    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", timedelta(minutes=30))
    response = client.post("/login", data={"email": caregiver.email, "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    assert timedelta(minutes=29) < expires - datetime.now(UTC) <= timedelta(minutes=30)
    client.get("/caregiver")  # shows (and so removes) the welcome message
    assert "Set-Cookie" not in client.get("/caregiver").headers


def test_a_new_caregiver_gets_the_configured_allotment(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "DEFAULT_ANNUAL_ALLOTMENT_HOURS", 40)
    sign_up(app, client)
    user = db.session.scalar(select(User).where(User.email == "rosa.martinez@example.com"))
    assert user.caregiver_profile.annual_allotment_minutes == 40 * 60


LONG_PASSWORD = ("Mugwort, lavender, thyme and sage grow by the old stone gate where the wren nests; " * 2)[:128]


@pytest.mark.parametrize("password", ["twelve chars", LONG_PASSWORD])
def test_sign_up_takes_a_password_of_12_to_128_characters(app, client, password):
    assert sign_up(app, client, password=password).status_code == 302
    assert _count(User) == 1


@pytest.mark.parametrize(
    ("password", "advice"),
    [
        ("1234567890ab", "This is similar to a commonly used password."),
        ("aaaaaaaaaaaa", 'Repeats like "aaa" are easy to guess.'),
        ("Password1234", "This is similar to a commonly used password."),
        ("rosamartinez", ""),  # the person's own name
    ],
)
def test_sign_up_refuses_a_password_that_is_easy_to_guess(client, password, advice):
    response = client.post("/signup", data={**SIGN_UP, "password": password})

    assert response.status_code == 422
    message = field_error(response, "password")
    assert message.startswith("This password is too easy to guess.")
    assert advice in message
    assert _count(User) == 0


def test_a_new_password_must_be_hard_to_guess_too(as_caregiver):
    response = _change_password(as_caregiver, TEST_PASSWORD, "qwertyuiopas", "qwertyuiopas")

    assert response.status_code == 422
    assert field_error(response, "new_password").startswith("This password is too easy to guess.")
