"""Availability's rules, its changes (audit rows, events) and the matching other packages use."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from respite import realtime
from respite.availability import services
from respite.availability.services import AvailabilityError
from respite.extensions import db
from respite.models import Availability, AvailabilityKind, Role
from tests import factories
from tests.helpers import audit_rows, counted_statements

CHICAGO = ZoneInfo("America/Chicago")
H = 60  # minutes in an hour
# A fixed "now" for the rules about time off, so the tests don't depend on today's date.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def chicago(*args):
    return datetime(*args, tzinfo=CHICAGO).astimezone(UTC)


def make_provider(zone="America/Chicago", **user):
    return factories.ProviderProfileFactory(user__timezone=zone, **{f"user__{k}": v for k, v in user.items()})


def block(provider, weekday, start_hour, end_hour):
    row = Availability(
        provider=provider,
        kind=AvailabilityKind.WEEKLY,
        weekday=weekday,
        start_minute=int(start_hour * H),
        end_minute=int(end_hour * H),
    )
    db.session.add(row)
    db.session.flush()
    return row


def off(provider, starts_at, ends_at, note=""):
    row = Availability(
        provider=provider, kind=AvailabilityKind.TIME_OFF, starts_at=starts_at, ends_at=ends_at, note=note
    )
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def profile(provider):
    return provider.provider_profile


def refusal(call, *args, **kwargs):
    with pytest.raises(AvailabilityError) as caught:
        call(*args, **kwargs)
    return str(caught.value), caught.value.field


# --- Weekly blocks ------------------------------------------------------------------------------


def test_a_provider_adds_a_block_to_their_week(provider, profile, coordinator, published):
    entry = services.add_weekly_block(provider, profile, 0, 9 * H, 12 * H)
    db.session.commit()

    assert services.weekly_pattern(profile) == [entry]
    assert services.describe(entry) == "Monday 9:00 am – 12:00 pm"
    (row,) = audit_rows("availability.weekly_add")
    assert (row.actor_id, row.entity_type, row.entity_id) == (provider.id, "Availability", str(entry.id))
    assert row.meta == {
        "kind": "weekly",
        "weekday": 0,
        "start_minute": 540,
        "end_minute": 720,
        "timezone": "America/Chicago",
    }
    channels = {channel for channel, event_type, data in published}
    assert channels == {realtime.user_channel(provider.id), realtime.user_channel(coordinator.id)}
    assert {(event_type, data["provider_id"]) for _, event_type, data in published} == {("session", profile.id)}


def test_several_blocks_a_day_and_blocks_that_meet_are_fine(provider, profile):
    services.add_weekly_block(provider, profile, 2, 13 * H, 17 * H)
    services.add_weekly_block(provider, profile, 2, 8 * H, 12 * H)
    services.add_weekly_block(provider, profile, 2, 12 * H, 13 * H)
    services.add_weekly_block(provider, profile, 2, 20 * H, 24 * H)
    services.add_weekly_block(provider, profile, 1, 8 * H, 12 * H)

    pattern = services.weekly_pattern(profile)

    assert [(b.weekday, b.start_minute, b.end_minute) for b in pattern] == [
        (1, 480, 720),
        (2, 480, 720),
        (2, 720, 780),
        (2, 780, 1020),
        (2, 1200, 1440),
    ]
    week = services.week_of(pattern)
    assert [day.name for day in week][:3] == ["Monday", "Tuesday", "Wednesday"]
    assert [len(day.blocks) for day in week] == [0, 1, 4, 0, 0, 0, 0]
    assert services.hours_label(20 * H, 24 * H) == "8:00 pm – midnight"
    assert services.hours_label(0, 30) == "12:00 am – 12:30 am"


def test_an_overlapping_or_repeated_block_is_refused(provider, profile):
    services.add_weekly_block(provider, profile, 0, 9 * H, 12 * H)

    assert refusal(services.add_weekly_block, provider, profile, 0, 11 * H, 14 * H) == (
        "That overlaps your hours on Monday, 9:00 am – 12:00 pm. Remove those first, or choose other times.",
        "start_minute",
    )
    assert refusal(services.add_weekly_block, provider, profile, 0, 9 * H, 12 * H) == (
        "Monday 9:00 am – 12:00 pm is already in your week.",
        "start_minute",
    )
    assert refusal(services.add_weekly_block, provider, profile, 0, 10 * H, 11 * H)[1] == "start_minute"
    services.add_weekly_block(provider, profile, 1, 9 * H, 12 * H)  # another day is another day
    assert len(services.weekly_pattern(profile)) == 2
    assert len(audit_rows("availability.weekly_add")) == 2


@pytest.mark.parametrize(
    ("weekday", "start", "end", "message", "field"),
    [
        (None, 540, 600, "Choose a day.", "weekday"),
        (7, 540, 600, "Choose a day.", "weekday"),
        (-1, 540, 600, "Choose a day.", "weekday"),
        (0, None, 600, "Choose when the hours start.", "start_minute"),
        (0, 1440, 1440, "Choose when the hours start.", "start_minute"),
        (0, 540, None, "Choose when the hours end.", "end_minute"),
        (0, 540, 1455, "Choose when the hours end.", "end_minute"),
        (0, 545, 600, "Use a time on the quarter hour (:00, :15, :30 or :45).", "start_minute"),
        (0, 540, 610, "Use a time on the quarter hour (:00, :15, :30 or :45).", "end_minute"),
        (
            0,
            600,
            540,
            "The hours must end after they start. For hours past midnight, add the rest to the next day.",
            "end_minute",
        ),
        (
            0,
            600,
            600,
            "The hours must end after they start. For hours past midnight, add the rest to the next day.",
            "end_minute",
        ),
    ],
)
def test_a_block_is_a_day_and_a_start_before_an_end_in_quarter_hours(
    provider, profile, weekday, start, end, message, field
):
    assert refusal(services.add_weekly_block, provider, profile, weekday, start, end) == (message, field)
    assert services.weekly_pattern(profile) == []
    assert audit_rows("availability.weekly_add") == []


def test_only_the_provider_or_a_coordinator_changes_a_week(provider, profile, coordinator, caregiver):
    someone_else = make_provider().user
    kiosk = factories.UserFactory(role=Role.KIOSK)
    for actor in (someone_else, caregiver, kiosk):
        with pytest.raises(PermissionError):
            services.add_weekly_block(actor, profile, 0, 9 * H, 12 * H)
    entry = services.add_weekly_block(coordinator, profile, 0, 9 * H, 12 * H)
    assert audit_rows("availability.weekly_add")[0].actor_id == coordinator.id
    with pytest.raises(PermissionError):
        services.remove_availability(someone_else, entry)
    assert services.weekly_pattern(profile) == [entry]


def test_removing_a_block_or_time_off_is_recorded(provider, profile, published):
    entry = services.add_weekly_block(provider, profile, 4, 9 * H, 12 * H)
    away = services.add_time_off(provider, profile, utc(2026, 6, 8), utc(2026, 6, 9), "Dentist", now=NOW)
    entry_id, away_id = entry.id, away.id

    services.remove_availability(provider, entry)
    services.remove_availability(provider, away)
    db.session.commit()

    assert db.session.get(Availability, entry_id) is None
    assert db.session.get(Availability, away_id) is None
    removed = audit_rows("availability.remove")
    assert [r.entity_id for r in removed] == [str(entry_id), str(away_id)]
    assert removed[0].summary.endswith("Friday 9:00 am – 12:00 pm removed")
    assert removed[1].meta["kind"] == "time_off"
    assert len(published) == 4


def test_entries_are_found_only_by_their_provider_or_a_coordinator(provider, profile, coordinator, caregiver):
    mine = block(profile, 0, 9, 12)
    theirs = block(make_provider(), 0, 9, 12)

    assert services.get_entry_for(provider, mine.id) is mine
    assert services.get_entry_for(provider, theirs.id) is None
    assert services.get_entry_for(provider, 999999) is None
    assert services.get_entry_for(coordinator, theirs.id) is theirs
    assert services.get_entry_for(caregiver, mine.id) is None


# --- Time off -----------------------------------------------------------------------------------


def test_time_off_is_added_and_listed_while_it_lasts(provider, profile):
    later = services.add_time_off(provider, profile, utc(2026, 7, 1), utc(2026, 7, 3), "  Holiday ", now=NOW)
    sooner = services.add_time_off(provider, profile, utc(2026, 5, 31), utc(2026, 6, 2), now=NOW)  # has begun
    off(profile, utc(2026, 5, 1), utc(2026, 5, 2))  # over

    assert later.note == "Holiday"
    assert services.time_off(profile, now=NOW) == [sooner, later]
    assert [r.entity_id for r in audit_rows("availability.time_off_add")] == [str(later.id), str(sooner.id)]


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "note", "message", "field"),
    [
        (utc(2026, 7, 2), utc(2026, 7, 1), "", "The time off must end after it starts.", "end_day"),
        (utc(2026, 7, 1), utc(2026, 7, 1), "", "The time off must end after it starts.", "end_day"),
        (
            utc(2026, 5, 1),
            utc(2026, 6, 1, 12),
            "",
            "That time is already over. Choose time off that is still to come.",
            "end_day",
        ),
        (utc(2026, 7, 1), utc(2028, 7, 1), "", "Time off can be planned up to two years ahead.", "end_day"),
        (utc(2026, 7, 1), utc(2026, 7, 2), "x" * 201, "Keep the note to 200 characters or fewer.", "note"),
        (
            utc(2026, 7, 1),
            utc(2026, 7, 2),
            "bad\x00note",
            "Remove the hidden control characters from the note.",
            "note",
        ),
        (
            utc(2026, 7, 1),
            utc(2026, 7, 2),
            "bad\x1bnote",
            "Remove the hidden control characters from the note.",
            "note",
        ),
    ],
)
def test_time_off_rules(provider, profile, starts_at, ends_at, note, message, field):
    assert refusal(services.add_time_off, provider, profile, starts_at, ends_at, note, now=NOW) == (message, field)
    assert services.time_off(profile, now=NOW) == []
    assert audit_rows("availability.time_off_add") == []


def test_a_note_of_two_hundred_characters_is_kept(provider, profile):
    entry = services.add_time_off(provider, profile, utc(2026, 7, 1), utc(2026, 7, 2), "x" * 200, now=NOW)
    assert entry.note == "x" * 200


def test_overlapping_time_off_is_refused_and_time_off_that_meets_is_not(provider, profile):
    services.add_time_off(provider, profile, chicago(2026, 7, 1), chicago(2026, 7, 3), now=NOW)

    message, field = refusal(
        services.add_time_off, provider, profile, chicago(2026, 7, 2), chicago(2026, 7, 5), now=NOW
    )

    assert message == "That overlaps your time off Wed 1 Jul – Thu 2 Jul 2026. Remove it first, or choose other dates."
    assert field == "start_day"
    services.add_time_off(provider, profile, chicago(2026, 7, 3), chicago(2026, 7, 4), now=NOW)
    assert len(services.time_off(profile, now=NOW)) == 2


def test_time_off_needs_aware_times_and_the_right_actor(provider, profile, caregiver):
    with pytest.raises(ValueError, match="aware"):
        services.add_time_off(provider, profile, datetime(2026, 7, 1), datetime(2026, 7, 2), now=NOW)
    with pytest.raises(PermissionError):
        services.add_time_off(caregiver, profile, utc(2026, 7, 1), utc(2026, 7, 2), now=NOW)


def test_time_off_entered_in_whole_days_on_the_providers_clock_spans_a_dst_change(profile):
    # Chicago's clocks go back in the night to Sunday 1 November 2026: that day has 25 hours.
    starts_at, ends_at = services.time_off_span(profile, date(2026, 10, 31), None, date(2026, 11, 1), None, now=NOW)

    assert starts_at == utc(2026, 10, 31, 5)  # midnight CDT
    assert ends_at == utc(2026, 11, 2, 6)  # midnight CST
    assert ends_at - starts_at == timedelta(hours=49)
    assert services.time_off_label(starts_at, ends_at, CHICAGO) == "Sat 31 Oct – Sun 1 Nov 2026"
    assert services.time_off_label(starts_at, utc(2026, 11, 1, 5), CHICAGO) == "Sat 31 Oct 2026 (all day)"


def test_time_off_with_times_is_read_on_the_providers_clock(profile):
    starts_at, ends_at = services.time_off_span(
        profile, date(2026, 7, 1), time(13, 30), date(2026, 7, 1), time(17, 0), now=NOW
    )

    assert (starts_at, ends_at) == (utc(2026, 7, 1, 18, 30), utc(2026, 7, 1, 22))
    assert services.time_off_label(starts_at, ends_at, CHICAGO) == "Wed 1 Jul 2026, 1:30 pm – 5:00 pm"


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "label"),
    [
        (chicago(2026, 7, 1), chicago(2026, 7, 2), "Wed 1 Jul 2026 (all day)"),
        (chicago(2026, 12, 30), chicago(2027, 1, 2), "Wed 30 Dec 2026 – Fri 1 Jan 2027"),
        (chicago(2026, 7, 1, 13, 30), chicago(2026, 7, 2), "Wed 1 Jul 2026, 1:30 pm – midnight"),
        (chicago(2026, 7, 1, 13, 30), chicago(2026, 7, 4), "Wed 1 Jul 2026, 1:30 pm – end of Fri 3 Jul"),
        (chicago(2026, 7, 1), chicago(2026, 7, 3, 9), "Wed 1 Jul 2026 – Fri 3 Jul, 9:00 am"),
        (chicago(2026, 12, 31, 18), chicago(2027, 1, 1, 9), "Thu 31 Dec 2026, 6:00 pm – Fri 1 Jan 2027, 9:00 am"),
    ],
)
def test_time_off_reads_as_it_was_entered(starts_at, ends_at, label):
    assert services.time_off_label(starts_at, ends_at, CHICAGO) == label


@pytest.mark.parametrize(
    ("start_day", "end_day", "message", "field"),
    [
        (None, date(2026, 7, 1), "Choose the first day of your time off.", "start_day"),
        (date(2026, 7, 1), None, "Choose the last day of your time off.", "end_day"),
        (date(1, 1, 1), date(2026, 7, 1), "Choose a first day within two years of today.", "start_day"),
        (date(2026, 7, 1), date(9999, 12, 31), "Time off can be planned up to two years ahead.", "end_day"),
    ],
)
def test_time_off_days_must_be_given_and_near(start_day, end_day, message, field):
    profile = make_provider("Asia/Tokyo")  # ahead of UTC: year 1 would not convert at all
    assert refusal(services.time_off_span, profile, start_day, None, end_day, None, now=NOW) == (message, field)


# --- Matching -----------------------------------------------------------------------------------

# 2026-06-01 is a Monday.
MONDAY, TUESDAY, SATURDAY, SUNDAY = 0, 1, 5, 6


def test_a_provider_is_available_only_for_a_time_their_blocks_cover_whole(profile):
    block(profile, MONDAY, 9, 17)

    assert services.is_available(profile, chicago(2026, 6, 1, 9), chicago(2026, 6, 1, 17))
    assert services.is_available(profile, chicago(2026, 6, 1, 10), chicago(2026, 6, 1, 12, 30))
    assert not services.is_available(profile, chicago(2026, 6, 1, 8, 45), chicago(2026, 6, 1, 12))
    assert not services.is_available(profile, chicago(2026, 6, 1, 16), chicago(2026, 6, 1, 17, 15))
    assert not services.is_available(profile, chicago(2026, 6, 2, 10), chicago(2026, 6, 2, 12))  # a Tuesday
    assert services.is_available(profile, chicago(2026, 6, 8, 10), chicago(2026, 6, 8, 12))  # next Monday


def test_blocks_that_meet_count_as_one_across_midnight(profile):
    block(profile, MONDAY, 20, 24)
    night = (chicago(2026, 6, 1, 22), chicago(2026, 6, 2, 2))
    assert not services.is_available(profile, *night)

    block(profile, TUESDAY, 0, 6)

    assert services.is_available(profile, *night)
    assert services.is_available(profile, chicago(2026, 6, 1, 20), chicago(2026, 6, 2, 6))
    assert not services.is_available(profile, chicago(2026, 6, 1, 20), chicago(2026, 6, 2, 6, 15))


def test_blocks_that_meet_in_a_day_count_as_one(profile):
    block(profile, MONDAY, 9, 12)
    block(profile, MONDAY, 12, 15)
    block(profile, MONDAY, 15.5, 18)

    assert services.is_available(profile, chicago(2026, 6, 1, 10), chicago(2026, 6, 1, 14))
    assert not services.is_available(profile, chicago(2026, 6, 1, 14), chicago(2026, 6, 1, 16))


def test_sunday_night_into_monday_wraps_the_week(profile):
    block(profile, SUNDAY, 22, 24)
    block(profile, MONDAY, 0, 2)
    assert services.is_available(profile, chicago(2026, 5, 31, 23), chicago(2026, 6, 1, 1))


def test_the_week_follows_the_providers_clock_across_the_spring_change(profile):
    # Sunday 8 March 2026: Chicago's clocks go from 02:00 CST to 03:00 CDT.
    block(profile, SUNDAY, 0, 6)
    block(profile, SATURDAY, 9, 17)

    # 01:00 CST to 05:00 CDT is three real hours, inside the block.
    assert services.is_available(profile, utc(2026, 3, 8, 7), utc(2026, 3, 8, 10))
    assert services.is_available(profile, utc(2026, 3, 8, 6), utc(2026, 3, 8, 11))  # the whole block: 5 hours
    assert not services.is_available(profile, utc(2026, 3, 8, 10), utc(2026, 3, 8, 12))  # 05:00-07:00 CDT
    # 9:00 on Saturday is 15:00 UTC before the change and 14:00 UTC after it.
    assert services.is_available(profile, utc(2026, 3, 7, 15), utc(2026, 3, 7, 23))
    assert not services.is_available(profile, utc(2026, 3, 7, 14), utc(2026, 3, 7, 15))
    assert services.is_available(profile, utc(2026, 3, 14, 14), utc(2026, 3, 14, 22))
    assert not services.is_available(profile, utc(2026, 3, 14, 22), utc(2026, 3, 14, 23))


def test_the_week_follows_the_providers_clock_across_the_autumn_change(profile):
    # Sunday 1 November 2026: 02:00 CDT becomes 01:00 CST; midnight to 06:00 lasts seven hours.
    block(profile, SUNDAY, 0, 6)
    block(profile, MONDAY, 9, 17)
    block(profile, SATURDAY, 22, 24)

    assert services.is_available(profile, utc(2026, 11, 1, 5), utc(2026, 11, 1, 12))
    assert not services.is_available(profile, utc(2026, 11, 1, 11), utc(2026, 11, 1, 13))
    # Saturday night into Sunday morning, the change in between: 22:00 CDT to 05:00 CST.
    assert services.is_available(profile, utc(2026, 11, 1, 3), utc(2026, 11, 1, 11))
    # The Monday after: 9:00 CST is 15:00 UTC (it was 14:00 the Monday before).
    assert services.is_available(profile, utc(2026, 11, 2, 15), utc(2026, 11, 2, 23))
    assert not services.is_available(profile, utc(2026, 11, 2, 14), utc(2026, 11, 2, 15))
    assert services.is_available(profile, utc(2026, 10, 26, 14), utc(2026, 10, 26, 22))


def test_a_block_in_the_skipped_hour_has_no_length(profile):
    block(profile, SUNDAY, 2, 3)
    windows = services.windows_for([profile.id], utc(2026, 3, 8), utc(2026, 3, 9))
    assert windows == {profile.id: []}


def test_time_off_that_overlaps_makes_a_provider_unavailable(profile):
    block(profile, MONDAY, 9, 17)
    session = (chicago(2026, 6, 1, 10), chicago(2026, 6, 1, 12))
    off(profile, chicago(2026, 6, 1, 12), chicago(2026, 6, 1, 13))  # meets the session's end only
    off(profile, chicago(2026, 5, 29), chicago(2026, 6, 1, 10))  # ends as it starts
    assert services.is_available(profile, *session)

    off(profile, chicago(2026, 6, 1, 11, 45), chicago(2026, 6, 1, 11, 50))

    assert not services.is_available(profile, *session)
    assert services.is_available(profile, chicago(2026, 6, 1, 14), chicago(2026, 6, 1, 17))


def test_each_provider_is_matched_on_their_own_clock():
    chicago_provider, berlin, tokyo = make_provider(), make_provider("Europe/Berlin"), make_provider("Asia/Tokyo")
    for provider in (chicago_provider, berlin, tokyo):
        block(provider, MONDAY, 9, 17)
    everyone = [chicago_provider.id, berlin.id, tokyo.id]

    # Monday 1 June 2026, 08:00-10:00 UTC: 10:00 in Berlin, 03:00 in Chicago, 17:00 in Tokyo.
    assert services.available_for(everyone, utc(2026, 6, 1, 8), utc(2026, 6, 1, 10)) == {berlin.id}
    assert services.available_for(everyone, utc(2026, 6, 1, 14), utc(2026, 6, 1, 15)) == {
        chicago_provider.id,
        berlin.id,
    }
    assert services.available_for(everyone, utc(2026, 6, 1, 1), utc(2026, 6, 1, 2)) == {tokyo.id}
    assert services.available_for(everyone, utc(2026, 6, 1, 23), utc(2026, 6, 2, 1)) == set()


def test_inactive_unknown_and_patternless_providers_are_never_available(profile):
    block(profile, MONDAY, 9, 17)
    resting = make_provider(active=False)
    block(resting, MONDAY, 9, 17)
    retired = make_provider()
    retired.active = False
    block(retired, MONDAY, 9, 17)
    nothing = make_provider()
    ids = [profile.id, resting.id, retired.id, nothing.id, 999999]

    assert services.available_for(ids, chicago(2026, 6, 1, 10), chicago(2026, 6, 1, 11)) == {profile.id}
    assert services.available_for([], chicago(2026, 6, 1, 10), chicago(2026, 6, 1, 11)) == set()


def test_matching_refuses_naive_or_empty_intervals(profile):
    with pytest.raises(ValueError, match="aware"):
        services.available_for([profile.id], datetime(2026, 6, 1, 10), datetime(2026, 6, 1, 11))
    with pytest.raises(ValueError, match="starts before"):
        services.available_for([profile.id], utc(2026, 6, 1, 10), utc(2026, 6, 1, 10))
    with pytest.raises(ValueError, match="at most"):
        services.windows_for([profile.id], utc(2026, 1, 1), utc(2028, 1, 1))


@pytest.mark.parametrize("count", [1, 50])
def test_matching_takes_two_statements_however_many_providers(count):
    providers = [make_provider(zone) for zone in ["America/Chicago", "Europe/Berlin", "Asia/Tokyo"] * count][:count]
    for provider in providers:
        block(provider, MONDAY, 0, 24)
        block(provider, TUESDAY, 0, 24)
        off(provider, utc(2026, 6, 2, 12), utc(2026, 6, 2, 13))
    ids = [p.id for p in providers]
    db.session.expire_all()

    with counted_statements() as statements:
        available = services.available_for(ids, utc(2026, 6, 1, 12), utc(2026, 6, 1, 14))
    assert len(statements) == 2
    assert available == set(ids)

    with counted_statements() as statements:
        windows = services.windows_for(ids, utc(2026, 6, 1), utc(2026, 6, 8))
    assert len(statements) == 2
    assert len(windows) == count


def test_windows_for_a_week_on_a_calendar(profile):
    block(profile, MONDAY, 9, 12)
    block(profile, MONDAY, 13, 17)
    block(profile, MONDAY, 20, 24)
    block(profile, TUESDAY, 0, 6)
    off(profile, chicago(2026, 6, 1, 14), chicago(2026, 6, 1, 15), "Doctor")
    other = make_provider("Europe/Berlin")
    block(other, SUNDAY, 10, 11)

    windows = services.windows_for([profile.id, other.id, 999999], chicago(2026, 6, 1), chicago(2026, 6, 8))

    assert windows[profile.id] == [
        (chicago(2026, 6, 1, 9), chicago(2026, 6, 1, 12)),
        (chicago(2026, 6, 1, 13), chicago(2026, 6, 1, 14)),
        (chicago(2026, 6, 1, 15), chicago(2026, 6, 1, 17)),
        (chicago(2026, 6, 1, 20), chicago(2026, 6, 2, 6)),
    ]
    berlin = ZoneInfo("Europe/Berlin")
    sunday = datetime(2026, 6, 7, 10, tzinfo=berlin).astimezone(UTC)
    assert windows[other.id] == [(sunday, sunday + timedelta(hours=1))]
    assert windows[999999] == []


def test_windows_are_cut_to_the_range(profile):
    block(profile, MONDAY, 9, 17)
    windows = services.windows_for([profile.id], chicago(2026, 6, 1, 12), chicago(2026, 6, 8, 10))
    assert windows[profile.id] == [
        (chicago(2026, 6, 1, 12), chicago(2026, 6, 1, 17)),
        (chicago(2026, 6, 8, 9), chicago(2026, 6, 8, 10)),
    ]
    assert services.windows_for([profile.id], chicago(2026, 6, 1, 12), chicago(2026, 6, 1, 12)) == {profile.id: []}


def test_windows_across_the_autumn_change_keep_the_local_hours(profile):
    block(profile, SATURDAY, 9, 17)
    block(profile, SUNDAY, 9, 17)
    windows = services.windows_for([profile.id], chicago(2026, 10, 31), chicago(2026, 11, 2))[profile.id]
    assert windows == [(utc(2026, 10, 31, 14), utc(2026, 10, 31, 22)), (utc(2026, 11, 1, 15), utc(2026, 11, 1, 23))]


def test_the_demo_week_is_matched(app):
    from respite.demo import seed_demo

    seed_demo(now=NOW)
    tom = db.session.scalar(select(Availability.provider_id).where(Availability.kind == AvailabilityKind.TIME_OFF))
    # Next week's Monday to Wednesday, on the center's clock, Tom is away; the others are not.
    providers = db.session.scalars(select(Availability.provider_id).distinct()).all()
    others = set(providers) - {tom}
    assert services.available_for(providers, chicago(2026, 6, 8, 10), chicago(2026, 6, 8, 12)) == others
    assert tom in services.available_for(providers, chicago(2026, 6, 11, 10), chicago(2026, 6, 11, 12))
    # Tom's Friday night runs into Saturday morning.
    assert services.available_for([tom], chicago(2026, 6, 5, 22), chicago(2026, 6, 6, 5)) == {tom}
