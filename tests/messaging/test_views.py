"""Messaging through the pages: the inbox (search, paging), a thread (older messages, read marking, receipts,
replies), starting a conversation (from a session's page too), and that nothing a person writes becomes active.

Plain forms and links work without JavaScript (Post/Redirect/Get, 422 with the message beside the field);
htmx requests get the regions and fragments; each page and fragment issues a fixed number of statements
however many conversations and messages there are.
"""

import html
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from markupsafe import Markup

from respite import realtime
from respite.extensions import db
from respite.messaging import services
from respite.messaging.linkify import linkify
from respite.models import Message, Participant, utcnow
from respite.timefmt import zone_or_utc
from respite.web.converters import MAX_ID
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error, page_nav, sign_in

HTMX = {"HX-Request": "true"}


def signed_in(app, user):
    client = app.test_client()
    sign_in(client, user)
    client.user = user
    return client


@pytest.fixture
def family():
    return factories.CaregiverProfileFactory(user__display_name="Rosa Martinez").user


@pytest.fixture
def session_of(family):
    """A confirmed session of the family's, for Elena, that Aisha accepted."""
    recipient = factories.CareRecipientFactory(caregiver=family.caregiver_profile, first_name="Elena", last_name="Ruiz")
    return factories.RespiteSessionFactory(recipient=recipient, status="confirmed")


@pytest.fixture
def aisha(session_of):
    return factories.AssignmentFactory(session=session_of, provider__user__display_name="Aisha Rahman").provider.user


@pytest.fixture
def cora():
    return factories.UserFactory(role="coordinator", display_name="Cora Coordinator")


@pytest.fixture
def as_family(app, family):
    return signed_in(app, family)


@pytest.fixture
def as_aisha(app, aisha):
    return signed_in(app, aisha)


@pytest.fixture
def as_cora(app, cora):
    return signed_in(app, cora)


@pytest.fixture
def talk(family, aisha):
    """The family's conversation with Aisha: Rosa's first message, unread by Aisha."""
    return services.start_conversation(family, [aisha], subject="Saturday", body="She naps at two.")


def stranger_conversation():
    """Two other people's conversation: another family and their provider."""
    session = factories.RespiteSessionFactory(status="confirmed")
    provider = factories.AssignmentFactory(session=session).provider.user
    return services.start_conversation(session.caregiver.user, [provider], subject="Zebedee", body="Quentin here")


def text_of(response):
    return response.get_data(as_text=True)


def shown(response):
    """The page's text as a reader sees it: tags gone, entities read."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text_of(response))))


def local_time(at, user, fmt="%H:%M"):
    return at.astimezone(zone_or_utc(user.timezone)).strftime(fmt)


# --- Who may open what --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/inbox", "/inbox/new", "/inbox/{id}"])
def test_kiosks_have_no_inbox(as_kiosk, talk, path):
    db.session.commit()  # a refusal rolls back the request's transaction: what it refuses must outlive it
    response = as_kiosk.get(path.format(id=talk.id))
    assert response.status_code == 403
    assert audit_rows("access.denied")[-1].actor_id == as_kiosk.user.id
    assert as_kiosk.post(path.format(id=talk.id), data={"body": "Hello"}).status_code in (403, 405)


def test_signed_out_visitors_are_sent_to_sign_in(client, talk):
    for path in ("/inbox", "/inbox/new", f"/inbox/{talk.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/login"


@pytest.mark.parametrize("who", ["as_family", "as_aisha", "as_cora"])
def test_someone_elses_conversation_or_none_is_not_found(request, talk, who):
    client = request.getfixturevalue(who)
    theirs = stranger_conversation()
    db.session.commit()  # a refusal rolls back the request's transaction: what it refuses must outlive it
    for conversation_id in (theirs.id, MAX_ID):
        for headers in ({}, HTMX):
            response = client.get(f"/inbox/{conversation_id}", headers=headers)
            assert response.status_code == 404
            assert "Zebedee" not in text_of(response)
        assert client.post(f"/inbox/{conversation_id}", data={"body": "Let me in"}).status_code == 404
    assert db.session.query(Message).filter_by(conversation_id=theirs.id).count() == 1
    assert as_cora_sees_no_stranger(request, theirs)


def as_cora_sees_no_stranger(request, theirs):
    """A coordinator runs the program, not other people's conversations: not in their inbox either."""
    return "Zebedee" not in text_of(request.getfixturevalue("as_cora").get("/inbox"))


# --- The inbox ---------------------------------------------------------------------------------------


