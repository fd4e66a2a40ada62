"""What the sessions page and a session's own page show: lists, who is coming, and what happened when.

Queries only: nothing here changes a row. Each function issues a fixed number
of statements however many sessions or audit rows there are, so the pages
keep their statement budgets. The timeline is read from the audit log, the
one record of who did what to a session.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, exists, not_, select
from sqlalchemy.orm import joinedload

from ..admin.wording import timeline_labels
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    AuditLog,
    CaregiverProfile,
    ProviderProfile,
    RespiteSession,
    Role,
    User,
    utcnow,
)
from .lifecycle import ACTIVE_SESSION_STATUSES
from .services import provider_holds

UPCOMING_LIMIT = 50
HISTORY_PER_PAGE = 20
# Beyond any history (and short of numbers the database can't offset by).
MAX_PAGE = 100_000
# A session's timeline is short in practice; the cap only keeps a runaway one from filling the page.
TIMELINE_LIMIT = 500

# The roles that have a sessions page: the family's sessions, or the ones a provider holds.
SESSIONS_PAGE_ROLES = (Role.CAREGIVER, Role.PROVIDER)


# --- Whose sessions ----------------------------------------------------------------


def sessions_of(user: User) -> ColumnElement[bool] | None:
    """SQL: the sessions on `user`'s sessions page (their family's, or the ones they hold), or None for none."""
    if user.role == Role.CAREGIVER:
        return RespiteSession.caregiver_id.in_(select(CaregiverProfile.id).where(CaregiverProfile.user_id == user.id))
    if user.role == Role.PROVIDER:
        return exists().where(
            Assignment.session_id == RespiteSession.id,
            Assignment.provider_id.in_(select(ProviderProfile.id).where(ProviderProfile.user_id == user.id)),
            provider_holds(),
        )
    return None


def _is_upcoming(now: datetime) -> ColumnElement[bool]:
    return RespiteSession.status.in_(ACTIVE_SESSION_STATUSES) & (RespiteSession.ends_at >= now)


def upcoming(
    scope: ColumnElement[bool], *, now: datetime | None = None, limit: int = UPCOMING_LIMIT
) -> list[RespiteSession]:
    """Sessions still to happen or happening (requested, confirmed, checked in), soonest first."""
    return list(
        db.session.scalars(
            select(RespiteSession)
            .options(joinedload(RespiteSession.recipient), joinedload(RespiteSession.center))
            .where(scope, _is_upcoming(now or utcnow()))
            .order_by(RespiteSession.starts_at, RespiteSession.id)
            .limit(limit)
        )
    )


def history(
    scope: ColumnElement[bool], *, page: int = 1, now: datetime | None = None, per_page: int = HISTORY_PER_PAGE
) -> Pagination:
    """Everything else, newest first: completed, cancelled, declined, no-shows, and requests whose time went by."""
    query = (
        select(RespiteSession)
        .options(joinedload(RespiteSession.recipient), joinedload(RespiteSession.center))
        .where(scope, not_(_is_upcoming(now or utcnow())))
        .order_by(RespiteSession.starts_at.desc(), RespiteSession.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def providers_by_session(sessions: Iterable[RespiteSession]) -> dict[int, list[str]]:
    """Who is coming to each of `sessions`: the display names of the providers who accepted, in one query."""
    ids = {s.id for s in sessions}
    names: dict[int, list[str]] = {session_id: [] for session_id in ids}
    if not ids:
        return names
    rows = db.session.execute(
        select(Assignment.session_id, User.display_name)
        .join(ProviderProfile, Assignment.provider_id == ProviderProfile.id)
        .join(User, ProviderProfile.user_id == User.id)
        .where(Assignment.session_id.in_(ids), Assignment.status == AssignmentStatus.ACCEPTED)
        .order_by(Assignment.id)
    )
    for session_id, name in rows:
        names[session_id].append(name)
    return names


def load_details(session: RespiteSession) -> RespiteSession:
    """`session` with the person, the place and the family loaded in one statement (for its page)."""
    return db.session.scalars(
        select(RespiteSession)
        .options(
            joinedload(RespiteSession.recipient),
            joinedload(RespiteSession.center),
            joinedload(RespiteSession.caregiver),
        )
        .where(RespiteSession.id == session.id)
    ).one()


# --- The timeline --------------------------------------------------------------------

# What each action did, as the session's page says it (the audit log's own wording table holds these too).
# Anything else reads generically.
ACTION_WORDING = timeline_labels()

ROLE_WORDING: dict[str, str] = {
    Role.CAREGIVER: "family",
    Role.PROVIDER: "provider",
    Role.COORDINATOR: "coordinator",
    Role.KIOSK: "center kiosk",
}


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened to a session, worded for the person reading it."""

    at: datetime
    what: str
    who: str | None = None
    reason: str = ""


def timeline_rows(session: RespiteSession, limit: int = TIMELINE_LIMIT) -> Sequence[AuditLog]:
    """The audit rows about `session`, oldest first, with who did each (one statement)."""
    return db.session.scalars(
        select(AuditLog)
        .options(joinedload(AuditLog.actor))
        .where(AuditLog.entity_type == RespiteSession.__name__, AuditLog.entity_id == str(session.id))
        .order_by(AuditLog.created_at, AuditLog.id)
        .limit(limit)
    ).all()


def describe_action(action: str) -> str:
    """The human wording of an audit action: "session.check_in" → "Checked in"; unknown ones readably."""
    if action in ACTION_WORDING:
        return ACTION_WORDING[action]
    verb = action.rpartition(".")[2].replace("_", " ").strip()
    return f"Updated ({verb})" if verb else "Updated"


def describe_actor(row: AuditLog, viewer: User) -> str | None:
    """Who did it, for `viewer`: "you", "Ana Díaz (coordinator)", "a provider", or None for the system."""
    if row.actor_id is not None and row.actor_id == viewer.id:
        return "you"
    role = ROLE_WORDING.get(row.actor_role, row.actor_role)
    if row.actor is not None:
        return f"{row.actor.display_name} ({role})" if role else row.actor.display_name
    return f"a {role}" if role else None


def timeline(session: RespiteSession, viewer: User) -> list[TimelineEntry]:
    """What happened to `session`, oldest first, in words for `viewer`.

    Sessions made before requests were recorded have no "requested" row: their
    timeline opens with the time the session was created.
    """
    rows = timeline_rows(session)
    entries = [
        TimelineEntry(
            at=row.created_at,
            what=describe_action(row.action),
            who=describe_actor(row, viewer),
            reason=str((row.meta or {}).get("reason") or ""),
        )
        for row in rows
    ]
    if not any(row.action == "session.request" for row in rows):
        entries.insert(0, TimelineEntry(at=session.created_at, what=ACTION_WORDING["session.request"]))
    return entries
