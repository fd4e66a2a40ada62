"""Coordinator work on the program's people: reads, and the changes to someone's account.

Reads: people found by a search and filters, a page at a time
(`find_people`), one person (`get_user_for`, with what they are committed to,
their account's history, a family's sessions and hours, a provider's week and
hours), and the invitations waiting for an answer. The audit log as
coordinators read it is respite.admin.auditlog's.

Changes, one function each: deactivating and reactivating an account,
changing a staff member's role, erasing a person's details on request,
changing someone's details, unlocking a sign-in that failures hold back,
emailing a link to set a new password, renewing and withdrawing an
invitation, and setting a family's yearly hours and the program's default.
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
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Update, and_, false, func, not_, or_, select, true, update
from sqlalchemy.orm import joinedload

from .. import audit, mail, realtime
from ..accounts import throttle
from ..accounts.services import (
    default_allotment_minutes,
    end_invitation_links,
    mail_reset_link,
    mask_email,
    new_invitation_link,
    normalise_email,
)
from ..accounts.signins import end_every_sign_in
from ..accounts.throttle import HeldBack
from ..availability.services import WeekDay, time_off, week_of, weekly_pattern
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    AuditLog,
    Availability,
    CareCardVersion,
    CaregiverProfile,
    CareRecipient,
    Center,
    EmailLink,
    EmailLinkPurpose,
    Message,
    ProgramSettings,
    ProviderProfile,
    RecoveryCode,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    VisitNote,
    utcnow,
)
from ..models.program import PROGRAM
from ..scheduling.history import providers_by_session
from ..scheduling.lifecycle import ACTIVE_SESSION_STATUSES, LIVE_ASSIGNMENT_STATUSES
from ..scheduling.services import minutes_used_this_year
from ..text import has_control_characters
from ..timefmt import zone_exists, zone_or_utc

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


def get_user_for(actor: User, user_id: int) -> User | None:
    """The account `user_id` if `actor` may manage it (coordinators run the program: every account), else None."""
    if actor.role != Role.COORDINATOR:
        return None
    return db.session.scalar(
        select(User)
        .options(
            joinedload(User.center),
            joinedload(User.caregiver_profile).selectinload(CaregiverProfile.recipients),
            joinedload(User.provider_profile).joinedload(ProviderProfile.center),
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


# --- People: finding someone, their details, signing in again, invitations, allotments ----------------------

PEOPLE_PER_PAGE = 25
# Beyond any list: a made-up page number stays within what the databases' OFFSET takes.
MAX_PAGE = 100_000
# A caregiver's yearly respite, and the program's default, in whole hours.
MAX_ALLOTMENT_HOURS = 2000
RECENT_SESSIONS = 5
UPCOMING_SESSIONS = 5
# Sessions that are a provider's hours: the ones done, and the ones booked.
DONE_STATUSES = frozenset({SessionStatus.COMPLETED})
BOOKED_STATUSES = frozenset({SessionStatus.CONFIRMED, SessionStatus.CHECKED_IN})


class FieldError(AdminError):
    """A refused value, shown beside its form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class PersonStatus(StrEnum):
    ACTIVE = "active"
    INVITED = "invited"
    LOCKED = "locked"  # held back from signing in by repeated failures (respite.accounts.throttle)
    DEACTIVATED = "deactivated"
    ERASED = "erased"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    PersonStatus.ACTIVE: "Active",
    PersonStatus.INVITED: "Invited",
    PersonStatus.LOCKED: "Locked out",
    PersonStatus.DEACTIVATED: "Deactivated",
    PersonStatus.ERASED: "Erased",
}


def person_status(user: User, held: HeldBack) -> PersonStatus:
    """Where the account stands: erased, deactivated, invited (no password yet), locked out, or active."""
    if user.is_erased:
        return PersonStatus.ERASED
    if not user.active:
        return PersonStatus.DEACTIVATED
    if not user.has_password:
        return PersonStatus.INVITED
    return PersonStatus.LOCKED if held.holds(user) else PersonStatus.ACTIVE


@dataclass(frozen=True)
class PeopleFilter:
    """What the People page's search and filters ask for ("" or 0: anyone)."""

    text: str = ""
    role: str = ""
    center_id: int = 0
    status: str = ""

    @property
    def words(self) -> list[str]:
        return self.text.split()


