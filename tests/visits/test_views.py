"""Recording a visit through the session's page: the panel shows what each person may do, every form works
without JavaScript (post, redirect, the page) and with htmx (the region), and a refusal answers 422 in place."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from respite.extensions import db
from respite.models import RespiteSession, SessionStatus, VisitNote, utcnow
from tests import factories
from tests.helpers import audit_rows, field_error

S = SessionStatus
HTMX = {"HX-Request": "true"}


def held_session(client, *, minutes_from_now=-5, status=S.CONFIRMED, **extra):
    """A three-hour session of the client's provider, starting `minutes_from_now` (now, by default)."""
    starts = utcnow().replace(microsecond=0) + timedelta(minutes=minutes_from_now)
    session = factories.RespiteSessionFactory(
        status=status, starts_at=starts, ends_at=starts + timedelta(hours=3), **extra
    )
    factories.AssignmentFactory(session=session, provider=client.user.provider_profile)
    return session


def stored(session):
    db.session.expire_all()
    return db.session.get(RespiteSession, session.id)


def page(client, session, **kwargs):
    return client.get(f"/sessions/{session.id}", **kwargs).text


# --- The panel shows what each person may do ------------------------------------------------


def test_the_provider_sees_a_check_in_button_once_check_in_opens(as_provider):
    soon = held_session(as_provider, minutes_from_now=20)
    later = held_session(as_provider, minutes_from_now=24 * 60)
    body = page(as_provider, soon)
    assert f'action="/sessions/{soon.id}/check-in"' in body
    assert "Check in now" in body
    assert f'name="version" value="{soon.version}"' in body
    later_body = page(as_provider, later)
    assert "Check in now" not in later_body
    assert "Check-in opens at" in later_body
    assert "Record a no-show" not in later_body


def test_the_family_reads_the_times_and_gets_no_buttons(as_caregiver):
    recipient = factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
    starts = utcnow() - timedelta(hours=1)
    session = factories.RespiteSessionFactory(
        recipient=recipient,
        status=S.CHECKED_IN,
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        checked_in_at=starts,
    )
    body = page(as_caregiver, session)
    assert 'id="visit-heading"' in body
    assert "Checked in</dt>" in body
    assert f'datetime="{starts.isoformat()}"' in body
    assert "Check out now" not in body
    assert "/visit-note" not in body
    assert "No visit note yet" in body


def test_a_request_has_no_visit_panel(as_caregiver):
    recipient = factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
    session = factories.RespiteSessionFactory(recipient=recipient)
    assert 'id="visit-heading"' not in page(as_caregiver, session)


# --- Check-in and check-out, without JavaScript and with htmx --------------------------------


def test_check_in_then_out_without_javascript(as_provider, published):
    session = held_session(as_provider)
    response = as_provider.post(f"/sessions/{session.id}/check-in", data={"version": session.version})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{session.id}"
    body = as_provider.get(response.headers["Location"]).text
    assert "Checked in at" in body
    assert "Check out now" in body
    assert "Checked in</strong> by you" in body  # the timeline
    assert stored(session).status == S.CHECKED_IN
    assert ("session", {"session_id": session.id}) in [(kind, data) for _, kind, data in published]

    response = as_provider.post(
        f"/sessions/{session.id}/check-out", data={"version": stored(session).version}, follow_redirects=True
    )
    assert "Checked out at" in response.text
    assert "Now write the visit note" in response.text
    assert f'action="/sessions/{session.id}/visit-note"' in response.text
    assert stored(session).status == S.COMPLETED
    assert [row.action for row in audit_rows() if row.action.startswith("session.")] == [
        "session.check_in",
        "session.check_out",
    ]


