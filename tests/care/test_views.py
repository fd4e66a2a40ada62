"""The care pages through HTTP, as a browser without JavaScript uses them: lists, forms, the card, who has read it."""

import re
from datetime import date, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from respite.care import services
from respite.extensions import db
from respite.models import AssignmentStatus, CareCardVersion, CareRecipient, SessionStatus, utcnow
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error, sign_in

CARD = {
    "needs": "Moderate Alzheimer's.\nNeeds help standing up.",
    "allergies": "Penicillin.",
    "mobility": "Walks with a frame.",
    "behaviours": "Anxious late afternoon: put on the radio.",
    "medications": [
        {"name": "Donepezil", "dose": "10 mg", "times": "8 pm"},
        {"name": "Paracetamol", "dose": "500 mg", "times": "as needed"},
    ],
    "emergency_contacts": [{"name": "Rosa Martinez", "relationship": "Daughter", "phone": "+1 (555) 0142"}],
    "authorised_people": [{"name": "Luis Martinez", "relationship": "Grandson", "phone": "555-0143"}],
}


@pytest.fixture
def elena(as_caregiver):
    return factories.CareRecipientFactory(
        caregiver=as_caregiver.user.caregiver_profile, first_name="Elena", last_name="Martinez"
    )


@pytest.fixture
def carded(as_caregiver, elena):
    services.save_care_card(as_caregiver.user, elena, CARD)
    db.session.flush()
    return elena


def assign(provider_user, recipient, status=AssignmentStatus.ACCEPTED, days=1):
    starts = utcnow() + timedelta(days=days)
    session = factories.RespiteSessionFactory(
        recipient=recipient, starts_at=starts, ends_at=starts + timedelta(hours=2), status=SessionStatus.CONFIRMED
    )
    return factories.AssignmentFactory(session=session, provider=provider_user.provider_profile, status=status)


def form_data(card, based_on=None):
    """The card form as a browser posts it: every box, with two empty rows after each list."""
    data = {name: card.get(name, "") for name in ("needs", "allergies", "mobility", "diet", "routines")}
    data.update({name: card.get(name, "") for name in ("behaviours", "communication")})
    for name, keys in services.LIST_ITEM_KEYS.items():
        rows = [*card.get(name, []), {}, {}]
        for index, row in enumerate(rows):
            for key in keys:
                data[f"{name}-{index}-{key}"] = row.get(key, "")
    if based_on is not None:
        data["based_on"] = str(based_on)
    return data


def versions(recipient):
    return db.session.scalars(
        select(CareCardVersion.number).where(CareCardVersion.recipient_id == recipient.id).order_by("number")
    ).all()


def fresh(recipient):
    db.session.expire_all()
    return db.session.get(CareRecipient, recipient.id)


# --- Who may open what -----------------------------------------------------------------------------

PAGES = ["/people/{id}", "/people/{id}/edit", "/people/{id}/card/edit"]


@pytest.mark.parametrize("page", PAGES)
def test_someone_elses_or_an_unknown_person_is_not_found_for_a_caregiver(as_caregiver, page):
    stranger = factories.CareRecipientFactory()
    db.session.commit()  # the setup is in place (a 404 rolls back what its request changed)
    assert as_caregiver.get(page.format(id=stranger.id)).status_code == 404
    assert as_caregiver.get(page.format(id=999999)).status_code == 404
    assert as_caregiver.post(f"/people/{stranger.id}/deactivate").status_code == 404
    assert fresh(stranger).active is True
    assert audit_rows("care.card_read") == []
    assert len(audit_rows("access.not_found")) == 3


@pytest.mark.parametrize("page", PAGES)
def test_a_coordinator_opens_anyone_but_no_one_unknown(as_coordinator, page):
    person = factories.CareRecipientFactory()
    db.session.commit()
    assert as_coordinator.get(page.format(id=person.id)).status_code == 200
    assert as_coordinator.get(page.format(id=999999)).status_code == 404


