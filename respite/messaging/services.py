"""Messaging: who may talk to whom, conversations, messages and read markers.

Each transition guards, changes rows, writes its audit row, queues its live
event (`message` to the other participants when one is sent, `read` to them
when one reads) and flushes; the view commits. Unread counts come from each
participant's read marker: the messages after it that others sent.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, and_, exists, false, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from .. import audit, realtime
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    Attachment,
    CaregiverProfile,
    Conversation,
    Message,
    NoticeKind,
    Participant,
    ProviderProfile,
    RespiteSession,
    Role,
    User,
    utcnow,
)
from ..notices import services as notices
from ..text import has_control_characters
from . import attachments
from .attachments import Upload
from .errors import MessagingError

__all__ = ["MessagingError", "Upload"]

BODY_LIMIT = 4000
SUBJECT_LIMIT = 200
# The pages: conversations a page of the inbox lists; messages a thread shows at once, and at most when an open
# thread refreshes itself; the longest search; a preview's length; how many people a list of contacts shows.
INBOX_PAGE_SIZE = 20
THREAD_PAGE_SIZE = 30
THREAD_REFRESH_LIMIT = 200
SEARCH_LIMIT = 100
PREVIEW_LENGTH = 160
CONTACTS_LIMIT = 50


# --- Who may talk to whom ----------------------------------------------------------------


def _provider_of_family(provider: User, caregiver: User) -> bool:
    """Whether `provider` has been assigned to one of `caregiver`'s sessions (now or before)."""
    return bool(
        db.session.scalar(
            select(
                exists().where(
                    Assignment.session_id == RespiteSession.id,
                    RespiteSession.caregiver_id == CaregiverProfile.id,
                    CaregiverProfile.user_id == caregiver.id,
                    Assignment.provider_id == ProviderProfile.id,
                    ProviderProfile.user_id == provider.id,
                    Assignment.status == AssignmentStatus.ACCEPTED,
                )
            )
        )
    )


def may_talk(one: User, other: User) -> bool:
    """A family with the providers of its sessions and with coordinators; providers with coordinators;
    coordinators with anyone but a kiosk; kiosks with no one; no one with themselves or an inactive account."""
    if one.id == other.id or not (one.is_active and other.is_active):
        return False
    roles = {one.role, other.role}
    if Role.KIOSK in roles:
        return False
    if Role.COORDINATOR in roles:
        return True
    if roles == {Role.CAREGIVER, Role.PROVIDER}:
        provider, caregiver = (one, other) if one.role == Role.PROVIDER else (other, one)
        return _provider_of_family(provider, caregiver)
    return False


# --- Loading --------------------------------------------------------------------------------


def get_conversation_for(user: User, conversation_id: int) -> Conversation | None:
    """The conversation if `user` takes part in it, else None (the view answers 404)."""
    return db.session.scalar(
        select(Conversation)
        .join(Participant, Participant.conversation_id == Conversation.id)
        .where(Conversation.id == conversation_id, Participant.user_id == user.id)
    )


def get_attachment_for(user: User, attachment_id: int) -> Attachment | None:
    """The attachment if `user` takes part in its message's conversation and the retention policy hasn't
    removed it, else None (the view answers 404)."""
    return db.session.scalar(
        select(Attachment)
        .join(Message, Attachment.message_id == Message.id)
        .join(Participant, Participant.conversation_id == Message.conversation_id)
        .where(
            Attachment.id == attachment_id,
            Participant.user_id == user.id,
            Attachment.purged_at.is_(None),
            Message.purged_at.is_(None),
        )
    )


@dataclass(frozen=True)
class InboxEntry:
    conversation: Conversation
    unread: int
    others: list[str]
    # The newest message: its opening on one line (None once purged, "" for files alone), when, and by whom.
    preview: str | None = None
    preview_at: datetime | None = None
    preview_mine: bool = False


@dataclass(frozen=True)
class InboxPage:
    entries: list[InboxEntry]
    page: int
    pages: int
    total: int
    search: str


def _unread_count() -> ScalarSelect[int]:
    """SQL: the messages after the participant's marker that someone else sent (Participant in scope)."""
    return (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Participant.conversation_id,
            Message.sender_id != Participant.user_id,
            Message.id > func.coalesce(Participant.last_read_message_id, 0),
        )
        .correlate(Participant)
        .scalar_subquery()
    )


