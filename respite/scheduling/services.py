"""Scheduling reads: what each role's dashboard shows about respite sessions.

State changes to sessions (confirm, check in, …) belong here too, one
function per transition, as the lifecycle in DESIGN.md describes.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Assignment, CaregiverProfile, CareRecipient, RespiteSession, utcnow

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
    zone = ZoneInfo(zone_name)
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
        .options(joinedload(Assignment.session).joinedload(RespiteSession.recipient))
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
    zone = ZoneInfo(center.timezone)
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
