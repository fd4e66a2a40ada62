"""The pages that keep accounts safe, walked on a phone: a forgotten password reset through the emailed link,
two-step sign-in turned on (the recovery codes shown once) and then used to sign in; and on a desktop a
coordinator deactivating an account from its page."""

import re
import time
import uuid
from urllib.parse import quote

import pyotp
from playwright.sync_api import Page, expect

from .pages import allow_console_errors, fill_sign_in, finish_sign_up, open_mailed_link, visit

NAME = "Ines Moreau"
PASSWORD = "a long bicycle ride by the canal"
NEW_PASSWORD = "tea with lemon and a crossword"


def new_email():
    return f"ines-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page: Page, email, name=NAME):
    page.goto("/signup")
    page.get_by_label("Your name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    visit(page, "signup-email-sent")
    finish_sign_up(page, email)
    expect(page).to_have_url(re.compile(r"/caregiver$"))


def sign_out(page: Page):
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_forgotten_password_is_reset_through_the_emailed_link(page_for):
    page = page_for("caregiver", sign_in=False)
    email = new_email()
    sign_up(page, email)
    sign_out(page)

    page.get_by_role("link", name="Forgotten your password?").click()
    visit(page, "forgot-password")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_role("button", name="Send the link").click()
    expect(page).to_have_url(re.compile(r"/email-sent/reset$"))
    expect(page.get_by_role("main")).to_contain_text("If an account uses")
    visit(page, "reset-email-sent")

    open_mailed_link(page, email)
    visit(page, "reset-password")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password again", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save and sign in").click()
    expect(page).to_have_url(re.compile(r"/caregiver$"))
    expect(page.locator(".flashes")).to_contain_text("Your new password is set.")

    # The link worked once.
    allow_console_errors(page, r"status of 404 \(NOT FOUND\)", why="a used link answers 404")
    open_mailed_link(page, email)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link doesn't work any more")
    visit(page, "reset-link-used")


def test_two_step_sign_in_is_turned_on_and_then_asked_for(page_for):
    page = page_for("caregiver", sign_in=False)
    email = new_email()
    sign_up(page, email)

    page.goto("/account")
    page.get_by_role("link", name="Turn on two-step sign-in").click()
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    visit(page, "two-step-setup")
    secret = page.locator("code.secret-key").inner_text()
    page.get_by_label("The 6-digit code the app shows", exact=True).fill(pyotp.TOTP(secret).now())
    page.get_by_label("Your current password", exact=True).fill(PASSWORD)
    # Turning it on ends every other sign-in: this page's live stream is closed with them (the browser
    # reports it), and the next page opens a new one under the sign-in that stays.
    allow_console_errors(page, r"^console\.error: \[object Event\] \(at [^ ]*/htmx-[\d.]+\.min\.js\)$", why="closed")
    page.get_by_role("button", name="Turn it on").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    visit(page, "two-step-recovery-codes")
    page.get_by_role("link", name="I have kept them").click()

    sign_out(page)
    fill_sign_in(page, email, PASSWORD)
    expect(page).to_have_url(re.compile(r"/login/code$"))
    visit(page, "two-step-code")
    # The code that turned it on is spent: the next one (the window allows it).
    page.get_by_label(re.compile("Code from your authenticator app")).fill(pyotp.TOTP(secret).at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/caregiver$"))

    page.goto("/account/two-step")
    expect(page.get_by_role("main")).to_contain_text("You have 10 unused recovery codes")
    visit(page, "two-step-on")


def test_a_coordinator_deactivates_an_account_from_its_page(page_for):
    family = page_for("caregiver", sign_in=False)
    email = new_email()
    name = f"Ines Moreau {email[5:9].upper()}"  # one of its own among the journeys' families
    sign_up(family, email, name)

    coordinator = page_for("coordinator")
    coordinator.goto(f"/admin/users?q={quote(name)}")  # the list comes a page at a time: find them
    coordinator.get_by_role("link", name=name, exact=True).click()
    expect(coordinator.get_by_role("heading", level=1)).to_have_text(name)
    visit(coordinator, "person-page")
    coordinator.locator("summary", has_text=f"Deactivate {name}").click()
    section = coordinator.locator("section", has=coordinator.get_by_role("heading", name="Deactivate this account"))
    section.get_by_label("Reason", exact=True).fill("Moved away; asked us to close the account.")
    section.get_by_role("button", name="Yes, deactivate the account").click()
    expect(coordinator.locator(".flashes")).to_contain_text("deactivated")
    visit(coordinator, "person-deactivated")

    # Their open page's live stream ends with the sign-in; the browser reports the closed stream.
    allow_console_errors(family, r"\[object Event\]", why="the deactivated family's live stream is closed")
    family.goto("/caregiver")
    expect(family).to_have_url(re.compile(r"/login"))
