"""Journey: a coordinator reads the program's reports on the demo's half year of sessions, narrows the
range, is told in place when the range makes no sense, and downloads a report as a CSV file.

The demo rows are only read; the download adds an audit row, which no other journey counts.
"""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from .pages import allow_console_errors, visit

SIZES = ["desktop", "phone"]
CHARTS = {
    "chart-weekly-hours": "Hours delivered per week",
    "chart-monthly-hours": "Hours delivered per month",
    "chart-requests": "Requests received and filled per week",
    "chart-waits": "Hours from request to confirmation, per week",
    "chart-called-off": "Cancellations and no-shows per week",
    "chart-caregivers": "Hours used of each caregiver's yearly allotment",
    "chart-providers": "Hours per provider",
}


def open_reports(page: Page):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports", exact=True).click()
    expect(page).to_have_url(re.compile(r"/reports$"), timeout=15_000)  # every report, drawn on a busy machine
    expect(page.get_by_role("heading", level=1)).to_have_text("Program reports")


@pytest.mark.parametrize("size", SIZES)
def test_a_coordinator_sees_the_program_in_charts(page_for, size):
    page = page_for("coordinator", size)
    open_reports(page)

    # Twelve weeks of the demo's history: every chart drawn, each named by the sentence that sums it up.
    for chart_id, opening in CHARTS.items():
        chart = page.locator(f"#{chart_id}")
        expect(chart).to_have_attribute("role", "img")
        expect(page.get_by_role("img", name=re.compile("^" + re.escape(opening)))).to_have_count(1)
    assert page.locator("#chart-weekly-hours rect.chart-bar").count() >= 8  # most weeks had sessions
    expect(page.locator("#chart-caregivers")).to_contain_text("James Chen")
    expect(page.locator("#chart-providers")).to_contain_text("Aisha Rahman")
    expect(page.locator(".report-scope")).to_contain_text("All centers and home visits")
    visit(page, "reports", full_page=True)  # every chart, on a desktop too

    # The numbers under a chart, as a table.
    hours = page.get_by_role("region", name="Hours delivered", exact=True)
    hours.get_by_text("The numbers, as a table").first.click()
    expect(hours.get_by_role("table", name="Hours delivered per week").get_by_role("row")).to_have_count(13)
    expect(page.get_by_role("table", name="Most frequent reasons for cancellations and no-shows")).to_contain_text(
        "Lily had a cold."
    )
    visit(page, "reports-numbers")


def test_a_coordinator_narrows_the_range_and_downloads_a_report(page_for):
    page = page_for("coordinator", "desktop")
    # A range that ends before it starts is answered 422, with the message beside the field.
    allow_console_errors(page, r"status of 422 \(UNPROCESSABLE ENTITY\) \(at [^ ]*/reports\?", why="a wrong range")
    open_reports(page)
    today = date.fromisoformat(page.get_by_label("To", exact=True).input_value())

    page.get_by_label("From", exact=True).fill((today - timedelta(days=10)).isoformat())
    page.get_by_label("To", exact=True).fill((today - timedelta(days=20)).isoformat())
    page.get_by_role("button", name="Show the reports").click()
    expect(page.locator("#to-error")).to_contain_text("The end can't be before the start")
    expect(page.locator("#chart-weekly-hours")).to_have_count(0)
    visit(page, "reports-wrong-range")

    # Half a year at Maple House: its weeks on the center's clock; the address keeps the filters.
    first = today - timedelta(weeks=26)
    page.get_by_label("From", exact=True).fill(first.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_label("Where", exact=True).select_option(label="Maple House Respite Center")
    page.get_by_role("button", name="Show the reports").click()
    expect(page).to_have_url(re.compile(rf"/reports\?from={first.isoformat()}&to={today.isoformat()}&place=\d+$"))
    expect(page.locator(".report-scope")).to_contain_text("Maple House Respite Center")
    expect(page.locator(".report-scope")).to_contain_text("America/Chicago")
    expect(page.locator("#chart-monthly-hours rect.chart-bar")).not_to_have_count(0)

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download hours per month (CSV)").click()
    download = downloading.value
    assert re.fullmatch(
        rf"respite-monthly-hours-{first.isoformat()}-to-{today.isoformat()}-center-\d+\.csv",
        download.suggested_filename,
    )
    rows = list(csv.reader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert rows[0] == ["Month starting", "First day", "Last day", "Completed sessions", "Hours delivered"]
    assert rows[1][1] == first.isoformat()
    assert sum(int(row[3]) for row in rows[1:]) > 20  # half a year of Lily's afternoons and mornings
