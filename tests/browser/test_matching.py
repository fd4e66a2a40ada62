"""Journeys 10-16: a request meets a provider, and the visit happens.

A coordinator assigns a provider from the suggestions while the family's phone
follows along; a provider accepts an offer, reads and acknowledges the care
card, checks a home visit in and out on a phone and writes the visit note the
family then reads; a coordinator who would double-book a provider is told
which session clashes, in place; assigning and accepting work as plain forms
without JavaScript; a provider declines an offer with a reason and takes an
open request instead; a provider changes their week and time off; and every
new page, looked at on a phone and a desktop.

Each journey signs up a family of its own, whose requests it matches with
Aisha (provider2) or Tom (provider3), each journey at its own time of day, so
no two of them meet. The demo rows are only looked at, and Marcus's
availability, changed in its journey, is put back as it was.
"""

import re
import uuid
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from respite.demo import DEMO_PASSWORD

from .pages import LIVE_TIMEOUT_MS, allow_console_errors, sign_in, visit
from .test_requests import ZONE, add_person, mark_document, sign_up, unreloaded, weekday_ahead, when

AISHA = ("provider2@demo.respite.test", "Aisha Rahman")
TOM = ("provider3@demo.respite.test", "Tom Okafor")
SIZES = ["phone", "desktop"]


def token():
    """A word of this run's own, to write into notes and reasons and find them again."""
    return uuid.uuid4().hex[:8]


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def nav_to(page: Page, name):
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def session_details(page: Page):
    """A session page's details (the first list of them: the visit has its own)."""
    return page.locator("#session-live .details").first


def session_id(page: Page):
    return int(re.search(r"/sessions/(\d+)$", page.url).group(1))


def sign_in_as(page_for, live_server, who, size=None, *, javascript=True):
    """A page for one of the other demo providers (page_for's "provider" is Marcus)."""
    page = page_for("provider", size, sign_in=False, javascript=javascript)
    sign_in(page, live_server.base_url, who[0], DEMO_PASSWORD)
    return page


