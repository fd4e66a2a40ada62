"""The coordinator's People desk: finding someone (search, filters, pages), and on their page changing their
details, unlocking a sign-in that failures hold back, and sending a link to set a new password.
"""

import html
import re
from datetime import timedelta

import pytest
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select

from respite import limiter_storage_uri
from respite.accounts import throttle
from respite.accounts.services import mail_reset_link
from respite.accounts.twofactor import new_secret
from respite.accounts.views import PENDING_SECOND_STEP
from respite.admin import services
from respite.admin.services import PeopleFilter
from respite.extensions import db, limiter
from respite.models import EmailLink, User, utcnow
from respite.scheduling.services import minutes_used_this_year
from tests import factories
from tests.helpers import (
    NAV,
    TEST_PASSWORD,
    assert_statement_budget,
    audit_rows,
    field_error,
    mailed_link,
    sent_mail,
    sign_in,
)

REGION = {"HX-Request": "true"}


def _path(user, action=None):
    return f"/admin/users/{user.id}" + (f"/{action}" if action else "")


def _names(response):
    """The names listed on the People page (or its region), in order."""
    return [
        html.unescape(name)
        for name in re.findall(r'<td role="cell" data-label="Name"><a href="[^"]+">([^<]+)</a></td>', response.text)
    ]


def _found(**filters):
    page = services.find_people(PeopleFilter(**filters), throttle.held_back())
    return [user.display_name for user in page.items]


def _fail_sign_in(app, user, times=3):
    for _ in range(times):
        response = app.test_client().post("/login", data={"email": user.email, "password": "not the password"})
        assert response.status_code in (401, 429)


@pytest.fixture
def strict_throttle(app, monkeypatch):
    """Three failed sign-ins in a quarter of an hour hold an account back."""
    monkeypatch.setitem(app.config, "SIGN_IN_FAILURE_LIMIT", "3 per 15 minutes")


@pytest.fixture
def people():
    maple = factories.CenterFactory(name="Maple House")
    oak = factories.CenterFactory(name="Oak Court")
    made = {
        "rosa": factories.CaregiverProfileFactory(
            user__display_name="Rosa Martinez", user__email="rosa@family.test"
        ).user,
        "rose": factories.CaregiverProfileFactory(
            user__display_name="Roseanne Park", user__email="rp@family.test"
        ).user,
        "marcus": factories.ProviderProfileFactory(
            center=maple, user__display_name="Marcus Bell", user__email="marcus@staff.test"
        ).user,
        "aisha": factories.ProviderProfileFactory(
            center=oak, user__display_name="Aisha Rahman", user__email="aisha@staff.test"
        ).user,
        "desk": factories.UserFactory(display_name="Maple Desk", role="kiosk", center=maple, email="desk@maple.test"),
        "invited": factories.UserFactory(display_name="Ivy Invited", role="provider", password_hash=None),
        "gone": factories.UserFactory(display_name="Gus Gone", active=False),
        "percent": factories.UserFactory(display_name="100% Sure", email="sure@family.test"),
        "underscore": factories.UserFactory(display_name="Ann_Lee", email="ann@family.test"),
        "maple": maple,
        "oak": oak,
    }
    db.session.commit()  # a refusal rolls back what the request's transaction holds
    return made


# --- Finding people -----------------------------------------------------------------------------------


def test_typing_part_of_a_name_or_an_email_in_any_case_finds_them(people):
    assert _found(text="ros") == ["Rosa Martinez", "Roseanne Park"]
    assert _found(text="MART") == ["Rosa Martinez"]
    assert _found(text="staff.test") == ["Aisha Rahman", "Marcus Bell"]
    # Every word typed counts: in the name or the email.
    assert _found(text="rosa family") == ["Rosa Martinez"]
    assert _found(text="rosa staff") == []


def test_wildcards_typed_match_only_themselves(people):
    assert _found(text="%") == ["100% Sure"]
    assert _found(text="_") == ["Ann_Lee"]
    assert _found(text="n_l") == ["Ann_Lee"]
    assert _found(text="a%e") == []


def test_control_characters_find_no_one(people):
    assert _found(text="ros\x00a") == []


def test_filters_by_role_center_and_state(people):
    assert _found(role="provider") == ["Aisha Rahman", "Ivy Invited", "Marcus Bell"]
    assert _found(center_id=people["maple"].id) == ["Maple Desk", "Marcus Bell"]
    assert _found(center_id=people["oak"].id, role="kiosk") == []
    assert _found(status="invited") == ["Ivy Invited"]
    assert _found(status="deactivated") == ["Gus Gone"]
    assert "Ivy Invited" not in _found(status="active")
    assert "Gus Gone" not in _found(status="active")