def test_a_provider_reads_only_the_people_of_their_live_assignments(as_provider, carded):
    db.session.commit()
    assert as_provider.get(f"/people/{carded.id}").status_code == 404
    assign(as_provider.user, carded, AssignmentStatus.DECLINED)
    db.session.commit()
    assert as_provider.get(f"/people/{carded.id}").status_code == 404
    assign(as_provider.user, carded, AssignmentStatus.OFFERED, days=3)
    response = as_provider.get(f"/people/{carded.id}")
    assert response.status_code == 200
    assert "Penicillin." in response.text
    assert "Who has read the care card" not in response.text  # the family's and coordinators' view
    assert "Edit the care card" not in response.text
    assert as_provider.get("/people/999999").status_code == 404


@pytest.mark.parametrize("page", ["/people/{id}/edit", "/people/{id}/card/edit", "/people", "/people/new"])
def test_a_provider_changes_no_one(as_provider, carded, page):
    assign(as_provider.user, carded)
    assert as_provider.get(page.format(id=carded.id)).status_code == 403
    assert as_provider.post(f"/people/{carded.id}/deactivate").status_code == 403


@pytest.mark.parametrize("page", ["/people", "/people/new", *PAGES])
def test_a_kiosk_opens_no_care_page(as_kiosk, carded, page):
    assert as_kiosk.get(page.format(id=carded.id)).status_code == 403
    assert audit_rows("care.card_read") == []


@pytest.mark.parametrize("page", ["/people", "/people/new"])
def test_the_caregivers_own_pages_are_theirs_alone(as_coordinator, page):
    assert as_coordinator.get(page).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, carded):
    for page in ["/people", "/people/new", *PAGES]:
        response = client.get(page.format(id=carded.id))
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


# --- The list and adding a person -----------------------------------------------------------------------


def test_a_new_caregivers_list_offers_to_add_someone(as_caregiver):
    text = as_caregiver.get("/people").text
    assert "No one added yet." in text
    assert 'href="/people/new">Add the person you care for</a>' in text


def test_the_list_shows_the_caregivers_active_people_with_their_cards(as_caregiver, carded):
    profile = as_caregiver.user.caregiver_profile
    factories.CareRecipientFactory(caregiver=profile, first_name="Gone", active=False)
    factories.CareRecipientFactory(first_name="Zebedee")
    born = factories.CareRecipientFactory(caregiver=profile, first_name="Lily", date_of_birth=date(2016, 7, 21))
    text = as_caregiver.get("/people").text
    assert f'<a href="/people/{carded.id}">Elena Martinez</a>' in text
    assert "Version 1" in text
    assert f'href="/people/{born.id}/card/edit">Fill in the care card</a>' in text
    assert f'href="/people/{born.id}/edit"' in text
    assert "Gone" not in text
    assert "Zebedee" not in text
    assert 'data-label="Age"' in text


def test_the_nav_leads_a_caregiver_to_their_people(as_caregiver):
    assert '<a href="/people"' in as_caregiver.get("/caregiver").text
    assert 'href="/people" aria-current="page"' in as_caregiver.get("/people").text


