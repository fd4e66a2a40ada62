"""Notices: telling each person what changed for them, in their own list, live, and by email when they chose so.

`tell()` is the one way a notice is made. The domain services call it inside
their own transitions, after the change and its audit row, so a notice exists
exactly when the change does (a rollback takes both away, and its emails and
live events with them). It writes no audit row of its own and never commits.
The sentence is written when the change happens, with the names as they were
then and the times in each reader's own zone.

Also here: the reader's list (`notices_for`), the scoped loader, marking read,
each person's email choices, and the reminders `flask send-reminders` sends.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction, joinedload

from .. import audit, realtime
from ..extensions import db
from ..mail import send_after_commit
from ..models import (
    Assignment,
    AssignmentStatus,
    CareRecipient,
    Conversation,
    Notice,
    NoticeKind,
    NoticePreference,
    ProviderProfile,
    RespiteSession,
    Role,
    SessionStatus,
    User,
    utcnow,
)
from ..timefmt import timespan, zone_or_utc
from ..web.links import absolute_url

K = NoticeKind

# The notice's sentence: the same for everyone, or written for each reader (their zone, "you").
Text = str | Callable[[User], str]

PER_PAGE = 20
# A page number no list could reach is the last one there could be, not an overflow in the query.
MAX_PAGE = 10_000
# How a moment reads in a notice: "Tue 1 Dec, 09:00", in the reader's zone.
MOMENT = "%a %-d %b, %H:%M"

# The kinds each role can receive, in the order the email choices list them. Only these are offered:
# a choice about something that never reaches a person would promise what the app doesn't do.
KINDS_BY_ROLE: dict[str, tuple[NoticeKind, ...]] = {
    Role.CAREGIVER: (
        K.CONFIRMED,
        K.PROVIDER_CHANGED,
        K.CANCELLED,
        K.DECLINED,
        K.CHECKED_IN,
        K.CHECKED_OUT,
        K.HANDOVER,
        K.MESSAGE,
        K.REMINDER,
    ),
    Role.PROVIDER: (
        K.CONFIRMED,
        K.PROVIDER_CHANGED,
        K.TIME_CHANGED,
        K.CANCELLED,
        K.CARE_CARD_CHANGED,
        K.MESSAGE,
        K.REMINDER,
    ),
    Role.COORDINATOR: (K.TIME_CHANGED, K.CANCELLED, K.MESSAGE),
}

_TOLD = "respite.notices_told"


# --- Words ------------------------------------------------------------------------------------------------


def moment(at: datetime, reader: User) -> str:
    """`at` as `reader` reads it, in their own zone: "Tue 1 Dec, 09:00"."""
    return at.astimezone(zone_or_utc(reader.timezone)).strftime(MOMENT)


def span(session: RespiteSession, reader: User) -> str:
    """The session's time as `reader` reads it: "Tue 1 Dec 2026, 09:00 – 12:00"."""
    return timespan(session.starts_at, session.ends_at, zone_or_utc(reader.timezone))


def person_for(reader: User, session: RespiteSession) -> str:
    """Who the session is for, as `reader` calls them: the family by first name, everyone else in full."""
    recipient = session.recipient
    return recipient.first_name if reader.id == session.caregiver.user_id else recipient.full_name


def names(people: Sequence[str]) -> str:
    """ "Aisha", "Aisha and Tom", "Aisha, Tom and Marcus"."""
    if len(people) <= 1:
        return "".join(people)
    return ", ".join(people[:-1]) + " and " + people[-1]


def with_reason(sentence: str, reason: str) -> str:
    """The sentence ended by its reason, when there is one: "… cancelled …: hospital appointment"."""
    reason = " ".join(reason.split())
    return f"{sentence}: {reason}" if reason else f"{sentence}."


# --- Telling ----------------------------------------------------------------------------------------------


