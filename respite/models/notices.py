"""Notices: what changed for a person (a session confirmed, cancelled, checked in, a new message…), and how
each person wants to hear of each kind besides the notices list (by email or not)."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, one_of, utcnow

if TYPE_CHECKING:
    from .accounts import User


class NoticeKind(StrEnum):
    CONFIRMED = "confirmed"  # a session was confirmed (by whom)
    PROVIDER_CHANGED = "provider_changed"  # another provider gives it now
    TIME_CHANGED = "time_changed"  # its time or place moved
    CANCELLED = "cancelled"  # with the reason
    DECLINED = "declined"  # a request the program can't fill, with the reason
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    CARE_CARD_CHANGED = "care_card_changed"  # before a session the reader will give
    MESSAGE = "message"  # a new message in one of the reader's conversations
    REMINDER = "reminder"  # the day before a session
    HANDOVER = "handover"  # someone not on the authorised list dropped off or collected

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def emailed_by_default(self) -> bool:
        return self in _EMAILED_BY_DEFAULT


_LABELS = {
    NoticeKind.CONFIRMED: "A session is confirmed",
    NoticeKind.PROVIDER_CHANGED: "The provider of a session changes",
    NoticeKind.TIME_CHANGED: "A session's time or place changes",
    NoticeKind.CANCELLED: "A session is cancelled",
    NoticeKind.DECLINED: "A request is declined",
    NoticeKind.CHECKED_IN: "Someone is checked in",
    NoticeKind.CHECKED_OUT: "Someone is checked out",
    NoticeKind.CARE_CARD_CHANGED: "A care card changes before a session you give",
    NoticeKind.MESSAGE: "A new message arrives",
    NoticeKind.REMINDER: "The day before a session",
    NoticeKind.HANDOVER: "Someone not on the list drops off or collects",
}
# What matters even when the person is not looking at the app.
_EMAILED_BY_DEFAULT = {
    NoticeKind.PROVIDER_CHANGED,
    NoticeKind.TIME_CHANGED,
    NoticeKind.CANCELLED,
    NoticeKind.DECLINED,
    NoticeKind.REMINDER,
    NoticeKind.HANDOVER,
}


class Notice(Model):
    """One thing that changed, told to one person; read once they open it."""

    __tablename__ = "notice"
    __table_args__ = (
        CheckConstraint(one_of("kind", NoticeKind), name="kind"),
        Index("ix_notice_user_id_id", "user_id", "id"),
        Index("ix_notice_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    # What it is about (at most one of them, or none): the notice links there.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("respite_session.id", ondelete="SET NULL"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id", ondelete="SET NULL"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("care_recipient.id", ondelete="SET NULL"), index=True)
    # Who made the change (None for the program itself, e.g. a reminder).
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # The sentence shown, written when the change happened (names as they were then).
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped["User"] = relationship(foreign_keys=[user_id])
    actor: Mapped["User | None"] = relationship(foreign_keys=[actor_id])

    @property
    def kind_label(self) -> str:
        return NoticeKind(self.kind).label


class NoticePreference(Model):
    """A person's choice for one kind of notice; without a row the kind's default holds."""

    __tablename__ = "notice_preference"
    __table_args__ = (CheckConstraint(one_of("kind", NoticeKind), name="kind"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    by_email: Mapped[bool] = mapped_column(Boolean)