def test_the_list_comes_a_page_at_a_time(people):
    first = services.find_people(PeopleFilter(), throttle.held_back(), per_page=4)
    beyond = services.find_people(PeopleFilter(), throttle.held_back(), page=10**12, per_page=4)

    assert (first.page, first.pages, len(first.items)) == (1, 3, 4)
    assert [u.display_name for u in first.items] == ["100% Sure", "Aisha Rahman", "Ann_Lee", "Gus Gone"]
    assert beyond.items == []
    assert beyond.total == 9


def test_the_people_page_is_a_search_form_that_works_without_javascript(as_coordinator, people):
    response = as_coordinator.get("/admin/users?q=ros&role=caregiver&status=active")

    assert response.status_code == 200
    assert _names(response) == ["Rosa Martinez", "Roseanne Park"]
    assert '<form class="person-finder card" method="get" action="/admin/users"' in response.text
    assert 'value="ros"' in response.text
    assert '<option value="caregiver" selected>Caregiver</option>' in response.text
    assert '<option value="active" selected>Active</option>' in response.text
    assert "2 people found" in response.text
    # The box searches as one types, swapping the list and keeping the address.
    search = re.search(r'<input type="search" id="people-q"[^>]*>', response.text, re.S).group(0)
    for attribute in (
        'hx-get="/admin/users"',
        'hx-target="#people-region"',
        'hx-push-url="true"',
        'hx-trigger="keyup changed delay:300ms, search"',
        'hx-include="closest form"',
    ):
        assert attribute in search


def test_an_active_search_gets_the_region_alone(as_coordinator, people):
    response = as_coordinator.get("/admin/users?q=MARCUS", headers=REGION)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert '<section id="people-region"' in response.text
    assert _names(response) == ["Marcus Bell"]
    assert re.search(r'<p id="people-found" [^>]*hx-swap-oob="true">1 person found</p>', response.text)
    assert "HX-Request" in response.headers["Vary"]


def test_each_person_shows_their_role_center_and_state(as_coordinator, people):
    text = as_coordinator.get("/admin/users").text

    for key, center, state in [
        ("marcus", "Maple House", "Active"),
        ("desk", "Maple House", "Active"),
        ("invited", "None", "Invited"),
        ("gone", "None", "Deactivated"),
    ]:
        person = people[key]
        row = re.search(rf'<tr role="row" id="person-{person.id}">(.*?)</tr>', text, re.S).group(1)
        assert f'<a href="{_path(person)}">{person.display_name}</a>' in row
        assert person.email in row
        assert center in row, (key, row)
        assert f">{state}</span>" in row, (key, row)


def test_pages_keep_the_search(as_coordinator, people, monkeypatch):
    monkeypatch.setattr(services, "PEOPLE_PER_PAGE", 2)

    text = as_coordinator.get("/admin/users?q=a&role=provider").text

    assert _names(as_coordinator.get("/admin/users?q=a&role=provider")) == ["Aisha Rahman", "Ivy Invited"]
    assert "Page 1 of 2" in text
    assert 'href="/admin/users?page=2&amp;q=a&amp;role=provider"' in text
    second = as_coordinator.get("/admin/users?page=2&q=a&role=provider")
    assert _names(second) == ["Marcus Bell"]
    assert "There is no page 9" in as_coordinator.get("/admin/users?page=9&q=a&role=provider").text


@pytest.mark.parametrize("query", ["role=nobody", "status=asleep", "center=abc", "center=99999", "page=-3"])
def test_filters_no_one_has_are_ignored_or_find_no_one(as_coordinator, people, query):
    response = as_coordinator.get(f"/admin/users?{query}")

    assert response.status_code == 200


@pytest.mark.parametrize("headers", [None, REGION], ids=["page", "region"])
def test_the_people_list_keeps_to_its_statement_budget(as_coordinator, headers):
    center = factories.CenterFactory()

    def add_rows(n):
        for number in range(n):
            if number % 2:
                factories.ProviderProfileFactory(center=center)
            else:
                factories.UserFactory(role="kiosk", center=center)

    # Signed-in user, the page of people (with their centers) and its count; the page adds the centers' list.
    budget = 3 + (1 + NAV if headers is None else 0)
    assert_statement_budget(as_coordinator, "/admin/users", add_rows, budget, headers=headers)


