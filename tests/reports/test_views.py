"""The reports through the pages: who may open them, the filters and their refusals, the charts and tables,
the CSV files and their audit rows, and a fixed number of statements however many sessions there are."""

import csv
import io
import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from respite.models import utcnow
from respite.reports import figures
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error, sign_in

HTMX = {"HX-Request": "true"}
CHICAGO = ZoneInfo("America/Chicago")
EXPORTS = list(figures.EXPORTS)
STATUSES = ["completed", "cancelled", "no_show", "declined", "confirmed", "requested"]


def past_session(days_ago, status="completed", **extra):
    start = utcnow() - timedelta(days=days_ago)
    row = factories.RespiteSessionFactory(
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        status=status,
        created_at=start - timedelta(days=2),
        **extra,
    )
    if status in ("completed", "no_show", "confirmed"):
        factories.AssignmentFactory(session=row, created_at=row.created_at + timedelta(hours=5))
    return row


def add_sessions(n):
    """`n` sessions of every kind, each with its own family and provider, over the last eleven weeks."""
    for number in range(n):
        status = STATUSES[number % len(STATUSES)]
        past_session(1 + number % 75, status, status_reason=f"Reason {number % 7}" if status != "completed" else "")


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# --- Who may open them ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/reports", "/reports/weekly-hours.csv"])
def test_only_coordinators_see_the_reports(app, path, caregiver, provider, kiosk):
    for user in (caregiver, provider, kiosk):
        client = app.test_client()
        sign_in(client, user)
        assert client.get(path).status_code == 403
    assert app.test_client().get(path).status_code == 302  # to sign in


def test_an_unknown_report_is_not_found(as_coordinator):
    assert as_coordinator.get("/reports/secrets.csv").status_code == 404


# --- The page --------------------------------------------------------------------------------------


def test_the_page_shows_every_chart_with_its_table_and_file(as_coordinator):
    past_session(3)
    past_session(10, "cancelled", status_reason="Unwell")
    past_session(12, "declined", status_reason="No one free")

    response = as_coordinator.get("/reports")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for chart in ("weekly-hours", "monthly-hours", "requests", "waits", "called-off", "caregivers", "providers"):
        assert re.search(
            rf'<svg class="chart[^"]*" id="chart-{chart}" viewBox="0 0 360(?:\.0)? [\d.]+"\s+role="img"', page
        )
        assert f'aria-labelledby="chart-{chart}-title"' in page
    assert page.count("<caption>") == 8  # each report's numbers, and the two tables of reasons
    assert '<th role="columnheader" scope="col">Week</th>' in page
    for name in EXPORTS:
        assert f'href="/reports/{name}.csv?from=' in page
    assert "Unwell" in page
    assert "No one free" in page


def test_the_default_range_is_the_last_twelve_weeks_on_the_coordinator_s_clock(as_coordinator):
    response = as_coordinator.get("/reports")

    today = utcnow().astimezone(CHICAGO).date()
    monday = today - timedelta(days=today.weekday(), weeks=11)
    page = response.get_data(as_text=True)
    assert f'id="from" name="from" type="date" value="{monday.isoformat()}"' in page
    assert f'id="to" name="to" type="date" value="{today.isoformat()}"' in page
    assert "on the America/Chicago clock" in page


def test_an_empty_range_says_so_instead_of_drawing_empty_charts(as_coordinator):
    response = as_coordinator.get("/reports?from=2025-01-01&to=2025-01-31")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count("No sessions in this range.") == 7
    assert "<svg" not in page


def test_a_center_s_report_covers_its_sessions_on_its_clock(as_coordinator):
    london = factories.CenterFactory(name="London House", timezone="Europe/London")
    past_session(5, center=london, recipient=factories.CareRecipientFactory(caregiver__full_name="Lena London"))
    past_session(5, recipient=factories.CareRecipientFactory(caregiver__full_name="Otto Other"))

    page = as_coordinator.get(f"/reports?place={london.id}").get_data(as_text=True)

    assert "London House," in page
    assert "on the Europe/London clock" in page
    assert "Lena London" in page
    assert "Otto Other" not in page
    assert f'<option selected value="{london.id}">London House</option>' in page


def test_names_in_the_charts_are_text(as_coordinator):
    past_session(3, recipient=factories.CareRecipientFactory(caregiver__full_name="<script>alert(1)</script>"))

    page = as_coordinator.get("/reports").get_data(as_text=True)

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_htmx_request_gets_the_region(as_coordinator):
    response = as_coordinator.get("/reports?from=2026-01-05&to=2026-02-01", headers=HTMX)

    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<div id="reports-region">')
    assert "<html" not in page
    assert "HX-Request" in response.headers["Vary"]


