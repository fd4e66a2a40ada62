"""Half a year of demo history, so that the program's reports have a shape: past sessions in every state.

Lily comes most weeks on a weekday afternoon, and every other week on a morning as well: mostly
completed (checked in and out a few minutes off the booked times) with Aisha, sometimes Tom or
Marcus; now and then cancelled, missed or declined, each with its reason. Elena's past requests
were all called off, missed or declined (her one completed visit is the one of last week in
respite.demo.scheduling, which the family's history shows). Every session here started at least
eight days ago, so none of it is on this week's schedules, and each request was made a few days
ahead and filled some hours later (its accepted assignment's time), so the time to fill varies.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    CaregiverProfile,
    CareRecipient,
    LocationKind,
    ProviderProfile,
    RespiteSession,
    SessionStatus,
)
from .accounts import ZONE, People
from .care import Families

S = SessionStatus
A = AssignmentStatus
WEEKS = 26
# The hours from a request to its confirmation, in turn.
FILL_HOURS = (4, 10, 26, 52, 18, 7, 30, 3)

LILY_CANCELLED = {5: "Lily had a cold.", 14: "Lily had a hospital check-up.", 22: "Lily had a cold."}
LILY_NO_SHOW = {
    9: "Waited 30 minutes; no one answered the phone. James called later: the car broke down.",
    19: "Waited 20 minutes; no one came and no one answered.",
}
LILY_DECLINED = {
    12: "No provider trained in tube feeding was free that afternoon.",
    24: "The center is closed that day.",
}
LILY_MORNING_CANCELLED = {6: "Family wedding.", 16: "Lily had a cold."}

ELENA = {
    2: (S.CANCELLED, "Elena was unwell."),
    5: (S.DECLINED, "No provider was free that morning."),
    8: (S.CANCELLED, "Rosa's own appointment moved."),
    11: (S.NO_SHOW, "Waited 20 minutes; no one came. Rosa called later: Elena was in hospital."),
    14: (S.CANCELLED, "Elena was unwell."),
    17: (S.DECLINED, "No provider was free that morning."),
    20: (S.CANCELLED, "Luis was visiting."),
    23: (S.CANCELLED, "Elena was unwell."),
}


@dataclass
class _Family:
    caregiver: CaregiverProfile
    recipient: CareRecipient


def seed(people: People, families: Families, now: datetime) -> None:
    zone = ZoneInfo(ZONE)
    today = now.astimezone(zone).date()
    marcus, aisha, tom = people.providers
    lily = _Family(people.james, families.lily)
    elena = _Family(people.rosa, families.elena)

    def add(
        family: _Family,
        day: date,
        hours: tuple[int, int],
        status: S,
        number: int,
        *,
        provider: ProviderProfile | None = None,
        reason: str = "",
    ) -> None:
        starts_at = _at(day, hours[0], zone)
        ends_at = _at(day, hours[1], zone)
        created_at = _at(day - timedelta(days=4 + number % 6), 9, zone) + timedelta(minutes=37 * number)
        row = RespiteSession(
            caregiver=family.caregiver,
            recipient=family.recipient,
            center=people.center,
            location_kind=LocationKind.CENTER,
            starts_at=starts_at,
            ends_at=ends_at,
            status=status,
            status_reason=reason,
            created_at=created_at,
            updated_at=max(created_at, starts_at if status != S.DECLINED else created_at),
        )
        if status == S.COMPLETED:
            row.checked_in_at = starts_at + timedelta(minutes=(number % 3) * 4)
            row.checked_out_at = ends_at + timedelta(minutes=(number % 4) * 5 - 5)
        db.session.add(row)
        if provider is None:
            return
        # A session cancelled after it was confirmed keeps its provider's assignment, cancelled with it.
        held = A.CANCELLED if status == S.CANCELLED else A.ACCEPTED
        db.session.add(
            Assignment(
                session=row,
                provider=provider,
                status=held,
                starts_at=starts_at,
                ends_at=ends_at,
                created_at=created_at + timedelta(hours=FILL_HOURS[number % len(FILL_HOURS)]),
            )
        )

    for week in range(1, WEEKS + 1):
        # Lily's weekday afternoon, at least eight days ago.
        day = today - timedelta(days=7 * week + 1)
        provider = tom if week % 4 == 3 else marcus if week % 5 == 0 else aisha
        if week in LILY_CANCELLED:
            # Every other cancellation came after a provider was confirmed.
            confirmed = aisha if week % 2 == 0 else None
            add(lily, day, (13, 17), S.CANCELLED, week, provider=confirmed, reason=LILY_CANCELLED[week])
        elif week in LILY_NO_SHOW:
            add(lily, day, (13, 17), S.NO_SHOW, week, provider=provider, reason=LILY_NO_SHOW[week])
        elif week in LILY_DECLINED:
            add(lily, day, (13, 17), S.DECLINED, week, reason=LILY_DECLINED[week])
        else:
            add(lily, day, (13, 17), S.COMPLETED, week, provider=provider)
        # Every other week, a morning as well.
        if week % 2 == 0:
            morning = today - timedelta(days=7 * week + 4)
            if week in LILY_MORNING_CANCELLED:
                add(lily, morning, (9, 12), S.CANCELLED, week + 1, reason=LILY_MORNING_CANCELLED[week])
            else:
                add(lily, morning, (9, 12), S.COMPLETED, week + 1, provider=aisha)
        if week in ELENA:
            status, reason = ELENA[week]
            confirmed = marcus if status == S.NO_SHOW or week % 6 == 2 else None
            add(
                elena,
                today - timedelta(days=7 * week + 2),
                (10, 13),
                status,
                week + 2,
                provider=confirmed,
                reason=reason,
            )


def _at(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), zone).astimezone(UTC)