# --- One person: their details ------------------------------------------------------------------------


def _details(client, user, **fields):
    data = {
        "details-display_name": user.display_name,
        "details-email": user.email,
        "details-timezone": user.timezone,
        "details-center_id": "0",
    }
    data.update({f"details-{name}": value for name, value in fields.items()})
    return client.post(_path(user, "details"), data=data)


def test_a_coordinator_changes_someones_name_email_zone_and_center(app, as_coordinator, people):
    marcus = people["marcus"]
    with app.test_request_context():
        mail_reset_link(marcus)
    db.session.flush()

    response = _details(
        as_coordinator,
        marcus,
        display_name="Marcus  Bellamy",
        email="Marcus.Bellamy@Staff.test",
        timezone="Europe/Lisbon",
        center_id=str(people["oak"].id),
    )

    assert response.status_code == 302
    db.session.expire_all()
    marcus = db.session.get(User, marcus.id)
    assert (marcus.display_name, marcus.email, marcus.timezone) == (
        "Marcus Bellamy",
        "marcus.bellamy@staff.test",
        "Europe/Lisbon",
    )
    assert marcus.provider_profile.center_id == people["oak"].id
    (changed,) = audit_rows("user.update")
    assert changed.actor_id == as_coordinator.user.id
    assert changed.summary == "Changed Marcus Bellamy's name, email, time zone, center"
    assert changed.meta["center"] == {"from": "Maple House", "to": "Oak Court"}
    assert changed.meta["email"] == {"from": "ma***@staff.test", "to": "ma***@staff.test"}
    # The old address is told; the link sent to it no longer works.
    (notice,) = [m for m in sent_mail(app, "marcus@staff.test") if "changed" in m["Subject"]]
    assert "ma***@staff.test" in notice.get_content()
    assert all(link.used_at is not None for link in db.session.scalars(select(EmailLink)))
    assert "Marcus Bellamy&#39;s details are saved." in as_coordinator.get(_path(marcus)).text


def test_a_familys_new_name_is_their_profiles_too(as_coordinator, people):
    assert _details(as_coordinator, people["rosa"], display_name="Rosa Marquez").status_code == 302

    assert people["rosa"].caregiver_profile.full_name == "Rosa Marquez"


def test_nothing_changed_is_said_so(as_coordinator, people):
    response = _details(as_coordinator, people["rosa"])

    assert response.status_code == 302
    assert "Nothing changed." in as_coordinator.get(_path(people["rosa"])).text
    assert audit_rows("user.update") == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "aisha@staff.test", "Another account already uses this email address."),
        ("email", "AISHA@staff.test", "Another account already uses this email address."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("display_name", "", "Enter the person's name."),
        ("timezone", "Mars/Olympus", "Choose a time zone from the list."),
        ("center_id", "999999", "Not a valid choice."),
    ],
)
def test_bad_details_are_refused_beside_the_field(as_coordinator, people, field, value, message):
    marcus = people["marcus"]

    response = _details(as_coordinator, marcus, **{field: value})

    assert response.status_code == 422
    assert field_error(response, f"details-{field}") == message
    assert audit_rows("user.update") == []
    assert marcus.email == "marcus@staff.test"


def test_a_kiosk_keeps_a_center(as_coordinator, people):
    response = _details(as_coordinator, people["desk"], center_id="0")

    assert response.status_code == 422
    assert field_error(response, "details-center_id") == "A kiosk belongs to a center: choose one."


def test_a_family_has_no_center_to_choose(as_coordinator, people):
    text = as_coordinator.get(_path(people["rosa"])).text

    assert 'name="details-email"' in text
    assert 'name="details-center_id"' not in text


def test_a_coordinators_own_details_are_on_their_account_page(coordinator):
    with pytest.raises(services.AdminError, match="on your account page"):
        services.update_person(coordinator, coordinator, display_name="Me", email=coordinator.email, timezone="UTC")


def test_an_erased_account_stays_as_it_is(coordinator):
    erased = factories.UserFactory(erased_at=utcnow(), active=False)

    with pytest.raises(services.AdminError, match="erased"):
        services.update_person(coordinator, erased, display_name="Back", email=erased.email, timezone="UTC")


# --- Locked out, and unlocked ----------------------------------------------------------------------------


