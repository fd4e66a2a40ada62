"""Messaging journeys: a family writes to their provider from a session's page, with a photo; the provider sees it
arrive, opens it (the photo as a thumbnail, the file downloaded) and replies; each sees the other's answer, and "Seen",
without reloading. And the inbox, a thread and a new message, looked at on a phone and a desktop, with JavaScript and
without.

The family is Rosa (caregiver@, on a phone), writing about Elena's completed session with Marcus
(provider@, at a desk): the demo has no conversation about that one, so the link starts a new one. Each
run's subject carries a word of its own.
"""

import re
import uuid

from playwright.sync_api import Page, expect

from tests.messaging import sample_files

from .pages import LIVE_TIMEOUT_MS, allow_console_errors, visit

MARCUS = "Marcus Bell"
ROSA = "Rosa Martinez"


def token():
    return uuid.uuid4().hex[:8]


def live(page: Page):
    """Until the page's live stream is open: by then htmx has taken over its links and forms."""
    expect(page.locator(".live-status")).to_have_attribute("data-state", "open", timeout=LIVE_TIMEOUT_MS)


def mark_document(page: Page):
    page.evaluate("() => { window.respiteUnreloaded = true; }")


def unreloaded(page: Page):
    return page.evaluate("() => window.respiteUnreloaded === true")


def unread_badge(page: Page) -> int:
    """The navigation's count of unread messages (0 when it is hidden)."""
    text = page.locator("#nav-badge-messages").text_content() or ""
    found = re.search(r"\d+", text)
    return int(found.group()) if found else 0


def message(page: Page, text):
    return page.locator("#thread-live .message").filter(has_text=text)


def open_completed_session(page: Page):
    """From the sessions page's history, Elena's completed session with Marcus."""
    page.goto("/sessions")
    history = page.locator("section").filter(has=page.get_by_role("heading", name="History", exact=True))
    row = history.get_by_role("row").filter(has_text=MARCUS).filter(has_text="Completed").first
    row.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/sessions/\d+$"))


def test_a_family_and_their_provider_talk_and_see_each_other_read_live(page_for):
    word = token()
    subject = f"Last week's visit {word}"
    question = f"Did she take her tablets at lunch? {word}"
    answer = f"Yes, at 12:30 with her soup. {word}"

    family = page_for("caregiver", "phone")
    open_completed_session(family)
    family.get_by_role("link", name="Message the provider").click()
    expect(family).to_have_url(re.compile(r"/inbox/new\?session=\d+$"))
    expect(family.get_by_role("checkbox", name=re.compile(MARCUS))).to_be_checked()
    expect(family.get_by_label("Subject")).to_have_value(re.compile(r"^Respite for Elena"))
    visit(family, "message-about-session")

    marcus = page_for("provider", "desktop")
    marcus.goto("/inbox")
    live(marcus)
    mark_document(marcus)
    unread_before = unread_badge(marcus)

    family.get_by_label("Subject").fill(subject)
    family.get_by_label("Message", exact=True).fill(question)
    # A photo of the lunch-time tablets, as the phone's camera would hand it over.
    family.get_by_label(re.compile(r"^Photos or documents")).set_input_files(
        files=[{"name": "lunch-tablets.jpg", "mimeType": "image/jpeg", "buffer": sample_files.jpeg()}]
    )
    family.get_by_role("button", name="Send", exact=True).click()
    expect(family).to_have_url(re.compile(r"/inbox/\d+#latest$"))
    expect(family.get_by_role("status").filter(has_text="Your message is sent.")).to_be_visible()
    expect(message(family, question)).to_have_class(re.compile(r"message-mine"))
    live(family)
    mark_document(family)
    expect(family.locator(".receipt")).to_have_count(0)

    # Marcus's inbox shows it arrive, with its count and the badge's, without a reload.
    arrived = marcus.locator("#inbox-live .conversation").filter(has_text=subject)
    expect(arrived).to_contain_text(question)
    expect(arrived.locator(".unread-count")).to_contain_text("1")
    expect(marcus.locator("#nav-badge-messages")).to_contain_text(str(unread_before + 1))
    assert unreloaded(marcus)
    visit(marcus, "inbox-new-message")

    # He opens it: it is read, and Rosa's phone says so under her message.
    arrived.get_by_role("link", name=subject).click()
    expect(marcus.get_by_role("heading", level=1)).to_have_text(subject)
    expect(message(marcus, question)).to_contain_text(ROSA)
    # The photo shows as a thumbnail fetched through its signed link, and opens the file itself.
    photo = message(marcus, question).get_by_role("img", name="lunch-tablets.jpg")
    expect(photo).to_be_visible()
    marcus.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    with marcus.expect_download() as download:
        message(marcus, question).get_by_role("link", name=re.compile("lunch-tablets.jpg")).click()
    assert download.value.suggested_filename == "lunch-tablets.jpg"
    expect(marcus.locator("#nav-badge-messages")).to_have_text(
        re.compile(rf"\b{unread_before}\b" if unread_before else "^$")
    )
    expect(message(family, question).locator(".receipt")).to_have_text(re.compile(rf"^Seen \d\d:\d\d by {MARCUS}$"))
    live(marcus)
    mark_document(marcus)
    visit(marcus, "thread")

    # His reply posts in place; her phone shows it, and he sees that she has read it.
    marcus.get_by_label("Your reply").fill(answer)
    marcus.get_by_role("button", name="Send", exact=True).click()
    expect(message(marcus, answer)).to_have_class(re.compile(r"message-mine"))
    expect(marcus.get_by_label("Your reply")).to_have_value("")
    expect(message(family, answer)).to_contain_text(MARCUS)
    expect(message(marcus, answer).locator(".receipt")).to_have_text(re.compile(rf"^Seen \d\d:\d\d by {ROSA}$"))
    assert unreloaded(family)
    assert unreloaded(marcus)
    visit(family, "thread-seen")
    visit(marcus, "thread-replied")