def test_adding_a_person_leads_on_to_their_care_card(as_caregiver):
    response = as_caregiver.post(
        "/people/new", data={"first_name": " Elena ", "last_name": "Martinez", "date_of_birth": "1941-03-09"}
    )
    person = db.session.scalar(select(CareRecipient).where(CareRecipient.first_name == "Elena"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/people/{person.id}/card/edit"
    assert person.date_of_birth == date(1941, 3, 9)
    assert person.caregiver_id == as_caregiver.user.caregiver_profile.id
    assert len(audit_rows("care.recipient_add")) == 1
    followed = as_caregiver.get(response.headers["Location"])
    assert "Elena Martinez is added." in followed.text


def test_the_date_of_birth_is_optional(as_caregiver):
    response = as_caregiver.post("/people/new", data={"first_name": "Lily", "last_name": "Chen", "date_of_birth": ""})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"first_name": "", "last_name": "Martinez"}, "first_name", "Enter their first name."),
        ({"first_name": "Elena", "last_name": "  "}, "last_name", "Enter their last name."),
        ({"first_name": "E" * 81, "last_name": "M"}, "first_name", "Field cannot be longer than 80 characters."),
        (
            {"first_name": "Elena", "last_name": "M", "date_of_birth": "9/3/1941"},
            "date_of_birth",
            "Enter the date as year-month-day, for example 1941-03-09.",
        ),
        (
            {"first_name": "Elena", "last_name": "M", "date_of_birth": (date.today() + timedelta(days=2)).isoformat()},
            "date_of_birth",
            "A date of birth can't be in the future.",
        ),
        ({"first_name": "El\x00ena", "last_name": "M"}, "first_name", "Remove the hidden control characters"),
    ],
)
def test_a_refused_person_comes_back_with_the_message_beside_the_field(as_caregiver, data, field, message):
    response = as_caregiver.post("/people/new", data=data)
    assert response.status_code == 422
    assert field_error(response, field).startswith(message)
    assert "Please correct the" in response.text
    assert db.session.scalar(select(CareRecipient.id)) is None


# --- The person's page and their card -----------------------------------------------------------------------


def test_the_card_page_shows_the_whole_card_and_records_the_read(as_caregiver, carded):
    response = as_caregiver.get(f"/people/{carded.id}")
    text = response.text
    assert response.status_code == 200
    assert '<h3 id="allergies-heading">Allergies</h3>' in text
    assert text.index("Penicillin.") < text.index("Donepezil")  # allergies come first
    for shown in ("10 mg", "8 pm", "Paracetamol", "Walks with a frame.", "put on the radio", "Luis Martinez"):
        assert shown in text
    assert '<a class="btn btn-secondary" href="tel:+15550142">Call +1 (555) 0142</a>' in text
    assert 'href="tel:5550143"' in text
    assert "Version 1, saved" in text
    assert f"by {as_caregiver.user.display_name}" in text
    assert f'href="/people/{carded.id}/card/edit">Edit the care card</a>' in text
    (read,) = audit_rows("care.card_read")
    assert (read.actor_id, read.entity_id, read.meta) == (
        as_caregiver.user.id,
        str(carded.id),
        {"version": 1, "purpose": "view"},
    )


@pytest.mark.parametrize("client_fixture", ["as_provider", "as_coordinator"])
def test_every_reader_is_audited(request, carded, client_fixture):
    client = request.getfixturevalue(client_fixture)
    if client_fixture == "as_provider":
        assign(client.user, carded)
    client.get(f"/people/{carded.id}")
    client.get(f"/people/{carded.id}")
    reads = audit_rows("care.card_read")
    assert [r.actor_id for r in reads] == [client.user.id, client.user.id]


def test_a_person_without_a_card_invites_one_and_records_no_read(as_caregiver, elena):
    text = as_caregiver.get(f"/people/{elena.id}").text
    assert "Elena has no care card yet." in text
    assert f'href="/people/{elena.id}/card/edit">Fill in the care card</a>' in text
    assert audit_rows("care.card_read") == []


def test_a_coordinator_sees_the_family_and_may_manage(as_coordinator, carded):
    text = as_coordinator.get(f"/people/{carded.id}").text
    assert carded.caregiver.full_name in text
    assert "Edit the care card" in text
    assert "Who has read the care card" in text


def test_who_has_read_which_version(as_caregiver, carded):
    read_it, old, none = (factories.ProviderProfileFactory(user__display_name=n).user for n in ("Cy", "Olga", "Ned"))
    for days, user in enumerate((read_it, old, none), start=1):
        assign(user, carded, days=days)
    services.acknowledge_care_card(old, carded)
    services.save_care_card(as_caregiver.user, carded, {**CARD, "diet": "Soft food."})
    services.acknowledge_care_card(read_it, carded)
    db.session.flush()
    text = as_caregiver.get(f"/people/{carded.id}").text
    assert "Read the current version (2)" in text
    assert "Read version 1, not the current 2" in text
    assert "Not read yet" in text
    assert text.index("Cy") < text.index("Olga") < text.index("Ned")  # by their next session