def test_repeated_failures_lock_someone_out_and_the_desk_shows_it(app, as_coordinator, people, strict_throttle):
    rosa = people["rosa"]
    _fail_sign_in(app, rosa)

    assert throttle.held_back().holds(rosa)
    assert _found(status="locked") == ["Rosa Martinez"]
    assert "Rosa Martinez" not in _found(status="active")
    row = re.search(rf'id="person-{rosa.id}">(.*?)</tr>', as_coordinator.get("/admin/users?q=ros").text, re.S)
    assert ">Locked out</span>" in row.group(1)
    page = as_coordinator.get(_path(rosa)).text
    assert "Rosa Martinez is locked out: too many failed sign-ins hold their account back until" in page
    assert f'action="{_path(rosa, "unlock")}"' in page


def test_unlocking_lets_them_sign_in_again_at_once(app, as_coordinator, people, strict_throttle):
    rosa = people["rosa"]
    _fail_sign_in(app, rosa)
    locked = app.test_client()
    assert locked.post("/login", data={"email": rosa.email, "password": TEST_PASSWORD}).status_code == 429

    response = as_coordinator.post(_path(rosa, "unlock"))

    assert response.status_code == 302
    assert "Rosa Martinez can sign in again now, from anywhere." in as_coordinator.get(_path(rosa)).text
    assert not throttle.held_back().holds(rosa)
    sign_in(locked, rosa)
    (unlocked,) = audit_rows("user.unlock")
    assert unlocked.actor_id == as_coordinator.user.id
    assert unlocked.summary == "Unlocked Rosa Martinez's sign-in after repeated failed attempts"
    assert "held_until" in unlocked.meta


def test_unlocking_clears_every_address_and_the_second_step(app, people, strict_throttle, coordinator):
    rosa = people["rosa"]
    for address in ("203.0.113.9", "198.51.100.4"):
        for _ in range(3):
            app.test_client().post(
                "/login", data={"email": rosa.email, "password": "guess"}, environ_base={"REMOTE_ADDR": address}
            )
    with app.test_request_context():
        assert throttle.held_until(rosa) is not None
        services.unlock(coordinator, rosa)
    db.session.commit()

    assert throttle.held_until(rosa) is None
    assert throttle.held_back() == throttle.HeldBack(frozenset(), frozenset())


def test_a_failed_second_step_can_lock_too(app, people, monkeypatch):
    monkeypatch.setitem(app.config, "SECOND_STEP_LIMIT", "2 per 15 minutes")
    dana = factories.UserFactory(role="coordinator", totp_secret=new_secret(), totp_confirmed_at=utcnow())
    client = app.test_client()
    for _ in range(2):
        with client.session_transaction() as stored:
            stored[PENDING_SECOND_STEP] = {"user": dana.id, "at": int(utcnow().timestamp()), "next": None}
        client.post("/login/code", data={"code": "000000"})

    assert throttle.held_back().user_ids == {dana.id}
    assert throttle.held_until(dana) is not None
    assert throttle.release(dana.id, dana.email) == 1
    assert throttle.held_until(dana) is None


def test_a_rolled_back_unlock_clears_nothing(app, people, strict_throttle, coordinator):
    rosa = people["rosa"]
    _fail_sign_in(app, rosa)

    services.unlock(coordinator, rosa)
    db.session.rollback()

    assert throttle.held_back().holds(rosa)


def test_unlocking_someone_who_isnt_locked_is_refused_in_place(as_coordinator, people):
    response = as_coordinator.post(_path(people["rosa"], "unlock"))

    assert response.status_code == 422
    assert "Rosa Martinez isn&#39;t locked out: they can sign in now." in response.text
    assert audit_rows("user.unlock") == []


# --- A link to set a new password ----------------------------------------------------------------------


def test_a_coordinator_sends_someone_a_link_to_set_a_new_password(app, as_coordinator, people, client):
    rosa = people["rosa"]

    response = as_coordinator.post(_path(rosa, "reset-link"))

    assert response.status_code == 302
    page = html.unescape(as_coordinator.get(_path(rosa)).text)
    assert "A link to set a new password is on its way to rosa@family.test: it works once, for an hour." in page
    (message,) = sent_mail(app, rosa.email)
    assert message["Subject"] == "Set a new Respite password"
    assert "A coordinator of the program asked for this email for you." in message.get_content()
    (sent,) = audit_rows("user.reset_link_sent")
    assert sent.actor_id == as_coordinator.user.id
    assert sent.summary == "Sent Rosa Martinez a link to set a new password"
    assert sent.meta == {"email": "ro***@family.test"}
    link = mailed_link(app, rosa.email)
    new_password = {"password": "a quiet walk by the river", "confirm": "a quiet walk by the river"}
    assert client.post(link, data=new_password).status_code == 302
    assert client.get("/caregiver").status_code == 200


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("gone", "Gus Gone&#39;s account is deactivated: reactivate it first, then send the link."),
        ("invited", "Ivy Invited hasn&#39;t accepted their invitation yet: send a new invitation from Invitations."),
    ],
)
def test_no_link_for_someone_who_cant_use_one(app, as_coordinator, people, key, message):
    response = as_coordinator.post(_path(people[key], "reset-link"))

    assert response.status_code == 422
    assert message in response.text
    assert sent_mail(app) == []
    assert audit_rows("user.reset_link_sent") == []


