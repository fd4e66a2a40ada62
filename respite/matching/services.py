"""The coordinators' side of matching: the request queue with its flags, and the providers suggested for a request.

Queries only; the transitions (offer, assign, reassign, decline) are in
respite.scheduling.assignments. Each query issues a fixed number of SQL
statements however many requests and providers there are.
"""

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..availability import services as availability
from ..extensions import db
from ..models import (
    CARE_CARD_TEXT_FIELDS,
    Assignment,
    AssignmentStatus,
    CareCardAcknowledgement,
    CareCardVersion,
    CareRecipient,
    ProviderProfile,
    RespiteSession,
    SessionStatus,
    User,
    utcnow,
)
from ..scheduling.lifecycle import COUNTED_SESSION_STATUSES
from ..scheduling.services import year_bounds
from ..timefmt import zone_or_utc

# A request this close to its start with no provider is urgent.
URGENT_WITHIN = timedelta(hours=48)
# A confirmed session this close whose provider hasn't read the current care card needs a nudge.
ACKNOWLEDGE_WITHIN = timedelta(days=7)


@dataclass(frozen=True)
class Flag:
    """Something a coordinator should see about a request: a short label and a sentence that explains it."""

    kind: str  # "over_allotment", "urgent", "card_unread"
    label: str
    detail: str


@dataclass
class QueueItem:
    session: RespiteSession
    flags: list[Flag] = field(default_factory=list)
    offers: list[Assignment] = field(default_factory=list)  # offers out, and ones declined (with reasons)


@dataclass(frozen=True)
class Queue:
    requests: list[QueueItem]
    unread_cards: list[QueueItem]  # confirmed sessions soon whose provider hasn't read the current care card


