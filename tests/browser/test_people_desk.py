"""The coordinator's People desk, on a desktop: a family locked out by failed sign-ins is found by typing part
of their name, unlocked and sent a link to set a new password; an invitation is resent and then withdrawn;
a family's yearly hours change and their phone shows it without a reload; and every page of the desk,
looked at on a phone and a desktop.

Each journey signs up a family of its own (a name no one else has), and leaves the demo accounts as they
are. The program's default hours are only looked at: the other journeys' families start with them.
"""

import email
import email.policy
import re
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from . import pages
from .pages import LIVE_TIMEOUT_MS, allow_console_errors, fill_sign_in, finish_sign_up, visit
from .test_requests import mark_document, unreloaded

PASSWORD = "an afternoon in the garden"
NEW_PASSWORD = "a long walk by the lake"
SIZES = ["phone", "desktop"]
# The README's picture of the desk (in docs/screenshots/ when `make screenshots` runs this).
SCREENSHOT = "people-desktop.png"


def own_name(first, last):
    """A family name of this run's own: "Hedda Lockwood Qzx", found by typing part of it."""
    return f"{first} {last} {uuid.uuid4().hex[:6].upper()}"


def sign_up(page: Page, name):
    """A family signs up on `page` (its server); their email."""
    address = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/signup")
    page.get_by_label("Your name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(address)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    finish_sign_up(page, address)
    expect(page).to_have_url(re.compile(r"/caregiver$"))
    return address


def sign_out(page: Page):
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def flashes(page: Page):
    return page.locator(".flashes")


def mailed_link_in(folder: Path, to, *, timeout=10.0):
    """The path of the link in the newest message to `to` in a server's mail folder."""
    deadline = time.monotonic() + timeout
    while True:
        for path in sorted(folder.glob("*.eml"), key=lambda p: int(p.stem), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == to:
                return "/" + re.search(r"https?://\S+", message.get_content()).group(0).split("/", 3)[3]
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {to} in {folder}")
        time.sleep(0.1)


def find_on_people_page(desk: Page, typed):
    """The People page, and the name typed into its search a key at a time: the list swaps in place."""
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="People", exact=True).click()
    expect(heading(desk)).to_have_text("People")
    expect(desk.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)
    mark_document(desk)
    desk.get_by_label("Name or email", exact=True).press_sequentially(typed, delay=40)
    expect(desk).to_have_url(re.compile(r"/admin/users\?(.*&)?q=" + re.escape(quote(typed)) + "(&|$)"))
    assert unreloaded(desk), "the search reloaded the page"
    return desk.locator("#people-region")


# --- A locked-out family: found, unlocked, sent a link to set a new password --------------------------------


def test_a_coordinator_finds_a_locked_out_family_unlocks_them_and_sends_a_reset_link(
    start_server, tmp_path, monkeypatch, page_for
):
    # (page_for after start_server: its pages close before the second server stops.)
    # A server that holds an account back after three failed sign-ins (the session's server allows 1000).
    strict = start_server("three failures lock", SIGN_IN_FAILURE_LIMIT="3 per hour")
    monkeypatch.setattr(pages, "mail_folder", tmp_path / "mail")
    name = own_name("Hedda", "Lockwood")
    phone = page_for("caregiver", "phone", sign_in=False, server=strict)
    address = sign_up(phone, name)
    sign_out(phone)

    # Three wrong passwords, and then even the right one is held back.
    allow_console_errors(phone, r"status of 401 \(UNAUTHORIZED\)", why="wrong passwords are answered 401")
    allow_console_errors(phone, r"status of 429 \(TOO MANY REQUESTS\)", why="a locked-out sign-in is answered 429")
    for _ in range(3):
        phone.goto("/login")
        fill_sign_in(phone, address, "not my password at all")
        expect(phone.locator("main")).to_contain_text("don't match")
    phone.goto("/login")
    fill_sign_in(phone, address, PASSWORD)
    expect(phone.locator("main")).to_contain_text("Please wait")
    visit(phone, "people-desk-locked-out")

    # The coordinator types part of the name: the list shows them, locked out.
    desk = page_for("coordinator", "desktop", server=strict)
    region = find_on_people_page(desk, name.split()[1][:5].lower() + " " + name.split()[2][:3].lower())
    row = region.get_by_role("row").filter(has_text=name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Locked out")
    expect(desk.locator("#people-found")).to_have_text("1 person found")
    visit(desk, "people-found-locked")

    row.get_by_role("link", name=name, exact=True).click()
    expect(heading(desk)).to_have_text(name)
    expect(desk.locator("#locked-out")).to_contain_text(f"{name} is locked out")
    visit(desk, "person-locked-out")
    desk.get_by_role("button", name="Unlock their sign-in", exact=True).click()
    expect(flashes(desk)).to_contain_text(f"{name} can sign in again now, from anywhere.")
    expect(desk.locator("#locked-out")).to_have_count(0)

    # The family signs in at once.
    phone.goto("/login")
    fill_sign_in(phone, address, PASSWORD)
    expect(phone).to_have_url(re.compile(r"/caregiver$"))
    sign_out(phone)

    # And the coordinator sends them a link to set a new password, which they use.
    desk.get_by_role("button", name="Send a password reset link", exact=True).click()
    expect(flashes(desk)).to_contain_text(f"A link to set a new password is on its way to {address}")
    visit(desk, "person-reset-link-sent")
    phone.goto(mailed_link_in(tmp_path / "mail", address))
    phone.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    phone.get_by_label("Password again", exact=True).fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Save and sign in").click()
    expect(phone).to_have_url(re.compile(r"/caregiver$"))
    expect(flashes(phone)).to_contain_text("Your new password is set.")

    # Their page's history tells the story.
    desk.reload()
    history = desk.locator("section", has=desk.get_by_role("heading", name="History of this account"))
    expect(history).to_contain_text(f"Unlocked {name}'s sign-in after repeated failed attempts")
    expect(history).to_contain_text(f"Sent {name} a link to set a new password")


# --- An invitation: made, copied, resent, withdrawn -------------------------------------------------------


def test_a_coordinator_resends_and_withdraws_an_invitation(page_for):
    name = own_name("Nadia", "Newcomer")
    address = f"nadia-{uuid.uuid4().hex[:10]}@example.com"
    desk = page_for("coordinator", "desktop")
    desk.goto("/admin/invitations")
    expect(heading(desk)).to_have_text("Invitations")
    invite = desk.locator("form", has=desk.get_by_role("button", name="Create invitation"))
    invite.get_by_label("Name", exact=True).fill(name)
    invite.get_by_label("Email", exact=True).fill(address)
    invite.get_by_label("Role", exact=True).select_option(label="Provider")
    invite.get_by_label("Center", exact=True).select_option(label="Maple House Respite Center")
    expect(invite.get_by_label("Email the invitation to them now")).to_be_checked()
    invite.get_by_role("button", name="Create invitation", exact=True).click()

    shown = desk.locator("#invited")
    expect(shown).to_contain_text(f"{name} is invited as provider.")
    expect(shown).to_contain_text(f"The invitation is on its way to {address}")
    first_link = desk.get_by_label("The invitation link", exact=True).input_value()
    assert first_link.startswith("http://127.0.0.1:")
    desk.get_by_role("button", name="Copy link", exact=True).click()
    expect(desk.locator('[data-copy-status="invitation-link"]')).to_contain_text(re.compile("Copied|selected"))
    assert mailed_link_in(pages.mail_folder, address) == "/" + first_link.split("/", 3)[3]
    visit(desk, "invitation-made")

    row = desk.locator("tr", has_text=name)
    expect(row).to_contain_text(address)
    expect(row).to_contain_text("Maple House Respite Center")

    # Resend: a new link by email; the first one now says it was replaced.
    row.get_by_role("button", name=re.compile(r"^Resend")).click()
    expect(flashes(desk)).to_contain_text(f"A new invitation is on its way to {address}.")
    visit(desk, "invitation-resent")
    newcomer = page_for("visitor", "desktop", sign_in=False)
    allow_console_errors(newcomer, r"status of 404 \(NOT FOUND\)", why="a link that no longer works answers 404")
    newcomer.goto(first_link)
    expect(heading(newcomer)).to_have_text("This invitation doesn't work any more")
    expect(newcomer.locator("main")).to_contain_text("A newer invitation replaced this one")
    visit(newcomer, "invitation-replaced")
    pages.open_mailed_link(newcomer, address)
    expect(heading(newcomer)).to_have_text(f"Welcome, {name}")

    # Withdraw it: the newest link says so, and the list no longer has them.
    newest = newcomer.url
    row = desk.locator("tr", has_text=name)
    row.locator("summary", has_text="Withdraw").click()
    row.get_by_role("button", name=re.compile(r"^Yes, withdraw")).click()
    expect(flashes(desk)).to_contain_text(f"{name}'s invitation is withdrawn")
    expect(desk.locator("tr", has_text=name)).to_have_count(0)
    newcomer.goto(newest)
    expect(newcomer.locator("main")).to_contain_text("This invitation was withdrawn.")


# --- A family's hours: set at the desk, shown on their phone without a reload -----------------------------


def test_a_coordinator_sets_a_familys_hours_and_their_phone_shows_them_live(page_for):
    name = own_name("Ruth", "Hollis")
    phone = page_for("caregiver", "phone", sign_in=False)
    sign_up(phone, name)
    hours = phone.locator("#caregiver-live")
    expect(hours).to_contain_text("of 100 h allotted")
    expect(phone.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)
    mark_document(phone)

    desk = page_for("coordinator", "desktop")
    region = find_on_people_page(desk, name.split()[0][:3] + " " + name.split()[2])
    region.get_by_role("link", name=name, exact=True).click()
    expect(heading(desk)).to_have_text(name)
    expect(desk.locator("#family-hours")).to_contain_text("100 h left of 100 h a year")
    allow_console_errors(desk, r"status of 422 \(UNPROCESSABLE ENTITY\)", why="a refused form answers 422")
    desk.locator("summary", has_text="Change their yearly hours").click()
    allotment = desk.locator("form", has=desk.get_by_role("button", name="Set their hours"))
    allotment.get_by_label("Respite hours a year", exact=True).fill("150")
    allotment.get_by_role("button", name="Set their hours", exact=True).click()
    # The reason is needed: asked for beside the field.
    expect(desk.locator("#allotment-reason-error")).to_have_text("Give a reason: it is kept in the audit log.")
    allotment = desk.locator("form", has=desk.get_by_role("button", name="Set their hours"))
    allotment.get_by_label("Reason", exact=True).fill("A second person to care for since March")
    allotment.get_by_role("button", name="Set their hours", exact=True).click()
    expect(flashes(desk)).to_contain_text(f"{name} now has 150 hours of respite a year.")
    expect(desk.locator("#family-hours")).to_contain_text("150 h left of 150 h a year")
    visit(desk, "person-hours-set")

    expect(hours).to_contain_text("of 150 h allotted", timeout=LIVE_TIMEOUT_MS)
    assert unreloaded(phone), "the family's phone reloaded"
    visit(phone, "people-desk-hours-live")


# --- Every page of the desk, on a phone and a desktop ------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_the_desks_pages_on_a_phone_and_a_desktop(page_for, size):
    desk = page_for("coordinator", size)
    desk.goto("/admin/users")
    expect(heading(desk)).to_have_text("People")
    path = visit(desk, "people")
    if size == "desktop":
        desk.screenshot(path=path.with_name(SCREENSHOT), animations="disabled", caret="hide")

    desk.goto("/admin/users?q=caregiver%40demo.respite.test&role=caregiver")
    desk.get_by_role("link", name="Rosa Martinez", exact=True).click()
    expect(heading(desk)).to_have_text("Rosa Martinez")
    expect(desk.locator("main")).to_contain_text("Respite hours this year")
    visit(desk, "person-family")

    desk.goto("/admin/users?q=provider2%40demo")
    desk.get_by_role("link", name="Aisha Rahman", exact=True).click()
    expect(desk.locator("main")).to_contain_text("Availability")
    visit(desk, "person-provider")

    desk.goto("/admin/invitations")
    expect(heading(desk)).to_have_text("Invitations")
    visit(desk, "invitations")

    desk.goto("/admin/allotments")
    expect(heading(desk)).to_have_text("Yearly respite hours")
    visit(desk, "allotments")

    desk.goto("/admin/centers")
    expect(heading(desk)).to_have_text("Centers")
    visit(desk, "centers")
    desk.get_by_role("link", name="Maple House Respite Center", exact=True).click()
    expect(heading(desk)).to_have_text("Maple House Respite Center")
    visit(desk, "center")

    desk.goto("/admin/centers/new")
    allow_console_errors(desk, r"status of 422 \(UNPROCESSABLE ENTITY\)", why="a refused form answers 422")
    desk.get_by_role("button", name="Add the center", exact=True).click()
    expect(desk.locator("#name-error")).to_have_text("Give the center a name.")
    visit(desk, "center-new-refused")
