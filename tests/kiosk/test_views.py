"""The front desk through its pages: pairing, the board, checking in and out with the code and the handover, the
limits on codes and PINs, a revoked tablet, what the device's cookie opens (only the kiosk's pages), and the
coordinators' Kiosks page."""

import re
from datetime import timedelta
from http.cookies import SimpleCookie
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from respite.extensions import db
from respite.kiosk import services
from respite.models import Handover, KioskDevice, Notice, NoticeKind, RespiteSession, SessionStatus, User, utcnow
from tests import factories
from tests.helpers import audit_rows, field_error, sign_in
from tests.web.test_access_matrix import ANONYMOUS, MATRIX, World, ask, check, path_for

from .conftest import STAFF_PIN

S = SessionStatus
HTMX = {"HX-Request": "true"}


def the_code(session):
    return services._code_for(session.id, services.session_day(session))


def stored(session):
    db.session.expire_all()
    return db.session.get(RespiteSession, session.id)


def set_cookie_header(response):
    """The kiosk cookie as the answer sets it: (value, attributes)."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith("respite_kiosk="):
            cookie = SimpleCookie()
            cookie.load(header)
            return cookie["respite_kiosk"].value, header
    return None


def ticket_of(response):
    return re.search(r'name="ticket" type="hidden" value="([^"]+)"', response.text).group(1)


# --- Pairing -------------------------------------------------------------------------------------


def test_an_unpaired_tablet_sees_the_pairing_screen_and_nothing_of_anyone(client, visit):
    response = client.get("/kiosk")
    assert response.status_code == 200
    assert "Pair this tablet with a center" in response.text
    assert "Elena" not in response.text
    assert "Sign out" not in response.text
    assert "sse-connect" not in response.text
    # A live region asking without a tablet's credential is sent to the pairing screen.
    region = client.get("/kiosk", headers=HTMX)
    assert region.status_code == 401
    assert region.headers["HX-Redirect"] == "/kiosk"


def test_pairing_sets_a_long_lived_strict_cookie_for_the_kiosk_pages_only(client, coordinator, center, visit):
    _, code = services.create_pairing(coordinator, center, device_name="Front desk")
    db.session.commit()

    response = client.post("/kiosk/pair", data={"code": services.format_pairing_code(code)})

    assert response.status_code == 302
    assert response.headers["Location"] == "/kiosk"
    token, header = set_cookie_header(response)
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "max-age", "path"} <= attributes
    assert "SameSite=Strict" in header
    assert "Path=/kiosk" in header
    assert int(re.search(r"Max-Age=(\d+)", header).group(1)) >= 365 * 24 * 3600
    device = services.device_for_token(token)
    assert device.center_id == center.id
    board = client.get("/kiosk")
    assert "This tablet is paired with Maple House as “Front desk”." in board.text
    assert "Today at Maple House" in board.text
    assert "Elena M." in board.text
    assert 'sse-connect="/kiosk/events"' in board.text
    # No person's sign-in: no sign-out, no "signed in as", no navigation.
    for absent in ("Sign out", "Sign in", "site-nav", "site-user"):
        assert absent not in board.text


def test_pairing_signs_out_whoever_was_signed_in_on_this_browser(client, coordinator, center):
    sign_in(client, coordinator)
    _, code = services.create_pairing(coordinator, center, device_name="Front desk")
    db.session.commit()

    assert client.post("/kiosk/pair", data={"code": code}).status_code == 302

    assert urlsplit(client.get("/coordinator").headers["Location"]).path == "/login"
    assert "Today at" in client.get("/kiosk").text


def test_a_wrong_pairing_code_says_so_in_place(client):
    response = client.post("/kiosk/pair", data={"code": "ABCD-EFGH"})
    assert response.status_code == 422
    assert field_error(response, "code") == services.PAIRING_REFUSED
    assert 'value="ABCD-EFGH"' not in response.text
    assert set_cookie_header(response) is None
    assert len(audit_rows("kiosk.pair_refused")) == 1


def test_pairing_attempts_are_throttled(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "KIOSK_PAIRING_LIMIT", "3 per 15 minutes")
    for _ in range(3):
        assert client.post("/kiosk/pair", data={"code": "ABCD-EFGH"}).status_code == 422
    locked = client.post("/kiosk/pair", data={"code": "ABCD-EFGH"})
    assert locked.status_code == 429
    assert "Too many wrong tries" in locked.text
    assert int(locked.headers["Retry-After"]) > 0
    assert len(audit_rows("access.throttled")) == 1


# --- The board -----------------------------------------------------------------------------------


def test_the_board_shows_its_centers_day_in_three_columns_by_first_name_and_initial(at_desk, center, session_at):
    session_at(center, minutes_from_now=60, recipient__first_name="Margaret", recipient__last_name="Thornbury")
    here = session_at(center, minutes_from_now=-60, status=S.CHECKED_IN, recipient__first_name="Harold")
    session_at(center, minutes_from_now=-120, hours=1, status=S.COMPLETED, recipient__first_name="Gwen")
    session_at(center, minutes_from_now=60, status=S.REQUESTED, recipient__first_name="Pending")
    session_at(factories.CenterFactory(), minutes_from_now=60, recipient__first_name="Elsewhere")

    text = at_desk.get("/kiosk").text

    expected, present, gone = re.split(r'<h2 id="(?:here|gone)-heading">', text.split('<h2 id="expected-heading">')[1])
    assert "Margaret T." in expected
    assert "Thornbury" not in text
    assert f'href="/kiosk/sessions/{here.id}"' in present
    assert "Harold" in present
    assert "Check out" in present
    assert "Gwen" in gone
    for absent in ("Pending", "Elsewhere", here.caregiver.full_name):
        assert absent not in text


def test_a_quiet_day_says_so(at_desk):
    assert "No one is expected today." in at_desk.get("/kiosk").text


def test_the_board_shows_times_on_the_centers_clock_whatever_the_tablets(app, session_at):
    tokyo = factories.CenterFactory(timezone="Asia/Tokyo")
    tablet = factories.KioskDeviceFactory(center=tokyo)
    starts = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=30)
    session_at(tokyo, starts_at=starts, ends_at=starts + timedelta(hours=2))
    client = app.test_client()
    client.set_cookie("respite_kiosk", tablet.token, path="/kiosk")

    body = client.get("/kiosk", headers=HTMX).text

    local = starts.astimezone(ZoneInfo("Asia/Tokyo"))
    assert body.lstrip().startswith('<div id="kiosk-board"')
    assert "<html" not in body
    assert f"{local:%H:%M} – {local + timedelta(hours=2):%H:%M}" in body
    page = client.get("/kiosk").text
    assert 'data-kiosk-zone="Asia/Tokyo"' in page


def test_the_region_refreshes_on_the_centers_events_and_a_boosted_navigation_gets_the_page(at_desk):
    region = at_desk.get("/kiosk", headers=HTMX)
    assert 'hx-trigger="sse:kiosk, sse:session, respite:resync from:body"' in region.text
    assert "HX-Request" in region.headers["Vary"]
    assert "<html" in at_desk.get("/kiosk", headers={**HTMX, "HX-Boosted": "true"}).text


def test_the_board_and_its_region_take_the_same_statements_however_many_sessions(at_desk, center, session_at):
    from tests.helpers import assert_statement_budget

    def add(n):
        for _ in range(n):
            session_at(center, minutes_from_now=30)

    # The tablet and its center (one), the day's sessions with their people (one): no navigation on a kiosk.
    assert_statement_budget(at_desk, "/kiosk", add, 2)
    assert_statement_budget(at_desk, "/kiosk", add, 2, headers=HTMX)


def test_the_code_step_takes_the_same_statements_however_busy_the_day(at_desk, visit, center, session_at):
    from tests.helpers import assert_statement_budget

    def add(n):
        for _ in range(n):
            session_at(center, minutes_from_now=30)

    # The tablet and its center, then the session with its person and their care card.
    assert_statement_budget(at_desk, f"/kiosk/sessions/{visit.id}", add, 2)


def test_last_seen_is_noted_and_the_cookie_renewed_at_most_once_a_minute(at_desk, tablet):
    tablet.last_seen_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    first = at_desk.get("/kiosk")
    assert set_cookie_header(first)[0] == tablet.token
    assert stored_device(tablet).last_seen_at > utcnow() - timedelta(seconds=30)
    assert set_cookie_header(at_desk.get("/kiosk")) is None


def stored_device(device):
    db.session.expire_all()
    return db.session.get(KioskDevice, device.id)


# --- A revoked tablet ------------------------------------------------------------------------------


def test_a_revoked_tablet_is_back_on_the_pairing_screen_and_forgets_its_cookie(at_desk, tablet, coordinator, visit):
    services.revoke_device(coordinator, tablet)
    db.session.commit()

    page = at_desk.get("/kiosk")
    assert page.status_code == 200
    assert "Pair this tablet with a center" in page.text
    assert "Elena" not in page.text
    assert "respite_kiosk=;" in page.headers["Set-Cookie"]
    (denied,) = audit_rows("access.denied")
    assert "revoked or unknown" in denied.summary
    assert tablet.token not in denied.summary


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/kiosk", HTMX, 401),
        ("GET", "/kiosk/events", {}, 401),
        ("GET", "/kiosk/sessions/{id}", {}, 302),
        ("POST", "/kiosk/sessions/{id}", {}, 302),
        ("POST", "/kiosk/sessions/{id}/handover", {}, 302),
    ],
)
def test_a_revoked_tablet_opens_nothing(at_desk, tablet, coordinator, visit, method, path, headers, status):
    services.revoke_device(coordinator, tablet)
    db.session.commit()
    response = at_desk.open(path.format(id=visit.id), method=method, headers=headers, data={"code": the_code(visit)})
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"] == "/kiosk"
    if headers:
        assert response.headers["HX-Redirect"] == "/kiosk"
    assert stored(visit).status == S.CONFIRMED


# --- Checking in and out -------------------------------------------------------------------------


def test_a_family_checks_in_with_the_code_and_who_brought_the_person(at_desk, visit, tablet):
    step = at_desk.get(f"/kiosk/sessions/{visit.id}")
    assert step.status_code == 200
    assert "Check in Elena M." in step.text
    assert "Luis" not in step.text  # the list of who may drop off shows only after the right code

    wrong = at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": "000000"})
    assert wrong.status_code == 422
    assert field_error(wrong, "code") == services.WRONG_CODE
    assert 'value="000000"' not in wrong.text

    right = at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": the_code(visit)})
    assert right.status_code == 200
    assert "Who is bringing Elena M.?" in right.text
    assert "Luis Martinez (Grandson)" in right.text
    assert the_code(visit) not in right.text

    done = at_desk.post(f"/kiosk/sessions/{visit.id}/handover", data={"ticket": ticket_of(right), "person": "0"})

    assert done.status_code == 302
    assert done.headers["Location"] == "/kiosk"
    assert stored(visit).status == S.CHECKED_IN
    (handover,) = db.session.scalars(select(Handover)).all()
    assert (handover.kind, handover.person_name, handover.on_list) == ("drop_off", "Luis Martinez", True)
    board = at_desk.get("/kiosk").text
    assert "Elena M. is checked in. Thank you!" in board
    assert "In at" in board.split('id="here-heading"')[1]


def test_a_pick_up_by_someone_not_on_the_list_needs_the_staff_pin_and_tells_the_family(at_desk, visit, tablet):
    services.hand_over(tablet, visit, services.HandoverChoice(person="0"))
    db.session.commit()
    right = at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": the_code(visit)})
    assert "Who is collecting Elena M.?" in right.text
    someone = {"ticket": ticket_of(right), "person": "other", "name": "Tom Baker", "relationship": "Friend"}

    wrong = at_desk.post(f"/kiosk/sessions/{visit.id}/handover", data={**someone, "pin": "0000"})
    assert wrong.status_code == 422
    assert field_error(wrong, "pin") == services.WRONG_PIN
    assert stored(visit).status == S.CHECKED_IN
    assert len(audit_rows("kiosk.pin_refused")) == 1

    done = at_desk.post(f"/kiosk/sessions/{visit.id}/handover", data={**someone, "pin": STAFF_PIN})
    assert done.status_code == 302
    assert stored(visit).status == S.COMPLETED
    (notice,) = db.session.scalars(select(Notice).where(Notice.kind == NoticeKind.HANDOVER)).all()
    assert notice.user_id == visit.caregiver.user_id
    assert "Tom Baker" in notice.text


def test_the_session_page_says_who_brought_and_who_collected_the_person(app, at_desk, visit, tablet):
    services.hand_over(tablet, visit, services.HandoverChoice(person="0"))
    db.session.commit()
    right = at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": the_code(visit)})
    someone = {"ticket": ticket_of(right), "person": "other", "name": "Tom Baker", "relationship": "Friend"}
    at_desk.post(f"/kiosk/sessions/{visit.id}/handover", data={**someone, "pin": STAFF_PIN})
    family = app.test_client()
    sign_in(family, visit.caregiver.user)

    page = family.get(f"/sessions/{visit.id}").get_data(as_text=True)

    visit_panel = page.split('id="visit-heading"')[1]
    assert re.search(r"<dt>Brought by</dt>\s*<dd[^>]*>Luis Martinez \(Grandson\)</dd>", visit_panel)
    assert re.search(
        r"<dt>Collected by</dt>\s*<dd[^>]*>Tom Baker \(Friend\) · <strong>not on the care card's list</strong>",
        visit_panel,
    )


def test_the_handover_needs_the_ticket_the_right_code_gave(at_desk, visit):
    response = at_desk.post(f"/kiosk/sessions/{visit.id}/handover", data={"ticket": "forged", "person": "0"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/kiosk/sessions/{visit.id}"
    assert stored(visit).status == S.CONFIRMED


def test_someone_not_yet_due_is_told_when_check_in_opens(at_desk, center, elena, session_at):
    later = session_at(center, elena, minutes_from_now=120)
    page = at_desk.get(f"/kiosk/sessions/{later.id}")
    assert "Check-in opens at" in page.text
    assert 'name="code"' not in page.text
    refused = at_desk.post(f"/kiosk/sessions/{later.id}", data={"code": the_code(later)})
    assert refused.status_code == 422
    assert "Who is bringing" not in refused.text


@pytest.mark.parametrize("kind", ["elsewhere", "tomorrow", "gone", "unknown"])
def test_a_session_not_on_the_boards_open_rows_is_not_found(at_desk, center, session_at, kind):
    session_id = {
        "elsewhere": lambda: session_at(factories.CenterFactory()).id,
        "tomorrow": lambda: session_at(center, minutes_from_now=2 * 24 * 60).id,
        "gone": lambda: session_at(center, status=S.COMPLETED).id,
        "unknown": lambda: 987654,
    }[kind]()
    db.session.commit()  # a refusal rolls the request's transaction back: what the test made must outlive it
    assert at_desk.get(f"/kiosk/sessions/{session_id}").status_code == 404
    assert at_desk.post(f"/kiosk/sessions/{session_id}", data={"code": "123456"}).status_code == 404


def test_codes_are_never_written_to_the_log(at_desk, visit, caplog):
    at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": "271828"})
    at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": the_code(visit)})
    assert "271828" not in caplog.text
    assert the_code(visit) not in caplog.text
    for row in audit_rows():
        assert "271828" not in str(row.meta) + row.summary
        assert the_code(visit) not in str(row.meta) + row.summary


# --- Limits: codes per session and per tablet, PINs per tablet -------------------------------------


def test_a_session_locks_after_five_wrong_codes_even_for_the_right_one(at_desk, visit, center, elena, session_at):
    other = session_at(center)
    db.session.commit()  # a refusal rolls the request's transaction back: what the test made must outlive it
    for _ in range(5):
        assert at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": "000000"}).status_code == 422

    locked = at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": the_code(visit)})

    assert locked.status_code == 429
    assert "Too many wrong tries" in locked.text
    assert "locked for about 15 minutes" in locked.text
    assert len(audit_rows("kiosk.code_refused")) == 5
    assert len(audit_rows("access.throttled")) == 1
    # Another family at the same tablet is not held up by it.
    assert at_desk.post(f"/kiosk/sessions/{other.id}", data={"code": the_code(other)}).status_code == 200


def test_a_tablet_locks_after_ten_wrong_codes_across_sessions(at_desk, center, session_at, app):
    sessions = [session_at(center) for _ in range(4)]
    for number in range(10):
        assert at_desk.post(f"/kiosk/sessions/{sessions[number % 4].id}", data={"code": "000000"}).status_code == 422
    fresh = session_at(center)
    other_tablet = factories.KioskDeviceFactory(center=center)
    db.session.commit()  # a refusal rolls the request's transaction back: what the test made must outlive it
    assert at_desk.post(f"/kiosk/sessions/{fresh.id}", data={"code": the_code(fresh)}).status_code == 429
    # Another tablet of the center goes on.
    other = app.test_client()
    other.set_cookie("respite_kiosk", other_tablet.token, path="/kiosk")
    assert other.post(f"/kiosk/sessions/{fresh.id}", data={"code": the_code(fresh)}).status_code == 200


def test_right_codes_are_never_counted(at_desk, visit):
    for _ in range(8):
        assert at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": the_code(visit)}).status_code == 200


def test_the_staff_pin_locks_after_five_wrong_tries(at_desk, visit):
    right = at_desk.post(f"/kiosk/sessions/{visit.id}", data={"code": the_code(visit)})
    someone = {"ticket": ticket_of(right), "person": "other", "name": "Tom Baker", "relationship": "Friend"}
    for _ in range(5):
        assert at_desk.post(f"/kiosk/sessions/{visit.id}/handover", data={**someone, "pin": "1111"}).status_code == 422
    locked = at_desk.post(f"/kiosk/sessions/{visit.id}/handover", data={**someone, "pin": STAFF_PIN})
    assert locked.status_code == 429
    assert stored(visit).status == S.CONFIRMED


# --- The device's stream -----------------------------------------------------------------------------


def test_the_stream_ends_when_the_tablet_is_unpaired(app, at_desk, tablet, coordinator, monkeypatch):
    import time

    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setitem(app.config, "SSE_STREAM_MAX_SECONDS", 30)
    db.session.commit()  # the stream gives its database session back before its first byte
    ids = (coordinator.id, tablet.id)
    response = at_desk.get("/kiosk/events", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    started = time.monotonic()
    services.revoke_device(db.session.get(User, ids[0]), db.session.get(KioskDevice, ids[1]))
    db.session.commit()
    b"".join(response.response)
    assert time.monotonic() - started < 10
    assert at_desk.get("/kiosk/events").status_code == 401


def test_the_stream_does_not_outlive_a_sign_ins_lifetime_rule_it_has_none(app, at_desk, monkeypatch):
    """A tablet's stream lasts SSE_STREAM_MAX_SECONDS whatever the sign-in lifetime (it has no sign-in)."""
    from datetime import timedelta as td

    monkeypatch.setitem(app.config, "PERMANENT_SESSION_LIFETIME", td(seconds=0))
    monkeypatch.setitem(app.config, "SSE_HEARTBEAT_SECONDS", 0.1)
    monkeypatch.setitem(app.config, "SSE_STREAM_MAX_SECONDS", 0.5)
    response = at_desk.get("/kiosk/events", buffered=False)
    body = b"".join(response.response).decode()
    assert ": heartbeat" in body
    assert at_desk.get("/kiosk").status_code == 200


