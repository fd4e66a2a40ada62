"""Cancelling through the page: the button shows exactly when it would work; the answer lands where the user looks."""

from datetime import timedelta

import pytest

from respite.extensions import db
from respite.models import RespiteSession, SessionStatus
from tests import factories
from tests.helpers import audit_rows

S = SessionStatus


@pytest.fixture
def own_session(as_caregiver):
    recipient = factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
    return factories.RespiteSessionFactory(recipient=recipient)


def status_of(session):
    db.session.expire_all()
    return db.session.get(RespiteSession, session.id).status


def test_caregiver_cancels_from_the_dashboard(as_caregiver, own_session):
    page = as_caregiver.get("/caregiver").text
    assert f'action="/sessions/{own_session.id}/cancel"' in page
    response = as_caregiver.post(
        f"/sessions/{own_session.id}/cancel",
        data={"reason": "Plans changed", "version": own_session.version},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "The session is cancelled." in response.text
    assert status_of(own_session) == S.CANCELLED
    assert len(audit_rows("session.cancel")) == 1


def test_no_cancel_button_once_a_session_has_started(as_caregiver, own_session):
    own_session.status = S.CHECKED_IN
    own_session.starts_at = own_session.starts_at - timedelta(days=1, hours=1)
    db.session.flush()
    page = as_caregiver.get("/caregiver").text
    assert f"session-{own_session.id}" in page
    assert f'action="/sessions/{own_session.id}/cancel"' not in page


def test_a_refused_cancel_says_why_and_changes_nothing(as_caregiver, own_session):
    own_session.status = S.CHECKED_IN
    db.session.flush()
    response = as_caregiver.post(f"/sessions/{own_session.id}/cancel", follow_redirects=True)
    assert "This session can no longer be cancelled." in response.text
    assert status_of(own_session) == S.CHECKED_IN
    assert audit_rows("session.cancel") == []


def test_a_stale_page_is_told_the_session_changed(as_caregiver, own_session):
    db.session.flush()
    stale = own_session.version - 1
    response = as_caregiver.post(f"/sessions/{own_session.id}/cancel", data={"version": stale}, follow_redirects=True)
    assert "changed while you were looking" in response.text
    assert status_of(own_session) == S.REQUESTED


def test_coordinator_cancels_any_session(as_coordinator):
    session = factories.RespiteSessionFactory()
    assert as_coordinator.post(f"/sessions/{session.id}/cancel").status_code == 302
    assert status_of(session) == S.CANCELLED


@pytest.mark.parametrize("client_fixture", ["as_provider", "as_kiosk"])
def test_providers_and_kiosks_can_not_cancel(request, client_fixture):
    session = factories.RespiteSessionFactory()
    assert request.getfixturevalue(client_fixture).post(f"/sessions/{session.id}/cancel").status_code == 403
    assert status_of(session) == S.REQUESTED


def test_someone_elses_or_a_missing_session_is_not_found(as_caregiver):
    session = factories.RespiteSessionFactory()
    db.session.commit()  # the setup is in place (a 404 rolls back what its request changed)
    assert as_caregiver.post(f"/sessions/{session.id}/cancel").status_code == 404
    assert as_caregiver.post("/sessions/999999/cancel").status_code == 404
    assert status_of(session) == S.REQUESTED
