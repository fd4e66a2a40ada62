"""Scheduling: the queries each page shows about respite sessions, and one function per transition.

A transition guards (lifecycle's predicates), changes rows, writes its audit
row, queues its live event and flushes. It never commits: the view or
command that calls it commits once, so several transitions make one unit of
work and a failure anywhere rolls all of them back, with their audit rows
and events.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import audit, realtime
from ..extensions import db
from ..models import (
    Assignment,
    CaregiverProfile,
    Center,
    ProviderProfile,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    utcnow,
)
from ..timefmt import zone_or_utc
from .lifecycle import (
    ACTIVE_SESSION_STATUSES,
    COUNTED_SESSION_STATUSES,
    LIVE_ASSIGNMENT_STATUSES,
    SchedulingError,
    assignment_target,
    cancel_refusal,
    session_target,
)

__all__ = ["SchedulingError"]


# --- Queries ---------------------------------------------------------------------


def upcoming_for_caregiver(
    profile: CaregiverProfile, limit: int = 10, now: datetime | None = None
) -> Sequence[RespiteSession]:
    return db.session.scalars(
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient), joinedload(RespiteSession.center))
        .where(
            RespiteSession.caregiver_id == profile.id,
            RespiteSession.ends_at >= (now or utcnow()),
            RespiteSession.status.in_(ACTIVE_SESSION_STATUSES),
        )
        .order_by(RespiteSession.starts_at)
        .limit(limit)
    ).all()


def year_bounds(zone_name: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The start and end of the current calendar year in the caregiver's zone, as UTC."""
    zone = zone_or_utc(zone_name)
    year = (now or utcnow()).astimezone(zone).year
    start = datetime.combine(datetime(year, 1, 1).date(), time(), zone)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def minutes_used_this_year(profile: CaregiverProfile, zone_name: str, now: datetime | None = None) -> int:
    start, end = year_bounds(zone_name, now)
    sessions = db.session.execute(
        select(RespiteSession.starts_at, RespiteSession.ends_at).where(
            RespiteSession.caregiver_id == profile.id,
            RespiteSession.status.in_(COUNTED_SESSION_STATUSES),
            RespiteSession.starts_at >= start,
            RespiteSession.starts_at < end,
        )
    ).all()
    return sum(int((ends - starts).total_seconds() // 60) for starts, ends in sessions)


def minutes_left_this_year(profile: CaregiverProfile, zone_name: str, now: datetime | None = None) -> int:
    return max(0, profile.annual_allotment_minutes - minutes_used_this_year(profile, zone_name, now))


def upcoming_for_provider(
    provider_profile: ProviderProfile, limit: int = 10, now: datetime | None = None
) -> Sequence[Assignment]:
    return db.session.scalars(
        select(Assignment)
        .options(
            joinedload(Assignment.session).joinedload(RespiteSession.recipient),
            joinedload(Assignment.session).joinedload(RespiteSession.center),
        )
        .where(
            Assignment.provider_id == provider_profile.id,
            Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
            Assignment.ends_at >= (now or utcnow()),
        )
        .order_by(Assignment.starts_at)
        .limit(limit)
    ).all()


def request_queue(limit: int = 20) -> Sequence[RespiteSession]:
    return db.session.scalars(
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient), joinedload(RespiteSession.center))
        .where(RespiteSession.status == SessionStatus.REQUESTED)
        .order_by(RespiteSession.starts_at)
        .limit(limit)
    ).all()


def status_counts() -> dict[str, int]:
    rows = db.session.execute(select(RespiteSession.status, func.count()).group_by(RespiteSession.status)).all()
    return {status: count for status, count in rows}


def center_day(center: Center, now: datetime | None = None) -> Sequence[RespiteSession]:
    """Today's sessions at a center, in the center's own zone."""
    zone = zone_or_utc(center.timezone)
    today = (now or utcnow()).astimezone(zone).date()
    start = datetime.combine(today, time(), zone).astimezone(UTC)
    end = start + timedelta(days=1)
    return db.session.scalars(
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient))
        .where(
            RespiteSession.center_id == center.id,
            RespiteSession.starts_at >= start,
            RespiteSession.starts_at < end,
            RespiteSession.status.in_((SessionStatus.CONFIRMED, SessionStatus.CHECKED_IN, SessionStatus.COMPLETED)),
        )
        .order_by(RespiteSession.starts_at)
    ).all()


# --- Loading one session ---------------------------------------------------------


def get_session_for(user: User, session_id: int) -> RespiteSession | None:
    """The session `session_id` if `user` may see it, else None (the view answers 404).

    Caregivers see their own; providers the ones they hold a live assignment
    on; kiosks their center's; coordinators all.
    """
    query = select(RespiteSession).where(RespiteSession.id == session_id)
    if user.role == Role.CAREGIVER:
        query = query.join(CaregiverProfile).where(CaregiverProfile.user_id == user.id)
    elif user.role == Role.PROVIDER:
        query = query.join(Assignment).where(
            Assignment.provider_id == (user.provider_profile.id if user.provider_profile else -1),
            Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
        )
    elif user.role == Role.KIOSK:
        query = query.where(RespiteSession.center_id == user.center_id)
    elif user.role != Role.COORDINATOR:
        return None
    return db.session.scalar(query)


def audience(session: RespiteSession) -> set[int]:
    """Who hears about a change to `session`: its caregiver, its providers and the coordinators."""
    user_ids = {session.caregiver.user_id}
    user_ids.update(
        db.session.scalars(
            select(ProviderProfile.user_id)
            .join(Assignment, Assignment.provider_id == ProviderProfile.id)
            .where(Assignment.session_id == session.id)
        )
    )
    user_ids.update(db.session.scalars(select(User.id).where(User.role == Role.COORDINATOR, User.active.is_(True))))
    return user_ids


def _publish_session_changed(session: RespiteSession) -> None:
    realtime.publish_after_commit(
        realtime.EventType.SESSION,
        user_ids=audience(session),
        center_ids=[session.center_id] if session.center_id else [],
        session_id=session.id,
    )


# --- Transitions -----------------------------------------------------------------


def cancel_session(
    actor: User,
    session: RespiteSession,
    *,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> None:
    """Cancel a requested or confirmed session before it starts (its caregiver or a coordinator).

    Its live assignments are cancelled with it. PermissionError when the
    actor may never do this; SchedulingError when it can't happen now.
    """
    if (refusal := cancel_refusal(actor, session, now)) is not None:
        raise refusal
    if expected_version is not None and expected_version != session.version:
        raise SchedulingError("This session was changed while you were looking at it. Please check it again.")
    previous = session.status
    session.status = session_target("cancel", session.status)
    session.status_reason = reason.strip()[:500]
    for assignment in session.assignments:
        if assignment.status in LIVE_ASSIGNMENT_STATUSES:
            assignment.status = assignment_target("cancel", assignment.status)
    audit.record(
        "session.cancel",
        session,
        actor=actor,
        summary=f"Session for {session.recipient.full_name} cancelled",
        meta={"from": previous, "reason": session.status_reason},
    )
    _publish_session_changed(session)
    db.session.flush()