# --- The device's cookie opens the kiosk's pages and nothing else ------------------------------------

OTHER_RULES = [rule for rule in MATRIX if not rule.startswith("/kiosk")]


@pytest.mark.parametrize("rule", OTHER_RULES)
def test_a_tablets_credential_opens_nothing_but_the_kiosk(app, rule):
    """Even sent to every address (the browser sends it only to /kiosk), the cookie is anyone's answer."""
    route = MATRIX[rule]
    world = World(ANONYMOUS)
    with app.test_request_context():
        path = path_for(rule, route.values(world))
    tablet = factories.KioskDeviceFactory(center=world.center)
    db.session.commit()
    client = app.test_client()
    client.set_cookie("respite_kiosk", tablet.token, path="/")
    for method, answers in route.answers.items():
        check(ask(client, method, path), answers[ANONYMOUS], method=method, path=path, role=ANONYMOUS, user=None)


# --- The family's session page shows the code ----------------------------------------------------------


def test_the_familys_session_page_shows_its_code_and_no_one_elses_does(app, visit):
    family = app.test_client()
    sign_in(family, visit.caregiver.user)
    page = family.get(f"/sessions/{visit.id}").text
    assert "Code for the front desk" in page
    code = the_code(visit)
    assert f"{code[:3]} {code[3:]}" in page
    coordinator = app.test_client()
    sign_in(coordinator, factories.UserFactory(role="coordinator"))
    assert "Code for the front desk" not in coordinator.get(f"/sessions/{visit.id}").text


