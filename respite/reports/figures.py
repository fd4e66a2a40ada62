"""The reports as people read them: each report's chart, the sentence that sums it up, and its CSV file.

Everything here works on the numbers respite.reports.services has counted; it reads nothing
from the database itself. Text goes into charts and files as plain text: the template escapes
it, and a CSV cell that a spreadsheet would take for a formula is written as text.
"""

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeVar

from . import services
from .charts import Chart, column_chart, line_chart, row_chart
from .periods import Period
from .services import (
    CalledOffRow,
    CaregiverHours,
    HoursRow,
    ProgramReports,
    ProviderLoad,
    Ranking,
    RequestsReport,
    RequestsRow,
    Scope,
)

NOTHING = "No sessions in this range."
Row = TypeVar("Row")


def decimal_hours(minutes: int | float | None) -> str:
    """Minutes as hours with at most one decimal, halves rounded up: 90 → "1.5", 315 → "5.3", 120 → "2"."""
    hours = (Decimal(str(minutes or 0)) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return str(hours.to_integral_value()) if hours == hours.to_integral_value() else str(hours)


def hours_figure(hours: float | None) -> str:
    """A number of hours as a table shows it; a dash for none."""
    if hours is None:
        return "–"
    return decimal_hours(hours * 60)


def day_text(day: date, *, year: bool = True) -> str:
    return day.strftime("%-d %b %Y" if year else "%-d %b")


def range_text(first: date, last: date) -> str:
    """ "7 Sep – 29 Nov 2026"; the first day's year too when the two differ."""
    if first == last:
        return day_text(first)
    return f"{day_text(first, year=first.year != last.year)} – {day_text(last)}"


def period_text(period: Period) -> str:
    return range_text(period.first_day, period.last_day)


def week_label(period: Period) -> str:
    return day_text(period.opens, year=False)


def month_label(period: Period, *, with_year: bool) -> str:
    return period.opens.strftime("%b %Y" if with_year else "%b")


def month_name(period: Period) -> str:
    return period.opens.strftime("%B %Y")


def month_text(period: Period) -> str:
    """ "September 2026", with the days when the range covers only part of it."""
    whole = period.first_day == period.opens and (period.last_day + timedelta(days=1)).day == 1
    return month_name(period) if whole else f"{month_name(period)} ({period_text(period)})"


def _most(rows: Sequence[Row], value: Callable[[Row], float]) -> Row:
    return max(rows, key=value)


# --- The page's charts ----------------------------------------------------------------------


def plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def hours_chart(scope: Scope, rows: list[HoursRow], *, monthly: bool) -> Chart:
    if monthly:
        spans_years = scope.days.first_day.year != scope.days.last_day.year
        labels = [month_label(r.period, with_year=spans_years) for r in rows]
        names = [month_name(r.period) for r in rows]
        what, per, axis = "Hours delivered per month", "month", "Month"
    else:
        labels = [week_label(r.period) for r in rows]
        names = [f"the week of {day_text(r.period.opens)}" for r in rows]
        what, per, axis = "Hours delivered per week", "week", "Week starting"
    total = sum(r.minutes for r in rows)
    title = f"{what}, {range_text(scope.days.first_day, scope.days.last_day)}: "
    if total:
        most = max(range(len(rows)), key=lambda i: rows[i].minutes)
        sessions = plural(sum(r.sessions for r in rows), "completed session", "completed sessions")
        title += (
            f"{decimal_hours(total)} hours in {sessions}; "
            f"the most in one {per}: {decimal_hours(rows[most].minutes)} hours, in {names[most]}."
        )
    else:
        title += NOTHING.lower()
    return column_chart(
        title,
        labels,
        [("Hours delivered", [r.minutes / 60 for r in rows])],
        x_title=axis,
        y_title="Hours",
        describe=lambda i, _, value: f"{names[i][:1].upper()}{names[i][1:]}: {decimal_hours(value * 60)} hours",
    )


def requests_chart(scope: Scope, report: RequestsReport) -> Chart:
    rows = report.weeks
    total = report.total
    title = f"Requests received and filled per week, {range_text(scope.days.first_day, scope.days.last_day)}: "
    title += f"{total.received} received, {total.filled} filled." if total.received else NOTHING.lower()
    names = [f"Week of {day_text(r.period.opens)}" for r in rows if r.period]
    series = ["received", "filled"]
    return column_chart(
        title,
        [week_label(r.period) for r in rows if r.period],
        [("Received", [r.received for r in rows]), ("Filled", [r.filled for r in rows])],
        x_title="Week the request came in",
        y_title="Requests",
        whole=True,
        describe=lambda i, s, value: f"{names[i]}: {int(value)} {series[s]}",
    )


def wait_chart(scope: Scope, report: RequestsReport) -> Chart:
    rows = report.weeks
    total = report.total
    title = f"Hours from request to confirmation, per week, {range_text(scope.days.first_day, scope.days.last_day)}: "
    if total.median_hours is not None:
        title += (
            f"a median of {hours_figure(total.median_hours)} hours and an average of "
            f"{hours_figure(total.average_hours)} over the {total.filled} requests filled."
        )
    else:
        title += "no request received in this range has been filled."
    return line_chart(
        title,
        [week_label(r.period) for r in rows if r.period],
        [("Median", [r.median_hours for r in rows]), ("Average", [r.average_hours for r in rows])],
        x_title="Week the request came in",
        y_title="Hours",
    )


def called_off_chart(scope: Scope, rows: list[CalledOffRow]) -> Chart:
    cancelled = sum(r.cancelled for r in rows)
    no_shows = sum(r.no_shows for r in rows)
    title = f"Cancellations and no-shows per week, {range_text(scope.days.first_day, scope.days.last_day)}: "
    if cancelled or no_shows:
        title += f"{cancelled} cancelled, {plural(no_shows, 'no-show', 'no-shows')}."
    else:
        title += NOTHING.lower()
    names = [f"Week of {day_text(r.period.opens)}" for r in rows]
    series = ["cancelled", "no-shows"]
    return column_chart(
        title,
        [week_label(r.period) for r in rows],
        [("Cancelled", [r.cancelled for r in rows]), ("No-show", [r.no_shows for r in rows])],
        x_title="Week the session was booked for",
        y_title="Sessions",
        stacked=True,
        whole=True,
        describe=lambda i, s, value: f"{names[i]}: {int(value)} {series[s]}",
    )


def caregivers_chart(scope: Scope, ranking: Ranking[CaregiverHours]) -> Chart:
    rows = ranking.rows
    year = scope.days.last_day.year
    title = f"Hours used of each caregiver's yearly allotment in {year}"
    if any(r.used_minutes for r in rows):
        most = _most(rows, lambda r: r.used_minutes)
        title += (
            f", the {len(rows)} who used the most: {most.name} has used the most, "
            f"{decimal_hours(most.used_minutes)} of {decimal_hours(most.allotted_minutes)} hours."
        )
    else:
        title += ": " + NOTHING.lower()
    return row_chart(
        title,
        [r.name for r in rows],
        [
            ("Completed", [r.completed_minutes / 60 for r in rows]),
            ("Booked or missed", [r.booked_minutes / 60 for r in rows]),
        ],
        x_title="Hours",
        limits=[r.allotted_minutes / 60 for r in rows],
        marker="Allotment",
        value_text=lambda i: f"{decimal_hours(rows[i].used_minutes)} of {decimal_hours(rows[i].allotted_minutes)} h",
    )


def providers_chart(scope: Scope, ranking: Ranking[ProviderLoad]) -> Chart:
    rows = ranking.rows
    title = f"Hours per provider, {range_text(scope.days.first_day, scope.days.last_day)}"
    if any(r.minutes for r in rows):
        most = _most(rows, lambda r: r.minutes)
        title += (
            f": {most.name} has the most, {decimal_hours(most.given_minutes)} hours given in "
            f"{most.given_sessions} sessions and {decimal_hours(most.booked_minutes)} booked."
        )
    else:
        title += ": " + NOTHING.lower()
    return row_chart(
        title,
        [r.name for r in rows],
        [("Given", [r.given_minutes / 60 for r in rows]), ("Booked", [r.booked_minutes / 60 for r in rows])],
        x_title="Hours",
        value_text=lambda i: f"{decimal_hours(rows[i].minutes)} h, {_sessions(rows[i])}",
    )


def _sessions(load: ProviderLoad) -> str:
    count = load.given_sessions + load.booked_sessions
    return f"{count} session" if count == 1 else f"{count} sessions"


@dataclass(frozen=True)
class ReportPage:
    """The page's charts, in the order it shows them."""

    weekly_hours: Chart
    monthly_hours: Chart
    requests: Chart
    waits: Chart
    called_off: Chart
    caregivers: Chart
    providers: Chart


def charts(reports: ProgramReports) -> ReportPage:
    scope = reports.scope
    return ReportPage(
        weekly_hours=hours_chart(scope, reports.weekly_hours, monthly=False),
        monthly_hours=hours_chart(scope, reports.monthly_hours, monthly=True),
        requests=requests_chart(scope, reports.requests),
        waits=wait_chart(scope, reports.requests),
        called_off=called_off_chart(scope, reports.called_off),
        caregivers=caregivers_chart(scope, reports.caregivers),
        providers=providers_chart(scope, reports.providers),
    )


# --- CSV files ---------------------------------------------------------------------------------

Cell = object  # text or a number
Table = tuple[list[str], Iterable[Sequence[Cell]]]


def _period_cells(period: Period) -> list[Cell]:
    return [period.opens.isoformat(), period.first_day.isoformat(), period.last_day.isoformat()]


def _hours_table(rows: list[HoursRow], opening: str) -> Table:
    header = [opening, "First day", "Last day", "Completed sessions", "Hours delivered"]
    return header, ([*_period_cells(r.period), r.sessions, decimal_hours(r.minutes)] for r in rows)


def _requests_table(scope: Scope) -> Table:
    report = services.requests_received(scope)
    header = [
        "Week starting",
        "First day",
        "Last day",
        "Received",
        "Filled",
        "Declined",
        "Median hours to fill",
        "Average hours to fill",
    ]

    def cells(row: RequestsRow, period_cells: list[Cell]) -> list[Cell]:
        waits = [hours_figure(row.median_hours), hours_figure(row.average_hours)]
        return [*period_cells, row.received, row.filled, row.declined, *("" if w == "–" else w for w in waits)]

    days = [scope.days.first_day.isoformat(), scope.days.last_day.isoformat()]
    rows = [cells(r, _period_cells(r.period)) for r in report.weeks if r.period is not None]
    return header, [*rows, cells(report.total, ["Whole range", *days])]


def _called_off_table(scope: Scope) -> Table:
    header = ["Week starting", "First day", "Last day", "Cancelled", "No-shows"]
    return header, ([*_period_cells(r.period), r.cancelled, r.no_shows] for r in services.called_off(scope))


def _reasons_table(scope: Scope) -> Table:
    found = services.reasons(scope, limit=None)
    rows = [[r.status_label, r.reason, r.sessions] for r in [*found.called_off, *found.declined]]
    return ["Status", "Reason", "Sessions"], rows


def _caregivers_table(scope: Scope) -> Table:
    year = scope.days.last_day.year
    header = [
        "Caregiver",
        "Year",
        "Allotment hours",
        "Completed hours",
        "Booked or missed hours",
        "Used hours",
        "Hours left",
    ]
    rows = (
        [
            r.name,
            year,
            decimal_hours(r.allotted_minutes),
            decimal_hours(r.completed_minutes),
            decimal_hours(r.booked_minutes),
            decimal_hours(r.used_minutes),
            decimal_hours(r.allotted_minutes - r.used_minutes),
        ]
        for r in services.caregiver_hours(scope, limit=None).rows
    )
    return header, rows


def _providers_table(scope: Scope) -> Table:
    header = ["Provider", "Sessions given", "Hours given", "Sessions booked", "Hours booked"]
    rows = (
        [r.name, r.given_sessions, decimal_hours(r.given_minutes), r.booked_sessions, decimal_hours(r.booked_minutes)]
        for r in services.provider_load(scope, limit=None).rows
    )
    return header, rows


@dataclass(frozen=True)
class Export:
    title: str
    table: Callable[[Scope], Table]


EXPORTS: dict[str, Export] = {
    "weekly-hours": Export(
        "hours delivered per week",
        lambda scope: _hours_table(services.hours_delivered(scope, scope.days.weeks()), "Week starting"),
    ),
    "monthly-hours": Export(
        "hours delivered per month",
        lambda scope: _hours_table(services.hours_delivered(scope, scope.days.months()), "Month starting"),
    ),
    "requests": Export("requests received and filled per week", _requests_table),
    "cancellations": Export("cancellations and no-shows per week", _called_off_table),
    "reasons": Export("reasons for cancellations, no-shows and declined requests", _reasons_table),
    "caregivers": Export("hours used and allotted per caregiver", _caregivers_table),
    "providers": Export("providers' load", _providers_table),
}

# What a spreadsheet would run as a formula at the start of a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(table: Table) -> str:
    header, rows = table
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()


def csv_filename(name: str, scope: Scope) -> str:
    place = scope.place
    where = "" if place.kind == services.PlaceKind.ALL else f"-{place.kind.value}"
    if place.center_id is not None:
        where += f"-{place.center_id}"
    return f"respite-{name}-{scope.days.first_day.isoformat()}-to-{scope.days.last_day.isoformat()}{where}.csv"
