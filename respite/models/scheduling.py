"""Respite sessions, the providers assigned to them, availability and visit notes.

The statuses are enums; the database's check constraints are built from them,
and the allowed transitions between them live in respite.scheduling.lifecycle.
"""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from .accounts import CaregiverProfile, Center, ProviderProfile, User
    from .care import CareRecipient


class SessionStatus(StrEnum):
    REQUESTED = "requested"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class AssignmentStatus(StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class LocationKind(StrEnum):
    CENTER = "center"
    HOME = "home"


class AvailabilityKind(StrEnum):
    WEEKLY = "weekly"
    TIME_OFF = "time_off"


class Availability(Model):
    """When a provider can work: a weekly window, or a stretch of time off."""

    __tablename__ = "availability"
    __table_args__ = (
        CheckConstraint(one_of("kind", AvailabilityKind), name="kind"),
        CheckConstraint(
            "(kind = 'weekly' AND weekday BETWEEN 0 AND 6 AND start_minute >= 0"
            " AND end_minute <= 1440 AND start_minute < end_minute)"
            " OR (kind = 'time_off' AND starts_at IS NOT NULL AND ends_at IS NOT NULL"
            " AND starts_at < ends_at)",
            name="window",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider_profile.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    weekday: Mapped[int | None] = mapped_column(Integer)  # 0 = Monday, in the provider's zone
    start_minute: Mapped[int | None] = mapped_column(Integer)
    end_minute: Mapped[int | None] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200), default="")

    provider: Mapped["ProviderProfile"] = relationship()


class RespiteSession(Model):
    __tablename__ = "respite_session"
    __table_args__ = (
        CheckConstraint(one_of("status", SessionStatus), name="status"),
        CheckConstraint(one_of("location_kind", LocationKind), name="location_kind"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint("location_kind = 'home' OR center_id IS NOT NULL", name="center_given"),
        Index("ix_respite_session_status_starts_at", "status", "starts_at"),
        Index("ix_respite_session_caregiver_starts_at", "caregiver_id", "starts_at"),
        Index("ix_respite_session_center_starts_at", "center_id", "starts_at"),
        # A double tap sends one request twice: the second finds the first (one row per occurrence).
        Index("uq_respite_session_request_key_starts_at", "request_key", "starts_at", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregiver_profile.id", ondelete="RESTRICT"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("care_recipient.id", ondelete="RESTRICT"), index=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("center.id", ondelete="RESTRICT"))
    location_kind: Mapped[str] = mapped_column(String(10), default=LocationKind.CENTER)
    address: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default=SessionStatus.REQUESTED)
    request_notes: Mapped[str] = mapped_column(Text, default="")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # Not used: a session's kiosk code is derived from it and its day, never stored (respite.kiosk.services).
    # The column stays because SQLite can't drop a column with a unique constraint in place.
    kiosk_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When `flask send-reminders` told the caregiver and the provider (once per session).
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    series_id: Mapped[str | None] = mapped_column(String(36), index=True)
    request_key: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    caregiver: Mapped["CaregiverProfile"] = relationship()
    recipient: Mapped["CareRecipient"] = relationship()
    center: Mapped["Center | None"] = relationship()
    assignments: Mapped[list["Assignment"]] = relationship(back_populates="session")

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def status_label(self) -> str:
        return SessionStatus(self.status).label


class Assignment(Model):
    """A provider on a session.

    starts_at/ends_at copy the session's times so that the database itself can
    refuse two overlapping accepted assignments for one provider (an exclusion
    constraint on PostgreSQL, created in the migration).
    """

    __tablename__ = "assignment"
    __table_args__ = (
        CheckConstraint(one_of("status", AssignmentStatus), name="status"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        UniqueConstraint("session_id", "provider_id", name="uq_assignment_session_provider"),
        Index("ix_assignment_provider_starts_at", "provider_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("respite_session.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider_profile.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default=AssignmentStatus.OFFERED)
    reason: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[RespiteSession] = relationship(back_populates="assignments")
    provider: Mapped["ProviderProfile"] = relationship()


class VisitNote(Model):
    """What the provider records after a session: one note per session, which its caregiver and coordinators read."""

    __tablename__ = "visit_note"
    __table_args__ = (Index("uq_visit_note_session_id", "session_id", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("respite_session.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    went_well: Mapped[str] = mapped_column(Text, default="")
    concerns: Mapped[str] = mapped_column(Text, default="")
    medication_given: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[RespiteSession] = relationship()
    author: Mapped["User"] = relationship()