# --- The coordinators' Kiosks page -----------------------------------------------------------------------


def test_a_coordinator_makes_a_pairing_code_shown_once(as_coordinator, center):
    page = as_coordinator.get("/admin/kiosks")
    assert page.status_code == 200
    assert "No tablet is paired yet." in page.text

    response = as_coordinator.post(
        "/admin/kiosks/pairing", data={"pairing-center_id": center.id, "pairing-device_name": "Front desk"}
    )

    assert response.status_code == 200
    code = re.search(r'<code id="pairing-code">([A-Z0-9-]+)</code>', response.text).group(1)
    assert len(code) == 9
    assert "Set-Cookie" not in response.headers or code not in response.headers["Set-Cookie"]
    assert code not in as_coordinator.get("/admin/kiosks").text


def test_the_kiosks_page_lists_tablets_with_last_seen_and_unpairs_one(as_coordinator, tablet):
    page = as_coordinator.get("/admin/kiosks").text
    assert "Front desk" in page
    assert f'action="/admin/kiosks/{tablet.id}/revoke"' in page

    response = as_coordinator.post(f"/admin/kiosks/{tablet.id}/revoke")

    assert response.status_code == 302
    assert stored_device(tablet).revoked_at is not None
    after = as_coordinator.get("/admin/kiosks").text
    assert "is unpaired: it shows the pairing screen now." in after
    assert f'action="/admin/kiosks/{tablet.id}/revoke"' not in after
    assert as_coordinator.post("/admin/kiosks/987654/revoke").status_code == 404


