"""Providers on sessions: offers, direct assignment, accepting and declining, reassigning, declining a request.

One function per transition (guard, change, audit row, event, flush; never a
commit). Whatever the client sends, a provider never holds two overlapping
accepted assignments: `_hold()` checks first so the refusal names the
clashing session, and the database is the last word under contention (the
exclusion constraint on PostgreSQL; on SQLite the view takes the write lock
with `respite.database.write_lock()` before calling, so check and insert are
one immediate transaction). Two coordinators acting on one request meet the
session's version: the second is told it changed, never silently overwrites.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from .. import audit
from ..availability import services as availability
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    NoticeKind,
    ProviderProfile,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    utcnow,
)
from ..notices import services as notices
from ..timefmt import timespan, zone_or_utc
from .lifecycle import LIVE_ASSIGNMENT_STATUSES, SchedulingError, assignment_target, session_target
from .services import STALE_MESSAGE, clean_reason, publish_session_changed

# The database's guarantee, by name (migration 0001).
PROVIDER_OVERLAP_CONSTRAINT = "ex_assignment_provider_no_overlap"


class ProviderConflict(SchedulingError):
    """The provider already holds an accepted session at that time; the message names it."""

    def __init__(self, provider: ProviderProfile, clash: RespiteSession | None, zone_name: str) -> None:
        name = provider.user.display_name
        if clash is None:
            message = f"{name} already has a session at that time."
        else:
            when = timespan(clash.starts_at, clash.ends_at, zone_or_utc(zone_name))
            message = f"{name} already has a session then: {clash.recipient.full_name}, {when} (session {clash.id})."
        super().__init__(message)
        self.clash = clash


@dataclass(frozen=True)
class Outcome:
    """What a transition did: the assignment it made or changed, and a warning to show (outside availability)."""

    assignment: Assignment
    warning: str = ""


# --- Guards --------------------------------------------------------------------


def _coordinator_only(actor: User, what: str) -> None:
    if actor.role != Role.COORDINATOR:
        raise PermissionError(f"Only a coordinator can {what}.")


def _check_version(session: RespiteSession, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != session.version:
        raise SchedulingError(_stale_message(session))


def _stale_message(session: RespiteSession) -> str:
    """ "Changed since you opened it", with what it is now."""
    db.session.refresh(session)
    now_is = SessionStatus(session.status).label.lower()
    holders = [a.provider.user.display_name for a in session.assignments if a.status == AssignmentStatus.ACCEPTED]
    with_whom = f" with {', '.join(holders)}" if holders and session.status != SessionStatus.REQUESTED else ""
    return f"{STALE_MESSAGE} It is now {now_is}{with_whom}."


def _open_request(session: RespiteSession, now: datetime | None) -> None:
    if session.status != SessionStatus.REQUESTED:
        raise SchedulingError(
            f"This request is already {SessionStatus(session.status).label.lower()}; it can't be assigned."
        )
    if session.starts_at <= (now or utcnow()):
        raise SchedulingError("This session's time has passed; it can't be assigned now.")


def _usable_provider(provider: ProviderProfile) -> None:
    if not (provider.active and provider.user.active):
        raise SchedulingError(f"{provider.user.display_name} is not active, so can't be given sessions.")


def clash_for(provider: ProviderProfile, starts_at: datetime, ends_at: datetime) -> RespiteSession | None:
    """The session `provider` already holds (an accepted assignment) overlapping [starts_at, ends_at), if any."""
    return db.session.scalar(
        select(RespiteSession)
        .join(Assignment, Assignment.session_id == RespiteSession.id)
        .options(joinedload(RespiteSession.recipient))
        .where(
            Assignment.provider_id == provider.id,
            Assignment.status == AssignmentStatus.ACCEPTED,
            Assignment.starts_at < ends_at,
            Assignment.ends_at > starts_at,
        )
        .order_by(Assignment.starts_at)
        .limit(1)
    )


def _is_overlap(error: IntegrityError) -> bool:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None) == PROVIDER_OVERLAP_CONSTRAINT


def _live_assignment(session: RespiteSession, provider: ProviderProfile) -> Assignment | None:
    for assignment in session.assignments:
        if assignment.provider_id == provider.id:
            return assignment
    return None


def _hold(actor: User, session: RespiteSession, provider: ProviderProfile, status: AssignmentStatus) -> Assignment:
    """Put `provider` on `session` with `status` (a row per session and provider: an old one is reused).

    For an accepted assignment, refuse a clash first (naming it), and let the
    database refuse one that commits meanwhile (PostgreSQL's exclusion constraint).
    """
    if status == AssignmentStatus.ACCEPTED and (clash := clash_for(provider, session.starts_at, session.ends_at)):
        raise ProviderConflict(provider, clash, actor.timezone)
    assignment = _live_assignment(session, provider)
    try:
        with db.session.begin_nested():
            if assignment is None:
                assignment = Assignment(session=session, provider=provider)
                db.session.add(assignment)
            assignment.status = status
            assignment.reason = ""
            assignment.starts_at = session.starts_at
            assignment.ends_at = session.ends_at
            db.session.flush()
    except IntegrityError as error:
        if not _is_overlap(error):
            raise
        # The other transaction has committed by now (PostgreSQL waited for it): name its session.
        raise ProviderConflict(
            provider, clash_for(provider, session.starts_at, session.ends_at), actor.timezone
        ) from error
    return assignment


def _withdraw_other_offers(session: RespiteSession, keep: Assignment, reason: str) -> list[int]:
    """Cancel the session's other live offers (someone else has it now); the providers told."""
    withdrawn = []
    for other in session.assignments:
        if other is not keep and other.status == AssignmentStatus.OFFERED:
            other.status = assignment_target("cancel", other.status)
            other.reason = reason
            withdrawn.append(other.provider_id)
    return withdrawn


def _confirm(session: RespiteSession) -> None:
    """requested -> confirmed; a concurrent change to the session meets its version (StaleDataError)."""
    session.status = session_target("confirm", session.status)
    session.status_reason = ""
    _flush_session(session)


def _flush_session(session: RespiteSession) -> None:
    """Write the session's change; another transaction's change since it was loaded is refused (its version).

    The failed flush has ended the transaction (nothing of this unit of work
    is kept); a new one reads what the session is now, for the message.
    """
    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise SchedulingError(_stale_message(session)) from error


def _confirm_with(
    actor: User, session: RespiteSession, provider: ProviderProfile, *, action: str, summary: str, **meta: object
) -> Assignment:
    """The three ways a request is confirmed (assigned, accepted, taken) end alike: `provider` holds the
    session, the other offers out for it are withdrawn, the session is confirmed, audited and announced."""
    held = _hold(actor, session, provider, AssignmentStatus.ACCEPTED)
    someone = "was assigned" if action == "session.assign" else "took this session"
    withdrawn = _withdraw_other_offers(session, held, f"Another provider {someone}.")
    _confirm(session)
    audit.record(
        action,
        session,
        actor=actor,
        summary=summary,
        meta={"provider_id": provider.id, "assignment_id": held.id, "withdrawn": withdrawn, **meta},
    )
    _tell_confirmed(actor, session, provider)
    publish_session_changed(session)
    db.session.flush()
    return held


def _tell_confirmed(actor: User, session: RespiteSession, provider: ProviderProfile) -> None:
    """The family hears who confirmed their session; a provider a coordinator assigned hears it was them."""
    giver = provider.user
    if actor.id == giver.id:  # they accepted an offer or took the request

        def to_family(reader: User) -> str:
            return (
                f"{giver.display_name} confirmed {notices.person_for(reader, session)}'s session on "
                f"{notices.span(session, reader)}."
            )

    else:

        def to_family(reader: User) -> str:
            return (
                f"{actor.display_name} confirmed {notices.person_for(reader, session)}'s session on "
                f"{notices.span(session, reader)}: {giver.display_name} will give it."
            )

        notices.tell(
            [giver],
            NoticeKind.CONFIRMED,
            lambda reader: f"{actor.display_name} assigned you {session.recipient.full_name}'s session on "
            f"{notices.span(session, reader)}.",
            actor=actor,
            session=session,
        )
    notices.tell([session.caregiver.user], NoticeKind.CONFIRMED, to_family, actor=actor, session=session)


def _availability_warning(session: RespiteSession, provider: ProviderProfile) -> str:
    if availability.is_available(provider, session.starts_at, session.ends_at):
        return ""
    return f"This is outside {provider.user.display_name}'s availability."


def _describe(session: RespiteSession, provider: ProviderProfile) -> str:
    return f"{provider.user.display_name} for {session.recipient.full_name}"


# --- Coordinators ----------------------------------------------------------------


def offer(
    actor: User,
    session: RespiteSession,
    provider: ProviderProfile,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Offer an open request to a provider, who accepts (confirming it) or declines; several offers may be out."""
    _coordinator_only(actor, "offer a session to a provider")
    _check_version(session, expected_version)
    _open_request(session, now)
    _usable_provider(provider)
    existing = _live_assignment(session, provider)
    if existing is not None and existing.status == AssignmentStatus.OFFERED:
        raise SchedulingError(f"{provider.user.display_name} has this offer already.")
    warning = _availability_warning(session, provider)
    assignment = _hold(actor, session, provider, AssignmentStatus.OFFERED)
    audit.record(
        "assignment.offer",
        assignment,
        actor=actor,
        summary=f"Session offered to {_describe(session, provider)}",
        meta={"session_id": session.id, "provider_id": provider.id, "warning": warning},
    )
    publish_session_changed(session)
    db.session.flush()
    return Outcome(assignment, warning)


def assign(
    actor: User,
    session: RespiteSession,
    provider: ProviderProfile,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Assign a provider directly: an accepted assignment and a confirmed session, in one step."""
    _coordinator_only(actor, "assign a provider")
    _check_version(session, expected_version)
    _open_request(session, now)
    _usable_provider(provider)
    warning = _availability_warning(session, provider)
    summary = f"Assigned {_describe(session, provider)}" + (f" ({warning})" if warning else "")
    held = _confirm_with(actor, session, provider, action="session.assign", summary=summary, warning=warning)
    return Outcome(held, warning)


def reassign(
    actor: User,
    session: RespiteSession,
    provider: ProviderProfile,
    *,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Give a confirmed session, before it starts, to another provider; the one taken off it is told why."""
    _coordinator_only(actor, "reassign a session")
    _check_version(session, expected_version)
    if session.status != SessionStatus.CONFIRMED:
        raise SchedulingError(f"A {SessionStatus(session.status).label.lower()} session can't be reassigned.")
    if session.starts_at <= (now or utcnow()):
        raise SchedulingError("This session has already started; it can't be reassigned.")
    _usable_provider(provider)
    current = [a for a in session.assignments if a.status == AssignmentStatus.ACCEPTED]
    if any(a.provider_id == provider.id for a in current):
        raise SchedulingError(f"{provider.user.display_name} already has this session.")
    reason = clean_reason(reason) or "Reassigned by a coordinator."
    for old in current:
        old.status = assignment_target("cancel", old.status)
        old.reason = reason
    db.session.flush()  # the old provider's hold ends before the new one's begins
    warning = _availability_warning(session, provider)
    assignment = _hold(actor, session, provider, AssignmentStatus.ACCEPTED)
    _withdraw_other_offers(session, assignment, "Another provider was assigned.")
    session.updated_at = utcnow()  # the session row changes too: its version guards the reassignment
    _flush_session(session)
    audit.record(
        "session.reassign",
        session,
        actor=actor,
        summary=f"Reassigned to {_describe(session, provider)}" + (f" ({warning})" if warning else ""),
        meta={
            "from": [a.provider_id for a in current],
            "to": provider.id,
            "reason": reason,
            "warning": warning,
        },
    )
    _tell_reassigned(actor, session, [old.provider.user for old in current], provider.user, reason)
    publish_session_changed(session)
    db.session.flush()
    return Outcome(assignment, warning)


def _tell_reassigned(actor: User, session: RespiteSession, before: list[User], after: User, reason: str) -> None:
    """The family, the provider taken off it (with the reason) and the one who has it now all hear of it."""
    was = notices.names([user.display_name for user in before])
    instead = f" instead of {was}" if was else ""
    notices.tell(
        [session.caregiver.user],
        NoticeKind.PROVIDER_CHANGED,
        lambda reader: f"{after.display_name} will give {notices.person_for(reader, session)}'s session on "
        f"{notices.span(session, reader)}{instead}.",
        actor=actor,
        session=session,
    )
    notices.tell(
        before,
        NoticeKind.PROVIDER_CHANGED,
        lambda reader: notices.with_reason(
            f"{actor.display_name} gave {session.recipient.full_name}'s session on {notices.span(session, reader)} "
            f"to {after.display_name}",
            reason,
        ),
        actor=actor,
        session=session,
    )
    notices.tell(
        [after],
        NoticeKind.PROVIDER_CHANGED,
        lambda reader: f"{actor.display_name} gave you {session.recipient.full_name}'s session on "
        f"{notices.span(session, reader)}{instead}.",
        actor=actor,
        session=session,
    )


def withdraw_offer(actor: User, assignment: Assignment, *, expected_version: int | None = None) -> None:
    """Take back an offer the provider hasn't answered."""
    _coordinator_only(actor, "withdraw an offer")
    session = assignment.session
    _check_version(session, expected_version)
    if assignment.status != AssignmentStatus.OFFERED:
        raise SchedulingError(f"This offer is no longer open: it was {assignment.status}.")
    assignment.status = assignment_target("cancel", assignment.status)
    assignment.reason = "The offer was withdrawn."
    audit.record(
        "assignment.withdraw",
        assignment,
        actor=actor,
        summary=f"Offer to {_describe(session, assignment.provider)} withdrawn",
        meta={"session_id": session.id, "provider_id": assignment.provider_id},
    )
    publish_session_changed(session)
    db.session.flush()


def decline_request(actor: User, session: RespiteSession, *, reason: str, expected_version: int | None = None) -> None:
    """The program can't provide this session: the caregiver sees the reason; offers out for it are withdrawn."""
    _coordinator_only(actor, "decline a request")
    _check_version(session, expected_version)
    reason = clean_reason(reason)
    if not reason:
        raise SchedulingError("Say why, so the family knows what to do next.")
    previous = session.status
    session.status = session_target("decline", session.status)
    session.status_reason = reason
    for assignment in session.assignments:
        if assignment.status in LIVE_ASSIGNMENT_STATUSES:
            assignment.status = assignment_target("cancel", assignment.status)
            assignment.reason = "The request was declined."
    _flush_session(session)
    audit.record(
        "session.decline",
        session,
        actor=actor,
        summary=f"Request for {session.recipient.full_name} declined",
        meta={"from": previous, "reason": reason},
    )
    notices.tell(
        [session.caregiver.user],
        NoticeKind.DECLINED,
        lambda reader: notices.with_reason(
            f"{actor.display_name} declined the request for {notices.person_for(reader, session)} on "
            f"{notices.span(session, reader)}",
            reason,
        ),
        actor=actor,
        session=session,
    )
    publish_session_changed(session)
    db.session.flush()


# --- Providers -------------------------------------------------------------------


def _own(actor: User, assignment: Assignment) -> ProviderProfile:
    provider = actor.provider_profile if actor.role == Role.PROVIDER else None
    if provider is None or assignment.provider_id != provider.id:
        raise PermissionError("Only the provider it was offered to can answer this offer.")
    return provider


def accept_offer(actor: User, assignment: Assignment, *, now: datetime | None = None) -> Outcome:
    """The provider takes the session offered to them: their assignment is accepted and the session confirmed."""
    provider = _own(actor, assignment)
    session = assignment.session
    if assignment.status != AssignmentStatus.OFFERED:
        raise SchedulingError(_answered_message(assignment))
    _open_request(session, now)
    summary = f"{provider.user.display_name} accepted the session for {session.recipient.full_name}"
    return Outcome(_confirm_with(actor, session, provider, action="session.accept", summary=summary))


def _answered_message(assignment: Assignment) -> str:
    if assignment.status == AssignmentStatus.CANCELLED:
        return f"This offer is no longer open: {assignment.reason or 'it was withdrawn.'}"
    return f"You have already {assignment.status} this offer."


def decline_offer(actor: User, assignment: Assignment, *, reason: str) -> None:
    """The provider can't take the session offered to them; the coordinators see why."""
    provider = _own(actor, assignment)
    if assignment.status != AssignmentStatus.OFFERED:
        raise SchedulingError(_answered_message(assignment))
    reason = clean_reason(reason)
    if not reason:
        raise SchedulingError("Say why you can't take it, so a coordinator can find someone else.")
    assignment.status = assignment_target("decline", assignment.status)
    assignment.reason = reason
    session = assignment.session
    audit.record(
        "assignment.decline",
        assignment,
        actor=actor,
        summary=f"{provider.user.display_name} declined the session for {session.recipient.full_name}",
        meta={"session_id": session.id, "reason": reason},
    )
    publish_session_changed(session)
    db.session.flush()


def at_their_center(provider: ProviderProfile, session: RespiteSession) -> bool:
    """A home visit, a provider of no one center, or the session's own center: open requests they are shown."""
    return provider.center_id is None or session.center_id is None or provider.center_id == session.center_id


def may_take(provider: ProviderProfile, session: RespiteSession) -> bool:
    """Whether the program lets `provider` take this open request themselves (the setting, center, availability)."""
    if not current_app.config["PROVIDERS_MAY_TAKE_OPEN_REQUESTS"]:
        return False
    if not at_their_center(provider, session):
        return False
    return availability.is_available(provider, session.starts_at, session.ends_at)


def take_request(
    actor: User, session: RespiteSession, *, expected_version: int | None = None, now: datetime | None = None
) -> Outcome:
    """A provider takes an open request that fits them, when the program allows it; the session is confirmed."""
    provider = actor.provider_profile if actor.role == Role.PROVIDER else None
    if provider is None:
        raise PermissionError("Only a provider can take a request.")
    if not current_app.config["PROVIDERS_MAY_TAKE_OPEN_REQUESTS"]:
        raise PermissionError("In this program, coordinators assign sessions.")
    _check_version(session, expected_version)
    _open_request(session, now)
    _usable_provider(provider)
    if not may_take(provider, session):
        raise SchedulingError("This session doesn't fit your availability or center; a coordinator can assign it.")
    summary = f"{provider.user.display_name} took the session for {session.recipient.full_name}"
    return Outcome(_confirm_with(actor, session, provider, action="session.take", summary=summary))


# --- Loading ---------------------------------------------------------------------


def get_assignment_for(user: User, assignment_id: int) -> Assignment | None:
    """The assignment if `user` may act on it (its provider, or a coordinator), else None (the view answers 404)."""
    query = select(Assignment).where(Assignment.id == assignment_id)
    if user.role == Role.PROVIDER:
        query = query.where(Assignment.provider_id == (user.provider_profile.id if user.provider_profile else -1))
    elif user.role != Role.COORDINATOR:
        return None
    return db.session.scalar(query)


def get_provider(provider_id: int) -> ProviderProfile | None:
    return db.session.get(ProviderProfile, provider_id)


def offers_for(provider: ProviderProfile, now: datetime | None = None) -> Sequence[Assignment]:
    """The offers waiting for `provider`'s answer, soonest first."""
    return db.session.scalars(
        select(Assignment)
        .join(Assignment.session)
        .options(
            joinedload(Assignment.session).joinedload(RespiteSession.recipient),
            joinedload(Assignment.session).joinedload(RespiteSession.center),
        )
        .where(
            Assignment.provider_id == provider.id,
            Assignment.status == AssignmentStatus.OFFERED,
            RespiteSession.status == SessionStatus.REQUESTED,
            RespiteSession.starts_at > (now or utcnow()),
        )
        .order_by(RespiteSession.starts_at)
    ).all()
