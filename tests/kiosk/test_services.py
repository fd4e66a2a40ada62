"""The front desk's rules: pairing codes work once and briefly, a tablet's credential until it is revoked, session
codes only on their day at their center (compared in constant time, never logged), handovers from the list or
with the staff PIN (and then the family is told), the board's three columns."""

import hashlib
import hmac
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from respite import realtime
from respite.extensions import db
from respite.kiosk import services
from respite.kiosk.services import HandoverChoice, KioskError
from respite.models import (
    AuditLog,
    Handover,
    KioskDevice,
    KioskPairing,
    Notice,
    NoticeKind,
    RespiteSession,
    SessionStatus,
    utcnow,
)
from respite.scheduling.lifecycle import SchedulingError
from tests import factories
from tests.helpers import audit_rows

from .conftest import STAFF_PIN

S = SessionStatus
CHICAGO = ZoneInfo("America/Chicago")


def everything_logged():
    """Every audit row as text: what a code or PIN must never appear in."""
    return " ".join(
        json.dumps([row.action, row.summary, row.meta, row.entity_id], default=str)
        for row in db.session.scalars(select(AuditLog))
    )


# --- Pairing -------------------------------------------------------------------------------------


def test_a_coordinator_makes_a_short_one_time_code_kept_only_as_its_hash(coordinator, center):
    now = utcnow()
    pairing, code = services.create_pairing(coordinator, center, device_name="  Front   desk ", now=now)

    assert len(code) == 8
    assert set(code) <= set(services.PAIRING_ALPHABET)
    assert not set(code) & set("01OIL")
    assert pairing.code_hash == hashlib.sha256(code.encode()).hexdigest()
    assert (pairing.center_id, pairing.device_name, pairing.created_by_id) == (center.id, "Front desk", coordinator.id)
    assert pairing.expires_at == now + timedelta(minutes=10)
    (row,) = audit_rows("kiosk.pairing_create")
    assert row.actor_id == coordinator.id
    assert code not in everything_logged()
    assert services.format_pairing_code("ABCDEFGH") == "ABCD-EFGH"


@pytest.mark.parametrize("role", ["caregiver", "provider", "kiosk"])
def test_only_a_coordinator_pairs(request, center, role):
    with pytest.raises(PermissionError):
        services.create_pairing(request.getfixturevalue(role), center, device_name="Front desk")
    assert db.session.scalars(select(KioskPairing)).all() == []


def test_a_tablet_name_is_needed(coordinator, center):
    with pytest.raises(KioskError) as refused:
        services.create_pairing(coordinator, center, device_name="   ")
    assert refused.value.problems == {"device_name": "Name the tablet, e.g. Front desk."}


def test_the_code_pairs_one_tablet_once_and_its_credential_is_kept_only_as_its_hash(coordinator, center, published):
    pairing, code = services.create_pairing(coordinator, center, device_name="Front desk")

    # Typed as a person types it: lower case, with the dash the page shows.
    device, token = services.pair_device(services.format_pairing_code(code).lower())

    assert (device.center_id, device.name, device.created_by_id) == (center.id, "Front desk", coordinator.id)
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 40
    assert pairing.used_at is not None
    assert pairing.device_id == device.id
    assert services.device_for_token(token) is device
    (row,) = audit_rows("kiosk.pair")
    assert (row.actor_id, row.actor_role, row.meta["device_id"]) == (None, "kiosk", device.id)
    assert token not in everything_logged()
    with pytest.raises(KioskError, match="used already"):
        services.pair_device(code)
    assert db.session.scalars(select(KioskDevice)).all() == [device]
    db.session.commit()
    assert (realtime.user_channel(coordinator.id), "kiosk", {"device_id": device.id}) in published


def test_a_code_works_for_ten_minutes_only(coordinator, center):
    now = utcnow()
    _, code = services.create_pairing(coordinator, center, device_name="Front desk", now=now)

    with pytest.raises(KioskError):
        services.pair_device(code, now=now + timedelta(minutes=10))
    device, _ = services.pair_device(code, now=now + timedelta(minutes=9, seconds=59))
    assert device.center_id == center.id


