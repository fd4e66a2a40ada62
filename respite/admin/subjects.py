"""What the audit log's rows are about: the names, times and ids their sentences need, for a whole batch of
rows in one statement (a UNION of one SELECT per kind of row named), however many rows and kinds there are.

A row names others by its entity (`entity_type`, `entity_id`) and by ids in its meta (META_REFS). What no
longer exists is simply missing: its sentence then names it without a link. Read only; never the subject
or messages of a conversation, only whether the reader takes part in it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, String, case, cast, exists, literal, null, select, union_all
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import (
    Assignment,
    Availability,
    CareRecipient,
    Center,
    Conversation,
    KioskDevice,
    Participant,
    ProviderProfile,
    RespiteSession,
    User,
    VisitNote,
)
from ..models.base import UTCDateTime
from ..web.converters import MAX_ID

SubjectKey = tuple[str, int]


@dataclass(frozen=True)
class Subject:
    """A row the log names, as much of it as a sentence needs.

    `name`: a person's, a center's, a kiosk's, or the person cared for of a session (or of an offer, a
    visit note); `at`: a session's start; `ref`: the session of an offer or note, the account of a
    provider or of the provider whose availability it is, a kiosk's center; `other`: an offer's
    provider, a kiosk's center's name, or "1" when the reader takes part in a conversation.
    """

    kind: str
    id: int
    name: str = ""
    at: datetime | None = None
    ref: int | None = None
    other: str = ""


# Keys of a row's meta that name another row, whatever the action.
META_REFS = {
    "session_id": "RespiteSession",
    "replaces": "RespiteSession",
    "provider_id": "ProviderProfile",
    "recipient_id": "CareRecipient",
    "conversation_id": "Conversation",
    "center_id": "Center",
    "participants": "User",
    "device_id": "KioskDevice",
}


def as_id(value: object) -> int | None:
    """`value` as a row's id (a positive int, or its digits), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value <= MAX_ID else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= len(str(MAX_ID)):
        return as_id(int(value))
    return None


def _recipient_name(recipient: Any) -> Any:
    return recipient.first_name + " " + recipient.last_name


def _columns(
    kind: str, id_: Any, name: Any = None, at: Any = None, ref: Any = None, other: Any = None
) -> tuple[Any, ...]:
    """One branch's columns, typed alike in every branch (PostgreSQL unions need that of an empty column)."""
    return (
        cast(literal(kind), String).label("kind"),
        id_.label("id"),
        (name if name is not None else cast(literal(""), String)).label("name"),
        (at if at is not None else cast(null(), UTCDateTime)).label("at"),
        (ref if ref is not None else cast(null(), Integer)).label("ref"),
        (other if other is not None else cast(null(), String)).label("other"),
    )


def _select_users(ids: list[int], reader: User) -> Select[Any]:
    return select(*_columns("User", User.id, User.display_name)).where(User.id.in_(ids))


def _select_providers(ids: list[int], reader: User) -> Select[Any]:
    return (
        select(*_columns("ProviderProfile", ProviderProfile.id, User.display_name, ref=User.id))
        .join(User, User.id == ProviderProfile.user_id)
        .where(ProviderProfile.id.in_(ids))
    )


def _select_sessions(ids: list[int], reader: User) -> Select[Any]:
    return (
        select(
            *_columns(
                "RespiteSession",
                RespiteSession.id,
                _recipient_name(CareRecipient),
                RespiteSession.starts_at,
                RespiteSession.recipient_id,
            )
        )
        .join(CareRecipient, CareRecipient.id == RespiteSession.recipient_id)
        .where(RespiteSession.id.in_(ids))
    )


def _select_assignments(ids: list[int], reader: User) -> Select[Any]:
    provider = aliased(User)
    return (
        select(
            *_columns(
                "Assignment",
                Assignment.id,
                _recipient_name(CareRecipient),
                RespiteSession.starts_at,
                Assignment.session_id,
                provider.display_name,
            )
        )
        .join(RespiteSession, RespiteSession.id == Assignment.session_id)
        .join(CareRecipient, CareRecipient.id == RespiteSession.recipient_id)
        .join(ProviderProfile, ProviderProfile.id == Assignment.provider_id)
        .join(provider, provider.id == ProviderProfile.user_id)
        .where(Assignment.id.in_(ids))
    )


def _select_visit_notes(ids: list[int], reader: User) -> Select[Any]:
    return (
        select(
            *_columns(
                "VisitNote",
                VisitNote.id,
                _recipient_name(CareRecipient),
                RespiteSession.starts_at,
                VisitNote.session_id,
            )
        )
        .join(RespiteSession, RespiteSession.id == VisitNote.session_id)
        .join(CareRecipient, CareRecipient.id == RespiteSession.recipient_id)
        .where(VisitNote.id.in_(ids))
    )


def _select_recipients(ids: list[int], reader: User) -> Select[Any]:
    return select(*_columns("CareRecipient", CareRecipient.id, _recipient_name(CareRecipient))).where(
        CareRecipient.id.in_(ids)
    )


def _select_availability(ids: list[int], reader: User) -> Select[Any]:
    return (
        select(*_columns("Availability", Availability.id, User.display_name, ref=User.id))
        .join(ProviderProfile, ProviderProfile.id == Availability.provider_id)
        .join(User, User.id == ProviderProfile.user_id)
        .where(Availability.id.in_(ids))
    )


def _select_conversations(ids: list[int], reader: User) -> Select[Any]:
    # Who takes part is the one thing read: a conversation's subject and messages are its participants' own.
    takes_part = exists().where(Participant.conversation_id == Conversation.id, Participant.user_id == reader.id)
    other = case((takes_part, cast(literal("1"), String)), else_=cast(literal(""), String))
    return select(*_columns("Conversation", Conversation.id, other=other)).where(Conversation.id.in_(ids))


def _select_centers(ids: list[int], reader: User) -> Select[Any]:
    return select(*_columns("Center", Center.id, Center.name)).where(Center.id.in_(ids))


def _select_kiosks(ids: list[int], reader: User) -> Select[Any]:
    return (
        select(*_columns("KioskDevice", KioskDevice.id, KioskDevice.name, ref=Center.id, other=Center.name))
        .join(Center, Center.id == KioskDevice.center_id)
        .where(KioskDevice.id.in_(ids))
    )


SUBJECT_QUERIES: dict[str, Callable[[list[int], User], Select[Any]]] = {
    "User": _select_users,
    "ProviderProfile": _select_providers,
    "RespiteSession": _select_sessions,
    "Assignment": _select_assignments,
    "VisitNote": _select_visit_notes,
    "CareRecipient": _select_recipients,
    "Availability": _select_availability,
    "Conversation": _select_conversations,
    "Center": _select_centers,
    "KioskDevice": _select_kiosks,
}


def load_subjects(keys: Iterable[SubjectKey], reader: User) -> dict[SubjectKey, Subject]:
    """The rows `keys` name that still exist, in one statement (none when there are no keys)."""
    ids: dict[str, set[int]] = {}
    for kind, id_ in keys:
        if kind in SUBJECT_QUERIES:
            ids.setdefault(kind, set()).add(id_)
    if not ids:
        return {}
    branches = [SUBJECT_QUERIES[kind](sorted(found), reader) for kind, found in sorted(ids.items())]
    statement = branches[0] if len(branches) == 1 else union_all(*branches)
    return {
        (row.kind, row.id): Subject(row.kind, row.id, row.name or "", row.at, row.ref, row.other or "")
        for row in db.session.execute(statement)
    }
