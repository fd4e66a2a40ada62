"""Demo accounts: a center, a coordinator, three providers, three families (the center's kiosk tablet is paired,
not signed in: respite.demo.kiosk)."""

from dataclasses import dataclass

from ..accounts.passwords import hash_password
from ..extensions import db
from ..models import (
    CaregiverProfile,
    CaregiverType,
    Center,
    ProviderProfile,
    User,
)

DEMO_PASSWORD = "respite-demo-2026"  # noqa: S105 (printed for the demo sign-ins)
ZONE = "America/Chicago"

ACCOUNTS = [
    ("coordinator", "coordinator@demo.respite.test", "Dana Whitfield"),
    ("provider", "provider@demo.respite.test", "Marcus Bell"),
    ("provider", "provider2@demo.respite.test", "Aisha Rahman"),
    ("provider", "provider3@demo.respite.test", "Tom Okafor"),
    ("caregiver", "caregiver@demo.respite.test", "Rosa Martinez"),
    ("caregiver", "caregiver2@demo.respite.test", "James Chen"),
    ("caregiver", "caregiver3@demo.respite.test", "Nadia Haddad"),
]


def demo_accounts() -> list[tuple[str, str]]:
    return [(role, email) for role, email, _ in ACCOUNTS]


@dataclass
class People:
    center: Center
    users: dict[str, User]
    providers: list[ProviderProfile]
    rosa: CaregiverProfile
    james: CaregiverProfile


def seed() -> People:
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
    rosa = CaregiverProfile(
        user=users["caregiver@demo.respite.test"],
        full_name="Rosa Martinez",
        phone="555-0142",
        caregiver_type=CaregiverType.ADULT_CHILD,
        annual_allotment_minutes=120 * 60,
    )
    james = CaregiverProfile(
        user=users["caregiver2@demo.respite.test"],
        full_name="James Chen",
        phone="555-0178",
        caregiver_type=CaregiverType.PARENT,
        annual_allotment_minutes=200 * 60,
    )
    db.session.add_all([rosa, james])
    return People(center=center, users=users, providers=providers, rosa=rosa, james=james)