# --- What the page shows of a family and of a provider --------------------------------------------------


def test_a_familys_page_shows_their_hours_and_sessions(as_coordinator):
    profile = factories.CaregiverProfileFactory(user__display_name="Rosa Martinez", annual_allotment_minutes=40 * 60)
    person = factories.CareRecipientFactory(caregiver=profile, first_name="Elena", last_name="Martinez")
    coming = factories.RespiteSessionFactory(recipient=person, status="confirmed")
    past = factories.RespiteSessionFactory(
        recipient=person,
        status="completed",
        starts_at=utcnow() - timedelta(days=2, hours=3),
        ends_at=utcnow() - timedelta(days=2, hours=1),
    )
    factories.AssignmentFactory(session=coming, provider__user__display_name="Tom Okafor", status="accepted")
    left = 40 * 60 - minutes_used_this_year(profile, profile.user.timezone)

    text = as_coordinator.get(_path(profile.user)).text

    assert re.search(rf"<strong>{left // 60} h( {left % 60:02d} min)? left</strong> of 40 h a year", text)
    assert f'id="session-{coming.id}"' in text
    assert f'id="session-{past.id}"' in text
    assert "Tom Okafor" in text


def test_a_providers_page_shows_their_week_time_off_and_hours_this_month(as_coordinator):
    profile = factories.ProviderProfileFactory(user__display_name="Marcus Bell", user__timezone="UTC")
    factories.AvailabilityFactory(provider=profile, weekday=0, start_minute=9 * 60, end_minute=12 * 60)
    factories.AvailabilityFactory(provider=profile, weekday=2, start_minute=13 * 60, end_minute=17 * 60)
    now = utcnow()
    done = factories.RespiteSessionFactory(
        status="completed", starts_at=now.replace(day=1, hour=9), ends_at=now.replace(day=1, hour=11)
    )
    factories.AssignmentFactory(session=done, provider=profile, status="accepted")

    text = as_coordinator.get(_path(profile.user)).text

    assert f"Hours in {now:%B %Y}" in text
    assert "<strong>2 h</strong> done" in text
    assert "Free on 2 days a week" in text
    assert re.search(r"<strong>Monday</strong>\s*9:00 am – 12:00 pm", text)
    assert re.search(r"<strong>Wednesday</strong>\s*1:00 pm – 5:00 pm", text)


@pytest.mark.parametrize("action", ["details", "unlock", "reset-link", "allotment"])
def test_an_account_no_one_has_is_not_found(as_coordinator, action):
    assert as_coordinator.post(f"/admin/users/999999/{action}").status_code == 404


@pytest.mark.parametrize("action", ["details", "unlock", "reset-link", "allotment"])
def test_only_coordinators_manage_people(as_provider, caregiver, action):
    assert as_provider.post(_path(caregiver, action)).status_code == 403


def test_locked_out_and_unlocked_on_the_apps_redis_too(app, people, strict_throttle, coordinator, monkeypatch):
    """The throttling's counts live in Redis in production (the other tests count in memory)."""
    storage = storage_from_string(limiter_storage_uri(app.config["REDIS_URL"]))
    monkeypatch.setattr(limiter, "_storage", storage)
    monkeypatch.setattr(limiter, "_limiter", MovingWindowRateLimiter(storage))
    rosa = people["rosa"]
    try:
        _fail_sign_in(app, rosa)
        assert throttle.held_back().holds(rosa)
        with app.test_request_context():
            services.unlock(coordinator, rosa)
        db.session.commit()
        assert not throttle.held_back().holds(rosa)
        sign_in(app.test_client(), rosa)
    finally:
        throttle.release(rosa.id, rosa.email)
