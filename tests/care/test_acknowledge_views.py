"""A provider reads a person's care card and acknowledges its current version, through HTTP; a change asks again."""

from datetime import timedelta

import pytest

from respite.care import services
from respite.extensions import db
from respite.models import AssignmentStatus, CareCardAcknowledgement, SessionStatus, utcnow
from tests import factories
from tests.helpers import audit_rows

CARD = {"needs": "Moderate Alzheimer's.", "allergies": "Penicillin."}


@pytest.fixture
def elena(as_caregiver):
    person = factories.CareRecipientFactory(
        caregiver=as_caregiver.user.caregiver_profile, first_name="Elena", last_name="Martinez"
    )
    services.save_care_card(as_caregiver.user, person, CARD)
    db.session.flush()
    return person


@pytest.fixture
def visit(as_provider, elena):
    starts = utcnow() + timedelta(days=2)
    session = factories.RespiteSessionFactory(
        recipient=elena, starts_at=starts, ends_at=starts + timedelta(hours=2), status=SessionStatus.CONFIRMED
    )
    factories.AssignmentFactory(session=session, provider=as_provider.user.provider_profile)
    db.session.commit()
    return session


def acknowledge(client, person, version, session=None):
    data = {"version": str(version)}
    if session is not None:
        data["session_id"] = str(session.id)
    return client.post(f"/people/{person.id}/acknowledge", data=data)


def acknowledgements(provider_user):
    return db.session.query(CareCardAcknowledgement).filter_by(provider_id=provider_user.provider_profile.id).count()


def test_the_card_asks_the_provider_to_acknowledge_it(as_provider, elena, visit):
    page = as_provider.get(f"/people/{elena.id}?session={visit.id}")
    assert "Before the session, read the whole card" in page.text
    assert "I have read version 1" in page.text
    assert f'name="session_id" value="{visit.id}"' in page.text


def test_acknowledging_returns_to_the_session_and_says_thank_you(as_provider, elena, visit):
    response = acknowledge(as_provider, elena, 1, visit)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{visit.id}"
    assert acknowledgements(as_provider.user) == 1
    assert audit_rows("care.card_acknowledge")
    page = as_provider.get(f"/people/{elena.id}")
    assert "You have read version 1, the current one." in page.text
    assert "I have read version" not in page.text


def test_a_new_version_asks_again(as_provider, as_caregiver, elena, visit):
    acknowledge(as_provider, elena, 1, visit)
    services.save_care_card(as_caregiver.user, elena, {**CARD, "allergies": "Penicillin and peanuts."})
    db.session.commit()
    page = as_provider.get(f"/people/{elena.id}")
    assert "The care card changed since you read version 1. Please read it again." in page.text
    assert "I have read version 2" in page.text


def test_acknowledging_a_version_that_is_no_longer_current_is_refused(as_provider, as_caregiver, elena, visit):
    services.save_care_card(as_caregiver.user, elena, {**CARD, "allergies": "Peanuts."})
    db.session.commit()
    response = acknowledge(as_provider, elena, 1, visit)
    assert response.headers["Location"] == f"/people/{elena.id}?session={visit.id}"
    assert acknowledgements(as_provider.user) == 0
    page = as_provider.get(response.headers["Location"])
    assert "The care card changed while you were reading it: please read version 2" in page.text


def test_a_provider_without_the_session_gets_not_found(as_provider, elena, visit):
    other = factories.RespiteSessionFactory()
    db.session.commit()
    assert acknowledge(as_provider, elena, 1, other).status_code == 404
    stranger = factories.CareRecipientFactory()
    db.session.commit()
    assert acknowledge(as_provider, stranger, 1).status_code == 404


def test_a_provider_only_offered_may_acknowledge_too(as_provider, elena):
    starts = utcnow() + timedelta(days=4)
    session = factories.RespiteSessionFactory(recipient=elena, starts_at=starts, ends_at=starts + timedelta(hours=1))
    factories.AssignmentFactory(
        session=session, provider=as_provider.user.provider_profile, status=AssignmentStatus.OFFERED
    )
    db.session.commit()
    assert acknowledge(as_provider, elena, 1).headers["Location"] == f"/people/{elena.id}"
    assert acknowledgements(as_provider.user) == 1


@pytest.mark.parametrize("who", ["as_caregiver", "as_coordinator"])
def test_only_providers_acknowledge(request, elena, who):
    client = request.getfixturevalue(who)
    assert acknowledge(client, elena, 1).status_code in (403, 404)
