"""Journeys 6-8: a new caregiver adds the person they care for and asks for respite.

On a phone with JavaScript, a weekly series (the hours preview updates as the
form is filled) and one occurrence cancelled with a reason, while the
coordinator's open page follows along without a reload; the same request
flow as plain form posts with JavaScript off; and the request form by
keyboard alone, with a visible focus indicator at every step.

Each journey signs up a caregiver of its own: the demo families' sessions
are left as they are for the other journeys.
"""

import re
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from .pages import LIVE_TIMEOUT_MS, allow_console_errors, finish_sign_up, visit

# The new caregivers' zone: the demo center's and the coordinator's, so everyone reads the same times.
ZONE_NAME = "America/Chicago"
ZONE = ZoneInfo(ZONE_NAME)
PASSWORD = "an afternoon in the garden"
CENTER = "Maple House Respite Center"
DEFAULT_ALLOTMENT_HOURS = 100  # DEFAULT_ANNUAL_ALLOTMENT_HOURS, unset for the browser server


def new_email(name):
    return f"{name.split()[0].lower()}-{uuid.uuid4().hex[:10]}@example.com"


def weekday_ahead(days):
    """A weekday at least `days` days after today, on the caregivers' clock."""
    day = datetime.now(ZONE).date() + timedelta(days=days)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def when(day: date, start: str, end: str):
    """A session's time as the pages show it (respite.timefmt.timespan): "Thu 3 Dec 2026, 10:00 – 13:00"."""
    return f"{day:%a} {day.day} {day:%b %Y}, {start} – {end}"