def request_respite(page: Page, *, day, start, length, notes, person=None, address=None, repeat=None):
    """The family's request form, filled and sent; on the page the request leads to."""
    page.goto("/sessions/new")
    expect(heading(page)).to_have_text("Request respite")
    if person:
        page.get_by_label("Who is it for?").select_option(label=person)
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Start time", exact=True).fill(start)
    page.get_by_label("How long", exact=True).select_option(label=length)
    if repeat:
        page.get_by_label("Repeat", exact=True).select_option(label=repeat)
    if address:
        page.get_by_label("At home").check()
        page.get_by_label("Address", exact=True).fill(address)
    else:
        page.get_by_label("Center", exact=True).select_option(label="Maple House Respite Center")
    page.get_by_label("Notes for the provider", exact=True).fill(notes)
    expect(page.locator("#request-summary")).to_contain_text("This request uses")
    expect(page.locator(".field-error")).to_have_count(0)
    page.get_by_role("button", name="Send request", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$" if not repeat else r"/sessions$"))


def new_family(page_for, name, *people):
    """A caregiver signs up on a phone and adds the people they care for (no care card yet)."""
    page = page_for("caregiver", "phone", sign_in=False)
    sign_up(page, name)
    for full_name in people:
        page.goto("/people/new")
        add_person(page, *full_name.split())
    return page


def live(page: Page):
    """Until the page's live stream is open: by then htmx has taken over its links and forms."""
    expect(page.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)


def open_panel(page: Page, person):
    """From the queue, the panel of the open request for `person` (the one there is), ready for htmx."""
    page.goto("/queue")
    expect(heading(page)).to_have_text("Request queue")
    page.locator("#queue-live tr[id^=request-]").filter(has_text=person).get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/queue/\d+$"))
    expect(heading(page)).to_have_text(f"Arrange respite for {person}")
    live(page)


def suggestion(page: Page, provider_name):
    return page.locator("#suggestions").get_by_role("row").filter(has_text=provider_name)


def panel_notice(page: Page):
    return page.locator("#panel-status")


def panel_details(page: Page):
    return page.locator("#request-panel .details").first


class SlowAnswers:
    """A slow network: the server has a page's htmx requests to one address, the page gets the answers on release()."""

    def __init__(self, page: Page, path, method):
        self.method = method
        self.held = []
        self.holding = True
        page.route(f"**{path}", self._route)

    def _route(self, route):
        request = route.request
        if request.method != self.method or request.headers.get("hx-request") != "true":
            route.continue_()
            return
        response = route.fetch()
        if self.holding:
            self.held.append((route, response))
        else:  # released while the server was still answering
            route.fulfill(response=response)

    def release(self):
        self.holding = False
        for route, response in self.held:
            route.fulfill(response=response)
        self.held.clear()


def lose_refreshes(page: Page, path):
    """A bad network: the page's live refreshes of one address are lost on the way, and it falls out of date."""

    def lose(route):
        if route.request.method == "GET" and route.request.headers.get("hx-request") == "true":
            route.abort()
        else:
            route.continue_()

    page.route(f"**{path}", lose)


def events_seen(page: Page):
    return int(page.locator(".live-status").get_attribute("data-event-count") or 0)


def wait_for_event_after(page: Page, seen):
    """Until the page's live stream has brought an event after the first `seen`."""
    page.wait_for_function(
        "(seen) => Number(document.querySelector('.live-status').dataset.eventCount || 0) > seen",
        arg=seen,
        timeout=LIVE_TIMEOUT_MS,
    )


# --- Journey 10: the coordinator assigns; the family's phone shows it without a reload ------------------


def test_a_coordinator_assigns_a_provider_and_the_family_sees_it_live(page_for):
    notes = f"Samuel likes the quiet room. ({token()})"
    day = weekday_ahead(8)
    expected = when(day, "10:00", "12:00")

    family = new_family(page_for, "Ruth Abara", "Samuel Abara")
    request_respite(family, day=day, start="10:00", length="2 h", notes=notes)
    expect(family.locator(".flashes")).to_contain_text(f"Your request for {expected} is sent.")
    details = session_details(family)
    expect(details).to_contain_text("Requested")
    expect(details).to_contain_text("Not assigned yet")
    visit(family, "matching-requested")
    mark_document(family)

    # The coordinator, at a desk: the queue, then the request's panel with the providers who fit it.
    desk = page_for("coordinator")
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Queue").click()
    row = desk.locator("#queue-live tr[id^=request-]").filter(has_text="Samuel Abara")
    expect(row).to_contain_text(expected)
    expect(row).to_contain_text("Family: Ruth Abara")
    expect(row).to_contain_text("None yet")  # no offers
    visit(desk, "queue-new-request")
    row.get_by_role("link", name=expected).click()
    expect(heading(desk)).to_have_text("Arrange respite for Samuel Abara")
    expect(panel_details(desk)).to_contain_text(notes)
    aisha = suggestion(desk, AISHA[1])
    expect(aisha).to_contain_text("Available the whole time")
    expect(aisha).to_contain_text("Works at Maple House Respite Center")
    visit(desk, "panel")
    mark_document(desk)

    # Assign, in place, on a slow network: the answer comes after the live update the assignment itself
    # sent. The panel shows the answer all the same, and now offers a reassignment (with its reason field).
    slow = SlowAnswers(desk, f"/queue/{session_id(family)}/assign", "POST")
    seen = events_seen(desk)
    aisha.get_by_role("button", name=f"Assign {AISHA[1]}").click()
    wait_for_event_after(desk, seen)
    slow.release()
    expect(panel_notice(desk)).to_contain_text(
        f"{AISHA[1]} is assigned to Samuel Abara's session, {expected}. It is confirmed."
    )
    expect(panel_details(desk)).to_contain_text("Confirmed")
    expect(panel_details(desk)).to_contain_text(AISHA[1])
    expect(desk.get_by_role("heading", name="Reassign to another provider")).to_be_visible()
    expect(desk.get_by_label("Reason (optional, shared with the provider taken off it)")).to_be_visible()
    assert unreloaded(desk), "the panel reloaded instead of answering in place"
    visit(desk, "panel-assigned")

    # The family's phone, left open on the session's page, shows who is coming: no reload.
    expect(details).to_contain_text("Confirmed", timeout=LIVE_TIMEOUT_MS)
    expect(details).to_contain_text(AISHA[1], timeout=LIVE_TIMEOUT_MS)
    assert unreloaded(family), "the family's page reloaded"
    visit(family, "matching-confirmed")


# --- Journey 11: an offer accepted, the care card read, a home visit checked in and out on a phone -------

CARD = {
    "needs": "Uses a walker; likes to do the crossword after lunch.",
    "allergy": "Latex.",
    "medicine": ("Metformin", "500 mg", "With lunch"),
}
NOTE = {
    "What went well": "Otto finished the crossword and we walked to the corner and back.",
    "Concerns": "He was short of breath on the way back; worth mentioning to his doctor.",
    "Medication given": "Metformin 500 mg at 12:30, with lunch.",
}


def fill_care_card(page: Page):
    expect(heading(page)).to_have_text("Otto's care card")
    page.get_by_label("Needs", exact=True).fill(CARD["needs"])
    page.get_by_label("Allergies", exact=True).fill(CARD["allergy"])
    row = page.get_by_role("group", name="Medicine 1", exact=True)
    for label, value in zip(["Medicine", "Dose", "When"], CARD["medicine"]):
        row.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="Save the care card", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("Version 1 of Otto's care card is saved.")


def starting_soon(minutes=20):
    """A start on the family's clock at least `minutes` from now, on the next five minutes: check-in is open."""
    start = (datetime.now(ZONE) + timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    return start + timedelta(minutes=-start.minute % 5)


def test_a_provider_accepts_an_offer_reads_the_card_and_records_a_home_visit_on_a_phone(page_for, live_server):
    notes = f"Ring twice; Otto is a little deaf. ({token()})"
    address = "9 Linden Court, Springfield"
    start = starting_soon()

    # The family asks for a home visit starting soon, with Otto's care card filled in.
    family = page_for("caregiver", "phone", sign_in=False)
    sign_up(family, "Hannah Weiss")
    family.get_by_role("link", name="Add the person you care for").click()
    add_person(family, "Otto", "Weiss")
    fill_care_card(family)
    request_respite(family, day=start.date(), start=f"{start:%H:%M}", length="1 h", notes=notes, address=address)
    expect(session_details(family)).to_contain_text("Requested")
    session = session_id(family)
    live(family)
    mark_document(family)

    # A coordinator offers it to Tom; the queue flagged it as starting soon.
    desk = page_for("coordinator")
    desk.goto("/queue")
    expect(desk.locator(f"#request-{session}")).to_contain_text("Starts within 48 h")
    open_panel(desk, "Otto Weiss")
    suggestion(desk, TOM[1]).get_by_role("button", name=f"Offer to {TOM[1]}").click()
    expect(panel_notice(desk)).to_contain_text(f"Offered to {TOM[1]}: Otto Weiss,")
    offers = desk.get_by_role("region", name="Offers", exact=True)
    expect(offers).to_contain_text(f"{TOM[1]} Waiting for an answer")
    visit(desk, "panel-offered")

    # Tom, on his phone: the offer on his Offers page and his schedule, and on the session's page.
    phone = sign_in_as(page_for, live_server, TOM, "phone")
    nav_to(phone, "Offers")
    offer = phone.locator(".offer-cards li").filter(has_text="Otto Weiss")
    expect(offer).to_contain_text("At home")
    expect(offer).to_contain_text(notes)
    visit(phone, "visit-offers")
    nav_to(phone, "Schedule")
    entry = phone.locator(".schedule-entry.is-offer").filter(has_text="Otto Weiss")
    expect(entry).to_contain_text(f"At home: {address}")
    visit(phone, "visit-schedule-offer")
    entry.get_by_role("link", name="Offer — waiting for your answer").click()
    expect(phone).to_have_url(re.compile(rf"/sessions/{session}$"))
    answer = phone.get_by_role("region", name="This session is offered to you")
    expect(answer).to_be_visible()
    visit(phone, "visit-session-offered")
    answer.get_by_role("button", name="Accept the session").click()
    expect(phone.locator(".flashes")).to_contain_text("Confirmed: Otto Weiss,")
    expect(phone.locator(".flashes")).to_contain_text("The session is yours.")
    expect(session_details(phone)).to_contain_text("Confirmed")
    expect(session_details(phone)).to_contain_text(address)

    # Before the visit: the care card, read and acknowledged, and back to the session.
    card_status = phone.get_by_role("region", name="Care card", exact=True)
    expect(card_status).to_contain_text("You haven't acknowledged Otto's care card yet.")
    card_status.get_by_role("link", name="Read the care card and acknowledge it").click()
    expect(phone).to_have_url(re.compile(rf"/people/\d+\?session={session}$"))
    card = phone.get_by_role("region", name="Care card", exact=True)
    expect(card.get_by_role("note")).to_contain_text(CARD["allergy"])
    expect(card).to_contain_text(CARD["medicine"][0])
    visit(phone, "visit-care-card")
    phone.get_by_role("button", name="I have read version 1").click()
    expect(phone).to_have_url(re.compile(rf"/sessions/{session}$"))
    expect(phone.locator(".flashes")).to_contain_text("Thank you: you have read version 1 of Otto's care card.")
    expect(card_status).to_contain_text("You have read version 1, the current one.")

    # At the door: check in (it opened half an hour before the start), then out, in place.
    panel = phone.get_by_role("region", name="The visit")
    expect(panel).to_contain_text("Checked in Not yet")
    visit(phone, "visit-panel")
    mark_document(phone)
    status = phone.locator("#session-status")
    panel.get_by_role("button", name="Check in now").click()
    expect(status).to_contain_text(re.compile(r"Checked in at \d\d:\d\d\."))
    expect(session_details(phone)).to_contain_text("Checked in")
    check_out = panel.get_by_role("button", name="Check out now")
    expect(check_out).to_be_visible()
    visit(phone, "visit-checked-in")
    check_out.click()
    expect(status).to_contain_text(re.compile(r"Checked out at \d\d:\d\d\. Now write the visit note for the family\."))
    expect(session_details(phone)).to_contain_text("Completed")

    # The visit note, in its three parts.
    form = phone.get_by_role("form", name="Visit note")
    for label, text in NOTE.items():
        form.get_by_label(label, exact=True).fill(text)
    visit(phone, "visit-note-written")
    form.get_by_role("button", name="Save the visit note").click()
    expect(status).to_contain_text("The visit note is saved. The family can read it now.")
    expect(form).to_contain_text("you can still change it")
    assert unreloaded(phone), "the visit was recorded with reloads, not in place"
    visit(phone, "visit-note-saved")

    # The family's phone, open on the session all along: the visit, and the note, without a reload.
    visit_for_family = family.get_by_role("region", name="The visit")
    expect(session_details(family)).to_contain_text("Completed", timeout=LIVE_TIMEOUT_MS)
    expect(session_details(family)).to_contain_text(TOM[1])
    note = visit_for_family.locator(".visit-note")
    for text in NOTE.values():
        expect(note).to_contain_text(text, timeout=LIVE_TIMEOUT_MS)
    expect(visit_for_family).to_contain_text(f"By {TOM[1]}")
    assert unreloaded(family), "the family's page reloaded"
    visit(family, "visit-note")


# --- Journey 12: double booking refused, in place, naming the clash --------------------------------------


def test_a_coordinator_is_refused_a_double_booking_in_place_naming_the_clash(page_for):
    day = weekday_ahead(9)
    walter_when, june_when = when(day, "13:00", "15:00"), when(day, "14:00", "16:00")
    family = new_family(page_for, "Grace Lee", "Walter Lee", "June Lee")
    request_respite(family, person="Walter Lee", day=day, start="13:00", length="2 h", notes=f"Walter ({token()})")
    walter = session_id(family)
    request_respite(family, person="June Lee", day=day, start="14:00", length="2 h", notes=f"June ({token()})")

    # One coordinator has June's request open; its live refreshes are lost on the way (a network blip).
    desk = page_for("coordinator")
    open_panel(desk, "June Lee")
    june = int(re.search(r"/queue/(\d+)$", desk.url).group(1))
    expect(suggestion(desk, TOM[1]).get_by_role("button", name=f"Assign {TOM[1]}")).to_be_visible()
    allow_console_errors(
        desk, r"status of 422 \(UNPROCESSABLE ENTITY\) \(at [^ ]*/queue/\d+/assign\)$", why="the double booking"
    )
    lost = "the page's live refresh is lost on purpose"
    allow_console_errors(desk, rf"net::ERR_FAILED \(at [^ ]*/queue/{june}\)$", why=lost)
    allow_console_errors(desk, r"^console\.error: htmx:(sendError|afterRequest), \[object HTMLDivElement\] ", why=lost)
    lose_refreshes(desk, f"/queue/{june}")

    # Meanwhile, in another window, Walter's request (an hour before June's, overlapping it) goes to Tom.
    other = page_for("coordinator")
    open_panel(other, "Walter Lee")
    with desk.expect_request(lambda r: r.url.endswith(f"/queue/{june}") and r.method == "GET"):
        suggestion(other, TOM[1]).get_by_role("button", name=f"Assign {TOM[1]}").click()
        expect(panel_notice(other)).to_contain_text(f"{TOM[1]} is assigned to Walter Lee's session, {walter_when}.")

    # June's panel still shows Tom as free. Assigning him is refused, and the panel says why, in place.
    clash = f"{TOM[1]} already has a session then: Walter Lee, {walter_when} (session {walter})."
    tom = suggestion(desk, TOM[1])
    tom.get_by_role("button", name=f"Assign {TOM[1]}").click()
    expect(desk.locator("#request-panel [role=alert]")).to_have_text(clash)
    expect(tom.locator(".field-error")).to_have_text(clash)
    expect(tom).to_contain_text("Already has Walter Lee's session then")
    expect(tom.get_by_role("button", name=f"Assign {TOM[1]}")).to_have_count(0)
    expect(panel_details(desk)).to_contain_text("Requested")
    expect(panel_details(desk)).to_contain_text("Not assigned yet")
    expect(desk).to_have_url(re.compile(rf"/queue/{june}$"))
    visit(desk, "panel-double-booking-refused")
    desk.unroute(f"**/queue/{june}")  # the network is back

    # The other coordinator resolves it: Walter's session goes to Aisha, with a reason for Tom.
    other.get_by_label("Reason (optional, shared with the provider taken off it)").fill("Tom is needed for June")
    suggestion(other, AISHA[1]).get_by_role("button", name=f"Reassign to {AISHA[1]}").click()
    expect(other.locator(".flashes")).to_contain_text(f"{AISHA[1]} now has Walter Lee's session, {walter_when}.")
    expect(panel_details(other)).to_contain_text(AISHA[1])
    visit(other, "panel-reassigned")

    # June's panel follows by itself: Tom is free again, and is assigned.
    assign_tom = tom.get_by_role("button", name=f"Assign {TOM[1]}")
    expect(assign_tom).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    expect(desk.locator("#request-panel [role=alert]")).to_have_count(0)
    assign_tom.click()
    expect(panel_notice(desk)).to_contain_text(f"{TOM[1]} is assigned to June Lee's session, {june_when}.")
    expect(panel_details(desk)).to_contain_text("Confirmed")


# --- Journey 13: assigning and accepting as plain forms, without JavaScript --------------------------------


def test_assigning_and_accepting_work_as_plain_forms_without_javascript(page_for, live_server):
    first = weekday_ahead(10)
    second = first + timedelta(weeks=1)
    first_when, second_when = when(first, "16:00", "18:00"), when(second, "16:00", "18:00")
    family = new_family(page_for, "Marta Kowalski", "Jan Kowalski")
    request_respite(
        family,
        day=first,
        start="16:00",
        length="2 h",
        repeat="Every week, 2 times",
        notes=f"Jan reads the paper after his nap. ({token()})",
    )

    desk = page_for("coordinator", javascript=False)
    expect(desk.locator(".live-status")).to_be_hidden()
    desk.goto("/queue")
    rows = desk.locator("#queue-live tr[id^=request-]").filter(has_text="Jan Kowalski")
    expect(rows).to_have_count(2)
    visit(desk, "queue-nojs")

    # The first week: assigned to Aisha, with a plain post and a redirect back to the panel.
    rows.filter(has_text=first_when).get_by_role("link").click()
    visit(desk, "panel-nojs")
    suggestion(desk, AISHA[1]).get_by_role("button", name=f"Assign {AISHA[1]}").click()
    expect(desk).to_have_url(re.compile(r"/queue/\d+$"))
    expect(desk.locator(".flashes")).to_contain_text(
        f"{AISHA[1]} is assigned to Jan Kowalski's session, {first_when}. It is confirmed."
    )
    expect(panel_details(desk)).to_contain_text("Confirmed")
    visit(desk, "panel-assigned-nojs")

    # The second week: offered to Tom.
    desk.goto("/queue")
    rows.filter(has_text=second_when).get_by_role("link").click()
    suggestion(desk, TOM[1]).get_by_role("button", name=f"Offer to {TOM[1]}").click()
    expect(desk.locator(".flashes")).to_contain_text(f"Offered to {TOM[1]}: Jan Kowalski, {second_when}.")
    expect(desk.get_by_role("region", name="Offers", exact=True)).to_contain_text(TOM[1])

    # Tom accepts it on his Offers page, a plain form too; the session's page opens, confirmed.
    tom = sign_in_as(page_for, live_server, TOM, javascript=False)
    nav_to(tom, "Offers")
    offer = tom.locator(".offer-cards li").filter(has_text="Jan Kowalski")
    expect(offer).to_contain_text(second_when)
    visit(tom, "offers-nojs")
    offer.get_by_role("button", name="Accept the session for Jan Kowalski").click()
    expect(tom).to_have_url(re.compile(r"/sessions/\d+$"))
    expect(tom.locator(".flashes")).to_contain_text(f"Confirmed: Jan Kowalski, {second_when}. The session is yours.")
    expect(session_details(tom)).to_contain_text("Confirmed")
    expect(session_details(tom)).to_contain_text(TOM[1])
    visit(tom, "offer-accepted-nojs")


# --- Journey 14: an offer declined with a reason; an open request taken instead ----------------------------


def test_a_provider_declines_an_offer_with_a_reason_and_takes_an_open_request(page_for, live_server):
    day = weekday_ahead(12)
    reason = f"I'm at a first-aid course that morning. ({token()})"
    family = new_family(page_for, "Ines Duarte", "Rui Duarte", "Lia Duarte")
    request_respite(family, person="Rui Duarte", day=day, start="08:00", length="1 h 30 min", notes="Rui: breakfast")
    request_respite(family, person="Lia Duarte", day=day, start="18:00", length="1 h 30 min", notes="Lia: bedtime")
    rui_when, lia_when = when(day, "08:00", "09:30"), when(day, "18:00", "19:30")

    desk = page_for("coordinator")
    open_panel(desk, "Rui Duarte")
    suggestion(desk, AISHA[1]).get_by_role("button", name=f"Offer to {AISHA[1]}").click()
    offers = desk.get_by_role("region", name="Offers", exact=True)
    expect(offers).to_contain_text(f"{AISHA[1]} Waiting for an answer")
    mark_document(desk)

    # Aisha can't: she says why. Declining asks for the reason first.
    aisha = sign_in_as(page_for, live_server, AISHA)
    nav_to(aisha, "Offers")
    offer = aisha.locator(".offer-cards li").filter(has_text="Rui Duarte")
    offer.get_by_text("Decline…").click()
    offer.get_by_label("Why you can't take it (shared with the coordinators)").fill(reason)
    visit(aisha, "offer-decline")
    offer.get_by_role("button", name="Decline the session for Rui Duarte").click()
    expect(aisha.locator(".flashes")).to_contain_text(f"You declined Rui Duarte's session, {rui_when}.")
    expect(offer).to_have_count(0)

    # The coordinator's open panel shows the answer and the reason, without a reload.
    expect(offers).to_contain_text(f"{AISHA[1]} Declined “{reason}”", timeout=LIVE_TIMEOUT_MS)
    expect(suggestion(desk, AISHA[1])).to_contain_text(f"Declined this session: {reason}")
    assert unreloaded(desk), "the coordinator's panel reloaded"
    visit(desk, "panel-offer-declined")

    # Lia's evening request fits Aisha's week: she takes it herself, and it is hers.
    open_request = aisha.locator(".offer-cards li").filter(has_text="Lia")
    expect(open_request).to_contain_text(lia_when)
    visit(aisha, "offers-open-request")
    open_request.get_by_role("button", name=re.compile(r"^Take it")).click()
    expect(aisha).to_have_url(re.compile(r"/sessions/\d+$"))
    expect(aisha.locator(".flashes")).to_contain_text(f"Confirmed: Lia Duarte, {lia_when}. The session is yours.")
    expect(session_details(aisha)).to_contain_text(AISHA[1])


# --- Journey 15: a provider's week and time off, with htmx and as plain forms ------------------------------


def add_hours(page: Page, day, start, end):
    form = page.get_by_role("form", name="Add hours")
    form.get_by_label("Day", exact=True).select_option(label=day)
    form.get_by_label("From", exact=True).select_option(label=start)
    form.get_by_label("Until", exact=True).select_option(label=end)
    form.get_by_role("button", name="Add hours").click()


def add_time_off(page: Page, first, last, note):
    form = page.get_by_role("form", name="Add time off")
    form.get_by_label("First day", exact=True).fill(first.isoformat())
    form.get_by_label("Last day", exact=True).fill(last.isoformat())
    form.get_by_label("Note (optional)", exact=True).fill(note)
    form.get_by_role("button", name="Add time off").click()


def days_off(first, last):
    """Whole days off as the page says them (respite.availability.services.time_off_label)."""
    if first.year != last.year:
        return f"{first:%a} {first.day} {first:%b %Y} – {last:%a} {last.day} {last:%b %Y}"
    return f"{first:%a} {first.day} {first:%b} – {last:%a} {last.day} {last:%b %Y}"


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "nojs"])
def test_a_provider_adds_and_removes_hours_and_time_off(page_for, javascript):
    suffix = "" if javascript else "-nojs"
    page = page_for("provider", "desktop" if javascript else "phone", javascript=javascript)
    allow_console_errors(
        page, r"status of 422 \(UNPROCESSABLE ENTITY\) \(at [^ ]*/availability/weekly\)$", why="overlapping hours"
    )
    nav_to(page, "Availability")
    expect(heading(page)).to_have_text("Your availability")
    sunday = page.locator(".week-day").filter(has=page.get_by_role("heading", name="Sunday"))
    expect(sunday).to_contain_text("Not available")
    if javascript:
        live(page)
        mark_document(page)
    notice = page.locator("#availability-notice") if javascript else page.locator(".flashes")

    add_hours(page, "Sunday", "9:00 am", "12:00 pm")
    expect(notice).to_contain_text("Added to your week: Sunday 9:00 am – 12:00 pm.")
    expect(sunday).to_contain_text("9:00 am – 12:00 pm")

    # Hours that overlap are refused, with the message beside the field.
    add_hours(page, "Sunday", "11:00 am", "1:00 pm")
    error = page.locator("#start_minute-error")
    expect(error).to_have_text(
        "That overlaps your hours on Sunday, 9:00 am – 12:00 pm. Remove those first, or choose other times."
    )
    expect(page.get_by_label("From", exact=True)).to_have_attribute("aria-invalid", "true")
    error.scroll_into_view_if_needed()
    visit(page, f"availability-overlap{suffix}")

    first = datetime.now(ZONE).date() + timedelta(days=60)
    last = first + timedelta(days=2)
    add_time_off(page, first, last, "Visiting my sister")
    expect(notice).to_contain_text(f"Your time off {days_off(first, last)} is saved.")
    row = page.get_by_role("row").filter(has_text="Visiting my sister")
    expect(row).to_contain_text(days_off(first, last))
    if javascript:
        assert unreloaded(page), "a change reloaded the page"
    visit(page, f"availability-added{suffix}")

    # Put Marcus's week back as it was.
    sunday.get_by_role("button", name="Remove Sunday 9:00 am – 12:00 pm").click()
    expect(notice).to_contain_text("Removed: Sunday 9:00 am – 12:00 pm.")
    expect(sunday).to_contain_text("Not available")
    row.get_by_role("button", name=re.compile("^Remove time off")).click()
    expect(notice).to_contain_text(f"Removed: time off {days_off(first, last)}.")
    expect(row).to_have_count(0)


