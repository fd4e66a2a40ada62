"""Care: the caregiver's profile and the people they care for."""

from collections.abc import Sequence

from sqlalchemy import select

from ..extensions import db
from ..models import CaregiverProfile, CareRecipient, User


def caregiver_profile_for(user: User) -> CaregiverProfile | None:
    return db.session.scalar(select(CaregiverProfile).where(CaregiverProfile.user_id == user.id))


def recipients_for(profile: CaregiverProfile) -> Sequence[CareRecipient]:
    return db.session.scalars(
        select(CareRecipient)
        .where(CareRecipient.caregiver_id == profile.id, CareRecipient.active.is_(True))
        .order_by(CareRecipient.first_name, CareRecipient.id)
    ).all()
