"""Respite hours: the program's default for families who sign up, and each family's own, changed with a reason
that the audit keeps; the family's open pages show their new hours without a reload.
"""

import html
import re

import pytest
from sqlalchemy import select

from respite import realtime
from respite.accounts import services as accounts
from respite.admin import services
from respite.extensions import db
from respite.models import ProgramSettings, utcnow
from respite.realtime.channels import user_channel
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error, mailed_link, sign_in

REASON = "Second person cared for since March"


def _set_default(client, hours):
    return client.post("/admin/allotments", data={"hours": hours})


def _set_allotment(client, user, hours, reason=REASON):
    return client.post(f"/admin/users/{user.id}/allotment", data={"allotment-hours": hours, "allotment-reason": reason})


# --- The program's default ----------------------------------------------------------------------------


def test_until_a_coordinator_sets_it_the_default_comes_from_the_configuration(app, as_coordinator):
    assert accounts.default_allotment_minutes() == app.config["DEFAULT_ANNUAL_ALLOTMENT_HOURS"] * 60

    text = as_coordinator.get("/admin/allotments").text

    assert '<strong id="default-hours">100 h</strong>' in text
    assert re.search(r'<input [^>]*id="hours"[^>]*value="100"', text)


def test_a_coordinator_sets_the_default_for_new_families(app, as_coordinator, client):
    existing = factories.CaregiverProfileFactory(annual_allotment_minutes=100 * 60)

    response = _set_default(as_coordinator, "80")

    assert response.status_code == 302
    assert (
        "Families who sign up from now on start with 80 hours a year." in as_coordinator.get("/admin/allotments").text
    )
    assert db.session.scalar(select(ProgramSettings.default_allotment_minutes)) == 80 * 60
    (row,) = audit_rows("program.default_allotment")
    assert row.actor_id == as_coordinator.user.id
    assert row.summary == "Set the yearly respite new families start with to 80 h (was 100 h)"
    assert row.meta == {"allotment_minutes": {"from": 6000, "to": 4800}}
    assert existing.annual_allotment_minutes == 100 * 60  # who has signed up keeps theirs

    # A family who signs up now starts with the new default.
    client.post(
        "/signup",
        data={"display_name": "Nora Lind", "email": "nora@example.test", "password": "a long passphrase here"}
        | {"timezone": "UTC"},
    )
    client.post(mailed_link(app, "nora@example.test"))
    family = accounts.find_by_email("nora@example.test")
    assert family.caregiver_profile.annual_allotment_minutes == 80 * 60


def test_setting_it_again_changes_the_one_row(as_coordinator):
    _set_default(as_coordinator, "80")
    _set_default(as_coordinator, "120")

    assert db.session.scalars(select(ProgramSettings)).all()[0].default_allotment_minutes == 120 * 60
    assert len(db.session.scalars(select(ProgramSettings)).all()) == 1
    assert accounts.default_allotment_minutes() == 120 * 60


def test_the_same_default_again_changes_nothing(as_coordinator):
    response = _set_default(as_coordinator, "100")

    assert response.status_code == 302
    assert "Nothing changed." in as_coordinator.get("/admin/allotments").text
    assert audit_rows("program.default_allotment") == []


@pytest.mark.parametrize("hours", ["", "-1", "2001", "ten", "1.5", "\x00"])
def test_a_default_that_isnt_whole_hours_is_refused_beside_the_field(as_coordinator, hours):
    response = _set_default(as_coordinator, hours)

    assert response.status_code == 422
    assert field_error(response, "hours") == "Give a whole number of hours from 0 to 2000."
    assert db.session.scalar(select(ProgramSettings)) is None


def test_only_a_coordinator_sets_the_default(provider):
    with pytest.raises(PermissionError):
        services.set_default_allotment(provider, 10)


def test_the_default_page_keeps_to_its_statement_budget(as_coordinator):
    def add_rows(n):
        for _ in range(n):
            factories.CaregiverProfileFactory()

    # Signed-in user and the program's settings.
    assert_statement_budget(as_coordinator, "/admin/allotments", add_rows, 2 + NAV)


# --- Each family's own hours --------------------------------------------------------------------------


def test_a_coordinator_changes_a_familys_hours_with_a_reason(as_coordinator, published):
    family = factories.CaregiverProfileFactory(user__display_name="Rosa Martinez", annual_allotment_minutes=100 * 60)

    response = _set_allotment(as_coordinator, family.user, "140")

    assert response.status_code == 302
    assert family.annual_allotment_minutes == 140 * 60
    page = html.unescape(as_coordinator.get(f"/admin/users/{family.user.id}").text)
    assert "Rosa Martinez now has 140 hours of respite a year." in page
    (row,) = audit_rows("caregiver.allotment")
    assert row.actor_id == as_coordinator.user.id
    assert row.entity_type == "User"
    assert row.entity_id == str(family.user.id)
    assert row.summary == "Set Rosa Martinez's yearly respite to 140 h (was 100 h)"
    assert row.meta == {"allotment_minutes": {"from": 6000, "to": 8400}, "reason": REASON}
    # The family's pages refresh their hours: a session event on their own channel, ids only.
    assert (user_channel(family.user.id), realtime.EventType.SESSION, {"caregiver_id": family.id}) in published
    # The reason shows in the account's history.
    assert f"(reason: {REASON})" in page


def test_the_familys_dashboard_region_shows_the_new_hours(app, as_coordinator):
    family = factories.CaregiverProfileFactory(annual_allotment_minutes=100 * 60)
    phone = app.test_client()
    sign_in(phone, family.user)
    assert "of 100 h allotted" in phone.get("/caregiver", headers={"HX-Request": "true"}).text

    _set_allotment(as_coordinator, family.user, "60")

    region = phone.get("/caregiver", headers={"HX-Request": "true"}).text
    assert "of 60 h allotted" in region
    assert 'id="caregiver-live"' in region
    assert 'hx-trigger="sse:session' in region


@pytest.mark.parametrize(
    ("hours", "reason", "field", "message"),
    [
        ("140", "", "allotment-reason", "Give a reason: it is kept in the audit log."),
        ("140", "   ", "allotment-reason", "Give a reason: it is kept in the audit log."),
        ("", REASON, "allotment-hours", "Give a whole number of hours from 0 to 2000."),
        ("-5", REASON, "allotment-hours", "Give a whole number of hours from 0 to 2000."),
        ("100", REASON, "allotment-hours", "Rosa Martinez has 100 h a year already."),
    ],
)
def test_a_bad_change_is_refused_beside_the_field(as_coordinator, published, hours, reason, field, message):
    family = factories.CaregiverProfileFactory(user__display_name="Rosa Martinez", annual_allotment_minutes=100 * 60)

    response = _set_allotment(as_coordinator, family.user, hours, reason)

    assert response.status_code == 422
    assert field_error(response, field) == message
    assert family.annual_allotment_minutes == 100 * 60
    assert audit_rows("caregiver.allotment") == []
    assert published == []


def test_a_provider_has_no_hours_to_set(as_coordinator, provider):
    response = _set_allotment(as_coordinator, provider, "10")

    assert response.status_code == 422
    assert "Only a family has respite hours." in response.text
    assert f'action="/admin/users/{provider.id}/allotment"' not in response.text


def test_an_erased_familys_hours_stay_as_they_are(coordinator):
    family = factories.CaregiverProfileFactory(user__erased_at=utcnow(), user__active=False)

    with pytest.raises(services.AdminError, match="erased"):
        services.set_allotment(coordinator, family.user, 10, reason=REASON)