def test_a_coordinator_sets_a_centers_staff_pin(as_coordinator, center):
    db.session.commit()  # a refused form rolls the request's transaction back: the center must outlive it
    bad = as_coordinator.post("/admin/kiosks/pin", data={"pin-center_id": center.id, "pin-pin": "12"})
    assert bad.status_code == 422
    assert field_error(bad, "pin-pin") == "A staff PIN is 4 to 8 digits."
    good = as_coordinator.post("/admin/kiosks/pin", data={"pin-center_id": center.id, "pin-pin": "97531"})
    assert good.status_code == 302
    db.session.expire_all()
    assert services.verify_password(db.session.get(type(center), center.id).kiosk_pin_hash, "97531")
    assert len(audit_rows("kiosk.pin_set")) == 1


def test_the_kiosks_page_and_its_region_take_the_same_statements_however_many_tablets(as_coordinator, center):
    from tests.helpers import NAV, assert_statement_budget

    def add(n):
        for _ in range(n):
            factories.KioskDeviceFactory(center=center)

    # The coordinator (one), the tablets with their centers and who paired them (one), the centers (one),
    # the navigation's badges on the full page.
    assert_statement_budget(as_coordinator, "/admin/kiosks", add, 3 + NAV)
    assert_statement_budget(as_coordinator, "/admin/kiosks", add, 3, headers=HTMX)
