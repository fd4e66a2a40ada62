"""Calendar feeds: a secret, revocable address per user that calendar apps read as iCalendar (RFC 5545).

Only the SHA-256 of the secret is stored (`User.calendar_token_hash`): the
address is shown once, when it is made, and can't be shown again. Turning the
feed on again makes a new address, and the old one stops working. The feed
holds the same sessions the user's pages show them, worded for their role.
"""

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import joinedload

from .. import audit
from ..extensions import db
from ..models import RespiteSession, Role, SessionStatus, User, utcnow
from ..scheduling import history

S = SessionStatus

FEED_ROLES = (Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR)
# How far back a family's or a provider's feed reaches; a coordinator's holds what is still to come.
PAST_DAYS = 90
FEED_LIMIT = 2000
PRODID = "-//Respite//Respite sessions//EN"

# RFC 5545 knows three statuses of an event.
ICAL_STATUS = {
    S.REQUESTED: "TENTATIVE",
    S.CONFIRMED: "CONFIRMED",
    S.CHECKED_IN: "CONFIRMED",
    S.COMPLETED: "CONFIRMED",
    S.NO_SHOW: "CONFIRMED",  # the time was booked; the description says what happened
    S.CANCELLED: "CANCELLED",
    S.DECLINED: "CANCELLED",
}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_is_on(user: User) -> bool:
    return user.calendar_token_hash is not None


# --- Turning the feed on and off ------------------------------------------------------


def enable_feed(user: User) -> str:
    """Give `user` a new feed address and return its secret (shown once); any older address stops working."""
    if user.role not in FEED_ROLES:
        raise PermissionError("This account has no calendar feed.")
    renewed = feed_is_on(user)
    token = secrets.token_urlsafe(32)
    user.calendar_token_hash = token_hash(token)
    audit.record(
        "calendar.enable",
        user,
        actor=user,
        summary=f"{user.display_name} made a new calendar feed address" if renewed else "Calendar feed turned on",
        meta={"renewed": renewed},
    )
    db.session.flush()
    return token


def revoke_feed(user: User) -> None:
    """Turn `user`'s feed off: its address answers 404 from now on."""
    if not feed_is_on(user):
        return
    user.calendar_token_hash = None
    audit.record("calendar.revoke", user, actor=user, summary="Calendar feed turned off")
    db.session.flush()


def user_for_token(token: str) -> User | None:
    """The active user whose feed address holds `token`, or None (wrong, revoked, or a role without a feed)."""
    user = db.session.scalar(select(User).where(User.calendar_token_hash == token_hash(token)))
    if user is None or not user.is_active or user.role not in FEED_ROLES:
        return None
    return user


# --- What the feed holds ---------------------------------------------------------------


def feed_sessions(user: User, now: datetime | None = None) -> Sequence[RespiteSession]:
    """The sessions in `user`'s feed, soonest first.

    A family's and a provider's: those on their sessions page from the last
    90 days on. A coordinator's: every session of the program still to come.
    Cancelled and declined ones stay, so calendars mark them cancelled.
    """
    now = now or utcnow()
    scope: ColumnElement[bool] | None
    if user.role == Role.COORDINATOR:
        scope, since = true(), now
    else:
        scope, since = history.sessions_of(user), now - timedelta(days=PAST_DAYS)
    if scope is None:
        return []
    return db.session.scalars(
        select(RespiteSession)
        .options(
            joinedload(RespiteSession.recipient),
            joinedload(RespiteSession.center),
            joinedload(RespiteSession.caregiver),
        )
        .where(scope, RespiteSession.ends_at >= since)
        .order_by(RespiteSession.starts_at, RespiteSession.id)
        .limit(FEED_LIMIT)
    ).all()


def location(session: RespiteSession) -> str:
    if session.center is not None:
        return ", ".join(part for part in (session.center.name, session.center.address) if part)
    return session.address or "At home"


def summary(session: RespiteSession, viewer: User) -> str:
    """ "Respite for Elena" in the family's calendar; "Respite: Elena M." in a provider's or coordinator's."""
    if viewer.role == Role.CAREGIVER:
        return f"Respite for {session.recipient.first_name}"
    return f"Respite: {session.recipient.short_name}"


def description(session: RespiteSession, viewer: User, providers: Sequence[str], page_url: str) -> str:
    status = session.status_label
    if session.status_reason and session.status in (S.CANCELLED, S.DECLINED):
        status = f"{status}: {session.status_reason}"
    lines = [f"Status: {status}"]
    if providers:
        lines.append(f"Provider: {', '.join(providers)}")
    elif session.status in (S.REQUESTED, S.CONFIRMED):
        lines.append("Provider: not assigned yet")
    if viewer.role != Role.CAREGIVER:
        family = session.caregiver.full_name + (f", {session.caregiver.phone}" if session.caregiver.phone else "")
        lines.append(f"Family: {family}")
    if session.request_notes:
        lines.append(f"Notes: {session.request_notes}")
    lines.append(page_url)
    return "\n".join(lines)


def feed_calendar(
    user: User,
    sessions: Sequence[RespiteSession],
    providers: dict[int, list[str]],
    page_url: Callable[[int], str],
) -> bytes:
    """`sessions` as an iCalendar document for `user`: times in UTC, the user's zone named for the calendar app."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Respite sessions")
    calendar.add("x-wr-timezone", user.timezone or "UTC")
    # Calendar apps may ask again this often (some honour one name, some the other).
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for session in sessions:
        url = page_url(session.id)
        event = Event()
        event.add("uid", f"session-{session.id}@respite")
        event.add("dtstamp", session.updated_at)
        event.add("last-modified", session.updated_at)
        event.add("created", session.created_at)
        event.add("dtstart", session.starts_at)
        event.add("dtend", session.ends_at)
        event.add("sequence", max(0, session.version - 1))
        event.add("summary", summary(session, user))
        event.add("status", ICAL_STATUS[SessionStatus(session.status)])
        event.add("location", location(session))
        event.add("description", description(session, user, providers.get(session.id, []), url))
        event.add("url", url)
        calendar.add_component(event)
    return calendar.to_ical()


def feed_for(user: User, page_url: Callable[[int], str], now: datetime | None = None) -> bytes:
    """The whole feed of `user` (three statements, however many sessions)."""
    sessions = feed_sessions(user, now)
    return feed_calendar(user, sessions, history.providers_by_session(sessions), page_url)
