"""The notices pages: the list (and its live region), opening a notice, reading them all, the email choices; and the
pages whose success messages say who was told."""

import re
from datetime import timedelta

import pytest

from respite.extensions import db
from respite.models import Conversation, Notice, NoticeKind, NoticePreference, Participant, SessionStatus, utcnow
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, page_nav

HTMX = {"HX-Request": "true"}
K = NoticeKind


def notice_for(client, **fields):
    return factories.NoticeFactory(user=client.user, **fields)


def reload(notice):
    db.session.expire_all()
    return db.session.get(Notice, notice.id)


def own_session(client, **fields):
    """A session the signed-in caregiver's person has."""
    recipient = factories.CareRecipientFactory(caregiver=client.user.caregiver_profile, first_name="Elena")
    return factories.RespiteSessionFactory(recipient=recipient, **fields)


# --- The list --------------------------------------------------------------------------------------------


def test_the_list_shows_the_readers_notices_newest_first_the_unread_marked(as_caregiver):
    notice_for(as_caregiver, text="Aisha Rahman confirmed Elena's session", read_at=utcnow())
    notice_for(as_caregiver, text="Marcus cancelled Elena's session: hospital appointment", kind=K.CANCELLED)
    factories.NoticeFactory(text="Someone else's news")

    page = as_caregiver.get("/notices")

    assert page.status_code == 200
    text = page.text
    assert text.index("hospital appointment") < text.index("Aisha Rahman confirmed")
    assert "Someone else&#39;s news" not in text
    assert text.count('class="notice notice-unread"') == 1
    assert "1 new notice" in text
    assert "Mark all as read" in text
    assert 'hx-trigger="sse:notice, respite:resync from:body"' in text
    assert 'href="/notices/settings"' in text


def test_the_region_alone_answers_htmx(as_caregiver):
    notice_for(as_caregiver, text="Elena's session is confirmed")
    region = as_caregiver.get("/notices", headers=HTMX)
    assert region.text.lstrip().startswith('<div id="notices-live"')
    assert "<nav" not in region.text
    assert "Elena&#39;s session is confirmed" in region.text


def test_an_empty_list_says_what_will_show(as_provider):
    text = as_provider.get("/notices").text
    assert "No notices yet." in text
    assert "Nothing new" in text
    assert "Mark all as read" not in text


def test_the_list_is_paged(as_caregiver):
    for number in range(25):
        notice_for(as_caregiver, text=f"Change number {number}.")
    first = as_caregiver.get("/notices").text
    assert "Change number 24." in first
    assert "Change number 4." not in first
    assert 'href="/notices?page=2"' in first
    second = as_caregiver.get("/notices?page=2").text
    assert "Change number 4." in second
    assert "Page 2 of 2" in second
    assert 'hx-get="/notices?page=2"' in second  # a live refresh stays on the page being read


@pytest.mark.parametrize("page", ["0", "-1", "many", str(10**30)])
def test_a_strange_page_number_is_a_page_not_an_error(as_caregiver, page):
    assert as_caregiver.get(f"/notices?page={page}").status_code == 200


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "region"])
@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_coordinator"])
def test_the_notices_page_statement_budget(request, client_fixture, headers):
    client = request.getfixturevalue(client_fixture)
    session = factories.RespiteSessionFactory()

    def add(n):
        for number in range(n):
            notice_for(client, session_id=session.id, read_at=utcnow() if number % 2 else None)

    # sign-in check, the page of notices and their count, the unread count
    assert_statement_budget(client, "/notices", add, 4 + page_nav(headers), headers=headers)


# --- Opening one -----------------------------------------------------------------------------------------


def test_opening_a_notice_marks_it_read_and_leads_to_its_session(as_caregiver, published):
    session = own_session(as_caregiver)
    notice = notice_for(as_caregiver, session_id=session.id)

    response = as_caregiver.get(f"/notices/{notice.id}")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{session.id}"
    assert reload(notice).read_at is not None
    assert ("notice", {}) in [(kind, data) for _, kind, data in published]  # the badges elsewhere follow
    again = as_caregiver.get(f"/notices/{notice.id}")
    assert again.headers["Location"] == f"/sessions/{session.id}"


def test_a_message_notice_leads_to_its_conversation(as_caregiver):
    conversation = Conversation(subject="Saturday")
    db.session.add(conversation)
    db.session.add(Participant(conversation=conversation, user_id=as_caregiver.user.id))
    db.session.flush()
    notice = notice_for(as_caregiver, kind=K.MESSAGE, conversation_id=conversation.id)
    response = as_caregiver.get(f"/notices/{notice.id}")
    assert response.headers["Location"] == f"/inbox/{conversation.id}"


def test_a_care_card_notice_leads_to_the_person(as_provider):
    session = factories.RespiteSessionFactory(status=SessionStatus.CONFIRMED)
    factories.AssignmentFactory(session=session, provider=as_provider.user.provider_profile)
    notice = notice_for(as_provider, kind=K.CARE_CARD_CHANGED, recipient_id=session.recipient_id)
    assert as_provider.get(f"/notices/{notice.id}").headers["Location"] == f"/people/{session.recipient_id}"


def test_a_notice_about_nothing_leads_back_to_the_list(as_provider):
    notice = notice_for(as_provider, kind=K.TIME_CHANGED)
    assert as_provider.get(f"/notices/{notice.id}").headers["Location"] == "/notices"
    assert reload(notice).read_at is not None


