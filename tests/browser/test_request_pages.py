"""Journey 9: each page of care cards, requests and sessions, at a phone's size and a desktop's.

The demo caregiver (Rosa, who cares for Elena: a care card and sessions in
every state) walks through the people pages, the care card and its form, the
request form, the sessions page, a session's page and its change form, and the
account page with the calendar feed on; the demo provider and coordinator open
a session's page. Everything is looked at, nothing is changed, except the
calendar feed, which is turned off again at the end. `visit()` checks each page
(axe, nothing scrolling sideways, no console errors) and takes its screenshot.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from .pages import visit

SIZES = ["phone", "desktop"]


def nav_to(page: Page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def session_details(page: Page):
    """A session page's details (the first list of them: the visit, when there is one, has its own)."""
    return page.locator("#session-live .details").first


def coming_sessions(page: Page):
    return page.get_by_role("region", name="Coming sessions", exact=True)


@pytest.mark.parametrize("size", SIZES)
def test_the_caregivers_people_and_care_card_pages(page_for, size):
    page = page_for("caregiver", size)

    nav_to(page, "People")
    expect(heading(page)).to_have_text("People you care for")
    elena = page.get_by_role("row").filter(has_text="Elena Martinez")
    expect(elena).to_contain_text("Version 1")
    visit(page, "people")

    elena.get_by_role("link", name="Elena Martinez").click()
    expect(page).to_have_url(re.compile(r"/people/\d+$"))
    expect(heading(page)).to_have_text("Elena Martinez")
    card = page.get_by_role("region", name="Care card", exact=True)
    expect(card.get_by_role("note")).to_contain_text("Penicillin.")
    expect(card).to_contain_text("Donepezil")
    expect(card).to_contain_text("Luis Martinez")
    expect(page.get_by_role("region", name="Who has read the care card")).to_contain_text("Marcus Bell")
    visit(page, "person")

    page.get_by_role("link", name="Edit the care card").click()
    expect(page).to_have_url(re.compile(r"/people/\d+/card/edit$"))
    expect(heading(page)).to_have_text("Elena's care card")
    expect(page.get_by_role("group", name="Medicine 1").get_by_label("Medicine", exact=True)).to_have_value("Donepezil")
    visit(page, "card-edit")

    nav_to(page, "People")
    page.get_by_role("link", name="Add a person").click()
    expect(page).to_have_url(re.compile(r"/people/new$"))
    expect(heading(page)).to_have_text("Add the person you care for")
    visit(page, "person-new")


@pytest.mark.parametrize("size", SIZES)
def test_the_caregivers_sessions_and_request_pages(page_for, size):
    page = page_for("caregiver", size)

    nav_to(page, "Sessions")
    expect(heading(page)).to_have_text("Your sessions")
    # Two open requests: the hospital appointment (09:00 – 13:00, no offer yet), and one offered to Marcus.
    expect(coming_sessions(page).get_by_role("row").filter(has_text="Requested")).to_have_count(2)
    requested = coming_sessions(page).get_by_role("row").filter(has_text="Requested").filter(has_text="09:00 – 13:00")
    expect(requested).to_have_count(1)
    expect(coming_sessions(page).get_by_role("row").filter(has_text="Confirmed")).to_contain_text("Marcus Bell")
    history = page.get_by_role("region", name="Past and cancelled sessions", exact=True)
    expect(history.get_by_role("row").filter(has_text="Completed")).to_contain_text("Elena Martinez")
    visit(page, "sessions")

    page.get_by_role("link", name="Request respite").click()
    expect(page).to_have_url(re.compile(r"/sessions/new$"))
    expect(heading(page)).to_have_text("Request respite")
    expect(page.locator("#request-summary")).to_contain_text("of respite left this year")
    visit(page, "request")

    # The open request's page: details, the ways to change or cancel it, and what happened.
    nav_to(page, "Sessions")
    requested.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    expect(heading(page)).to_have_text("Respite for Elena Martinez")
    expect(session_details(page)).to_contain_text("hospital appointment")
    expect(page.get_by_text("Cancel this session…")).to_be_visible()
    expect(page.locator(".timeline li").first).to_contain_text("Requested")
    visit(page, "session")

    page.get_by_role("link", name="Change this session").click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+/edit$"))
    expect(heading(page)).to_have_text("Change the session for Elena")
    expect(page.get_by_label("Notes for the provider", exact=True)).to_have_value(re.compile("hospital appointment"))
    visit(page, "session-edit")

    # A past session's page: who came, and no actions left.
    nav_to(page, "Sessions")
    history.get_by_role("row").filter(has_text="Completed").get_by_role("link").click()
    expect(session_details(page)).to_contain_text("Marcus Bell")
    expect(page.get_by_text("Cancel this session…")).to_have_count(0)
    visit(page, "session-completed")


@pytest.mark.parametrize("size", SIZES)
def test_the_account_page_with_the_calendar_feed_on(page_for, size):
    page = page_for("caregiver", size)
    nav_to(page, "Account")
    feed = page.locator("#calendar-feed")
    feed.get_by_role("button", name="Turn on the calendar feed").click()
    expect(heading(page)).to_have_text("Your calendar feed is on")
    expect(page.get_by_role("link", name="Subscribe in your calendar app")).to_have_attribute(
        "href", re.compile(r"^webcal://")
    )
    expect(page.locator(".feed-address")).to_contain_text(".ics")
    visit(page, "calendar-feed-on")

    page.get_by_role("link", name="Back to your account").click()
    expect(feed).to_contain_text("Your calendar feed is on")
    visit(page, "account-calendar-on")

    # Leave the demo account as it was.
    feed.get_by_role("button", name="Turn the feed off").click()
    expect(page.locator(".flashes")).to_contain_text("Your calendar feed is off.")
    expect(feed.get_by_role("button", name="Turn on the calendar feed")).to_be_visible()


@pytest.mark.parametrize("size", SIZES)
def test_the_providers_session_page(page_for, size):
    page = page_for("provider", size)
    nav_to(page, "Sessions")
    expect(heading(page)).to_have_text("Sessions you hold")
    visit(page, "sessions")
    coming_sessions(page).get_by_role("row").filter(has_text="Elena Martinez").get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    expect(heading(page)).to_have_text("Respite for Elena Martinez")
    details = session_details(page)
    expect(details).to_contain_text("Confirmed")
    expect(details).to_contain_text("Rosa Martinez")  # the family, with a number to call
    visit(page, "session")

    # The person's card, from the session.
    details.get_by_role("link", name="Elena Martinez").click()
    expect(page.get_by_role("region", name="Care card", exact=True)).to_contain_text("Penicillin.")
    visit(page, "person")


@pytest.mark.parametrize("size", SIZES)
def test_the_coordinators_session_page(page_for, size):
    page = page_for("coordinator", size)
    queue = page.locator("#coordinator-queue")
    queue.get_by_role("row").filter(has_text="hospital appointment").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/queue/\d+$"))
    page.get_by_role("link", name="The session's page and history").click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    expect(heading(page)).to_have_text("Respite for Elena Martinez")
    details = session_details(page)
    expect(details).to_contain_text("Requested")
    expect(details).to_contain_text("Not assigned yet")
    visit(page, "session")

    details.get_by_role("link", name="Elena Martinez").click()
    expect(heading(page)).to_have_text("Elena Martinez")
    expect(page.get_by_role("region", name="Who has read the care card")).to_be_visible()
    visit(page, "person")
