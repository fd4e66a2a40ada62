"""Coordinator work on the program's people and its audit log: reads, and the changes to someone's account.

Reads: everyone (`people`), one person (`get_user_for`, with what they are
committed to and their account's history), and pages of the audit log.

Changes, one function each: deactivating and reactivating an account,
changing a staff member's role, and erasing a person's details on request.
Each guards (PermissionError when the actor may never do it, AdminError with
a message safe to show when it can't happen now), changes rows, records the
audit row and flushes; the events go out after the view's commit. A
coordinator never acts on their own account here: another coordinator does.

Nothing here deletes a row. The audit log names users (its actor key is ON
DELETE RESTRICT, migration 0008), and sessions, assignments, care cards and
messages point at them, so an account ends by being deactivated and, on
request, erased.
"""

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Update, false, func, or_, select, update
from sqlalchemy.orm import joinedload

from .. import audit
from ..accounts.services import mask_email
from ..accounts.signins import end_every_sign_in
from ..extensions import db
from ..models import (
    Assignment,
    AuditLog,
    Availability,
    CareCardVersion,
    CaregiverProfile,
    CareRecipient,
    EmailLink,
    Message,
    ProviderProfile,
    RecoveryCode,
    RespiteSession,
    Role,
    User,
    VisitNote,
    utcnow,
)
from ..scheduling.lifecycle import ACTIVE_SESSION_STATUSES, LIVE_ASSIGNMENT_STATUSES
from ..text import has_control_characters

AUDIT_PAGE_SIZE = 50
HISTORY_LIMIT = 20
REASON_LIMIT = 500
# The roles a coordinator may move a staff member between.
ROLE_CHOICES = (Role.PROVIDER, Role.COORDINATOR)
# An erased account's address: unique (it carries the id), and .invalid can never receive mail (RFC 2606).
ERASED_EMAIL_DOMAIN = "erased.invalid"
ERASED_RECIPIENT_NAME = ("Erased", "person")


class AdminError(Exception):
    """A change that can't happen now; the message is safe to show."""


# --- Reads ---------------------------------------------------------------------------------------


def people() -> Sequence[User]:
    return db.session.scalars(
        select(User).options(joinedload(User.center)).order_by(User.role, User.display_name)
    ).all()


def recent_activity(limit: int = 8) -> Sequence[AuditLog]:
    return db.session.scalars(select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)).all()


def get_user_for(actor: User, user_id: int) -> User | None:
    """The account `user_id` if `actor` may manage it (coordinators run the program: every account), else None."""
    if actor.role != Role.COORDINATOR:
        return None
    return db.session.scalar(
        select(User)
        .options(
            joinedload(User.center),
            joinedload(User.caregiver_profile).selectinload(CaregiverProfile.recipients),
            joinedload(User.provider_profile),
        )
        .where(User.id == user_id)
    )


def coming_commitments(user: User, now: datetime | None = None) -> int:
    """Sessions still to happen that rest on `user`: a family's active requests and sessions, a provider's
    offers and accepted sessions. Erasing waits until they are cancelled or reassigned."""
    now = now or utcnow()
    if user.caregiver_profile is not None:
        return (
            db.session.scalar(
                select(func.count())
                .select_from(RespiteSession)
                .where(
                    RespiteSession.caregiver_id == user.caregiver_profile.id,
                    RespiteSession.status.in_(ACTIVE_SESSION_STATUSES),
                    RespiteSession.ends_at >= now,
                )
            )
            or 0
        )
    if user.provider_profile is not None:
        return (
            db.session.scalar(
                select(func.count())
                .select_from(Assignment)
                .join(RespiteSession, RespiteSession.id == Assignment.session_id)
                .where(
                    Assignment.provider_id == user.provider_profile.id,
                    Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
                    RespiteSession.status.in_(ACTIVE_SESSION_STATUSES),
                    RespiteSession.ends_at >= now,
                )
            )
            or 0
        )
    return 0


def account_history(user: User, limit: int = HISTORY_LIMIT) -> Sequence[AuditLog]:
    """The newest audit rows about this account (as their entity), newest first."""
    return db.session.scalars(
        select(AuditLog)
        .options(joinedload(AuditLog.actor))
        .where(AuditLog.entity_type == "User", AuditLog.entity_id == str(user.id))
        .order_by(AuditLog.id.desc())
        .limit(limit)
    ).all()


@dataclass
class AuditPage:
    rows: Sequence[AuditLog]
    page: int
    pages: int
    total: int


