"""The availability page through HTTP: without JavaScript (posts that redirect) and with htmx (the region back)."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from respite.availability import services
from respite.extensions import db
from respite.models import Availability, AvailabilityKind, utcnow
from tests import factories
from tests.helpers import assert_statement_budget, audit_rows, field_error, page_nav

HTMX = {"HX-Request": "true"}
CHICAGO = ZoneInfo("America/Chicago")
H = 60


def today():
    return utcnow().astimezone(CHICAGO).date()


def weekly(provider_user):
    return [(b.weekday, b.start_minute, b.end_minute) for b in services.weekly_pattern(provider_user.provider_profile)]


def add_block(profile, weekday, start_hour, end_hour):
    row = Availability(
        provider=profile,
        kind=AvailabilityKind.WEEKLY,
        weekday=weekday,
        start_minute=start_hour * H,
        end_minute=end_hour * H,
    )
    db.session.add(row)
    db.session.flush()
    return row


def add_time_off(profile, days_from_now, days=1, note=""):
    starts = utcnow() + timedelta(days=days_from_now)
    row = Availability(
        provider=profile,
        kind=AvailabilityKind.TIME_OFF,
        starts_at=starts,
        ends_at=starts + timedelta(days=days),
        note=note,
    )
    db.session.add(row)
    db.session.flush()
    return row


def region_only(body):
    return 'id="availability-live"' in body and "<html" not in body


# --- Who may open it ------------------------------------------------------------------------------

POSTS = ["/availability/weekly", "/availability/time-off"]


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for response in (client.get("/availability"), *(client.post(path) for path in POSTS)):
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("client_fixture", ["as_caregiver", "as_coordinator", "as_kiosk"])
def test_the_page_and_its_forms_are_for_providers(request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    entry = add_block(factories.ProviderProfileFactory(), 0, 9, 12)

    assert client.get("/availability").status_code == 403
    for path in POSTS:
        assert client.post(path, data={"weekday": "0", "start_minute": "540", "end_minute": "600"}).status_code == 403
    assert client.post(f"/availability/{entry.id}/remove").status_code == 403
    assert db.session.get(Availability, entry.id) is not None
    assert audit_rows("access.denied")[-1].meta["endpoint"] == "availability.remove"


def test_another_providers_entry_or_an_unknown_one_is_not_found(as_provider):
    theirs = add_block(factories.ProviderProfileFactory(), 0, 9, 12)
    db.session.commit()  # the setup is in place (a 404 rolls back what its request changed)

    assert as_provider.post(f"/availability/{theirs.id}/remove").status_code == 404
    assert as_provider.post("/availability/999999/remove").status_code == 404
    assert as_provider.post("/availability/99999999999999/remove").status_code == 404
    db.session.expire_all()
    assert db.session.get(Availability, theirs.id) is not None
    assert audit_rows("availability.remove") == []
    assert len(audit_rows("access.not_found")) == 2  # an id out of range matches no route at all


def test_the_nav_links_to_the_page_for_providers_only(as_provider, as_caregiver):
    assert 'href="/availability"' in as_provider.get("/provider").text
    assert 'href="/availability"' not in as_caregiver.get("/caregiver").text


# --- The page -------------------------------------------------------------------------------------


def test_the_page_shows_the_week_on_the_providers_clock_and_the_time_off(as_provider):
    profile = as_provider.user.provider_profile
    add_block(profile, 0, 13, 17)
    add_block(profile, 0, 9, 12)
    add_block(profile, 4, 20, 24)
    add_time_off(profile, 3, note="Dentist")
    add_time_off(profile, -3)  # over: not shown

    response = as_provider.get("/availability")

    assert response.status_code == 200
    body = response.text
    assert "Chicago time (America/Chicago)" in body
    for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        assert f'<h3 id="day-{services.WEEKDAYS.index(name)}">{name}</h3>' in body
    assert body.index("9:00 am – 12:00 pm") < body.index("1:00 pm – 5:00 pm")
    assert "8:00 pm – midnight" in body
    assert body.count("Not available") == 5
    assert "Dentist" in body
    assert len(re.findall(r'id="time-off-\d+"', body)) == 1
    assert 'aria-current="page">Availability' in body


def test_an_empty_week_says_so(as_provider):
    body = as_provider.get("/availability").text
    assert body.count("Not available") == 7
    assert "No time off planned." in body


def test_an_htmx_request_gets_the_region(as_provider):
    response = as_provider.get("/availability", headers=HTMX)
    assert response.status_code == 200
    assert region_only(response.text)
    assert "HX-Request" in response.headers["Vary"]
    assert 'hx-trigger="sse:session, respite:resync from:body"' in response.text
    assert "hx-swap-oob" not in response.text  # a refresh leaves the notice alone


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "region"])
def test_page_statement_budget(as_provider, headers):
    profile = as_provider.user.provider_profile
    added = [0]

    def add_rows(n):
        for i in range(added[0], added[0] + n):
            add_block(profile, i % 7, i // 7, i // 7 + 1)  # a different hour each week round
            add_time_off(profile, 2 * i + 1, days=1)
        added[0] += n

    # sign-in check, the provider's profile, the week, the time off
    assert_statement_budget(as_provider, "/availability", add_rows, 4 + page_nav(headers), headers=headers)


# --- Weekly blocks --------------------------------------------------------------------------------


def test_adding_hours_without_javascript_redirects_to_the_page(as_provider):
    response = as_provider.post(
        "/availability/weekly", data={"weekday": "2", "start_minute": "540", "end_minute": "720"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/availability"
    assert weekly(as_provider.user) == [(2, 540, 720)]
    (row,) = audit_rows("availability.weekly_add")
    assert row.actor_id == as_provider.user.id
    page = as_provider.get("/availability").text
    assert "Added to your week: Wednesday 9:00 am – 12:00 pm." in page


def test_refused_hours_answer_422_with_the_message_at_the_field(as_provider):
    add_block(as_provider.user.provider_profile, 2, 9, 12)

    response = as_provider.post(
        "/availability/weekly", data={"weekday": "2", "start_minute": "660", "end_minute": "600"}
    )
    assert response.status_code == 422
    assert field_error(response, "end_minute").startswith("The hours must end after they start.")
    assert '<option selected value="660">11:00 am</option>' in response.text  # what was chosen stays

    response = as_provider.post(
        "/availability/weekly", data={"weekday": "2", "start_minute": "600", "end_minute": "780"}
    )
    assert response.status_code == 422
    assert field_error(response, "start_minute") == (
        "That overlaps your hours on Wednesday, 9:00 am – 12:00 pm. Remove those first, or choose other times."
    )

    response = as_provider.post("/availability/weekly", data={"weekday": "", "start_minute": "x", "end_minute": "600"})
    assert response.status_code == 422
    assert field_error(response, "weekday") == "Choose a day."
    assert "<html" in response.text
    assert weekly(as_provider.user) == [(2, 540, 720)]


def test_adding_hours_with_htmx_answers_the_region_and_the_notice(as_provider):
    response = as_provider.post(
        "/availability/weekly", data={"weekday": "0", "start_minute": "1200", "end_minute": "1440"}, headers=HTMX
    )

    assert response.status_code == 200
    body = response.text
    assert region_only(body)
    assert "8:00 pm – midnight" in body
    notice = re.search(r'<div id="availability-notice" hx-swap-oob="innerHTML">(.*?)</div>', body, re.S).group(1)
    assert "Added to your week: Monday 8:00 pm – midnight." in notice
    assert weekly(as_provider.user) == [(0, 1200, 1440)]


def test_refused_hours_with_htmx_answer_the_region_with_the_message(as_provider):
    response = as_provider.post(
        "/availability/weekly", data={"weekday": "0", "start_minute": "545", "end_minute": "600"}, headers=HTMX
    )

    assert response.status_code == 422
    assert region_only(response.text)
    assert field_error(response, "start_minute") == "Use a time on the quarter hour (:00, :15, :30 or :45)."
    assert '<div id="availability-notice" hx-swap-oob="innerHTML"></div>' in response.text  # the last notice goes
    assert weekly(as_provider.user) == []


def test_removing_hours(as_provider):
    entry = add_block(as_provider.user.provider_profile, 3, 9, 12)

    response = as_provider.post(f"/availability/{entry.id}/remove")

    assert response.status_code == 302
    assert weekly(as_provider.user) == []
    assert audit_rows("availability.remove")[0].entity_id == str(entry.id)
    assert "Removed: Thursday 9:00 am – 12:00 pm." in as_provider.get("/availability").text


def test_removing_with_htmx_answers_the_region(as_provider):
    entry = add_block(as_provider.user.provider_profile, 3, 9, 12)

    response = as_provider.post(f"/availability/{entry.id}/remove", headers=HTMX)

    assert response.status_code == 200
    assert region_only(response.text)
    assert "Removed: Thursday 9:00 am – 12:00 pm." in response.text
    assert response.text.count("Not available") == 7


def test_every_form_posts_and_swaps_the_region(as_provider):
    entry = add_block(as_provider.user.provider_profile, 3, 9, 12)
    body = as_provider.get("/availability").text
    forms = re.findall(r"<form [^>]*>", body)
    actions = {"/availability/weekly", "/availability/time-off", f"/availability/{entry.id}/remove"}
    own = [f for f in forms if re.search(r'action="/availability', f)]
    assert {re.search(r'action="([^"]+)"', f).group(1) for f in own} == actions
    for form in own:
        assert 'method="post"' in form
        assert 'hx-target="#availability-live"' in form
        assert 'hx-swap="outerHTML"' in form


# --- Time off -------------------------------------------------------------------------------------


def test_adding_time_off_without_javascript(as_provider):
    first = today() + timedelta(days=7)
    last = first + timedelta(days=2)

    response = as_provider.post(
        "/availability/time-off",
        data={"start_day": first.isoformat(), "end_day": last.isoformat(), "note": "Holiday"},
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/availability"
    (entry,) = services.time_off(as_provider.user.provider_profile)
    assert entry.starts_at.astimezone(CHICAGO).date() == first
    assert entry.ends_at.astimezone(CHICAGO).date() == last + timedelta(days=1)
    assert entry.note == "Holiday"
    assert audit_rows("availability.time_off_add")[0].entity_id == str(entry.id)
    page = as_provider.get("/availability").text
    when = services.time_off_label(entry.starts_at, entry.ends_at, CHICAGO)
    assert when.endswith(f"{last:%a %-d %b %Y}")  # the last day entered, not the midnight after it
    assert f"Your time off {when} is saved." in page


def test_adding_time_off_with_times_and_htmx(as_provider):
    day = today() + timedelta(days=3)
    response = as_provider.post(
        "/availability/time-off",
        data={"start_day": day.isoformat(), "start_time": "13:30", "end_day": day.isoformat(), "end_time": "17:00"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert region_only(response.text)
    (entry,) = services.time_off(as_provider.user.provider_profile)
    assert entry.starts_at.astimezone(CHICAGO).strftime("%H:%M") == "13:30"
    assert entry.ends_at.astimezone(CHICAGO).strftime("%H:%M") == "17:00"
    assert "1:30 pm – 5:00 pm" in response.text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"end_day": "2026-07-01"}, "start_day", "Choose the first day of your time off."),
        ({"start_day": "July 1st", "end_day": "2026-07-01"}, "start_day", "Enter the date as year-month-day"),
        ({"start_day": "{next}", "start_time": "25:00", "end_day": "{next}"}, "start_time", "Enter the time as"),
        ({"start_day": "{next}", "end_day": "{yesterday}"}, "end_day", "The time off must end after it starts."),
        ({"start_day": "{yesterday}", "end_day": "{yesterday}"}, "end_day", "That time is already over."),
        ({"start_day": "{next}", "end_day": "{next}", "note": "a\x07b"}, "note", "Remove the hidden control"),
        ({"start_day": "{next}", "end_day": "{next}", "note": "x" * 201}, "note", "Keep the note to 200 characters"),
    ],
)
def test_refused_time_off_answers_422_at_the_field(as_provider, data, field, message):
    dates = {"next": (today() + timedelta(days=7)).isoformat(), "yesterday": (today() - timedelta(days=1)).isoformat()}
    sent = {key: value.format(**dates) if key != "note" else value for key, value in data.items()}

    response = as_provider.post("/availability/time-off", data=sent)

    assert response.status_code == 422
    assert field_error(response, field).startswith(message), field_error(response, field)
    assert services.time_off(as_provider.user.provider_profile) == []


def test_removing_time_off(as_provider):
    entry = add_time_off(as_provider.user.provider_profile, 5)
    entry_id = entry.id

    assert as_provider.post(f"/availability/{entry_id}/remove").status_code == 302
    assert db.session.scalar(select(Availability).where(Availability.id == entry_id)) is None
    assert audit_rows("availability.remove")[0].meta["kind"] == "time_off"
