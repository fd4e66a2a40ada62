"""Care: the caregiver's profile, the people they care for, and their versioned care cards.

Queries, the scoped loader (`get_recipient_for`) and one function per change:
guard (PermissionError when the actor may never do it, CareError with a message
safe to show when it can't happen now), change rows, audit row, live event,
flush. Nothing here commits: the view or command that calls it does.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from .. import audit, realtime
from ..extensions import db
from ..models import (
    CARE_CARD_LIST_FIELDS,
    CARE_CARD_TEXT_FIELDS,
    Assignment,
    AssignmentStatus,
    CareCardAcknowledgement,
    CareCardVersion,
    CaregiverProfile,
    CareRecipient,
    NoticeKind,
    ProviderProfile,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    utcnow,
)
from ..notices import services as notices
from ..scheduling.lifecycle import ACTIVE_SESSION_STATUSES, LIVE_ASSIGNMENT_STATUSES
from ..timefmt import zone_or_utc

# The keys each list entry of a care card keeps.
LIST_ITEM_KEYS = {
    "medications": ("name", "dose", "times"),
    "emergency_contacts": ("name", "relationship", "phone"),
    "authorised_people": ("name", "relationship", "phone"),
}
TEXT_LIMIT = 4000
ITEM_TEXT_LIMIT = 200
LIST_LIMIT = 20
NAME_LIMIT = 80  # care_recipient.first_name / last_name
EARLIEST_BIRTH_YEAR = 1900


class CareError(Exception):
    """A change that can't happen now; the message is safe to show. `field` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- Queries -----------------------------------------------------------------------


def caregiver_profile_for(user: User) -> CaregiverProfile | None:
    return db.session.scalar(select(CaregiverProfile).where(CaregiverProfile.user_id == user.id))


def recipients_for(profile: CaregiverProfile) -> Sequence[CareRecipient]:
    """The caregiver's active people, by first name (deactivated people are left out)."""
    return db.session.scalars(
        select(CareRecipient)
        .where(CareRecipient.caregiver_id == profile.id, CareRecipient.active.is_(True))
        .order_by(CareRecipient.first_name, CareRecipient.id)
    ).all()


@dataclass(frozen=True)
class PeopleOverview:
    """What the caregiver's first steps depend on: their active people, and whether they ever asked for a session."""

    recipients: Sequence[CareRecipient]
    has_sessions: bool


def people_overview(profile: CaregiverProfile) -> PeopleOverview:
    """`recipients_for` and whether the caregiver has any session at all, in one statement."""
    any_session = exists().where(RespiteSession.caregiver_id == profile.id)
    rows = db.session.execute(
        select(CareRecipient, any_session.label("has_sessions"))
        .where(CareRecipient.caregiver_id == profile.id, CareRecipient.active.is_(True))
        .order_by(CareRecipient.first_name, CareRecipient.id)
    ).all()
    return PeopleOverview(recipients=[row[0] for row in rows], has_sessions=bool(rows and rows[0].has_sessions))


def get_recipient_for(user: User, recipient_id: int) -> CareRecipient | None:
    """The person `recipient_id` if `user` may see them, else None (the view answers 404).

    A caregiver sees their own people (deactivated ones too: their history stays);
    a provider the people whose sessions they hold a live (offered or accepted)
    assignment on; a coordinator everyone; a kiosk no one.
    """
    query = (
        select(CareRecipient)
        .join(CareRecipient.caregiver)
        .options(contains_eager(CareRecipient.caregiver))
        .where(CareRecipient.id == recipient_id)
    )
    if user.role == Role.CAREGIVER:
        query = query.where(CaregiverProfile.user_id == user.id)
    elif user.role == Role.PROVIDER:
        query = query.where(
            exists()
            .where(
                RespiteSession.recipient_id == CareRecipient.id,
                Assignment.session_id == RespiteSession.id,
                Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
                Assignment.provider_id == ProviderProfile.id,
                ProviderProfile.user_id == user.id,
            )
            .correlate(CareRecipient)
        )
    elif user.role != Role.COORDINATOR:
        return None
    return db.session.scalar(query)


def may_manage(actor: User, recipient: CareRecipient) -> bool:
    """The person's own caregiver, or a coordinator, may change who they are and their card."""
    if actor.role == Role.COORDINATOR:
        return True
    return actor.role == Role.CAREGIVER and recipient.caregiver.user_id == actor.id


def may_change(actor: User, recipient: CareRecipient) -> bool:
    """May `actor` change this person now (their family or a coordinator, while the person is active)?"""
    return recipient.active and may_manage(actor, recipient)


def today_for(user: User, now: datetime | None = None) -> date:
    """Today's date in the user's own zone."""
    return (now or utcnow()).astimezone(zone_or_utc(user.timezone)).date()


