"""The people cared for, and what a provider must know about them: their versioned care card."""

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, utcnow

if TYPE_CHECKING:
    from .accounts import CaregiverProfile, ProviderProfile, User
    from .scheduling import RespiteSession

# What a care card holds. Lists hold dicts: medications {name, dose, times};
# emergency contacts and the people authorised to drop off and pick up {name, relationship, phone}.
CARE_CARD_TEXT_FIELDS = ("needs", "allergies", "mobility", "diet", "routines", "behaviours", "communication")
CARE_CARD_LIST_FIELDS = ("medications", "emergency_contacts", "authorised_people")


class CareRecipient(Model):
    """The person cared for. Their care card is the newest of their CareCardVersions."""

    __tablename__ = "care_recipient"

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregiver_profile.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    # The number of the current care card version; 0 until the first card is saved.
    card_number: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    caregiver: Mapped["CaregiverProfile"] = relationship(back_populates="recipients")
    card: Mapped["CareCardVersion | None"] = relationship(
        primaryjoin="and_(CareCardVersion.recipient_id == CareRecipient.id, "
        "CareCardVersion.number == CareRecipient.card_number)",
        viewonly=True,
        uselist=False,
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def short_name(self) -> str:
        """First name and last initial: what a shared kiosk screen may show."""
        return f"{self.first_name} {self.last_name[:1]}."


class CareCardVersion(Model):
    """One saved state of a care card. Never changed: a save adds the next number."""

    __tablename__ = "care_card_version"
    __table_args__ = (UniqueConstraint("recipient_id", "number", name="uq_care_card_version_recipient_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("care_recipient.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipient: Mapped[CareRecipient] = relationship()
    author: Mapped["User | None"] = relationship()

    def text(self, field: str) -> str:
        return str(self.content.get(field) or "")

    def items(self, field: str) -> list[dict[str, str]]:
        return list(self.content.get(field) or [])


class CareCardAcknowledgement(Model):
    """A provider has read this version of the care card (before a session with the person)."""

    __tablename__ = "care_card_acknowledgement"
    __table_args__ = (
        UniqueConstraint("card_version_id", "provider_id", name="uq_care_card_acknowledgement_version_provider"),
        Index("ix_care_card_acknowledgement_provider_id", "provider_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_version_id: Mapped[int] = mapped_column(ForeignKey("care_card_version.id", ondelete="CASCADE"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider_profile.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("respite_session.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    card_version: Mapped[CareCardVersion] = relationship()
    provider: Mapped["ProviderProfile"] = relationship()
    session: Mapped["RespiteSession | None"] = relationship()