def test_each_role_sees_its_conversations_with_who_is_in_them_the_newest_message_and_unread(
    as_family, as_aisha, as_cora, family, aisha, cora, talk
):
    services.send_message(family, talk, "Line one\nand line two")
    services.start_conversation(cora, [aisha], subject="Rota", body="Can you cover Friday?")
    stranger_conversation()

    page = as_aisha.get("/inbox")
    assert page.status_code == 200
    text = shown(page)
    assert text.index("Rota") < text.index("Saturday")  # newest activity first
    assert "With Rosa Martinez" in text
    assert "With Cora Coordinator" in text
    assert "Line one and line two" in text  # the preview, on one line
    assert "Zebedee" not in text
    unread = re.findall(r'<span class="unread-count">(\d+)', text_of(page))
    assert unread == ["1", "2"]
    assert 'id="nav-badge-messages"' in text_of(page)

    mine = shown(as_family.get("/inbox"))
    assert "You: Line one and line two" in mine
    assert "Rota" not in mine
    assert "Rota" in shown(as_cora.get("/inbox"))


def test_the_inbox_says_when_a_message_was_removed_under_the_retention_policy(as_aisha, talk):
    (message,) = services.thread(talk)
    message.body, message.purged_at = None, utcnow()
    db.session.flush()
    assert "Removed under the retention policy" in shown(as_aisha.get("/inbox"))


def test_the_inbox_is_a_live_region_refreshed_on_message_and_read_events(as_family, talk):
    page = text_of(as_family.get("/inbox"))
    region = re.search(r'<div id="inbox-live"[^>]*>', page).group(0)
    assert 'hx-get="/inbox"' in region
    assert "sse:message" in region
    assert "sse:read" in region

    answer = as_family.get("/inbox", headers=HTMX)
    assert answer.status_code == 200
    assert text_of(answer).lstrip().startswith('<div id="inbox-live"')
    assert "<html" not in text_of(answer)
    assert "HX-Request" in answer.headers["Vary"]


def test_the_inbox_pages_at_a_fixed_size(as_cora, cora, family):
    for number in range(services.INBOX_PAGE_SIZE + 3):
        services.start_conversation(cora, [family], subject=f"Note {number:02d}", body="Hello")

    first, second = shown(as_cora.get("/inbox")), shown(as_cora.get("/inbox?page=2"))
    assert "Note 22" in first
    assert "Note 03" in first
    assert "Note 02" not in first
    assert "Page 1 of 2" in first
    assert "Note 02" in second
    assert "Note 00" in second
    assert "Note 03" not in second
    assert 'href="/inbox?page=2">Older' in text_of(as_cora.get("/inbox"))
    assert "Page 2 of 2" in shown(as_cora.get(f"/inbox?page={10**30}"))  # past the end: the last page
    region = text_of(as_cora.get("/inbox?page=2", headers=HTMX))
    assert 'hx-get="/inbox?page=2"' in region  # a live refresh stays on the page


def test_search_finds_subjects_and_message_text_in_ones_own_conversations_only(as_family, family, aisha, cora):
    services.start_conversation(family, [aisha], subject="Medication list", body="Attached")
    services.start_conversation(family, [cora], subject="Hours", body="Could we add some MEDICATION time?")
    services.start_conversation(family, [cora], subject="Saturday", body="Nothing here")
    other = stranger_conversation()
    services.send_message(other.participants[0].user, other, "medication for Zebedee")

    text = shown(as_family.get("/inbox?q=medication"))
    assert "Medication list" in text
    assert "Hours" in text
    assert "Saturday" not in text
    assert "Zebedee" not in text
    assert "2 conversations match “medication”" in text

    region = as_family.get("/inbox?q=hours", headers=HTMX)
    assert text_of(region).lstrip().startswith('<div id="inbox-live"')
    assert "Hours" in shown(region)
    assert "Medication list" not in shown(region)
    assert 'hx-get="/inbox?q=hours"' in text_of(region)  # its live refresh keeps the search


@pytest.mark.parametrize(("search", "found"), [("%", ["100% sure"]), ("_", ["snake_case"]), ("\\", ["back\\slash"])])
def test_search_wildcards_match_only_themselves(as_family, family, cora, search, found):
    for subject in ("100% sure", "snake_case", "back\\slash", "plain"):
        services.start_conversation(family, [cora], subject=subject, body="x")
    text = shown(as_family.get("/inbox", query_string={"q": search}))
    assert [s for s in ("100% sure", "snake_case", "back\\slash", "plain") if s in text] == found


def test_the_search_form_works_with_and_without_javascript(as_family):
    page = text_of(as_family.get("/inbox?q=naps"))
    form = re.search(r'<form class="inbox-search" method="get" action="/inbox" role="search">.*?</form>', page, re.S)
    assert form
    assert 'type="submit"' in form.group(0)
    field = re.search(r'<input type="search" id="inbox-q" name="q"[^>]*>', page, re.S).group(0)
    assert 'value="naps"' in field
    for attribute in (
        'hx-get="/inbox"',
        'hx-trigger="keyup changed delay:300ms, search"',
        'hx-target="#inbox-live"',
        'hx-push-url="true"',
    ):
        assert attribute in field