def age_on(date_of_birth: date | None, today: date) -> int | None:
    """Age in whole years on `today` (None without a date of birth)."""
    if date_of_birth is None:
        return None
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - before_birthday


# --- Checks shared by adding and editing a person -------------------------------------


def _clean_name(value: str, field: str, what: str) -> str:
    name = value.strip()
    if not name:
        raise CareError(f"Enter their {what}.", field)
    if len(name) > NAME_LIMIT:
        raise CareError(f"Use at most {NAME_LIMIT} characters.", field)
    return name


def check_date_of_birth(date_of_birth: date | None, today: date) -> None:
    """CareError when a date of birth is in the future or implausibly long ago (None is fine: it is optional)."""
    if date_of_birth is None:
        return
    if date_of_birth > today:
        raise CareError("A date of birth can't be in the future.", "date_of_birth")
    if date_of_birth.year < EARLIEST_BIRTH_YEAR:
        raise CareError(f"Enter a date of birth after {EARLIEST_BIRTH_YEAR}.", "date_of_birth")


# --- Changes to a person -------------------------------------------------------------


def add_recipient(
    actor: User,
    profile: CaregiverProfile,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date | None = None,
    today: date | None = None,
) -> CareRecipient:
    """Add a person `profile`'s caregiver looks after (the caregiver themselves, or a coordinator)."""
    if not (actor.role == Role.COORDINATOR or (actor.role == Role.CAREGIVER and profile.user_id == actor.id)):
        raise PermissionError("Only the family or a coordinator can add the people they care for.")
    first = _clean_name(first_name, "first_name", "first name")
    last = _clean_name(last_name, "last_name", "last name")
    check_date_of_birth(date_of_birth, today or today_for(actor))
    recipient = CareRecipient(caregiver=profile, first_name=first, last_name=last, date_of_birth=date_of_birth)
    db.session.add(recipient)
    db.session.flush()
    audit.record("care.recipient_add", recipient, actor=actor, summary=f"Added {recipient.full_name}")
    return recipient


def _refuse_change(actor: User, recipient: CareRecipient, what: str) -> None:
    if not may_manage(actor, recipient):
        raise PermissionError(f"Only the family or a coordinator can {what}.")
    if not recipient.active:
        raise CareError(f"{recipient.full_name} is no longer active; nothing about them can be changed.")


def update_recipient(
    actor: User,
    recipient: CareRecipient,
    *,
    first_name: str,
    last_name: str,
    date_of_birth: date | None,
    today: date | None = None,
) -> bool:
    """Change a person's name or date of birth; False when nothing changed (and nothing is recorded)."""
    _refuse_change(actor, recipient, "change a person's details")
    new = {
        "first_name": _clean_name(first_name, "first_name", "first name"),
        "last_name": _clean_name(last_name, "last_name", "last name"),
        "date_of_birth": date_of_birth,
    }
    check_date_of_birth(date_of_birth, today or today_for(actor))
    changed = sorted(key for key, value in new.items() if getattr(recipient, key) != value)
    if not changed:
        return False
    for key in changed:
        setattr(recipient, key, new[key])
    audit.record(
        "care.recipient_update",
        recipient,
        actor=actor,
        summary=f"Details of {recipient.full_name} changed",
        meta={"changed": changed},
    )
    db.session.flush()
    return True


def coming_sessions_count(recipient: CareRecipient, now: datetime | None = None) -> int:
    """How many of the person's sessions are still to happen or happening (requested, confirmed, checked in)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(RespiteSession)
            .where(
                RespiteSession.recipient_id == recipient.id,
                RespiteSession.status.in_(ACTIVE_SESSION_STATUSES),
                RespiteSession.ends_at >= (now or utcnow()),
            )
        )
        or 0
    )


def deactivate_recipient(actor: User, recipient: CareRecipient, *, now: datetime | None = None) -> None:
    """Take a person off every list and the request form; their sessions and care cards stay as history.

    Refused while they have coming sessions: those are cancelled first, each with its reason.
    """
    _refuse_change(actor, recipient, "deactivate a person")
    coming = coming_sessions_count(recipient, now)
    if coming:
        sessions = "a coming session" if coming == 1 else f"{coming} coming sessions"
        raise CareError(f"{recipient.first_name} has {sessions}. Cancel {'it' if coming == 1 else 'them'} first.")
    recipient.active = False
    audit.record("care.recipient_deactivate", recipient, actor=actor, summary=f"Deactivated {recipient.full_name}")
    db.session.flush()


# --- The care card ----------------------------------------------------------------------


def clean_card(content: Mapping[str, Any]) -> dict[str, Any]:
    """A care card's content with every known field, trimmed; empty list rows dropped, unknown keys ignored."""
    card: dict[str, Any] = {}
    for field in CARE_CARD_TEXT_FIELDS:
        # A browser sends line breaks as CRLF: the same text, so the same card.
        card[field] = str(content.get(field) or "").replace("\r\n", "\n").strip()[:TEXT_LIMIT]
    for field in CARE_CARD_LIST_FIELDS:
        rows = []
        for item in content.get(field) or []:
            row = {key: str(item.get(key) or "").strip()[:ITEM_TEXT_LIMIT] for key in LIST_ITEM_KEYS[field]}
            if any(row.values()):
                rows.append(row)
        card[field] = rows[:LIST_LIMIT]
    return card


