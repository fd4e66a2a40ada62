"""The request pages through HTTP: a plain form post without JavaScript, the inline check htmx calls, double taps,
edits, series cancels, who may open what."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from respite.database import DatabaseBusy
from respite.extensions import db
from respite.models import RespiteSession, SessionStatus, utcnow
from respite.scheduling import views
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error

S = SessionStatus
CHICAGO = ZoneInfo("America/Chicago")  # the factories' zone
KEY = "0b8e7f4e-2f7a-4c55-8d0a-0d5c2b3f9e61"


@pytest.fixture
def person(as_caregiver):
    return factories.CareRecipientFactory(caregiver=as_caregiver.user.caregiver_profile, first_name="Ada")


@pytest.fixture
def center():
    return factories.CenterFactory(name="Maple House")


def next_week():
    return (utcnow().astimezone(CHICAGO) + timedelta(days=7)).date()


@pytest.fixture
def form(person, center):
    """A valid request as a browser sends it: 10:00–13:00 a week from today, at the center."""
    return {
        "recipient_id": str(person.id),
        "day": next_week().isoformat(),
        "start": "10:00",
        "minutes": "180",
        "location_kind": "center",
        "center_id": str(center.id),
        "address": "",
        "notes": "Bring the crossword",
        "weeks": "1",
        "request_key": KEY,
    }


def sessions_of(person):
    db.session.expire_all()
    return db.session.scalars(
        select(RespiteSession).where(RespiteSession.recipient_id == person.id).order_by(RespiteSession.starts_at)
    ).all()


def count_sessions():
    return db.session.scalar(select(func.count()).select_from(RespiteSession))


HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/sessions/new"}


# --- The page ---------------------------------------------------------------------------------


def test_the_form_offers_the_persons_the_centers_and_the_hours_left(as_caregiver, person, center):
    page = as_caregiver.get("/sessions/new")
    assert page.status_code == 200
    body = page.text
    assert f'<option selected value="{person.id}">{person.full_name}</option>' in body
    assert f'<option value="{center.id}">Maple House</option>' in body
    assert re.search(r'name="request_key" type="hidden" value="[0-9a-f-]{36}"', body)
    assert "America/Chicago" in body
    assert "You have <strong>100 h</strong> of respite left this year." in body
    # Inline validation: each field posts the form to the check endpoint, text fields as the user types.
    assert 'hx-post="/sessions/new/check"' in body
    assert 'hx-trigger="keyup changed delay:400ms, change"' in body
    assert '<div id="day-feedback" class="field-feedback" aria-live="polite"></div>' in body


def test_each_page_has_a_fresh_request_key(as_caregiver, person):
    keys = {
        re.search(r'name="request_key" type="hidden" value="([^"]+)"', as_caregiver.get("/sessions/new").text)[1]
        for _ in range(2)
    }
    assert len(keys) == 2


def test_with_several_people_the_form_asks_who(as_caregiver, person):
    factories.CareRecipientFactory(caregiver=person.caregiver)
    body = as_caregiver.get("/sessions/new").text
    assert '<option selected value="">Choose a person…</option>' in body
    body = as_caregiver.get(f"/sessions/new?recipient={person.id}").text
    assert f'<option selected value="{person.id}">' in body


def test_without_anyone_to_care_for_the_page_leads_to_adding_a_person(as_caregiver):
    body = as_caregiver.get("/sessions/new").text
    assert 'href="/people/new"' in body
    assert '<form class="stack request-form"' not in body


@pytest.mark.parametrize("client_fixture", ["as_provider", "as_coordinator", "as_kiosk"])
def test_only_caregivers_request(request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    assert client.get("/sessions/new").status_code == 403
    assert client.post("/sessions/new", data={}).status_code == 403
    assert client.post("/sessions/new/check", data={}).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/sessions/new")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_statement_count_is_the_same_for_few_or_many_people_centers_and_sessions(as_caregiver, person):
    profile = person.caregiver

    def add_rows(count):
        for _ in range(count):
            recipient = factories.CareRecipientFactory(caregiver=profile)
            factories.CenterFactory()
            factories.RespiteSessionFactory(recipient=recipient)

    assert_statement_budget(as_caregiver, "/sessions/new", add_rows, budget=5 + NAV)


# --- Sending it without JavaScript ---------------------------------------------------------------


def test_a_plain_post_books_the_session_and_opens_its_page(as_caregiver, person, form):
    response = as_caregiver.post("/sessions/new", data=form)
    (session,) = sessions_of(person)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{session.id}"
    assert session.starts_at.astimezone(CHICAGO).hour == 10
    assert session.request_notes == "Bring the crossword"
    assert session.request_key == KEY
    page = as_caregiver.get(response.headers["Location"]).text
    assert "Your request for" in page
    assert len(audit_rows("session.request")) == 1


def test_a_series_posts_to_the_sessions_list(as_caregiver, person, form):
    response = as_caregiver.post("/sessions/new", data=dict(form, weeks="3"))
    assert response.headers["Location"] == "/sessions"
    sessions = sessions_of(person)
    assert len(sessions) == 3
    assert len({s.series_id for s in sessions}) == 1
    assert "Your weekly request is sent: 3 sessions" in as_caregiver.get("/sessions").text


def test_a_double_tap_books_once_and_lands_on_the_same_page(as_caregiver, person, form):
    first = as_caregiver.post("/sessions/new", data=form)
    second = as_caregiver.post("/sessions/new", data=form)
    assert second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"]
    assert len(sessions_of(person)) == 1
    assert "This request was already sent; nothing was added." in as_caregiver.get(second.headers["Location"]).text


def test_a_double_tap_of_a_series_books_one_series(as_caregiver, person, form):
    as_caregiver.post("/sessions/new", data=dict(form, weeks="4"))
    as_caregiver.post("/sessions/new", data=dict(form, weeks="4"))
    assert len(sessions_of(person)) == 4


@pytest.mark.parametrize(
    ("changes", "field", "msg"),
    [
        ({"minutes": "10"}, "minutes", "A session lasts at least 30 minutes and at most 24 hours."),
        ({"minutes": "1470"}, "minutes", "A session lasts at least 30 minutes and at most 24 hours."),
        ({"location_kind": "home"}, "address", "Enter the address where the session will be."),
        ({"center_id": ""}, "center_id", "Choose a center."),
        ({"day": ""}, "day", "Choose a date."),
        ({"day": "2020-01-01"}, "day", "Choose today or a later date."),
        ({"day": "next tuesday"}, "day", "Not a valid date value."),
        ({"start": "25:00"}, "start", "Not a valid time value."),
        ({"weeks": "40"}, "weeks", "Repeat for 1 to 12 weeks."),
        ({"recipient_id": "999999"}, "recipient_id", "Choose one of the people you care for."),
        ({"recipient_id": str(10**30)}, "recipient_id", "Invalid Choice: could not coerce."),
        ({"center_id": "x"}, "center_id", "Invalid Choice: could not coerce."),
        ({"notes": "Bell\x07"}, "notes", "Remove the hidden control characters from this field."),
    ],
)
def test_an_invalid_post_answers_422_with_the_message_beside_the_field(as_caregiver, person, form, changes, field, msg):
    response = as_caregiver.post("/sessions/new", data=dict(form, **changes))
    assert response.status_code == 422
    assert field_error(response, field) == msg
    assert 'class="form-errors"' in response.text
    assert sessions_of(person) == []


def test_someone_elses_person_in_the_form_is_refused_like_an_unknown_one(as_caregiver, person, form):
    stranger = factories.CareRecipientFactory()
    response = as_caregiver.post("/sessions/new", data=dict(form, recipient_id=str(stranger.id)))
    assert response.status_code == 422
    assert field_error(response, "recipient_id") == "Choose one of the people you care for."
    assert stranger.full_name not in response.text


def test_a_refused_post_keeps_what_was_typed_and_its_key(as_caregiver, person, form):
    response = as_caregiver.post("/sessions/new", data=dict(form, minutes="10", notes="Keep me"))
    assert "Keep me</textarea>" in response.text
    assert f'value="{KEY}"' in response.text


def test_a_post_without_a_key_gets_one_for_the_next_try(as_caregiver, person, form):
    response = as_caregiver.post("/sessions/new", data=dict(form, minutes="10", request_key="not-a-key"))
    assert re.search(r'name="request_key" type="hidden" value="[0-9a-f-]{36}"', response.text)


def test_a_clash_names_the_date(as_caregiver, person, form):
    as_caregiver.post("/sessions/new", data=form)
    response = as_caregiver.post("/sessions/new", data=dict(form, start="12:00", request_key=""))
    assert response.status_code == 422
    assert field_error(response, "day").startswith("Ada already has a session at that time on ")
    assert len(sessions_of(person)) == 1


def test_without_javascript_check_shows_the_hours_before_sending(as_caregiver, person, form):
    response = as_caregiver.post("/sessions/new", data=dict(form, weeks="2", action="check"))
    assert response.status_code == 200
    assert "This request uses <strong>6 h</strong> (2 sessions of 3 h)." in response.text
    assert "Hours left this year after it:" in response.text
    assert sessions_of(person) == []


def test_a_request_beyond_the_hours_left_is_sent_with_a_warning(as_caregiver, person, form):
    person.caregiver.annual_allotment_minutes = 60
    db.session.flush()
    response = as_caregiver.post("/sessions/new", data=dict(form, action="check"))
    assert "This asks for 2 h more than you have left this year." in response.text
    assert as_caregiver.post("/sessions/new", data=form).status_code == 302


def test_the_view_takes_the_write_lock_before_the_service(as_caregiver, person, form, monkeypatch):
    calls = []
    monkeypatch.setattr(views, "write_lock", lambda: calls.append(count_sessions()))
    as_caregiver.post("/sessions/new", data=form)
    assert calls == [0]


def test_a_busy_database_asks_to_try_again(as_caregiver, person, form, monkeypatch):
    def busy():
        raise DatabaseBusy("The database is busy; please try again.")

    monkeypatch.setattr(views, "write_lock", busy)
    response = as_caregiver.post("/sessions/new", data=form)
    assert response.status_code == 302
    assert "The database is busy" in as_caregiver.get(response.headers["Location"]).text
    assert sessions_of(person) == []


def test_a_paused_profile_is_told_so(as_caregiver, person, form):
    person.caregiver.active = False
    db.session.flush()
    response = as_caregiver.post("/sessions/new", data=form)
    assert "paused" in response.text
    assert sessions_of(person) == []


# --- The inline check (htmx) ----------------------------------------------------------------------


def check(client, data, changed, path="/sessions/new/check"):
    return client.post(path, data=data, headers=dict(HTMX, **{"HX-Trigger-Name": changed}))


def feedback(response, field):
    match = re.search(rf'<div id="{field}-feedback"[^>]*hx-swap-oob="innerHTML">(.*?)</div>', response.text, re.S)
    assert match, f"no feedback for {field}"
    return re.sub(r"<[^>]+>", "", match[1]).strip()


def test_the_check_answers_every_fields_message_and_the_hours_out_of_band(as_caregiver, person, form):
    response = check(as_caregiver, dict(form, weeks="3"), "weeks")
    assert response.status_code == 200
    assert "<html" not in response.text
    for field in ("recipient_id", "day", "start", "minutes", "location_kind", "center_id", "address", "notes", "weeks"):
        assert feedback(response, field) == ""
    assert '<div id="request-summary" aria-live="polite" hx-swap-oob="innerHTML">' in response.text
    assert "This request uses <strong>9 h</strong> (3 sessions of 3 h)." in response.text
    assert sessions_of(person) == []


def test_the_check_speaks_of_what_was_filled_in_and_of_the_field_just_changed(as_caregiver, person, form):
    response = check(as_caregiver, dict(form, day="", start="", minutes="10", location_kind="home"), "minutes")
    assert feedback(response, "minutes") == "A session lasts at least 30 minutes and at most 24 hours."
    assert feedback(response, "day") == ""  # not reached yet: no "Choose a date" ahead of the user
    assert feedback(response, "address") == ""
    response = check(as_caregiver, dict(form, location_kind="home"), "address")
    assert feedback(response, "address") == "Enter the address where the session will be."


def test_the_check_names_a_clash_as_the_date_is_chosen(as_caregiver, person, form):
    as_caregiver.post("/sessions/new", data=form)
    response = check(as_caregiver, dict(form, request_key=""), "day")
    assert feedback(response, "day").startswith("Ada already has a session at that time on")


def test_the_check_reports_a_date_that_does_not_parse(as_caregiver, person, form):
    response = check(as_caregiver, dict(form, day="31/02/2026"), "day")
    assert feedback(response, "day") == "Not a valid date value."


def test_the_check_writes_nothing(as_caregiver, person, form):
    before = len(audit_rows())
    check(as_caregiver, form, "day")
    assert sessions_of(person) == []
    assert len(audit_rows()) == before


# --- Changing a request -----------------------------------------------------------------------------


@pytest.fixture
def booked(as_caregiver, person, form):
    as_caregiver.post("/sessions/new", data=form)
    (session,) = sessions_of(person)
    return session


def edit_form(form, session, **changes):
    data = {k: v for k, v in form.items() if k not in ("recipient_id", "weeks", "request_key")}
    data.update(version=str(session.version), request_key="5d0c1f43-3f3e-4f7e-9b8c-4a2a1c2b3d4e")
    data.update(changes)
    return data


def test_the_edit_page_starts_from_the_session_in_the_caregivers_zone(as_caregiver, booked):
    body = as_caregiver.get(f"/sessions/{booked.id}/edit").text
    assert f'value="{booked.starts_at.astimezone(CHICAGO).date().isoformat()}"' in body
    assert 'name="start" type="time" value="10:00"' in body
    assert '<option selected value="180">3 h</option>' in body
    assert f'name="version" type="hidden" value="{booked.version}"' in body
    assert "Bring the crossword</textarea>" in body
    assert 'name="recipient_id"' not in body
    assert 'name="weeks"' not in body
    assert f'hx-post="/sessions/{booked.id}/edit/check"' in body


def test_a_request_is_edited_through_the_page(as_caregiver, person, booked, form):
    response = as_caregiver.post(f"/sessions/{booked.id}/edit", data=edit_form(form, booked, start="11:30"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/sessions/{booked.id}"
    (session,) = sessions_of(person)
    assert session.starts_at.astimezone(CHICAGO).strftime("%H:%M") == "11:30"
    assert "Your request is changed." in as_caregiver.get(response.headers["Location"]).text
    assert len(audit_rows("session.edit")) == 1


def test_an_invalid_edit_answers_422_in_place(as_caregiver, booked, form):
    response = as_caregiver.post(f"/sessions/{booked.id}/edit", data=edit_form(form, booked, minutes="15"))
    assert response.status_code == 422
    assert field_error(response, "minutes") == "A session lasts at least 30 minutes and at most 24 hours."


def test_an_edit_from_a_stale_page_is_told_and_changes_nothing(as_caregiver, person, booked, form):
    stale = edit_form(form, booked, start="11:30", version=str(booked.version - 1))
    response = as_caregiver.post(f"/sessions/{booked.id}/edit", data=stale)
    assert response.status_code == 302
    assert "changed while you were looking" in as_caregiver.get(response.headers["Location"]).text
    assert sessions_of(person)[0].starts_at == booked.starts_at


def test_changing_a_confirmed_session_sends_a_new_request_and_cancels_it(as_caregiver, person, booked, form):
    booked.status = S.CONFIRMED
    db.session.flush()
    response = as_caregiver.post(f"/sessions/{booked.id}/edit", data=edit_form(form, booked, start="14:00"))
    old, new = sorted(sessions_of(person), key=lambda s: s.id)
    assert response.headers["Location"] == f"/sessions/{new.id}"
    assert (old.status, new.status) == (S.CANCELLED, S.REQUESTED)
    assert old.status_reason.startswith("Changed by the family: new request for ")
    page = as_caregiver.get(response.headers["Location"]).text
    assert "Your change is sent as a new request; the confirmed session is cancelled." in page
    again = as_caregiver.post(f"/sessions/{booked.id}/edit", data=edit_form(form, booked, start="14:00"))
    assert again.headers["Location"] == f"/sessions/{new.id}"
    assert len(sessions_of(person)) == 2


def test_the_edit_check_answers_for_that_session(as_caregiver, booked, form):
    response = check(as_caregiver, edit_form(form, booked, start="10:30"), "start", f"/sessions/{booked.id}/edit/check")
    assert response.status_code == 200
    assert feedback(response, "start") == ""  # its own old time is no clash
    assert "This request uses <strong>3 h</strong>." in response.text


def test_a_session_that_can_not_change_sends_the_page_back_with_why(as_caregiver, booked):
    booked.status = S.CANCELLED
    db.session.flush()
    response = as_caregiver.get(f"/sessions/{booked.id}/edit")
    assert response.headers["Location"] == f"/sessions/{booked.id}"
    assert "A cancelled session can&#39;t be edited." in as_caregiver.get(response.headers["Location"]).text


# --- Cancelling the rest of a series ------------------------------------------------------------------


def test_cancel_the_rest_of_a_series_from_the_page(as_caregiver, person, form):
    as_caregiver.post("/sessions/new", data=dict(form, weeks="3"))
    first, second, third = sessions_of(person)
    response = as_caregiver.post(
        f"/sessions/{second.id}/cancel-series", data={"reason": "Away", "version": str(second.version)}
    )
    assert response.headers["Location"] == "/sessions"
    assert "2 sessions are cancelled." in as_caregiver.get("/sessions").text
    assert [s.status for s in sessions_of(person)] == [S.REQUESTED, S.CANCELLED, S.CANCELLED]
    assert {s.status_reason for s in sessions_of(person)[1:]} == {"Away"}


def test_cancel_the_rest_of_a_single_session_says_why_not(as_caregiver, booked):
    response = as_caregiver.post(f"/sessions/{booked.id}/cancel-series", follow_redirects=True)
    assert "This session is not part of a series." in response.text


def test_the_actions_fragment_shows_change_and_cancel_the_rest_when_allowed(app, as_caregiver, person, form):
    as_caregiver.post("/sessions/new", data=dict(form, weeks="2"))
    first, _ = sessions_of(person)
    with app.test_request_context():
        from flask import render_template
        from flask_login import login_user

        login_user(as_caregiver.user)
        html = render_template("scheduling/_request_actions.html", s=first)
    assert f'href="/sessions/{first.id}/edit"' in html
    assert f'action="/sessions/{first.id}/cancel-series"' in html


@pytest.mark.parametrize("client_fixture", ["as_provider", "as_kiosk"])
def test_providers_and_kiosks_can_not_change_or_cancel_series(request, client_fixture):
    session = factories.RespiteSessionFactory(series_id="s")
    client = request.getfixturevalue(client_fixture)
    assert client.get(f"/sessions/{session.id}/edit").status_code == 403
    assert client.post(f"/sessions/{session.id}/cancel-series").status_code == 403


# --- Someone else's, or nothing at all: 404 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/sessions/{id}/edit"),
        ("post", "/sessions/{id}/edit"),
        ("post", "/sessions/{id}/edit/check"),
        ("post", "/sessions/{id}/cancel-series"),
    ],
)
def test_someone_elses_or_a_missing_session_is_not_found(as_caregiver, method, path):
    theirs = factories.RespiteSessionFactory(series_id="s")
    db.session.commit()  # the 404 rolls back what the request had; the session stays for the second call
    for session_id in (theirs.id, 999_999):
        assert getattr(as_caregiver, method)(path.format(id=session_id)).status_code == 404


def test_someone_elses_person_in_the_address_is_not_found(as_caregiver, person):
    stranger = factories.CareRecipientFactory()
    db.session.commit()
    for recipient in (stranger.id, 999_999, 10**30):
        assert as_caregiver.get(f"/sessions/new?recipient={recipient}").status_code == 404
