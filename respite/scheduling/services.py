"""Scheduling reads: what each role's dashboard shows about respite sessions.

State changes to sessions (confirm, check in, …) belong here too, one
function per transition, as the lifecycle in DESIGN.md describes.
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Assignment, CaregiverProfile, CareRecipient, RespiteSession, utcnow
from ..timefmt import zone_or_utc

ACTIVE_STATUSES = ("requested", "confirmed", "checked_in")
# Sessions that use up a caregiver's yearly hours.
COUNTED_STATUSES = ("requested", "confirmed", "checked_in", "completed", "no_show")


def caregiver_profile_for(user):
    return db.session.scalar(select(CaregiverProfile).where(CaregiverProfile.user_id == user.id))


def recipients_for(profile):
    return db.session.scalars(
        select(CareRecipient)
        .where(CareRecipient.caregiver_id == profile.id, CareRecipient.active.is_(True))
        .order_by(CareRecipient.first_name, CareRecipient.id)
    ).all()


def upcoming_for_caregiver(profile, limit=10, now=None):
    return db.session.scalars(
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient), joinedload(RespiteSession.center))
        .where(
            RespiteSession.caregiver_id == profile.id,
            RespiteSession.ends_at >= (now or utcnow()),
            RespiteSession.status.in_(ACTIVE_STATUSES),
        )
        .order_by(RespiteSession.starts_at)
        .limit(limit)
    ).all()


def year_bounds(zone_name, now=None):
    """The start and end of the current calendar year in the caregiver's zone, as UTC."""
    zone = zone_or_utc(zone_name)
    year = (now or utcnow()).astimezone(zone).year
    start = datetime.combine(datetime(year, 1, 1).date(), time(), zone)
    end = datetime.combine(datetime(year + 1, 1, 1).date(), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def minutes_used_this_year(profile, zone_name, now=None):
    start, end = year_bounds(zone_name, now)
    sessions = db.session.execute(
        select(RespiteSession.starts_at, RespiteSession.ends_at).where(
            RespiteSession.caregiver_id == profile.id,
            RespiteSession.status.in_(COUNTED_STATUSES),
            RespiteSession.starts_at >= start,
            RespiteSession.starts_at < end,
        )
    ).all()
    return sum(int((ends - starts).total_seconds() // 60) for starts, ends in sessions)


def minutes_left_this_year(profile, zone_name, now=None):
    return max(0, profile.annual_allotment_minutes - minutes_used_this_year(profile, zone_name, now))


def upcoming_for_provider(provider_profile, limit=10, now=None):
    return db.session.scalars(
        select(Assignment)
        .options(
            joinedload(Assignment.session).joinedload(RespiteSession.recipient),
            joinedload(Assignment.session).joinedload(RespiteSession.center),
        )
        .where(
            Assignment.provider_id == provider_profile.id,
            Assignment.status.in_(("offered", "accepted")),
            Assignment.ends_at >= (now or utcnow()),
        )
        .order_by(Assignment.starts_at)
        .limit(limit)
    ).all()


def request_queue(limit=20):
    return db.session.scalars(
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient), joinedload(RespiteSession.center))
        .where(RespiteSession.status == "requested")
        .order_by(RespiteSession.starts_at)
        .limit(limit)
    ).all()


def status_counts():
    rows = db.session.execute(select(RespiteSession.status, func.count()).group_by(RespiteSession.status)).all()
    return dict(rows)


def center_day(center, now=None):
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
            RespiteSession.status.in_(("confirmed", "checked_in", "completed")),
        )
        .order_by(RespiteSession.starts_at)
    ).all()


# --- Access and lifecycle -----------------------------------------------------


class SchedulingError(Exception):
    """A transition that can't happen now; the message is safe to show to the user."""


def get_session_for(user, session_id):
    """The session `session_id` if `user` may see it, else None (the view answers 404).

    Caregivers see their own; providers the ones they hold a live assignment
    on; kiosks their center's; coordinators all.
    """
    query = select(RespiteSession).where(RespiteSession.id == session_id)
    if user.role == "caregiver":
        query = query.join(CaregiverProfile).where(CaregiverProfile.user_id == user.id)
    elif user.role == "provider":
        query = query.join(Assignment).where(
            Assignment.provider_id == (user.provider_profile.id if user.provider_profile else -1),
            Assignment.status.in_(("offered", "accepted")),
        )
    elif user.role == "kiosk":
        query = query.where(RespiteSession.center_id == user.center_id)
    elif user.role != "coordinator":
        return None
    return db.session.scalar(query)


def audience(session):
    """Who hears about a change to `session`: its caregiver, its providers and the coordinators."""
    from ..models import ProviderProfile, User

    user_ids = {session.caregiver.user_id}
    user_ids.update(
        db.session.scalars(
            select(ProviderProfile.user_id)
            .join(Assignment, Assignment.provider_id == ProviderProfile.id)
            .where(Assignment.session_id == session.id)
        )
    )
    user_ids.update(db.session.scalars(select(User.id).where(User.role == "coordinator", User.active.is_(True))))
    return user_ids


def cancel_session(actor, session, reason="", expected_version=None, now=None):
    """Cancel a requested or confirmed session before it starts (its caregiver or a coordinator)."""
    from .. import audit, realtime

    if actor.role not in ("caregiver", "coordinator"):
        raise PermissionError("Only the family or a coordinator can cancel a session.")
    if expected_version is not None and expected_version != session.version:
        raise SchedulingError("This session was changed while you were looking at it. Please check it again.")
    if session.status not in ("requested", "confirmed"):
        raise SchedulingError("This session can no longer be cancelled.")
    if session.starts_at <= (now or utcnow()):
        raise SchedulingError("This session has already started; ask the provider or a coordinator.")
    previous = session.status
    session.status = "cancelled"
    session.status_reason = reason.strip()[:500]
    for assignment in session.assignments:
        if assignment.status in ("offered", "accepted"):
            assignment.status = "cancelled"
    audit.record(
        "session.cancel",
        session,
        summary=f"Session for {session.recipient.full_name} cancelled",
        meta={"from": previous, "reason": session.status_reason},
    )
    realtime.publish_after_commit(
        "session",
        user_ids=audience(session),
        center_ids=[session.center_id] if session.center_id else [],
        session_id=session.id,
    )
    db.session.commit()