@pytest.mark.parametrize("typed", ["", "ABCD", "ABCDEFGH", "ABCDEFG0", "A" * 300, "\x00BCDEFGH"])
def test_an_unknown_or_malformed_code_pairs_nothing_and_is_audited_without_itself(coordinator, center, typed):
    services.create_pairing(coordinator, center, device_name="Front desk")

    with pytest.raises(KioskError) as refused:
        services.pair_device(typed)

    assert refused.value.problems == {"code": services.PAIRING_REFUSED}
    assert db.session.scalars(select(KioskDevice)).all() == []
    (row,) = audit_rows("kiosk.pair_refused")
    assert row.actor_role == "kiosk"
    if typed:
        assert typed not in everything_logged()


# --- The credential, and revoking it -------------------------------------------------------------


def test_a_revoked_or_unknown_credential_opens_nothing(tablet, coordinator, published):
    assert services.device_for_token(tablet.token) is tablet
    for token in (None, "", "not-a-credential", "x" * 500):
        assert services.device_for_token(token) is None

    services.revoke_device(coordinator, tablet)

    assert services.device_for_token(tablet.token) is None
    assert tablet.revoked_by_id == coordinator.id
    (row,) = audit_rows("kiosk.revoke")
    assert (row.actor_id, row.meta) == (coordinator.id, {"device_id": tablet.id, "center_id": tablet.center_id})
    with pytest.raises(KioskError, match="unpaired already"):
        services.revoke_device(coordinator, tablet)
    db.session.commit()
    # Its own stream ends (a signed_out event on its channel) and the Kiosks pages refresh.
    assert (realtime.kiosk_channel(tablet.id), "signed_out", {"device_id": tablet.id}) in published
    assert (realtime.user_channel(coordinator.id), "kiosk", {"device_id": tablet.id}) in published


@pytest.mark.parametrize("role", ["caregiver", "provider", "kiosk"])
def test_only_a_coordinator_unpairs_or_loads_a_tablet(request, tablet, role):
    someone = request.getfixturevalue(role)
    with pytest.raises(PermissionError):
        services.revoke_device(someone, tablet)
    assert services.get_device_for(someone, tablet.id) is None
    assert tablet.revoked_at is None


def test_last_seen_is_written_at_most_once_a_minute(tablet):
    seen = tablet.last_seen_at
    assert services.note_seen(tablet, seen + timedelta(seconds=59)) is False
    assert tablet.last_seen_at == seen
    assert services.note_seen(tablet, seen + timedelta(minutes=1)) is True
    assert tablet.last_seen_at == seen + timedelta(minutes=1)


def test_the_staff_pin_is_kept_as_a_hash_and_never_logged(coordinator, center):
    services.set_staff_pin(coordinator, center, "908172")
    assert "908172" not in center.kiosk_pin_hash
    assert center.kiosk_pin_hash.startswith("$argon2")
    assert "908172" not in everything_logged()
    for bad in ("123", "123456789", "12a4", ""):
        with pytest.raises(KioskError, match="4 to 8 digits"):
            services.set_staff_pin(coordinator, center, bad)
    with pytest.raises(PermissionError):
        services.set_staff_pin(factories.UserFactory(role="provider"), center, "1234")


# --- Session codes -------------------------------------------------------------------------------


def local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), CHICAGO).astimezone(UTC)


def the_code(session):
    return services._code_for(session.id, services.session_day(session))


def test_a_sessions_code_is_six_digits_and_works_on_its_day_at_its_center(tablet, session_at, center):
    session = session_at(center)
    code = the_code(session)
    assert len(code) == 6
    assert code.isdigit()
    assert services.code_works(tablet, session, code)
    assert services.code_works(tablet, session, f" {code[:3]} {code[3:]} ")
    assert not services.code_works(tablet, session, str((int(code) + 1) % 10**6).zfill(6))
    assert not services.code_works(tablet, session, "")
    assert not services.code_works(tablet, session, "１２３４５６")  # other digits than ASCII: no match, no error