def test_control_characters_in_a_search_find_nothing_and_fail_nothing(as_family, talk):
    response = as_family.get("/inbox", query_string={"q": "naps\x00"})
    assert response.status_code == 200
    assert "Saturday" not in shown(response)


def _conversations_with_messages(user, others, count, messages=3):
    for number in range(count):
        conversation = services.start_conversation(user, others, subject=f"Topic {number}", body="First")
        for extra in range(messages - 1):
            services.send_message(others[number % len(others)], conversation, f"Reply {extra}")


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "region"])
def test_the_inbox_statement_budget(as_family, family, aisha, cora, headers):
    # sign-in check; the count of conversations; the page of them with unread counts and previews; the names
    assert_statement_budget(
        as_family,
        "/inbox",
        lambda n: _conversations_with_messages(family, [aisha, cora], n),
        4 + page_nav(headers),
        headers=headers,
    )


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "region"])
def test_the_search_statement_budget(as_family, family, aisha, cora, headers):
    assert_statement_budget(
        as_family,
        "/inbox?q=reply",
        lambda n: _conversations_with_messages(family, [aisha, cora], n),
        4 + page_nav(headers),
        headers=headers,
    )


# --- A thread ------------------------------------------------------------------------------------------


def test_opening_a_thread_marks_it_read_and_tells_the_others(as_aisha, family, aisha, talk, published):
    assert services.unread_total(aisha) == 1

    page = as_aisha.get(f"/inbox/{talk.id}")

    assert page.status_code == 200
    assert "She naps at two." in shown(page)
    assert services.unread_total(aisha) == 0
    assert len(audit_rows("message.read")) == 1
    assert (realtime.user_channel(family.id), "read", {"conversation_id": talk.id}) in published
    assert not re.search(r'id="nav-badge-messages"[^>]*>\s*<span', text_of(page))  # the badge counts it read

    published.clear()
    as_aisha.get(f"/inbox/{talk.id}")
    assert published == []  # nothing new to read: no event, no audit row
    assert len(audit_rows("message.read")) == 1


def test_the_thread_shows_whose_messages_are_whose_and_what_it_is_about(as_family, family, aisha, session_of):
    conversation = services.start_conversation(
        family, [aisha], subject="Saturday", body="She naps at two.", session=session_of
    )
    services.send_message(aisha, conversation, "Thanks, noted.")

    page = text_of(as_family.get(f"/inbox/{conversation.id}"))

    mine = re.search(r'<li class="message message-mine"[^>]*>.*?</li>', page, re.S).group(0)
    theirs = re.search(r'<li class="message message-theirs"[^>]*>.*?</li>', page, re.S).group(0)
    assert "You" in mine
    assert "She naps at two." in mine
    assert "Aisha Rahman" in theirs
    assert "Thanks, noted." in theirs
    assert "With Aisha Rahman" in shown(as_family.get(f"/inbox/{conversation.id}"))
    assert f'href="/sessions/{session_of.id}">respite for Elena Ruiz' in page


def test_line_breaks_are_kept_and_links_made_safe_in_a_message(as_aisha, family, aisha):
    conversation = services.start_conversation(
        family, [aisha], subject="List", body="Milk\nBread\n\nSee https://example.org/list?a=1&b=2."
    )
    page = text_of(as_aisha.get(f"/inbox/{conversation.id}"))
    text = re.search(r'<p class="message-text">(.*?)</p>', page, re.S).group(1)
    assert text == (
        "Milk\nBread\n\nSee "
        '<a href="https://example.org/list?a=1&amp;b=2" rel="noopener noreferrer">https://example.org/list?a=1&amp;b=2</a>.'
    )


def test_a_purged_message_says_it_was_removed_under_the_retention_policy(as_aisha, talk):
    (message,) = services.thread(talk)
    message.body, message.purged_at = None, utcnow()
    db.session.flush()
    page = text_of(as_aisha.get(f"/inbox/{talk.id}"))
    assert '<p class="message-removed">Removed under the retention policy</p>' in page


def test_a_long_thread_shows_its_newest_messages_and_loads_older_ones(as_aisha, family, talk):
    for number in range(1, 45):
        services.send_message(family, talk, f"Message {number:02d}")
    ids = [m.id for m in services.thread(talk, limit=100)]

    page = text_of(as_aisha.get(f"/inbox/{talk.id}"))
    assert "Message 44" in page
    assert "Message 15" in page
    assert "Message 14" not in page
    oldest_shown = ids[-services.THREAD_PAGE_SIZE]
    link = re.search(r'<p class="older-link"><a href="([^"]+)"([^>]*)>Show earlier messages</a>', page)
    assert html.unescape(link.group(1)) == f"/inbox/{talk.id}?before={oldest_shown}"
    assert f'hx-get="/inbox/{talk.id}?before={oldest_shown}"' in link.group(2)
    assert 'hx-trigger="revealed, click"' in link.group(2)
    assert f"show:#message-{oldest_shown}:top" in link.group(2)

    # With htmx: the older messages alone, to go where the link was; the last of them has no link above it.
    older = text_of(as_aisha.get(f"/inbox/{talk.id}?before={oldest_shown}", headers=HTMX))
    assert "<html" not in older
    assert 'id="thread-live"' not in older
    assert "She naps at two." in older
    assert "Message 14" in older
    assert "Message 15" not in older
    assert "Show earlier messages" not in older

    # Without JavaScript: a page of them, and the way back to the newest.
    page_back = as_aisha.get(f"/inbox/{talk.id}?before={oldest_shown}")
    assert "Message 14" in shown(page_back)
    assert "Message 44" not in shown(page_back)
    assert "Show the newest messages" in shown(page_back)


