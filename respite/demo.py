"""Demo data for a first run: one center and its kiosk, staff, families and their sessions.

`seed_demo()` is idempotent: when the demo coordinator exists it changes nothing.
"""

import secrets
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from . import audit
from .extensions import db
from .models import (
    Assignment,
    Availability,
    CaregiverProfile,
    CareRecipient,
    Center,
    Conversation,
    Message,
    Participant,
    ProviderProfile,
    RespiteSession,
    User,
    VisitNote,
    utcnow,
)
from .security import hash_password

DEMO_PASSWORD = "respite-demo-2026"  # noqa: S105 (printed for the demo sign-ins)
ZONE = "America/Chicago"

ACCOUNTS = [
    ("coordinator", "coordinator@demo.respite.test", "Dana Whitfield"),
    ("provider", "provider@demo.respite.test", "Marcus Bell"),
    ("provider", "provider2@demo.respite.test", "Aisha Rahman"),
    ("provider", "provider3@demo.respite.test", "Tom Okafor"),
    ("caregiver", "caregiver@demo.respite.test", "Rosa Martinez"),
    ("caregiver", "caregiver2@demo.respite.test", "James Chen"),
    ("kiosk", "kiosk@demo.respite.test", "Maple House kiosk"),
]


def demo_accounts():
    return [(role, email) for role, email, _ in ACCOUNTS]