# --- Journey 16: every new page, on a phone and a desktop -------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_the_coordinators_matching_pages(page_for, size):
    page = page_for("coordinator", size)
    nav_to(page, "Queue")
    expect(heading(page)).to_have_text("Request queue")
    requests = page.locator("#queue-live tr[id^=request-]")
    expect(requests.filter(has_text="Elena Martinez").first).to_be_visible()
    visit(page, "queue")

    # Elena's request offered to Marcus: the offer out, and the suggestions with their reasons.
    requests.filter(has_text="Marcus Bell").get_by_role("link").click()
    expect(heading(page)).to_have_text("Arrange respite for Elena Martinez")
    expect(page.get_by_role("region", name="Offers", exact=True)).to_contain_text("Marcus Bell Waiting for an answer")
    expect(suggestion(page, "Marcus Bell")).to_contain_text("Offer sent")
    expect(page.get_by_role("button", name="Withdraw the offer to Marcus Bell")).to_be_visible()
    visit(page, "panel-offer-waiting")

    nav_to(page, "Calendar")
    expect(heading(page)).to_have_text("Program calendar")
    expect(page.get_by_role("link", name="By center")).to_have_attribute("aria-current", "page")
    visit(page, "program-by-center")
    # The links swap the week in place and the address follows: next week, then by provider.
    page.get_by_role("link", name="Next week →").click()
    expect(page).to_have_url(re.compile(r"/program\?week=\d{4}-\d\d-\d\d&by=center$"))
    visit(page, "program-next-week")
    page.get_by_role("link", name="By provider").click()
    expect(page).to_have_url(re.compile(r"/program\?week=\d{4}-\d\d-\d\d&by=provider$"))
    expect(page.get_by_role("link", name="By provider")).to_have_attribute("aria-current", "page")
    expect(page.locator("table.program tbody th")).to_contain_text(["Aisha Rahman", "Marcus Bell", "Tom Okafor"])
    visit(page, "program-by-provider")


