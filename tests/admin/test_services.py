"""The rules of ending an account: never a DELETE of someone the audit log names; deactivation and erasure instead."""

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from respite import audit
from respite.admin import services
from respite.extensions import db
from respite.models import (
    AuditLog,
    Conversation,
    EmailLink,
    Message,
    Participant,
    RecoveryCode,
    User,
    utcnow,
)
from tests import factories
from tests.helpers import audit_rows


def _audit_count():
    return db.session.scalar(select(func.count()).select_from(AuditLog))


def test_deleting_a_user_the_audit_log_names_is_refused_by_the_key_not_the_trigger(coordinator):
    audit.record("test.acted", coordinator, actor=coordinator, summary="Did something")
    rows = _audit_count()

    with pytest.raises(IntegrityError) as refused, db.session.begin_nested():
        db.session.execute(delete(User).where(User.id == coordinator.id))

    message = str(refused.value).lower()
    assert "foreign key" in message
    assert "append-only" not in message  # refused up front, not by rewriting the log's rows
    assert db.session.get(User, coordinator.id) is not None
    assert _audit_count() == rows
    assert audit.verify_chain()[1] is None


def test_an_erased_user_stays_and_still_cant_be_deleted(coordinator, caregiver):
    audit.record("test.acted", caregiver, actor=caregiver)
    services.erase_user(coordinator, caregiver, reason="Asked in writing")

    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(delete(User).where(User.id == caregiver.id))

    assert db.session.get(User, caregiver.id).is_erased


def test_a_user_no_row_points_at_can_still_be_removed(coordinator):
    """Only what the trail points at is kept: an invitation never taken up, say, may go."""
    unused = factories.UserFactory(role="provider", password_hash=None)

    db.session.execute(delete(User).where(User.id == unused.id))

    assert db.session.get(User, unused.id) is None


def test_erasing_ends_the_accounts_secrets_links_and_messages(coordinator, caregiver):
    email = caregiver.email
    caregiver.totp_secret, caregiver.totp_confirmed_at, caregiver.calendar_token_hash = "S" * 32, utcnow(), "c" * 64
    db.session.add_all(
        [
            RecoveryCode(user_id=caregiver.id, code_hash="b" * 64),
            EmailLink(
                purpose="reset", email=email, user=caregiver, token_hash="1" * 64, expires_at=utcnow() + timedelta(1)
            ),
            EmailLink(
                purpose="sign_up",
                email=email,
                token_hash="2" * 64,
                expires_at=utcnow() - timedelta(1),
                payload={"display_name": caregiver.display_name, "password_hash": "$argon2id$old"},
            ),
        ]
    )
    conversation = Conversation(subject="Saturday")
    db.session.add(conversation)
    db.session.add(Participant(conversation=conversation, user=caregiver))
    other = factories.ProviderProfileFactory().user
    db.session.add_all(
        [
            Message(conversation=conversation, sender=caregiver, body="Mum's fever is back"),
            Message(conversation=conversation, sender=other, body="I'll bring the thermometer"),
        ]
    )
    db.session.flush()
    generation = caregiver.session_generation

    erasure = services.erase_user(coordinator, caregiver, reason="Asked in writing")

    db.session.expire_all()
    user = db.session.get(User, caregiver.id)
    assert (user.totp_secret, user.totp_confirmed_at, user.calendar_token_hash) == (None, None, None)
    assert user.session_generation == generation + 1
    assert db.session.scalar(select(RecoveryCode.used_at).where(RecoveryCode.user_id == user.id)) is not None
    links = db.session.scalars(select(EmailLink).where(EmailLink.token_hash.in_(["1" * 64, "2" * 64]))).all()
    assert [(link.email, link.payload, link.used_at is not None) for link in links] == [(user.email, {}, True)] * 2
    assert db.session.scalar(select(func.count()).select_from(EmailLink).where(EmailLink.email == email)) == 0
    bodies = db.session.scalars(select(Message.body).order_by(Message.id)).all()
    assert bodies == [None, "I'll bring the thermometer"]  # theirs purged; what others wrote is others'
    assert erasure.messages == 1


def test_each_erased_account_gets_an_address_of_its_own(coordinator):
    first, second = factories.UserFactory(), factories.UserFactory()

    for user in (first, second):
        services.erase_user(coordinator, user, reason="Asked")

    assert first.email != second.email
    assert first.email.endswith("@erased.invalid")


@pytest.mark.parametrize("role", ["caregiver", "provider", "kiosk"])
@pytest.mark.parametrize(
    "change",
    [
        lambda actor, user: services.deactivate_user(actor, user, reason="x"),
        lambda actor, user: services.reactivate_user(actor, user, reason="x"),
        lambda actor, user: services.change_role(actor, user, "coordinator", reason="x"),
        lambda actor, user: services.erase_user(actor, user, reason="x"),
    ],
    ids=["deactivate", "reactivate", "role", "erase"],
)
def test_only_a_coordinator_changes_an_account(role, change):
    actor = factories.UserFactory(role=role, center=factories.CenterFactory() if role == "kiosk" else None)
    user = factories.UserFactory(role="provider")

    with pytest.raises(PermissionError):
        change(actor, user)

    assert (user.active, user.role, user.erased_at) == (True, "provider", None)
    assert audit_rows() == []


def test_only_a_coordinator_loads_an_account(provider, coordinator):
    assert services.get_user_for(coordinator, provider.id) is provider
    assert services.get_user_for(provider, coordinator.id) is None
    assert services.get_user_for(coordinator, 2**31 - 1) is None