def test_the_thread_is_a_live_region_that_marks_read_when_it_refreshes(as_aisha, family, aisha, talk, published):
    page = text_of(as_aisha.get(f"/inbox/{talk.id}"))
    first = services.thread(talk)[0].id
    region = re.search(r'<div id="thread-live"[^>]*>', page).group(0)
    assert f'hx-get="/inbox/{talk.id}?since={first}"' in region
    assert "sse:message" in region
    assert "sse:read" in region
    assert f'name="since" value="{first}"' in page  # the reply tells its answer the same

    services.send_message(family, talk, "Are you still coming?")
    db.session.commit()
    published.clear()

    answer = as_aisha.get(f"/inbox/{talk.id}?since={first}", headers=HTMX)

    assert text_of(answer).lstrip().startswith('<div id="thread-live"')
    assert "Are you still coming?" in text_of(answer)
    assert "She naps at two." in text_of(answer)
    assert services.unread_total(aisha) == 0
    assert (realtime.user_channel(family.id), "read", {"conversation_id": talk.id}) in published


def test_the_sender_sees_seen_with_the_time_and_who_under_their_last_message_read(
    as_family, family, aisha, cora, as_aisha
):
    conversation = services.start_conversation(family, [aisha, cora], subject="Plans", body="One")
    services.send_message(family, conversation, "Two")
    assert "Seen" not in shown(as_family.get(f"/inbox/{conversation.id}"))

    as_aisha.get(f"/inbox/{conversation.id}")
    three = services.send_message(family, conversation, "Three")
    marker = db.session.query(Participant).filter_by(conversation_id=conversation.id, user_id=aisha.id).one()
    cora_marker = db.session.query(Participant).filter_by(conversation_id=conversation.id, user_id=cora.id).one()
    cora_marker.last_read_message_id, cora_marker.last_read_at = three.id, marker.last_read_at + timedelta(minutes=5)
    db.session.flush()

    page = text_of(as_family.get(f"/inbox/{conversation.id}"))
    receipts = re.findall(r'<li class="message message-mine" id="message-(\d+)">.*?</li>', page, re.S)
    assert len(receipts) == 3
    seen = dict(re.findall(r'id="message-(\d+)">(?:(?!</li>).)*<p class="receipt">([^<]*)</p>', page, re.S))
    two = services.thread(conversation)[1]
    assert seen == {
        str(two.id): f"Seen {local_time(marker.last_read_at, family)} by Aisha Rahman",
        str(three.id): f"Seen {local_time(cora_marker.last_read_at, family)} by Cora Coordinator",
    }
    # Both read the newest: one line, both names, in the order they read it.
    marker.last_read_message_id = three.id
    db.session.flush()
    page = text_of(as_family.get(f"/inbox/{conversation.id}"))
    assert re.findall(r'<p class="receipt">([^<]*)</p>', page) == [
        f"Seen {local_time(marker.last_read_at, family)} by Aisha Rahman, "
        f"{local_time(cora_marker.last_read_at, family)} by Cora Coordinator"
    ]
    # Receipts are for the sender: the readers see none under the others' messages.
    assert "Seen" not in shown(as_aisha.get(f"/inbox/{conversation.id}"))


def test_a_receipt_from_another_day_says_the_day(as_family, family, aisha, talk):
    marker = db.session.query(Participant).filter_by(conversation_id=talk.id, user_id=aisha.id).one()
    marker.last_read_message_id = services.thread(talk)[0].id
    marker.last_read_at = utcnow() - timedelta(days=3)
    db.session.flush()
    expected = local_time(marker.last_read_at, family, "%a %-d %b, %H:%M")
    if marker.last_read_at.year != utcnow().year:
        expected = local_time(marker.last_read_at, family, "%-d %b %Y, %H:%M")
    assert f"Seen {expected} by Aisha Rahman" in shown(as_family.get(f"/inbox/{talk.id}"))


