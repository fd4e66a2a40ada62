"""The program calendar: one week of sessions by center or by provider, with what needs a coordinator marked.

Queries only. The week is Monday to Sunday in the viewer's zone, each day
built as a local date and converted to UTC, so a week across a clock change
has its 167 or 169 hours and every session lands on its local day. However
many sessions and providers there are, a week costs a fixed number of
statements: the sessions (with people, places, assignments and providers),
the rows (centers or providers), and the booked providers' availability
(respite.availability.services.windows_for).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..availability import services as availability
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    Center,
    ProviderProfile,
    RespiteSession,
    SessionStatus,
    User,
    utcnow,
)
from ..timefmt import timespan, zone_or_utc

DAYS_IN_WEEK = 7
# Sessions that happen (or were meant to): a cancelled or declined one has no place on the program.
SHOWN_STATUSES = (
    SessionStatus.REQUESTED,
    SessionStatus.CONFIRMED,
    SessionStatus.CHECKED_IN,
    SessionStatus.COMPLETED,
    SessionStatus.NO_SHOW,
)
# The weeks a calendar can show: far enough either way for any real program, and no date arithmetic overflows.
FIRST_YEAR, LAST_YEAR = 2000, 2200

HOME_VISITS = "Home visits"
UNCOVERED = "Uncovered"


class Grouping(StrEnum):
    CENTER = "center"
    PROVIDER = "provider"


@dataclass(frozen=True)
class Problem:
    """Something wrong with a booking, at a glance: a short label and a sentence that says what."""

    kind: str  # "uncovered", "double_booked", "outside_availability"
    label: str
    detail: str


@dataclass
class Booking:
    """A session in the calendar: who provides it (accepted assignments) and what is wrong with it."""

    session: RespiteSession
    providers: list[ProviderProfile]
    problems: list[Problem] = field(default_factory=list)

    @property
    def uncovered(self) -> bool:
        """A request no provider has yet (or a confirmed session that lost its provider)."""
        return self.session.status == SessionStatus.REQUESTED or (
            self.session.status == SessionStatus.CONFIRMED and not self.providers
        )


@dataclass
class Row:
    """A center (or home visits), a provider, or the uncovered requests: its bookings on each day of the week."""

    key: str
    label: str
    days: list[list[Booking]] = field(default_factory=lambda: [[] for _ in range(DAYS_IN_WEEK)])

    @property
    def count(self) -> int:
        return sum(len(day) for day in self.days)


@dataclass
class Week:
    monday: date
    grouping: Grouping
    zone: tzinfo
    starts_at: datetime  # Monday 00:00 in the viewer's zone, in UTC
    ends_at: datetime  # the next Monday 00:00, in UTC
    rows: list[Row]
    bookings: list[Booking]

    @property
    def days(self) -> list[date]:
        return [self.monday + timedelta(days=n) for n in range(DAYS_IN_WEEK)]

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=DAYS_IN_WEEK)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=DAYS_IN_WEEK)

    def by_day(self) -> list[list[tuple[Row, Booking]]]:
        """For the phone's list: each day's bookings in time order, each with the row it belongs to."""
        days: list[list[tuple[Row, Booking]]] = [[] for _ in range(DAYS_IN_WEEK)]
        for row in self.rows:
            for number, bookings in enumerate(row.days):
                days[number].extend((row, booking) for booking in bookings)
        for day in days:
            day.sort(key=lambda pair: (pair[1].session.starts_at, pair[1].session.id, pair[0].label))
        return days

    def problem_counts(self) -> dict[str, int]:
        """How many bookings this week have each kind of problem."""
        counts: dict[str, int] = defaultdict(int)
        for booking in self.bookings:
            for kind in {p.kind for p in booking.problems}:
                counts[kind] += 1
        return counts


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def this_monday(zone: tzinfo, now: datetime | None = None) -> date:
    """The Monday of the current week in `zone`."""
    return monday_of((now or utcnow()).astimezone(zone).date())


def week_bounds(monday: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 on the clock of `zone`, in UTC (DST-correct: built from local dates)."""
    start = datetime.combine(monday, time(), zone)
    end = datetime.combine(monday + timedelta(days=DAYS_IN_WEEK), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def _week_sessions(starts_at: datetime, ends_at: datetime) -> list[RespiteSession]:
    """The sessions that overlap the week, with person, place and providers: two statements."""
    return list(
        db.session.scalars(
            select(RespiteSession)
            .options(
                joinedload(RespiteSession.recipient),
                joinedload(RespiteSession.center),
                selectinload(RespiteSession.assignments)
                .joinedload(Assignment.provider)
                .joinedload(ProviderProfile.user),
            )
            .where(
                RespiteSession.status.in_(SHOWN_STATUSES),
                RespiteSession.starts_at < ends_at,
                RespiteSession.ends_at > starts_at,
            )
            .order_by(RespiteSession.starts_at, RespiteSession.id)
        )
    )


def _accepted(session: RespiteSession) -> list[ProviderProfile]:
    return [a.provider for a in session.assignments if a.status == AssignmentStatus.ACCEPTED]


def _mark_problems(bookings: list[Booking], starts_at: datetime, ends_at: datetime, zone: tzinfo) -> None:
    """Uncovered requests; a provider on two sessions at once; a provider booked outside their availability."""
    held: dict[int, list[Booking]] = defaultdict(list)
    for booking in bookings:
        if booking.uncovered:
            offers = sum(1 for a in booking.session.assignments if a.status == AssignmentStatus.OFFERED)
            detail = "No provider yet" + (f"; {offers} offer{'s' if offers != 1 else ''} out." if offers else ".")
            booking.problems.append(Problem("uncovered", UNCOVERED, detail))
        for provider in booking.providers:
            held[provider.id].append(booking)
    if not held:
        return
    first = min([starts_at, *(b.session.starts_at for b in bookings)])
    last = max([ends_at, *(b.session.ends_at for b in bookings)])
    windows = availability.windows_for(list(held), first, last)
    for provider_id, theirs in held.items():
        for booking in theirs:
            s = booking.session
            provider = next(p for p in booking.providers if p.id == provider_id)
            name = provider.user.display_name
            for other in theirs:
                o = other.session
                if other is not booking and o.starts_at < s.ends_at and o.ends_at > s.starts_at:
                    booking.problems.append(
                        Problem(
                            "double_booked",
                            "Double booked",
                            f"{name} also has {o.recipient.full_name}, {timespan(o.starts_at, o.ends_at, zone)}.",
                        )
                    )
            if not any(start <= s.starts_at and s.ends_at <= end for start, end in windows.get(provider_id, [])):
                booking.problems.append(
                    Problem("outside_availability", "Outside availability", f"This is outside {name}'s availability.")
                )


def _day_number(session: RespiteSession, monday: date, zone: tzinfo) -> int:
    """The day of the week a session shows on: the local day it starts."""
    return (session.starts_at.astimezone(zone).date() - monday).days


def _center_rows() -> list[Row]:
    """Every center, by name (a quiet one shows as quiet), then the visits at home."""
    centers = db.session.scalars(select(Center).order_by(Center.name, Center.id)).all()
    return [*(Row(f"center-{c.id}", c.name) for c in centers), Row("home", HOME_VISITS)]


def _provider_rows(bookings: list[Booking]) -> list[Row]:
    """Every active provider (a free one shows as free), and anyone else booked this week; then the uncovered."""
    active = db.session.scalars(
        select(ProviderProfile)
        .join(User, ProviderProfile.user_id == User.id)
        .options(joinedload(ProviderProfile.user))
        .where(ProviderProfile.active.is_(True), User.active.is_(True))
    ).all()
    providers = {p.id: p for p in active}
    for booking in bookings:
        providers.update((p.id, p) for p in booking.providers)
    ordered = sorted(providers.values(), key=lambda p: (p.user.display_name.lower(), p.id))
    return [*(Row(f"provider-{p.id}", p.user.display_name) for p in ordered), Row("uncovered", UNCOVERED)]


def program_week(viewer: User, monday: date, grouping: Grouping) -> Week:
    """The week starting `monday` (in the viewer's zone), its sessions in rows by center or by provider."""
    zone = zone_or_utc(viewer.timezone)
    starts_at, ends_at = week_bounds(monday, zone)
    # A session shows in the week it starts in; one running over from the week before still counts
    # when a provider is on two sessions at once.
    overlapping = [Booking(s, _accepted(s)) for s in _week_sessions(starts_at, ends_at)]
    _mark_problems(overlapping, starts_at, ends_at, zone)
    bookings = [b for b in overlapping if b.session.starts_at >= starts_at]
    if grouping == Grouping.CENTER:
        rows = _center_rows()
        by_key = {row.key: row for row in rows}
        for booking in bookings:
            center_id = booking.session.center_id
            row = by_key[f"center-{center_id}"] if center_id is not None else by_key["home"]
            row.days[_day_number(booking.session, monday, zone)].append(booking)
    else:
        rows = _provider_rows(bookings)
        by_key = {row.key: row for row in rows}
        for booking in bookings:
            day = _day_number(booking.session, monday, zone)
            keys = [f"provider-{p.id}" for p in booking.providers] or ["uncovered"]
            for key in keys:
                by_key[key].days[day].append(booking)
    return Week(monday, grouping, zone, starts_at, ends_at, rows, bookings)
