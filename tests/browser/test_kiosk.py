"""Journeys at the front desk, on a landscape tablet: a coordinator pairs the tablet from the Kiosks page; a
family checks Samir in and out with the code on their phone while the board, their phone and the provider's
page follow live; a pick-up by someone not on the list needs the staff PIN and tells the family at once; a
wrong code locks after the limit; a tablet left alone past the old sign-in lifetime keeps a live board (and
goes back to its board after half a minute without a touch); an unpaired tablet says so and shows the pairing
screen again; a tablet whose stream fails says so on the whole screen and recovers by itself.

The demo's Maple House has Huda (gone home this morning), Lily (here all day) and Samir (expected now, with
Marcus); Nadia Haddad (caregiver3) is Huda's and Samir's family. Each journey pairs a tablet of its own.
"""

import json
import re
import time

import redis
from flask_sse import Message
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from respite.config import normalise_database_url
from respite.demo import DEMO_PASSWORD, DEMO_STAFF_PIN

from ..servers import RedisServer
from .pages import LIVE_TIMEOUT_MS, allow_console_errors, sign_in, visit

CENTER = "Maple House Respite Center"
NADIA = "caregiver3@demo.respite.test"
MARCUS = "provider@demo.respite.test"
# What a browser says when a stream or a check meets a tablet that is no longer paired (on purpose, below).
UNPAIRED_CONSOLE = r"401 \(UNAUTHORIZED\)|EventSource's response has a MIME type|\[object Event\]"


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def board(page: Page):
    return page.locator("#kiosk-board")


def column(page: Page, name):
    return page.locator(".kiosk-column").filter(has=page.get_by_role("heading", name=re.compile(f"^{name}")))


def pair_tablet(page_for, server=None, *, size="tablet", name="Front desk"):
    """A coordinator makes a pairing code on the Kiosks page; a fresh tablet types it. Both pages, paired."""
    desk = page_for("coordinator", server=server)
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Kiosks", exact=True).click()
    expect(heading(desk)).to_have_text("Kiosks")
    desk.get_by_label("Center", exact=True).first.select_option(label=CENTER)
    desk.get_by_label("Name of the tablet", exact=True).fill(name)
    desk.get_by_role("button", name="Make a pairing code").click()
    code = desk.locator("#pairing-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code), code

    tablet = page_for("kiosk", size, server=server)
    tablet.goto("/kiosk")
    expect(heading(tablet)).to_have_text("Pair this tablet with a center")
    tablet.get_by_label("Pairing code", exact=True).fill(code.lower())
    tablet.get_by_role("button", name="Pair this tablet").click()
    expect(heading(tablet)).to_have_text(f"Today at {CENTER}")
    expect(tablet.locator(".flashes")).to_contain_text(f"This tablet is paired with {CENTER} as “{name}”.")
    live(tablet)
    return desk, tablet


def live(page: Page):
    expect(page.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)


def open_session(page: Page, person):
    """From the Sessions page, the coming session of `person`."""
    page.goto("/sessions")
    page.get_by_role("row").filter(has_text=person).get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))
    live(page)


def status_of(page: Page):
    return page.locator("#session-live .details").first


def assert_touch_targets(page: Page, selector):
    """Every control a finger uses on the tablet is at least 48 px high."""
    heights = page.locator(selector).evaluate_all("(els) => els.map((el) => el.getBoundingClientRect().height)")
    assert heights, selector
    assert min(heights) >= 48, (selector, heights)


def type_code(tablet: Page, person, code):
    """Tap the person on the board, type the code, and go on."""
    board(tablet).get_by_role("link", name=re.compile(person)).click()
    tablet.get_by_label("Six-digit code", exact=True).fill(code)
    tablet.get_by_role("button", name="Continue").click()


def publish_to_center(server, event_type, data):
    """An event on the center's channel, as the app publishes one after a check-in elsewhere."""
    env = server.env
    engine = create_engine(normalise_database_url(env["DATABASE_URL"]))
    try:
        with engine.connect() as conn:
            center_id = conn.execute(text("SELECT id FROM center WHERE name = :n"), {"n": CENTER}).scalar_one()
    finally:
        engine.dispose()
    client = redis.Redis.from_url(env["REDIS_URL"], socket_connect_timeout=2)
    try:
        channel = f"{env['SSE_CHANNEL_PREFIX']}.center.{center_id}"
        return client.publish(channel, json.dumps(Message(data, type=event_type).to_dict()))
    finally:
        client.close()


