"""Notices journeys: a coordinator cancels a confirmed session with a reason; its provider, whose notices page is
open at a desk, sees the Notices badge and the notice with the reason appear without a reload, opens it (it is
read) and lands on the cancelled session. And the notices list and the email choices, on a phone and a desktop.

The journey signs up a family of its own, whose request a coordinator assigns to Tom (provider3), on a day and at
an hour no other journey uses, so no two of them meet; the demo's own sessions are only looked at.
"""

import re
import uuid

from playwright.sync_api import Page, expect

from .pages import LIVE_TIMEOUT_MS, visit
from .test_matching import TOM, heading, live, new_family, open_panel, request_respite, session_id, sign_in_as
from .test_requests import mark_document, unreloaded, weekday_ahead, when

SIZES = ["phone", "desktop"]


def notices_badge(page: Page):
    return page.locator("#nav-badge-notices")


def notice_items(page: Page):
    return page.locator("#notices-live .notice")


def test_a_cancellation_reaches_the_provider_live_with_its_reason(page_for, live_server):
    reason = f"The center's heating failed ({uuid.uuid4().hex[:8]})"
    day = weekday_ahead(13)
    expected = when(day, "15:00", "16:30")

    # A new family asks for a session; a coordinator assigns Tom to it from the panel.
    family = new_family(page_for, "Grace Holm", "Ivy Holm")
    request_respite(family, day=day, start="15:00", length="1 h 30 min", notes="Ivy likes the quiet room.")
    session = session_id(family)
    desk = page_for("coordinator")
    open_panel(desk, "Ivy Holm")
    desk.locator("#suggestions").get_by_role("row").filter(has_text=TOM[1]).get_by_role(
        "button", name=f"Assign {TOM[1]}"
    ).click()
    expect(desk.locator("#panel-status")).to_contain_text(f"{TOM[1]} is assigned to Ivy Holm's session, {expected}.")
    expect(desk.locator("#panel-status")).to_contain_text("Tom Okafor and Grace Holm are told.")

    # Tom, at his desk, has his notices open: the assignment is there; he reads them all, and the badge goes.
    tom = sign_in_as(page_for, live_server, TOM, "desktop")
    tom.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(r"^Notices")).click()
    expect(heading(tom)).to_have_text("Notices")
    expect(notice_items(tom).filter(has_text="assigned you Ivy Holm's session")).to_have_count(1)
    tom.get_by_role("button", name="Mark all as read").click()
    expect(tom.locator(".flashes")).to_contain_text("marked as read")
    expect(notices_badge(tom)).to_be_hidden()
    live(tom)
    mark_document(tom)

    # The coordinator cancels the confirmed session from its page, with the reason.
    desk.goto(f"/sessions/{session}")
    cancel = desk.locator(f"#cancel-session-{session}")
    cancel.get_by_text("Cancel this session…").click()
    cancel.get_by_label("Reason (optional, shared with the provider)").fill(reason)
    cancel.get_by_role("button", name="Yes, cancel it").click()
    expect(desk.locator(".flashes")).to_contain_text("The session is cancelled. Grace Holm and Tom Okafor are told.")

    # Tom's page, without a reload: the badge, and the notice with the reason, unread, at the top.
    expect(notices_badge(tom)).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(notices_badge(tom)).to_contain_text("1")
    newest = notice_items(tom).first
    expect(newest).to_contain_text(reason, timeout=LIVE_TIMEOUT_MS)
    expect(newest).to_contain_text("Dana Whitfield cancelled Ivy Holm's session on")
    expect(newest).to_have_class(re.compile(r"\bnotice-unread\b"))
    expect(tom.locator("#notices-count")).to_have_text("1 new notice")
    assert unreloaded(tom), "Tom's notices page reloaded"
    visit(tom, "notices-cancelled")

    # Opening it: read, and on the cancelled session's page with the reason.
    newest.get_by_role("link").click()
    expect(tom).to_have_url(re.compile(rf"/sessions/{session}$"))
    details = tom.locator("#session-live .details").first
    expect(details).to_contain_text("Cancelled")
    expect(details).to_contain_text(reason)
    expect(notices_badge(tom)).to_be_hidden()
    visit(tom, "notice-opened-session")
    tom.go_back()
    tom.reload()
    expect(notice_items(tom).first).not_to_have_class(re.compile(r"\bnotice-unread\b"))
    expect(tom.locator("#notices-count")).to_have_text("Nothing new")

    # The family, on the phone: told of both, the reason in the cancellation's words.
    family.goto("/notices")
    expect(notice_items(family).first).to_contain_text(
        f"Dana Whitfield cancelled Ivy's session on {expected}: {reason}"
    )
    expect(notice_items(family).nth(1)).to_contain_text("Tom Okafor will give it.")
    visit(family, "notices")


def test_the_notices_and_the_email_choices_on_a_phone_and_a_desktop(page_for):
    """Marcus's notices (the demo's: the home visit the family called off, with its reason) and his email
    choices, at each size; a choice saved comes back ticked."""
    for size in SIZES:
        marcus = page_for("provider", size)
        marcus.goto("/notices")
        expect(heading(marcus)).to_have_text("Notices")
        expect(notice_items(marcus).filter(has_text="Luis is visiting that afternoon.")).to_have_count(1)
        live(marcus)
        visit(marcus, "notices")

        marcus.get_by_role("link", name="Email choices").click()
        expect(heading(marcus)).to_have_text("Email choices")
        choice = marcus.get_by_label("A care card changes before a session you give")
        expect(marcus.get_by_label("A session is cancelled")).to_be_checked()
        visit(marcus, "notice-settings")
        was = choice.is_checked()
        choice.set_checked(not was)
        marcus.get_by_role("button", name="Save email choices").click()
        expect(marcus.locator(".flashes")).to_contain_text("Your email choices are saved.")
        expect(marcus.get_by_label("A care card changes before a session you give")).to_be_checked(checked=not was)
