"""Centers: the list with each center's opening hours and kiosks, a new center, and changing one's details."""

import html
import re
import uuid
from datetime import time

import pytest
from sqlalchemy import func, select

from respite import realtime
from respite.centers import services
from respite.extensions import db
from respite.models import Center, KioskDevice, utcnow
from respite.realtime.channels import center_channel
from tests import factories
from tests.helpers import NAV, assert_statement_budget, audit_rows, field_error

WEEKDAY_HOURS = {
    f"{day}_{edge}": value
    for day in ("mon", "tue", "wed", "thu", "fri")
    for edge, value in (("opens", "09:00"), ("closes", "17:00"))
}


def _form(**fields):
    data = {"name": "Birch Hall", "address": "4 Birch Lane\nSpringfield", "timezone": "America/Chicago"}
    return {**data, **WEEKDAY_HOURS, **fields}


def _kiosk(center, name, revoked=False):
    device = KioskDevice(
        center=center, name=name, token_hash=uuid.uuid4().hex * 2, revoked_at=utcnow() if revoked else None
    )
    db.session.add(device)
    db.session.flush()
    return device


def test_opening_hours_read_as_days_with_the_same_hours_together():
    hours = {"mon": ["09:00", "17:00"], "tue": ["09:00", "17:00"], "wed": ["09:00", "17:00"], "sat": ["10:00", "13:30"]}

    assert services.opening_summary(hours) == ["Mon–Wed 9:00 am – 5:00 pm", "Sat 10:00 am – 1:30 pm"]
    assert services.opening_summary({}) == []
    assert services.opening_summary({"sun": ["08:00", "12:00"]}) == ["Sun 8:00 am – 12:00 pm"]


def test_opening_hours_need_both_times_and_close_after_opening():
    assert services.opening_hours({"mon": (time(9), time(17)), "tue": (None, None)}) == {"mon": ["09:00", "17:00"]}
    with pytest.raises(services.CenterError, match="close after it opens") as refused:
        services.opening_hours({"wed": (time(17), time(9))})
    assert refused.value.field == "wed_closes"
    with pytest.raises(services.CenterError, match="Give the time it opens on Friday") as refused:
        services.opening_hours({"fri": (None, time(9))})
    assert refused.value.field == "fri_opens"


def test_the_list_shows_each_center_with_its_hours_and_paired_kiosks(as_coordinator):
    maple = factories.CenterFactory(name="Maple House", opening_hours={"mon": ["09:00", "17:00"]})
    factories.CenterFactory(name="Oak Court")
    _kiosk(maple, "Front desk")
    _kiosk(maple, "Old tablet", revoked=True)

    text = as_coordinator.get("/admin/centers").text

    row = re.search(rf'<tr role="row" id="center-{maple.id}">(.*?)</tr>', text, re.S).group(1)
    assert f'<a href="/admin/centers/{maple.id}">Maple House</a>' in row
    assert "Mon 9:00 am – 5:00 pm" in row
    assert "Front desk" in row
    assert "Old tablet" not in row
    assert "America/Chicago" in row
    assert "None paired" in text  # Oak Court
    assert '<a class="btn btn-secondary" href="/admin/kiosks">Kiosks</a>' in text