def _own(user: User) -> ColumnElement[bool]:
    """The join of Conversation to the user's own Participant row."""
    return and_(Participant.conversation_id == Conversation.id, Participant.user_id == user.id)


def _matching(search: str) -> ColumnElement[bool] | None:
    """SQL: conversations whose subject or a message's text holds `search` (any case; `%` and `_` match only
    themselves); None for no search."""
    if has_control_characters(search):
        return false()  # no text holds them (and PostgreSQL can't compare a NUL)
    if not search:
        return None
    return or_(
        Conversation.subject.icontains(search, autoescape=True),
        exists().where(Message.conversation_id == Conversation.id, Message.body.icontains(search, autoescape=True)),
    )


def _inbox_entries(
    user: User, conditions: Sequence[ColumnElement[bool]], limit: int | None, offset: int = 0
) -> list[InboxEntry]:
    """The user's conversations meeting `conditions`, newest activity first, with unread counts, the newest
    message's preview and the other people's names (two statements)."""
    newest = aliased(Message)
    newest_id = (
        select(func.max(Message.id))
        .where(Message.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(
            Conversation,
            _unread_count(),
            func.substr(newest.body, 1, PREVIEW_LENGTH),
            newest.body.is_(None),
            newest.created_at,
            newest.sender_id,
        )
        .join(Participant, _own(user))
        .outerjoin(newest, newest.id == newest_id)
        .where(*conditions)
        .order_by(func.coalesce(Conversation.last_message_at, Conversation.created_at).desc(), Conversation.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    ids = [row[0].id for row in rows]
    names: dict[int, list[str]] = {conversation_id: [] for conversation_id in ids}
    if ids:
        for conversation_id, name in db.session.execute(
            select(Participant.conversation_id, User.display_name)
            .join(User, Participant.user_id == User.id)
            .where(Participant.conversation_id.in_(ids), Participant.user_id != user.id)
            .order_by(User.display_name)
        ):
            names[conversation_id].append(name)
    return [
        InboxEntry(
            conversation,
            int(unread or 0),
            names[conversation.id],
            preview=None if purged else " ".join((opening or "").split()),
            preview_at=sent_at,
            preview_mine=sender_id == user.id,
        )
        for conversation, unread, opening, purged, sent_at, sender_id in rows
    ]


def inbox(user: User) -> list[InboxEntry]:
    """The user's conversations, newest activity first, each with its unread count and who else is in it
    (three statements however many conversations there are)."""
    return _inbox_entries(user, [], None)


def inbox_page(user: User, *, page: int = 1, search: str = "", per_page: int = INBOX_PAGE_SIZE) -> InboxPage:
    """One page of the user's conversations (those matching `search` when given), newest activity first
    (three statements however many conversations and messages there are)."""
    search = search.strip()[:SEARCH_LIMIT]
    matches = _matching(search)
    conditions = [] if matches is None else [matches]
    total = db.session.scalar(select(func.count(Conversation.id)).join(Participant, _own(user)).where(*conditions)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)  # within the pages there are: a huge number would overflow OFFSET
    entries = _inbox_entries(user, conditions, per_page, (page - 1) * per_page) if total else []
    return InboxPage(entries, page, pages, total, search)


def unread_total_query(user: User) -> ScalarSelect[int]:
    """SQL: unread messages across the user's conversations (the navigation's badge adds it to its statement)."""
    return select(func.coalesce(func.sum(_unread_count()), 0)).where(Participant.user_id == user.id).scalar_subquery()


def unread_total(user: User) -> int:
    """Unread messages across the user's conversations (one statement)."""
    return int(db.session.scalar(select(unread_total_query(user))) or 0)


def thread(
    conversation: Conversation, limit: int = 50, before_id: int | None = None, since_id: int | None = None
) -> Sequence[Message]:
    """The newest `limit` messages (before `before_id` when paging back, from `since_id` on when given), oldest
    first, with their senders and attachments (two statements)."""
    query = (
        select(Message)
        .options(joinedload(Message.sender), selectinload(Message.attachments))
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(Message.id < before_id)
    if since_id is not None:
        query = query.where(Message.id >= since_id)
    return list(reversed(db.session.scalars(query).all()))


# --- What the messaging pages show ---------------------------------------------------------------


def get_thread_for(user: User, conversation_id: int) -> Conversation | None:
    """`get_conversation_for`, with the participants, their accounts and the session (and its person) loaded
    in the same statement: what a thread's page shows around its messages."""
    return (
        db.session.scalars(
            select(Conversation)
            .options(
                joinedload(Conversation.participants).joinedload(Participant.user),
                joinedload(Conversation.session).joinedload(RespiteSession.recipient),
            )
            .join(Participant, Participant.conversation_id == Conversation.id)
            .where(Conversation.id == conversation_id, Participant.user_id == user.id)
        )
        .unique()
        .one_or_none()
    )


@dataclass(frozen=True)
class ThreadWindow:
    """The messages a thread shows at once, oldest first, and whether older ones are left to load."""

    messages: Sequence[Message]
    has_older: bool

    @property
    def oldest_id(self) -> int | None:
        return self.messages[0].id if self.messages else None


def thread_window(
    conversation: Conversation, *, before_id: int | None = None, since_id: int | None = None
) -> ThreadWindow:
    """The newest THREAD_PAGE_SIZE messages (before `before_id` when paging back); or, for a thread already
    open, every message from `since_id` on (the newest THREAD_REFRESH_LIMIT of them). Two statements."""
    if since_id is not None:
        messages = thread(conversation, THREAD_REFRESH_LIMIT, since_id=since_id)
        return ThreadWindow(messages, has_older=False)
    messages = thread(conversation, THREAD_PAGE_SIZE + 1, before_id=before_id)
    has_older = len(messages) > THREAD_PAGE_SIZE
    return ThreadWindow(messages[1:] if has_older else messages, has_older)


@dataclass(frozen=True)
class Receipt:
    """Someone else in the conversation has read up to a message of the viewer's: who, and when they read
    (None for a marker set without a time)."""

    name: str
    at: datetime | None


def receipts(conversation: Conversation, viewer: User) -> dict[int, list[Receipt]]:
    """For each other participant, their receipt under the viewer's newest message they have read, keyed by
    that message's id (one statement)."""
    seen_up_to = (
        select(func.max(Message.id))
        .where(
            Message.conversation_id == Participant.conversation_id,
            Message.sender_id == viewer.id,
            Message.id <= Participant.last_read_message_id,
        )
        .correlate(Participant)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(seen_up_to, User.display_name, Participant.last_read_at)
        .join(User, Participant.user_id == User.id)
        .where(
            Participant.conversation_id == conversation.id,
            Participant.user_id != viewer.id,
            Participant.last_read_message_id.is_not(None),
        )
    )
    seen: dict[int, list[Receipt]] = {}
    for message_id, name, at in rows:
        if message_id is not None:
            seen.setdefault(message_id, []).append(Receipt(name, at))
    for readers in seen.values():  # in the order they read (a marker without a time first), then by name
        readers.sort(key=lambda r: (r.at is not None, r.at.timestamp() if r.at else 0.0, r.name))
    return seen


def _may_talk_with(user: User) -> ColumnElement[bool] | None:
    """SQL over User: the people `user` may talk to (may_talk as a condition); None for no one."""
    if user.role == Role.COORDINATOR:
        return User.role != Role.KIOSK
    if user.role == Role.CAREGIVER:
        theirs = exists().where(
            Assignment.session_id == RespiteSession.id,
            RespiteSession.caregiver_id == CaregiverProfile.id,
            CaregiverProfile.user_id == user.id,
            Assignment.provider_id == ProviderProfile.id,
            ProviderProfile.user_id == User.id,
            Assignment.status == AssignmentStatus.ACCEPTED,
        )
        return or_(User.role == Role.COORDINATOR, and_(User.role == Role.PROVIDER, theirs))
    if user.role == Role.PROVIDER:
        theirs = exists().where(
            Assignment.session_id == RespiteSession.id,
            RespiteSession.caregiver_id == CaregiverProfile.id,
            CaregiverProfile.user_id == User.id,
            Assignment.provider_id == ProviderProfile.id,
            ProviderProfile.user_id == user.id,
            Assignment.status == AssignmentStatus.ACCEPTED,
        )
        return or_(User.role == Role.COORDINATOR, and_(User.role == Role.CAREGIVER, theirs))
    return None


def contacts_for(
    user: User, *, search: str = "", ids: Iterable[int] | None = None, limit: int | None = None
) -> list[User]:
    """The people `user` may talk to, by name (one statement): a family sees the providers of its sessions
    and the coordinators; a provider the families of their sessions and the coordinators; a coordinator
    everyone active but kiosks; a kiosk no one. Only those whose name (or, for coordinators, email) holds
    `search`, or only those among `ids`, when given."""
    allowed = _may_talk_with(user)
    if allowed is None:
        return []
    query = select(User).where(User.active.is_(True), User.id != user.id, allowed)
    search = search.strip()[:SEARCH_LIMIT]
    if has_control_characters(search):
        return []
    if search:
        named = User.display_name.icontains(search, autoescape=True)
        if user.role == Role.COORDINATOR:
            named = or_(named, User.email.icontains(search, autoescape=True))
        query = query.where(named)
    if ids is not None:
        wanted = {i for i in ids if isinstance(i, int)}
        if not wanted:
            return []
        query = query.where(User.id.in_(wanted))
    return list(db.session.scalars(query.order_by(User.display_name, User.id).limit(limit)))


def session_people(session: RespiteSession, *, family: bool, providers: bool) -> list[int]:
    """The accounts of the session's family and of the providers who accepted it (one statement)."""
    wanted: list[ColumnElement[bool]] = []
    if family:
        wanted.append(User.id.in_(select(CaregiverProfile.user_id).where(CaregiverProfile.id == session.caregiver_id)))
    if providers:
        wanted.append(
            User.id.in_(
                select(ProviderProfile.user_id)
                .join(Assignment, Assignment.provider_id == ProviderProfile.id)
                .where(Assignment.session_id == session.id, Assignment.status == AssignmentStatus.ACCEPTED)
            )
        )
    if not wanted:
        return []
    return list(db.session.scalars(select(User.id).where(or_(*wanted)).order_by(User.display_name, User.id)))


@dataclass(frozen=True)
class SessionTalk:
    """Whom the viewer may message from a session's page, and the conversation about it they already have
    with them (its id), if any."""

    family: bool = False
    provider: bool = False
    with_family: int | None = None
    with_provider: int | None = None


def session_talk(user: User, session: RespiteSession) -> SessionTalk:
    """What a session's page offers `user`: a caregiver messages its providers (once one accepted), a provider
    its family (once they accepted it), a coordinator either (one statement)."""
    if user.role not in (Role.CAREGIVER, Role.PROVIDER, Role.COORDINATOR):
        return SessionTalk()
    accepted = and_(
        Assignment.session_id == session.id,
        Assignment.status == AssignmentStatus.ACCEPTED,
        Assignment.provider_id == ProviderProfile.id,
    )
    family_user = select(CaregiverProfile.user_id).where(CaregiverProfile.id == session.caregiver_id)
    mine = select(Participant.conversation_id).where(Participant.user_id == user.id)
    about_it = and_(Conversation.session_id == session.id, Conversation.id.in_(mine))
    with_family = (
        select(func.max(Conversation.id))
        .where(
            about_it,
            Conversation.id.in_(select(Participant.conversation_id).where(Participant.user_id.in_(family_user))),
        )
        .scalar_subquery()
    )
    with_provider = (
        select(func.max(Conversation.id))
        .where(
            about_it,
            Conversation.id.in_(
                select(Participant.conversation_id)
                .join(User, Participant.user_id == User.id)
                .where(User.role == Role.PROVIDER, User.id != user.id)
            ),
        )
        .scalar_subquery()
    )
    any_provider = exists().where(accepted)
    i_provide = exists().where(accepted, ProviderProfile.user_id == user.id)
    has_provider, holds_it, family_id, provider_id = db.session.execute(
        select(any_provider, i_provide, with_family, with_provider)
    ).one()
    if user.role == Role.CAREGIVER:
        return SessionTalk(provider=bool(has_provider), with_provider=provider_id)
    if user.role == Role.PROVIDER:
        return SessionTalk(family=bool(holds_it), with_family=family_id)
    return SessionTalk(family=True, provider=bool(has_provider), with_family=family_id, with_provider=provider_id)


# --- Transitions -----------------------------------------------------------------------------


def clean_body(body: str, *, may_be_empty: bool = False) -> str:
    """The body as sent; it may be empty only when files go with it."""
    if has_control_characters(body):
        raise MessagingError("Remove the hidden control characters from the message.")
    body = body.strip()
    if not body and not may_be_empty:
        raise MessagingError("Write a message first.")
    if len(body) > BODY_LIMIT:
        raise MessagingError(f"Keep a message to {BODY_LIMIT} characters; send the rest in another.")
    return body


def _participant(conversation: Conversation, user: User) -> Participant | None:
    return next((p for p in conversation.participants if p.user_id == user.id), None)


def _others(conversation: Conversation, user: User) -> list[int]:
    return [p.user_id for p in conversation.participants if p.user_id != user.id]


def start_conversation(
    actor: User,
    others: Iterable[User],
    *,
    subject: str,
    body: str,
    session: RespiteSession | None = None,
    uploads: Sequence[Upload] = (),
) -> Conversation:
    """A new conversation with `others` (each one the actor may talk to), and its first message (with
    `uploads`, checked files from attachments.check_uploads, the body may be empty)."""
    people = {other.id: other for other in others}
    if not people:
        raise MessagingError("Choose who the message is for.", "recipients")
    for other in people.values():
        if not may_talk(actor, other):
            raise PermissionError("You can't start a conversation with that person.")
    if has_control_characters(subject):
        raise MessagingError("Remove the hidden control characters from the subject.", "subject")
    subject = subject.strip()[:SUBJECT_LIMIT] or "(no subject)"
    body = clean_body(body, may_be_empty=bool(uploads))
    conversation = Conversation(subject=subject, session=session)
    db.session.add(conversation)
    for user_id in [actor.id, *people]:
        db.session.add(Participant(conversation=conversation, user_id=user_id))
    db.session.flush()
    audit.record(
        "conversation.start",
        conversation,
        actor=actor,
        summary=f"Conversation started with {', '.join(p.display_name for p in people.values())}",
        meta={"participants": sorted(people), "session_id": session.id if session else None},
    )
    send_message(actor, conversation, body, uploads=uploads)
    return conversation


def send_message(actor: User, conversation: Conversation, body: str, *, uploads: Sequence[Upload] = ()) -> Message:
    """A participant's message: the conversation's activity moves on, and the sender has read up to it.
    `uploads` (checked files from attachments.check_uploads) are stored with it; then the body may be empty."""
    sender = _participant(conversation, actor)
    if sender is None:
        raise PermissionError("Only the people in a conversation can write in it.")
    body = clean_body(body, may_be_empty=bool(uploads))
    message = Message(conversation=conversation, sender_id=actor.id, body=body, created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    attachments.store(actor, message, uploads)
    conversation.last_message_at = message.created_at
    sender.last_read_message_id = message.id
    sender.last_read_at = message.created_at
    audit.record(
        "message.send",
        message,
        actor=actor,
        summary=f"Message sent in conversation {conversation.id}",
        meta={"conversation_id": conversation.id, "length": len(message.body or ""), "files": len(uploads)},
    )
    # One notice per conversation until it is read: a busy thread is one line in the notices, not many.
    notices.tell(
        [p.user for p in conversation.participants],
        NoticeKind.MESSAGE,
        f"{actor.display_name} wrote to you: “{conversation.subject}”.",
        actor=actor,
        conversation=conversation,
        collapse=True,
    )
    realtime.publish_after_commit(
        realtime.EventType.MESSAGE, user_ids=_others(conversation, actor), conversation_id=conversation.id
    )
    db.session.flush()
    return message


def mark_read(actor: User, conversation: Conversation) -> bool:
    """The participant has seen the conversation up to its newest message; False when nothing was new."""
    reader = _participant(conversation, actor)
    if reader is None:
        raise PermissionError("Only the people in a conversation can read it.")
    newest = db.session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation.id))
    if newest is None or (reader.last_read_message_id or 0) >= newest:
        return False
    reader.last_read_message_id = newest
    reader.last_read_at = utcnow()
    audit.record(
        "message.read",
        conversation,
        actor=actor,
        summary=f"Conversation {conversation.id} read",
        meta={"up_to": newest},
    )
    notices.mark_read_about(actor, conversation=conversation)  # its message notices have done their job
    realtime.publish_after_commit(
        realtime.EventType.READ, user_ids=_others(conversation, actor), conversation_id=conversation.id
    )
    db.session.flush()
    return True
