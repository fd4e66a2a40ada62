"""Who uses Respite: accounts and their roles, centers, and the caregiver's and provider's profiles."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from .care import CareRecipient


class Role(StrEnum):
    CAREGIVER = "caregiver"
    PROVIDER = "provider"
    COORDINATOR = "coordinator"
    KIOSK = "kiosk"


class CaregiverType(StrEnum):
    SPOUSE = "spouse"
    ADULT_CHILD = "adult_child"
    PARENT = "parent"
    OTHER_FAMILY = "other_family"
    FRIEND = "friend"
    OTHER = "other"


class User(UserMixin, Model):
    __tablename__ = "user_account"
    __table_args__ = (CheckConstraint(one_of("role", Role), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased, so the unique index is case-insensitive in effect.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("center.id", ondelete="RESTRICT"), index=True)
    # Part of every sign-in's session: bumping it ends every sign-in of this user at once.
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    # Two-step sign-in (TOTP): the secret, when it was confirmed (None: not on), and the last time step
    # accepted, so that no code is accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # SHA-256 of the secret in the user's calendar feed address; None when no feed is on.
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the person's details were erased on request (respite.admin.services.erase_user); the row stays.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    center: Mapped["Center | None"] = relationship(back_populates="kiosk_users")
    caregiver_profile: Mapped["CaregiverProfile | None"] = relationship(back_populates="user", uselist=False)
    provider_profile: Mapped["ProviderProfile | None"] = relationship(back_populates="user", uselist=False)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return bool(self.active)

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def has_two_factor(self) -> bool:
        return self.totp_secret is not None and self.totp_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class EmailLinkPurpose(StrEnum):
    SIGN_UP = "sign_up"  # confirms a new caregiver's email; the account is made when it is used
    RESET = "reset"  # sets a new password
    INVITATION = "invitation"  # an invited account's first password; a newer one, or withdrawing it, ends it


class EmailLink(Model):
    """A single-use link sent by email. Only the SHA-256 of its secret is kept; `used_at` ends it."""

    __tablename__ = "email_link"
    __table_args__ = (CheckConstraint(one_of("purpose", EmailLinkPurpose), name="purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # What the account will be made with (sign-up): name, zone and the password's hash, never the password.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()


class RecoveryCode(Model):
    """A one-time code that stands in for the authenticator app; only its SHA-256 is kept."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Center(Model):
    __tablename__ = "center"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    address: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # When it is open, in its own zone: weekday ("mon".."sun") -> ["09:00", "17:00"]; a day not named is closed.
    opening_hours: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # The argon2 hash of the PIN a staff member types at this center's kiosks to let someone not on a care
    # card's list drop off or collect (respite.kiosk.services); None: no PIN set, so no one off the list.
    kiosk_pin_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    kiosk_users: Mapped[list[User]] = relationship(back_populates="center")


class CaregiverProfile(Model):
    __tablename__ = "caregiver_profile"
    __table_args__ = (
        CheckConstraint(one_of("caregiver_type", CaregiverType), name="caregiver_type"),
        CheckConstraint("annual_allotment_minutes >= 0", name="allotment_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="")
    caregiver_type: Mapped[str] = mapped_column(String(20), default=CaregiverType.OTHER_FAMILY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    annual_allotment_minutes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="caregiver_profile")
    recipients: Mapped[list["CareRecipient"]] = relationship(
        back_populates="caregiver", order_by="CareRecipient.first_name"
    )


class ProviderProfile(Model):
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
