"""Coordinators invite staff accounts; the invited person sets a password once through a link.

An invitation is an emailed link of which only the hash is kept: the coordinator sees it once, when it is
made, and can email a new one, make a new one to pass on by hand, or withdraw it. A link that no longer
works says why, in plain words.
"""

import html
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import delete, func, select, update

from respite.accounts import services as accounts
from respite.accounts.passwords import verify_password
from respite.admin import services
from respite.extensions import db
from respite.models import EmailLink, EmailLinkPurpose, ProviderProfile, User, utcnow
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error, mailed_link, sent_mail, sign_in

PASSWORD = "my own long password"


def _invite(client, **fields):
    data = {
        "display_name": "Marcus Bell",
        "email": "marcus@example.com",
        "role": "provider",
        "center_id": "0",
        "timezone": "America/Chicago",
    }
    return client.post("/admin/invitations", data={**data, **fields})


def _shown_link(response):
    """The path of the link the page shows once, in its readonly box."""
    match = re.search(r'<input type="text" id="invitation-link" value="([^"]+)" readonly', response.text)
    assert match, "no invitation link on the page"
    link = urlsplit(html.unescape(match.group(1)))
    assert link.netloc == "localhost"
    return link.path


def _user(email):
    return db.session.scalar(select(User).where(User.email == email))


def _accept(client, path, password=PASSWORD, confirm=None):
    return client.post(path, data={"password": password, "confirm": password if confirm is None else confirm})


def _refusal(response):
    """The sentence a link that doesn't work shows."""
    match = re.search(r"<h1>[^<]*</h1>\s*<p>([^<]*)</p>", response.text)
    assert match, response.text
    return html.unescape(match.group(1))


def _links(user):
    return db.session.scalars(
        select(EmailLink).where(EmailLink.user_id == user.id, EmailLink.purpose == EmailLinkPurpose.INVITATION)
    ).all()


# --- Inviting --------------------------------------------------------------------------


def test_coordinator_invites_a_provider(as_coordinator):
    center = factories.CenterFactory(name="Maple House")

    response = _invite(as_coordinator, email="Marcus@Example.com", center_id=str(center.id))

    assert response.status_code == 200
    assert "Marcus Bell is invited as provider." in response.text
    assert _shown_link(response).startswith("/invitation/")
    user = _user("marcus@example.com")
    assert (user.role, user.password_hash, user.center_id) == ("provider", None, None)
    profile = db.session.scalar(select(ProviderProfile).where(ProviderProfile.user_id == user.id))
    assert profile.center_id == center.id
    (invite,) = audit_rows("user.invite")
    assert invite.actor_id == as_coordinator.user.id
    assert invite.entity_id == str(user.id)
    assert invite.meta == {"role": "provider", "center_id": center.id, "emailed": False}
    assert sent_mail(as_coordinator.application, "marcus@example.com") == []
    # The form is empty again, ready for the next person, and the invitation waits in the list.
    assert 'value="marcus@example.com"' not in response.text.lower()
    row = re.search(rf'<tr role="row" id="invitation-{user.id}">(.*?)</tr>', response.text, re.S).group(1)
    assert "marcus@example.com" in row
    assert "Provider" in row
    assert "Maple House" in row


def test_an_invitation_sent_by_email_carries_the_link(app, as_coordinator, client):
    response = _invite(as_coordinator, send_email="y")

    assert response.status_code == 200
    assert "The invitation is on its way to marcus@example.com" in response.text
    (message,) = sent_mail(app, "marcus@example.com")
    assert message["Subject"] == "You're invited to Respite"
    assert f"{as_coordinator.user.display_name} invited you to Respite as a provider" in message.get_content()
    link = mailed_link(app, "marcus@example.com")
    assert link == _shown_link(response)
    (invite,) = audit_rows("user.invite")
    assert invite.meta["emailed"] is True
    assert invite.summary == "Invited Marcus Bell as provider by email"
    assert _accept(client, link).status_code == 302