def person_center(user: User) -> Center | None:
    """Where someone works: a kiosk's center, or a provider's home center."""
    if user.center is not None:
        return user.center
    return user.provider_profile.center if user.provider_profile is not None else None


def find_people(filters: PeopleFilter, held: HeldBack, *, page: int = 1, per_page: int | None = None) -> Pagination:
    """One page of the people `filters` ask for, by name: each word typed is part of their name or email.

    Two statements (the page and the count); `held` (who is locked out) comes from the throttling's storage.
    """
    query = select(User).options(
        joinedload(User.center), joinedload(User.provider_profile).joinedload(ProviderProfile.center)
    )
    for word in filters.words:
        if has_control_characters(word):  # no one's name has them (and PostgreSQL can't compare a NUL)
            query = query.where(false())
            break
        # Part of a word, any case; "%" and "_" match only themselves.
        query = query.where(
            or_(User.display_name.icontains(word, autoescape=True), User.email.icontains(word, autoescape=True))
        )
    if filters.role in set(Role):
        query = query.where(User.role == filters.role)
    if filters.center_id:
        works_there = ProviderProfile.user_id == User.id, ProviderProfile.center_id == filters.center_id
        query = query.where(
            or_(User.center_id == filters.center_id, select(ProviderProfile.id).where(*works_there).exists())
        )
    if filters.status:
        query = query.where(_status_is(filters.status, held))
    query = query.order_by(User.display_name, User.id)
    page = min(max(page, 1), MAX_PAGE)
    return db.paginate(query, page=page, per_page=per_page or PEOPLE_PER_PAGE, error_out=False, count=True)


def _status_is(status: str, held: HeldBack) -> ColumnElement[bool]:
    live = and_(User.active.is_(True), User.erased_at.is_(None))
    locked = or_(func.lower(User.email).in_(sorted(held.emails)), User.id.in_(sorted(held.user_ids)))
    if status == PersonStatus.ACTIVE:
        return and_(live, User.password_hash.is_not(None), not_(locked))
    if status == PersonStatus.INVITED:
        return and_(live, User.password_hash.is_(None))
    if status == PersonStatus.LOCKED:
        return and_(live, User.password_hash.is_not(None), locked)
    if status == PersonStatus.DEACTIVATED:
        return and_(User.active.is_(False), User.erased_at.is_(None))
    if status == PersonStatus.ERASED:
        return User.erased_at.is_not(None)
    return true()


def center_choices() -> list[tuple[int, str]]:
    """Every center, by name: (id, name)."""
    return [(row.id, row.name) for row in db.session.execute(select(Center.id, Center.name).order_by(Center.name))]


@dataclass(frozen=True)
class FamilyOverview:
    """A caregiver's sessions and hours this year, on their page."""

    upcoming: Sequence[RespiteSession]
    recent: Sequence[RespiteSession]
    providers: dict[int, list[str]]  # who is coming to each, by session id
    used_minutes: int
    allotted_minutes: int

    @property
    def left_minutes(self) -> int:
        return max(0, self.allotted_minutes - self.used_minutes)


def family_overview(profile: CaregiverProfile, now: datetime | None = None) -> FamilyOverview:
    """Four statements: coming sessions, the latest past ones, their providers, and the hours used this year (in
    the family's zone)."""
    now = now or utcnow()
    mine = RespiteSession.caregiver_id == profile.id
    coming = RespiteSession.status.in_(ACTIVE_SESSION_STATUSES) & (RespiteSession.ends_at >= now)
    loaded = joinedload(RespiteSession.recipient), joinedload(RespiteSession.center)
    upcoming = db.session.scalars(
        select(RespiteSession)
        .options(*loaded)
        .where(mine, coming)
        .order_by(RespiteSession.starts_at, RespiteSession.id)
        .limit(UPCOMING_SESSIONS)
    ).all()
    recent = db.session.scalars(
        select(RespiteSession)
        .options(*loaded)
        .where(mine, not_(coming), RespiteSession.starts_at < now)
        .order_by(RespiteSession.starts_at.desc(), RespiteSession.id.desc())
        .limit(RECENT_SESSIONS)
    ).all()
    return FamilyOverview(
        upcoming=upcoming,
        recent=recent,
        providers=providers_by_session([*upcoming, *recent]),
        used_minutes=minutes_used_this_year(profile, profile.user.timezone, now),
        allotted_minutes=profile.annual_allotment_minutes,
    )


