"""factory_boy factories, one per model a test needs to make."""

import hashlib
import secrets
from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from respite import models
from respite.accounts.passwords import hash_password
from respite.extensions import db

TEST_PASSWORD = "correct horse battery"
_TEST_HASH = hash_password(TEST_PASSWORD)


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 (the session changes per test)
        sqlalchemy_session_persistence = "flush"


class CenterFactory(_Base):
    class Meta:
        model = models.Center

    name = factory.Sequence(lambda n: f"Center {n}")
    address = "1 Test Street"
    timezone = "America/Chicago"


class UserFactory(_Base):
    class Meta:
        model = models.User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    display_name = factory.Faker("name")
    role = "caregiver"
    timezone = "America/Chicago"
    password_hash = _TEST_HASH
    active = True


class CaregiverProfileFactory(_Base):
    class Meta:
        model = models.CaregiverProfile

    user = factory.SubFactory(UserFactory, role="caregiver")
    full_name = factory.SelfAttribute("user.display_name")
    annual_allotment_minutes = 100 * 60


class CareRecipientFactory(_Base):
    class Meta:
        model = models.CareRecipient

    caregiver = factory.SubFactory(CaregiverProfileFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")


class ProviderProfileFactory(_Base):
    class Meta:
        model = models.ProviderProfile

    user = factory.SubFactory(UserFactory, role="provider")
    center = factory.SubFactory(CenterFactory)


class RespiteSessionFactory(_Base):
    class Meta:
        model = models.RespiteSession

    recipient = factory.SubFactory(CareRecipientFactory)
    caregiver = factory.SelfAttribute("recipient.caregiver")
    center = factory.SubFactory(CenterFactory)
    location_kind = "center"
    starts_at = factory.LazyFunction(lambda: models.utcnow() + timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=3))
    status = "requested"


class AssignmentFactory(_Base):
    class Meta:
        model = models.Assignment

    session = factory.SubFactory(RespiteSessionFactory)
    provider = factory.SubFactory(ProviderProfileFactory)
    status = "accepted"
    starts_at = factory.SelfAttribute("session.starts_at")
    ends_at = factory.SelfAttribute("session.ends_at")


class AvailabilityFactory(_Base):
    """A weekly block on the provider's clock (all day Monday unless told); time off with kind="time_off"."""

    class Meta:
        model = models.Availability

    provider = factory.SubFactory(ProviderProfileFactory)
    kind = "weekly"
    weekday = 0
    start_minute = 0
    end_minute = 24 * 60


class NoticeFactory(_Base):
    """An unread notice for `user` (about nothing unless told: session_id=, conversation_id=, recipient_id=)."""

    class Meta:
        model = models.Notice

    user = factory.SubFactory(UserFactory)
    kind = "confirmed"
    text = factory.Sequence(lambda n: f"Something changed ({n})")


class KioskDeviceFactory(_Base):
    """A tablet paired with a center; its credential (the cookie's value) is `device.token`."""

    class Meta:
        model = models.KioskDevice

    center = factory.SubFactory(CenterFactory)
    name = "Front desk"
    token_hash = factory.Sequence(lambda n: f"{n:064d}")  # replaced by the credential's hash below
    last_seen_at = factory.LazyFunction(models.utcnow)

    @factory.post_generation
    def token(obj, create, extracted, **kwargs):
        obj.token = extracted or secrets.token_urlsafe(32)
        obj.token_hash = hashlib.sha256(obj.token.encode()).hexdigest()
        if create:
            db.session.flush()
