"""Demo availability: each provider's weekly hours on the center's clock, and one provider's time off next week."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from ..availability.services import local_instant
from ..extensions import db
from ..models import Availability, AvailabilityKind, ProviderProfile
from .accounts import ZONE, People

HOUR = 60
MONDAY_TO_FRIDAY = range(5)


def _block(provider: ProviderProfile, weekday: int, start_hour: int, end_hour: int) -> None:
    db.session.add(
        Availability(
            provider=provider,
            kind=AvailabilityKind.WEEKLY,
            weekday=weekday,
            start_minute=start_hour * HOUR,
            end_minute=end_hour * HOUR,
        )
    )


def seed(people: People, now: datetime) -> None:
    marcus, aisha, tom = people.providers
    for weekday in MONDAY_TO_FRIDAY:
        _block(marcus, weekday, 8, 18)
        _block(aisha, weekday, 8, 20)
    for weekday in (1, 3):  # Tuesday and Thursday evenings too: two blocks on those days
        _block(marcus, weekday, 19, 22)
    _block(aisha, 5, 9, 13)
    for weekday in range(4):
        _block(tom, weekday, 10, 18)
    _block(tom, 4, 20, 24)  # Friday night into Saturday morning: two blocks that meet at midnight
    _block(tom, 5, 0, 6)
    # Tom is away from Monday to Wednesday of next week, whole days on his clock.
    zone = ZoneInfo(ZONE)
    today = now.astimezone(zone).date()
    next_monday = today + timedelta(days=7 - today.weekday())
    db.session.add(
        Availability(
            provider=tom,
            kind=AvailabilityKind.TIME_OFF,
            starts_at=local_instant(next_monday, 0, zone),
            ends_at=local_instant(next_monday + timedelta(days=3), 0, zone),
            note="Family visit",
        )
    )
