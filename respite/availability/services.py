"""Availability: when each provider can work, and which providers can take a given time.

A provider's availability is a weekly pattern (blocks of hours on a weekday,
on the provider's own clock: their account's zone) less their time off
(stretches stored in UTC). This module holds the provider page's queries, the
scoped loader (`get_entry_for`), one function per change (guard, change, audit
row, live event, flush; never a commit), and the matching other packages use:
`available_for`, `is_available` and `windows_for`.

Matching reads every provider asked about in two statements, whatever their
number, and expands each weekly block on each local date in the provider's
zone before converting to UTC, so a session across midnight or across a
daylight-saving change is judged by the provider's own clock. Blocks that
touch (Monday 20:00–24:00 and Tuesday 00:00–06:00) join into one window.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import select

from .. import audit, realtime
from ..extensions import db
from ..models import Availability, AvailabilityKind, ProviderProfile, Role, User, utcnow
from ..text import has_control_characters
from ..timefmt import zone_or_utc

DAY_MINUTES = 24 * 60
STEP_MINUTES = 15
NOTE_LIMIT = 200  # availability.note
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Time off is planned at most this far ahead (and dates further off are refused before any arithmetic on them).
MAX_AHEAD_DAYS = 2 * 366
# The longest range `windows_for` expands (a calendar shows a month or a year, not a decade).
MAX_RANGE_DAYS = 400

Interval = tuple[datetime, datetime]


class AvailabilityError(Exception):
    """A change that can't be made; the message is safe to show. `field` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


# --- Words -----------------------------------------------------------------------------------


def minute_label(minute: int) -> str:
    """A minute of the day on a 12-hour clock: 540 → "9:00 am", 720 → "12:00 pm", 1440 → "midnight"."""
    if minute >= DAY_MINUTES:
        return "midnight"
    hour, rest = divmod(minute, 60)
    return f"{hour % 12 or 12}:{rest:02d} {'am' if hour < 12 else 'pm'}"


def hours_label(start_minute: int, end_minute: int) -> str:
    """A weekly block's hours: "9:00 am – 12:00 pm"."""
    return f"{minute_label(start_minute)} – {minute_label(end_minute)}"


def describe(entry: Availability) -> str:
    """A weekly block or a time off in words, in its provider's zone ("Monday 9:00 am – 12:00 pm")."""
    if entry.kind == AvailabilityKind.WEEKLY:
        return f"{WEEKDAYS[entry.weekday or 0]} {hours_label(entry.start_minute or 0, entry.end_minute or 0)}"
    return "time off " + time_off_label(*_times(entry), provider_zone(entry.provider))


def _times(entry: Availability) -> Interval:
    """A time off's start and end (the table's check makes sure it has both)."""
    if entry.starts_at is None or entry.ends_at is None:
        raise ValueError(f"availability {entry.id} is not a time off")
    return entry.starts_at, entry.ends_at


def time_off_label(starts_at: datetime, ends_at: datetime, zone: tzinfo) -> str:
    """Time off on the provider's clock, as they entered it.

    Whole days as days ("Mon 2 Nov – Tue 3 Nov 2026", "Mon 2 Nov 2026 (all day)"); otherwise with
    its times ("Wed 1 Jul 2026, 1:30 pm – 5:00 pm", "Wed 1 Jul 2026, 1:30 pm – end of Fri 3 Jul").
    """
    first, last = starts_at.astimezone(zone), ends_at.astimezone(zone)
    from_midnight, to_midnight = first.time() == time(), last.time() == time()
    last_day = last.date() - timedelta(days=1) if to_midnight else last.date()
    opening = f"{first:%a %-d %b %Y}"
    closing_day = f"{last_day:%a %-d %b}" if last_day.year == first.year else f"{last_day:%a %-d %b %Y}"
    if from_midnight and to_midnight:
        if last_day == first.date():
            return f"{opening} (all day)"
        return (
            f"{first:%a %-d %b} – {closing_day} {first.year}"
            if last_day.year == first.year
            else f"{opening} – {closing_day}"
        )
    if last_day == first.date():
        return f"{opening}, {_clock(first)} – {'midnight' if to_midnight else _clock(last)}"
    if not from_midnight:
        opening += f", {_clock(first)}"
    return f"{opening} – end of {closing_day}" if to_midnight else f"{opening} – {closing_day}, {_clock(last)}"