def test_without_assigned_providers_the_list_says_so(as_caregiver, carded):
    assert "No provider is assigned to Elena's coming sessions yet." in as_caregiver.get(f"/people/{carded.id}").text


def test_the_readers_region_refreshes_alone_and_records_no_read(as_caregiver, carded):
    response = as_caregiver.get(f"/people/{carded.id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="card-readers"')
    assert 'hx-trigger="sse:session, respite:resync from:body"' in response.text
    assert "Penicillin" not in response.text
    assert audit_rows("care.card_read") == []
    assert "HX-Request" in response.headers["Vary"]


def test_a_providers_region_request_shows_nothing_of_the_readers(as_provider, carded):
    assign(as_provider.user, carded)
    response = as_provider.get(f"/people/{carded.id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.strip() == ""


def test_a_deactivated_persons_page_stays_readable_but_unchangeable(as_caregiver, carded):
    carded.active = False
    db.session.flush()
    text = as_caregiver.get(f"/people/{carded.id}").text
    assert "Elena is no longer active" in text
    assert "Edit the care card" not in text
    for page in (f"/people/{carded.id}/edit", f"/people/{carded.id}/card/edit"):
        response = as_caregiver.get(page, follow_redirects=True)
        assert "no longer active" in response.text
    response = as_caregiver.post(f"/people/{carded.id}/card/edit", data=form_data({**CARD, "diet": "x"}))
    assert response.status_code == 302
    assert versions(carded) == [1]


# --- Editing the card ------------------------------------------------------------------------------------------


def test_the_card_form_shows_the_rows_there_are_and_two_empty_ones(as_caregiver, carded):
    response = as_caregiver.get(f"/people/{carded.id}/card/edit")
    text = response.text
    assert response.status_code == 200
    assert 'name="medications-0-name" type="text" value="Donepezil"' in text
    assert 'name="medications-1-name" type="text" value="Paracetamol"' in text
    assert 'name="medications-3-name" type="text" value=""' in text
    assert 'name="medications-4-name"' not in text
    assert 'name="emergency_contacts-2-phone"' in text
    assert 'name="based_on" type="hidden" value="1"' in text
    assert ">\r\nModerate Alzheimer&#39;s.\nNeeds help standing up.</textarea>" in text
    (read,) = audit_rows("care.card_read")
    assert read.meta == {"version": 1, "purpose": "edit"}


def test_a_first_card_starts_empty_with_two_rows_each(as_caregiver, elena):
    text = as_caregiver.get(f"/people/{elena.id}/card/edit").text
    assert len(re.findall(r'name="medications-\d-name"', text)) == 2
    assert 'name="based_on" type="hidden" value="0"' in text
    assert audit_rows("care.card_read") == []


def test_saving_the_card_makes_the_next_version(as_caregiver, carded):
    changed = {**CARD, "diet": "Soft food.", "medications": [*CARD["medications"], {"name": "Vitamin D"}]}
    response = as_caregiver.post(f"/people/{carded.id}/card/edit", data=form_data(changed, based_on=1))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/people/{carded.id}"
    assert versions(carded) == [1, 2]
    card = fresh(carded).card
    assert card.text("diet") == "Soft food."
    assert card.items("medications")[2] == {"name": "Vitamin D", "dose": "", "times": ""}
    assert "Version 2 of Elena&#39;s care card is saved." in as_caregiver.get(f"/people/{carded.id}").text


def test_a_first_card_is_version_one(as_caregiver, elena):
    response = as_caregiver.post(f"/people/{elena.id}/card/edit", data=form_data(CARD, based_on=0))
    assert response.status_code == 302
    assert versions(elena) == [1]
    assert fresh(elena).card.items("emergency_contacts")[0]["phone"] == "+1 (555) 0142"


def test_clearing_a_row_removes_it(as_caregiver, carded):
    data = form_data(CARD, based_on=1)
    for key in ("name", "dose", "times"):
        data[f"medications-0-{key}"] = ""
    as_caregiver.post(f"/people/{carded.id}/card/edit", data=data)
    assert [m["name"] for m in fresh(carded).card.items("medications")] == ["Paracetamol"]


def test_an_unchanged_card_makes_no_version(as_caregiver, carded):
    response = as_caregiver.post(f"/people/{carded.id}/card/edit", data=form_data(CARD, based_on=1))
    assert response.status_code == 302
    assert versions(carded) == [1]
    assert "Nothing changed." in as_caregiver.get(f"/people/{carded.id}").text


def test_a_browsers_line_breaks_are_no_change(as_caregiver, carded):
    data = form_data(CARD, based_on=1)
    data["needs"] = CARD["needs"].replace("\n", "\r\n")
    as_caregiver.post(f"/people/{carded.id}/card/edit", data=data)
    assert versions(carded) == [1]


def test_a_coordinator_edits_a_card(as_coordinator, carded):
    response = as_coordinator.post(f"/people/{carded.id}/card/edit", data=form_data({**CARD, "diet": "Soft."}, 1))
    assert response.status_code == 302
    assert fresh(carded).card.author_id == as_coordinator.user.id


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ({"medications-0-name": "", "medications-0-dose": "10 mg"}, "medications-0-name", "Add the medicine's name"),
        ({"emergency_contacts-0-name": ""}, "emergency_contacts-0-name", "Add their name"),
        ({"emergency_contacts-0-phone": ""}, "emergency_contacts-0-phone", "Add a phone number"),
        ({"authorised_people-0-phone": "call me"}, "authorised_people-0-phone", "Enter a phone number with its digits"),
        ({"authorised_people-2-relationship": "Neighbour"}, "authorised_people-2-name", "Add their name"),
        ({"medications-1-dose": "x" * 201}, "medications-1-dose", "Use at most 200 characters."),
        ({"needs": "x" * 4001}, "needs", "Use at most 4000 characters."),
        ({"medications-3-times": "8\x07pm"}, "medications-3-times", "Remove the hidden control characters"),
    ],
)
def test_a_refused_card_comes_back_with_the_message_beside_the_row(as_caregiver, carded, row, field, message):
    data = {**form_data(CARD, based_on=1), **row}
    response = as_caregiver.post(f"/people/{carded.id}/card/edit", data=data)
    assert response.status_code == 422
    assert field_error(response, field).startswith(message)
    assert "Please correct what is marked below; nothing is saved yet." in response.text
    assert versions(carded) == [1]
    assert 'value="Paracetamol"' in response.text  # what was typed stays


