"""The program's figures, for the reports page and its CSV files: aggregate queries, read only.

Each report is one statement whatever the number of sessions: the database groups and sums
(never a loop over sessions here). Sessions fall into the report's local weeks or months by a
CASE over the periods' UTC bounds (respite.reports.periods), and durations come from
`epoch_seconds`, one small function written for each database; so every query reads the same
on PostgreSQL and SQLite. What counts in each report is said beside its function, and on the page.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    SQLColumnExpression,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    AuditLog,
    CaregiverProfile,
    Center,
    LocationKind,
    ProviderProfile,
    RespiteSession,
    Role,
    SessionStatus,
    User,
)
from ..scheduling.lifecycle import COUNTED_SESSION_STATUSES
from ..timefmt import zone_or_utc
from .periods import DayRange, Period

S = SessionStatus

# How many names the page shows in the per-person reports (the CSV files have them all), and reasons.
TOP_PEOPLE = 15
TOP_REASONS = 10

# The audit actions that confirm a request: a coordinator assigned a provider, a provider accepted an
# offer or took the request ("session.confirm" is the older name of a confirmation).
CONFIRMING_ACTIONS = ("session.assign", "session.accept", "session.take", "session.confirm")
# Statuses of sessions that didn't happen, each with its reason.
CALLED_OFF = (S.CANCELLED, S.NO_SHOW)
# A confirmed session the family changed is cancelled with a reason naming its new time: one reason for all.
REPLACED_PREFIX = "Changed by the family:"
REPLACED = "Changed by the family (replaced by a new request)"
NO_REASON = "No reason given"


# --- Database helpers -------------------------------------------------------------------------


class epoch_seconds(FunctionElement[float]):  # noqa: N801 (an SQL function, named as SQL names them)
    """SQL: the seconds from 1970 to a UTC timestamp. Differences of two are durations, on either database."""

    type = Float()
    name = "epoch_seconds"
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_seconds_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch_seconds, "sqlite")
def _epoch_seconds_sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as text; julianday() reads them (day 2440587.5 is 1970-01-01 00:00).
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


def minutes_between(start: SQLColumnExpression[Any], end: SQLColumnExpression[Any]) -> ColumnElement[float]:
    return (epoch_seconds(end) - epoch_seconds(start)) / 60.0


def scheduled_minutes() -> ColumnElement[float]:
    return minutes_between(RespiteSession.starts_at, RespiteSession.ends_at)


def delivered_minutes() -> ColumnElement[float]:
    """A completed session's length: from check-in to check-out where both were recorded (in that
    order), else as it was booked."""
    checked = and_(
        RespiteSession.checked_in_at.is_not(None),
        RespiteSession.checked_out_at.is_not(None),
        RespiteSession.checked_out_at > RespiteSession.checked_in_at,
    )
    return case(
        (checked, minutes_between(RespiteSession.checked_in_at, RespiteSession.checked_out_at)),
        else_=scheduled_minutes(),
    )


def period_number(column: SQLColumnExpression[datetime], periods: Sequence[Period]) -> ColumnElement[int]:
    """SQL: which of `periods` (consecutive, in order) the instant `column` falls in, counted from 0.
    The caller keeps `column` within them."""
    return case(*[(column < period.ends_at, number) for number, period in enumerate(periods)], else_=None)


def _within(column: SQLColumnExpression[datetime], days: DayRange) -> ColumnElement[bool]:
    return and_(column >= days.starts_at, column < days.ends_at)


def _minutes(value: Any) -> int:
    return round(float(value or 0))


def _hours(value: Any) -> float | None:
    return None if value is None else float(value)


# --- What a report covers ---------------------------------------------------------------------


class PlaceKind(StrEnum):
    ALL = "all"
    CENTER = "center"
    HOME = "home"


@dataclass(frozen=True)
class Place:
    """Whose sessions: the whole program's, one center's, or the home visits (which belong to no center)."""

    kind: PlaceKind
    name: str
    center_id: int | None = None
    timezone: str | None = None

    @property
    def value(self) -> str:
        """How the reports' form and links name it."""
        if self.kind == PlaceKind.CENTER:
            return str(self.center_id)
        return "" if self.kind == PlaceKind.ALL else PlaceKind.HOME.value

    def sessions(self) -> ColumnElement[bool]:
        """SQL: the sessions it covers."""
        if self.kind == PlaceKind.CENTER:
            return RespiteSession.center_id == self.center_id
        if self.kind == PlaceKind.HOME:
            return RespiteSession.location_kind == LocationKind.HOME
        return true()


