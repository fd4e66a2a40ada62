"""Journeys 1 and 4: a new caregiver signs up on a phone, signs out, fails a sign-in, signs in;
and the same forms work with JavaScript off."""

import re
import uuid

from playwright.sync_api import expect

from .pages import allow_console_errors, fill_sign_in, finish_sign_up, visit

NAME = "Priya Natarajan"
PASSWORD = "a quiet afternoon to myself"


def new_email():
    return f"priya-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page, email, *, timezone="Europe/London"):
    page.get_by_label("Your name", exact=True).fill(NAME)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Time zone", exact=True).select_option(timezone)
    page.get_by_role("button", name="Create account", exact=True).click()
    finish_sign_up(page, email)


def expect_caregiver_dashboard(page):
    expect(page).to_have_url(re.compile(r"/caregiver$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Priya")


def sign_out(page):
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.locator(".flashes")).to_contain_text("You are signed out.")


def fail_sign_in(page, email):
    """A wrong password: the failure message shows above the form, and the form stays."""
    # The browser logs the answer's status (401) as a console error; it is the one expected.
    allow_console_errors(
        page, r"status of 401 \(UNAUTHORIZED\) \(at [^ ]*/login\)$", why="a wrong password is answered 401"
    )
    fill_sign_in(page, email, "not the right password")
    failure = page.locator("#login-failure")
    expect(failure).to_be_visible()
    expect(failure).to_have_attribute("role", "alert")
    expect(failure).to_contain_text("don't match")
    form = page.locator("main form")
    assert failure.bounding_box()["y"] + failure.bounding_box()["height"] <= form.bounding_box()["y"]
    expect(page.get_by_label("Email", exact=True)).to_have_value(email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")


def test_new_caregiver_signs_up_signs_out_and_signs_back_in(page_for):
    page = page_for("caregiver", sign_in=False)
    email = new_email()

    page.goto("/")
    visit(page, "welcome")
    page.get_by_role("main").get_by_role("link", name="Create a caregiver account").click()
    expect(page).to_have_url(re.compile(r"/signup$"))
    visit(page, "signup")

    sign_up(page, email)
    expect_caregiver_dashboard(page)
    expect(page.locator(".flashes")).to_contain_text(f"Welcome, {NAME}. Your account is ready.")
    visit(page, "dashboard-new")

    sign_out(page)
    visit(page, "signed-out")

    fail_sign_in(page, email)
    visit(page, "login-failed")

    fill_sign_in(page, email, PASSWORD)
    expect_caregiver_dashboard(page)
    expect(page.locator(".flashes")).to_contain_text(f"Signed in as {NAME}.")


def test_sign_up_and_sign_in_work_without_javascript(page_for):
    page = page_for("caregiver", sign_in=False, javascript=False)
    email = new_email()

    page.goto("/signup")
    visit(page, "signup-nojs")
    sign_up(page, email, timezone="America/Denver")
    expect_caregiver_dashboard(page)
    # Without JavaScript there is no live stream; the page itself is complete.
    visit(page, "dashboard-nojs")

    sign_out(page)
    fail_sign_in(page, email)
    visit(page, "login-failed-nojs")
    fill_sign_in(page, email, PASSWORD)
    expect_caregiver_dashboard(page)
