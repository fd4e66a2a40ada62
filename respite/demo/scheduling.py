"""Demo sessions in every state around today, with their providers and a visit note.

A provider can walk a visit: Aisha's session today is checked in (check it out, write its note), Marcus's
tomorrow opens for check-in half an hour before it starts, and his home visit the family called off stays on
his schedule with its reason. Marcus has an offer to answer; Aisha has one that Tom declined. A coordinator
finds open requests in the queue (the hospital appointment has no offer yet) to assign from the suggestions.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
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
    VisitNote,
)
from .accounts import ZONE, People
from .care import Families

S = SessionStatus


@dataclass
class Sessions:
    requested: RespiteSession
    confirmed: RespiteSession


def seed(people: People, families: Families, now: datetime) -> Sessions:
    zone = ZoneInfo(ZONE)
    rosa, james, elena, lily = people.rosa, people.james, families.elena, families.lily
    providers = people.providers

    def at(days: int, hour: int, minutes: int = 0) -> datetime:
        day = now.astimezone(zone).date() + timedelta(days=days)
        return datetime.combine(day, time(hour, minutes), zone).astimezone(UTC)

    def session(
        caregiver: CaregiverProfile,
        recipient: CareRecipient,
        start: datetime,
        end: datetime,
        status: S,
        **extra: object,
    ) -> RespiteSession:
        place: dict[str, object] = {"center": people.center, "location_kind": LocationKind.CENTER}
        row = RespiteSession(
            caregiver=caregiver,
            recipient=recipient,
            starts_at=start,
            ends_at=end,
            status=status,
            **{**place, **extra},
        )
        db.session.add(row)
        return row

    def assign(row: RespiteSession, provider: ProviderProfile) -> None:
        db.session.add(
            Assignment(
                session=row,
                provider=provider,
                status=AssignmentStatus.ACCEPTED,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
            )
        )

    def offer(
        row: RespiteSession,
        provider: ProviderProfile,
        status: AssignmentStatus = AssignmentStatus.OFFERED,
        reason: str = "",
    ) -> None:
        db.session.add(
            Assignment(
                session=row,
                provider=provider,
                status=status,
                reason=reason,
                starts_at=row.starts_at,
                ends_at=row.ends_at,
            )
        )

    requested = session(
        rosa,
        elena,
        at(3, 9),
        at(3, 13),
        S.REQUESTED,
        request_notes="I have a hospital appointment of my own that morning.",
    )
    session(james, lily, at(5, 13), at(5, 17), S.REQUESTED, request_notes="Afternoon with the sensory room, please.")
    confirmed = session(rosa, elena, at(1, 10), at(1, 14), S.CONFIRMED)
    assign(confirmed, providers[0])
    today = session(james, lily, at(0, 8), at(0, 20), S.CHECKED_IN, checked_in_at=at(0, 8, 5))
    assign(today, providers[1])
    done = session(
        rosa, elena, at(-6, 9), at(-6, 12), S.COMPLETED, checked_in_at=at(-6, 9, 2), checked_out_at=at(-6, 12, 1)
    )
    assign(done, providers[0])
    db.session.add(
        VisitNote(
            session=done,
            author=people.users["provider@demo.respite.test"],
            went_well="Elena was cheerful; we looked at photo albums and had tea at 3. Ate a full lunch.",
            medication_given="Donepezil 10 mg at 12:30, with lunch.",
        )
    )
    session(james, lily, at(-3, 10), at(-3, 14), S.CANCELLED, status_reason="Lily had a cold.")
    # A home visit the family called off: it stays on Marcus's schedule, with the reason, until its time is past.
    called_off = session(
        rosa,
        elena,
        at(2, 14),
        at(2, 16),
        S.CANCELLED,
        center=None,
        location_kind=LocationKind.HOME,
        address="27 Birch Lane, Springfield",
        status_reason="Luis is visiting that afternoon.",
    )
    db.session.add(
        Assignment(
            session=called_off,
            provider=providers[0],
            status=AssignmentStatus.CANCELLED,
            starts_at=called_off.starts_at,
            ends_at=called_off.ends_at,
        )
    )
    # Offers: one waiting for Marcus's answer; one Tom declined (with his reason) and Aisha has still to answer.
    offered = session(
        rosa, elena, at(4, 10), at(4, 13), S.REQUESTED, request_notes="She likes the garden room in the morning."
    )
    offer(offered, providers[0])
    declined = session(james, lily, at(6, 9), at(6, 12), S.REQUESTED, request_notes="Lily's sister's school play.")
    offer(declined, providers[2], AssignmentStatus.DECLINED, reason="Away at a training day.")
    offer(declined, providers[1])
    db.session.flush()
    return Sessions(requested=requested, confirmed=confirmed)