def sign_up(page: Page, name):
    page.goto("/signup")
    email = new_email(name)
    page.get_by_label("Your name", exact=True).fill(name)
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Time zone", exact=True).select_option(ZONE_NAME)
    page.get_by_role("button", name="Create account", exact=True).click()
    finish_sign_up(page, email)
    expect(page).to_have_url(re.compile(r"/caregiver$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {name.split()[0]}")


def add_person(page: Page, first, last, born=None):
    """On the "add a person" form: their details; lands on their care card's form."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Add the person you care for")
    page.get_by_label("First name", exact=True).fill(first)
    page.get_by_label("Last name", exact=True).fill(last)
    if born:
        page.get_by_label("Date of birth (optional)", exact=True).fill(born)
    page.get_by_role("button", name="Add this person", exact=True).click()
    expect(page).to_have_url(re.compile(r"/people/\d+/card/edit$"))
    expect(page.locator(".flashes")).to_contain_text(f"{first} {last} is added. Next, their care card")


def fill_row(page: Page, group, **values):
    row = page.get_by_role("group", name=group, exact=True)
    for label, value in values.items():
        row.get_by_label(label, exact=True).fill(value)


def mark_document(page: Page):
    """Mark this document, to tell later that no reload happened."""
    page.evaluate("() => { window.respiteUnreloaded = true; }")


def unreloaded(page: Page):
    return page.evaluate("() => window.respiteUnreloaded === true")


def session_id(page: Page):
    return int(re.search(r"/sessions/(\d+)$", page.url).group(1))


# --- Journey 6: a weekly series on a phone, the coordinator watching ---------------------

CARD = {
    "needs": "Parkinson's; needs a hand getting up from a chair.",
    "allergy": "Peanuts (carries an EpiPen).",
    "medicine": ("Levodopa", "100 mg", "8 am, 2 pm, 8 pm"),
    "contact": ("Ingrid Lindqvist", "Daughter-in-law", "555-0199"),
    "pick_up": ("Erik Lindqvist", "Son", "555-0198"),
}


def fill_care_card(page: Page):
    expect(page.get_by_role("heading", level=1)).to_have_text("Nora's care card")
    page.get_by_label("Needs", exact=True).fill(CARD["needs"])
    page.get_by_label("Allergies", exact=True).fill(CARD["allergy"])
    name, dose, times = CARD["medicine"]
    fill_row(page, "Medicine 1", Medicine=name, Dose=dose, When=times)
    name, relationship, phone = CARD["contact"]
    fill_row(page, "Contact 1", Name=name, Relationship=relationship, Phone=phone)
    name, relationship, phone = CARD["pick_up"]
    fill_row(page, "Person 1", Name=name, Relationship=relationship, Phone=phone)
    visit(page, "series-card-filled")
    page.get_by_role("button", name="Save the care card", exact=True).click()


def expect_care_card(page: Page):
    expect(page.locator(".flashes")).to_contain_text("Version 1 of Nora's care card is saved.")
    card = page.get_by_role("region", name="Care card", exact=True)
    expect(card).to_contain_text("Version 1, saved")
    expect(card.get_by_role("note")).to_contain_text(CARD["allergy"])
    medicine = (
        card.get_by_role("region", name="Medications", exact=True)
        .get_by_role("row")
        .filter(has_text=CARD["medicine"][0])
    )
    expect(medicine).to_contain_text(CARD["medicine"][1])
    expect(medicine).to_contain_text(CARD["medicine"][2])
    expect(card.get_by_role("region", name="Emergency contacts", exact=True)).to_contain_text(CARD["contact"][0])
    expect(card.get_by_role("link", name=f"Call {CARD['contact'][2]}")).to_have_attribute("href", "tel:5550199")
    expect(card.get_by_role("region", name="Allowed to drop off and pick up")).to_contain_text(CARD["pick_up"][0])
    expect(card.get_by_role("region", name="Looking after Nora")).to_contain_text(CARD["needs"])


def test_a_new_caregiver_requests_a_weekly_series_and_cancels_one_as_the_coordinator_watches(page_for):
    token = uuid.uuid4().hex[:8]  # in the notes: this run's requests, wherever they show
    notes = f"Nora enjoys the garden room; tea at 3. ({token})"
    reason = f"Nora has a hospital check-up that day ({token})"
    first_day = weekday_ahead(4)
    days = [first_day + timedelta(weeks=week) for week in range(3)]

    # The coordinator has the program overview open on a desktop.
    coordinator = page_for("coordinator")
    expect(coordinator.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)
    queue = coordinator.locator("#coordinator-queue")
    waiting = queue.locator(".stat", has_text="Waiting for a provider").locator(".stat-value")
    waiting_before = int(waiting.inner_text())
    ours = queue.get_by_role("row").filter(has_text=token)
    expect(ours).to_have_count(0)
    mark_document(coordinator)

    # A new caregiver signs up on a phone; the dashboard's first step is to add the person they care for.
    page = page_for("caregiver", "phone", sign_in=False)
    sign_up(page, "Astrid Lindqvist")
    first_step = page.locator(".empty-state", has_text="First step")
    expect(first_step).to_be_visible()
    first_step.get_by_role("link", name="Add the person you care for").click()
    visit(page, "series-add-person")
    add_person(page, "Nora", "Lindqvist", born="1938-05-14")
    fill_care_card(page)
    expect(page).to_have_url(re.compile(r"/people/\d+$"))
    expect_care_card(page)
    visit(page, "series-person")

    # Back home, the next step: request the first session.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    expect(page.locator(".people-links")).to_contain_text("Nora Lindqvist · care card version 1")
    next_step = page.locator(".next-step")
    expect(next_step).to_contain_text("Next step")
    visit(page, "series-dashboard-next-step")
    next_step.get_by_role("link", name="Request your first session").click()
    expect(page).to_have_url(re.compile(r"/sessions/new$"))

    # The form: Nora is already chosen (the only person); the hours summary starts with what is left.
    summary = page.locator("#request-summary")
    expect(summary).to_contain_text(f"You have {DEFAULT_ALLOTMENT_HOURS} h of respite left this year.")
    expect(page.get_by_label("Who is it for?")).to_have_value(re.compile(r"\d+"))
    visit(page, "series-request")
    mark_document(page)
    page.get_by_label("Date", exact=True).fill(first_day.isoformat())
    page.get_by_label("Start time", exact=True).fill("10:00")
    page.get_by_label("How long", exact=True).select_option(label="3 h")
    page.get_by_label("Repeat", exact=True).select_option(label="Every week, 3 times")
    expect(page.get_by_label("At a respite center")).to_be_checked()
    page.get_by_label("Center", exact=True).select_option(label=CENTER)
    page.get_by_label("Notes for the provider", exact=True).fill(notes)

    # The inline check answered on this very page: what the series uses, each date, and the hours after it.
    expect(summary).to_contain_text("This request uses 9 h (3 sessions of 3 h).")
    dates = summary.locator(".request-dates li")
    expect(dates).to_have_text([when(day, "10:00", "13:00") for day in days])
    if days[-1].year == datetime.now(ZONE).year:
        left = DEFAULT_ALLOTMENT_HOURS - 9
        expect(summary).to_contain_text(f"Hours left this year after it: {left} h (now {DEFAULT_ALLOTMENT_HOURS} h)")
    expect(page.locator(".field-error")).to_have_count(0)
    assert unreloaded(page), "the hours preview came with a reload, not the inline check"
    visit(page, "series-request-filled")

    page.get_by_role("button", name="Send request", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions$"))
    expect(page.locator(".flashes")).to_contain_text(
        f"Your weekly request is sent: 3 sessions, the first {when(first_day, '10:00', '13:00')}."
    )
    coming = (
        page.get_by_role("region", name="Coming sessions", exact=True)
        .get_by_role("row")
        .filter(has_text="Nora Lindqvist")
    )
    expect(coming).to_have_count(3)
    for row, day in zip(coming.all(), days):
        expect(row).to_contain_text(when(day, "10:00", "13:00"))
        expect(row).to_contain_text("Requested")
        expect(row).to_contain_text(CENTER)
    expect(page.locator("#sessions-live .stat-value")).to_have_text(f"{DEFAULT_ALLOTMENT_HOURS - 9} h")
    visit(page, "series-sessions")

    # The coordinator's queue shows the three requests, and the count went up, without a reload.
    expect(queue).to_contain_text(notes, timeout=LIVE_TIMEOUT_MS)
    expect(ours).to_have_count(3, timeout=LIVE_TIMEOUT_MS)
    expect(waiting).to_have_text(str(waiting_before + 3), timeout=LIVE_TIMEOUT_MS)
    for day in days:
        expect(queue).to_contain_text(when(day, "10:00", "13:00"))
    assert unreloaded(coordinator), "the coordinator's page reloaded"

    # The dashboard: the series under "Coming up", the first steps done.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    upcoming = page.locator("#upcoming li", has_text="Nora Lindqvist")
    expect(upcoming).to_have_count(3)
    expect(upcoming.first).to_contain_text(when(first_day, "10:00", "13:00"))
    expect(page.locator(".next-step")).to_have_count(0)
    expect(page.locator("#caregiver-live .stat-value")).to_have_text(f"{DEFAULT_ALLOTMENT_HOURS - 9} h")
    visit(page, "series-dashboard-series")

    # The second occurrence's own page, from the sessions page.
    page.get_by_role("link", name="All sessions, with past and cancelled ones").click()
    cancelled_when = when(days[1], "10:00", "13:00")
    page.get_by_role("region", name="Coming sessions", exact=True).get_by_role("link", name=cancelled_when).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    cancelled_id = session_id(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Respite for Nora Lindqvist")
    details = page.locator("#session-live .details")
    expect(details).to_contain_text(cancelled_when)
    expect(details).to_contain_text(notes)
    timeline = page.locator(".timeline li")
    expect(timeline).to_have_count(1)
    expect(timeline.first).to_contain_text("Requested by you")
    visit(page, "series-session")

    # Cancel this one occurrence, with a reason.
    cancel = page.locator(f"#cancel-session-{cancelled_id}")
    cancel.get_by_text("Cancel this session…").click()
    cancel.get_by_label("Reason (optional, shared with the provider)").fill(reason)
    visit(page, "series-session-cancel-confirm")
    cancel.get_by_role("button", name="Yes, cancel it").click()
    expect(page).to_have_url(re.compile(rf"/sessions/{cancelled_id}$"))
    expect(page.locator(".flashes")).to_contain_text("The session is cancelled.")
    expect(details).to_contain_text("Cancelled")
    expect(details).to_contain_text(f"Reason: {reason}")
    expect(timeline).to_have_count(2)
    expect(timeline.last).to_contain_text("Cancelled by you")
    expect(timeline.last).to_contain_text(f"Reason: {reason}")
    expect(page.locator(f"#cancel-session-{cancelled_id}")).to_have_count(0)
    visit(page, "series-session-cancelled")

    # The coordinator's queue drops that one, and the count follows, still without a reload.
    expect(ours).to_have_count(2, timeout=LIVE_TIMEOUT_MS)
    expect(queue).not_to_contain_text(cancelled_when, timeout=LIVE_TIMEOUT_MS)
    expect(queue.locator(f'a[href="/sessions/{cancelled_id}"]')).to_have_count(0)
    expect(waiting).to_have_text(str(waiting_before + 2), timeout=LIVE_TIMEOUT_MS)
    assert unreloaded(coordinator), "the coordinator's page reloaded"
    visit(coordinator, "dashboard-series-one-cancelled")

    # The family's sessions page: two coming, the cancelled one in the history with its reason; 6 h used.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sessions").click()
    expect(coming).to_have_count(2)
    expect(page.get_by_role("region", name="Coming sessions", exact=True)).not_to_contain_text(cancelled_when)
    past = page.get_by_role("region", name="Past and cancelled sessions").get_by_role("row").filter(has_text=reason)
    expect(past).to_contain_text(cancelled_when)
    expect(past).to_contain_text("Cancelled")
    expect(page.locator("#sessions-live .stat-value")).to_have_text(f"{DEFAULT_ALLOTMENT_HOURS - 6} h")
    visit(page, "series-sessions-one-cancelled")


# --- Journey 7: the same request as plain form posts, without JavaScript -----------------


def test_a_request_works_as_plain_form_posts_without_javascript(page_for):
    page = page_for("caregiver", "phone", sign_in=False, javascript=False)
    # A refused post is answered 422 (with the form and its messages); the browser logs that status.
    allow_console_errors(
        page,
        r"status of 422 \(UNPROCESSABLE ENTITY\) \(at [^ ]*/sessions/new\)$",
        why="a request with a field missing is answered 422",
    )
    day = weekday_ahead(2)
    notes = f"Ben naps after lunch. ({uuid.uuid4().hex[:8]})"

    sign_up(page, "Carlos Mendes")
    page.get_by_role("link", name="Add the person you care for").click()
    add_person(page, "Ben", "Mendes")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Home").click()
    page.get_by_role("link", name="Request your first session").click()
    expect(page).to_have_url(re.compile(r"/sessions/new$"))
    # Without JavaScript the form offers a button that checks the dates and hours with a plain post.
    check = page.get_by_role("button", name="Check dates and hours", exact=True)
    expect(check).to_be_visible()
    # No stream without JavaScript, so no "Connecting…" that never connects either.
    expect(page.locator(".live-status")).to_be_hidden()
    visit(page, "request-nojs")

    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label("Start time", exact=True).fill("13:30")
    page.get_by_label("How long", exact=True).select_option(label="2 h 30 min")
    page.get_by_label("Notes for the provider", exact=True).fill(notes)
    check.click()
    summary = page.locator("#request-summary")
    expect(summary).to_contain_text("This request uses 2 h 30 min.")
    expect(summary).to_contain_text("Hours left this year after it: 97 h 30 min")
    # The check says what is still missing, beside its field; nothing is sent yet.
    expect(page.locator("#center_id-feedback")).to_have_text("Choose a center.")
    expect(page).to_have_url(re.compile(r"/sessions/new$"))

    # Send it with the center still missing: the page comes back with the message in place, the rest kept.
    page.get_by_role("button", name="Send request", exact=True).click()
    expect(page.locator(".form-errors")).to_contain_text("Please correct the field marked below.")
    center = page.get_by_label("Center", exact=True)
    expect(center).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#center_id-feedback")).to_have_text("Choose a center.")
    expect(page.get_by_label("Date", exact=True)).to_have_value(day.isoformat())
    expect(page.get_by_label("Start time", exact=True)).to_have_value("13:30")
    expect(page.get_by_label("Notes for the provider", exact=True)).to_have_value(notes)
    visit(page, "request-missing-center-nojs")

    center.select_option(label=CENTER)
    page.get_by_role("button", name="Send request", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    expected = when(day, "13:30", "16:00")
    expect(page.locator(".flashes")).to_contain_text(f"Your request for {expected} is sent.")
    details = page.locator("#session-live .details")
    expect(details).to_contain_text("Requested")
    expect(details).to_contain_text(expected)
    expect(details).to_contain_text(CENTER)
    expect(details).to_contain_text(notes)
    expect(page.locator(".timeline li")).to_have_text([re.compile(r"^\s*Requested by you")])
    visit(page, "session-nojs")


# --- Journey 8: the request form by keyboard alone ----------------------------------------

# What the focused element shows: an outline (app.css gives :focus-visible a 3px one) or a ring.
FOCUS_STATE = """async () => {
    await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        id: el.id,
        tag: el.tagName.toLowerCase(),
        text: (el.innerText || el.value || "").trim().slice(0, 40),
        // A date or time field's picker button has focus inside the field: the field shows it.
        focusVisible: el.matches(":focus-visible") || el.matches(":focus-within:not(:focus)"),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth) || 0,
        boxShadow: style.boxShadow,
        onScreen: box.width > 0 && box.height > 0 && box.top >= 0 && box.left >= 0
            && box.bottom <= innerHeight && box.right <= innerWidth,
    };
}"""


def focused(page: Page):
    """The focused element's state, failing unless a person can see where focus is."""
    state = page.evaluate(FOCUS_STATE)
    outlined = state["outlineStyle"] != "none" and state["outlineWidth"] >= 2
    ringed = state["boxShadow"] != "none"
    assert state["focusVisible"], f"focus is not shown as from the keyboard: {state}"
    assert outlined or ringed, f"no visible focus indicator on {state}"
    assert state["onScreen"], f"the focused element is off screen: {state}"
    return state