def test_check_in_with_htmx_answers_a_status_line_and_has_the_region_fetch_itself(as_provider):
    session = held_session(as_provider, center=None, location_kind="home", address="4 Elm Row")
    assert '<div id="session-status"' in page(as_provider, session)  # outside the live region
    response = as_provider.post(f"/sessions/{session.id}/check-in", data={"version": session.version}, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text
    assert re.match(r'<div id="session-status" hx-swap-oob="innerHTML">.*Checked in at \d\d:\d\d\.', response.text)
    assert 'id="session-live"' not in response.text  # the region fetches itself (its own event may be on the way)
    assert response.headers["HX-Trigger"] == "respite:resync"
    assert stored(session).status == S.CHECKED_IN
    assert "Check out now" in as_provider.get(f"/sessions/{session.id}", headers=HTMX).text


def test_a_stale_page_gets_the_session_as_it_is_now_and_why(as_provider):
    session = held_session(as_provider)
    db.session.flush()
    response = as_provider.post(f"/sessions/{session.id}/check-in", data={"version": session.version - 1})
    assert response.status_code == 422
    assert "<html" in response.text
    assert response.text.count('id="session-status"') == 1
    assert field_error(response, "visit-actions") == (
        "This session changed since you opened it. Look at it again, then try once more."
    )
    assert stored(session).status == S.CONFIRMED


def test_a_check_in_too_early_answers_422_into_the_region_in_place_with_htmx(as_provider):
    session = held_session(as_provider, minutes_from_now=45)
    response = as_provider.post(f"/sessions/{session.id}/check-in", data={"version": session.version}, headers=HTMX)
    assert response.status_code == 422
    assert "<html" not in response.text
    assert "Check-in opens at" in field_error(response, "visit-actions")
    # Into the region that is there now, keeping the element (a refresh of it may be on its way).
    assert response.headers["HX-Retarget"] == "#session-live"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert response.headers["HX-Reselect"] == "#session-live > *"
    assert '<div id="session-status" hx-swap-oob="innerHTML"></div>' in response.text  # no earlier message stays
    assert stored(session).status == S.CONFIRMED


def test_a_coordinator_checks_in_and_out_for_the_provider(as_coordinator, provider):
    starts = utcnow() - timedelta(minutes=5)
    session = factories.RespiteSessionFactory(status=S.CONFIRMED, starts_at=starts, ends_at=starts + timedelta(hours=2))
    factories.AssignmentFactory(session=session, provider=provider.provider_profile)
    assert "Check in now" in page(as_coordinator, session)
    assert as_coordinator.post(f"/sessions/{session.id}/check-in").status_code == 302
    assert as_coordinator.post(f"/sessions/{session.id}/check-out").status_code == 302
    assert stored(session).status == S.COMPLETED


@pytest.mark.parametrize("action", ["check-in", "check-out", "no-show", "visit-note"])
def test_another_providers_or_a_missing_session_is_not_found(as_provider, action):
    session = factories.AssignmentFactory(session__status=S.CONFIRMED).session  # another provider's
    db.session.commit()  # the setup is in place (a 404 rolls back what its request changed)
    assert as_provider.post(f"/sessions/{session.id}/{action}", data={"note": "x"}).status_code == 404
    assert as_provider.post(f"/sessions/999999/{action}").status_code == 404
    assert stored(session).status == S.CONFIRMED


@pytest.mark.parametrize("action", ["check-in", "check-out", "no-show", "visit-note"])
def test_the_family_and_kiosks_can_not_post_visit_actions(as_caregiver, as_kiosk, action):
    session = factories.RespiteSessionFactory(
        recipient=factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile), status=S.CONFIRMED
    )
    assert as_caregiver.post(f"/sessions/{session.id}/{action}").status_code == 403
    assert as_kiosk.post(f"/sessions/{session.id}/{action}").status_code == 403


def test_a_provider_with_only_an_offer_is_refused(as_provider):
    session = factories.RespiteSessionFactory(status=S.REQUESTED, starts_at=utcnow())
    factories.AssignmentFactory(session=session, provider=as_provider.user.provider_profile, status="offered")
    db.session.commit()
    assert as_provider.post(f"/sessions/{session.id}/check-in").status_code == 403
    assert stored(session).status == S.REQUESTED


# --- No-show --------------------------------------------------------------------------------


def test_a_no_show_needs_a_note_then_shows_with_it(as_provider, as_caregiver):
    recipient = factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
    session = held_session(as_provider, minutes_from_now=-20, recipient=recipient)
    body = page(as_provider, session)
    assert f'action="/sessions/{session.id}/no-show"' in body
    assert "Check in now" in body  # late, but still within the session

    response = as_provider.post(f"/sessions/{session.id}/no-show", data={"note": "  ", "version": session.version})
    assert response.status_code == 422
    assert field_error(response, "no-show-note").startswith("Say what happened")
    assert stored(session).status == S.CONFIRMED

    response = as_provider.post(
        f"/sessions/{session.id}/no-show",
        data={"note": "Waited 20 minutes, rang twice, no answer.", "version": stored(session).version},
        follow_redirects=True,
    )
    assert "recorded as a no-show" in response.text
    assert stored(session).status == S.NO_SHOW
    family = page(as_caregiver, session)
    assert "badge-no_show" in family
    assert "Waited 20 minutes, rang twice, no answer." in family
    assert "Marked as a no-show</strong> by" in family