def test_a_marker_without_a_time_still_says_seen(as_family, aisha, talk):
    marker = db.session.query(Participant).filter_by(conversation_id=talk.id, user_id=aisha.id).one()
    marker.last_read_message_id, marker.last_read_at = services.thread(talk)[0].id, None
    db.session.flush()
    assert re.findall(r'<p class="receipt">([^<]*)</p>', text_of(as_family.get(f"/inbox/{talk.id}"))) == [
        "Seen by Aisha Rahman"
    ]


# --- Replying ------------------------------------------------------------------------------------------


def test_a_reply_without_javascript_posts_and_redirects_back_to_the_thread(as_aisha, family, aisha, talk, published):
    response = as_aisha.post(f"/inbox/{talk.id}", data={"body": "  See you at ten.  "})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/inbox/{talk.id}#latest"
    assert services.thread(talk)[-1].body == "See you at ten."
    assert (realtime.user_channel(family.id), "message", {"conversation_id": talk.id}) in published
    assert "See you at ten." in shown(as_aisha.get(f"/inbox/{talk.id}"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("   ", "Write a message first."),
        ("x" * (services.BODY_LIMIT + 1), "Keep a message to 4000 characters; send the rest in another."),
        ("bell\x07", "Remove the hidden control characters from this field."),
    ],
)
def test_a_bad_reply_is_answered_beside_the_field_and_nothing_is_sent(as_aisha, talk, body, message):
    db.session.commit()  # a refusal rolls back the request's transaction
    response = as_aisha.post(f"/inbox/{talk.id}", data={"body": body})

    assert response.status_code == 422
    assert field_error(response, "body") == message
    assert "She naps at two." in shown(response)  # the thread, with the form where it was
    assert len(services.thread(talk)) == 1


def test_a_reply_with_htmx_posts_in_place(as_aisha, talk):
    first = services.thread(talk)[0].id
    response = as_aisha.post(f"/inbox/{talk.id}", data={"body": "On my way", "since": str(first)}, headers=HTMX)

    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#thread-live"
    assert response.headers["HX-Reswap"] == "outerHTML"
    answer = text_of(response)
    assert answer.lstrip().startswith('<div id="thread-live"')
    assert "On my way" in answer
    assert "She naps at two." in answer
    form = re.search(r'<form id="reply-form"[^>]*>.*?</form>', answer, re.S).group(0)
    assert 'hx-swap-oob="true"' in form
    assert "On my way" not in form  # an empty form for the next one


def test_a_bad_reply_with_htmx_gets_the_form_again_with_its_error(as_aisha, talk):
    response = as_aisha.post(f"/inbox/{talk.id}", data={"body": ""}, headers=HTMX)

    assert response.status_code == 422
    assert text_of(response).lstrip().startswith("<form") or "<form" in text_of(response)[:400]
    assert field_error(response, "body") == "Write a message first."
    assert "She naps at two." not in text_of(response)


def test_the_forms_take_files_and_work_without_javascript(as_aisha, talk):
    page = text_of(as_aisha.get(f"/inbox/{talk.id}"))
    form = re.search(r'<form id="reply-form"[^>]*>', page).group(0)
    assert 'method="post"' in form
    assert f'action="/inbox/{talk.id}"' in form
    assert 'enctype="multipart/form-data"' in form
    assert 'type="file"' in page
    assert 'name="files"' in page
    new = text_of(as_aisha.get("/inbox/new"))
    assert 'enctype="multipart/form-data"' in new
    assert 'name="files"' in new


# --- Starting a conversation -----------------------------------------------------------------------


def _choices(response):
    """The people offered on the new-message form, by name."""
    return re.findall(r'<label for="recipient-\d+">([^<]*?) <span', text_of(response))


def test_each_role_is_offered_the_people_it_may_talk_to(as_family, as_aisha, as_cora, family, aisha, cora, kiosk):
    factories.ProviderProfileFactory(user__display_name="Stranger Provider")
    factories.CaregiverProfileFactory(user__display_name="Stranger Family")
    offered = factories.RespiteSessionFactory(recipient__caregiver=family.caregiver_profile)
    factories.AssignmentFactory(session=offered, status="offered", provider__user__display_name="Only Offered")
    factories.UserFactory(role="coordinator", display_name="Gone Coordinator", active=False)

    assert _choices(as_family.get("/inbox/new")) == ["Aisha Rahman", "Cora Coordinator"]
    assert _choices(as_aisha.get("/inbox/new")) == ["Cora Coordinator", "Rosa Martinez"]
    everyone = _choices(as_cora.get("/inbox/new"))
    assert {"Aisha Rahman", "Rosa Martinez", "Stranger Provider", "Stranger Family", "Only Offered"} <= set(everyone)
    assert "Cora Coordinator" not in everyone
    assert "Gone Coordinator" not in everyone
    assert kiosk.display_name not in everyone
    assert everyone == sorted(everyone)