def test_a_list_beyond_the_limit_is_refused_with_a_message(as_caregiver, carded):
    many = [{"name": f"Medicine {n}"} for n in range(services.LIST_LIMIT + 1)]
    response = as_caregiver.post(
        f"/people/{carded.id}/card/edit", data=form_data({**CARD, "medications": many}, based_on=1)
    )
    assert response.status_code == 422
    assert field_error(response, "medications") == (
        "A card holds at most 20 medications; clear the boxes of the rows you can do without."
    )
    assert versions(carded) == [1]


def test_a_full_list_offers_no_more_empty_rows(as_caregiver, coordinator, carded):
    full = [{"name": f"Medicine {n}"} for n in range(services.LIST_LIMIT)]
    services.save_care_card(coordinator, carded, {**CARD, "medications": full})
    db.session.flush()
    text = as_caregiver.get(f"/people/{carded.id}/card/edit").text
    assert 'name="medications-19-name"' in text
    assert 'name="medications-20-name"' not in text


def test_a_save_over_someone_elses_newer_version_is_stopped_then_allowed(as_caregiver, coordinator, carded):
    services.save_care_card(coordinator, carded, {**CARD, "diet": "Soft."})
    db.session.flush()
    mine = form_data({**CARD, "mobility": "Wheelchair."}, based_on=1)
    response = as_caregiver.post(f"/people/{carded.id}/card/edit", data=mine)
    assert response.status_code == 422
    assert "Someone saved version 2 of this care card while you were editing." in response.text
    assert 'name="based_on" type="hidden" value="2"' in response.text
    assert "Wheelchair." in response.text
    assert versions(carded) == [1, 2]
    again = as_caregiver.post(f"/people/{carded.id}/card/edit", data={**mine, "based_on": "2"})
    assert again.status_code == 302
    assert versions(carded) == [1, 2, 3]