def test_a_code_never_works_on_another_day(tablet, center, session_at):
    day = date(2026, 3, 10)
    session = session_at(center, starts_at=local(day, 10), ends_at=local(day, 13))
    code = the_code(session)

    assert services.code_works(tablet, session, code, now=local(day, 0))
    assert services.code_works(tablet, session, code, now=local(day, 23))
    assert not services.code_works(tablet, session, code, now=local(day, 0) - timedelta(seconds=1))
    assert not services.code_works(tablet, session, code, now=local(day + timedelta(days=1), 9))
    # Its code for another day is another code, which doesn't work today either.
    other_day = services._code_for(session.id, day + timedelta(days=1))
    assert other_day != code
    assert not services.code_works(tablet, session, other_day, now=local(day, 10))


def test_an_evening_session_is_collected_after_midnight_with_its_code(tablet, center, session_at):
    day = date(2026, 3, 10)
    session = session_at(center, starts_at=local(day, 20), ends_at=local(day + timedelta(days=1), 2))
    assert services.code_works(tablet, session, the_code(session), now=local(day + timedelta(days=1), 1))
    assert not services.code_works(tablet, session, the_code(session), now=local(day + timedelta(days=2), 1))


def test_a_code_never_works_at_another_centers_tablet(tablet, session_at):
    elsewhere = session_at(factories.CenterFactory())
    assert not services.code_works(tablet, elsewhere, the_code(elsewhere))


def test_codes_are_compared_in_constant_time(tablet, visit, monkeypatch):
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert not services.code_works(tablet, visit, "000000")
    assert services.code_works(tablet, visit, the_code(visit))
    assert [b for _, b in compared] == [b"000000", the_code(visit).encode()]


def test_codes_depend_on_the_key(app, visit, monkeypatch):
    code = the_code(visit)
    monkeypatch.setitem(app.config, "KIOSK_CODE_KEY", "another key for the codes, long enough")
    assert the_code(visit) != code


def test_a_wrong_code_is_refused_and_audited_without_what_was_typed(tablet, visit, caplog):
    with pytest.raises(KioskError) as refused:
        services.check_code(tablet, visit, "314159")
    assert refused.value.problems == {"code": services.WRONG_CODE}
    (row,) = audit_rows("kiosk.code_refused")
    assert (row.actor_id, row.actor_role, row.meta) == (None, "kiosk", {"device_id": tablet.id, "session_id": visit.id})
    services.check_code(tablet, visit, the_code(visit))
    logged = everything_logged() + caplog.text
    assert "314159" not in logged
    assert the_code(visit) not in logged


def test_the_family_alone_is_shown_the_code_of_a_center_session_confirmed_or_under_way(visit, center, provider):
    family = visit.caregiver.user
    shown = services.code_for_family(family, visit)
    assert (shown.code, shown.day, shown.center) == (the_code(visit), services.session_day(visit), center)
    assert shown.spaced == f"{shown.code[:3]} {shown.code[3:]}"
    for someone in (provider, factories.UserFactory(role="coordinator"), factories.CaregiverProfileFactory().user):
        assert services.code_for_family(someone, visit) is None
    for status in (S.REQUESTED, S.COMPLETED, S.CANCELLED):
        visit.status = status
        assert services.code_for_family(family, visit) is None
    home = factories.RespiteSessionFactory(
        recipient=visit.recipient, center=None, location_kind="home", address="4 Elm Row", status=S.CONFIRMED
    )
    assert services.code_for_family(family, home) is None


def test_the_ticket_after_the_code_holds_for_this_tablet_and_the_session_as_it_was(tablet, visit, center):
    ticket = services.handover_ticket(tablet, visit)
    assert services.ticket_is_good(tablet, visit, ticket)
    assert not services.ticket_is_good(factories.KioskDeviceFactory(center=center), visit, ticket)
    assert not services.ticket_is_good(tablet, visit, ticket + "x")
    assert not services.ticket_is_good(tablet, visit, "")
    visit.request_notes = "changed"
    db.session.flush()
    assert not services.ticket_is_good(tablet, visit, ticket)


# --- The board -----------------------------------------------------------------------------------