def _clock(moment: datetime) -> str:
    return minute_label(moment.hour * 60 + moment.minute)


def provider_zone(provider: ProviderProfile) -> tzinfo:
    """The provider's own clock: their account's zone (UTC when that zone is unknown here)."""
    return zone_or_utc(provider.user.timezone)


# --- Queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekDay:
    """One day of the weekly pattern, for the page: its number (0 = Monday), name and blocks in order."""

    number: int
    name: str
    blocks: list[Availability] = field(default_factory=list)


def weekly_pattern(provider: ProviderProfile) -> list[Availability]:
    """The provider's weekly blocks, by weekday then start."""
    return list(
        db.session.scalars(
            select(Availability)
            .where(Availability.provider_id == provider.id, Availability.kind == AvailabilityKind.WEEKLY)
            .order_by(Availability.weekday, Availability.start_minute, Availability.id)
        )
    )


def week_of(pattern: Iterable[Availability]) -> list[WeekDay]:
    """The seven days, Monday first, each with its blocks (none on a day off)."""
    days = [WeekDay(number, name) for number, name in enumerate(WEEKDAYS)]
    for block in pattern:
        days[block.weekday or 0].blocks.append(block)
    return days


def time_off(provider: ProviderProfile, now: datetime | None = None) -> list[Availability]:
    """The provider's time off that is going on or still to come, soonest first."""
    return list(
        db.session.scalars(
            select(Availability)
            .where(
                Availability.provider_id == provider.id,
                Availability.kind == AvailabilityKind.TIME_OFF,
                Availability.ends_at > (now or utcnow()),
            )
            .order_by(Availability.starts_at, Availability.id)
        )
    )


def get_entry_for(user: User, entry_id: int) -> Availability | None:
    """The block or time off `entry_id` if `user` may change it, else None (the view answers 404).

    A provider reaches their own entries only; a coordinator any provider's.
    """
    query = select(Availability).where(Availability.id == entry_id)
    if user.role == Role.PROVIDER:
        query = query.join(ProviderProfile, ProviderProfile.id == Availability.provider_id).where(
            ProviderProfile.user_id == user.id
        )
    elif user.role != Role.COORDINATOR:
        return None
    return db.session.scalar(query)


def may_manage(actor: User, provider: ProviderProfile) -> bool:
    """The provider themself, or a coordinator."""
    return actor.role == Role.COORDINATOR or (actor.role == Role.PROVIDER and provider.user_id == actor.id)


# --- Checks ----------------------------------------------------------------------------------


def check_weekly_block(weekday: int | None, start_minute: int | None, end_minute: int | None) -> tuple[int, int, int]:
    """The block as (weekday, start, end) when it is one; AvailabilityError (at its field) when not."""
    if weekday is None or not 0 <= weekday < len(WEEKDAYS):
        raise AvailabilityError("Choose a day.", "weekday")
    if start_minute is None or not 0 <= start_minute < DAY_MINUTES:
        raise AvailabilityError("Choose when the hours start.", "start_minute")
    if end_minute is None or not 0 < end_minute <= DAY_MINUTES:
        raise AvailabilityError("Choose when the hours end.", "end_minute")
    for name, minute in (("start_minute", start_minute), ("end_minute", end_minute)):
        if minute % STEP_MINUTES:
            raise AvailabilityError("Use a time on the quarter hour (:00, :15, :30 or :45).", name)
    if start_minute >= end_minute:
        raise AvailabilityError(
            "The hours must end after they start. For hours past midnight, add the rest to the next day.",
            "end_minute",
        )
    return weekday, start_minute, end_minute


def clean_note(note: str) -> str:
    if has_control_characters(note):
        raise AvailabilityError("Remove the hidden control characters from the note.", "note")
    note = note.strip()
    if len(note) > NOTE_LIMIT:
        raise AvailabilityError(f"Keep the note to {NOTE_LIMIT} characters or fewer.", "note")
    return note