# --- Editing and deactivating a person ----------------------------------------------------------------------------


def test_editing_a_persons_details(as_caregiver, elena):
    form = as_caregiver.get(f"/people/{elena.id}/edit").text
    assert 'value="Elena"' in form
    response = as_caregiver.post(
        f"/people/{elena.id}/edit", data={"first_name": "Elena", "last_name": "Ruiz", "date_of_birth": "1941-03-09"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/people/{elena.id}"
    assert fresh(elena).last_name == "Ruiz"
    assert len(audit_rows("care.recipient_update")) == 1
    same = as_caregiver.post(
        f"/people/{elena.id}/edit",
        data={"first_name": "Elena", "last_name": "Ruiz", "date_of_birth": "1941-03-09"},
        follow_redirects=True,
    )
    assert "Nothing changed." in same.text
    assert len(audit_rows("care.recipient_update")) == 1


def test_a_refused_edit_comes_back_with_the_message_in_place(as_caregiver, elena):
    future = (date.today() + timedelta(days=3)).isoformat()
    response = as_caregiver.post(
        f"/people/{elena.id}/edit", data={"first_name": "Elena", "last_name": "M", "date_of_birth": future}
    )
    assert response.status_code == 422
    assert field_error(response, "date_of_birth") == "A date of birth can't be in the future."
    assert fresh(elena).last_name == "Martinez"


def test_deactivating_asks_first_then_takes_the_person_off_every_list(as_caregiver, carded):
    form = as_caregiver.get(f"/people/{carded.id}/edit").text
    assert '<details class="confirm">' in form
    assert f'action="/people/{carded.id}/deactivate"' in form
    response = as_caregiver.post(f"/people/{carded.id}/deactivate")
    assert response.status_code == 302
    assert response.headers["Location"] == "/people"
    listing = as_caregiver.get("/people").text
    assert "is deactivated" in listing
    assert "Elena Martinez</a>" not in listing
    assert "Elena" not in as_caregiver.get("/caregiver").text
    assert fresh(carded).card_number == 1  # the card stays
    assert len(audit_rows("care.recipient_deactivate")) == 1


def test_a_person_with_coming_sessions_is_not_deactivated(as_caregiver, elena):
    factories.RespiteSessionFactory(recipient=elena)
    form = as_caregiver.get(f"/people/{elena.id}/edit").text
    assert "Elena has a coming session. Cancel it first" in form
    assert "/deactivate" not in form
    response = as_caregiver.post(f"/people/{elena.id}/deactivate", follow_redirects=True)
    assert "Elena has a coming session. Cancel it first." in response.text
    assert fresh(elena).active is True


def test_a_coordinator_deactivates_and_stays_on_the_persons_page(as_coordinator, elena):
    response = as_coordinator.post(f"/people/{elena.id}/deactivate")
    assert response.headers["Location"] == f"/people/{elena.id}"
    assert fresh(elena).active is False


# --- First steps on the dashboard ---------------------------------------------------------------------------------


def test_a_new_caregiver_is_asked_to_add_the_person_they_care_for(as_caregiver):
    text = as_caregiver.get("/caregiver").text
    assert '<a class="btn btn-primary" href="/people/new">Add the person you care for</a>' in text
    assert "Request your first session" not in text


def test_with_someone_added_the_next_step_is_the_first_request(app, as_caregiver, elena):
    text = as_caregiver.get("/caregiver").text
    with app.test_request_context():
        request_path = url_for("scheduling.request_session")
    assert f'href="{request_path}">Request your first session</a>' in text
    assert f'<a href="/people/{elena.id}">Elena Martinez</a>' in text
    assert "no care card yet" in text
    assert "Add the person you care for</a>" not in text


def test_once_a_session_is_asked_for_the_first_steps_are_done(as_caregiver, elena):
    factories.RespiteSessionFactory(recipient=elena, status=SessionStatus.CANCELLED)
    text = as_caregiver.get("/caregiver").text
    assert "Request your first session" not in text
    assert f'<a href="/people/{elena.id}">Elena Martinez</a>' in text


# --- Statement budgets --------------------------------------------------------------------------------------------


def test_the_people_list_statement_budget(as_caregiver):
    profile = as_caregiver.user.caregiver_profile

    def add_people(n):
        for _ in range(n):
            factories.CareRecipientFactory(caregiver=profile, date_of_birth=date(1950, 1, 1), card_number=2)

    # sign-in check (user), the caregiver's profile, their people
    assert_statement_budget(as_caregiver, "/people", add_people, 3 + NAV)


def add_readers(recipient):
    made = []

    def add(n):
        for _ in range(n):
            made.append(1)  # one session a day: a person's active sessions never overlap
            starts = utcnow() + timedelta(days=len(made))
            session = factories.RespiteSessionFactory(
                recipient=recipient,
                status=SessionStatus.CONFIRMED,
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
            )
            assignment = factories.AssignmentFactory(session=session, status=AssignmentStatus.ACCEPTED)
            db.session.add(
                services.CareCardAcknowledgement(
                    card_version=recipient.card, provider_id=assignment.provider_id, session_id=assignment.session_id
                )
            )

    return add


def audit_statements(dialect):
    """Appending an audit row: the chain's head and the insert, after PostgreSQL's advisory lock."""
    return 3 if dialect == "postgresql" else 2


@pytest.mark.parametrize(
    ("headers", "budget"),
    [
        # user, the person, their card, who has read it, then the read's audit row;
        # the card's author is the viewer here, already loaded
        ({}, 4 + NAV),
        # user, the person, who has read it (no card shown: no read recorded)
        ({"HX-Request": "true"}, 3),
    ],
)
def test_the_card_page_statement_budget(as_caregiver, carded, dialect, headers, budget):
    if not headers:
        budget += audit_statements(dialect)
    assert_statement_budget(as_caregiver, f"/people/{carded.id}", add_readers(carded), budget, headers=headers)


def test_the_card_page_statement_budget_for_a_coordinator(as_coordinator, carded, dialect):
    # as for the caregiver, and the card's author
    budget = 5 + NAV + audit_statements(dialect)
    assert_statement_budget(as_coordinator, f"/people/{carded.id}", add_readers(carded), budget)


def test_what_a_card_holds_is_shown_as_text_and_only_digits_are_dialled(as_caregiver, elena):
    services.save_care_card(
        as_caregiver.user,
        elena,
        {
            "allergies": "<script>alert(1)</script>",
            "emergency_contacts": [
                {"name": "Ana", "phone": "ask at the desk"},
                {"name": "Bo", "phone": "555 0199 ext. 2"},
            ],
        },
    )
    db.session.flush()
    text = as_caregiver.get(f"/people/{elena.id}").text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<p>ask at the desk</p>" in text
    assert 'href="tel:55501992">Call 555 0199 ext. 2</a>' in text


def test_a_caregiver_account_without_a_profile_has_no_one(client):
    user = factories.UserFactory(role="caregiver")
    sign_in(client, user)
    assert "No one added yet." in client.get("/people").text
    assert client.get("/people/new").status_code == 404
