"""A report's range of days and its periods (weeks, months), on one clock, as UTC instants.

The range is whole local days, first to last; a week starts on Monday at midnight on the report's
clock (a center's zone, or the coordinator's own), a month on its first day. Across a change of
clocks a week is 167 or 169 hours long, and a session belongs to the week its start shows on that
clock. The first and last periods are cut to the range. Nothing here reads the database.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKS_BY_DEFAULT = 12
# Far enough for any program's history, and near enough that every day converts to an instant.
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
MAX_YEARS = 3


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` begins on `zone`'s clock, in UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def latest_last_day(first_day: date) -> date:
    """The last day a range from `first_day` may reach: MAX_YEARS years on, less a day."""
    try:
        return first_day.replace(year=first_day.year + MAX_YEARS) - timedelta(days=1)
    except ValueError:  # 29 February, three years on, is 1 March
        return date(first_day.year + MAX_YEARS, 3, 1) - timedelta(days=1)


def default_days(today: date) -> tuple[date, date]:
    """The last WEEKS_BY_DEFAULT weeks: from the Monday that many weeks ago (this week counted) to today."""
    return monday_of(today) - timedelta(weeks=WEEKS_BY_DEFAULT - 1), today


@dataclass(frozen=True)
class Period:
    """One week or month of a report, cut to the range: `first_day` to `last_day` on the report's clock,
    `starts_at` to `ends_at` (exclusive) in UTC. `opens` is the whole period's first day (a Monday, the 1st)."""

    opens: date
    first_day: date
    last_day: date
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class DayRange:
    """Whole days on `zone`'s clock, `first_day` to `last_day` (both included)."""

    first_day: date
    last_day: date
    zone: ZoneInfo

    @property
    def starts_at(self) -> datetime:
        return midnight(self.first_day, self.zone)

    @property
    def ends_at(self) -> datetime:
        return midnight(self.last_day + timedelta(days=1), self.zone)

    def _periods(self, opening_days: list[date]) -> list[Period]:
        """The periods that open on `opening_days` (in order, the first on or before the range's first
        day), each ending where the next opens, the last at the range's end."""
        periods = []
        for index, opens in enumerate(opening_days):
            first = max(opens, self.first_day)
            following = opening_days[index + 1] if index + 1 < len(opening_days) else None
            last = self.last_day if following is None else min(following - timedelta(days=1), self.last_day)
            periods.append(
                Period(
                    opens=opens,
                    first_day=first,
                    last_day=last,
                    starts_at=midnight(first, self.zone),
                    ends_at=midnight(last + timedelta(days=1), self.zone),
                )
            )
        return periods

    def weeks(self) -> list[Period]:
        """Monday to Sunday weeks, the first and last cut to the range."""
        mondays = []
        monday = monday_of(self.first_day)
        while monday <= self.last_day:
            mondays.append(monday)
            monday += timedelta(weeks=1)
        return self._periods(mondays)

    def months(self) -> list[Period]:
        """Calendar months, the first and last cut to the range."""
        firsts = []
        first = self.first_day.replace(day=1)
        while first <= self.last_day:
            firsts.append(first)
            first = (first + timedelta(days=32)).replace(day=1)
        return self._periods(firsts)

    def year(self) -> "DayRange":
        """The calendar year of the range's last day, whole."""
        year = self.last_day.year
        return DayRange(date(year, 1, 1), date(year, 12, 31), self.zone)