EVERYWHERE = Place(PlaceKind.ALL, "All centers and home visits")
AT_HOME = Place(PlaceKind.HOME, "Home visits")


def places() -> list[Place]:
    """What the reports can cover: everything, each center (by name), the home visits (one statement)."""
    centers = db.session.execute(select(Center.id, Center.name, Center.timezone).order_by(Center.name, Center.id))
    return [EVERYWHERE, *(Place(PlaceKind.CENTER, c.name, c.id, c.timezone) for c in centers), AT_HOME]


@dataclass(frozen=True)
class Scope:
    """A report's days, on whose clock, and whose sessions."""

    days: DayRange
    place: Place
    zone_name: str


def report_zone(place: Place, viewer_zone: str) -> ZoneInfo:
    """The clock a report's days, weeks and months follow: a center's own, else the coordinator's."""
    return zone_or_utc(place.timezone if place.kind == PlaceKind.CENTER and place.timezone else viewer_zone)


def scope_for(place: Place, first_day: date, last_day: date, zone: ZoneInfo) -> Scope:
    return Scope(DayRange(first_day, last_day, zone), place, zone.key)


# --- Hours delivered --------------------------------------------------------------------------


@dataclass(frozen=True)
class HoursRow:
    period: Period
    sessions: int
    minutes: int


def hours_delivered(scope: Scope, periods: Sequence[Period]) -> list[HoursRow]:
    """Completed sessions and their minutes in each period, by the day each was booked to start: from
    check-in to check-out where both were recorded, else the booked length."""
    rows = (
        select(
            period_number(RespiteSession.starts_at, periods).label("period"),
            delivered_minutes().label("minutes"),
        )
        .where(
            RespiteSession.status == S.COMPLETED,
            _within(RespiteSession.starts_at, scope.days),
            scope.place.sessions(),
        )
        .subquery()
    )
    totals = {
        row.period: row
        for row in db.session.execute(
            select(rows.c.period, func.count().label("sessions"), func.sum(rows.c.minutes).label("minutes")).group_by(
                rows.c.period
            )
        )
    }
    return [
        HoursRow(period, totals[n].sessions, _minutes(totals[n].minutes)) if n in totals else HoursRow(period, 0, 0)
        for n, period in enumerate(periods)
    ]


# --- Requests received and filled -------------------------------------------------------------


@dataclass(frozen=True)
class RequestsRow:
    """Requests received in a period (or the whole range, `period` None), how many of them a provider was
    confirmed on by now, how many were declined, and the hours from request to confirmation."""

    period: Period | None
    received: int
    filled: int
    declined: int
    average_hours: float | None
    median_hours: float | None


@dataclass(frozen=True)
class RequestsReport:
    weeks: list[RequestsRow]
    total: RequestsRow


def confirmed_at() -> ColumnElement[datetime]:
    """SQL: when a session was first confirmed: the first confirming row of the audit log; for a session the
    log doesn't tell of (loaded from elsewhere), when its first accepted assignment was made. NULL: never."""
    logged = (
        select(func.min(AuditLog.created_at))
        .where(
            AuditLog.entity_type == RespiteSession.__name__,
            AuditLog.entity_id == cast(RespiteSession.id, String),
            AuditLog.action.in_(CONFIRMING_ACTIONS),
        )
        .scalar_subquery()
    )
    assigned = (
        select(func.min(Assignment.created_at))
        .where(Assignment.session_id == RespiteSession.id, Assignment.status == AssignmentStatus.ACCEPTED)
        .scalar_subquery()
    )
    return func.coalesce(logged, assigned)