def test_a_coordinator_adds_a_center(as_coordinator):
    response = as_coordinator.post("/admin/centers/new", data=_form(sat_opens="10:00", sat_closes="13:00"))

    assert response.status_code == 302
    center = db.session.scalar(select(Center).where(Center.name == "Birch Hall"))
    assert center.address == "4 Birch Lane\nSpringfield"
    assert center.opening_hours == {
        **{day: ["09:00", "17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
        "sat": ["10:00", "13:00"],
    }
    assert "Birch Hall is added." in as_coordinator.get("/admin/centers").text
    (created,) = audit_rows("center.create")
    assert created.actor_id == as_coordinator.user.id
    assert created.entity_type == "Center"
    assert created.entity_id == str(center.id)
    assert created.summary == "Opened the center Birch Hall"


def test_a_coordinator_changes_a_centers_details_and_its_kiosks_refresh(as_coordinator, published):
    center = factories.CenterFactory(name="Maple House", opening_hours={"mon": ["09:00", "17:00"]})

    page = as_coordinator.get(f"/admin/centers/{center.id}").text
    assert re.search(r'<input [^>]*id="mon_opens"[^>]*value="09:00"', page)
    assert re.search(r'<input [^>]*id="tue_opens"[^>]*value=""', page)
    response = as_coordinator.post(
        f"/admin/centers/{center.id}",
        data=_form(name="Maple House Respite Center", timezone="America/New_York", address=center.address),
    )

    assert response.status_code == 302
    assert center.name == "Maple House Respite Center"
    assert center.timezone == "America/New_York"
    assert center.opening_hours["fri"] == ["09:00", "17:00"]
    (changed,) = audit_rows("center.update")
    assert changed.summary == "Changed the name, time zone, opening hours of Maple House Respite Center"
    assert changed.meta["name"] == {"from": "Maple House", "to": "Maple House Respite Center"}
    assert (center_channel(center.id), realtime.EventType.KIOSK, {"center_id": center.id}) in published


def test_saving_a_center_as_it_is_changes_nothing(as_coordinator, published):
    center = factories.CenterFactory(name="Maple House", address="1 Elm Row", timezone="UTC", opening_hours={})

    response = as_coordinator.post(
        f"/admin/centers/{center.id}", data={"name": "Maple House", "address": "1 Elm Row", "timezone": "UTC"}
    )

    assert response.status_code == 302
    assert "Nothing changed." in as_coordinator.get("/admin/centers").text
    assert audit_rows("center.update") == []
    assert published == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "Give the center a name."),
        ({"name": "maple house"}, "name", "Another center has this name: give this one a name of its own."),
        ({"name": "x" * 121}, "name", "Field cannot be longer than 120 characters."),
        ({"timezone": "Mars/Olympus"}, "timezone", "Choose a time zone from the list."),
        ({"mon_closes": "08:00"}, "mon_closes", "On Monday it must close after it opens."),
        ({"tue_opens": ""}, "tue_opens", "Give the time it opens on Tuesday, or clear both to close that day."),
        ({"wed_closes": "half past"}, "wed_closes", "Not a valid time value."),
    ],
)
def test_bad_center_details_are_refused_beside_the_field(as_coordinator, fields, field, message):
    factories.CenterFactory(name="Maple House")
    db.session.commit()  # a refusal rolls back what the request's transaction holds
    before = db.session.scalar(select(func.count()).select_from(Center))

    response = as_coordinator.post("/admin/centers/new", data=_form(**fields))

    assert response.status_code == 422
    assert field_error(response, field) == message
    assert db.session.scalar(select(func.count()).select_from(Center)) == before
    assert audit_rows("center.create") == []


def test_renaming_a_center_to_its_own_name_in_another_case_is_fine(as_coordinator):
    center = factories.CenterFactory(name="Maple House")

    response = as_coordinator.post(f"/admin/centers/{center.id}", data=_form(name="MAPLE HOUSE"))

    assert response.status_code == 302
    assert center.name == "MAPLE HOUSE"


def test_a_center_no_one_has_is_not_found(as_coordinator):
    assert as_coordinator.get("/admin/centers/999999").status_code == 404
    assert as_coordinator.post("/admin/centers/999999", data=_form()).status_code == 404


@pytest.mark.parametrize("path", ["/admin/centers", "/admin/centers/new"])
def test_only_coordinators_manage_centers(as_provider, path):
    assert as_provider.get(path).status_code == 403


def test_the_services_refuse_anyone_else(provider):
    with pytest.raises(PermissionError):
        services.create_center(provider, name="Birch Hall", address="", timezone="UTC", hours={})


def test_the_centers_list_keeps_to_its_statement_budget(as_coordinator):
    def add_rows(n):
        for _ in range(n):
            center = factories.CenterFactory(opening_hours={"mon": ["09:00", "17:00"]})
            _kiosk(center, "Front desk")

    # Signed-in user, the centers, their paired kiosks.
    assert_statement_budget(as_coordinator, "/admin/centers", add_rows, 3 + NAV)


def test_the_center_form_keeps_to_its_statement_budget(as_coordinator):
    center = factories.CenterFactory()

    def add_rows(n):
        for _ in range(n):
            _kiosk(center, "Front desk")
            factories.RespiteSessionFactory(center=center)

    # Signed-in user, the center, the zones in use, the sessions coming up there (with who they are for).
    assert_statement_budget(as_coordinator, f"/admin/centers/{center.id}", add_rows, 4 + NAV)
    assert html.unescape(as_coordinator.get(f"/admin/centers/{center.id}").text).count("Opens") == 7


def test_a_centers_page_shows_the_sessions_coming_up_there(as_coordinator):
    center = factories.CenterFactory(name="Maple House")
    coming = factories.RespiteSessionFactory(center=center, recipient__first_name="Ottilie", status="confirmed")
    factories.RespiteSessionFactory(center=center, recipient__first_name="Cass", status="cancelled")
    factories.RespiteSessionFactory(recipient__first_name="Elsewhere")

    text = as_coordinator.get(f"/admin/centers/{center.id}").text

    assert f'id="session-{coming.id}"' in text
    assert "Ottilie" in text
    assert "Cass" not in text
    assert "Elsewhere" not in text