def test_starting_a_conversation_without_javascript(as_family, family, aisha, published):
    response = as_family.post(
        "/inbox/new", data={"recipients": [str(aisha.id)], "subject": "Saturday", "body": "She naps at two."}
    )

    assert response.status_code == 302
    conversation_id = int(re.search(r"/inbox/(\d+)#latest$", response.headers["Location"]).group(1))
    page = as_family.get(response.headers["Location"])
    assert "Your message is sent." in shown(page)
    assert "She naps at two." in shown(page)
    assert (realtime.user_channel(aisha.id), "message", {"conversation_id": conversation_id}) in published
    assert services.unread_total(aisha) == 1


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"subject": "Hi", "body": "Hello"}, "recipients", "Choose who the message is for."),
        ({"recipients": "stranger", "subject": "Hi", "body": "Hello"}, "recipients", "Choose people from the list"),
        ({"recipients": "aisha", "subject": "Hi", "body": " "}, "body", "Write a message first."),
        ({"recipients": "aisha", "subject": "x" * 201, "body": "Hello"}, "subject", "Keep the subject to 200"),
        ({"recipients": "not-a-number", "subject": "Hi", "body": "Hello"}, "recipients", "Choose who the message"),
    ],
)
def test_a_bad_new_message_is_answered_beside_the_field(as_family, aisha, data, field, message):
    stranger = factories.ProviderProfileFactory().user
    sent = {**data}
    if "recipients" in sent:
        sent["recipients"] = {"aisha": str(aisha.id), "stranger": str(stranger.id)}.get(sent["recipients"], "x")
    response = as_family.post("/inbox/new", data=sent)

    assert response.status_code == 422
    assert field_error(response, field).startswith(message)
    assert 'class="form-errors"' in text_of(response)
    assert audit_rows("conversation.start") == []
    assert 'value="Hi"' in text_of(response) or field == "subject"  # what was written stays


def test_a_session_fills_in_the_message_and_links_the_conversation(as_family, family, aisha, session_of):
    page = as_family.get(f"/inbox/new?session={session_of.id}")

    assert page.status_code == 200
    text = text_of(page)
    assert re.search(rf'id="recipient-{aisha.id}" name="recipients" value="{aisha.id}" checked', text)
    day = session_of.starts_at.astimezone(zone_or_utc(family.timezone)).strftime("%a %-d %b")
    assert f'value="Respite for Elena Ruiz on {day}"' in text
    assert f'action="/inbox/new?session={session_of.id}"' in text

    response = as_family.post(
        f"/inbox/new?session={session_of.id}",
        data={"recipients": str(aisha.id), "subject": "About Saturday", "body": "Bring the crossword"},
    )
    assert response.status_code == 302
    (conversation,) = [e.conversation for e in services.inbox(family)]
    assert conversation.session_id == session_of.id
    assert audit_rows("conversation.start")[-1].meta["session_id"] == session_of.id


def test_someone_elses_session_is_not_found_when_starting_a_conversation(as_family, as_aisha):
    theirs = factories.AssignmentFactory(session__status="confirmed").session
    db.session.commit()
    for client in (as_family, as_aisha):
        for value in (str(theirs.id), str(MAX_ID), "0", "abc"):
            assert client.get(f"/inbox/new?session={value}").status_code == 404
            assert client.post(f"/inbox/new?session={value}", data={"body": "x"}).status_code == 404


def test_a_provider_and_a_coordinator_are_offered_the_family_from_a_session(
    as_aisha, as_cora, family, aisha, session_of
):
    text = text_of(as_aisha.get(f"/inbox/new?session={session_of.id}"))
    assert re.search(rf'value="{family.id}" checked', text)
    assert not re.search(rf'value="{aisha.id}" checked', text)

    both = text_of(as_cora.get(f"/inbox/new?session={session_of.id}"))
    assert re.search(rf'value="{family.id}" checked', both)
    assert re.search(rf'value="{aisha.id}" checked', both)
    only_provider = text_of(as_cora.get(f"/inbox/new?session={session_of.id}&to=provider"))
    assert re.search(rf'value="{aisha.id}" checked', only_provider)
    assert not re.search(rf'value="{family.id}" checked', only_provider)


def test_a_coordinator_finds_people_in_a_long_list(as_cora, aisha):
    for number in range(services.CONTACTS_LIMIT + 5):
        factories.CaregiverProfileFactory(user__display_name=f"Family {number:03d}")

    page = as_cora.get("/inbox/new")
    assert len(_choices(page)) == services.CONTACTS_LIMIT
    assert "More people match" in shown(page)
    search = re.search(r'<input type="search" id="who"[^>]*>', text_of(page), re.S).group(0)
    assert 'hx-trigger="keyup changed delay:300ms, search"' in search
    assert 'hx-target="#recipient-choices"' in search
    assert 'hx-include="#recipient-choices"' in search

    # As they type (htmx): the list alone, the people ticked so far kept ticked at its top.
    region = as_cora.get(f"/inbox/new?who=family+05&recipients={aisha.id}", headers=HTMX)
    assert text_of(region).lstrip().startswith('<fieldset id="recipient-choices"')
    assert _choices(region) == ["Aisha Rahman", "Family 050", "Family 051", "Family 052", "Family 053", "Family 054"]
    assert re.search(rf'value="{aisha.id}" checked', text_of(region))
    # Without JavaScript: the same search, as a page.
    assert _choices(as_cora.get("/inbox/new?who=Family+054")) == ["Family 054"]
    assert _choices(as_cora.get("/inbox/new", query_string={"who": "%"})) == []


