"""Coordinators invite staff and kiosk accounts; the invited person sets a password once through a link."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from respite.accounts import services as accounts
from respite.accounts.passwords import verify_password
from respite.extensions import db
from respite.models import ProviderProfile, User, utcnow
from tests import factories
from tests.helpers import audit_rows, field_error, sign_in

PASSWORD = "my own long password"


def _invite(client, **fields):
    data = {
        "display_name": "Marcus Bell",
        "email": "marcus@example.com",
        "role": "provider",
        "center_id": "0",
        "timezone": "America/Chicago",
    }
    return client.post("/admin/users", data={**data, **fields})


def _invitation_path(response):
    match = re.search(r'<code id="invitation-link">([^<]+)</code>', response.text)
    assert match, "no invitation link on the page"
    link = urlsplit(match.group(1))
    assert link.netloc == "localhost"
    return link.path


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


def _accept(client, path, password=PASSWORD, confirm=None):
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm})


# --- The people page --------------------------------------------------------------------


def test_people_page_lists_everyone_with_their_state(as_coordinator):
    center = factories.CenterFactory(name="Maple House")
    factories.UserFactory(display_name="Active Person", email="active@example.com")
    factories.UserFactory(display_name="Invited Person", role="provider", password_hash=None)
    factories.UserFactory(display_name="Gone Person", active=False)
    factories.UserFactory(display_name="Erased account 7", active=False, erased_at=utcnow())
    desk = factories.UserFactory(display_name="Front Desk", role="kiosk", center=center)

    text = as_coordinator.get("/admin/users").get_data(as_text=True)

    for name, state in [
        ("Active Person", "Active"),
        ("Invited Person", "Invited"),
        ("Gone Person", "Deactivated"),
        ("Erased account 7", "Erased"),
    ]:
        assert re.search(rf"<td[^>]*><a [^>]*>{name}</a></td>.*?<td[^>]*>{state}</td>", text, re.S), name
    assert "active@example.com" in text
    assert re.search(
        rf'<td[^>]*><a href="/admin/users/{desk.id}">Front Desk</a> <span class="muted">\(Maple House\)</span></td>',
        text,
    )
    assert f'<option value="{center.id}">Maple House</option>' in text


# --- Inviting --------------------------------------------------------------------------


def test_coordinator_invites_a_provider(as_coordinator):
    center = factories.CenterFactory()

    response = _invite(as_coordinator, email="Marcus@Example.com", center_id=str(center.id))

    assert response.status_code == 200
    assert "Marcus Bell is invited as provider." in response.text
    assert _invitation_path(response).startswith("/invitation/")
    user = _user("marcus@example.com")
    assert (user.role, user.password_hash, user.center_id) == ("provider", None, None)
    profile = db.session.scalar(select(ProviderProfile).where(ProviderProfile.user_id == user.id))
    assert profile.center_id == center.id
    (invite,) = audit_rows("user.invite")
    assert invite.actor_id == as_coordinator.user.id
    assert invite.entity_id == str(user.id)
    assert invite.meta == {"role": "provider", "center_id": center.id}
    # The form is empty again, ready for the next person.
    assert 'value="marcus@example.com"' not in response.text.lower()


def test_coordinator_invites_someone_at_a_test_domain_address(as_coordinator):
    response = _invite(as_coordinator, email="provider9@demo.respite.test")

    assert response.status_code == 200
    assert _user("provider9@demo.respite.test").role == "provider"


def test_coordinator_invites_a_coordinator(as_coordinator):
    response = _invite(as_coordinator, role="coordinator", email="dana@example.com")

    assert response.status_code == 200
    user = _user("dana@example.com")
    assert user.role == "coordinator"
    assert user.provider_profile is None
    assert user.center_id is None


def test_a_kiosk_invitation_needs_a_center(as_coordinator):
    response = _invite(as_coordinator, role="kiosk", email="desk@example.com", center_id="0")

    assert response.status_code == 422
    assert field_error(response, "center_id") == "A kiosk belongs to a center: choose one."
    assert "invitation-link" not in response.text
    assert _user("desk@example.com") is None
    assert audit_rows("user.invite") == []


def test_coordinator_invites_a_kiosk_for_a_center(as_coordinator):
    center = factories.CenterFactory()

    response = _invite(as_coordinator, role="kiosk", email="desk@example.com", center_id=str(center.id))

    assert response.status_code == 200
    assert _user("desk@example.com").center_id == center.id


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "taken@example.com", "An account with this email already exists."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("email", "marcus@example", "Enter a valid email address."),
        ("display_name", "", "Enter the person's name."),
        ("role", "caregiver", "Not a valid choice."),
        ("center_id", "999999", "Not a valid choice."),
        ("timezone", "Nowhere/Special", "Choose a time zone from the list."),
        ("timezone", "Africa/Asmera", "Choose a time zone from the list."),  # an older name: not offered
    ],
)
def test_invitation_form_refuses_bad_input_beside_the_field(as_coordinator, field, value, message):
    factories.UserFactory(email="taken@example.com")
    users_before = db.session.scalar(select(func.count()).select_from(User))

    response = _invite(as_coordinator, **{field: value})

    assert response.status_code == 422
    assert field_error(response, field) == message
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert audit_rows("user.invite") == []


def test_only_staff_roles_can_be_invited(coordinator):
    with pytest.raises(accounts.AccountError) as refused:
        accounts.invite_user(
            coordinator, role="caregiver", email="family@example.com", display_name="Family", timezone="UTC"
        )

    assert refused.value.field == "role"
    assert _user("family@example.com") is None


# --- Accepting ----------------------------------------------------------------------------


@pytest.fixture
def invitation(as_coordinator):
    """The path of a fresh provider invitation for marcus@example.com."""
    return _invitation_path(_invite(as_coordinator))


def test_invitation_link_sets_the_password_and_signs_in(app, client, invitation):
    page = client.get(invitation)
    assert page.status_code == 200
    assert "Welcome, Marcus Bell" in page.text
    assert "marcus@example.com" in page.text

    response = _accept(client, invitation)

    assert response.status_code == 302
    assert client.get("/", follow_redirects=True).request.path == "/provider"
    user = _user("marcus@example.com")
    assert verify_password(user.password_hash, PASSWORD)
    (accepted,) = audit_rows("user.invitation_accepted")
    assert accepted.actor_id == user.id
    sign_in(app.test_client(), user, PASSWORD)


def test_invitation_link_works_only_once(client, invitation):
    _accept(client, invitation)
    client.post("/logout")

    assert client.get(invitation).status_code == 404
    assert _accept(client, invitation, "someone else's password").status_code == 404
    assert verify_password(_user("marcus@example.com").password_hash, PASSWORD)
    assert len(audit_rows("user.invitation_accepted")) == 1


def test_invitation_refuses_a_bad_password_and_stays_usable(client, invitation):
    response = _accept(client, invitation, confirm="a different password")

    assert response.status_code == 422
    assert field_error(response, "confirm") == "The two passwords differ."
    assert _user("marcus@example.com").password_hash is None
    assert client.get(invitation).status_code == 200


def test_invitation_taken_up_while_signed_in_switches_the_account(as_coordinator, invitation):
    response = _accept(as_coordinator, invitation)

    assert response.status_code == 302
    assert as_coordinator.get("/", follow_redirects=True).request.path == "/provider"


@pytest.mark.parametrize("token", ["nonsense", "eyJ1IjoxLCJmIjoiYWJjIn0.tampered.signature"])
def test_a_bad_invitation_token_is_not_found(client, token):
    response = client.get(f"/invitation/{token}")

    assert response.status_code == 404
    assert "Page not found" in response.text


def test_a_tampered_invitation_token_is_not_found(client, invitation):
    token = invitation.rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    assert client.get(f"/invitation/{tampered}").status_code == 404


def test_an_expired_invitation_is_not_found(app, client, invitation, monkeypatch):
    monkeypatch.setitem(app.config, "INVITATION_MAX_AGE", timedelta(seconds=-1))

    assert client.get(invitation).status_code == 404
    assert _accept(client, invitation).status_code == 404
    assert _user("marcus@example.com").password_hash is None


def test_an_invitation_for_a_deactivated_account_is_not_found(client, invitation):
    _user("marcus@example.com").active = False
    db.session.flush()

    assert client.get(invitation).status_code == 404


def test_an_invitation_for_a_removed_account_is_not_found(client, coordinator):
    user = factories.UserFactory(role="provider", password_hash=None)
    token = accounts.invitation_token(user)
    db.session.delete(user)
    db.session.flush()

    assert client.get(f"/invitation/{token}").status_code == 404


def test_an_invitation_signed_with_another_key_is_not_found(app, client, invitation, monkeypatch):
    monkeypatch.setitem(app.config, "SECRET_KEY", "some other key")

    assert client.get(invitation).status_code == 404


def test_invite_form_starts_in_the_coordinators_zone(as_coordinator):
    as_coordinator.user.timezone = "Europe/Lisbon"
    db.session.flush()
    text = as_coordinator.get("/admin/users").get_data(as_text=True)
    assert re.findall(r'<option selected value="([^"]*)"', text) == ["Europe/Lisbon"]
    assert '<optgroup label="Suggested"><option selected value="Europe/Lisbon">' in text


def test_invite_form_suggests_the_centers_zones_after_the_coordinators(as_coordinator):
    as_coordinator.user.timezone = "Europe/Lisbon"
    factories.CenterFactory(timezone="Asia/Tokyo")
    factories.CenterFactory(timezone="Europe/Lisbon")
    db.session.flush()

    text = as_coordinator.get("/admin/users").get_data(as_text=True)

    suggested = re.search(r'<optgroup label="Suggested">(.*?)</optgroup>', text).group(1)
    assert re.findall(r'value="([^"]*)"', suggested) == ["Europe/Lisbon", "Asia/Tokyo"]
    assert "US/" not in text


def test_invite_form_keeps_a_coordinators_older_zone_name(as_coordinator):
    as_coordinator.user.timezone = "US/Pacific"
    db.session.flush()

    response = _invite(as_coordinator, timezone="US/Pacific")

    assert response.status_code == 200
    assert _user("marcus@example.com").timezone == "US/Pacific"