@pytest.mark.parametrize("size", SIZES)
def test_the_providers_offers_schedule_and_visit_pages(page_for, size):
    page = page_for("provider", size)

    nav_to(page, "Offers")
    expect(heading(page)).to_have_text("Offers")
    offer = page.locator(".offer-cards li").filter(has_text="Elena Martinez")
    expect(offer).to_contain_text("She likes the garden room in the morning.")
    visit(page, "offers")

    nav_to(page, "Schedule")
    expect(heading(page)).to_have_text("Your schedule")
    schedule = page.locator("#schedule-live")
    expect(schedule.locator(".schedule-entry.is-gone")).to_contain_text("Luis is visiting that afternoon.")
    visit(page, "schedule-agenda")
    # Tomorrow, then its week: the links swap the schedule in place, and the address follows.
    views = page.get_by_role("navigation", name="Schedule")
    views.get_by_role("link", name="Day", exact=True).click()
    expect(page).to_have_url(re.compile(r"/schedule\?view=day$"))
    views.get_by_role("link", name="Next day ›").click()
    expect(page).to_have_url(re.compile(r"/schedule\?view=day&day=\d{4}-\d\d-\d\d$"))
    expect(schedule.locator(".schedule-entry").filter(has_text="Elena Martinez")).to_contain_text("Confirmed")
    visit(page, "schedule-day")
    views.get_by_role("link", name="Week", exact=True).click()
    expect(page).to_have_url(re.compile(r"/schedule\?view=week&day=\d{4}-\d\d-\d\d$"))
    expect(views.get_by_role("link", name="Week", exact=True)).to_have_attribute("aria-current", "page")
    expect(schedule.locator(".schedule-day")).to_have_count(7)
    visit(page, "schedule-week")

    # The session offered to him: answer it here, and read Elena's care card first.
    nav_to(page, "Schedule")
    schedule.get_by_role("link", name="Offer — waiting for your answer").click()
    expect(page.get_by_role("region", name="This session is offered to you")).to_be_visible()
    page.get_by_text("Decline…").click()
    expect(page.get_by_label("Why you can't take it (shared with the coordinators)")).to_be_visible()
    card_status = page.get_by_role("region", name="Care card", exact=True)
    expect(card_status).to_contain_text("You haven't acknowledged Elena's care card yet.")
    visit(page, "session-offered")
    card_status.get_by_role("link", name="Read the care card and acknowledge it").click()
    expect(page).to_have_url(re.compile(r"/people/\d+\?session=\d+$"))
    # Looked at, not pressed: the journey above acknowledges a card of its own.
    expect(page.get_by_role("region", name="Your acknowledgement")).to_contain_text(
        "Before the session, read the whole card and confirm you have."
    )
    expect(page.get_by_role("button", name="I have read version 1")).to_be_visible()
    visit(page, "person-acknowledge")

    # Tomorrow's session: the visit, with when check-in opens.
    nav_to(page, "Schedule")
    tomorrow = schedule.locator(".schedule-entry").filter(has_text="Confirmed").filter(has_text="Elena Martinez")
    tomorrow.first.get_by_role("link").click()
    visit_panel = page.get_by_role("region", name="The visit")
    expect(visit_panel).to_contain_text("Check-in opens at")
    visit(page, "session-visit-panel")

    nav_to(page, "Availability")
    expect(page.locator(".week-day").filter(has=page.get_by_role("heading", name="Tuesday"))).to_contain_text(
        "7:00 pm – 10:00 pm"
    )
    visit(page, "availability")
