"""Forgotten passwords: a single-use emailed link sets a new one and ends every other sign-in; nothing is revealed."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from respite.accounts.passwords import verify_password
from respite.extensions import db
from respite.models import EmailLink, utcnow
from tests import factories
from tests.helpers import TEST_PASSWORD, audit_rows, field_error, mailed_link, sent_mail, sign_in

NEW_PASSWORD = "a quiet walk by the river"


def ask(client, email):
    return client.post("/password/forgot", data={"email": email})


def reset(client, link, password=NEW_PASSWORD, confirm=None):
    return client.post(link, data={"password": password, "confirm": confirm or password})


def test_the_sign_in_page_leads_to_the_reset(client):
    assert 'href="/password/forgot"' in client.get("/login").text


def test_a_reset_link_sets_a_new_password_and_ends_every_other_sign_in(app, client, caregiver):
    elsewhere = app.test_client()
    sign_in(elsewhere, caregiver)

    response = ask(client, caregiver.email.upper())

    assert response.headers["Location"] == "/email-sent/reset"
    assert "If an account uses" in client.get("/email-sent/reset").text
    (message,) = sent_mail(app, caregiver.email)
    assert message["Subject"] == "Set a new Respite password"
    link = mailed_link(app, caregiver.email)
    assert link.startswith("/password/reset/")
    assert reset(client, link).headers["Location"] == "/"
    db.session.refresh(caregiver)
    assert verify_password(caregiver.password_hash, NEW_PASSWORD)
    assert elsewhere.get("/caregiver").status_code == 302  # signed out there
    assert client.get("/caregiver").status_code == 200  # signed in here
    assert audit_rows("auth.password_reset")
    assert reset(app.test_client(), link, "another new password").status_code == 404  # once only


def test_an_unknown_or_inactive_email_gets_the_same_answer_and_no_mail(app, client):
    gone = factories.UserFactory(email="gone@example.com", active=False)
    known = factories.UserFactory(email="known@example.com")

    answers = [ask(client, email) for email in ("nobody@example.com", gone.email, known.email)]

    assert {(a.status_code, a.headers["Location"]) for a in answers} == {(302, "/email-sent/reset")}
    assert [m["To"] for m in sent_mail(app)] == ["known@example.com"]
    unknown = [row for row in audit_rows("auth.reset_requested") if row.entity_id == ""]
    assert unknown[0].meta["email"] == "no***@example.com"


def test_the_new_password_follows_the_rules_and_the_link_still_works_after_a_mistake(app, client, caregiver):
    ask(client, caregiver.email)
    link = mailed_link(app, caregiver.email)

    response = reset(client, link, "short", "short")

    assert response.status_code == 422
    assert field_error(response, "password") == "Use at least 12 characters."
    assert reset(client, link, NEW_PASSWORD, "something else").status_code == 422
    assert reset(client, link).status_code == 302


def test_an_expired_link_asks_for_a_new_one(app, client, caregiver):
    ask(client, caregiver.email)
    link = mailed_link(app, caregiver.email)
    db.session.execute(update(EmailLink).values(expires_at=utcnow() - timedelta(seconds=1)))

    response = client.get(link)

    assert response.status_code == 404
    assert "Ask for a new link" in response.text
    (refused,) = audit_rows("access.link_refused")
    assert refused.meta["purpose"] == "reset"
    db.session.refresh(caregiver)
    assert verify_password(caregiver.password_hash, TEST_PASSWORD)


def test_a_newer_reset_ends_the_older_links(app, client, caregiver):
    ask(client, caregiver.email)
    first = mailed_link(app, caregiver.email)
    ask(client, caregiver.email)
    second = mailed_link(app, caregiver.email)
    assert first != second

    assert reset(client, second).status_code == 302
    assert reset(app.test_client(), first).status_code == 404


def test_only_the_hash_of_a_link_is_kept(app, client, caregiver):
    ask(client, caregiver.email)
    token = mailed_link(app, caregiver.email).rsplit("/", 1)[1]
    stored = db.session.query(EmailLink.token_hash).scalar()
    assert token not in stored
    assert len(stored) == 64


@pytest.mark.parametrize("limit", ["2 per hour"])
def test_one_place_cant_flood_a_mailbox(app, client, caregiver, monkeypatch, limit):
    monkeypatch.setitem(app.config, "RESET_PER_EMAIL_LIMIT", limit)
    ask(client, caregiver.email)
    ask(client, caregiver.email)

    assert ask(client, caregiver.email).status_code == 429
    assert len(sent_mail(app, caregiver.email)) == 2
    assert ask(client, "someone.else@example.com").status_code == 302