class Keyboard:
    """Keys pressed on a page; after each one the focus must show. Remembers where Tab stopped."""

    def __init__(self, page: Page):
        self.page = page
        self.stops = []

    def press(self, key):
        self.page.keyboard.press(key)
        state = focused(self.page)
        if key == "Tab":
            self.stops.append(state["id"] or state["text"])
        return state

    def tab_to(self, element_id, most=40):
        """Tab until the element with that id has focus (a date or time field takes a Tab per part)."""
        for _ in range(most):
            if self.press("Tab")["id"] == element_id:
                return
        raise AssertionError(f"#{element_id} not reached in {most} presses of Tab: {self.stops}")

    def stops_since(self, element_id):
        """Where Tab stopped from that element on, each element once."""
        stops = self.stops[self.stops.index(element_id) :]
        return [stop for at, stop in enumerate(stops) if at == 0 or stops[at - 1] != stop]


def test_the_request_form_works_by_keyboard_alone_with_visible_focus(page_for):
    page = page_for("caregiver", "desktop", sign_in=False)
    sign_up(page, "Mina Haddad")
    page.get_by_role("link", name="Add the person you care for").click()
    add_person(page, "Omar", "Haddad")
    day = weekday_ahead(3)
    notes = f"Omar likes chess. ({uuid.uuid4().hex[:8]})"
    address = "27 Elm Row, Springfield"

    page.goto("/sessions/new")
    expect(page.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)
    summary = page.locator("#request-summary")
    keys = Keyboard(page)
    # From the top of the page: skip link, the header, the way back, then the first field.
    keys.tab_to("recipient_id")
    assert keys.stops[0] == "Skip to content", keys.stops
    expect(page.get_by_label("Who is it for?")).to_have_value(re.compile(r"\d+"))  # the only person

    # The date and time fields take what is typed, a part at a time (month, day, year; hour, minute, AM/PM).
    keys.tab_to("day")
    page.keyboard.type(day.strftime("%m%d%Y"))
    expect(page.locator("#day")).to_have_value(day.isoformat())
    keys.tab_to("start")
    page.keyboard.type("0930AM")
    expect(page.locator("#start")).to_have_value("09:30")
    focused(page)

    # Lists move with the arrow keys: 3 h is chosen at first; one down is 3 h 30 min.
    keys.tab_to("minutes")
    keys.press("ArrowDown")
    expect(page.locator("#minutes")).to_have_value("210")
    keys.tab_to("weeks")
    keys.press("ArrowDown")
    expect(page.locator("#weeks")).to_have_value("2")

    # The place: Tab reaches the chosen option, the arrow keys move to the other; the address field follows.
    keys.tab_to("location_kind-0")
    keys.press("ArrowDown")
    expect(page.get_by_label("At home")).to_be_checked()
    expect(page.get_by_label("Center", exact=True)).to_be_hidden()
    keys.tab_to("address")
    page.keyboard.type(address)
    keys.tab_to("notes")
    page.keyboard.type(notes)
    state = keys.press("Tab")
    assert (state["tag"], state["text"]) == ("button", "Send request"), state
    # Every field in order, one after the other, nothing hidden or stray in between.
    fields = ["recipient_id", "day", "start", "minutes", "weeks", "location_kind-0", "address", "notes"]
    assert keys.stops_since("recipient_id") == [*fields, "Send request"], keys.stops

    # The summary followed along: two sessions of 3 h 30 min.
    expect(summary).to_contain_text("This request uses 7 h (2 sessions of 3 h 30 min).")
    expect(page.locator(".field-error")).to_have_count(0)
    expect(page.locator(":focus")).to_have_text("Send request")
    visit(page, "request-keyboard")

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sessions$"))
    expect(page.locator(".flashes")).to_contain_text(
        f"Your weekly request is sent: 2 sessions, the first {when(day, '09:30', '13:00')}."
    )
    coming = (
        page.get_by_role("region", name="Coming sessions", exact=True).get_by_role("row").filter(has_text="Omar Haddad")
    )
    expect(coming).to_have_count(2)
    expect(coming.first).to_contain_text("At home")
    page.get_by_role("region", name="Coming sessions", exact=True).get_by_role(
        "link", name=when(day, "09:30", "13:00")
    ).click()
    details = page.locator("#session-live .details")
    expect(details).to_contain_text(address)
    expect(details).to_contain_text(notes)