def coordinators() -> list[User]:
    """The active coordinators, by name."""
    return list(
        db.session.scalars(
            select(User).where(User.role == Role.COORDINATOR, User.active.is_(True)).order_by(User.display_name)
        )
    )


def readers(users: Iterable[User | None], actor: User | None = None) -> list[User]:
    """Who of `users` gets a notice: each once, never the actor themself, nor an inactive account or a kiosk."""
    chosen: dict[int, User] = {}
    for user in users:
        if user is None or user.id in chosen or (actor is not None and user.id == actor.id):
            continue
        if not user.active or user.is_erased or user.role not in KINDS_BY_ROLE:
            continue
        chosen[user.id] = user
    return list(chosen.values())


def tell(
    users: Iterable[User | None],
    kind: NoticeKind,
    text: Text,
    *,
    actor: User | None = None,
    session: RespiteSession | None = None,
    conversation: Conversation | None = None,
    recipient: CareRecipient | None = None,
    collapse: bool = False,
) -> list[Notice]:
    """One notice of `kind` for each of `users` (see `readers`), about at most one thing; the list it made.

    With `collapse`, someone who has an unread notice of this kind about the
    same thing gets no other (a conversation's new messages: one notice until
    it is read). After the commit each reader's open pages hear of it (a
    `notice` event) and, when their choice for this kind says so, an email goes out.
    """
    people = readers(users, actor)
    about = {
        "session_id": session.id if session is not None else None,
        "conversation_id": conversation.id if conversation is not None else None,
        "recipient_id": recipient.id if recipient is not None else None,
    }
    if collapse and people:
        waiting = set(
            db.session.scalars(
                select(Notice.user_id).where(
                    Notice.user_id.in_([p.id for p in people]),
                    Notice.kind == kind,
                    Notice.read_at.is_(None),
                    *(getattr(Notice, name) == value for name, value in about.items() if value is not None),
                )
            )
        )
        people = [p for p in people if p.id not in waiting]
    if not people:
        return []
    made = [
        Notice(
            user_id=reader.id,
            kind=kind,
            text=text(reader) if callable(text) else text,
            actor_id=actor.id if actor is not None else None,
            created_at=utcnow(),
            **about,
        )
        for reader in people
    ]
    db.session.add_all(made)
    db.session.flush()
    _email(people, made, kind)
    told = db.session.info.setdefault(_TOLD, {})
    told.update({reader.id: (reader.display_name, reader.role) for reader in people})
    realtime.publish_after_commit(realtime.EventType.NOTICE, user_ids=[reader.id for reader in people])
    return made


def _email(people: Sequence[User], made: Sequence[Notice], kind: NoticeKind) -> None:
    """Email the notices whose readers want this kind by email (their choice, else the kind's default)."""
    chosen: dict[int, bool] = {
        user_id: by_email
        for user_id, by_email in db.session.execute(
            select(NoticePreference.user_id, NoticePreference.by_email).where(
                NoticePreference.user_id.in_([p.id for p in people]), NoticePreference.kind == kind
            )
        )
    }
    for reader, notice in zip(people, made, strict=True):
        if not chosen.get(reader.id, kind.emailed_by_default):
            continue
        send_after_commit(
            reader.email,
            f"Respite: {kind.label.lower()}",
            f"{notice.text}\n\n"
            f"See it in Respite: {_link(f'/notices/{notice.id}')}\n\n"
            f"Choose which notices also come by email: {_link('/notices/settings')}\n",
        )


def _link(path: str) -> str:
    """An address to put in an email: on BASE_URL (or this request's host); the path alone when neither is
    known (a command run without BASE_URL, which production always sets)."""
    if current_app.config.get("BASE_URL") or has_request_context():
        return absolute_url(path)
    return path


def told_so_far() -> list[tuple[str, str]]:
    """(name, role) of everyone told in this transaction so far, in the order they were told."""
    return list(db.session.info.get(_TOLD, {}).values())