def save_care_card(
    actor: User, recipient: CareRecipient, content: Mapping[str, Any], *, expected_number: int | None = None
) -> CareCardVersion | None:
    """Save `content` as the next version of the person's care card; None when nothing changed.

    `expected_number` is the version the editor started from: when someone saved
    another version since, CareError (their save would silently undo it).
    """
    if not may_manage(actor, recipient):
        raise PermissionError("Only the family or a coordinator can change a care card.")
    if not recipient.active:
        raise CareError(f"{recipient.full_name} is no longer active; their care card can't be changed.")
    if expected_number is not None and expected_number != recipient.card_number:
        raise CareError(
            f"Someone saved version {recipient.card_number} of this care card while you were editing. "
            "Your changes are still below: check them and save again."
        )
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
    _tell_card_readers(actor, recipient, version.number, changed)
    return version


def _tell_card_readers(actor: User, recipient: CareRecipient, number: int, changed: list[str]) -> None:
    """The providers who will give the person a confirmed session (or are giving one now) hear that the card
    changed, which parts (never what they say), and before which of their sessions."""
    next_start = func.min(RespiteSession.starts_at)
    rows = db.session.execute(
        select(User, next_start)
        .join(ProviderProfile, ProviderProfile.user_id == User.id)
        .join(Assignment, Assignment.provider_id == ProviderProfile.id)
        .join(RespiteSession, Assignment.session_id == RespiteSession.id)
        .where(
            RespiteSession.recipient_id == recipient.id,
            RespiteSession.status.in_((SessionStatus.CONFIRMED, SessionStatus.CHECKED_IN)),
            RespiteSession.ends_at >= utcnow(),
            Assignment.status == AssignmentStatus.ACCEPTED,
        )
        .group_by(User.id)
    ).all()
    if not rows:
        return
    starts = {user.id: at for user, at in rows}
    what = (
        f"changed {recipient.full_name}'s care card (version {number}: "
        + notices.names([part.replace("_", " ") for part in changed])
        + ")"
    )
    if number == 1:
        what = f"wrote {recipient.full_name}'s care card"

    def sentence(reader: User) -> str:
        return (
            f"{actor.display_name} {what}. Read it before your session on {notices.moment(starts[reader.id], reader)}."
        )

    notices.tell([user for user, _ in rows], NoticeKind.CARE_CARD_CHANGED, sentence, actor=actor, recipient=recipient)


def record_card_read(actor: User, recipient: CareRecipient, *, purpose: str = "view") -> bool:
    """Audit that `actor` was shown the person's current care card; False (nothing recorded) when there is none.

    `recipient` comes from `get_recipient_for(actor, ...)`, which has checked that the actor may see it.
    """
    card = recipient.card
    if card is None:
        return False
    audit.record(
        "care.card_read",
        recipient,
        actor=actor,
        summary=f"Care card of {recipient.full_name} (version {card.number}) read",
        meta={"version": card.number, "purpose": purpose},
    )
    return True


def _live_assignment_exists(provider_id: int, recipient: CareRecipient, session: RespiteSession | None) -> bool:
    query = (
        select(Assignment.id)
        .join(RespiteSession, Assignment.session_id == RespiteSession.id)
        .where(
            RespiteSession.recipient_id == recipient.id,
            Assignment.provider_id == provider_id,
            Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
        )
        .limit(1)
    )
    if session is not None:
        query = query.where(RespiteSession.id == session.id)
    return db.session.scalar(query) is not None


def existing_acknowledgement(version: CareCardVersion, provider_id: int) -> CareCardAcknowledgement | None:
    return db.session.scalar(
        select(CareCardAcknowledgement).where(
            CareCardAcknowledgement.card_version_id == version.id, CareCardAcknowledgement.provider_id == provider_id
        )
    )


