"""Messaging: who may talk to whom, conversations, messages and read markers.

Each transition guards, changes rows, writes its audit row, queues its live
event (`message` to the other participants when one is sent, `read` to them
when one reads) and flushes; the view commits. Unread counts come from each
participant's read marker: the messages after it that others sent.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, and_, exists, func, select
from sqlalchemy.orm import joinedload

from .. import audit, realtime
from ..extensions import db
from ..models import (
    Assignment,
    AssignmentStatus,
    CaregiverProfile,
    Conversation,
    Message,
    Participant,
    ProviderProfile,
    RespiteSession,
    Role,
    User,
    utcnow,
)
from ..text import has_control_characters

BODY_LIMIT = 4000
SUBJECT_LIMIT = 200


class MessagingError(Exception):
    """A message or conversation that can't be sent; the message is safe to show, beside `field`."""

    def __init__(self, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.field = field


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


@dataclass(frozen=True)
class InboxEntry:
    conversation: Conversation
    unread: int
    others: list[str]


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


def inbox(user: User) -> list[InboxEntry]:
    """The user's conversations, newest activity first, each with its unread count and who else is in it
    (three statements however many conversations there are)."""
    rows = db.session.execute(
        select(Conversation, _unread_count())
        .join(Participant, and_(Participant.conversation_id == Conversation.id, Participant.user_id == user.id))
        .order_by(func.coalesce(Conversation.last_message_at, Conversation.created_at).desc(), Conversation.id.desc())
    ).all()
    ids = [conversation.id for conversation, _ in rows]
    names: dict[int, list[str]] = {conversation_id: [] for conversation_id in ids}
    if ids:
        for conversation_id, name in db.session.execute(
            select(Participant.conversation_id, User.display_name)
            .join(User, Participant.user_id == User.id)
            .where(Participant.conversation_id.in_(ids), Participant.user_id != user.id)
            .order_by(User.display_name)
        ):
            names[conversation_id].append(name)
    return [InboxEntry(conversation, int(unread or 0), names[conversation.id]) for conversation, unread in rows]


def unread_total_query(user: User) -> ScalarSelect[int]:
    """SQL: unread messages across the user's conversations (the navigation's badge adds it to its statement)."""
    return select(func.coalesce(func.sum(_unread_count()), 0)).where(Participant.user_id == user.id).scalar_subquery()


def unread_total(user: User) -> int:
    """Unread messages across the user's conversations (one statement)."""
    return int(db.session.scalar(select(unread_total_query(user))) or 0)


def thread(conversation: Conversation, limit: int = 50, before_id: int | None = None) -> Sequence[Message]:
    """The newest `limit` messages (before `before_id` when paging back), oldest first, with their senders."""
    query = (
        select(Message)
        .options(joinedload(Message.sender))
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(Message.id < before_id)
    return list(reversed(db.session.scalars(query).all()))


# --- Transitions -----------------------------------------------------------------------------


def clean_body(body: str) -> str:
    if has_control_characters(body):
        raise MessagingError("Remove the hidden control characters from the message.")
    body = body.strip()
    if not body:
        raise MessagingError("Write a message first.")
    if len(body) > BODY_LIMIT:
        raise MessagingError(f"Keep a message to {BODY_LIMIT} characters; send the rest in another.")
    return body


def _participant(conversation: Conversation, user: User) -> Participant | None:
    return next((p for p in conversation.participants if p.user_id == user.id), None)


def _others(conversation: Conversation, user: User) -> list[int]:
    return [p.user_id for p in conversation.participants if p.user_id != user.id]


def start_conversation(
    actor: User, others: Iterable[User], *, subject: str, body: str, session: RespiteSession | None = None
) -> Conversation:
    """A new conversation with `others` (each one the actor may talk to), and its first message."""
    people = {other.id: other for other in others}
    if not people:
        raise MessagingError("Choose who the message is for.", "recipients")
    for other in people.values():
        if not may_talk(actor, other):
            raise PermissionError("You can't start a conversation with that person.")
    if has_control_characters(subject):
        raise MessagingError("Remove the hidden control characters from the subject.", "subject")
    subject = subject.strip()[:SUBJECT_LIMIT] or "(no subject)"
    body = clean_body(body)
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
    send_message(actor, conversation, body)
    return conversation


def send_message(actor: User, conversation: Conversation, body: str) -> Message:
    """A participant's message: the conversation's activity moves on, and the sender has read up to it."""
    sender = _participant(conversation, actor)
    if sender is None:
        raise PermissionError("Only the people in a conversation can write in it.")
    message = Message(conversation=conversation, sender_id=actor.id, body=clean_body(body), created_at=utcnow())
    db.session.add(message)
    db.session.flush()
    conversation.last_message_at = message.created_at
    sender.last_read_message_id = message.id
    sender.last_read_at = message.created_at
    audit.record(
        "message.send",
        message,
        actor=actor,
        summary=f"Message sent in conversation {conversation.id}",
        meta={"conversation_id": conversation.id, "length": len(message.body or "")},
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
    realtime.publish_after_commit(
        realtime.EventType.READ, user_ids=_others(conversation, actor), conversation_id=conversation.id
    )
    db.session.flush()
    return True