def seed_demo(now=None):
    """Create the demo data unless it is there; return (created, [(role, email), ...])."""
    if db.session.scalar(select(User.id).where(User.email == ACCOUNTS[0][1])) is not None:
        return False, demo_accounts()
    now = now or utcnow()
    zone = ZoneInfo(ZONE)
    center = Center(name="Maple House Respite Center", address="412 Maple Street, Springfield", timezone=ZONE)
    db.session.add(center)
    password_hash = hash_password(DEMO_PASSWORD)
    users = {}
    for role, email, name in ACCOUNTS:
        users[email] = User(
            email=email,
            display_name=name,
            role=role,
            timezone=ZONE,
            password_hash=password_hash,
            center=center if role == "kiosk" else None,
        )
        db.session.add(users[email])
    providers = [
        ProviderProfile(
            user=users["provider@demo.respite.test"],
            center=center,
            skills="Dementia care, medication reminders, first aid",
        ),
        ProviderProfile(
            user=users["provider2@demo.respite.test"],
            center=center,
            skills="Pediatric complex needs, tube feeding, sign language",
        ),
        ProviderProfile(
            user=users["provider3@demo.respite.test"], center=center, skills="Mobility support, companionship"
        ),
    ]
    db.session.add_all(providers)
    for provider in providers:
        for weekday in range(5):
            db.session.add(
                Availability(provider=provider, kind="weekly", weekday=weekday, start_minute=8 * 60, end_minute=18 * 60)
            )
    rosa = CaregiverProfile(
        user=users["caregiver@demo.respite.test"],
        full_name="Rosa Martinez",
        phone="555-0142",
        caregiver_type="adult_child",
        annual_allotment_minutes=120 * 60,
    )
    james = CaregiverProfile(
        user=users["caregiver2@demo.respite.test"],
        full_name="James Chen",
        phone="555-0178",
        caregiver_type="parent",
        annual_allotment_minutes=200 * 60,
    )
    db.session.add_all([rosa, james])
    elena = CareRecipient(
        caregiver=rosa,
        first_name="Elena",
        last_name="Martinez",
        date_of_birth=datetime(1941, 3, 9).date(),
        needs="Moderate Alzheimer's. Needs help standing up; walks with a frame.",
        medications="Donepezil 10 mg at 8 pm. Paracetamol as needed.",
        allergies="Penicillin.",
        routines="Tea with milk at 3 pm. Likes the radio and photo albums. Naps after lunch.",
        emergency_contacts="Rosa Martinez (daughter) 555-0142; Dr. Patel 555-0100",
    )
    lily = CareRecipient(
        caregiver=james,
        first_name="Lily",
        last_name="Chen",
        date_of_birth=datetime(2016, 7, 21).date(),
        needs="Cerebral palsy; uses a wheelchair. Communicates with a tablet and signs.",
        medications="Baclofen 5 mg at noon via G-tube.",
        allergies="Latex.",
        routines="Feeds at 12:00 and 16:00. Loves music and the sensory room.",
        emergency_contacts="James Chen (father) 555-0178; Mei Chen (mother) 555-0179",
    )
    db.session.add_all([elena, lily])

    # Kiosk codes are unique in the table: draw them all at once, without repeats.
    kiosk_codes = iter(secrets.SystemRandom().sample(range(10**6), 10))

    def at(days, hour, minutes=0):
        day = now.astimezone(zone).date() + timedelta(days=days)
        return datetime.combine(day, time(hour, minutes), zone).astimezone(UTC)

    def session(caregiver, recipient, start, end, status, **extra):
        row = RespiteSession(
            caregiver=caregiver,
            recipient=recipient,
            center=center,
            location_kind="center",
            starts_at=start,
            ends_at=end,
            status=status,
            **extra,
        )
        if status in ("confirmed", "checked_in", "completed"):
            row.kiosk_code = f"{next(kiosk_codes):06d}"
        db.session.add(row)
        return row

    def assign(row, provider):
        db.session.add(
            Assignment(session=row, provider=provider, status="accepted", starts_at=row.starts_at, ends_at=row.ends_at)
        )

    requested = session(
        rosa,
        elena,
        at(3, 9),
        at(3, 13),
        "requested",
        request_notes="I have a hospital appointment of my own that morning.",
    )
    session(james, lily, at(5, 13), at(5, 17), "requested", request_notes="Afternoon with the sensory room, please.")
    confirmed = session(rosa, elena, at(1, 10), at(1, 14), "confirmed")
    assign(confirmed, providers[0])
    today = session(james, lily, at(0, 8), at(0, 20), "checked_in", checked_in_at=at(0, 8, 5))
    assign(today, providers[1])
    done = session(
        rosa, elena, at(-6, 9), at(-6, 12), "completed", checked_in_at=at(-6, 9, 2), checked_out_at=at(-6, 12, 1)
    )
    assign(done, providers[0])
    db.session.add(
        VisitNote(
            session=done,
            author=users["provider@demo.respite.test"],
            body="Elena was cheerful; we looked at photo albums and had tea at 3. Ate a full lunch.",
        )
    )
    session(james, lily, at(-3, 10), at(-3, 14), "cancelled", status_reason="Lily had a cold.")

    conversation = Conversation(subject="Tomorrow's visit", session=confirmed)
    db.session.add(conversation)
    rosa_user, marcus = users["caregiver@demo.respite.test"], users["provider@demo.respite.test"]
    db.session.add_all(
        [Participant(conversation=conversation, user=rosa_user), Participant(conversation=conversation, user=marcus)]
    )
    first = Message(
        conversation=conversation,
        sender=rosa_user,
        created_at=now - timedelta(hours=3),
        body="Hi Marcus, Mum gets anxious in the mornings. The radio helps.",
    )
    second = Message(
        conversation=conversation,
        sender=marcus,
        created_at=now - timedelta(hours=2),
        body="Thanks Rosa, I'll bring her favourite station up. See you at 10.",
    )
    db.session.add_all([first, second])
    conversation.last_message_at = second.created_at
    db.session.flush()
    for participant in conversation.participants:
        participant.last_read_message_id = first.id if participant.user is marcus else second.id
    audit.record(
        "demo.seed",
        entity_type="Center",
        entity_id=center.id,
        summary="Demo data loaded",
        meta={"requested_session": requested.id},
    )
    db.session.commit()
    return True, demo_accounts()