def test_a_session_no_longer_theirs_leads_back_to_the_list_saying_so(as_provider):
    """A provider taken off a session (it goes on without them) can't open it: the notice is what they have."""
    session = factories.RespiteSessionFactory(status=SessionStatus.CONFIRMED)
    factories.AssignmentFactory(session=session, provider=as_provider.user.provider_profile, status="cancelled")
    notice = notice_for(as_provider, kind=K.PROVIDER_CHANGED, session_id=session.id)

    response = as_provider.get(f"/notices/{notice.id}", follow_redirects=True)

    assert response.request.path == "/notices"
    assert "That session is no longer yours to open" in response.text
    assert reload(notice).read_at is not None


def test_someone_elses_notice_is_not_found_and_stays_unread(as_caregiver):
    theirs = factories.NoticeFactory(text="Zebedee's news")
    db.session.commit()  # the refusal rolls back the request's transaction: the notice must outlive it
    response = as_caregiver.get(f"/notices/{theirs.id}")
    assert response.status_code == 404
    assert "Zebedee" not in response.text
    assert reload(theirs).read_at is None


def test_all_are_read_at_once(as_caregiver):
    notices = [notice_for(as_caregiver) for _ in range(3)]
    theirs = factories.NoticeFactory()

    response = as_caregiver.post("/notices/read", follow_redirects=True)

    assert "3 notices are marked as read." in response.text
    assert all(reload(n).read_at is not None for n in notices)
    assert reload(theirs).read_at is None
    assert "Nothing was unread." in as_caregiver.post("/notices/read", follow_redirects=True).text


# --- Email choices ---------------------------------------------------------------------------------------


def checked(text, kind):
    match = re.search(rf'<input[^>]*id="{kind}"[^>]*>', text)
    assert match, kind
    return "checked" in match.group(0)


def test_the_choices_show_the_kinds_of_the_readers_role_with_the_defaults(as_caregiver, as_coordinator):
    text = as_caregiver.get("/notices/settings").text
    assert "A session is cancelled" in text
    assert checked(text, "cancelled")
    assert not checked(text, "confirmed")
    assert 'id="care_card_changed"' not in text  # a family gets no such notice

    staff = as_coordinator.get("/notices/settings").text
    assert 'id="time_changed"' in staff
    assert 'id="cancelled"' in staff
    assert 'id="message"' in staff
    assert 'id="reminder"' not in staff


def test_saving_choices_keeps_them_audits_them_and_shows_them_again(as_caregiver):
    response = as_caregiver.post("/notices/settings", data={"confirmed": "y", "message": "y", "reminder": "y"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/notices/settings"
    page = as_caregiver.get("/notices/settings").text
    assert "Your email choices are saved." in page
    assert checked(page, "confirmed")
    assert not checked(page, "cancelled")
    kept = db.session.query(NoticePreference).filter_by(user_id=as_caregiver.user.id)
    chosen = {p.kind: p.by_email for p in kept}
    assert (chosen["confirmed"], chosen["cancelled"], chosen["reminder"]) == (True, False, True)
    (row,) = audit_rows("notice.preferences")
    assert row.actor_id == as_caregiver.user.id
    again = as_caregiver.post("/notices/settings", data={"confirmed": "y", "message": "y", "reminder": "y"})
    assert "Nothing changed." in as_caregiver.get(again.headers["Location"]).text
    assert len(audit_rows("notice.preferences")) == 1


def test_the_account_page_leads_to_the_choices(as_provider):
    assert 'href="/notices/settings"' in as_provider.get("/account").text


def test_the_choices_page_statement_budget(as_caregiver):
    # sign-in check, the choices kept
    assert_statement_budget(as_caregiver, "/notices/settings", lambda n: None, 2 + NAV)


# --- Success messages that say who was told ----------------------------------------------------------------


def confirmed_with(provider_name, client):
    session = own_session(
        client,
        status=SessionStatus.CONFIRMED,
        starts_at=utcnow() + timedelta(days=2),
        ends_at=utcnow() + timedelta(days=2, hours=3),
    )
    factories.AssignmentFactory(session=session, provider__user__display_name=provider_name)
    db.session.refresh(session)
    return session


def test_the_family_cancels_and_is_told_who_was_told(as_caregiver, coordinator):
    session = confirmed_with("Aisha Rahman", as_caregiver)
    coordinator.display_name = "Cora Coordinator"

    response = as_caregiver.post(
        f"/sessions/{session.id}/cancel",
        data={"reason": "hospital appointment", "version": session.version, "return_to": "session"},
        follow_redirects=True,
    )

    assert "The session is cancelled. Aisha Rahman and Cora Coordinator are told." in response.text
    provider = session.assignments[0].provider.user
    (notice,) = db.session.query(Notice).filter_by(user_id=provider.id).all()
    assert notice.text.endswith(": hospital appointment")


def test_a_cancel_that_told_no_one_claims_no_one_was(as_caregiver):
    session = own_session(as_caregiver)
    response = as_caregiver.post(
        f"/sessions/{session.id}/cancel", data={"version": session.version}, follow_redirects=True
    )
    assert "The session is cancelled." in response.text
    assert "told" not in response.text.split("The session is cancelled.")[1].split("</li>")[0]


def test_the_coordinator_declines_and_the_panel_says_the_family_is_told(as_coordinator):
    family = factories.CaregiverProfileFactory(full_name="Rosa Alvarez", user__display_name="Rosa Alvarez")
    recipient = factories.CareRecipientFactory(caregiver=family)
    session = factories.RespiteSessionFactory(recipient=recipient)

    response = as_coordinator.post(
        f"/queue/{session.id}/decline",
        data={"reason": "No provider is free", "version": session.version},
        follow_redirects=True,
    )

    assert f"The request for {recipient.full_name} is declined. Rosa Alvarez is told." in response.text.replace(
        "&#39;", "'"
    )
    (notice,) = db.session.query(Notice).filter_by(user_id=family.user.id).all()
    assert notice.kind == K.DECLINED
