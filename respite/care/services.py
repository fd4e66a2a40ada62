"""Care: the caregiver's profile, the people they care for, and their versioned care cards.

Transitions guard, change rows, write their audit row and flush; the caller commits.
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select

from .. import audit
from ..extensions import db
from ..models import (
    CARE_CARD_LIST_FIELDS,
    CARE_CARD_TEXT_FIELDS,
    CareCardVersion,
    CaregiverProfile,
    CareRecipient,
    Role,
    User,
)

# The keys each list entry of a care card keeps.
LIST_ITEM_KEYS = {
    "medications": ("name", "dose", "times"),
    "emergency_contacts": ("name", "relationship", "phone"),
    "authorised_people": ("name", "relationship", "phone"),
}
TEXT_LIMIT = 4000
ITEM_TEXT_LIMIT = 200
LIST_LIMIT = 20


def caregiver_profile_for(user: User) -> CaregiverProfile | None:
    return db.session.scalar(select(CaregiverProfile).where(CaregiverProfile.user_id == user.id))


def recipients_for(profile: CaregiverProfile) -> Sequence[CareRecipient]:
    return db.session.scalars(
        select(CareRecipient)
        .where(CareRecipient.caregiver_id == profile.id, CareRecipient.active.is_(True))
        .order_by(CareRecipient.first_name, CareRecipient.id)
    ).all()


def may_manage(actor: User, recipient: CareRecipient) -> bool:
    """The person's own caregiver, or a coordinator, may change who they are and their card."""
    if actor.role == Role.COORDINATOR:
        return True
    return actor.role == Role.CAREGIVER and recipient.caregiver.user_id == actor.id


def add_recipient(
    actor: User, profile: CaregiverProfile, *, first_name: str, last_name: str, date_of_birth: date | None = None
) -> CareRecipient:
    """Add a person `profile`'s caregiver looks after (the caregiver themselves, or a coordinator)."""
    if not (actor.role == Role.COORDINATOR or (actor.role == Role.CAREGIVER and profile.user_id == actor.id)):
        raise PermissionError("Only the family or a coordinator can add the people they care for.")
    recipient = CareRecipient(
        caregiver=profile,
        first_name=first_name.strip(),
        last_name=last_name.strip(),
        date_of_birth=date_of_birth,
    )
    db.session.add(recipient)
    db.session.flush()
    audit.record("care.recipient_add", recipient, actor=actor, summary=f"Added {recipient.full_name}")
    return recipient


def clean_card(content: Mapping[str, Any]) -> dict[str, Any]:
    """A care card's content with every known field, trimmed; empty list rows dropped, unknown keys ignored."""
    card: dict[str, Any] = {}
    for field in CARE_CARD_TEXT_FIELDS:
        card[field] = str(content.get(field) or "").strip()[:TEXT_LIMIT]
    for field in CARE_CARD_LIST_FIELDS:
        rows = []
        for item in content.get(field) or []:
            row = {key: str(item.get(key) or "").strip()[:ITEM_TEXT_LIMIT] for key in LIST_ITEM_KEYS[field]}
            if any(row.values()):
                rows.append(row)
        card[field] = rows[:LIST_LIMIT]
    return card


def save_care_card(actor: User, recipient: CareRecipient, content: Mapping[str, Any]) -> CareCardVersion | None:
    """Save `content` as the next version of the person's care card; None when nothing changed."""
    if not may_manage(actor, recipient):
        raise PermissionError("Only the family or a coordinator can change a care card.")
    card = clean_card(content)
    current = recipient.card
    if current is not None and clean_card(current.content) == card:
        return None
    latest = db.session.scalar(
        select(func.max(CareCardVersion.number)).where(CareCardVersion.recipient_id == recipient.id)
    )
    version = CareCardVersion(recipient=recipient, number=(latest or 0) + 1, content=card, author_id=actor.id)
    db.session.add(version)
    recipient.card_number = version.number
    db.session.flush()
    db.session.expire(recipient, ["card"])  # the relationship follows card_number on its next read
    changed = sorted(k for k in card if current is None or clean_card(current.content).get(k) != card[k])
    audit.record(
        "care.card_save",
        recipient,
        actor=actor,
        summary=f"Care card of {recipient.full_name} saved as version {version.number}",
        meta={"version": version.number, "changed": changed},
    )
    return version