def test_a_reply_without_javascript_is_a_plain_form(page_for):
    word = token()
    family = page_for("caregiver", "phone", javascript=False)
    family.goto("/inbox")
    family.locator(".conversation").first.get_by_role("link").first.click()
    expect(family).to_have_url(re.compile(r"/inbox/\d+#latest$"))
    allow_console_errors(
        family, r"status of 422 \(UNPROCESSABLE ENTITY\) \(at [^ ]*/inbox/\d+\)$", why="a reply with nothing in it"
    )
    family.get_by_role("button", name="Send", exact=True).click()
    expect(family.locator("#body-error")).to_have_text("Write a message first.")
    visit(family, "thread-error-nojs")
    # A long address and a long word wrap inside the bubble on a 360 px phone.
    address = f"https://example.org/care-plans/{'x' * 90}?week={word}"
    family.get_by_label("Your reply").fill(f"Thanks, see you then. {word}\nThe plan: {address}\n{'z' * 70}")
    family.get_by_role("button", name="Send", exact=True).click()
    expect(family).to_have_url(re.compile(r"/inbox/\d+#latest$"))
    sent = message(family, word)
    expect(sent).to_have_class(re.compile(r"message-mine"))
    expect(sent.get_by_role("link", name=address)).to_have_attribute("rel", "noopener noreferrer")
    visit(family, "thread-long-words-nojs")


def test_a_coordinator_finds_a_person_as_they_type(page_for):
    coordinator = page_for("coordinator", "desktop")
    coordinator.goto("/inbox/new")
    live(coordinator)
    coordinator.get_by_role("checkbox", name=re.compile(MARCUS)).check()
    coordinator.get_by_label("Find a person").press_sequentially("rosa")
    choices = coordinator.locator("#recipient-choices")
    expect(choices.get_by_role("checkbox")).to_have_count(2)  # Marcus, ticked before, stays; Rosa matches
    expect(choices.get_by_role("checkbox", name=re.compile(MARCUS))).to_be_checked()
    expect(choices.get_by_role("checkbox", name=re.compile(ROSA))).not_to_be_checked()
    visit(coordinator, "message-find-person")


def test_the_messaging_pages_at_phone_and_desktop_sizes(page_for):
    for size in ("phone", "desktop"):
        for javascript in (True, False):
            suffix = "" if javascript else "-nojs"
            page = page_for("caregiver", size, javascript=javascript)
            page.goto("/inbox")
            expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
            visit(page, f"inbox{suffix}")
            page.goto("/inbox?q=radio")
            expect(page.locator("#inbox-live")).to_contain_text("Tomorrow's visit")
            visit(page, f"inbox-search{suffix}")
            page.locator("#inbox-live .conversation").first.get_by_role("link").first.click()
            expect(page.locator("#thread-live .message").first).to_be_visible()
            visit(page, f"thread{suffix}")
            page.goto("/inbox/new")
            expect(page.get_by_role("heading", level=1)).to_have_text("New message")
            visit(page, f"message-new{suffix}")


def test_a_long_thread_loads_older_messages_as_the_reader_scrolls_up(page_for):
    word = token()
    family = page_for("caregiver", "desktop")
    family.goto("/inbox/new")
    family.get_by_role("checkbox", name=re.compile(MARCUS)).check()
    family.get_by_label("Subject").fill(f"A long one {word}")
    family.get_by_label("Message", exact=True).fill(f"Message 0 {word}")
    family.get_by_role("button", name="Send", exact=True).click()
    expect(family).to_have_url(re.compile(r"/inbox/\d+#latest$"))
    live(family)
    for number in range(1, 35):
        family.get_by_label("Your reply").fill(f"Message {number} {word}")
        family.get_by_role("button", name="Send", exact=True).click()
        expect(message(family, f"Message {number} {word}")).to_have_count(1)

    # Opened again: the newest 30 by the reply form; the first five come as the reader scrolls up to them.
    family.goto("/inbox")
    family.locator("#inbox-live .conversation").filter(has_text=f"A long one {word}").get_by_role("link").click()
    live(family)
    expect(family.locator(".message")).to_have_count(30)
    expect(family.get_by_label("Your reply")).to_be_in_viewport()
    older = family.get_by_role("link", name="Show earlier messages")
    older.scroll_into_view_if_needed()
    expect(family.locator(".message")).to_have_count(35)
    expect(family.locator("#thread-older .message").first).to_contain_text(f"Message 0 {word}")
    expect(older).to_have_count(0)
    expect(message(family, f"Message 5 {word}")).to_be_in_viewport()  # the reader's place is kept
    visit(family, "thread-older")
