"""The domain model: every table of the app, its constraints and indexes.

Models hold data and small derived facts (a display name, whether an account
is locked). Rules that change state live in the services of each area; the
schema itself is created by the Alembic migrations under migrations/.
"""

from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

ROLES = ("caregiver", "provider", "coordinator", "kiosk")
SESSION_STATUSES = ("requested", "confirmed", "checked_in", "completed", "cancelled", "declined", "no_show")
ASSIGNMENT_STATUSES = ("offered", "accepted", "declined", "cancelled")
CAREGIVER_TYPES = ("spouse", "adult_child", "parent", "other_family", "friend", "other")


def utcnow():
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always read back timezone-aware.

    PostgreSQL keeps `timestamptz`; SQLite has no zone, so values are
    converted to UTC on the way in and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware one is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _in(column, values):
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique index is case-insensitive in effect.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("center.id", ondelete="RESTRICT"), index=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    center: Mapped["Center | None"] = relationship(back_populates="kiosk_users")
    caregiver_profile: Mapped["CaregiverProfile | None"] = relationship(back_populates="user", uselist=False)
    provider_profile: Mapped["ProviderProfile | None"] = relationship(back_populates="user", uselist=False)

    @property
    def is_active(self):  # Flask-Login refuses inactive accounts
        return bool(self.active)

    @property
    def has_password(self):
        return self.password_hash is not None

    def is_locked(self, now=None):
        return self.locked_until is not None and self.locked_until > (now or utcnow())

    def __repr__(self):
        return f"<User {self.id} {self.role}>"


class Center(db.Model):
    __tablename__ = "center"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kiosk_users: Mapped[list[User]] = relationship(back_populates="center")


class CaregiverProfile(db.Model):
    __tablename__ = "caregiver_profile"
    __table_args__ = (
        CheckConstraint(_in("caregiver_type", CAREGIVER_TYPES), name="caregiver_type"),
        CheckConstraint("annual_allotment_minutes >= 0", name="allotment_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="")
    caregiver_type: Mapped[str] = mapped_column(String(20), default="other_family")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    annual_allotment_minutes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="caregiver_profile")
    recipients: Mapped[list["CareRecipient"]] = relationship(
        back_populates="caregiver", order_by="CareRecipient.first_name"
    )


class CareRecipient(db.Model):
    """The person cared for; these fields are the care card a provider reads."""

    __tablename__ = "care_recipient"

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregiver_profile.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[datetime | None] = mapped_column(Date)
    needs: Mapped[str] = mapped_column(Text, default="")
    medications: Mapped[str] = mapped_column(Text, default="")
    allergies: Mapped[str] = mapped_column(Text, default="")
    routines: Mapped[str] = mapped_column(Text, default="")
    emergency_contacts: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    caregiver: Mapped[CaregiverProfile] = relationship(back_populates="recipients")

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}"

    @property
    def short_name(self):
        """First name and last initial: what a shared kiosk screen may show."""
        return f"{self.first_name} {self.last_name[:1]}."


class ProviderProfile(db.Model):
    __tablename__ = "provider_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("center.id", ondelete="SET NULL"), index=True)
    skills: Mapped[str] = mapped_column(Text, default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="provider_profile")
    center: Mapped[Center | None] = relationship()


class Availability(db.Model):
    """When a provider can work: a weekly window, or a stretch of time off."""

    __tablename__ = "availability"
    __table_args__ = (
        CheckConstraint(_in("kind", ("weekly", "time_off")), name="kind"),
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

    provider: Mapped[ProviderProfile] = relationship()


class RespiteSession(db.Model):
    __tablename__ = "respite_session"
    __table_args__ = (
        CheckConstraint(_in("status", SESSION_STATUSES), name="status"),
        CheckConstraint(_in("location_kind", ("center", "home")), name="location_kind"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        CheckConstraint("location_kind = 'home' OR center_id IS NOT NULL", name="center_given"),
        Index("ix_respite_session_status_starts_at", "status", "starts_at"),
        Index("ix_respite_session_caregiver_starts_at", "caregiver_id", "starts_at"),
        Index("ix_respite_session_center_starts_at", "center_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    caregiver_id: Mapped[int] = mapped_column(ForeignKey("caregiver_profile.id", ondelete="RESTRICT"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("care_recipient.id", ondelete="RESTRICT"), index=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("center.id", ondelete="RESTRICT"))
    location_kind: Mapped[str] = mapped_column(String(10), default="center")
    address: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="requested")
    request_notes: Mapped[str] = mapped_column(Text, default="")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    kiosk_code: Mapped[str | None] = mapped_column(String(12), unique=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    series_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    caregiver: Mapped[CaregiverProfile] = relationship()
    recipient: Mapped[CareRecipient] = relationship()
    center: Mapped[Center | None] = relationship()
    assignments: Mapped[list["Assignment"]] = relationship(back_populates="session")

    @property
    def minutes(self):
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class Assignment(db.Model):
    """A provider on a session.

    starts_at/ends_at copy the session's times so that the database itself can
    refuse two overlapping accepted assignments for one provider (an exclusion
    constraint on PostgreSQL, created in the migration).
    """

    __tablename__ = "assignment"
    __table_args__ = (
        CheckConstraint(_in("status", ASSIGNMENT_STATUSES), name="status"),
        CheckConstraint("starts_at < ends_at", name="starts_before_ends"),
        UniqueConstraint("session_id", "provider_id", name="uq_assignment_session_provider"),
        Index("ix_assignment_provider_starts_at", "provider_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("respite_session.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider_profile.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(20), default="offered")
    reason: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[RespiteSession] = relationship(back_populates="assignments")
    provider: Mapped[ProviderProfile] = relationship()


class VisitNote(db.Model):
    __tablename__ = "visit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("respite_session.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[RespiteSession] = relationship()
    author: Mapped[User] = relationship()


class Conversation(db.Model):
    __tablename__ = "conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("respite_session.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    session: Mapped[RespiteSession | None] = relationship()
    participants: Mapped[list["Participant"]] = relationship(back_populates="conversation")
    messages: Mapped[list["Message"]] = relationship(back_populates="conversation", order_by="Message.id")


class Participant(db.Model):
    __tablename__ = "participant"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id", name="uq_participant_conversation_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # The newest message this participant has seen: read receipts and unread counts.
    last_read_message_id: Mapped[int | None] = mapped_column(Integer)
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="participants")
    user: Mapped[User] = relationship()


class Message(db.Model):
    __tablename__ = "message"
    __table_args__ = (Index("ix_message_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    body: Mapped[str | None] = mapped_column(Text)  # None once purged by the retention policy
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    sender: Mapped[User] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="message")


class Attachment(db.Model):
    """A file sent with a message, stored encrypted outside static/ under storage_key."""

    __tablename__ = "attachment"
    __table_args__ = (CheckConstraint("size_bytes >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    message: Mapped[Message] = relationship(back_populates="attachments")


class AuditLog(db.Model):
    """Append-only record of what happened; each row's hash covers the previous one."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id"),
        Index("ix_audit_log_actor_created_at", "actor_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str] = mapped_column(String(40), default="")
    entity_id: Mapped[str] = mapped_column(String(40), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    meta: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(45), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64), unique=True)

    actor: Mapped[User | None] = relationship()


# Used by the seed and tests to count rows without importing each model.
ALL_MODELS = (
    User,
    Center,
    CaregiverProfile,
    CareRecipient,
    ProviderProfile,
    Availability,
    RespiteSession,
    Assignment,
    VisitNote,
    Conversation,
    Participant,
    Message,
    Attachment,
    AuditLog,
)