def audit_page(action_prefix: str = "", page: int = 1, page_size: int | None = None) -> AuditPage:
    """One page of the audit log, newest first, optionally only actions starting with `action_prefix`."""
    page_size = page_size or AUDIT_PAGE_SIZE
    query = select(AuditLog).options(joinedload(AuditLog.actor))
    count_query = select(func.count()).select_from(AuditLog)
    if has_control_characters(action_prefix):
        matches: ColumnElement[bool] = false()  # no action has them (and PostgreSQL can't compare a NUL)
        query = query.where(matches)
        count_query = count_query.where(matches)
    elif action_prefix:
        # A prefix, not a pattern: "_" and "%" in it match only themselves.
        matches = AuditLog.action.startswith(action_prefix, autoescape=True)
        query = query.where(matches)
        count_query = count_query.where(matches)
    total = db.session.scalar(count_query) or 0
    pages = max(1, -(-total // page_size))
    # Within the pages there are: a huge number would overflow the database's OFFSET.
    page = min(max(page or 1, 1), pages)
    rows = db.session.scalars(query.order_by(AuditLog.id.desc()).limit(page_size).offset((page - 1) * page_size)).all()
    return AuditPage(rows=rows, page=page, pages=pages, total=total)


# --- Guards ----------------------------------------------------------------------------------------


def _guard(actor: User, user: User, what: str) -> None:
    if actor.role != Role.COORDINATOR:
        raise PermissionError(f"Only a coordinator can {what}.")
    if actor.id == user.id:
        raise AdminError(f"You can't {what} of your own account: ask another coordinator.")
    if user.is_erased:
        raise AdminError("This account's details were erased; it stays as it is.")


def _clean_reason(reason: str) -> str:
    reason = reason.strip()[:REASON_LIMIT]
    if not reason:
        raise AdminError("Give a reason: it is kept in the audit log.")
    return reason


def _commitments_message(user: User, count: int, what: str) -> str:
    if user.caregiver_profile is not None:
        sessions = "a coming session" if count == 1 else f"{count} coming sessions"
        return f"{user.display_name} has {sessions}. Cancel {'it' if count == 1 else 'them'} first, then {what}."
    held = "a coming session or offer" if count == 1 else f"{count} coming sessions or offers"
    them = "it" if count == 1 else "them"
    return f"{user.display_name} holds {held}. Reassign or withdraw {them} first, then {what}."


# --- Changes ---------------------------------------------------------------------------------------


def deactivate_user(actor: User, user: User, *, reason: str) -> None:
    """Deactivate the account: it can't sign in, every sign-in of it ends now and its open streams close.

    Their sessions, offers and a family's requests stay as they are; the person's page says how
    many are still to come, for the coordinator to reassign or cancel.
    """
    _guard(actor, user, "change the state")
    reason = _clean_reason(reason)
    if not user.active:
        raise AdminError(f"{user.display_name}'s account is already deactivated.")
    user.active = False
    end_every_sign_in(user)
    audit.record(
        "user.deactivate",
        user,
        actor=actor,
        summary=f"Deactivated {user.display_name}",
        meta={"active": {"from": True, "to": False}, "reason": reason, "email": mask_email(user.email)},
    )
    db.session.flush()


def reactivate_user(actor: User, user: User, *, reason: str) -> None:
    """Let a deactivated account sign in again (with its own password; nothing else changes)."""
    _guard(actor, user, "change the state")
    reason = _clean_reason(reason)
    if user.active:
        raise AdminError(f"{user.display_name}'s account is already active.")
    user.active = True
    audit.record(
        "user.reactivate",
        user,
        actor=actor,
        summary=f"Reactivated {user.display_name}",
        meta={"active": {"from": False, "to": True}, "reason": reason, "email": mask_email(user.email)},
    )
    db.session.flush()


def change_role(actor: User, user: User, role: str, *, reason: str, now: datetime | None = None) -> None:
    """Make a provider a coordinator or a coordinator a provider; every sign-in of theirs ends.

    A provider's profile (skills, center, availability) is kept but set inactive while they are a
    coordinator, so matching no longer suggests them; a coordinator made a provider gets theirs
    back, or a new one. A provider still holding coming sessions or offers keeps the role until
    those are reassigned. A new coordinator sets up two-step sign-in when they next sign in.
    """
    _guard(actor, user, "change the role")
    if role not in ROLE_CHOICES:
        raise AdminError("Choose provider or coordinator.")
    if user.role not in ROLE_CHOICES:
        raise AdminError("Only a provider's or a coordinator's role can be changed.")
    if role == user.role:
        raise AdminError(f"{user.display_name} is already a {role}.")
    reason = _clean_reason(reason)
    if user.role == Role.PROVIDER and (count := coming_commitments(user, now)):
        raise AdminError(_commitments_message(user, count, "change their role"))
    old_role = user.role
    user.role = role
    if role == Role.COORDINATOR and user.provider_profile is not None:
        user.provider_profile.active = False
    elif role == Role.PROVIDER:
        if user.provider_profile is None:
            db.session.add(ProviderProfile(user=user))
        else:
            user.provider_profile.active = True
    end_every_sign_in(user)
    audit.record(
        "user.role_change",
        user,
        actor=actor,
        summary=f"{user.display_name} is now a {role} (was a {old_role})",
        meta={"role": {"from": old_role, "to": role}, "reason": reason, "email": mask_email(user.email)},
    )
    db.session.flush()


@dataclass(frozen=True)
class Erasure:
    """What an erasure blanked, by kind of row (the rows themselves all stay)."""

    recipients: int = 0
    card_versions: int = 0
    sessions: int = 0
    visit_notes: int = 0
    availability_notes: int = 0
    messages: int = 0


def erased_email(user: User) -> str:
    return f"erased-{user.id}@{ERASED_EMAIL_DOMAIN}"


def erase_user(actor: User, user: User, *, reason: str, now: datetime | None = None) -> Erasure:
    """Erase a person's details on their request, irreversibly, keeping every row; the account is deactivated.

    Blanked or replaced (the rows stay, so every session, assignment, care card version and audit
    row still points at something):
    - the account: name ("Erased account <id>"), email (erased-<id>@erased.invalid, unique and
      undeliverable), password, two-step secret (its unused recovery codes marked used), calendar
      feed and time zone; every sign-in ends and open streams close; unused emailed links end
      and lose the address and what a sign-up link carried;
    - a family: the profile's name and phone; each person cared for: name and date of birth, and the
      content of every version of their care card (health data, which the request covers: the
      versions stay, numbered, so acknowledgements still point at them, but empty);
    - the family's sessions: request notes, home address and status reason (free text that names
      and describes the person cared for), and the visit notes written about those sessions
      (health data about the person cared for); times, statuses and who held them stay, so the
      program's hours and history still add up;
    - a provider: bio, skills and the notes on their availability. The visit notes a provider wrote
      are about other families and stay in those families' records, under "Erased account <id>";
    - messages they sent: the bodies purged, as the retention policy would.

    Kept: the audit log. It is append-only (triggers, an insert-only database role, a keyed
    chain), so rows written before the erasure keep what they recorded: names in summaries,
    masked addresses, and the address a failed sign-in was tried with. The erasure's own row
    records the reason and how many of each kind of row were blanked, never the old values.
    Conversation subjects and attachments are left to the messaging retention policy.

    Refused while the person has coming sessions or offers: those are cancelled or reassigned first.
    """
    _guard(actor, user, "erase the details")
    reason = _clean_reason(reason)
    now = now or utcnow()
    if count := coming_commitments(user, now):
        raise AdminError(_commitments_message(user, count, "erase their details"))
    old_email = user.email
    user.display_name = f"Erased account {user.id}"
    user.email = erased_email(user)
    user.password_hash = None
    user.totp_secret = user.totp_confirmed_at = user.totp_last_step = None
    user.calendar_token_hash = None
    user.timezone = "UTC"
    user.active = False
    user.erased_at = now
    end_every_sign_in(user)
    db.session.execute(
        update(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)).values(used_at=now)
    )
    db.session.execute(
        update(EmailLink)
        .where(or_(EmailLink.user_id == user.id, EmailLink.email == old_email))
        .values(email=user.email, payload={}, used_at=func.coalesce(EmailLink.used_at, now))
    )
    erasure = Erasure()
    if (family := user.caregiver_profile) is not None:
        erasure = _erase_family(family.id, now)
        family.full_name = user.display_name
        family.phone = ""
        family.active = False
    if (staff := user.provider_profile) is not None:
        staff.bio = staff.skills = ""
        staff.active = False
        notes = _blank(update(Availability), Availability.provider_id == staff.id, note="")
        erasure = replace(erasure, availability_notes=notes)
    purged = _blank(update(Message), Message.sender_id == user.id, Message.body.is_not(None), body=None, purged_at=now)
    erasure = replace(erasure, messages=purged)
    audit.record(
        "user.erase",
        user,
        actor=actor,
        summary=f"Erased the personal details of account {user.id} on request",
        meta={"reason": reason, "role": user.role, "erased": _counts(erasure)},
    )
    db.session.flush()
    return erasure


def _erase_family(caregiver_id: int, now: datetime) -> Erasure:
    recipient_ids = select(CareRecipient.id).where(CareRecipient.caregiver_id == caregiver_id).scalar_subquery()
    session_ids = select(RespiteSession.id).where(RespiteSession.caregiver_id == caregiver_id).scalar_subquery()
    first, last = ERASED_RECIPIENT_NAME
    return Erasure(
        recipients=_blank(
            update(CareRecipient),
            CareRecipient.caregiver_id == caregiver_id,
            first_name=first,
            last_name=last,
            date_of_birth=None,
            active=False,
        ),
        card_versions=_blank(update(CareCardVersion), CareCardVersion.recipient_id.in_(recipient_ids), content={}),
        sessions=_blank(
            update(RespiteSession),
            RespiteSession.caregiver_id == caregiver_id,
            request_notes="",
            address="",
            status_reason="",
            updated_at=now,
            # Forms opened before the erasure meet a changed session rather than writing over it.
            version=RespiteSession.version + 1,
        ),
        visit_notes=_blank(
            update(VisitNote),
            VisitNote.session_id.in_(session_ids),
            went_well="",
            concerns="",
            medication_given="",
            updated_at=now,
        ),
    )


def _blank(statement: Update, *where: ColumnElement[bool], **values: Any) -> int:
    """One UPDATE of every matching row (objects the session holds are brought up to date); how many it changed."""
    result = db.session.execute(statement.where(*where).values(**values))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _counts(erasure: Erasure) -> dict[str, int]:
    return {kind: count for kind, count in asdict(erasure).items() if count}