def test_the_invite_form_offers_to_email_it(as_coordinator):
    text = as_coordinator.get("/admin/invitations").text

    assert re.search(r'<input checked id="send_email" name="send_email" type="checkbox" value="y">', text)
    assert '<label for="send_email">Email the invitation to them now</label>' in text


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


def test_a_kiosk_is_not_invited_but_paired(as_coordinator):
    """Tablets are paired on the Kiosks page (respite.kiosk): no account, no password."""
    center = factories.CenterFactory()

    response = _invite(as_coordinator, role="kiosk", email="desk@example.com", center_id=str(center.id))

    assert response.status_code == 422
    assert field_error(response, "role") == "Not a valid choice."
    assert _user("desk@example.com") is None
    assert audit_rows("user.invite") == []


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

    response = _invite(as_coordinator, send_email="y", **{field: value})

    assert response.status_code == 422
    assert field_error(response, field) == message
    assert db.session.scalar(select(func.count()).select_from(User)) == users_before
    assert audit_rows("user.invite") == []
    assert sent_mail(as_coordinator.application) == []


def test_only_staff_roles_can_be_invited(coordinator):
    with pytest.raises(accounts.AccountError) as refused:
        accounts.invite_user(
            coordinator, role="caregiver", email="family@example.com", display_name="Family", timezone="UTC"
        )

    assert refused.value.field == "role"
    assert _user("family@example.com") is None


def test_only_the_hash_of_an_invitation_link_is_kept(as_coordinator):
    path = _shown_link(_invite(as_coordinator))
    token = path.rsplit("/", 1)[1]

    (link,) = _links(_user("marcus@example.com"))

    assert token not in str(link.token_hash)
    assert abs(link.expires_at - link.created_at - timedelta(days=7)) < timedelta(seconds=5)


def test_invite_form_starts_in_the_coordinators_zone(as_coordinator):
    as_coordinator.user.timezone = "Europe/Lisbon"
    db.session.flush()
    text = as_coordinator.get("/admin/invitations").get_data(as_text=True)
    assert re.findall(r'<option selected value="([^"]*)"', text) == ["Europe/Lisbon"]
    assert '<optgroup label="Suggested"><option selected value="Europe/Lisbon">' in text


def test_invite_form_suggests_the_centers_zones_after_the_coordinators(as_coordinator):
    as_coordinator.user.timezone = "Europe/Lisbon"
    factories.CenterFactory(timezone="Asia/Tokyo")
    factories.CenterFactory(timezone="Europe/Lisbon")
    db.session.flush()

    text = as_coordinator.get("/admin/invitations").get_data(as_text=True)

    suggested = re.search(r'<optgroup label="Suggested">(.*?)</optgroup>', text).group(1)
    assert re.findall(r'value="([^"]*)"', suggested) == ["Europe/Lisbon", "Asia/Tokyo"]
    assert "US/" not in text


def test_invite_form_keeps_a_coordinators_older_zone_name(as_coordinator):
    as_coordinator.user.timezone = "US/Pacific"
    db.session.flush()

    response = _invite(as_coordinator, timezone="US/Pacific")

    assert response.status_code == 200
    assert _user("marcus@example.com").timezone == "US/Pacific"


# --- Accepting ----------------------------------------------------------------------------


@pytest.fixture
def invitation(as_coordinator):
    """The path of a fresh provider invitation for marcus@example.com."""
    return _shown_link(_invite(as_coordinator))


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
    assert all(link.used_at is not None for link in _links(user))
    sign_in(app.test_client(), user, PASSWORD)


def test_a_used_invitation_says_so(client, invitation):
    _accept(client, invitation)
    client.get("/", follow_redirects=True)  # the welcome
    client.post("/logout", follow_redirects=True)

    for again in (client.get(invitation), _accept(client, invitation, "someone else's password")):
        assert again.status_code == 404
        assert _refusal(again) == accounts.LINK_SPENT[EmailLinkPurpose.INVITATION]
        assert "This invitation doesn&#39;t work any more" in again.text
        assert "Marcus" not in again.text
    assert verify_password(_user("marcus@example.com").password_hash, PASSWORD)
    assert len(audit_rows("user.invitation_accepted")) == 1
    refused = audit_rows("access.link_refused")
    assert [(row.meta["purpose"], row.meta["reason"]) for row in refused] == [("invitation", "used")] * 2


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
def test_a_made_up_invitation_says_it_isnt_one_we_sent(client, token):
    response = client.get(f"/invitation/{token}")

    assert response.status_code == 404
    assert _refusal(response) == accounts.LINK_UNKNOWN


