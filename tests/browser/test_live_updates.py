"""Journey 3: a signed-in page keeps a live stream; an event published for its user shows
up without a reload; and the stream comes back by itself after Redis restarts."""

import re

from playwright.sync_api import expect

from respite.demo import DEMO_PASSWORD

from ..servers import RedisServer
from .pages import DEMO_EMAILS, allow_console_errors, sign_in, visit

CAREGIVER = DEMO_EMAILS["caregiver"]
RECONNECT_TIMEOUT_MS = 30_000


def events_seen(page):
    return int(page.locator(".live-status").get_attribute("data-event-count") or 0)


def publish_and_see(page, server, **data):
    """Publish a ping for the caregiver; wait until the page shows it arrived, on the same document."""
    seen = events_seen(page)
    receivers = server.publish_to_user(CAREGIVER, "ping", data)
    assert receivers >= 1, "no stream is subscribed to the caregiver's channel"
    page.wait_for_function(
        "(seen) => Number(document.querySelector('.live-status').dataset.eventCount || 0) > seen", arg=seen
    )
    status = page.locator(".live-status")
    expect(status).to_have_attribute("data-last-event-type", "ping")
    expect(status).to_have_attribute("title", re.compile(r"^Last update \d\d:\d\d:\d\d$"))


def stream_refused(response):
    return response.url.endswith("/events") and response.status == 503


def mark_document(page):
    """Mark this document, to tell later that no reload happened; count re-syncs after reconnects."""
    page.evaluate(
        """() => {
            window.respiteUnreloaded = true;
            window.respiteResyncs = 0;
            document.body.addEventListener("respite:resync", () => { window.respiteResyncs += 1; });
        }"""
    )


def test_published_event_shows_up_without_reload(caregiver_page, live_server):
    page = caregiver_page
    status = page.locator(".live-status")
    expect(status).to_have_attribute("data-state", "open")
    expect(status).to_have_text("Live")
    mark_document(page)

    publish_and_see(page, live_server, note=1)
    publish_and_see(page, live_server, note=2)
    assert page.evaluate("() => window.respiteUnreloaded") is True
    visit(page, "live")


def test_stream_reconnects_after_redis_restarts(start_server, page_for, tmp_path):
    # The session's Redis may be shared (TEST_REDIS_URL): this journey stops one of its own.
    redis_server = RedisServer(tmp_path).start()
    try:
        server = start_server("server with its own Redis", REDIS_URL=redis_server.url)
        page = page_for("caregiver", server=server)
        # While Redis is away the stream fails: htmx logs the EventSource's error event, and the
        # browser logs the server's 503 answers to its retries. Those, and only those, are expected.
        stopped = "Redis is stopped on purpose"
        allow_console_errors(page, r"^console\.error: \[object Event\] \(at [^ ]*/htmx-[\d.]+\.min\.js\)$", why=stopped)
        allow_console_errors(page, r"status of 503 \(SERVICE UNAVAILABLE\) \(at [^ ]*/events\)$", why=stopped)
        status = page.locator(".live-status")
        expect(status).to_have_attribute("data-state", "open")
        mark_document(page)
        publish_and_see(page, server, before="restart")

        # Redis goes away: the stream ends, the page says it is reconnecting, and the
        # server answers the browser's next tries with 503 until Redis is back.
        with page.expect_response(stream_refused, timeout=RECONNECT_TIMEOUT_MS):
            redis_server.stop()
            expect(status).to_have_attribute("data-state", "closed", timeout=RECONNECT_TIMEOUT_MS)
            expect(status).to_have_text("Reconnecting…")
        visit(page, "live-reconnecting", settle_live=False)

        # Redis comes back on the same port: the page reconnects by itself and re-syncs.
        redis_server.start()
        expect(status).to_have_attribute("data-state", "open", timeout=RECONNECT_TIMEOUT_MS)
        page.wait_for_function("() => window.respiteResyncs >= 1")
        publish_and_see(page, server, after="restart")
        assert page.evaluate("() => window.respiteUnreloaded") is True
    finally:
        redis_server.stop()


def test_a_cancellation_reaches_the_coordinators_open_page(page_for, live_server):
    """The whole loop: a caregiver cancels on a phone; the coordinator's open queue updates by itself."""
    coordinator = page_for("coordinator")
    expect(coordinator.locator(".live-status")).to_have_attribute("data-state", "open")
    queue = coordinator.locator("#coordinator-queue")
    expect(queue).to_contain_text("Afternoon with the sensory room")
    mark_document(coordinator)

    family = page_for("caregiver", sign_in=False)
    sign_in(family, live_server.base_url, "caregiver2@demo.respite.test", DEMO_PASSWORD)
    # James has two open requests: this one (13:00 – 17:00) and the one offered to Aisha.
    requested = family.locator("#upcoming li", has_text="Requested").filter(has_text="13:00 – 17:00")
    requested.locator("summary").click()
    requested.get_by_label("Reason").fill("Lily has a fever")
    visit(family, "cancel-confirm")
    requested.get_by_role("button", name="Yes, cancel it").click()
    expect(family.locator(".flash-success")).to_contain_text("The session is cancelled")
    expect(requested).to_have_count(0)

    expect(queue).not_to_contain_text("Afternoon with the sensory room")
    assert coordinator.evaluate("() => window.respiteUnreloaded") is True
    visit(coordinator, "dashboard-after-cancel")
