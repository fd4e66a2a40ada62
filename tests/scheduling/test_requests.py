"""Requests, edits, replacements and series cancels in the service layer: every rule, whatever the client sends."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from respite.extensions import db
from respite.models import AssignmentStatus, RespiteSession, SessionStatus
from respite.scheduling import lifecycle, services
from respite.scheduling.services import RequestDetails, RequestInvalid, SchedulingError
from tests import factories
from tests.helpers import audit_rows, needs_postgres

S = SessionStatus
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # a Thursday
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def family():
    return factories.CaregiverProfileFactory(user__timezone="America/New_York", annual_allotment_minutes=100 * 60)


@pytest.fixture
def person(family):
    return factories.CareRecipientFactory(caregiver=family, first_name="Ada")


@pytest.fixture
def center():
    return factories.CenterFactory()


@pytest.fixture
def ask(person, center):
    """A request for Ada, 10:00–13:00 New York time on Tue 20 Jan 2026 at the center, changed as given."""

    def details(**changes):
        fields = {
            "recipient_id": person.id,
            "day": date(2026, 1, 20),
            "start": time(10, 0),
            "minutes": 180,
            "location_kind": "center",
            "center_id": center.id,
            "address": "",
            "notes": "",
            "weeks": 1,
        }
        fields.update(changes)
        return RequestDetails(**fields)

    return details


def request(family, details, **kwargs):
    kwargs.setdefault("now", NOW)
    return services.request_sessions(family.user, details, **kwargs)


def count_sessions():
    return db.session.scalar(select(func.count()).select_from(RespiteSession))


def local(moment, zone=NEW_YORK):
    return moment.astimezone(zone)


def problems_of(family, details, **kwargs):
    with pytest.raises(RequestInvalid) as refused:
        request(family, details, **kwargs)
    return refused.value.problems


# --- A request ---------------------------------------------------------------------------


def test_a_request_is_stored_in_utc_from_the_caregivers_own_clock(family, person, center, ask, published):
    (session,) = request(family, ask(notes="  Likes the garden  ")).sessions
    assert session.status == S.REQUESTED
    assert session.starts_at == datetime(2026, 1, 20, 15, 0, tzinfo=UTC)  # 10:00 EST
    assert session.ends_at == datetime(2026, 1, 20, 18, 0, tzinfo=UTC)
    assert (session.recipient, session.center, session.caregiver) == (person, center, family)
    assert session.request_notes == "Likes the garden"
    assert session.series_id is None
    (row,) = audit_rows("session.request")
    assert row.entity_id == str(session.id)
    assert row.actor_id == family.user.id
    assert row.meta["series_size"] == 1
    assert row.meta["recipient_id"] == person.id
    db.session.commit()
    channels = {channel for channel, kind, data in published if kind == "session"}
    assert any(channel.endswith(f"user.{family.user.id}") for channel in channels)
    assert any(channel.endswith(f"center.{center.id}") for channel in channels)


def test_a_coordinator_hears_of_a_new_request(family, ask, coordinator, published):
    request(family, ask())
    db.session.commit()
    assert any(channel.endswith(f"user.{coordinator.id}") for channel, kind, _ in published if kind == "session")


def test_a_request_at_home_keeps_the_address_and_no_center(family, ask):
    (session,) = request(family, ask(location_kind="home", address=" 5 Elm Street ")).sessions
    assert session.location_kind == "home"
    assert session.center is None
    assert session.address == "5 Elm Street"


def test_a_request_at_a_center_forgets_an_address_sent_with_it(family, ask):
    (session,) = request(family, ask(address="5 Elm Street")).sessions
    assert session.address == ""


@pytest.mark.parametrize("minutes", [30, 24 * 60])
def test_thirty_minutes_and_twenty_four_hours_are_allowed(family, ask, minutes):
    (session,) = request(family, ask(minutes=minutes)).sessions
    assert session.minutes == minutes


# --- The rules, whatever the client sends ---------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"recipient_id": None}, "recipient_id", "Choose who the session is for."),
        ({"recipient_id": 999_999}, "recipient_id", "Choose one of the people you care for."),
        ({"recipient_id": 10**30}, "recipient_id", "Choose one of the people you care for."),
        ({"recipient_id": -1}, "recipient_id", "Choose one of the people you care for."),
        ({"center_id": 2**40}, "center_id", "Choose a center from the list."),
        ({"day": None}, "day", "Choose a date."),
        ({"start": None}, "start", "Choose a start time."),
        ({"minutes": None}, "minutes", "Choose how long the session lasts."),
        ({"minutes": 29}, "minutes", "A session lasts at least 30 minutes and at most 24 hours."),
        ({"minutes": 24 * 60 + 1}, "minutes", "A session lasts at least 30 minutes and at most 24 hours."),
        ({"minutes": -60}, "minutes", "A session lasts at least 30 minutes and at most 24 hours."),
        ({"weeks": 0}, "weeks", "Repeat for 1 to 12 weeks."),
        ({"weeks": 13}, "weeks", "Repeat for 1 to 12 weeks."),
        ({"weeks": None}, "weeks", "Repeat for 1 to 12 weeks."),
        ({"center_id": None}, "center_id", "Choose a center."),
        ({"center_id": 999_999}, "center_id", "Choose a center from the list."),
        ({"location_kind": "home", "address": "   "}, "address", "Enter the address where the session will be."),
        ({"location_kind": "home", "address": "x" * 501}, "address", "Keep the address under 500 characters."),
        ({"location_kind": "moon"}, "location_kind", "Choose a center or home."),
        ({"notes": "x" * 2001}, "notes", "Keep the notes under 2000 characters."),
        ({"day": date(2026, 1, 14)}, "day", "Choose today or a later date."),
        ({"day": date(2026, 1, 15), "start": time(6, 59)}, "start", "That time has passed. Choose a later time."),
    ],
)
def test_each_rule_is_refused_with_its_message_and_nothing_is_written(family, ask, changes, field, message):
    assert problems_of(family, ask(**changes))[field] == message
    assert count_sessions() == 0
    assert audit_rows("session.request") == []


def test_a_session_later_today_is_fine(family, ask):
    # 07:00 in New York is 12:00 UTC, the test's now: a minute later is in the future.
    (session,) = request(family, ask(day=date(2026, 1, 15), start=time(7, 1))).sessions
    assert session.starts_at == NOW + timedelta(minutes=1)


def test_every_problem_is_reported_at_once(family, ask):
    problems = problems_of(family, ask(recipient_id=None, minutes=10, center_id=None))
    assert set(problems) == {"recipient_id", "minutes", "center_id"}


def test_someone_elses_person_is_refused_like_an_unknown_one(family, ask):
    stranger = factories.CareRecipientFactory()
    assert problems_of(family, ask(recipient_id=stranger.id)) == {
        "recipient_id": "Choose one of the people you care for."
    }


def test_a_deactivated_person_can_not_be_booked(family, person, ask):
    person.active = False
    assert problems_of(family, ask())["recipient_id"] == "Choose one of the people you care for."


@pytest.mark.parametrize("role", ["provider", "coordinator", "kiosk"])
def test_only_a_caregiver_asks_for_respite(request_fixture_user, ask, role):
    actor = request_fixture_user(role)
    with pytest.raises(PermissionError):
        services.request_sessions(actor, ask(), now=NOW)


@pytest.fixture
def request_fixture_user(request):
    return request.getfixturevalue


def test_a_paused_caregiver_profile_can_not_ask(family, ask):
    family.active = False
    with pytest.raises(SchedulingError, match="paused"):
        request(family, ask())


# --- Clashes: one person, one active session at a time ------------------------------------------


def existing(person, start_utc, hours=3, status=S.REQUESTED):
    return factories.RespiteSessionFactory(
        recipient=person, starts_at=start_utc, ends_at=start_utc + timedelta(hours=hours), status=status
    )


def test_an_overlapping_request_is_refused_naming_the_date(family, person, ask):
    existing(person, datetime(2026, 1, 20, 17, 0, tzinfo=UTC))  # 12:00–15:00 New York
    problems = problems_of(family, ask())
    assert problems == {"day": "Ada already has a session at that time on Tue 20 Jan 2026."}
    assert count_sessions() == 1


@pytest.mark.parametrize("status", [S.REQUESTED, S.CONFIRMED, S.CHECKED_IN])
def test_every_active_status_holds_its_time(family, person, ask, status):
    existing(person, datetime(2026, 1, 20, 16, 0, tzinfo=UTC), hours=1, status=status)
    assert "day" in problems_of(family, ask())


@pytest.mark.parametrize("status", [S.CANCELLED, S.DECLINED, S.COMPLETED, S.NO_SHOW])
def test_a_session_no_longer_active_frees_its_time(family, person, ask, status):
    existing(person, datetime(2026, 1, 20, 16, 0, tzinfo=UTC), hours=1, status=status)
    assert len(request(family, ask()).sessions) == 1


def test_sessions_back_to_back_do_not_clash(family, person, ask):
    existing(person, datetime(2026, 1, 20, 12, 0, tzinfo=UTC))  # ends 10:00 New York, as the request starts
    existing(person, datetime(2026, 1, 20, 18, 0, tzinfo=UTC))  # starts 13:00 New York, as the request ends
    assert len(request(family, ask()).sessions) == 1


def test_another_persons_session_at_the_same_time_is_no_clash(family, ask):
    sibling = factories.CareRecipientFactory(caregiver=family)
    existing(sibling, datetime(2026, 1, 20, 15, 0, tzinfo=UTC))
    assert len(request(family, ask()).sessions) == 1


# --- A weekly series ------------------------------------------------------------------------


def test_a_series_is_one_session_a_week_with_one_series_id(family, ask):
    sessions = request(family, ask(weeks=4)).sessions
    assert [local(s.starts_at).date() for s in sessions] == [date(2026, 1, 20) + timedelta(weeks=w) for w in range(4)]
    assert len({s.series_id for s in sessions}) == 1
    assert sessions[0].series_id is not None
    rows = audit_rows("session.request")
    assert [row.meta["series_size"] for row in rows] == [4, 4, 4, 4]
    assert [row.meta["occurrence"] for row in rows] == [1, 2, 3, 4]


def test_twelve_weeks_is_the_longest_series(family, ask):
    assert len(request(family, ask(weeks=12)).sessions) == 12


def test_a_series_with_one_clash_books_nothing_and_names_the_date(family, person, ask):
    existing(person, datetime(2026, 2, 3, 16, 0, tzinfo=UTC))  # the third Tuesday, 11:00 New York
    existing(person, datetime(2026, 2, 10, 14, 0, tzinfo=UTC))  # the fourth, 09:00–12:00
    problems = problems_of(family, ask(weeks=5))
    assert problems["day"].startswith("Ada already has a session at that time on Tue 3 Feb 2026 and Tue 10 Feb 2026.")
    assert "A series is booked whole or not at all" in problems["day"]
    assert count_sessions() == 2
    assert audit_rows("session.request") == []


# --- Daylight saving: each occurrence keeps its wall-clock time ------------------------------------


@pytest.mark.parametrize(
    ("zone", "first_day", "utc_hours"),
    [
        # New York: clocks forward Sun 8 Mar 2026, back Sun 1 Nov 2026.
        ("America/New_York", date(2026, 2, 23), [14, 14, 13, 13]),
        ("America/New_York", date(2026, 10, 19), [13, 13, 14, 14]),
        # Berlin: forward Sun 29 Mar 2026, back Sun 25 Oct 2026.
        ("Europe/Berlin", date(2026, 3, 16), [8, 8, 7, 7]),
        ("Europe/Berlin", date(2026, 10, 12), [7, 7, 8, 8]),
    ],
)
def test_a_weekly_series_keeps_nine_oclock_across_the_daylight_saving_change(family, ask, zone, first_day, utc_hours):
    family.user.timezone = zone
    sessions = request(family, ask(day=first_day, start=time(9, 0), weeks=4)).sessions
    assert [s.starts_at.hour for s in sessions] == utc_hours
    assert {local(s.starts_at, ZoneInfo(zone)).time() for s in sessions} == {time(9, 0)}
    assert {local(s.ends_at, ZoneInfo(zone)).time() for s in sessions} == {time(12, 0)}
    assert {s.minutes for s in sessions} == {180}


@pytest.mark.parametrize(
    ("zone", "day", "utc_start"),
    [
        ("America/New_York", date(2026, 3, 8), datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
        ("America/New_York", date(2026, 11, 1), datetime(2026, 11, 1, 14, 0, tzinfo=UTC)),
        ("Europe/Berlin", date(2026, 3, 29), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
        ("Europe/Berlin", date(2026, 10, 25), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
    ],
)
def test_a_single_session_on_the_day_of_the_change_starts_at_its_local_time(family, ask, zone, day, utc_start):
    family.user.timezone = zone
    (session,) = request(family, ask(day=day, start=time(9, 0))).sessions
    assert session.starts_at == utc_start


def test_a_session_across_the_change_lasts_the_hours_asked_for(family, ask):
    # 00:30 on the night New York falls back: three real hours end at 02:30 on the clock.
    (session,) = request(family, ask(day=date(2026, 11, 1), start=time(0, 30))).sessions
    assert session.minutes == 180
    assert local(session.ends_at).time() == time(2, 30)


def test_a_time_the_clocks_skip_moves_on_by_the_gap(family, ask):
    # 02:30 does not exist in New York on 8 Mar 2026; it is read as 02:30 EST, which is 03:30 EDT.
    (session,) = request(family, ask(day=date(2026, 3, 8), start=time(2, 30))).sessions
    assert session.starts_at == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert local(session.starts_at).time() == time(3, 30)


def test_a_time_that_happens_twice_is_the_first_of_the_two(family, ask):
    # 01:30 happens twice in New York on 1 Nov 2026: first in EDT (05:30 UTC), then EST (06:30 UTC).
    (session,) = request(family, ask(day=date(2026, 11, 1), start=time(1, 30))).sessions
    assert session.starts_at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_a_series_through_a_skipped_time_keeps_the_other_weeks_at_their_time(family, ask):
    sessions = request(family, ask(day=date(2026, 3, 1), start=time(2, 30), weeks=3)).sessions
    assert [local(s.starts_at).time() for s in sessions] == [time(2, 30), time(3, 30), time(2, 30)]


def test_occurrence_starts_in_utc_are_each_weeks_local_time():
    starts = services.occurrence_starts(date(2026, 3, 23), time(9, 0), 2, BERLIN)
    assert starts == [datetime(2026, 3, 23, 8, 0, tzinfo=UTC), datetime(2026, 3, 30, 7, 0, tzinfo=UTC)]


# --- Double taps ------------------------------------------------------------------------------


KEY = "6f1c3a52-8f5e-4c59-9a49-5b9b2f1d7c11"


def test_the_same_request_sent_twice_makes_one_session(family, ask):
    first = request(family, ask(), request_key=KEY)
    second = request(family, ask(), request_key=KEY)
    assert not first.repeated
    assert second.repeated
    assert [s.id for s in second.sessions] == [s.id for s in first.sessions]
    assert count_sessions() == 1
    assert len(audit_rows("session.request")) == 1


def test_the_same_series_sent_twice_makes_one_series(family, ask):
    first = request(family, ask(weeks=3), request_key=KEY)
    second = request(family, ask(weeks=3), request_key=KEY)
    assert second.repeated
    assert [s.id for s in second.sessions] == [s.id for s in first.sessions]
    assert count_sessions() == 3


def test_a_twin_send_that_raced_past_the_lookup_meets_the_index_and_gets_the_first(family, ask, monkeypatch):
    first = request(family, ask(), request_key=KEY)
    looked_up = []
    real = services.sessions_for_request_key

    def first_time_nothing(profile, key):
        looked_up.append(key)
        return [] if len(looked_up) == 1 else real(profile, key)

    monkeypatch.setattr(services, "sessions_for_request_key", first_time_nothing)
    monkeypatch.setattr(services, "clashing", lambda *args, **kwargs: [])  # both passed the check at once
    second = request(family, ask(), request_key=KEY)
    assert second.repeated
    assert [s.id for s in second.sessions] == [s.id for s in first.sessions]
    assert count_sessions() == 1


def test_a_key_is_the_caregivers_own(family, ask):
    request(family, ask(), request_key=KEY)
    other = factories.CaregiverProfileFactory(user__timezone="America/New_York")
    theirs = factories.CareRecipientFactory(caregiver=other)
    result = services.request_sessions(
        other.user, ask(recipient_id=theirs.id, start=time(15, 0)), request_key=KEY, now=NOW
    )
    assert not result.repeated
    assert result.sessions[0].caregiver == other


# --- The database as the last word (PostgreSQL's exclusion constraint) -------------------------------


@needs_postgres
@pytest.mark.postgres_only
def test_a_clash_the_check_missed_is_refused_by_the_constraint_naming_the_date(family, person, ask, monkeypatch):
    existing(person, datetime(2026, 1, 27, 16, 0, tzinfo=UTC))
    real = services.clashing
    calls = []

    def missed_once(*args, **kwargs):  # as when two requests pass the check at the same moment
        calls.append(1)
        return [] if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(services, "clashing", missed_once)
    problems = problems_of(family, ask(weeks=3))
    assert problems["day"].startswith("Ada already has a session at that time on Tue 27 Jan 2026.")
    assert count_sessions() == 1
    assert audit_rows("session.request") == []


@needs_postgres
@pytest.mark.postgres_only
def test_the_constraint_refuses_an_overlapping_row_written_any_other_way(person):
    from sqlalchemy.exc import IntegrityError

    existing(person, datetime(2026, 1, 27, 16, 0, tzinfo=UTC))
    with pytest.raises(IntegrityError, match=services.RECIPIENT_OVERLAP_CONSTRAINT), db.session.begin_nested():
        existing(person, datetime(2026, 1, 27, 17, 0, tzinfo=UTC))


def test_an_unrelated_integrity_error_is_not_dressed_up_as_a_clash(family, ask, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    def broken_flush(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("some other constraint"))

    monkeypatch.setattr(db.session, "flush", broken_flush)
    with pytest.raises(IntegrityError):
        request(family, ask())


# --- Hours ----------------------------------------------------------------------------------


def occurrences(*spans):
    return [services.Occurrence(start, start + timedelta(minutes=minutes)) for start, minutes in spans]


def test_hours_preview_counts_every_occurrence_and_what_is_left_after(family):
    family.annual_allotment_minutes = 5 * 60
    existing(factories.CareRecipientFactory(caregiver=family), datetime(2026, 1, 5, 15, 0, tzinfo=UTC), hours=1)
    start = datetime(2026, 2, 2, 15, 0, tzinfo=UTC)
    preview = services.hours_preview(family, occurrences((start, 120), (start + timedelta(weeks=1), 120)), now=NOW)
    assert (preview.request_minutes, preview.left_now, preview.left_after) == (240, 240, 0)
    assert not preview.over


def test_hours_beyond_the_allotment_are_a_warning_not_a_refusal(family, ask):
    family.annual_allotment_minutes = 4 * 60
    check = services.check_request(family.user, family, ask(weeks=2), now=NOW)
    assert check.problems == {}
    preview = services.hours_preview(family, check.occurrences, now=NOW)
    assert preview.over
    assert preview.left_after == -2 * 60
    assert len(request(family, ask(weeks=2)).sessions) == 2


def test_hours_in_a_later_year_count_there(family):
    december = datetime(2026, 12, 28, 15, 0, tzinfo=UTC)
    preview = services.hours_preview(family, occurrences((december, 60), (december + timedelta(weeks=1), 60)), now=NOW)
    assert (preview.request_minutes, preview.left_after, preview.later_minutes) == (120, 100 * 60 - 60, 60)


def test_a_changed_session_gives_its_own_hours_back(family, person):
    old = existing(person, datetime(2026, 2, 2, 15, 0, tzinfo=UTC), hours=2)
    preview = services.hours_preview(family, occurrences((old.starts_at, 180)), replacing=old, now=NOW)
    assert preview.left_now == 100 * 60 - 120
    assert preview.left_after == 100 * 60 - 180


# --- Editing a request ---------------------------------------------------------------------------


@pytest.fixture
def requested(family, ask):
    (session,) = request(family, ask(notes="Old notes")).sessions
    db.session.flush()
    return session


def test_a_request_is_edited_in_place(family, requested, ask, published):
    version = requested.version
    changed = services.edit_request(
        family.user,
        requested,
        ask(start=time(11, 0), minutes=120, location_kind="home", address="5 Elm", notes="New"),
        expected_version=version,
        now=NOW,
    )
    assert changed
    assert requested.starts_at == datetime(2026, 1, 20, 16, 0, tzinfo=UTC)
    assert requested.minutes == 120
    assert (requested.location_kind, requested.center_id, requested.address) == ("home", None, "5 Elm")
    assert requested.request_notes == "New"
    assert requested.version == version + 1
    (row,) = audit_rows("session.edit")
    assert set(row.meta["changed"]) == {"starts_at", "location_kind", "center_id", "address", "request_notes"}
    assert row.meta["changed"]["request_notes"] == {"from": "Old notes", "to": "New"}
    db.session.commit()
    assert any(kind == "session" and data == {"session_id": requested.id} for _, kind, data in published)


def test_an_edit_keeps_the_person_and_makes_no_series(family, requested, ask):
    sibling = factories.CareRecipientFactory(caregiver=family)
    services.edit_request(family.user, requested, ask(recipient_id=sibling.id, weeks=6, notes="x"), now=NOW)
    assert requested.recipient_id != sibling.id
    assert count_sessions() == 1


def test_an_edit_that_changes_nothing_writes_nothing(family, requested, ask):
    assert not services.edit_request(family.user, requested, ask(notes="Old notes"), now=NOW)
    assert audit_rows("session.edit") == []


def test_the_same_edit_sent_twice_is_no_stale_error(family, requested, ask):
    version = requested.version
    assert services.edit_request(family.user, requested, ask(notes="New"), expected_version=version, now=NOW)
    assert not services.edit_request(family.user, requested, ask(notes="New"), expected_version=version, now=NOW)


def test_an_edit_from_a_stale_page_is_refused(family, requested, ask):
    with pytest.raises(SchedulingError, match="changed while you were looking"):
        services.edit_request(family.user, requested, ask(notes="New"), expected_version=requested.version - 1, now=NOW)
    assert requested.request_notes == "Old notes"


def test_an_edit_meets_the_same_rules(family, requested, person, ask):
    existing(person, datetime(2026, 1, 21, 15, 0, tzinfo=UTC))
    with pytest.raises(RequestInvalid) as refused:
        services.edit_request(family.user, requested, ask(day=date(2026, 1, 21), minutes=20), now=NOW)
    assert set(refused.value.problems) == {"minutes"}
    with pytest.raises(RequestInvalid) as refused:
        services.edit_request(family.user, requested, ask(day=date(2026, 1, 21)), now=NOW)
    assert refused.value.problems == {"day": "Ada already has a session at that time on Wed 21 Jan 2026."}


def test_a_request_may_move_into_its_own_old_time(family, requested, ask):
    assert services.edit_request(family.user, requested, ask(start=time(11, 0)), now=NOW)


def test_changing_the_time_withdraws_offers_made_for_the_old_time(family, requested, ask):
    offer = factories.AssignmentFactory(session=requested, status=AssignmentStatus.OFFERED)
    services.edit_request(family.user, requested, ask(notes="Only the notes"), now=NOW)
    assert offer.status == AssignmentStatus.OFFERED
    services.edit_request(family.user, requested, ask(start=time(12, 0)), now=NOW)
    assert offer.status == AssignmentStatus.CANCELLED
    assert "changed the time" in offer.reason


@pytest.mark.parametrize("status", [S.CONFIRMED, S.CHECKED_IN, S.CANCELLED, S.DECLINED, S.COMPLETED])
def test_only_a_request_is_edited_in_place(family, requested, ask, status):
    requested.status = status
    with pytest.raises(SchedulingError):
        services.edit_request(family.user, requested, ask(notes="New"), now=NOW)


def test_a_started_request_can_not_be_edited(family, requested, ask):
    with pytest.raises(SchedulingError, match="already started"):
        services.edit_request(family.user, requested, ask(notes="New"), now=requested.starts_at)


@pytest.mark.parametrize("role", ["caregiver", "coordinator", "provider"])
def test_only_its_own_family_edits_a_request(request_fixture_user, requested, ask, role):
    with pytest.raises(PermissionError):
        services.edit_request(request_fixture_user(role), requested, ask(notes="New"), now=NOW)


# --- Changing a confirmed session: a new request, the old one cancelled ------------------------------


@pytest.fixture
def confirmed(requested):
    requested.status = S.CONFIRMED
    db.session.flush()
    return requested


def test_a_confirmed_session_is_replaced_by_a_new_request_in_one_step(family, confirmed, ask, published):
    result = services.replace_session(
        family.user,
        confirmed,
        ask(start=time(14, 0), notes="Later"),
        request_key=KEY,
        expected_version=confirmed.version,
        now=NOW,
    )
    (new,) = result.sessions
    assert new.id != confirmed.id
    assert (new.status, new.recipient_id, new.request_notes) == (S.REQUESTED, confirmed.recipient_id, "Later")
    assert local(new.starts_at).time() == time(14, 0)
    assert confirmed.status == S.CANCELLED
    assert confirmed.status_reason == (
        "Changed by the family: new request for Tue 20 Jan 2026, 14:00 – 17:00 (America/New_York)"
    )
    (cancel_row,) = audit_rows("session.cancel")
    (replace_row,) = audit_rows("session.replace")
    assert cancel_row.entity_id == str(confirmed.id)
    assert (replace_row.entity_id, replace_row.meta["replaces"]) == (str(new.id), confirmed.id)
    db.session.commit()
    ids = {data["session_id"] for _, kind, data in published if kind == "session"}
    assert ids == {confirmed.id, new.id}


def test_a_replacement_may_overlap_the_session_it_replaces(family, confirmed, ask):
    (new,) = services.replace_session(family.user, confirmed, ask(start=time(11, 0)), now=NOW).sessions
    assert new.starts_at < confirmed.ends_at


def test_a_replacement_that_clashes_changes_nothing(family, confirmed, person, ask):
    existing(person, datetime(2026, 1, 22, 15, 0, tzinfo=UTC))
    with pytest.raises(RequestInvalid):
        services.replace_session(family.user, confirmed, ask(day=date(2026, 1, 22)), now=NOW)
    assert confirmed.status == S.CONFIRMED
    assert audit_rows("session.cancel") == []


def test_the_same_replacement_sent_twice_makes_one_new_request(family, confirmed, ask):
    first = services.change_session(family.user, confirmed, ask(notes="New"), request_key=KEY, now=NOW)
    second = services.change_session(family.user, confirmed, ask(notes="New"), request_key=KEY, now=NOW)
    assert second.repeated
    assert [s.id for s in second.sessions] == [s.id for s in first.sessions]
    assert count_sessions() == 2  # the cancelled one and its replacement
    second_direct = services.replace_session(family.user, confirmed, ask(notes="New"), request_key=KEY, now=NOW)
    assert second_direct.repeated


def test_a_replacement_from_a_stale_page_is_refused(family, confirmed, ask):
    with pytest.raises(SchedulingError, match="changed while you were looking"):
        services.replace_session(family.user, confirmed, ask(), expected_version=confirmed.version + 1, now=NOW)


@pytest.mark.parametrize("status", [S.REQUESTED, S.CHECKED_IN, S.CANCELLED])
def test_only_a_confirmed_session_is_replaced(family, requested, ask, status):
    requested.status = status
    with pytest.raises(SchedulingError):
        services.replace_session(family.user, requested, ask(), now=NOW)


def test_a_started_confirmed_session_is_not_replaced(family, confirmed, ask):
    with pytest.raises(SchedulingError, match="already started"):
        services.replace_session(family.user, confirmed, ask(), now=confirmed.starts_at)


def test_change_edits_a_request_and_replaces_a_confirmed_session(family, requested, ask):
    result = services.change_session(family.user, requested, ask(notes="Edited"), now=NOW)
    assert (result.sessions, result.repeated) == ([requested], False)
    requested.status = S.CONFIRMED
    result = services.change_session(family.user, requested, ask(notes="Replaced"), now=NOW)
    assert result.sessions[0].id != requested.id


# --- Cancelling the rest of a series -------------------------------------------------------------


@pytest.fixture
def series(family, ask):
    return request(family, ask(weeks=4)).sessions


def test_cancel_the_rest_cancels_this_and_later_occurrences_each_with_the_reason(family, series, published):
    cancelled = services.cancel_series(
        family.user, series[1], reason=" Moving away ", expected_version=series[1].version, now=NOW
    )
    assert cancelled == series[1:]
    assert [s.status for s in series] == [S.REQUESTED, S.CANCELLED, S.CANCELLED, S.CANCELLED]
    assert {s.status_reason for s in series[1:]} == {"Moving away"}
    assert [row.entity_id for row in audit_rows("session.cancel")] == [str(s.id) for s in series[1:]]


def test_cancel_the_rest_leaves_occurrences_that_can_not_be_cancelled(family, series):
    series[2].status = S.DECLINED
    series[3].status = S.CONFIRMED
    cancelled = services.cancel_series(family.user, series[0], now=NOW)
    assert cancelled == [series[0], series[1], series[3]]
    assert series[2].status == S.DECLINED


def test_a_coordinator_cancels_the_rest_of_a_series(series, coordinator):
    assert len(services.cancel_series(coordinator, series[2], now=NOW)) == 2


def test_cancel_the_rest_needs_a_series(family, requested):
    with pytest.raises(SchedulingError, match="not part of a series"):
        services.cancel_series(family.user, requested, now=NOW)


def test_cancel_the_rest_is_refused_by_anyone_else(series, caregiver):
    with pytest.raises(PermissionError):
        services.cancel_series(caregiver, series[0], now=NOW)
    assert {s.status for s in series} == {S.REQUESTED}


def test_cancel_the_rest_from_a_stale_page_is_refused(family, series):
    with pytest.raises(SchedulingError, match="changed while you were looking"):
        services.cancel_series(family.user, series[0], expected_version=series[0].version + 1, now=NOW)
    assert {s.status for s in series} == {S.REQUESTED}


def test_a_started_occurrence_is_not_where_the_rest_is_cancelled_from(family, series):
    with pytest.raises(SchedulingError, match="already started"):
        services.cancel_series(family.user, series[0], now=series[0].starts_at)


# --- The predicates the pages show buttons by ---------------------------------------------------


def test_the_predicates_agree_with_the_services(family, requested, caregiver):
    user = family.user
    assert lifecycle.can_edit(user, requested, NOW)
    assert lifecycle.can_change(user, requested, NOW)
    assert not lifecycle.can_replace(user, requested, NOW)
    assert not lifecycle.can_cancel_series(user, requested, NOW)
    assert not lifecycle.can_change(caregiver, requested, NOW)
    requested.status = S.CONFIRMED
    assert not lifecycle.can_edit(user, requested, NOW)
    assert lifecycle.can_replace(user, requested, NOW)
    assert lifecycle.can_change(user, requested, NOW)
    assert not lifecycle.can_change(user, requested, requested.starts_at)
    requested.status = S.CANCELLED
    assert not lifecycle.can_change(user, requested, NOW)
    requested.status = S.REQUESTED
    requested.series_id = "a-series"
    assert lifecycle.can_cancel_series(user, requested, NOW)
    assert not lifecycle.can_cancel_series(caregiver, requested, NOW)