def test_a_link_cut_short_isnt_one_we_sent(client, invitation):
    assert _refusal(client.get(invitation[:-2])) == accounts.LINK_UNKNOWN


def test_an_expired_invitation_says_so(client, invitation):
    db.session.execute(update(EmailLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()  # a refusal rolls back what the request's transaction holds

    for response in (client.get(invitation), _accept(client, invitation)):
        assert response.status_code == 404
        assert _refusal(response) == accounts.LINK_EXPIRED[EmailLinkPurpose.INVITATION]
    assert _user("marcus@example.com").password_hash is None


def test_an_invitation_for_a_deactivated_account_says_it_was_withdrawn(client, invitation):
    _user("marcus@example.com").active = False
    db.session.flush()

    response = client.get(invitation)

    assert response.status_code == 404
    assert _refusal(response) == accounts.INVITATION_WITHDRAWN


def test_an_invitation_for_a_removed_account_isnt_one_we_sent(client, coordinator):
    user = factories.UserFactory(role="provider", password_hash=None)
    token = accounts.new_invitation_link(user, coordinator)
    db.session.execute(delete(EmailLink).where(EmailLink.user_id == user.id))
    db.session.delete(user)
    db.session.flush()

    assert _refusal(client.get(f"/invitation/{token}")) == accounts.LINK_UNKNOWN


def test_a_reset_link_is_no_invitation(app, client, caregiver):
    with app.test_request_context():
        accounts.request_password_reset(caregiver.email)
    db.session.commit()
    token = mailed_link(app, caregiver.email).rsplit("/", 1)[1]

    assert _refusal(client.get(f"/invitation/{token}")) == accounts.LINK_UNKNOWN


# --- The pending invitations: resend, a new link to copy, withdraw ------------------------------------


def _pending(**fields):
    """An invited provider and their emailed link's secret."""
    user = factories.UserFactory(role="provider", password_hash=None, **fields)
    factories.ProviderProfileFactory(user=user)
    token = accounts.new_invitation_link(user, factories.UserFactory(role="coordinator"), by_email=False)
    db.session.flush()
    return user, token


def test_the_list_shows_pending_invitations_only(as_coordinator):
    waiting, _ = _pending(display_name="Wendy Waiting")
    expired, _ = _pending(display_name="Eddie Expired")
    db.session.execute(
        update(EmailLink).where(EmailLink.user_id == expired.id).values(expires_at=utcnow() - timedelta(days=1))
    )
    factories.ProviderProfileFactory(user__display_name="Alice Accepted")
    factories.UserFactory(display_name="Wanda Withdrawn", role="provider", password_hash=None, active=False)

    text = as_coordinator.get("/admin/invitations").text

    assert "Wendy Waiting" in text
    assert "Eddie Expired" in text
    assert "Alice Accepted" not in text
    assert "Wanda Withdrawn" not in text
    row = re.search(rf'id="invitation-{expired.id}">(.*?)</tr>', text, re.S).group(1)
    assert "Expired" in row
    row = re.search(rf'id="invitation-{waiting.id}">(.*?)</tr>', text, re.S).group(1)
    assert "Expired" not in row
    assert waiting.email in row


def test_resending_emails_a_new_link_and_ends_the_old_one(app, as_coordinator, client):
    user, old = _pending(display_name="Nadia Newcomer")

    response = as_coordinator.post(f"/admin/invitations/{user.id}/resend")

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/invitations"
    page = as_coordinator.get("/admin/invitations").text
    assert f"A new invitation is on its way to {user.email}. The link sent before no longer works." in html.unescape(
        page
    )
    new = mailed_link(app, user.email)
    assert _refusal(client.get(f"/invitation/{old}")) == accounts.INVITATION_REPLACED
    assert client.get(new).status_code == 200
    (renewed,) = audit_rows("user.invitation_renewed")
    assert renewed.actor_id == as_coordinator.user.id
    assert renewed.summary == "Emailed Nadia Newcomer a new invitation link"
    assert renewed.meta["emailed"] is True


def test_a_new_link_to_copy_is_shown_once_and_ends_the_old_one(app, as_coordinator, client):
    user, old = _pending(display_name="Nadia Newcomer")

    response = as_coordinator.post(f"/admin/invitations/{user.id}/link")

    assert response.status_code == 200
    assert "A new invitation link for Nadia Newcomer" in response.text
    new = _shown_link(response)
    assert 'data-copy="invitation-link" hidden>Copy link</button>' in response.text
    assert re.search(r'<script src="/static/js/copy.js" nonce="[^"]+" defer>', response.text)
    assert sent_mail(app, user.email) == []
    assert _refusal(client.get(f"/invitation/{old}")) == accounts.INVITATION_REPLACED
    assert client.get(new).status_code == 200
    # Shown once: the list doesn't show it again.
    assert new not in as_coordinator.get("/admin/invitations").text
    (renewed,) = audit_rows("user.invitation_renewed")
    assert renewed.meta["emailed"] is False


def test_withdrawing_ends_the_link_and_deactivates_the_account(as_coordinator, client):
    user, token = _pending(display_name="Nadia Newcomer")

    response = as_coordinator.post(f"/admin/invitations/{user.id}/revoke")

    assert response.status_code == 302
    page = as_coordinator.get("/admin/invitations").text
    assert "Nadia Newcomer&#39;s invitation is withdrawn" in page
    assert f'id="invitation-{user.id}"' not in page
    assert user.active is False
    assert _refusal(client.get(f"/invitation/{token}")) == accounts.INVITATION_WITHDRAWN
    (revoked,) = audit_rows("user.invitation_revoked")
    assert revoked.summary == "Withdrew Nadia Newcomer's invitation"
    assert revoked.meta["links_ended"] == 1


@pytest.mark.parametrize("action", ["resend", "link", "revoke"])
def test_an_invitation_no_one_has_is_not_found(as_coordinator, action):
    accepted = factories.ProviderProfileFactory().user
    withdrawn, _ = _pending(active=False)

    for user_id in (accepted.id, withdrawn.id, 999_999):
        assert as_coordinator.post(f"/admin/invitations/{user_id}/{action}").status_code == 404
    assert audit_rows("user.invitation_renewed") + audit_rows("user.invitation_revoked") == []


@pytest.mark.parametrize("action", ["resend", "link", "revoke"])
def test_only_coordinators_manage_invitations(as_provider, action):
    user, _ = _pending()

    assert as_provider.post(f"/admin/invitations/{user.id}/{action}").status_code == 403
    assert len(_links(user)) == 1


def test_the_services_refuse_someone_who_has_answered(coordinator):
    accepted = factories.ProviderProfileFactory(user__display_name="Alice Accepted").user

    with pytest.raises(services.AdminError, match="Alice Accepted's invitation is no longer pending."):
        services.renew_invitation(coordinator, accepted, by_email=True)
    with pytest.raises(services.AdminError, match="no longer pending"):
        services.revoke_invitation(coordinator, accepted)
    with pytest.raises(PermissionError):
        services.renew_invitation(factories.ProviderProfileFactory().user, _pending()[0], by_email=False)


def test_the_invitations_page_keeps_to_its_statement_budget(as_coordinator):
    def add_rows(n):
        for _ in range(n):
            _pending(display_name="Pat Pending")

    # Signed-in user, the invite form's centers (and their zones), the pending invitations with their links.
    assert_statement_budget(as_coordinator, "/admin/invitations", add_rows, 3 + NAV)
