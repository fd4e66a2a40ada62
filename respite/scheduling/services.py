"""Scheduling: the queries each page shows about respite sessions, and one function per transition.

A transition guards (lifecycle's predicates), changes rows, writes its audit
row, queues its live event and flushes. It never commits: the view or
command that calls it commits once, so several transitions make one unit of
work and a failure anywhere rolls all of them back, with their audit rows
and events.
"""

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from uuid import uuid4

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from .. import audit, realtime
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    CaregiverProfile,
    CareRecipient,
    Center,
    LocationKind,
    NoticeKind,
    ProviderProfile,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    utcnow,
)
from ..notices import services as notices
from ..text import has_control_characters
from ..timefmt import timespan, zone_or_utc
from ..web.converters import MAX_ID
from .lifecycle import (
    ACTIVE_SESSION_STATUSES,
    COUNTED_SESSION_STATUSES,
    LIVE_ASSIGNMENT_STATUSES,
    SchedulingError,
    assignment_target,
    can_cancel,
    cancel_refusal,
    edit_refusal,
    replace_refusal,
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
    """The provider's coming sessions; a cancelled one stays (with its reason) until its time has passed."""
    return db.session.scalars(
        select(Assignment)
        .join(Assignment.session)
        .options(
            joinedload(Assignment.session).joinedload(RespiteSession.recipient),
            joinedload(Assignment.session).joinedload(RespiteSession.center),
        )
        .where(
            Assignment.provider_id == provider_profile.id,
            provider_holds(),
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


def provider_holds() -> ColumnElement[bool]:
    """SQL: the Assignment joined to its RespiteSession holds its provider to the session.

    A live assignment does; so does one cancelled together with its session,
    so that the provider still sees the cancellation and its reason. One
    cancelled while the session goes on (they were taken off it) does not.
    """
    return or_(
        Assignment.status.in_(LIVE_ASSIGNMENT_STATUSES),
        and_(Assignment.status == AssignmentStatus.CANCELLED, RespiteSession.status == SessionStatus.CANCELLED),
    )


def get_session_for(user: User, session_id: int) -> RespiteSession | None:
    """The session `session_id` if `user` may see it, else None (the view answers 404).

    Caregivers see their own; providers the ones they hold (`provider_holds`);
    kiosks their center's; coordinators all.
    """
    query = select(RespiteSession).where(RespiteSession.id == session_id)
    if user.role == Role.CAREGIVER:
        query = query.join(CaregiverProfile).where(CaregiverProfile.user_id == user.id)
    elif user.role == Role.PROVIDER:
        query = query.join(Assignment).where(
            Assignment.provider_id == (user.provider_profile.id if user.provider_profile else -1),
            provider_holds(),
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


def publish_session_changed(session: RespiteSession) -> None:
    realtime.publish_after_commit(
        realtime.EventType.SESSION,
        user_ids=audience(session),
        center_ids=[session.center_id] if session.center_id else [],
        session_id=session.id,
    )


# --- Transitions -----------------------------------------------------------------


REASON_LIMIT = 500


def clean_reason(reason: str) -> str:
    """A reason as it will be kept and shown; SchedulingError for characters no one types."""
    if has_control_characters(reason):
        raise SchedulingError("Remove the hidden control characters from the reason.")
    return reason.strip()[:REASON_LIMIT]


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
    actor may never do this; SchedulingError when it can't happen now. Its
    family, its provider and (see `_tell_cancelled`) the coordinators hear why.
    """
    cancelled = _cancel(actor, session, reason=reason, expected_version=expected_version, now=now)
    _tell_cancelled(actor, [cancelled])


@dataclass(frozen=True)
class _Cancelled:
    """A session just cancelled, and what it had been: whose it was, and whether offers were out for it."""

    session: RespiteSession
    providers: list[User]  # who had accepted it
    offered: bool


def _cancel(
    actor: User,
    session: RespiteSession,
    *,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> _Cancelled:
    """The cancel transition itself (guard, change, audit row, event); no one is told yet."""
    if (refusal := cancel_refusal(actor, session, now)) is not None:
        raise refusal
    if expected_version is not None and expected_version != session.version:
        raise SchedulingError("This session was changed while you were looking at it. Please check it again.")
    reason = clean_reason(reason)
    previous = session.status
    session.status = session_target("cancel", session.status)
    session.status_reason = reason
    providers, offered = [], False
    for assignment in session.assignments:
        if assignment.status == AssignmentStatus.ACCEPTED:
            providers.append(assignment.provider.user)
        offered = offered or assignment.status == AssignmentStatus.OFFERED
        if assignment.status in LIVE_ASSIGNMENT_STATUSES:
            assignment.status = assignment_target("cancel", assignment.status)
    audit.record(
        "session.cancel",
        session,
        actor=actor,
        summary=f"Session for {session.recipient.full_name} cancelled",
        meta={"from": previous, "reason": session.status_reason},
    )
    publish_session_changed(session)
    db.session.flush()
    return _Cancelled(session, providers, offered)


def _tell_cancelled(actor: User, cancelled: Sequence[_Cancelled]) -> None:
    """Who hears of cancelled sessions (one notice each, however many of a series went): the family, each
    provider who had accepted one, and, when the family cancelled what a coordinator had arranged (a provider
    on it, or offers out), the coordinators. The reason is the same for all of them."""
    if not cancelled:
        return
    first = cancelled[0].session
    reason = first.status_reason

    def sentence(sessions: Sequence[RespiteSession]) -> Callable[[User], str]:
        def text(reader: User) -> str:
            whose = notices.person_for(reader, sessions[0])
            if len(sessions) == 1:
                what = f"{whose}'s session on {notices.span(sessions[0], reader)}"
            else:
                what = f"{len(sessions)} of {whose}'s sessions, from {notices.span(sessions[0], reader)}"
            return notices.with_reason(f"{actor.display_name} cancelled {what}", reason)

        return text

    everyone = [c.session for c in cancelled]
    notices.tell([first.caregiver.user], NoticeKind.CANCELLED, sentence(everyone), actor=actor, session=first)
    held: dict[int, tuple[User, list[RespiteSession]]] = {}
    for c in cancelled:
        for provider in c.providers:
            held.setdefault(provider.id, (provider, []))[1].append(c.session)
    for provider, sessions in held.values():
        notices.tell([provider], NoticeKind.CANCELLED, sentence(sessions), actor=actor, session=sessions[0])
    arranged = [c.session for c in cancelled if c.providers or c.offered]
    if actor.role == Role.CAREGIVER and arranged:
        notices.tell(notices.coordinators(), NoticeKind.CANCELLED, sentence(arranged), actor=actor, session=arranged[0])


# --- Requests --------------------------------------------------------------------
#
# A caregiver asks for respite: one session, or the same time every week for a
# few weeks (a series). Every rule is checked here, whatever the form sent;
# `check_request` is the one statement of them, used by the form's inline
# validation (nothing written) and by each transition before it writes.

MIN_SESSION_MINUTES = 30
MAX_SESSION_MINUTES = 24 * 60
MAX_SERIES_WEEKS = 12
ADDRESS_LIMIT = 500
NOTES_LIMIT = 2000
# The database's guarantees, by name (migration 0002; the model's unique index).
RECIPIENT_OVERLAP_CONSTRAINT = "ex_respite_session_recipient_no_overlap"
REQUEST_KEY_INDEX = "uq_respite_session_request_key_starts_at"
STALE_MESSAGE = "This session was changed while you were looking at it. Please check it again."


@dataclass(frozen=True)
class RequestDetails:
    """What the family asks for, as sent: a local date and time in the caregiver's own zone. Nothing checked yet."""

    recipient_id: int | None
    day: date | None
    start: time | None
    minutes: int | None
    location_kind: str = LocationKind.CENTER
    center_id: int | None = None
    address: str = ""
    notes: str = ""
    weeks: int | None = 1


@dataclass(frozen=True)
class Occurrence:
    """One session of a request, in UTC."""

    starts_at: datetime
    ends_at: datetime

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass(frozen=True)
class RequestCheck:
    """A request checked: what is wrong (form field name → message), and when it happens once that is known."""

    problems: dict[str, str]
    occurrences: list[Occurrence]
    recipient: CareRecipient | None
    center: Center | None
    zone: tzinfo


@dataclass(frozen=True)
class HoursPreview:
    """What a request does to the caregiver's hours this year; `left_after` goes below zero when it asks for more."""

    request_minutes: int  # every occurrence, whatever the year
    left_now: int  # this year, before the request
    left_after: int  # this year, after it (a changed session gives its own hours back)
    later_minutes: int = 0  # the part that falls in a later year, counted there

    @property
    def over(self) -> bool:
        return self.left_after < 0


@dataclass(frozen=True)
class RequestResult:
    """The sessions of a request; `repeated` when the same form had been sent before and nothing new was made."""

    sessions: list[RespiteSession]
    repeated: bool = False


class RequestInvalid(SchedulingError):
    """A request that breaks a rule; `problems` maps form field names to messages safe to show."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = problems


def occurrence_starts(day: date, start: time, weeks: int, zone: tzinfo) -> list[datetime]:
    """The start of each week's session in UTC: the same local wall-clock time on each date.

    Computed from the local date and time of each week, so a series keeps
    09:00 across a daylight-saving change. A local time the clocks skip
    (02:30 when they go forward) becomes the same instant read with the
    offset before the change, which is the time after the gap (03:30); one
    that happens twice (01:30 when they go back) is the first of the two.
    """
    return [
        datetime.combine(day + timedelta(weeks=week), start.replace(tzinfo=None), zone).replace(fold=0).astimezone(UTC)
        for week in range(weeks)
    ]


def _dates(occurrences: Sequence[Occurrence], zone: tzinfo) -> str:
    days = [o.starts_at.astimezone(zone).strftime("%a %-d %b %Y") for o in occurrences]
    return days[0] if len(days) == 1 else ", ".join(days[:-1]) + " and " + days[-1]


def clashing(
    recipient_id: int, occurrences: Sequence[Occurrence], *, leaving_out: RespiteSession | None = None
) -> list[Occurrence]:
    """The occurrences that overlap an active session of the person (one query)."""
    if not occurrences:
        return []
    query = select(RespiteSession.starts_at, RespiteSession.ends_at).where(
        RespiteSession.recipient_id == recipient_id,
        RespiteSession.status.in_(ACTIVE_SESSION_STATUSES),
        RespiteSession.starts_at < max(o.ends_at for o in occurrences),
        RespiteSession.ends_at > min(o.starts_at for o in occurrences),
    )
    if leaving_out is not None:
        query = query.where(RespiteSession.id != leaving_out.id)
    taken = db.session.execute(query).all()
    return [o for o in occurrences if any(s < o.ends_at and e > o.starts_at for s, e in taken)]


def _clash_message(recipient: CareRecipient, clashes: Sequence[Occurrence], zone: tzinfo, series: bool) -> str:
    message = f"{recipient.first_name} already has a session at that time on {_dates(clashes, zone)}."
    if series:
        message += " A series is booked whole or not at all: choose another time, or fewer weeks."
    return message


def check_request(
    actor: User,
    profile: CaregiverProfile,
    details: RequestDetails,
    *,
    replacing: RespiteSession | None = None,
    now: datetime | None = None,
) -> RequestCheck:
    """Every rule of a request, without writing: the problems found, and the occurrences when the time is known.

    `replacing` is the session this request would change or take the place of:
    its own time doesn't count as a clash.
    """
    now = now or utcnow()
    zone = zone_or_utc(profile.user.timezone)
    problems: dict[str, str] = {}

    recipient = None
    if details.recipient_id is None:
        problems["recipient_id"] = "Choose who the session is for."
    elif not 1 <= details.recipient_id <= MAX_ID:
        problems["recipient_id"] = "Choose one of the people you care for."
    else:
        recipient = db.session.scalar(
            select(CareRecipient).where(
                CareRecipient.id == details.recipient_id, CareRecipient.caregiver_id == profile.id
            )
        )
        if recipient is None or not recipient.active:
            recipient = None
            problems["recipient_id"] = "Choose one of the people you care for."

    center = None
    if details.location_kind == LocationKind.CENTER:
        if details.center_id is None:
            problems["center_id"] = "Choose a center."
        elif not 1 <= details.center_id <= MAX_ID or (center := db.session.get(Center, details.center_id)) is None:
            problems["center_id"] = "Choose a center from the list."
    elif details.location_kind == LocationKind.HOME:
        if not details.address.strip():
            problems["address"] = "Enter the address where the session will be."
        elif len(details.address.strip()) > ADDRESS_LIMIT:
            problems["address"] = f"Keep the address under {ADDRESS_LIMIT} characters."
    else:
        problems["location_kind"] = "Choose a center or home."
    if len(details.notes.strip()) > NOTES_LIMIT:
        problems["notes"] = f"Keep the notes under {NOTES_LIMIT} characters."

    weeks = details.weeks
    if weeks is None or not 1 <= weeks <= MAX_SERIES_WEEKS:
        problems["weeks"] = f"Repeat for 1 to {MAX_SERIES_WEEKS} weeks."
    minutes = details.minutes
    if minutes is None:
        problems["minutes"] = "Choose how long the session lasts."
    elif not MIN_SESSION_MINUTES <= minutes <= MAX_SESSION_MINUTES:
        problems["minutes"] = "A session lasts at least 30 minutes and at most 24 hours."
    if details.day is None:
        problems["day"] = "Choose a date."
    if details.start is None:
        problems["start"] = "Choose a start time."

    occurrences: list[Occurrence] = []
    if details.day and details.start and not {"minutes", "weeks"} & problems.keys():
        assert minutes is not None  # checked just above
        assert weeks is not None
        length = timedelta(minutes=minutes)
        occurrences = [Occurrence(s, s + length) for s in occurrence_starts(details.day, details.start, weeks, zone)]
        first = occurrences[0]
        if first.ends_at <= first.starts_at:  # can't happen with the length checked; kept as the rule it is
            problems["minutes"] = "A session ends after it starts."
        elif first.starts_at <= now:
            if details.day < now.astimezone(zone).date():
                problems["day"] = "Choose today or a later date."
            else:
                problems["start"] = "That time has passed. Choose a later time."
        elif recipient is not None and (clashes := clashing(recipient.id, occurrences, leaving_out=replacing)):
            problems["day"] = _clash_message(recipient, clashes, zone, series=len(occurrences) > 1)
    return RequestCheck(problems, occurrences, recipient, center, zone)


def _for_session(details: RequestDetails, session: RespiteSession) -> RequestDetails:
    """A change of `session` keeps its person and is one session."""
    return dataclasses.replace(details, recipient_id=session.recipient_id, weeks=1)


def check_change(
    actor: User, session: RespiteSession, details: RequestDetails, *, now: datetime | None = None
) -> RequestCheck:
    """`check_request` for a change of `session`: its own person, one occurrence, and its own time is no clash."""
    return check_request(actor, session.caregiver, _for_session(details, session), replacing=session, now=now)


def centers() -> Sequence[Center]:
    """The centers a session can be at, by name."""
    return db.session.scalars(select(Center).order_by(Center.name)).all()


def hours_preview(
    profile: CaregiverProfile,
    occurrences: Sequence[Occurrence],
    *,
    replacing: RespiteSession | None = None,
    now: datetime | None = None,
) -> HoursPreview:
    """The hours a request uses, and the hours left this year before and after it (a warning, not a limit)."""
    zone_name = profile.user.timezone
    start, end = year_bounds(zone_name, now)
    left_now = profile.annual_allotment_minutes - minutes_used_this_year(profile, zone_name, now)
    given_back = 0
    if replacing is not None and replacing.status in COUNTED_SESSION_STATUSES and start <= replacing.starts_at < end:
        given_back = replacing.minutes
    this_year = sum(o.minutes for o in occurrences if start <= o.starts_at < end)
    return HoursPreview(
        request_minutes=sum(o.minutes for o in occurrences),
        left_now=left_now,
        left_after=left_now + given_back - this_year,
        later_minutes=sum(o.minutes for o in occurrences if o.starts_at >= end),
    )


def sessions_for_request_key(profile: CaregiverProfile, request_key: str) -> list[RespiteSession]:
    """The sessions an earlier send of the same form made (a double tap), soonest first."""
    return list(
        db.session.scalars(
            select(RespiteSession)
            .where(RespiteSession.caregiver_id == profile.id, RespiteSession.request_key == request_key)
            .order_by(RespiteSession.starts_at)
        )
    )


def _requesting_profile(actor: User) -> CaregiverProfile:
    if actor.role != Role.CAREGIVER or actor.caregiver_profile is None:
        raise PermissionError("Only a family caregiver can ask for respite.")
    if not actor.caregiver_profile.active:
        raise SchedulingError("Your caregiver profile is paused. Please ask your coordinator.")
    return actor.caregiver_profile


def _constraint(error: IntegrityError) -> str:
    """The name of the constraint an IntegrityError broke, as far as the driver tells ("" when unknown)."""
    diag = getattr(error.orig, "diag", None)  # psycopg
    name = getattr(diag, "constraint_name", None)
    if name:
        return str(name)
    text = str(error.orig)
    if "UNIQUE constraint failed: respite_session.request_key" in text:  # SQLite names columns, not the index
        return REQUEST_KEY_INDEX
    return RECIPIENT_OVERLAP_CONSTRAINT if RECIPIENT_OVERLAP_CONSTRAINT in text else ""


def _insert(
    profile: CaregiverProfile,
    check: RequestCheck,
    details: RequestDetails,
    request_key: str | None,
    *,
    leaving_out: RespiteSession | None = None,
) -> RequestResult:
    """Add one row per occurrence, all or none, inside a savepoint.

    The database is the last word on clashes: on PostgreSQL two requests that
    both passed `check_request` at the same moment meet the exclusion
    constraint, and the later one is told which dates clash; a second send of
    the same form meets the request-key index, and gets the first one's sessions.
    """
    assert check.recipient is not None
    series_id = str(uuid4()) if len(check.occurrences) > 1 else None
    at_home = details.location_kind == LocationKind.HOME
    sessions = [
        RespiteSession(
            caregiver=profile,
            recipient=check.recipient,
            center=None if at_home else check.center,
            location_kind=LocationKind.HOME if at_home else LocationKind.CENTER,
            address=details.address.strip() if at_home else "",
            starts_at=o.starts_at,
            ends_at=o.ends_at,
            status=SessionStatus.REQUESTED,
            request_notes=details.notes.strip(),
            series_id=series_id,
            request_key=request_key,
        )
        for o in check.occurrences
    ]
    try:
        with db.session.begin_nested():
            db.session.add_all(sessions)
            db.session.flush()
    except IntegrityError as error:
        constraint = _constraint(error)
        if request_key and (earlier := sessions_for_request_key(profile, request_key)):
            return RequestResult(earlier, repeated=True)
        if constraint == RECIPIENT_OVERLAP_CONSTRAINT:
            # The other request has committed by now (PostgreSQL waited for it): name its dates.
            clashes = clashing(check.recipient.id, check.occurrences, leaving_out=leaving_out) or check.occurrences
            message = _clash_message(check.recipient, clashes, check.zone, series=len(check.occurrences) > 1)
            raise RequestInvalid({"day": message}) from error
        raise
    return RequestResult(sessions)


def _describe(occurrences: Sequence[Occurrence], zone: tzinfo) -> str:
    first = occurrences[0]
    when = timespan(first.starts_at, first.ends_at, zone)
    if len(occurrences) > 1:
        when += f", weekly for {len(occurrences)} weeks"
    return when


def request_sessions(
    actor: User, details: RequestDetails, *, request_key: str | None = None, now: datetime | None = None
) -> RequestResult:
    """A caregiver asks for respite: one requested session, or a weekly series (all or nothing).

    The same `request_key` sent again (a double tap) makes nothing new and
    answers the first send's sessions. RequestInvalid when a rule is broken.
    """
    profile = _requesting_profile(actor)
    if request_key and (earlier := sessions_for_request_key(profile, request_key)):
        return RequestResult(earlier, repeated=True)
    check = check_request(actor, profile, details, now=now)
    if check.problems:
        raise RequestInvalid(check.problems)
    result = _insert(profile, check, details, request_key)
    if result.repeated:
        return result
    size = len(result.sessions)
    for number, session in enumerate(result.sessions, start=1):
        audit.record(
            "session.request",
            session,
            actor=actor,
            summary=f"Session for {session.recipient.full_name} requested: "
            f"{timespan(session.starts_at, session.ends_at, check.zone)}"
            + (f" ({number} of {size} weekly)" if size > 1 else ""),
            meta={
                "recipient_id": session.recipient_id,
                "series_size": size,
                "series_id": session.series_id,
                "occurrence": number,
            },
        )
    # One event for the whole request: each open page re-fetches once.
    publish_session_changed(result.sessions[0])
    db.session.flush()
    return result


def _check_version(session: RespiteSession, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != session.version:
        raise SchedulingError(STALE_MESSAGE)


def edit_request(
    actor: User,
    session: RespiteSession,
    details: RequestDetails,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> bool:
    """Change the time, place or notes of a request no provider has accepted yet; False when nothing changed.

    The person and the series stay. Offers made to providers for the old
    time are withdrawn when the time changes: they were for another time.
    """
    if (refusal := edit_refusal(actor, session, now)) is not None:
        raise refusal
    details = _for_session(details, session)
    check = check_request(actor, session.caregiver, details, replacing=session, now=now)
    if check.problems:
        raise RequestInvalid(check.problems)
    (new,) = check.occurrences
    at_home = details.location_kind == LocationKind.HOME
    wanted: dict[str, object] = {
        "starts_at": new.starts_at,
        "ends_at": new.ends_at,
        "location_kind": LocationKind.HOME if at_home else LocationKind.CENTER,
        "center_id": None if at_home or check.center is None else check.center.id,
        "address": details.address.strip() if at_home else "",
        "request_notes": details.notes.strip(),
    }
    changed = {name: value for name, value in wanted.items() if getattr(session, name) != value}
    if not changed:
        return False  # the same form sent twice (a double tap) changes nothing the second time
    _check_version(session, expected_version)
    meta = {name: {"from": _plain(getattr(session, name)), "to": _plain(value)} for name, value in changed.items()}
    assignments = list(session.assignments)  # loaded before the savepoint, whose start flushes what is pending
    moved = "starts_at" in changed or "ends_at" in changed
    offered_to = [a.provider.user for a in assignments if moved and a.status in LIVE_ASSIGNMENT_STATUSES]
    before = Occurrence(session.starts_at, session.ends_at)
    try:
        # Every change inside the savepoint: a clash or a concurrent change rolls back only this.
        with db.session.begin_nested():
            for name, value in changed.items():
                setattr(session, name, value)
            if moved:
                for assignment in assignments:
                    if assignment.status in LIVE_ASSIGNMENT_STATUSES:
                        assignment.status = assignment_target("cancel", assignment.status)
                        assignment.reason = "The family changed the time of the request."
            db.session.flush()
    except StaleDataError as error:
        raise SchedulingError(STALE_MESSAGE) from error
    except IntegrityError as error:
        if _constraint(error) != RECIPIENT_OVERLAP_CONSTRAINT:
            raise
        assert check.recipient is not None
        raise RequestInvalid({"day": _clash_message(check.recipient, [new], check.zone, series=False)}) from error
    audit.record(
        "session.edit",
        session,
        actor=actor,
        summary=f"Request for {session.recipient.full_name} changed: "
        f"{timespan(new.starts_at, new.ends_at, check.zone)}",
        meta={"changed": meta},
    )
    if offered_to:
        _tell_offers_withdrawn(actor, session, before, offered_to)
    publish_session_changed(session)
    db.session.flush()
    return True


def _tell_offers_withdrawn(actor: User, session: RespiteSession, before: Occurrence, offered_to: list[User]) -> None:
    """A request's time moved while offers were out for it: those providers, and the coordinators who arrange
    it again, hear of the new time. (A time changed with no offer out shows in the queue; no one is told.)"""

    def sentence(end: str) -> Callable[[User], str]:
        def text(reader: User) -> str:
            zone = zone_or_utc(reader.timezone)
            return (
                f"{actor.display_name} moved the request for {session.recipient.full_name} from "
                f"{timespan(before.starts_at, before.ends_at, zone)} to {notices.span(session, reader)}; {end}"
            )

        return text

    notices.tell(offered_to, NoticeKind.TIME_CHANGED, sentence("your offer for it is withdrawn."), actor=actor)
    notices.tell(
        notices.coordinators(),
        NoticeKind.TIME_CHANGED,
        sentence("the offers out for it are withdrawn."),
        actor=actor,
        session=session,
    )


def _plain(value: object) -> object:
    """A value as the audit log's metadata keeps it (JSON)."""
    return value.isoformat() if isinstance(value, datetime) else value


def replace_session(
    actor: User,
    session: RespiteSession,
    details: RequestDetails,
    *,
    request_key: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> RequestResult:
    """Change a confirmed session: a new request with the new details, and this one cancelled with the reason.

    Two transitions in one unit of work: the cancel (with its own audit row
    and event) and the new request (`session.replace`). A double tap answers
    the first send's new session.
    """
    profile = session.caregiver
    if request_key and (earlier := sessions_for_request_key(profile, request_key)):
        return RequestResult(earlier, repeated=True)
    if (refusal := replace_refusal(actor, session, now)) is not None:
        raise refusal
    _check_version(session, expected_version)
    details = _for_session(details, session)
    check = check_request(actor, profile, details, replacing=session, now=now)
    if check.problems:
        raise RequestInvalid(check.problems)
    when = _describe(check.occurrences, check.zone)
    reason = f"Changed by the family: new request for {when} ({profile.user.timezone})"
    try:
        cancel_session(actor, session, reason=reason, now=now)
    except StaleDataError as error:  # a twin send changed it first; it waited for that one to commit
        raise SchedulingError(STALE_MESSAGE) from error
    result = _insert(profile, check, details, request_key, leaving_out=session)
    if result.repeated:
        return result
    (new,) = result.sessions
    audit.record(
        "session.replace",
        new,
        actor=actor,
        summary=f"Session for {new.recipient.full_name} changed: new request for {when}",
        meta={"replaces": session.id, "recipient_id": new.recipient_id},
    )
    publish_session_changed(new)
    db.session.flush()
    return result


def change_session(
    actor: User,
    session: RespiteSession,
    details: RequestDetails,
    *,
    request_key: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> RequestResult:
    """The family's "change": a request is edited in place; a confirmed session is replaced by a new request.

    A second send of the form that replaced a session answers the first one's new session.
    """
    if request_key and (earlier := sessions_for_request_key(session.caregiver, request_key)):
        return RequestResult(earlier, repeated=True)
    if session.status == SessionStatus.CONFIRMED:
        return replace_session(
            actor, session, details, request_key=request_key, expected_version=expected_version, now=now
        )
    changed = edit_request(actor, session, details, expected_version=expected_version, now=now)
    return RequestResult([session], repeated=not changed)


def cancel_series(
    actor: User,
    session: RespiteSession,
    *,
    reason: str = "",
    expected_version: int | None = None,
    now: datetime | None = None,
) -> list[RespiteSession]:
    """Cancel this occurrence of a series and every later one that can still be cancelled, each with the reason.

    One cancel transition per occurrence, in one unit of work; the ones that
    can't be cancelled any more (started, declined, already cancelled) stay as they are.
    """
    if session.series_id is None:
        raise SchedulingError("This session is not part of a series.")
    if (refusal := cancel_refusal(actor, session, now)) is not None:
        raise refusal
    _check_version(session, expected_version)
    rest = db.session.scalars(
        select(RespiteSession)
        .where(RespiteSession.series_id == session.series_id, RespiteSession.starts_at >= session.starts_at)
        .order_by(RespiteSession.starts_at)
    ).all()
    cancelled = [
        _cancel(actor, occurrence, reason=reason, now=now) for occurrence in rest if can_cancel(actor, occurrence, now)
    ]
    _tell_cancelled(actor, cancelled)
    return [c.session for c in cancelled]
