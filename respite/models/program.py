"""The program's own settings: one row, written by coordinators (respite.admin.services)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model, UTCDateTime, utcnow

# The one row's id.
PROGRAM = 1


class ProgramSettings(Model):
    """What a coordinator sets for the whole program. No row yet: the configuration's defaults hold."""

    __tablename__ = "program_settings"
    __table_args__ = (
        CheckConstraint(f"id = {PROGRAM}", name="one_row"),
        CheckConstraint("default_allotment_minutes >= 0", name="allotment_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=PROGRAM)
    # The yearly respite a caregiver starts with when they sign up.
    default_allotment_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