def test_the_board_shows_today_at_its_center_in_three_columns(tablet, center, session_at):
    expected = session_at(center, minutes_from_now=60, recipient__first_name="Margaret", recipient__last_name="Thorn")
    here = session_at(center, minutes_from_now=-60, status=S.CHECKED_IN)
    gone = session_at(center, minutes_from_now=-90, hours=1, status=S.COMPLETED)
    session_at(center, minutes_from_now=60, status=S.REQUESTED)
    session_at(center, minutes_from_now=60, status=S.CANCELLED)
    session_at(center, minutes_from_now=60 + 3 * 24 * 60)
    session_at(factories.CenterFactory(timezone=center.timezone), minutes_from_now=60)

    board = services.board_for(tablet)

    assert (board.expected, board.here, board.gone) == ([expected], [here], [gone])
    assert board.center is center
    assert board.day == utcnow().astimezone(CHICAGO).date()
    assert expected.recipient.short_name == "Margaret T."


def test_someone_here_since_yesterday_evening_is_on_todays_board(tablet, center, session_at):
    today = utcnow().astimezone(CHICAGO).date()
    overnight = session_at(
        center,
        status=S.CHECKED_IN,
        starts_at=local(today - timedelta(days=1), 20),
        ends_at=local(today, 2),
        checked_in_at=local(today - timedelta(days=1), 20),
    )
    assert services.board_for(tablet, now=local(today, 1)).here == [overnight]
    assert services.board_for(tablet, now=local(today + timedelta(days=1), 1)).here == []


def test_a_tablet_loads_only_its_centers_sessions_of_today_still_to_arrive_or_leave(tablet, center, session_at):
    expected = session_at(center)
    here = session_at(center, status=S.CHECKED_IN)
    gone = session_at(center, status=S.COMPLETED)
    tomorrow = session_at(center, minutes_from_now=2 * 24 * 60)
    elsewhere = session_at(factories.CenterFactory())
    assert services.get_session_for_device(tablet, expected.id) is expected
    assert services.get_session_for_device(tablet, here.id) is here
    for other in (gone, tomorrow, elsewhere):
        assert services.get_session_for_device(tablet, other.id) is None


# --- Handovers ------------------------------------------------------------------------------------


def test_a_drop_off_by_someone_on_the_list_checks_in_with_no_notice_of_a_handover(tablet, visit, published):
    handover = services.hand_over(tablet, visit, HandoverChoice(person="0"))

    assert visit.status == S.CHECKED_IN
    assert visit.checked_in_at is not None
    assert (handover.kind, handover.person_name, handover.person_relationship) == (
        "drop_off",
        "Luis Martinez",
        "Grandson",
    )
    assert (handover.on_list, handover.confirmed_by, handover.device_id) == (True, None, tablet.id)
    (row,) = audit_rows("handover.record")
    assert (row.actor_id, row.actor_role) == (None, "kiosk")
    assert row.meta == {"session_id": visit.id, "kind": "drop_off", "on_list": True, "device_id": tablet.id}
    assert "Luis" not in everything_logged()
    assert db.session.scalars(select(Notice).where(Notice.kind == NoticeKind.HANDOVER)).all() == []
    db.session.commit()
    assert (realtime.center_channel(visit.center_id), "session", {"session_id": visit.id}) in published


def test_a_pick_up_checks_out_and_records_who_collected(tablet, visit):
    services.hand_over(tablet, visit, HandoverChoice(person="0"))
    handover = services.hand_over(tablet, visit, HandoverChoice(person="1"))
    assert visit.status == S.COMPLETED
    assert visit.checked_out_at is not None
    assert (handover.kind, handover.person_name, handover.person_relationship) == ("pick_up", "Ana Ortiz", "Neighbour")
    assert [h.kind for h in db.session.scalars(select(Handover).order_by(Handover.id))] == ["drop_off", "pick_up"]


def test_someone_not_on_the_list_needs_the_staff_pin_and_the_family_hears_of_it_at_once(tablet, visit, published):
    family = visit.caregiver.user
    services.hand_over(tablet, visit, HandoverChoice(person="0"))
    someone = HandoverChoice(person="other", name="Tom Baker", relationship="Friend of the family", pin=STAFF_PIN)

    handover = services.hand_over(tablet, visit, someone)

    assert visit.status == S.COMPLETED
    assert (handover.on_list, handover.confirmed_by, handover.person_name) == (False, "staff_pin", "Tom Baker")
    (notice,) = db.session.scalars(select(Notice).where(Notice.kind == NoticeKind.HANDOVER)).all()
    assert (notice.user_id, notice.session_id, notice.actor_id) == (family.id, visit.id, None)
    assert notice.text.startswith("Elena was collected from Maple House by Tom Baker (Friend of the family) at ")
    assert "not on the list" in notice.text
    assert STAFF_PIN not in everything_logged()
    db.session.commit()
    assert (realtime.user_channel(family.id), "notice", {}) in published


