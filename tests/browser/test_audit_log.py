"""The audit log, for people: a coordinator on a desktop finds what one person did on given days, reads it
as sentences, and downloads the same rows as a CSV file; the page looked at on a phone and a desktop.

Rosa (the demo family) signs in first, so that the log has a row of hers today whatever ran before.
"""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from .pages import allow_console_errors, visit

SIZES = ["phone", "desktop"]


def results(page: Page):
    return page.locator("#audit-results")


def test_a_coordinator_filters_by_person_and_dates_and_downloads_the_csv(page_for):
    page_for("caregiver", "phone")  # Rosa signs in: a row of hers, today
    page = page_for("coordinator", "desktop")
    # Days around today on any clock: the journey doesn't depend on the hour it runs.
    today = datetime.now(UTC).date()
    since, until = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()

    page.goto("/admin/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit log")
    expect(page.locator(".live-status")).to_have_attribute("data-state", "open")
    page.get_by_label("Person").select_option(label="Rosa Martinez (family)")
    expect(page).to_have_url(re.compile(r"person=\d+"))
    expect(results(page)).to_contain_text("by or about Rosa Martinez")
    page.get_by_label("From").fill(since)
    page.get_by_label("To").fill(until)
    expect(page).to_have_url(re.compile(rf"from={since}.*to={until}|to={until}.*from={since}"))
    page.get_by_label("Include sign-ins and sign-outs").check()
    expect(page).to_have_url(re.compile(r"signins=1"))

    # Every row is a sentence about Rosa, her sign-in among them, linking to her page.
    signed_in = results(page).get_by_role("row").filter(has_text="Rosa Martinez signed in").first
    expect(signed_in).to_be_visible()
    link = signed_in.get_by_role("link", name="Rosa Martinez")
    expect(link).to_have_attribute("href", re.compile(r"/admin/users/\d+"))
    shown = results(page).locator("tbody tr").count()
    visit(page, "audit-log-filtered")

    with page.expect_download() as downloading:
        results(page).get_by_role("link", name=re.compile(r"^Download .* as CSV$")).click()
    download = downloading.value
    assert re.fullmatch(r"respite-audit-log-\d{4}-\d\d-\d\d-\d{4}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8", newline="") as file:
        header, *rows = list(csv.reader(io.StringIO(file.read())))
    assert header[:3] == ["id", "time (America/Chicago)", "time (UTC)"]
    assert header[3:] == ["actor", "action", "sentence", "entity type", "entity id", "meta"]
    assert len(rows) >= shown
    assert any(row[4] == "auth.login" and row[5] == "Rosa Martinez signed in" for row in rows)
    assert all("Rosa Martinez" in row[5] for row in rows)

    # The download is in the log itself, with the filters it used.
    page.goto("/admin/audit?action=downloads")
    newest = results(page).locator("tbody tr").first
    expect(newest).to_contain_text(f"Dana Whitfield downloaded {len(rows)} audit log")
    expect(newest).to_contain_text("(filtered by person, dates and sign-ins included)")


def test_bad_dates_are_refused_beside_the_field_without_javascript(page_for):
    page = page_for("coordinator", "desktop", javascript=False)
    allow_console_errors(page, r"status of 422", why="the page answers 422 to filters it refuses")

    page.goto("/admin/audit?from=2026-03-05&to=2026-03-01")

    expect(page.locator("#to-error")).to_have_text(re.compile("The end date is before the start date."))
    expect(results(page).get_by_role("alert")).to_contain_text("Correct the filter to see entries")
    visit(page, "audit-log-bad-dates-nojs")


@pytest.mark.parametrize("size", SIZES)
def test_the_audit_log_on_a_phone_and_a_desktop(page_for, size):
    page = page_for("coordinator", size)

    page.goto("/admin/audit")
    expect(page.get_by_role("heading", name="Is the log intact?")).to_be_visible()
    page.get_by_role("button", name="Check the whole log now").click()
    expect(page.locator(".flashes")).to_contain_text("The audit log is intact")
    expect(page.locator(".audit-chain")).to_contain_text("Verified up to row")
    expect(results(page).locator("tbody tr").first).to_contain_text("Dana Whitfield checked the audit log: intact")

    visit(page, "audit-log")