def told_sentence() -> str:
    """Who this transaction's notices went to, as a page says it: "Rosa Alvarez and Marcus Webb are told." ("" when
    no one). Coordinators are "the coordinators"; the view reads it before it commits."""
    told = told_so_far()
    people = [name for name, role in told if role != Role.COORDINATOR]
    staff = [name for name, role in told if role == Role.COORDINATOR]
    if len(staff) == 1:
        people.append(staff[0])
    elif staff:
        people.append("the coordinators")
    if not people:
        return ""
    plural = len(people) > 1 or people == ["the coordinators"]
    return f"{names(people)} {'are' if plural else 'is'} told."


@sa_event.listens_for(OrmSession, "after_commit")
def _forget_told(session: OrmSession) -> None:
    session.info.pop(_TOLD, None)


@sa_event.listens_for(OrmSession, "after_soft_rollback")
def _forget_told_on_rollback(session: OrmSession, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_TOLD, None)


# --- The reader's notices ----------------------------------------------------------------------------------


def _own(user: User) -> ColumnElement[bool]:
    return Notice.user_id == user.id


def notices_for(user: User, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """The user's notices, newest first, one page (two statements however many there are)."""
    page = min(max(page, 1), MAX_PAGE)
    query = select(Notice).where(_own(user)).order_by(Notice.id.desc())
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def unread_count(user: User) -> int:
    return int(db.session.scalar(select(func.count(Notice.id)).where(_own(user), Notice.read_at.is_(None))) or 0)


def get_notice_for(user: User, notice_id: int) -> Notice | None:
    """The notice if it is `user`'s, else None (the view answers 404)."""
    return db.session.scalar(select(Notice).where(Notice.id == notice_id, _own(user)))


def mark_read(user: User, notice: Notice) -> bool:
    """The reader has opened the notice; False when it was read already. Their other pages' badges follow."""
    if notice.user_id != user.id:
        raise PermissionError("Only the person a notice is for can read it.")
    if notice.read_at is not None:
        return False
    notice.read_at = utcnow()
    realtime.publish_after_commit(realtime.EventType.NOTICE, user_ids=[user.id])
    db.session.flush()
    return True


def mark_all_read(user: User) -> int:
    """Every unread notice of the user's is read now (one statement); how many were."""
    return _mark_read_where(user, true())


def mark_read_about(user: User, *, conversation: Conversation) -> int:
    """The reader has seen the conversation: its message notices are read too; how many were unread."""
    return _mark_read_where(user, (Notice.conversation_id == conversation.id) & (Notice.kind == K.MESSAGE))


def _mark_read_where(user: User, which: ColumnElement[bool]) -> int:
    result = db.session.execute(
        update(Notice)
        .where(_own(user), Notice.read_at.is_(None), which)
        .values(read_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    count = int(getattr(result, "rowcount", 0) or 0)
    if count:
        realtime.publish_after_commit(realtime.EventType.NOTICE, user_ids=[user.id])
    db.session.flush()
    return count


# --- Email choices -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One kind of notice the user can receive, and whether it also comes by email."""

    kind: NoticeKind
    by_email: bool

    @property
    def label(self) -> str:
        return self.kind.label


def kinds_for(user: User) -> tuple[NoticeKind, ...]:
    return KINDS_BY_ROLE.get(user.role, ())


def preferences_for(user: User) -> list[Choice]:
    """For each kind the user's role can receive: by email or not (their choice, else the kind's default)."""
    kinds = kinds_for(user)
    if not kinds:
        return []
    chosen: dict[str, bool] = {
        kind: by_email
        for kind, by_email in db.session.execute(
            select(NoticePreference.kind, NoticePreference.by_email).where(NoticePreference.user_id == user.id)
        )
    }
    return [Choice(kind, bool(chosen.get(kind, kind.emailed_by_default))) for kind in kinds]


def set_preferences(user: User, choices: dict[NoticeKind, bool]) -> bool:
    """Keep the user's email choice for each kind their role can receive; False when nothing changed.

    Kinds missing from `choices` are taken as "not by email" (an unticked
    checkbox sends nothing); kinds the role can't receive are ignored.
    """
    kinds = kinds_for(user)
    if not kinds:
        raise PermissionError("This account gets no notices.")
    before = {choice.kind: choice.by_email for choice in preferences_for(user)}
    wanted = {kind: bool(choices.get(kind, False)) for kind in kinds}
    changed = {kind: value for kind, value in wanted.items() if before[kind] != value}
    if not changed:
        return False
    rows = {
        row.kind: row for row in db.session.scalars(select(NoticePreference).where(NoticePreference.user_id == user.id))
    }
    for kind, value in wanted.items():
        if kind in rows:
            rows[kind].by_email = value
        else:
            db.session.add(NoticePreference(user_id=user.id, kind=kind, by_email=value))
    audit.record(
        "notice.preferences",
        user,
        actor=user,
        summary="Email choices for notices changed",
        meta={"by_email": {str(kind): value for kind, value in changed.items()}},
    )
    db.session.flush()
    return True


# --- Reminders ---------------------------------------------------------------------------------------------


def reminder_window() -> timedelta:
    return timedelta(hours=float(current_app.config["REMINDER_HOURS"]))


def due_reminders(now: datetime | None = None) -> list[int]:
    """Confirmed sessions starting within the reminder window whose reminder hasn't gone out, soonest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(RespiteSession.id)
            .where(
                RespiteSession.status == SessionStatus.CONFIRMED,
                RespiteSession.reminder_sent_at.is_(None),
                RespiteSession.starts_at > now,
                RespiteSession.starts_at <= now + reminder_window(),
            )
            .order_by(RespiteSession.starts_at, RespiteSession.id)
        )
    )


def claim_reminder(session_id: int, now: datetime) -> bool:
    """Mark the session's reminder as sent, if no one has: True for the one caller that did.

    A Core update, so the session's version (which guards people's edits) is
    not moved on by a reminder. Under PostgreSQL a second claimer waits for the
    first one's transaction, then finds the reminder sent and claims nothing.
    """
    result = db.session.execute(
        update(RespiteSession)
        .where(RespiteSession.id == session_id, RespiteSession.reminder_sent_at.is_(None))
        .values(reminder_sent_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def send_reminders(now: datetime | None = None) -> int:
    """Remind the caregiver and the accepted provider of each confirmed session starting within REMINDER_HOURS,
    once per session whoever else runs this at the same time; how many sessions were reminded of."""
    now = now or utcnow()
    sent = 0
    for session_id in due_reminders(now):
        if not claim_reminder(session_id, now):
            continue
        session = db.session.scalars(
            select(RespiteSession)
            .options(joinedload(RespiteSession.recipient), joinedload(RespiteSession.center))
            .where(RespiteSession.id == session_id)
        ).one()
        _remind(session)
        sent += 1
    db.session.flush()
    return sent


def _remind(session: RespiteSession) -> None:
    family = session.caregiver.user
    providers = list(
        db.session.scalars(
            select(User)
            .join(ProviderProfile, ProviderProfile.user_id == User.id)
            .join(Assignment, Assignment.provider_id == ProviderProfile.id)
            .where(Assignment.session_id == session.id, Assignment.status == AssignmentStatus.ACCEPTED)
            .order_by(User.display_name)
        )
    )
    where = f"at {session.center.name}" if session.center is not None else "at home"
    given_by = names([p.display_name for p in providers])

    def sentence(reader: User) -> str:
        if reader.id == family.id:
            who = f", with {given_by}" if given_by else ""
            return f"Reminder: {session.recipient.first_name}'s session is on {span(session, reader)}, {where}{who}."
        return f"Reminder: your session with {session.recipient.full_name} is on {span(session, reader)}, {where}."

    tell([family, *providers], K.REMINDER, sentence, session=session)