def test_a_caregiver_is_not_shown_a_search_for_a_short_list(as_family, aisha):
    assert 'id="who"' not in text_of(as_family.get("/inbox/new"))


def test_the_new_message_page_statement_budget(as_cora):
    # sign-in check, the people listed
    assert_statement_budget(
        as_cora, "/inbox/new", lambda n: [factories.CaregiverProfileFactory() for _ in range(n)], 2 + NAV
    )


# --- From a session's page ----------------------------------------------------------------------------


def _message_links(response):
    links = re.findall(r'<a class="btn btn-secondary" href="([^"]+)">(Message the \w+)</a>', text_of(response))
    return {label: html.unescape(href) for href, label in links}


def test_a_session_page_offers_to_message_the_other_side(as_family, as_aisha, as_cora, family, aisha, session_of):
    new = f"/inbox/new?session={session_of.id}"
    assert _message_links(as_family.get(f"/sessions/{session_of.id}")) == {"Message the provider": new}
    assert _message_links(as_aisha.get(f"/sessions/{session_of.id}")) == {"Message the family": new}
    assert _message_links(as_cora.get(f"/sessions/{session_of.id}")) == {
        "Message the provider": f"{new}&to=provider",
        "Message the family": f"{new}&to=family",
    }


def test_a_session_page_leads_to_the_conversation_about_it_when_there_is_one(
    as_family, as_aisha, as_cora, family, aisha, session_of
):
    conversation = services.start_conversation(family, [aisha], subject="Sat", body="Hi", session=session_of)
    thread = f"/inbox/{conversation.id}#latest"
    assert _message_links(as_family.get(f"/sessions/{session_of.id}")) == {"Message the provider": thread}
    assert _message_links(as_aisha.get(f"/sessions/{session_of.id}")) == {"Message the family": thread}
    # Not the coordinator's conversation: theirs starts anew.
    assert thread not in _message_links(as_cora.get(f"/sessions/{session_of.id}")).values()
    region = as_family.get(f"/sessions/{session_of.id}", headers=HTMX)
    assert _message_links(region) == {"Message the provider": thread}


def test_no_provider_to_message_before_one_accepts(as_family, as_aisha, family, aisha):
    request = factories.RespiteSessionFactory(recipient__caregiver=family.caregiver_profile)
    assert _message_links(as_family.get(f"/sessions/{request.id}")) == {}
    offered = factories.AssignmentFactory(session=request, provider=aisha.provider_profile, status="offered")
    assert offered.session_id == request.id
    assert _message_links(as_aisha.get(f"/sessions/{request.id}")) == {}


# --- Statement budgets of the thread ----------------------------------------------------------------


def _replies(conversation, sender):
    def add(n):
        for number in range(n):
            services.send_message(sender, conversation, f"Reply {number}")

    return add


def audit_statements(dialect):
    """Appending an audit row: the chain's head and the insert, after PostgreSQL's advisory lock."""
    return 3 if dialect == "postgresql" else 2


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "region"])
def test_the_thread_statement_budget(as_aisha, family, talk, dialect, headers):
    # sign-in check; the conversation and its people; the newest message (reading); the marker, its audit
    # row, the notices of the message marked read; the messages, their files; the receipts
    first = services.thread(talk)[0].id
    path = f"/inbox/{talk.id}" if not headers else f"/inbox/{talk.id}?since={first}"
    budget = 8 + audit_statements(dialect) + page_nav(headers)
    assert_statement_budget(as_aisha, path, _replies(talk, family), budget, headers=headers)


def test_the_older_messages_statement_budget(as_aisha, family, talk):
    # sign-in check; the conversation and its people; the messages, their files; the receipts
    assert_statement_budget(as_aisha, f"/inbox/{talk.id}?before={MAX_ID}", _replies(talk, family), 5, headers=HTMX)


def test_a_thread_already_read_statement_budget(as_family, aisha, talk):
    # the reader's own messages: nothing to mark read
    assert_statement_budget(as_family, f"/inbox/{talk.id}", _replies(talk, talk.participants[0].user), 6 + NAV)


# --- Nothing a person writes becomes active ----------------------------------------------------------

