"""A session's page as its provider sees it: the offer to answer, and where they stand with the care card."""

from datetime import timedelta

import pytest

from respite.care import services as care
from respite.extensions import db
from respite.models import AssignmentStatus, SessionStatus, utcnow
from tests import factories

A = AssignmentStatus


@pytest.fixture
def offered(as_provider):
    starts = utcnow() + timedelta(days=2)
    session = factories.RespiteSessionFactory(starts_at=starts, ends_at=starts + timedelta(hours=3))
    return factories.AssignmentFactory(session=session, provider=as_provider.user.provider_profile, status=A.OFFERED)


def with_card(session):
    caregiver = session.caregiver.user
    care.save_care_card(caregiver, session.recipient, {"needs": "Needs help standing.", "allergies": "Peanuts."})
    db.session.flush()


def test_the_provider_answers_an_offer_on_the_sessions_page(as_provider, offered):
    page = as_provider.get(f"/sessions/{offered.session.id}").text

    assert "This session is offered to you" in page
    assert f'action="/offers/{offered.id}/accept"' in page
    assert f'action="/offers/{offered.id}/decline"' in page


def test_accepting_from_the_page_confirms_it(as_provider, offered):
    response = as_provider.post(f"/offers/{offered.id}/accept")

    assert response.headers["Location"] == f"/sessions/{offered.session.id}"
    assert offered.session.status == SessionStatus.CONFIRMED
    page = as_provider.get(response.headers["Location"]).text
    assert "This session is offered to you" not in page


def test_no_offer_to_answer_for_anyone_else(as_coordinator, offered):
    assert "This session is offered to you" not in as_coordinator.get(f"/sessions/{offered.session.id}").text


def test_the_provider_is_asked_to_read_the_care_card_and_again_when_it_changes(as_provider, offered):
    session = offered.session
    with_card(session)
    page = as_provider.get(f"/sessions/{session.id}").text
    assert "You haven't acknowledged" in page
    assert f'href="/people/{session.recipient_id}?session={session.id}"' in page

    care.acknowledge_care_card(as_provider.user, session.recipient, session)
    assert "You have read version 1, the current one." in as_provider.get(f"/sessions/{session.id}").text

    care.save_care_card(
        session.caregiver.user, session.recipient, {"needs": "Needs help standing.", "allergies": "None."}
    )
    db.session.flush()
    page = as_provider.get(f"/sessions/{session.id}").text
    assert "The care card changed since you read version 1." in page
    assert "Read version 2 and acknowledge it" in page


def test_a_person_without_a_card_is_named_as_such(as_provider, offered):
    assert "has no care card yet. Ask the family" in as_provider.get(f"/sessions/{offered.session.id}").text


def test_past_or_ended_sessions_ask_nothing(as_provider, offered):
    offered.session.status = SessionStatus.CANCELLED
    offered.status = A.CANCELLED
    page = as_provider.get(f"/sessions/{offered.session.id}").text
    assert 'id="card-status-heading"' not in page
    assert "This session is offered to you" not in page


def test_the_family_reads_who_confirmed_it_in_the_timeline(as_provider, as_caregiver, offered):
    session = offered.session
    session.caregiver = as_caregiver.user.caregiver_profile
    session.recipient.caregiver = session.caregiver
    db.session.flush()
    as_provider.post(f"/offers/{offered.id}/accept")

    page = as_caregiver.get(f"/sessions/{session.id}").text

    assert f"Confirmed: the provider accepted it</strong> by {as_provider.user.display_name} (provider)" in page