def acknowledge_care_card(
    actor: User, recipient: CareRecipient, session: RespiteSession | None = None
) -> CareCardAcknowledgement:
    """A provider assigned to one of the person's sessions has read the current version of their care card.

    Idempotent: acknowledging a version again returns the first acknowledgement
    and records nothing more. The caregiver's open pages hear of it (a `session` event).
    """
    refusal = PermissionError("Only a provider assigned to this person's sessions can acknowledge their care card.")
    provider = actor.provider_profile if actor.role == Role.PROVIDER else None
    if provider is None:
        raise refusal
    if session is not None and session.recipient_id != recipient.id:
        raise refusal
    if not _live_assignment_exists(provider.id, recipient, session):
        raise refusal
    version = recipient.card
    if version is None:
        raise CareError(f"{recipient.first_name} has no care card yet.")
    if (found := existing_acknowledgement(version, provider.id)) is not None:
        return found
    acknowledgement = CareCardAcknowledgement(
        card_version=version, provider_id=provider.id, session_id=session.id if session else None
    )
    try:
        with db.session.begin_nested():  # a double tap in another transaction may have won the race
            db.session.add(acknowledgement)
    except IntegrityError:
        if (found := existing_acknowledgement(version, provider.id)) is None:
            raise
        return found
    audit.record(
        "care.card_acknowledge",
        recipient,
        actor=actor,
        summary=f"{actor.display_name} read version {version.number} of the care card of {recipient.full_name}",
        meta={"version": version.number, "session_id": session.id if session else None},
    )
    realtime.publish_after_commit(
        realtime.EventType.SESSION, user_ids=[recipient.caregiver.user_id], recipient_id=recipient.id
    )
    db.session.flush()
    return acknowledgement


@dataclass(frozen=True)
class CardState:
    """Where a provider stands with a person's care card: the current version and the newest one they acknowledged."""

    current: int  # 0: the person has no card yet
    acknowledged: int | None

    @property
    def state(self) -> str:
        """ "none" (no card), "unread" (no version acknowledged), "changed" (an older one) or "current"."""
        if self.current == 0:
            return "none"
        if self.acknowledged is None:
            return "unread"
        return "current" if self.acknowledged >= self.current else "changed"


def card_state_for(actor: User, recipient: CareRecipient) -> CardState | None:
    """The provider's standing with `recipient`'s care card (one statement); None for anyone but a provider."""
    provider = actor.provider_profile if actor.role == Role.PROVIDER else None
    if provider is None:
        return None
    newest = db.session.scalar(
        select(func.max(CareCardVersion.number))
        .join(CareCardAcknowledgement, CareCardAcknowledgement.card_version_id == CareCardVersion.id)
        .where(CareCardVersion.recipient_id == recipient.id, CareCardAcknowledgement.provider_id == provider.id)
    )
    return CardState(current=recipient.card_number, acknowledged=newest)


@dataclass(frozen=True)
class CardReader:
    """A provider assigned to one of the person's coming sessions, and the newest card version they acknowledged."""

    provider_id: int
    name: str
    next_session_starts_at: datetime
    version: int | None  # None: they have acknowledged no version of this card
    current_version: int

    @property
    def state(self) -> str:
        """ "current", "older" or "none"."""
        if self.version is None:
            return "none"
        return "current" if self.version >= self.current_version else "older"


def acknowledgements_for(recipient: CareRecipient, now: datetime | None = None) -> list[CardReader]:
    """The providers with a live assignment on the person's coming sessions, and the version each has read."""
    read = (
        select(
            CareCardAcknowledgement.provider_id.label("provider_id"),
            func.max(CareCardVersion.number).label("number"),
        )
        .join(CareCardVersion, CareCardAcknowledgement.card_version_id == CareCardVersion.id)
        .where(CareCardVersion.recipient_id == recipient.id)
        .group_by(CareCardAcknowledgement.provider_id)
        .subquery()
    )
    next_start = func.min(RespiteSession.starts_at).label("next_start")
    rows = db.session.execute(
        select(ProviderProfile.id, User.display_name, next_start, read.c.number)
        .join(User, ProviderProfile.user_id == User.id)
        .join(Assignment, Assignment.provider_id == ProviderProfile.id)
        .join(RespiteSession, Assignment.session_id == RespiteSession.id)
        .outerjoin(read, read.c.provider_id == ProviderProfile.id)
        .where(
            RespiteSession.recipient_id == recipient.id,
            RespiteSession.status.in_(ACTIVE_SESSION_STATUSES),
            RespiteSession.ends_at >= (now or utcnow()),
            Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
        )
        .group_by(ProviderProfile.id, User.display_name, read.c.number)
        .order_by(next_start, User.display_name, ProviderProfile.id)
    ).all()
    return [
        CardReader(
            provider_id=provider_id,
            name=name,
            next_session_starts_at=starts,
            version=number,
            current_version=recipient.card_number,
        )
        for provider_id, name, starts, number in rows
    ]