@pytest.mark.parametrize("pin", ["0000", "", "48261", "abcd"])
def test_a_wrong_pin_changes_nothing_and_is_audited(tablet, visit, pin):
    with pytest.raises(KioskError) as refused:
        services.hand_over(
            tablet, visit, HandoverChoice(person="other", name="Tom Baker", relationship="Friend", pin=pin)
        )
    assert refused.value.problems == {"pin": services.WRONG_PIN}
    assert visit.status == S.CONFIRMED
    assert db.session.scalars(select(Handover)).all() == []
    assert [row.meta for row in audit_rows("kiosk.pin_refused")] == [{"device_id": tablet.id, "session_id": visit.id}]
    assert audit_rows("session.check_in") == []


def test_without_a_staff_pin_only_someone_on_the_list_is_recorded(tablet, visit, center):
    center.kiosk_pin_hash = None
    with pytest.raises(KioskError) as refused:
        services.hand_over(tablet, visit, HandoverChoice(person="other", name="Tom", relationship="Friend", pin="1234"))
    assert refused.value.problems == {"pin": services.NO_PIN}
    assert visit.status == S.CONFIRMED


def test_someone_else_is_named_with_who_they_are(tablet, visit):
    with pytest.raises(KioskError) as refused:
        services.hand_over(
            tablet, visit, HandoverChoice(person="other", name=" ", relationship="\x1b[31m", pin=STAFF_PIN)
        )
    assert refused.value.problems == {"name": "Write their full name.", "relationship": services.CONTROL_MESSAGE}
    assert audit_rows("kiosk.pin_refused") == []  # the PIN isn't tried until the rest is right


@pytest.mark.parametrize("person", ["2", "-1", "9999", "x", ""])
def test_only_someone_on_the_list_or_someone_else(tablet, visit, person):
    with pytest.raises(KioskError) as refused:
        services.hand_over(tablet, visit, HandoverChoice(person=person))
    assert refused.value.problems == {"person": "Choose who is here."}
    assert visit.status == S.CONFIRMED


def test_a_check_in_before_it_opens_records_no_handover(tablet, center, elena, session_at):
    later = session_at(center, elena, minutes_from_now=90)
    with pytest.raises(SchedulingError, match="Check-in opens at"):
        services.hand_over(tablet, later, HandoverChoice(person="0"))
    assert db.session.scalars(select(Handover)).all() == []
    assert services.step_refusal(tablet, later) is not None


def test_a_revoked_tablet_checks_no_one_in(tablet, visit, coordinator):
    services.revoke_device(coordinator, tablet)
    with pytest.raises(PermissionError):
        services.hand_over(tablet, visit, HandoverChoice(person="0"))
    assert db.session.get(RespiteSession, visit.id).status == S.CONFIRMED


def test_the_kiosks_settings_come_from_the_environment():
    from respite.config import Config

    settings = Config.from_env(
        {
            "KIOSK_PAIRING_LIMIT": "2 per hour",
            "KIOSK_CODE_DEVICE_LIMIT": "4 per hour",
            "KIOSK_CODE_SESSION_LIMIT": "3 per hour",
            "KIOSK_PIN_LIMIT": "1 per hour",
            "KIOSK_PAIRING_MINUTES": "5",
            "KIOSK_CODE_KEY": "a key for the codes of thirty-two characters",
        }
    )
    assert settings["KIOSK_PAIRING_LIMIT"] == "2 per hour"
    assert settings["KIOSK_CODE_DEVICE_LIMIT"] == "4 per hour"
    assert settings["KIOSK_CODE_SESSION_LIMIT"] == "3 per hour"
    assert settings["KIOSK_PIN_LIMIT"] == "1 per hour"
    assert settings["KIOSK_PAIRING_MINUTES"] == 5
    assert settings["KIOSK_CODE_KEY"] == "a key for the codes of thirty-two characters"