def _minutes(starts_at: datetime, ends_at: datetime) -> int:
    return int((ends_at - starts_at).total_seconds() // 60)


def _minutes_used(caregiver_ids: Iterable[int], zone_name: str, now: datetime) -> dict[int, int]:
    """Each caregiver's counted minutes this year (one statement for all)."""
    start, end = year_bounds(zone_name, now)
    used: dict[int, int] = defaultdict(int)
    ids = set(caregiver_ids)
    if not ids:
        return used
    rows = db.session.execute(
        select(RespiteSession.caregiver_id, RespiteSession.starts_at, RespiteSession.ends_at).where(
            RespiteSession.caregiver_id.in_(ids),
            RespiteSession.status.in_(COUNTED_SESSION_STATUSES),
            RespiteSession.starts_at >= start,
            RespiteSession.starts_at < end,
        )
    ).all()
    for caregiver_id, starts_at, ends_at in rows:
        used[caregiver_id] += _minutes(starts_at, ends_at)
    return used


def request_queue(viewer: User, now: datetime | None = None) -> Queue:
    """Open requests soonest first (the oldest first among equal starts), each with its flags and offers."""
    now = now or utcnow()
    requests = db.session.scalars(
        select(RespiteSession)
        .options(
            joinedload(RespiteSession.recipient),
            joinedload(RespiteSession.center),
            joinedload(RespiteSession.caregiver),
            selectinload(RespiteSession.assignments).joinedload(Assignment.provider).joinedload(ProviderProfile.user),
        )
        .where(RespiteSession.status == SessionStatus.REQUESTED, RespiteSession.ends_at > now)
        .order_by(RespiteSession.starts_at, RespiteSession.created_at, RespiteSession.id)
    ).all()
    used = _minutes_used({s.caregiver_id for s in requests}, viewer.timezone, now)
    items = []
    for session in requests:
        item = QueueItem(session, offers=[a for a in session.assignments if a.status != AssignmentStatus.CANCELLED])
        allotment = session.caregiver.annual_allotment_minutes
        if used[session.caregiver_id] > allotment:
            over = used[session.caregiver_id] - allotment
            item.flags.append(
                Flag(
                    "over_allotment",
                    "Over allotment",
                    f"{session.caregiver.full_name} has asked for {over // 60} h {over % 60:02d} min "
                    "more than their hours this year.",
                )
            )
        if session.starts_at - now <= URGENT_WITHIN:
            item.flags.append(Flag("urgent", "Starts within 48 h", "No provider yet, and it starts within 48 hours."))
        items.append(item)
    return Queue(items, unread_cards(now))


def unread_cards(now: datetime | None = None) -> list[QueueItem]:
    """Confirmed sessions in the coming week whose provider hasn't acknowledged the person's current care card."""
    now = now or utcnow()
    read = (
        select(CareCardAcknowledgement.id)
        .where(
            CareCardAcknowledgement.provider_id == Assignment.provider_id,
            CareCardAcknowledgement.card_version_id == CareCardVersion.id,
        )
        .exists()
    )
    rows = db.session.execute(
        select(RespiteSession, Assignment)
        .join(Assignment, Assignment.session_id == RespiteSession.id)
        .join(CareRecipient, RespiteSession.recipient_id == CareRecipient.id)
        .join(
            CareCardVersion,
            (CareCardVersion.recipient_id == CareRecipient.id) & (CareCardVersion.number == CareRecipient.card_number),
        )
        .options(
            joinedload(RespiteSession.recipient),
            joinedload(RespiteSession.center),
            joinedload(Assignment.provider).joinedload(ProviderProfile.user),
        )
        .where(
            RespiteSession.status == SessionStatus.CONFIRMED,
            RespiteSession.starts_at > now,
            RespiteSession.starts_at <= now + ACKNOWLEDGE_WITHIN,
            Assignment.status == AssignmentStatus.ACCEPTED,
            ~read,
        )
        .order_by(RespiteSession.starts_at, RespiteSession.id)
    ).all()
    return [
        QueueItem(
            session,
            flags=[
                Flag(
                    "card_unread",
                    "Care card not acknowledged",
                    f"{assignment.provider.user.display_name} hasn't read version "
                    f"{session.recipient.card_number} of the care card.",
                )
            ],
            offers=[assignment],
        )
        for session, assignment in rows
    ]


# --- Suggestions ---------------------------------------------------------------------

# Words in a skill that say nothing about a need on their own.
_GENERIC_WORDS = frozenset(
    {"care", "support", "with", "and", "the", "for", "general", "experience", "skills", "needs", "need", "help"}
)


def _words(text: str) -> set[str]:
    return {word for word in re.findall(r"[a-z]+", text.lower()) if len(word) >= 4 and word not in _GENERIC_WORDS}


def matching_skills(skills: str, card_text: str) -> list[str]:
    """The provider's skills (comma-separated phrases) that speak to what the care card says the person needs."""
    needs = _words(card_text)
    matched = []
    for skill in (part.strip() for part in re.split(r"[,;\n]", skills)):
        if skill and _words(skill) & {w for need in needs for w in _variants(need)}:
            matched.append(skill)
    return matched


def _variants(word: str) -> set[str]:
    """A word and its bare stem, so "reminders" meets "reminder" and "dementia's" meets "dementia"."""
    stems = {word}
    for suffix in ("ing", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            stems.add(word[: -len(suffix)])
    return stems | {stem + "s" for stem in stems}


def _card_text(recipient: CareRecipient) -> str:
    card = recipient.card
    if card is None:
        return ""
    return " ".join(str(card.content.get(name) or "") for name in CARE_CARD_TEXT_FIELDS)


@dataclass(frozen=True)
class Suggestion:
    """A provider as a candidate for a request: what counts for and against them, and why they rank where they do."""

    provider: ProviderProfile
    available: bool  # the whole time is within their availability, with no time off
    clash: RespiteSession | None  # an accepted session of theirs at the same time
    center_match: bool  # their center is the session's (or the session is at home, or they work anywhere)
    skills: list[str]
    week_minutes: int  # accepted hours in the session's week
    assignment: Assignment | None  # their offer or answer on this session, if any

    @property
    def can_assign(self) -> bool:
        return self.clash is None and (self.assignment is None or self.assignment.status != AssignmentStatus.ACCEPTED)

    @property
    def rank_key(self) -> tuple[bool, bool, bool, bool, int, int, str]:
        declined = self.assignment is not None and self.assignment.status == AssignmentStatus.DECLINED
        return (
            self.clash is not None,
            declined,
            not self.available,
            not self.center_match,
            -len(self.skills),
            self.week_minutes,
            self.provider.user.display_name.lower(),
        )

    @property
    def reasons(self) -> list[str]:
        """Why this provider ranks where they do, in the order that counts."""
        reasons = []
        if self.clash is not None:
            reasons.append(f"Already has {self.clash.recipient.full_name}'s session then")
        if self.assignment is not None and self.assignment.status == AssignmentStatus.DECLINED:
            reasons.append(f"Declined this session: {self.assignment.reason}")
        reasons.append("Available the whole time" if self.available else "Outside their availability")
        if self.center_match:
            reasons.append(f"Works at {self.provider.center.name}" if self.provider.center else "Works at any center")
        else:
            reasons.append(f"Works at {self.provider.center.name}" if self.provider.center else "Another center")
        reasons.append(f"Skills: {', '.join(self.skills)}" if self.skills else "No matching skills listed")
        reasons.append(f"{self.week_minutes // 60} h {self.week_minutes % 60:02d} min booked that week")
        return reasons


def _week_bounds(moment: datetime, zone_name: str) -> tuple[datetime, datetime]:
    """Monday to Monday around `moment`, in the viewer's zone, as UTC."""
    zone = zone_or_utc(zone_name)
    local = moment.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(), zone)
    end = datetime.combine(monday + timedelta(days=7), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def suggestions(session: RespiteSession, viewer: User) -> list[Suggestion]:
    """Every active provider ranked by fit for `session`: no clash, available, right center, skills, fewest hours."""
    providers = db.session.scalars(
        select(ProviderProfile)
        .join(User, ProviderProfile.user_id == User.id)
        .options(joinedload(ProviderProfile.user), joinedload(ProviderProfile.center))
        .where(ProviderProfile.active.is_(True), User.active.is_(True))
    ).all()
    ids = [p.id for p in providers]
    available = availability.available_for(ids, session.starts_at, session.ends_at)
    week_start, week_end = _week_bounds(session.starts_at, viewer.timezone)
    clashes: dict[int, RespiteSession] = {}
    week_minutes: dict[int, int] = defaultdict(int)
    held = db.session.execute(
        select(Assignment.provider_id, Assignment.starts_at, Assignment.ends_at, RespiteSession)
        .join(RespiteSession, Assignment.session_id == RespiteSession.id)
        .options(joinedload(RespiteSession.recipient))
        .where(
            Assignment.status == AssignmentStatus.ACCEPTED,
            Assignment.session_id != session.id,
            Assignment.starts_at < max(week_end, session.ends_at),
            Assignment.ends_at > min(week_start, session.starts_at),
        )
    ).all()
    for provider_id, starts_at, ends_at, other in held:
        if starts_at < session.ends_at and ends_at > session.starts_at:
            clashes.setdefault(provider_id, other)
        if starts_at < week_end and ends_at > week_start:
            week_minutes[provider_id] += _minutes(starts_at, ends_at)
    on_session = {a.provider_id: a for a in session.assignments}
    card_text = _card_text(session.recipient)
    ranked = [
        Suggestion(
            provider=provider,
            available=provider.id in available,
            clash=clashes.get(provider.id),
            center_match=session.center_id is None
            or provider.center_id is None
            or provider.center_id == session.center_id,
            skills=matching_skills(provider.skills, card_text),
            week_minutes=week_minutes[provider.id],
            assignment=on_session.get(provider.id),
        )
        for provider in providers
    ]
    return sorted(ranked, key=lambda s: s.rank_key)


def open_requests_for(provider: ProviderProfile, now: datetime | None = None, limit: int = 50) -> list[RespiteSession]:
    """Open requests that fit `provider`: their availability and center, and no clash with what they hold."""
    now = now or utcnow()
    # Availability is read for at most MAX_RANGE_DAYS at once: requests further ahead (less a day, the
    # longest session) wait until they come within it.
    horizon = now + timedelta(days=availability.MAX_RANGE_DAYS - 1)
    query = (
        select(RespiteSession)
        .options(
            joinedload(RespiteSession.recipient).joinedload(CareRecipient.card),
            joinedload(RespiteSession.center),
        )
        .where(
            RespiteSession.status == SessionStatus.REQUESTED,
            RespiteSession.starts_at > now,
            RespiteSession.starts_at < horizon,
        )
        .order_by(RespiteSession.starts_at, RespiteSession.id)
        .limit(limit)
    )
    if provider.center_id is not None:
        query = query.where(RespiteSession.center_id.is_(None) | (RespiteSession.center_id == provider.center_id))
    requests = db.session.scalars(query).all()
    if not requests:
        return []
    windows = availability.windows_for([provider.id], requests[0].starts_at, max(s.ends_at for s in requests))
    mine = _merged(windows.get(provider.id, []))
    held = db.session.execute(
        select(Assignment.session_id, Assignment.status, Assignment.starts_at, Assignment.ends_at).where(
            Assignment.provider_id == provider.id,
            Assignment.status.in_((AssignmentStatus.ACCEPTED, AssignmentStatus.OFFERED, AssignmentStatus.DECLINED)),
            Assignment.ends_at > now,
        )
    ).all()
    answered = {session_id for session_id, _, _, _ in held}
    busy = [(starts_at, ends_at) for _, status, starts_at, ends_at in held if status == AssignmentStatus.ACCEPTED]
    return [
        s
        for s in requests
        if s.id not in answered
        and any(start <= s.starts_at and s.ends_at <= end for start, end in mine)
        and not any(start < s.ends_at and end > s.starts_at for start, end in busy)
    ]


def skills_wanted(provider: ProviderProfile, sessions: Iterable[RespiteSession]) -> dict[int, list[str]]:
    """For each session, the provider's skills its person's care card speaks to (cards loaded with the sessions)."""
    return {s.id: matching_skills(provider.skills, _card_text(s.recipient)) for s in sessions}


def _merged(windows: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Windows that touch or overlap made one (an evening block and the next morning's, across midnight)."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
