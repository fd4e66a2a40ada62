"""The front desk: tablets paired with a center, the one-time codes that pair them, and who handed over whom.

A KioskDevice is not a person's sign-in: it holds a long-lived credential
(only its SHA-256 is kept) that a coordinator can revoke. A Handover records
who brought the person cared for and who collected them, checked against the
care card's list of people allowed to do so.
"""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import Role
from .base import Model, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from .accounts import Center, User
    from .scheduling import RespiteSession


class KioskDevice(Model):
    """A tablet paired with one center. Revoked: `revoked_at` is set, and its credential opens nothing."""

    __tablename__ = "kiosk_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The coordinator whose pairing code made it.
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # Noted at most once a minute (respite.kiosk.services.SEEN_RESOLUTION).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    center: Mapped["Center"] = relationship()
    created_by: Mapped["User | None"] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped["User | None"] = relationship(foreign_keys=[revoked_by_id])

    # What the visit services ask of whoever records a check-in: a role, and the zone its times are read in.
    role = Role.KIOSK

    @property
    def timezone(self) -> str:
        return self.center.timezone

    @property
    def center_name(self) -> str:
        return self.center.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def __repr__(self) -> str:
        return f"<KioskDevice {self.id} center={self.center_id}>"


class KioskPairing(Model):
    """A one-time pairing code a coordinator made for a center; only its SHA-256 is kept, `used_at` ends it."""

    __tablename__ = "kiosk_pairing"

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(ForeignKey("center.id", ondelete="CASCADE"), index=True)
    # The name the paired tablet will carry ("Front desk").
    device_name: Mapped[str] = mapped_column(String(80))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("kiosk_device.id", ondelete="SET NULL"))

    center: Mapped["Center"] = relationship()


class HandoverKind(StrEnum):
    DROP_OFF = "drop_off"  # at check-in: who brought the person
    PICK_UP = "pick_up"  # at check-out: who collected them


class HandoverConfirmation(StrEnum):
    """How someone not on the care card's list was let through."""

    STAFF_PIN = "staff_pin"  # a staff member typed the center's PIN at the kiosk


class Handover(Model):
    """Who brought or collected the person at one session: one drop-off and one pick-up at most."""

    __tablename__ = "handover"
    __table_args__ = (
        CheckConstraint(one_of("kind", HandoverKind), name="kind"),
        CheckConstraint(one_of("confirmed_by", HandoverConfirmation), name="confirmed_by"),
        CheckConstraint("on_list OR confirmed_by IS NOT NULL", name="confirmed_unless_on_list"),
        UniqueConstraint("session_id", "kind", name="uq_handover_session_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("respite_session.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    person_name: Mapped[str] = mapped_column(String(120))
    person_relationship: Mapped[str] = mapped_column(String(80), default="")
    # Whether the person was on the care card's list of people allowed to drop off and pick up.
    on_list: Mapped[bool] = mapped_column(Boolean)
    confirmed_by: Mapped[str | None] = mapped_column(String(20))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("kiosk_device.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped["RespiteSession"] = relationship()
    device: Mapped[KioskDevice | None] = relationship()

    @property
    def kind_label(self) -> str:
        return "Brought by" if self.kind == HandoverKind.DROP_OFF else "Collected by"
