"""The demo's front desk: Maple House's staff PIN, a pairing code for its kiosk tablet, and today at the center
in every column of the board.

Nadia Haddad looks after both her parents: her mother Huda came this morning and has gone home; her father
Samir is expected now (check-in is open), with Marcus. Lily (respite.demo.scheduling) is here all day. The
pairing code works once, for a day; typed at /kiosk it pairs the tablet with Maple House.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..accounts.passwords import hash_password
from ..care import services as care
from ..extensions import db
from ..kiosk import services as kiosk
from ..models import (
    Assignment,
    AssignmentStatus,
    CaregiverProfile,
    CaregiverType,
    CareRecipient,
    LocationKind,
    RespiteSession,
    SessionStatus,
)
from .accounts import People

S = SessionStatus
STAFF_PIN = "2468"  # printed with the demo sign-ins
PAIRING_HOURS = 24
DEVICE_NAME = "Front desk"


@dataclass(frozen=True)
class FrontDesk:
    """What `flask seed-demo` prints about the kiosk: where, the code that pairs the tablet, the staff PIN."""

    center: str
    pairing_code: str
    staff_pin: str = STAFF_PIN


def seed(people: People, now: datetime) -> FrontDesk:
    center = people.center
    coordinator = people.users["coordinator@demo.respite.test"]
    center.kiosk_pin_hash = hash_password(STAFF_PIN)
    huda, samir = _haddad_family(people)
    # Times on the quarter hour around now, so that Samir's check-in is open whenever the demo is loaded.
    quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    _visit(people, huda, quarter - timedelta(hours=5), quarter - timedelta(hours=2), S.COMPLETED)
    _visit(people, samir, quarter - timedelta(minutes=15), quarter + timedelta(hours=3), S.CONFIRMED)
    pairing, code = kiosk.create_pairing(coordinator, center, device_name=DEVICE_NAME, now=now)
    pairing.expires_at = now + timedelta(hours=PAIRING_HOURS)  # a demo is read at leisure
    db.session.flush()
    return FrontDesk(center=center.name, pairing_code=kiosk.format_pairing_code(code))


def _haddad_family(people: People) -> tuple[CareRecipient, CareRecipient]:
    nadia = people.users["caregiver3@demo.respite.test"]
    profile = CaregiverProfile(
        user=nadia,
        full_name="Nadia Haddad",
        phone="555-0191",
        caregiver_type=CaregiverType.ADULT_CHILD,
        annual_allotment_minutes=150 * 60,
    )
    db.session.add(profile)
    db.session.flush()
    allowed = [
        {"name": "Nadia Haddad", "relationship": "Daughter", "phone": "555-0191"},
        {"name": "Karim Haddad", "relationship": "Son", "phone": "555-0192"},
    ]
    huda = care.add_recipient(nadia, profile, first_name="Huda", last_name="Haddad", date_of_birth=date(1944, 5, 2))
    care.save_care_card(
        nadia,
        huda,
        {
            "needs": "Parkinson's; steady but slow. Likes company.",
            "mobility": "Walks with a stick.",
            "diet": "Vegetarian.",
            "routines": "Coffee at 10; crosswords.",
            "emergency_contacts": [allowed[0]],
            "authorised_people": allowed,
        },
    )
    samir = care.add_recipient(nadia, profile, first_name="Samir", last_name="Haddad", date_of_birth=date(1939, 11, 20))
    care.save_care_card(
        nadia,
        samir,
        {
            "needs": "Vascular dementia; may ask for Huda often: she is at home.",
            "mobility": "Wheelchair for longer distances.",
            "allergies": "Aspirin.",
            "routines": "Naps after lunch. Enjoys backgammon.",
            "medications": [{"name": "Amlodipine", "dose": "5 mg", "times": "morning"}],
            "emergency_contacts": [allowed[0]],
            "authorised_people": allowed,
        },
    )
    return huda, samir


def _visit(people: People, recipient: CareRecipient, start: datetime, end: datetime, status: S) -> None:
    done = status == S.COMPLETED
    session = RespiteSession(
        caregiver=recipient.caregiver,
        recipient=recipient,
        center=people.center,
        location_kind=LocationKind.CENTER,
        starts_at=start,
        ends_at=end,
        status=status,
        checked_in_at=start + timedelta(minutes=4) if done else None,
        checked_out_at=end - timedelta(minutes=6) if done else None,
    )
    db.session.add(session)
    db.session.add(
        Assignment(
            session=session,
            provider=people.providers[0],
            status=AssignmentStatus.ACCEPTED,
            starts_at=start,
            ends_at=end,
        )
    )