# --- Filters that make no sense ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-02-30", "from", "Enter the date as year-month-day"),
        ("from=yesterday&to=2026-01-01", "from", "Enter the date as year-month-day"),
        ("to=2026-1-1x", "to", "Enter the date as year-month-day"),
        ("from=0001-01-01", "from", "Choose a day between 2000 and 2100."),
        ("from=2026-01-01&to=9999-12-31", "to", "Choose a day between 2000 and 2100."),
        ("from=2026-03-01&to=2026-02-28", "to", "The end can't be before the start"),
        ("from=2020-01-01&to=2023-01-01", "to", "A report covers at most 3 years: choose a day up to 2022-12-31."),
        ("place=99999", "place", "Choose one of the places in the list."),
        ("place=%00", "place", "Remove the hidden control characters"),
        ("from=2026-01-01%00", "from", "Enter the date as year-month-day"),
    ],
)
def test_filters_that_make_no_sense_are_answered_beside_the_field(as_coordinator, query, field, message):
    response = as_coordinator.get(f"/reports?{query}")

    assert response.status_code == 422
    assert message in field_error(response, field)
    assert "<svg" not in response.get_data(as_text=True)


def test_one_day_given_the_other_is_filled_in(as_coordinator):
    only_from = as_coordinator.get("/reports?from=2026-01-05").get_data(as_text=True)
    only_to = as_coordinator.get("/reports?to=2025-06-30").get_data(as_text=True)
    far_back = as_coordinator.get("/reports?from=2001-01-01").get_data(as_text=True)

    today = utcnow().astimezone(CHICAGO).date()
    assert f'value="{min(today, date(2028, 1, 4)).isoformat()}"' in only_from
    assert 'id="from" name="from" type="date" value="2025-04-14"' in only_to  # twelve weeks up to it
    assert 'id="to" name="to" type="date" value="2003-12-31"' in far_back  # three years at most


def test_a_three_year_range_is_fine(as_coordinator):
    response = as_coordinator.get("/reports?from=2023-01-01&to=2025-12-31")

    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<svg") == 0  # nothing then, but no refusal either


# --- CSV files ------------------------------------------------------------------------------------------


def test_a_csv_file_has_the_page_s_numbers_and_its_download_is_audited(as_coordinator):
    past_session(3)
    today = utcnow().astimezone(CHICAGO).date()
    first = today - timedelta(days=20)

    response = as_coordinator.get(f"/reports/weekly-hours.csv?from={first.isoformat()}&to={today.isoformat()}")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="respite-weekly-hours-{first.isoformat()}-to-{today.isoformat()}.csv"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    rows = csv_rows(response)
    assert rows[0] == ["Week starting", "First day", "Last day", "Completed sessions", "Hours delivered"]
    assert rows[1][1] == first.isoformat()
    assert rows[-1][2] == today.isoformat()
    assert sum(int(r[3]) for r in rows[1:]) == 1
    assert sum(float(r[4]) for r in rows[1:]) == 3
    (row,) = audit_rows("report.export")
    assert row.actor_id == as_coordinator.user.id
    assert row.meta == {
        "report": "weekly-hours",
        "from": first.isoformat(),
        "to": today.isoformat(),
        "zone": "America/Chicago",
    }
    assert "hours delivered per week" in row.summary


@pytest.mark.parametrize("name", EXPORTS)
def test_every_report_exports(as_coordinator, name):
    past_session(3)
    past_session(4, "cancelled", status_reason="=cmd|' /C calc'!A0")

    response = as_coordinator.get(f"/reports/{name}.csv")

    assert response.status_code == 200
    rows = csv_rows(response)
    assert len(rows) >= 2
    assert all(len(r) == len(rows[0]) for r in rows)
    assert not any(cell.startswith("=") for r in rows for cell in r)
    assert [r.meta["report"] for r in audit_rows("report.export")] == [name]


def test_the_reasons_file_has_every_reason_and_the_caregivers_file_everyone(as_coordinator):
    for number in range(12):
        past_session(3 + number, "cancelled", status_reason=f"Reason {number}")

    reasons = csv_rows(as_coordinator.get("/reports/reasons.csv"))
    caregivers = csv_rows(as_coordinator.get("/reports/caregivers.csv"))

    assert len(reasons) == 13
    assert reasons[1] == ["Cancelled", "Reason 0", "1"]
    assert len(caregivers) == 13  # every active caregiver, beyond the page's fifteen-or-fewer too


def test_a_csv_file_with_filters_that_make_no_sense_is_refused_and_not_audited(as_coordinator):
    response = as_coordinator.get("/reports/requests.csv?from=2026-03-01&to=2026-01-01")

    assert response.status_code == 422
    assert "The end can't be before the start" in field_error(response, "to")
    assert audit_rows("report.export") == []


# --- Statement budgets -----------------------------------------------------------------------------------

# The user and the places (the filter's list), then one statement per report: hours per week and per month,
# requests, cancellations, reasons, caregivers, providers.
PAGE_STATEMENTS = 9
# The user, the places, the report; the audit row (the chain's newest hash, the row; and the chain's lock on
# PostgreSQL).
CSV_STATEMENTS = {"sqlite": 5, "postgresql": 6}


def test_the_page_statement_budget(as_coordinator):
    assert_statement_budget(as_coordinator, "/reports", add_sessions, PAGE_STATEMENTS + NAV)


def test_the_region_statement_budget(as_coordinator):
    assert_statement_budget(as_coordinator, "/reports", add_sessions, PAGE_STATEMENTS, headers=HTMX)


@pytest.mark.parametrize("name", EXPORTS)
def test_each_csv_statement_budget(as_coordinator, dialect, name):
    assert_statement_budget(as_coordinator, f"/reports/{name}.csv", add_sessions, CSV_STATEMENTS[dialect])
