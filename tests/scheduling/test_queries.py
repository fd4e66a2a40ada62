"""What each page's scheduling queries return: only the viewer's rows, in order, in the right zone."""

from datetime import UTC, datetime, timedelta

from respite.models import AssignmentStatus, SessionStatus, utcnow
from respite.scheduling import services
from tests import factories

S = SessionStatus


def test_caregiver_sees_own_active_coming_sessions_soonest_first():
    recipient = factories.CareRecipientFactory()
    profile = recipient.caregiver
    now = utcnow()
    later = factories.RespiteSessionFactory(recipient=recipient, starts_at=now + timedelta(days=2))
    sooner = factories.RespiteSessionFactory(recipient=recipient, starts_at=now + timedelta(days=1), status=S.CONFIRMED)
    factories.RespiteSessionFactory(recipient=recipient, status=S.CANCELLED)
    factories.RespiteSessionFactory(recipient=recipient, starts_at=now - timedelta(days=2))  # over
    factories.RespiteSessionFactory()  # another family's
    assert services.upcoming_for_caregiver(profile, now=now) == [sooner, later]
    assert services.upcoming_for_caregiver(profile, limit=1, now=now) == [sooner]


def test_provider_sees_offered_and_accepted_coming_assignments():
    provider = factories.ProviderProfileFactory()
    now = utcnow()
    accepted = factories.AssignmentFactory(provider=provider)
    offered = factories.AssignmentFactory(
        provider=provider,
        status=AssignmentStatus.OFFERED,
        session=factories.RespiteSessionFactory(starts_at=now + timedelta(days=3)),
    )
    factories.AssignmentFactory(provider=provider, status=AssignmentStatus.DECLINED)
    factories.AssignmentFactory()  # someone else's
    assert services.upcoming_for_provider(provider, now=now) == [accepted, offered]


def test_request_queue_holds_requested_sessions_soonest_first_and_counts_cover_every_status():
    now = utcnow()
    second = factories.RespiteSessionFactory(starts_at=now + timedelta(days=4))
    first = factories.RespiteSessionFactory(starts_at=now + timedelta(days=2))
    factories.RespiteSessionFactory(status=S.CONFIRMED)
    assert services.request_queue() == [first, second]
    assert services.status_counts() == {"requested": 2, "confirmed": 1}


def test_center_day_is_the_centers_own_calendar_day():
    center = factories.CenterFactory(timezone="Asia/Tokyo")
    now = datetime(2030, 6, 1, 3, 0, tzinfo=UTC)  # noon in Tokyo

    def at(hour_utc, status=S.CONFIRMED, **extra):
        starts = datetime(2030, 6, 1, 0, 0, tzinfo=UTC) + timedelta(hours=hour_utc)
        return factories.RespiteSessionFactory(
            center=center, starts_at=starts, ends_at=starts + timedelta(hours=1), status=status, **extra
        )

    morning = at(-8)  # 07:00 in Tokyo, 1 June
    evening = at(14)  # 23:00 in Tokyo, 1 June
    at(15)  # 00:00 in Tokyo, 2 June
    at(-10)  # 23:00 in Tokyo, 31 May
    at(1, status=S.REQUESTED)  # not yet confirmed: not on the board
    factories.RespiteSessionFactory(starts_at=now, status=S.CONFIRMED)  # another center
    assert services.center_day(center, now=now) == [morning, evening]


def test_hours_left_count_this_years_sessions_in_the_caregivers_zone():
    recipient = factories.CareRecipientFactory()
    profile = recipient.caregiver
    profile.annual_allotment_minutes = 10 * 60
    now = datetime(2030, 6, 1, tzinfo=UTC)
    for status in (S.REQUESTED, S.COMPLETED, S.CANCELLED):
        factories.RespiteSessionFactory(recipient=recipient, starts_at=now, status=status)
    assert services.minutes_used_this_year(profile, "UTC", now) == 2 * 180
    assert services.minutes_left_this_year(profile, "UTC", now) == 10 * 60 - 2 * 180