def local_instant(day: date, minute: int, zone: tzinfo) -> datetime:
    """`minute` minutes after the start of `day` on the clock of `zone`, in UTC (1440 is the next midnight).

    Read as a wall-clock time: a time the clocks skip (02:30 when they go
    forward) is taken with the offset before the change, one that happens
    twice (01:30 when they go back) is the first of the two; either way a
    block that ends where the next begins still meets it.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def time_off_span(
    provider: ProviderProfile,
    start_day: date | None,
    start_time: time | None,
    end_day: date | None,
    end_time: time | None,
    *,
    now: datetime | None = None,
) -> Interval:
    """Time off as the provider enters it on their own clock, in UTC.

    No start time: from the start of the first day. No end time: to the end of the last day.
    """
    zone = provider_zone(provider)
    today = (now or utcnow()).astimezone(zone).date()
    if start_day is None:
        raise AvailabilityError("Choose the first day of your time off.", "start_day")
    if end_day is None:
        raise AvailabilityError("Choose the last day of your time off.", "end_day")
    horizon = timedelta(days=MAX_AHEAD_DAYS)
    if abs(start_day - today) > horizon:
        raise AvailabilityError("Choose a first day within two years of today.", "start_day")
    if abs(end_day - today) > horizon:
        raise AvailabilityError("Time off can be planned up to two years ahead.", "end_day")
    starts_at = local_instant(start_day, _minutes(start_time) if start_time else 0, zone)
    ends_at = local_instant(end_day, _minutes(end_time) if end_time else DAY_MINUTES, zone)
    return starts_at, ends_at


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


# --- Changes ---------------------------------------------------------------------------------


def _guard(actor: User, provider: ProviderProfile) -> None:
    if not may_manage(actor, provider):
        raise PermissionError("Only the provider or a coordinator can change a provider's availability.")


def _lock(provider: ProviderProfile) -> None:
    # A check then an insert: on PostgreSQL the provider's row is locked so that two posts at once
    # (a double tap) take turns and the second sees the first's block. On SQLite the view has
    # taken the database's write lock already (respite.database.write_lock), and this is a plain read.
    db.session.execute(select(ProviderProfile.id).where(ProviderProfile.id == provider.id).with_for_update())


def _publish(provider: ProviderProfile) -> None:
    """The provider's own pages and the coordinators' (who match providers to requests) refresh."""
    coordinators = db.session.scalars(select(User.id).where(User.role == Role.COORDINATOR, User.active.is_(True)))
    realtime.publish_after_commit(
        realtime.EventType.SESSION, user_ids={provider.user_id, *coordinators}, provider_id=provider.id
    )


def _meta(entry: Availability) -> dict[str, object]:
    if entry.kind == AvailabilityKind.WEEKLY:
        return {
            "kind": entry.kind,
            "weekday": entry.weekday,
            "start_minute": entry.start_minute,
            "end_minute": entry.end_minute,
            "timezone": entry.provider.user.timezone,
        }
    starts_at, ends_at = _times(entry)
    return {"kind": entry.kind, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}


def add_weekly_block(
    actor: User, provider: ProviderProfile, weekday: int | None, start_minute: int | None, end_minute: int | None
) -> Availability:
    """Add hours on a weekday, on the provider's clock. Several blocks a day are fine; overlapping ones are refused.

    Blocks that only touch (9:00–12:00 and 12:00–15:00) are kept apart and count as one stretch.
    """
    _guard(actor, provider)
    day, start, end = check_weekly_block(weekday, start_minute, end_minute)
    _lock(provider)
    clash = db.session.scalar(
        select(Availability)
        .where(
            Availability.provider_id == provider.id,
            Availability.kind == AvailabilityKind.WEEKLY,
            Availability.weekday == day,
            Availability.start_minute < end,
            Availability.end_minute > start,
        )
        .order_by(Availability.start_minute)
        .limit(1)
    )
    if clash is not None:
        hours = hours_label(clash.start_minute or 0, clash.end_minute or 0)
        if (clash.start_minute, clash.end_minute) == (start, end):
            raise AvailabilityError(f"{WEEKDAYS[day]} {hours} is already in your week.", "start_minute")
        raise AvailabilityError(
            f"That overlaps your hours on {WEEKDAYS[day]}, {hours}. Remove those first, or choose other times.",
            "start_minute",
        )
    entry = Availability(
        provider_id=provider.id, kind=AvailabilityKind.WEEKLY, weekday=day, start_minute=start, end_minute=end
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "availability.weekly_add",
        entry,
        actor=actor,
        summary=f"{provider.user.display_name} is available {describe(entry)}",
        meta=_meta(entry),
    )
    _publish(provider)
    db.session.flush()
    return entry


def add_time_off(
    actor: User,
    provider: ProviderProfile,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    *,
    now: datetime | None = None,
) -> Availability:
    """Add time off (UTC, from `time_off_span` when entered on the provider's clock); it may have begun already."""
    _guard(actor, provider)
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValueError("time off needs aware datetimes")
    now = now or utcnow()
    if starts_at >= ends_at:
        raise AvailabilityError("The time off must end after it starts.", "end_day")
    if ends_at <= now:
        raise AvailabilityError("That time is already over. Choose time off that is still to come.", "end_day")
    if ends_at - now > timedelta(days=MAX_AHEAD_DAYS):
        raise AvailabilityError("Time off can be planned up to two years ahead.", "end_day")
    note = clean_note(note)
    _lock(provider)
    clash = db.session.scalar(
        select(Availability)
        .where(
            Availability.provider_id == provider.id,
            Availability.kind == AvailabilityKind.TIME_OFF,
            Availability.starts_at < ends_at,
            Availability.ends_at > starts_at,
        )
        .order_by(Availability.starts_at)
        .limit(1)
    )
    if clash is not None:
        raise AvailabilityError(
            f"That overlaps your {describe(clash)}. Remove it first, or choose other dates.", "start_day"
        )
    entry = Availability(
        provider_id=provider.id, kind=AvailabilityKind.TIME_OFF, starts_at=starts_at, ends_at=ends_at, note=note
    )
    db.session.add(entry)
    db.session.flush()
    audit.record(
        "availability.time_off_add",
        entry,
        actor=actor,
        summary=f"{provider.user.display_name} is off: {time_off_label(starts_at, ends_at, provider_zone(provider))}",
        meta=_meta(entry),
    )
    _publish(provider)
    db.session.flush()
    return entry


def remove_availability(actor: User, entry: Availability) -> None:
    """Remove a weekly block or a time off (the provider themself, or a coordinator)."""
    provider = entry.provider
    _guard(actor, provider)
    audit.record(
        "availability.remove",
        entry,
        actor=actor,
        summary=f"{provider.user.display_name}: {describe(entry)} removed",
        meta=_meta(entry),
    )
    db.session.delete(entry)
    _publish(provider)
    db.session.flush()


# --- Matching --------------------------------------------------------------------------------


@dataclass
class _Pattern:
    zone: tzinfo
    blocks: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("availability is matched on aware datetimes")
    return moment.astimezone(UTC)


def _patterns(provider_ids: Sequence[int]) -> dict[int, _Pattern]:
    """The weekly blocks of the active providers among `provider_ids`, with each one's zone: one statement."""
    rows = db.session.execute(
        select(
            Availability.provider_id,
            Availability.weekday,
            Availability.start_minute,
            Availability.end_minute,
            User.timezone,
        )
        .join(ProviderProfile, ProviderProfile.id == Availability.provider_id)
        .join(User, User.id == ProviderProfile.user_id)
        .where(
            Availability.provider_id.in_(provider_ids),
            Availability.kind == AvailabilityKind.WEEKLY,
            ProviderProfile.active.is_(True),
            User.active.is_(True),
        )
    ).all()
    patterns: dict[int, _Pattern] = {}
    for provider_id, weekday, start, end, zone_name in rows:
        pattern = patterns.setdefault(provider_id, _Pattern(zone_or_utc(zone_name)))
        pattern.blocks[weekday].append((start, end))
    return patterns


def _time_off_between(provider_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, list[Interval]]:
    """Each provider's time off that overlaps [start, end): one statement."""
    rows = db.session.execute(
        select(Availability.provider_id, Availability.starts_at, Availability.ends_at).where(
            Availability.provider_id.in_(provider_ids),
            Availability.kind == AvailabilityKind.TIME_OFF,
            Availability.starts_at < end,
            Availability.ends_at > start,
        )
    ).all()
    found: dict[int, list[Interval]] = defaultdict(list)
    for provider_id, starts_at, ends_at in rows:
        found[provider_id].append((starts_at, ends_at))
    return found


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined."""
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(windows: list[Interval], gaps: Iterable[Interval]) -> list[Interval]:
    """`windows` (sorted, apart) less every gap."""
    holes = _merge(gaps)
    result: list[Interval] = []
    for start, end in windows:
        cursor = start
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
            if cursor >= end:
                break
        if cursor < end:
            result.append((cursor, end))
    return result


def _expand(pattern: _Pattern, start: datetime, end: datetime) -> list[Interval]:
    """The weekly blocks on each local date that [start, end) touches, in UTC, cut to it and joined."""
    # A block never runs past its date's midnight; the day before is looked at too, for the
    # rare zone whose clocks go back across midnight (that date's last hour happens twice).
    day = start.astimezone(pattern.zone).date() - timedelta(days=1)
    last = end.astimezone(pattern.zone).date()
    intervals = []
    while day <= last:
        for block_start, block_end in pattern.blocks.get(day.weekday(), ()):
            opens = max(local_instant(day, block_start, pattern.zone), start)
            closes = min(local_instant(day, block_end, pattern.zone), end)
            if opens < closes:  # a block inside a skipped hour has no length
                intervals.append((opens, closes))
        day += timedelta(days=1)
    return _merge(intervals)


def _windows(ids: Sequence[int], start: datetime, end: datetime) -> dict[int, list[Interval]]:
    windows: dict[int, list[Interval]] = {provider_id: [] for provider_id in ids}
    patterns = _patterns(ids) if ids else {}
    if not patterns:
        return windows
    absent = _time_off_between(sorted(patterns), start, end)
    for provider_id, pattern in patterns.items():
        windows[provider_id] = _subtract(_expand(pattern, start, end), absent.get(provider_id, ()))
    return windows


def windows_for(provider_ids: Collection[int], range_start: datetime, range_end: datetime) -> dict[int, list[Interval]]:
    """Each provider's available stretches within [range_start, range_end), in UTC, soonest first.

    Every id asked about is a key (an unknown or inactive provider has no
    stretches); touching blocks come back as one stretch. Two statements,
    whatever the number of providers. ValueError for a range longer than
    MAX_RANGE_DAYS or given in naive datetimes.
    """
    start, end = _utc(range_start), _utc(range_end)
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ValueError(f"windows_for covers at most {MAX_RANGE_DAYS} days")
    ids = sorted(set(provider_ids))
    if start >= end:
        return {provider_id: [] for provider_id in ids}
    return _windows(ids, start, end)


def available_for(provider_ids: Collection[int], starts_at: datetime, ends_at: datetime) -> set[int]:
    """The active providers among `provider_ids` whose week covers all of [starts_at, ends_at) with no time off in it.

    Covered on each provider's own clock, by one block or by blocks that meet
    (across midnight too). Two statements, whatever the number of providers.
    ValueError when the interval is empty or its datetimes are naive.
    """
    start, end = _utc(starts_at), _utc(ends_at)
    if start >= end:
        raise ValueError("available_for needs an interval that starts before it ends")
    windows = _windows(sorted(set(provider_ids)), start, end)
    return {provider_id for provider_id, stretches in windows.items() if stretches == [(start, end)]}


def is_available(provider: ProviderProfile, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether `provider` can work all of [starts_at, ends_at) (see `available_for`)."""
    return provider.id in available_for([provider.id], starts_at, ends_at)