@dataclass(frozen=True)
class ProviderOverview:
    """A provider's weekly availability, their time off to come, and their hours this month (their zone)."""

    week: list[WeekDay]
    time_off: Sequence[Availability]
    done_minutes: int
    booked_minutes: int
    month: datetime

    @property
    def days_available(self) -> int:
        return sum(1 for day in self.week if day.blocks)


def provider_overview(profile: ProviderProfile, now: datetime | None = None) -> ProviderOverview:
    """Three statements: the weekly pattern, time off to come, and the sessions they hold this month."""
    now = now or utcnow()
    zone = zone_or_utc(profile.user.timezone)
    month = now.astimezone(zone).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    next_month = (month + timedelta(days=32)).replace(day=1)
    held = db.session.execute(
        select(RespiteSession.status, RespiteSession.starts_at, RespiteSession.ends_at)
        .join(Assignment, Assignment.session_id == RespiteSession.id)
        .where(
            Assignment.provider_id == profile.id,
            Assignment.status == AssignmentStatus.ACCEPTED,
            RespiteSession.status.in_(DONE_STATUSES | BOOKED_STATUSES),
            RespiteSession.starts_at >= month.astimezone(UTC),
            RespiteSession.starts_at < next_month.astimezone(UTC),
        )
    ).all()

    def minutes(statuses: frozenset[SessionStatus]) -> int:
        return sum(int((row.ends_at - row.starts_at).total_seconds() // 60) for row in held if row.status in statuses)

    return ProviderOverview(
        week=week_of(weekly_pattern(profile)),
        time_off=time_off(profile, now),
        done_minutes=minutes(DONE_STATUSES),
        booked_minutes=minutes(BOOKED_STATUSES),
        month=month,
    )


def _manage(actor: User, user: User, own: str) -> None:
    """The guard of a change to someone's account: a coordinator's, never to their own, never to an erased one."""
    if actor.role != Role.COORDINATOR:
        raise PermissionError("Only a coordinator can manage people's accounts.")
    if actor.id == user.id:
        raise AdminError(own)
    if user.is_erased:
        raise AdminError("This account's details were erased; it stays as it is.")


def update_person(
    actor: User, user: User, *, display_name: str, email: str, timezone: str, center_id: int | None = None
) -> list[str]:
    """Change someone's name, email, zone and (a provider's or a kiosk's) center; which of them changed.

    A new email ends the links sent to the old one, which is told of the change (an invited person gets a
    new invitation from the invitations page). Their sign-ins go on: the person is who they were.
    """
    _manage(actor, user, "Your own details are yours to change, on your account page.")
    display_name = " ".join(display_name.split())
    email = normalise_email(email)
    if not display_name:
        raise FieldError("display_name", "Enter the person's name.")
    if not zone_exists(timezone):
        raise FieldError("timezone", "Choose a time zone from the list.")
    taken = select(User.id).where(func.lower(User.email) == email, User.id != user.id)
    if db.session.scalar(taken) is not None:
        raise FieldError("email", "Another account already uses this email address.")
    center = db.session.get(Center, center_id) if center_id else None
    if center_id and center is None:
        raise FieldError("center_id", "Choose a center from the list.")
    if user.role == Role.KIOSK and center is None:
        raise FieldError("center_id", "A kiosk belongs to a center: choose one.")
    old_center = person_center(user)
    changes: dict[str, dict[str, Any]] = {}
    for field, old, new in (
        ("display_name", user.display_name, display_name),
        ("email", user.email, email),
        ("timezone", user.timezone, timezone),
    ):
        if old != new:
            changes[field] = {"from": old, "to": new}
            setattr(user, field, new)
    if user.role in (Role.PROVIDER, Role.KIOSK) and old_center != center:
        changes["center"] = {"from": old_center.name if old_center else None, "to": center.name if center else None}
        if user.role == Role.KIOSK:
            user.center = center
        elif user.provider_profile is not None:
            user.provider_profile.center = center
    if not changes:
        return []
    if "display_name" in changes and user.caregiver_profile is not None:
        user.caregiver_profile.full_name = user.display_name
    if "email" in changes:
        old_email = changes["email"]["from"]
        db.session.execute(
            update(EmailLink).where(EmailLink.user_id == user.id, EmailLink.used_at.is_(None)).values(used_at=utcnow())
        )
        if user.has_password:
            mail.send_after_commit(
                old_email,
                "Your Respite sign-in email changed",
                f"Hello {user.display_name},\n\nA coordinator of the program changed the email you sign in to "
                f"Respite with to {mask_email(email)}. From now on, sign in with the new address.\n\n"
                "If you didn't ask for this, tell your coordinator.",
            )
        changes["email"] = {"from": mask_email(old_email), "to": mask_email(email)}
    what = ", ".join(FIELD_WORDS[field] for field in changes)
    audit.record(
        "user.update",
        user,
        actor=actor,
        summary=f"Changed {user.display_name}'s {what}",
        meta={"changed": sorted(changes), **changes},
    )
    db.session.flush()
    return sorted(changes)


FIELD_WORDS = {"display_name": "name", "email": "email", "timezone": "time zone", "center": "center"}


def unlock(actor: User, user: User) -> datetime:
    """Let someone locked out by repeated failed sign-ins (or second steps) try again now, from anywhere.

    Their counts are cleared when this commits (respite.accounts.throttle); returns until when they were held.
    """
    _manage(actor, user, "Your own account isn't locked: you are signed in.")
    held_until = throttle.held_until(user)
    if held_until is None:
        raise AdminError(f"{user.display_name} isn't locked out: they can sign in now.")
    throttle.release_after_commit(user)
    audit.record(
        "user.unlock",
        user,
        actor=actor,
        summary=f"Unlocked {user.display_name}'s sign-in after repeated failed attempts",
        meta={"held_until": held_until.isoformat(timespec="seconds"), "email": mask_email(user.email)},
    )
    db.session.flush()
    return held_until


def send_password_link(actor: User, user: User) -> None:
    """Email someone a link that sets a new password (it works once, for an hour; their password stays until)."""
    _manage(actor, user, "Change your own password on your account page.")
    if not user.active:
        raise AdminError(f"{user.display_name}'s account is deactivated: reactivate it first, then send the link.")
    if not user.has_password:
        raise AdminError(
            f"{user.display_name} hasn't accepted their invitation yet: send a new invitation from Invitations."
        )
    mail_reset_link(user, from_coordinator=True)
    audit.record(
        "user.reset_link_sent",
        user,
        actor=actor,
        summary=f"Sent {user.display_name} a link to set a new password",
        meta={"email": mask_email(user.email)},
    )
    db.session.flush()


# Invitations: an invited account has no password yet; its link is an EmailLink of purpose "invitation".


@dataclass(frozen=True)
class Invitation:
    """Someone invited who hasn't set a password yet, and their newest live link (None: none left)."""

    person: User
    link: EmailLink | None

    @property
    def center(self) -> Center | None:
        return person_center(self.person)

    @property
    def expired(self) -> bool:
        return self.link is None or self.link.expires_at <= utcnow()


def _invited() -> ColumnElement[bool]:
    return and_(User.password_hash.is_(None), User.active.is_(True), User.erased_at.is_(None))


def pending_invitations() -> list[Invitation]:
    """Everyone invited who hasn't accepted yet, newest first, each with their newest unused link; one statement."""
    newest = (
        select(EmailLink.user_id, func.max(EmailLink.id).label("link_id"))
        .where(EmailLink.purpose == EmailLinkPurpose.INVITATION, EmailLink.used_at.is_(None))
        .group_by(EmailLink.user_id)
        .subquery()
    )
    rows = db.session.execute(
        select(User, EmailLink)
        .options(joinedload(User.center), joinedload(User.provider_profile).joinedload(ProviderProfile.center))
        .outerjoin(newest, newest.c.user_id == User.id)
        .outerjoin(EmailLink, EmailLink.id == newest.c.link_id)
        .where(_invited())
        .order_by(User.created_at.desc(), User.id.desc())
    ).all()
    return [Invitation(person, link) for person, link in rows]


def get_invitee_for(actor: User, user_id: int) -> User | None:
    """The invited account `user_id` (not yet accepted, not withdrawn) if `actor` may manage it, else None."""
    if actor.role != Role.COORDINATOR:
        return None
    return db.session.scalar(
        select(User)
        .options(joinedload(User.center), joinedload(User.provider_profile).joinedload(ProviderProfile.center))
        .where(User.id == user_id, _invited())
    )


def _guard_invitation(actor: User, user: User) -> None:
    _manage(actor, user, "That's your own account.")
    if user.has_password or not user.active:
        raise AdminError(f"{user.display_name}'s invitation is no longer pending.")


def renew_invitation(actor: User, user: User, *, by_email: bool) -> str:
    """A new invitation link for someone invited (the older ones end), emailed to them when `by_email`; its secret.

    Only the link's hash is kept: the page shows the new link once, for the coordinator to pass on.
    """
    _guard_invitation(actor, user)
    token = new_invitation_link(user, actor, by_email=by_email)
    audit.record(
        "user.invitation_renewed",
        user,
        actor=actor,
        summary=(
            f"Emailed {user.display_name} a new invitation link"
            if by_email
            else f"Made a new invitation link for {user.display_name}"
        ),
        meta={"emailed": by_email, "email": mask_email(user.email)},
    )
    db.session.flush()
    return token


def revoke_invitation(actor: User, user: User) -> None:
    """Withdraw an invitation: its links end and the account is deactivated (reactivating it lets it be invited
    again)."""
    _guard_invitation(actor, user)
    ended = end_invitation_links(user)
    user.active = False
    audit.record(
        "user.invitation_revoked",
        user,
        actor=actor,
        summary=f"Withdrew {user.display_name}'s invitation",
        meta={"links_ended": ended, "email": mask_email(user.email)},
    )
    db.session.flush()


# Allotments: a caregiver's yearly respite hours, and the program's default for those who sign up.


def _check_hours(hours: int | None, field: str = "hours") -> int:
    if hours is None or not 0 <= hours <= MAX_ALLOTMENT_HOURS:
        raise FieldError(field, f"Give a whole number of hours from 0 to {MAX_ALLOTMENT_HOURS}.")
    return hours


def _hours(minutes: int) -> str:
    whole, rest = divmod(minutes, 60)
    return f"{whole} h {rest:02d} min" if rest else f"{whole} h"


def set_default_allotment(actor: User, hours: int | None) -> bool:
    """Set the yearly hours a caregiver starts with when they sign up (those who have signed up keep theirs).

    False when it was that already.
    """
    if actor.role != Role.COORDINATOR:
        raise PermissionError("Only a coordinator can set the program's hours.")
    minutes = _check_hours(hours) * 60
    old = default_allotment_minutes()
    if old == minutes:
        return False
    settings = db.session.get(ProgramSettings, PROGRAM) or ProgramSettings(id=PROGRAM)
    settings.default_allotment_minutes = minutes
    db.session.add(settings)
    db.session.flush()
    audit.record(
        "program.default_allotment",
        settings,
        actor=actor,
        summary=f"Set the yearly respite new families start with to {_hours(minutes)} (was {_hours(old)})",
        meta={"allotment_minutes": {"from": old, "to": minutes}},
    )
    db.session.flush()
    return True


def set_allotment(actor: User, user: User, hours: int | None, *, reason: str) -> None:
    """Change a family's yearly respite hours, with the reason the audit keeps; their open pages show it at once."""
    _manage(actor, user, "You have no respite hours of your own.")
    profile = user.caregiver_profile
    if profile is None:
        raise AdminError("Only a family has respite hours.")
    minutes = _check_hours(hours) * 60
    reason = _clean_reason(reason)
    old = profile.annual_allotment_minutes
    if old == minutes:
        raise FieldError("hours", f"{user.display_name} has {_hours(minutes)} a year already.")
    profile.annual_allotment_minutes = minutes
    audit.record(
        "caregiver.allotment",
        user,
        actor=actor,
        summary=f"Set {user.display_name}'s yearly respite to {_hours(minutes)} (was {_hours(old)})",
        meta={"allotment_minutes": {"from": old, "to": minutes}, "reason": reason},
    )
    # The family's dashboard and sessions page show their hours in a region that a session event refreshes.
    realtime.publish_after_commit(realtime.EventType.SESSION, user_ids=[user.id], caregiver_id=profile.id)
    db.session.flush()