PAYLOADS = [
    '<script>alert("xss")</script>',
    '<img src=x onerror=alert("xss")>',
    '"><svg onload=alert("xss")>',
    '<div hx-get="/admin/users" hx-trigger="load">xss</div>',
    "<button hx-on:click=\"alert('xss')\" hx-on='htmx:load: alert(1)'>xss</button>",
    "<a href=\"javascript:alert('xss')\">click</a>",
    "javascript:alert('xss')",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgneHNzJyk8L3NjcmlwdD4=",
    'https://example.org/"onmouseover="alert(\'xss\')"',
    "https://example.org/<script>alert('xss')</script>",
    "{{ config }} {% raw %}",
]


class ActiveParts(HTMLParser):
    """Whatever in a page could run or fetch: scripts not the app's own, event handlers, hx-on, hx- requests
    or triggers a payload asks for, and links with a javascript: or data: address (the app's own live regions
    carry a search in their hx-get's query string: text there is a value, not an instruction)."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            hx = name.removeprefix("data-")
            if hx.startswith("hx-on") or (
                hx in ("hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete", "sse-connect")
                and "admin" in urlsplit(value).path
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
            if hx.startswith("hx-") and ("alert" in urlsplit(value).path or "load" in value.split(",")):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in ("href", "src", "action", "formaction") and value.strip().lower().startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.found.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not dict(attrs).get("src", "").startswith("/static/"):
            self.found.append("<script> without the app's source")
        if tag in ("svg", "iframe", "object", "embed", "img") and any("xss" in (v or "") for _, v in attrs):
            self.found.append(f"<{tag}> from a payload")


def active_parts(text):
    parser = ActiveParts()
    parser.feed(text)
    return parser.found


@pytest.mark.parametrize("payload", PAYLOADS)
def test_no_payload_becomes_active_in_pages_fragments_or_events(as_aisha, family, aisha, payload, published):
    conversation = services.start_conversation(family, [aisha], subject=f"Subject {payload}", body=payload)
    for number in range(services.THREAD_PAGE_SIZE):
        services.send_message(family, conversation, f"{number} {payload}\n{payload}")
    db.session.commit()
    first = services.thread(conversation)[-services.THREAD_PAGE_SIZE].id

    answers = {
        "inbox page": as_aisha.get("/inbox"),
        "inbox region": as_aisha.get("/inbox", headers=HTMX),
        "search": as_aisha.get("/inbox", query_string={"q": payload[:20]}),
        "thread page": as_aisha.get(f"/inbox/{conversation.id}"),
        "thread region": as_aisha.get(f"/inbox/{conversation.id}?since={first}", headers=HTMX),
        "older messages": as_aisha.get(f"/inbox/{conversation.id}?before={first}", headers=HTMX),
        "reply refused": as_aisha.post(f"/inbox/{conversation.id}", data={"body": payload + "\x07"}),
        "reply in place": as_aisha.post(f"/inbox/{conversation.id}", data={"body": payload}, headers=HTMX),
        "new message refused": as_aisha.post("/inbox/new", data={"subject": payload, "body": payload}),
    }
    for where, response in answers.items():
        assert response.status_code in (200, 422), where
        assert active_parts(text_of(response)) == [], where
    assert payload in shown(answers["thread page"])  # shown as the text it is
    assert payload.split()[0] in shown(answers["inbox page"])
    assert published
    for _, _, data in published:  # events name ids, never text
        assert all(isinstance(value, int) for value in data.values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain <b>bold</b> & more", "plain &lt;b&gt;bold&lt;/b&gt; &amp; more"),
        (
            "see https://example.org/a?b=1&c=2.",
            'see <a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer">https://example.org/a?b=1&amp;c=2</a>.',
        ),
        (
            "(http://example.org/x)",
            '(<a href="http://example.org/x" rel="noopener noreferrer">http://example.org/x</a>)',
        ),
        (
            "https://en.wikipedia.org/wiki/Respite_(care)!",
            '<a href="https://en.wikipedia.org/wiki/Respite_(care)" rel="noopener noreferrer">'
            "https://en.wikipedia.org/wiki/Respite_(care)</a>!",
        ),
        (
            'https://x.org/"onclick="a',
            '<a href="https://x.org/" rel="noopener noreferrer">https://x.org/</a>&#34;onclick=&#34;a',
        ),
        ("javascript:alert(1) data:text/html,x ftp://x.org", "javascript:alert(1) data:text/html,x ftp://x.org"),
        ("HTTPS://EXAMPLE.ORG", '<a href="HTTPS://EXAMPLE.ORG" rel="noopener noreferrer">HTTPS://EXAMPLE.ORG</a>'),
        ("https:// and http://.", "https:// and http://."),
        ("line\nbreak", "line\nbreak"),
        (None, ""),
    ],
)
def test_linkify_escapes_everything_and_links_only_web_addresses(text, expected):
    result = linkify(text)
    assert isinstance(result, Markup)
    assert str(result) == expected