def test_a_no_show_too_early_says_when_it_can_be_recorded(as_provider):
    session = held_session(as_provider, minutes_from_now=-5)
    response = as_provider.post(
        f"/sessions/{session.id}/no-show", data={"note": "Nobody", "version": session.version}, headers=HTMX
    )
    assert response.status_code == 422
    assert "15 minutes after the start" in field_error(response, "visit-actions")


# --- The visit note ---------------------------------------------------------------------------


def note_data(**parts):
    return {"went_well": "", "concerns": "", "medication_given": "", **parts}


def test_the_provider_writes_the_note_and_the_family_and_coordinators_read_it(
    as_provider, as_caregiver, as_coordinator
):
    recipient = factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile)
    session = held_session(as_provider, minutes_from_now=-200, status=S.COMPLETED, recipient=recipient)
    body = page(as_provider, session)
    for field in ("went_well", "concerns", "medication_given"):
        assert f'name="{field}"' in body

    response = as_provider.post(
        f"/sessions/{session.id}/visit-note",
        data=note_data(went_well="Baked scones; laughed a lot.", medication_given="Donepezil 10 mg at 12:30"),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{session.id}"
    assert "The visit note is saved" in as_provider.get(response.headers["Location"]).text

    for reader in (as_caregiver, as_coordinator):
        body = page(reader, session)
        assert "Baked scones; laughed a lot." in body
        assert "Donepezil 10 mg at 12:30" in body
        assert as_provider.user.display_name in body
        assert 'name="went_well"' not in body  # read-only
    assert len(audit_rows("visit_note.create")) == 1


def test_the_author_changes_the_note_with_htmx(as_provider):
    session = held_session(as_provider, minutes_from_now=-30, status=S.CHECKED_IN)
    as_provider.post(f"/sessions/{session.id}/visit-note", data=note_data(went_well="Quiet morning"))
    assert "Quiet morning</textarea>" in page(as_provider, session)  # the form, filled in, to change it
    response = as_provider.post(
        f"/sessions/{session.id}/visit-note",
        data=note_data(went_well="Quiet morning", concerns="Low appetite"),
        headers=HTMX,
    )
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "The visit note is saved" in response.text
    notes = db.session.scalars(select(VisitNote).where(VisitNote.session_id == session.id)).all()
    assert [(n.went_well, n.concerns) for n in notes] == [("Quiet morning", "Low appetite")]
    assert len(audit_rows("visit_note.update")) == 1


def test_an_empty_or_too_long_note_answers_422_beside_the_field_and_keeps_what_was_typed(as_provider):
    session = held_session(as_provider, minutes_from_now=-30, status=S.CHECKED_IN)
    response = as_provider.post(f"/sessions/{session.id}/visit-note", data=note_data())
    assert response.status_code == 422
    assert field_error(response, "visit-went-well") == "Write at least one part of the note."

    response = as_provider.post(
        f"/sessions/{session.id}/visit-note", data=note_data(went_well="Good day", concerns="c" * 4001)
    )
    assert response.status_code == 422
    assert field_error(response, "visit-concerns") == "Keep this to 4000 characters or fewer (it has 4001)."
    assert "Good day</textarea>" in response.text
    assert 'aria-invalid="true"' in response.text
    assert db.session.scalars(select(VisitNote)).all() == []


def test_control_characters_in_the_note_are_refused_beside_the_field(as_provider):
    session = held_session(as_provider, minutes_from_now=-30, status=S.CHECKED_IN)
    response = as_provider.post(f"/sessions/{session.id}/visit-note", data=note_data(concerns="bad\x00byte"))
    assert response.status_code == 422
    assert field_error(response, "visit-concerns") == "Remove the hidden control characters from this field."


def test_no_note_form_before_the_session_has_started(as_provider):
    session = held_session(as_provider, minutes_from_now=-5)
    assert 'name="went_well"' not in page(as_provider, session)
    response = as_provider.post(f"/sessions/{session.id}/visit-note", data=note_data(went_well="Early"))
    assert response.status_code == 422
    assert "once the session has started" in field_error(response, "visit-actions")


def test_a_coordinator_can_not_write_the_note(as_coordinator):
    session = factories.RespiteSessionFactory(status=S.COMPLETED)
    assert as_coordinator.post(f"/sessions/{session.id}/visit-note", data=note_data(went_well="x")).status_code == 403


# --- Navigation -----------------------------------------------------------------------------


def test_providers_have_a_schedule_link_and_others_do_not(as_provider, as_caregiver):
    assert 'href="/schedule"' in as_provider.get("/provider").text
    assert 'href="/schedule"' not in as_caregiver.get("/caregiver").text