def requests_received(scope: Scope) -> RequestsReport:
    """Every session is a request first: those received (created) in each week, by the week they came in;
    of them, those filled (a provider confirmed, whenever that was) and those declined; and the hours each
    filled one waited, as a median and an average (the middle one, or the mean of the middle two)."""
    weeks = scope.days.weeks()
    filled_at = confirmed_at()
    waited = (epoch_seconds(filled_at) - epoch_seconds(RespiteSession.created_at)) / 3600.0
    requests = (
        select(
            period_number(RespiteSession.created_at, weeks).label("period"),
            RespiteSession.status.label("status"),
            waited.label("hours"),
        )
        .where(_within(RespiteSession.created_at, scope.days), scope.place.sessions())
        .cte("requests")
    )
    # Filled requests first, shortest wait first; the unfilled after them (NULLs sort apart on the two databases).
    order = (case((requests.c.hours.is_(None), 1), else_=0), requests.c.hours)
    ranked = select(
        requests,
        func.row_number().over(partition_by=requests.c.period, order_by=order).label("rank_in_week"),
        func.count(requests.c.hours).over(partition_by=requests.c.period).label("filled_in_week"),
        func.row_number().over(order_by=order).label("rank_in_range"),
        func.count(requests.c.hours).over().label("filled_in_range"),
    ).cte("ranked")

    def figures(rank: ColumnElement[int], filled: ColumnElement[int]) -> list[ColumnElement[Any]]:
        middle = and_(ranked.c.hours.is_not(None), or_(rank == (filled + 1) // 2, rank == (filled + 2) // 2))
        return [
            func.count().label("received"),
            func.count(ranked.c.hours).label("filled"),
            func.sum(case((ranked.c.status == S.DECLINED, 1), else_=0)).label("declined"),
            func.avg(ranked.c.hours).label("average"),
            func.avg(case((middle, ranked.c.hours), else_=None)).label("median"),
        ]

    per_week = select(ranked.c.period, *figures(ranked.c.rank_in_week, ranked.c.filled_in_week)).group_by(
        ranked.c.period
    )
    in_range = select(literal(-1).label("period"), *figures(ranked.c.rank_in_range, ranked.c.filled_in_range))
    found = {row.period: row for row in db.session.execute(union_all(per_week, in_range))}

    def row(period: Period | None, number: int) -> RequestsRow:
        figures_ = found.get(number)
        if figures_ is None or not figures_.received:
            return RequestsRow(period, 0, 0, 0, None, None)
        return RequestsRow(
            period,
            figures_.received,
            figures_.filled,
            int(figures_.declined or 0),
            _hours(figures_.average),
            _hours(figures_.median),
        )

    return RequestsReport([row(period, n) for n, period in enumerate(weeks)], row(None, -1))


# --- Cancellations and no-shows ---------------------------------------------------------------


@dataclass(frozen=True)
class CalledOffRow:
    period: Period
    cancelled: int
    no_shows: int


def called_off(scope: Scope) -> list[CalledOffRow]:
    """Sessions cancelled, and no-shows, in each week, by the day each was booked to start."""
    weeks = scope.days.weeks()
    rows = (
        select(period_number(RespiteSession.starts_at, weeks).label("period"), RespiteSession.status.label("status"))
        .where(
            RespiteSession.status.in_(CALLED_OFF),
            _within(RespiteSession.starts_at, scope.days),
            scope.place.sessions(),
        )
        .subquery()
    )
    counts = {
        (row.period, row.status): row.sessions
        for row in db.session.execute(
            select(rows.c.period, rows.c.status, func.count().label("sessions")).group_by(rows.c.period, rows.c.status)
        )
    }
    return [
        CalledOffRow(period, counts.get((n, S.CANCELLED), 0), counts.get((n, S.NO_SHOW), 0))
        for n, period in enumerate(weeks)
    ]


@dataclass(frozen=True)
class ReasonRow:
    status: str  # cancelled, no_show or declined
    reason: str
    sessions: int

    @property
    def status_label(self) -> str:
        return SessionStatus(self.status).label


@dataclass(frozen=True)
class Reasons:
    called_off: list[ReasonRow]  # cancellations and no-shows, most frequent first
    declined: list[ReasonRow]


def reasons(scope: Scope, limit: int | None = TOP_REASONS) -> Reasons:
    """The reasons given, grouped (the same words in any case and spacing are one reason; every change
    of a confirmed session by its family is one), most frequent first: for the cancellations and no-shows
    of sessions booked to start in the range, and for the requests received in it that were declined.
    `limit`: the first so many of each."""
    given = func.trim(RespiteSession.status_reason)
    reason = case(
        (RespiteSession.status_reason.like(f"{REPLACED_PREFIX}%"), REPLACED),
        (given == "", NO_REASON),
        else_=given,
    )
    rows = (
        select(RespiteSession.status.label("status"), reason.label("reason"), func.lower(reason).label("key"))
        .where(
            or_(
                and_(RespiteSession.status.in_(CALLED_OFF), _within(RespiteSession.starts_at, scope.days)),
                and_(RespiteSession.status == S.DECLINED, _within(RespiteSession.created_at, scope.days)),
            ),
            scope.place.sessions(),
        )
        .subquery()
    )
    grouped = (
        select(
            rows.c.status,
            func.min(rows.c.reason).label("reason"),
            func.count().label("sessions"),
            case((rows.c.status == S.DECLINED, 1), else_=0).label("declined"),
        )
        .group_by(rows.c.status, rows.c.key)
        .subquery()
    )
    ranked = select(
        grouped,
        func.row_number()
        .over(partition_by=grouped.c.declined, order_by=(grouped.c.sessions.desc(), grouped.c.reason, grouped.c.status))
        .label("rank"),
    ).subquery()
    query = select(ranked.c.status, ranked.c.reason, ranked.c.sessions, ranked.c.declined).order_by(
        ranked.c.declined, ranked.c.rank
    )
    if limit is not None:
        query = query.where(ranked.c.rank <= limit)
    found = db.session.execute(query).all()
    return Reasons(
        [ReasonRow(r.status, r.reason, r.sessions) for r in found if not r.declined],
        [ReasonRow(r.status, r.reason, r.sessions) for r in found if r.declined],
    )


# --- Hours used and allotted, per caregiver ----------------------------------------------------


@dataclass(frozen=True)
class CaregiverHours:
    caregiver_id: int
    name: str
    allotted_minutes: int
    completed_minutes: int
    booked_minutes: int  # still to come, happening, or missed (a no-show)

    @property
    def used_minutes(self) -> int:
        return self.completed_minutes + self.booked_minutes


Row = TypeVar("Row")


@dataclass(frozen=True)
class Ranking(Generic[Row]):
    rows: list[Row]
    total: int  # how many there are in all (`rows` may be the first few)


def caregiver_hours(scope: Scope, limit: int | None = TOP_PEOPLE) -> Ranking[CaregiverHours]:
    """Each caregiver's yearly allotment, and the hours used of it in the calendar year of the range's
    last day, counted as the family's hours left are (requested, confirmed, checked in, completed and
    no-show sessions, at their booked length): completed, and the rest. Every active caregiver for the
    whole program; those with sessions there for a center or the home visits. Most used first."""
    year = scope.days.year()
    minutes = scheduled_minutes()
    used = (
        select(
            RespiteSession.caregiver_id.label("caregiver_id"),
            func.sum(case((RespiteSession.status == S.COMPLETED, minutes), else_=0)).label("completed"),
            func.sum(case((RespiteSession.status != S.COMPLETED, minutes), else_=0)).label("booked"),
        )
        .where(
            RespiteSession.status.in_(COUNTED_SESSION_STATUSES),
            _within(RespiteSession.starts_at, year),
            scope.place.sessions(),
        )
        .group_by(RespiteSession.caregiver_id)
        .subquery()
    )
    completed = func.coalesce(used.c.completed, 0)
    booked = func.coalesce(used.c.booked, 0)
    shown: ColumnElement[bool] = used.c.caregiver_id.is_not(None)
    if scope.place.kind == PlaceKind.ALL:
        shown = or_(shown, CaregiverProfile.active)
    query = (
        select(
            CaregiverProfile.id,
            CaregiverProfile.full_name,
            CaregiverProfile.annual_allotment_minutes,
            completed.label("completed"),
            booked.label("booked"),
            func.count().over().label("total"),
        )
        .outerjoin(used, used.c.caregiver_id == CaregiverProfile.id)
        .where(shown)
        .order_by((completed + booked).desc(), CaregiverProfile.full_name, CaregiverProfile.id)
    )
    found = db.session.execute(_limited(query, limit)).all()
    return Ranking(
        [
            CaregiverHours(r.id, r.full_name, r.annual_allotment_minutes, _minutes(r.completed), _minutes(r.booked))
            for r in found
        ],
        found[0].total if found else 0,
    )


def _limited(query: Select[Any], limit: int | None) -> Select[Any]:
    return query if limit is None else query.limit(limit)


# --- Providers' load --------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderLoad:
    provider_id: int
    name: str
    given_sessions: int  # completed
    given_minutes: int  # as the hours delivered count them
    booked_sessions: int  # confirmed or checked in, not yet completed
    booked_minutes: int

    @property
    def minutes(self) -> int:
        return self.given_minutes + self.booked_minutes


def provider_load(scope: Scope, limit: int | None = TOP_PEOPLE) -> Ranking[ProviderLoad]:
    """Each provider's sessions in the range, by the day each was booked to start, that they held (an
    accepted assignment): completed ones (the hours given, counted as the hours delivered are), and
    confirmed or checked-in ones still to finish. Every active provider for the whole program, a center's
    own providers for a center, and whoever held sessions there. Most hours first."""
    given = RespiteSession.status == S.COMPLETED
    booked = RespiteSession.status.in_((S.CONFIRMED, S.CHECKED_IN))
    load = (
        select(
            Assignment.provider_id.label("provider_id"),
            func.sum(case((given, 1), else_=0)).label("given_sessions"),
            func.sum(case((given, delivered_minutes()), else_=0)).label("given_minutes"),
            func.sum(case((booked, 1), else_=0)).label("booked_sessions"),
            func.sum(case((booked, scheduled_minutes()), else_=0)).label("booked_minutes"),
        )
        .join(RespiteSession, Assignment.session_id == RespiteSession.id)
        .where(
            Assignment.status == AssignmentStatus.ACCEPTED,
            or_(given, booked),
            _within(RespiteSession.starts_at, scope.days),
            scope.place.sessions(),
        )
        .group_by(Assignment.provider_id)
        .subquery()
    )
    working = and_(ProviderProfile.active, User.active, User.role == Role.PROVIDER)
    if scope.place.kind == PlaceKind.CENTER:
        theirs = and_(working, ProviderProfile.center_id == scope.place.center_id)
    else:
        theirs = working if scope.place.kind == PlaceKind.ALL else false()
    given_minutes = func.coalesce(load.c.given_minutes, 0)
    booked_minutes = func.coalesce(load.c.booked_minutes, 0)
    query = (
        select(
            ProviderProfile.id,
            User.display_name,
            func.coalesce(load.c.given_sessions, 0).label("given_sessions"),
            given_minutes.label("given_minutes"),
            func.coalesce(load.c.booked_sessions, 0).label("booked_sessions"),
            booked_minutes.label("booked_minutes"),
            func.count().over().label("total"),
        )
        .join(User, ProviderProfile.user_id == User.id)
        .outerjoin(load, load.c.provider_id == ProviderProfile.id)
        .where(or_(load.c.provider_id.is_not(None), theirs))
        .order_by((given_minutes + booked_minutes).desc(), User.display_name, ProviderProfile.id)
    )
    found = db.session.execute(_limited(query, limit)).all()
    return Ranking(
        [
            ProviderLoad(
                r.id,
                r.display_name,
                int(r.given_sessions),
                _minutes(r.given_minutes),
                int(r.booked_sessions),
                _minutes(r.booked_minutes),
            )
            for r in found
        ],
        found[0].total if found else 0,
    )


# --- All of them ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramReports:
    scope: Scope
    weekly_hours: list[HoursRow]
    monthly_hours: list[HoursRow]
    requests: RequestsReport
    called_off: list[CalledOffRow]
    reasons: Reasons
    caregivers: Ranking[CaregiverHours]
    providers: Ranking[ProviderLoad]


def program_reports(scope: Scope) -> ProgramReports:
    """Every report of the page (seven statements)."""
    return ProgramReports(
        scope=scope,
        weekly_hours=hours_delivered(scope, scope.days.weeks()),
        monthly_hours=hours_delivered(scope, scope.days.months()),
        requests=requests_received(scope),
        called_off=called_off(scope),
        reasons=reasons(scope),
        caregivers=caregiver_hours(scope),
        providers=provider_load(scope),
    )