# --- Pairing a tablet, and unpairing it ----------------------------------------------------------------


def test_a_coordinator_pairs_a_tablet_and_unpairs_it(page_for):
    unpaired = page_for("kiosk")
    unpaired.goto("/kiosk")
    expect(heading(unpaired)).to_have_text("Pair this tablet with a center")
    expect(unpaired.get_by_role("button", name="Sign out")).to_have_count(0)
    visit(unpaired, "pair")
    allow_console_errors(unpaired, r"status of 422 .*/kiosk/pair\)$", why="a pairing code that doesn't work")
    unpaired.get_by_label("Pairing code", exact=True).fill("ABCD-EFGH")
    unpaired.get_by_role("button", name="Pair this tablet").click()
    expect(unpaired.locator("#code-error")).to_contain_text("That pairing code doesn't work")
    visit(unpaired, "pair-refused")

    desk, tablet = pair_tablet(page_for, name="Front desk (pairing journey)")
    for column_name in ("Expected", "Here", "Gone home"):
        expect(column(tablet, column_name)).to_be_visible()
    expect(board(tablet)).to_contain_text("Samir H.")  # expected, or gone home after the arrivals journey
    expect(column(tablet, "Here")).to_contain_text("Lily C.")
    expect(column(tablet, "Gone home")).to_contain_text("Huda H.")
    expect(tablet.locator("body")).not_to_contain_text("Haddad")
    expect(tablet.get_by_role("button", name="Sign out")).to_have_count(0)
    expect(tablet.locator(".site-user")).to_have_count(0)
    expect(tablet.locator("[data-kiosk-clock]")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    assert_touch_targets(tablet, ".kiosk-person")
    tablet.reload()  # the board as it stands all day, without the pairing's message
    live(tablet)
    visit(tablet, "board")

    # The coordinator's list shows the tablet (live, as it paired); unpairing it takes it back to pairing.
    row = desk.get_by_role("row").filter(has_text="Front desk (pairing journey)")
    expect(row).to_contain_text(CENTER)
    expect(row.get_by_role("button", name=re.compile("^Unpair"))).to_be_visible()
    visit(desk, "kiosks")
    allow_console_errors(tablet, UNPAIRED_CONSOLE, why="the coordinator unpairs the tablet: its stream is refused")
    row.get_by_role("button", name=re.compile("^Unpair")).click()
    expect(desk.locator(".flashes")).to_contain_text("is unpaired: it shows the pairing screen now.")

    overlay = tablet.locator("[data-kiosk-overlay]")
    expect(overlay).to_contain_text("This tablet is no longer paired", timeout=LIVE_TIMEOUT_MS)
    visit(tablet, "unpaired", settle_live=False)
    expect(heading(tablet)).to_have_text("Pair this tablet with a center", timeout=LIVE_TIMEOUT_MS)
    expect(tablet.locator("body")).not_to_contain_text("Lily")


# --- Checking a family in and out -------------------------------------------------------------------------


def test_a_family_checks_in_and_out_with_the_code_while_everyone_follows_live(page_for, live_server):
    _, tablet = pair_tablet(page_for, name="Front desk (arrivals journey)")
    family = page_for("caregiver", "phone", sign_in=False)
    sign_in(family, live_server.base_url, NADIA, DEMO_PASSWORD)
    open_session(family, "Samir Haddad")
    code = family.locator(".kiosk-family-code strong").inner_text().replace(" ", "")
    assert re.fullmatch(r"\d{6}", code), code
    expect(status_of(family)).to_contain_text("Confirmed")
    visit(family, "session-kiosk-code")
    session_path = family.url.split(live_server.base_url, 1)[1]
    marcus = page_for("provider", sign_in=False)
    sign_in(marcus, live_server.base_url, MARCUS, DEMO_PASSWORD)
    marcus.goto(session_path)
    live(marcus)

    # Drop-off: Samir's name, the code, and who brought him, from his care card's list.
    board(tablet).get_by_role("link", name=re.compile("Samir H.")).click()
    expect(heading(tablet)).to_have_text("Check in Samir H.")
    assert_touch_targets(tablet, ".kiosk-form input:not([type=hidden]), .kiosk-button")
    visit(tablet, "code")
    tablet.get_by_label("Six-digit code", exact=True).fill(code)
    tablet.get_by_role("button", name="Continue").click()
    expect(heading(tablet)).to_have_text("Who is bringing Samir H.?")
    assert_touch_targets(tablet, ".kiosk-choice label, .kiosk-form input:not([type=radio]):not([type=hidden])")
    visit(tablet, "handover")
    tablet.get_by_label("Nadia Haddad (Daughter)").check()
    tablet.get_by_role("button", name="Check in").click()
    expect(tablet.locator(".flashes")).to_contain_text("Samir H. is checked in. Thank you!")
    expect(column(tablet, "Here")).to_contain_text("Samir H.")
    expect(column(tablet, "Expected")).not_to_contain_text("Samir H.")

    # The family's phone and Marcus's page show it without a reload.
    expect(status_of(family)).to_contain_text("Checked in", timeout=LIVE_TIMEOUT_MS)
    expect(status_of(marcus)).to_contain_text("Checked in", timeout=LIVE_TIMEOUT_MS)
    visit(family, "session-checked-in-at-kiosk")

    # Pick-up by a neighbour who is not on the list: the staff PIN, a wrong one first.
    type_code(tablet, "Samir H.", code)
    expect(heading(tablet)).to_have_text("Who is collecting Samir H.?")
    tablet.get_by_label("Someone else").check()
    tablet.get_by_label("Their full name", exact=True).fill("Omar Khalil")
    tablet.get_by_label("Who they are to the family", exact=True).fill("Neighbour")
    allow_console_errors(tablet, r"status of 422 .*/kiosk/sessions/\d+/handover\)$", why="a wrong staff PIN")
    tablet.get_by_label("Staff PIN", exact=True).fill("0000")
    tablet.get_by_role("button", name="Check out").click()
    expect(tablet.locator("#pin-error")).to_contain_text("That PIN isn't right.")
    expect(tablet.get_by_label("Their full name", exact=True)).to_have_value("Omar Khalil")
    visit(tablet, "handover-wrong-pin")
    tablet.get_by_label("Someone else").check()
    tablet.get_by_label("Staff PIN", exact=True).fill(DEMO_STAFF_PIN)
    tablet.get_by_role("button", name="Check out").click()
    expect(tablet.locator(".flashes")).to_contain_text("Samir H. is checked out. Thank you!")
    expect(column(tablet, "Gone home")).to_contain_text("Samir H.")
    visit(tablet, "board-after")

    # The family hears at once: the session is completed, and a notice says who collected Samir.
    expect(status_of(family)).to_contain_text("Completed", timeout=LIVE_TIMEOUT_MS)
    expect(status_of(marcus)).to_contain_text("Completed", timeout=LIVE_TIMEOUT_MS)
    expect(family.locator("#nav-badge-notices")).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    family.goto("/notices")
    expect(family.locator("main")).to_contain_text("Samir was collected from Maple House Respite Center by Omar Khalil")
    expect(family.locator("main")).to_contain_text("not on the list")
    visit(family, "notices-handover")


def test_a_wrong_code_locks_after_the_limit(page_for):
    _, tablet = pair_tablet(page_for, name="Front desk (wrong codes journey)")
    allow_console_errors(tablet, r"status of 42[29] .*/kiosk/sessions/\d+\)$", why="wrong codes, then the lock")
    for attempt in range(5):
        type_code(tablet, "Lily C.", "000000")
        expect(tablet.locator("#code-error")).to_contain_text("That code doesn't match.")
        expect(tablet.get_by_label("Six-digit code", exact=True)).to_have_value("")
        if attempt == 0:
            visit(tablet, "code-wrong")
        tablet.get_by_role("link", name="Back to the board").click()
    type_code(tablet, "Lily C.", "000000")
    expect(heading(tablet)).to_have_text("Too many wrong tries")
    expect(tablet.locator("main")).to_contain_text("locked for about 15 minutes")
    visit(tablet, "locked")
    tablet.get_by_role("link", name="Back to the board").click()
    expect(column(tablet, "Here")).to_contain_text("Lily C.")


# --- A tablet left alone --------------------------------------------------------------------------------


def test_a_tablet_left_alone_past_the_sign_in_lifetime_keeps_a_live_board(page_for, start_server):
    # Sign-ins last a minute here, and streams end every 20 seconds (the tablet reconnects by itself).
    short = start_server("short sign-ins", SESSION_TIMEOUT_MINUTES="1", SSE_STREAM_MAX_SECONDS="20")
    desk, tablet = pair_tablet(page_for, server=short, size="tablet-small", name="Front desk (left alone)")
    desk.close()  # the coordinator's own sign-in ends after its minute here: that page is done
    allow_console_errors(tablet, r"\[object Event\]", why="htmx logs each end of the stream, every 20 seconds here")
    visit(tablet, "board")

    # Half a minute without a touch on a step: back to the board, nothing typed kept.
    board(tablet).get_by_role("link", name=re.compile("Lily C.")).click()
    tablet.get_by_label("Six-digit code", exact=True).fill("12")
    expect(heading(tablet)).to_have_text(f"Today at {CENTER}", timeout=40_000)
    tablet.go_back()
    expect(tablet.get_by_label("Six-digit code", exact=True)).to_have_value("")
    tablet.goto("/kiosk")
    live(tablet)
    tablet.evaluate("() => { window.respiteUnreloaded = true; }")

    # Past the sign-in lifetime of this server (a minute): the board is still live and still the tablet's.
    time.sleep(65)
    seen = int(tablet.locator(".live-status").get_attribute("data-event-count") or 0)
    tablet.evaluate("() => document.getElementById('kiosk-board').setAttribute('data-stale', '1')")
    assert publish_to_center(short, "session", {"session_id": 0}) >= 1
    tablet.wait_for_function(
        "(seen) => Number(document.querySelector('.live-status').dataset.eventCount || 0) > seen",
        arg=seen,
        timeout=LIVE_TIMEOUT_MS,
    )
    expect(board(tablet)).not_to_have_attribute("data-stale", "1", timeout=LIVE_TIMEOUT_MS)
    expect(tablet.locator("[data-kiosk-overlay]")).to_be_hidden()
    expect(tablet.locator(".live-status")).to_have_attribute("data-state", "open")
    assert tablet.evaluate("() => window.respiteUnreloaded === true"), "the board reloaded"
    # Its forms still work: a tap opens the code step, and what it sends gets past the CSRF check (no sign-in
    # to expire) to the form's own answer; Lily's codes may be locked by the wrong-codes journey meanwhile.
    allow_console_errors(tablet, r"status of 42[29] .*/kiosk/sessions/\d+\)$", why="an empty code, or the lock")
    posted = re.compile(r"/kiosk/sessions/\d+$")
    with tablet.expect_response(lambda r: r.request.method == "POST" and posted.search(r.url)) as answered:
        type_code(tablet, "Lily C.", "")
    assert answered.value.status in (422, 429), answered.value.status
    expect(heading(tablet)).to_have_text(re.compile(r"^(Check out Lily C\.|Too many wrong tries)$"))
    tablet.close()  # before this test's server stops


def test_a_tablet_whose_stream_fails_says_so_on_the_whole_screen_and_recovers_by_itself(
    page_for, start_server, tmp_path
):
    # The session's Redis may be shared (TEST_REDIS_URL): this journey stops one of its own.
    redis_server = RedisServer(tmp_path).start()
    try:
        server = start_server("kiosk server with its own Redis", REDIS_URL=redis_server.url)
        desk, tablet = pair_tablet(page_for, server=server, name="Front desk (outage journey)")
        desk.close()
        stopped = "Redis is stopped on purpose"
        allow_console_errors(tablet, r"\[object Event\]", why=stopped)
        allow_console_errors(tablet, r"status of 503 \(SERVICE UNAVAILABLE\) \(at [^ ]*/kiosk/events\)$", why=stopped)
        overlay = tablet.locator("[data-kiosk-overlay]")
        expect(overlay).to_be_hidden()

        # Redis goes away: the stream can't carry the board's changes, and the whole screen says so.
        redis_server.stop()
        expect(overlay).to_be_visible(timeout=30_000)
        expect(overlay).to_contain_text("This screen is not up to date")
        expect(overlay).to_contain_text("Reconnecting…")
        visit(tablet, "reconnecting", settle_live=False)

        # Redis comes back: the tablet recovers by itself, with a fresh board.
        redis_server.start()
        expect(overlay).to_be_hidden(timeout=30_000)
        live(tablet)
        expect(column(tablet, "Here")).to_contain_text("Lily C.")
        tablet.close()  # before this test's server stops
    finally:
        redis_server.stop()
