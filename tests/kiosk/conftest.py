"""The front desk's world: a center with a paired tablet, a family whose care card lists who may drop off and
pick up, and a session of theirs under way now (so that check-in is open)."""

from datetime import timedelta

import pytest

from respite.accounts.passwords import hash_password
from respite.extensions import db
from respite.models import CareCardVersion, SessionStatus, utcnow
from tests import factories

STAFF_PIN = "4826"
PEOPLE = [
    {"name": "Luis Martinez", "relationship": "Grandson", "phone": "555-0143"},
    {"name": "Ana Ortiz", "relationship": "Neighbour", "phone": "555-0150"},
]


@pytest.fixture
def center():
    return factories.CenterFactory(
        name="Maple House", timezone="America/Chicago", kiosk_pin_hash=hash_password(STAFF_PIN)
    )


@pytest.fixture
def tablet(center):
    return factories.KioskDeviceFactory(center=center, name="Front desk")


@pytest.fixture
def elena():
    recipient = factories.CareRecipientFactory(
        first_name="Elena", last_name="Martinez", caregiver__full_name="Rosa Martinez"
    )
    db.session.add(CareCardVersion(recipient=recipient, number=1, content={"authorised_people": PEOPLE}))
    recipient.card_number = 1
    db.session.flush()
    return recipient


def _session_at(center, recipient=None, *, minutes_from_now=-5, hours=3, status=SessionStatus.CONFIRMED, **extra):
    """A session at `center` starting `minutes_from_now` (checked in at its start, out half an hour later, by
    its status)."""
    starts = extra.pop("starts_at", None) or utcnow().replace(microsecond=0) + timedelta(minutes=minutes_from_now)
    ends = extra.pop("ends_at", None) or starts + timedelta(hours=hours)
    if status in (SessionStatus.CHECKED_IN, SessionStatus.COMPLETED):
        extra.setdefault("checked_in_at", starts)
    if status == SessionStatus.COMPLETED:
        extra.setdefault("checked_out_at", starts + timedelta(minutes=30))
    return factories.RespiteSessionFactory(
        center=center,
        status=status,
        starts_at=starts,
        ends_at=ends,
        **({"recipient": recipient} if recipient is not None else {}),
        **extra,
    )


@pytest.fixture
def visit(center, elena):
    """Elena's session at the center, begun five minutes ago and confirmed: she is expected now."""
    return _session_at(center, elena)


@pytest.fixture
def session_at():
    """session_at(center, recipient=None, *, minutes_from_now=-5, hours=3, status="confirmed", **fields)."""
    return _session_at


@pytest.fixture
def at_desk(app, tablet):
    """A browser holding the tablet's credential (the cookie the pairing screen sets)."""
    client = app.test_client()
    client.set_cookie("respite_kiosk", tablet.token, path="/kiosk")
    client.tablet = tablet
    return client
