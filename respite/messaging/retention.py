"""The retention policy: messages older than MESSAGE_RETENTION_DAYS lose their text and files.

A purged message keeps its place in the thread (who sent it, when) so the
conversation still reads in order, and the thread says it was removed under
the policy. Its attachments' rows stay, marked purged and nameless; their
files are deleted once the batch commits. Purging is idempotent: a purged
message is never counted again. Nothing here commits: the command commits
after each batch (`after_batch`), and one audit row covers the whole run.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, exists, func, or_, select, update

from .. import audit, realtime
from ..extensions import db
from ..models import Attachment, Message, Participant, utcnow
from . import attachments

BATCH_SIZE = 200


@dataclass
class PurgeCounts:
    messages: int = 0
    files: int = 0
    bytes: int = 0
    conversations: set[int] = field(default_factory=set)

    def add(self, other: "PurgeCounts") -> None:
        self.messages += other.messages
        self.files += other.files
        self.bytes += other.bytes
        self.conversations |= other.conversations


def retention_cutoff(now: datetime | None = None) -> datetime:
    """The moment before which messages are purged: MESSAGE_RETENTION_DAYS ago."""
    return (now or utcnow()) - timedelta(days=int(current_app.config["MESSAGE_RETENTION_DAYS"]))


def _due(older_than: datetime) -> ColumnElement[bool]:
    """SQL: messages older than the cutoff with text or files still to remove."""
    unpurged_file = exists().where(Attachment.message_id == Message.id, Attachment.purged_at.is_(None))
    return (Message.created_at < older_than) & or_(Message.purged_at.is_(None), unpurged_file)


def pending(older_than: datetime) -> PurgeCounts:
    """What a purge would remove now (two statements, whatever the numbers)."""
    messages = db.session.scalar(select(func.count(Message.id)).where(_due(older_than))) or 0
    files, size = db.session.execute(
        select(func.count(Attachment.id), func.coalesce(func.sum(Attachment.size_bytes), 0))
        .join(Message, Attachment.message_id == Message.id)
        .where(Message.created_at < older_than, Attachment.purged_at.is_(None))
    ).one()
    return PurgeCounts(messages=int(messages), files=int(files), bytes=int(size))


def purge_batch(older_than: datetime, *, limit: int = BATCH_SIZE) -> PurgeCounts:
    """Purge up to `limit` of the oldest due messages: text gone, attachments marked and their files queued
    for deletion after the commit; the open threads of their participants re-fetch themselves."""
    ids = list(db.session.scalars(select(Message.id).where(_due(older_than)).order_by(Message.id).limit(limit)))
    if not ids:
        return PurgeCounts()
    now = utcnow()
    files = db.session.execute(
        select(Attachment.id, Attachment.storage_key, Attachment.size_bytes).where(
            Attachment.message_id.in_(ids), Attachment.purged_at.is_(None)
        )
    ).all()
    conversations = set(db.session.scalars(select(Message.conversation_id).where(Message.id.in_(ids)).distinct()).all())
    db.session.execute(
        update(Message)
        .where(Message.id.in_(ids), Message.purged_at.is_(None))
        .values(body=None, purged_at=now)
        .execution_options(synchronize_session="fetch")
    )
    if files:
        db.session.execute(
            update(Attachment)
            .where(Attachment.id.in_([row.id for row in files]))
            .values(purged_at=now, filename="", sha256="")
            .execution_options(synchronize_session="fetch")
        )
        attachments.remove_after_commit([row.storage_key for row in files])
    readers = db.session.execute(
        select(Participant.conversation_id, Participant.user_id).where(Participant.conversation_id.in_(conversations))
    ).all()
    for conversation_id in conversations:
        realtime.publish_after_commit(
            realtime.EventType.MESSAGE,
            user_ids=[user_id for cid, user_id in readers if cid == conversation_id],
            conversation_id=conversation_id,
        )
    db.session.flush()
    return PurgeCounts(
        messages=len(ids), files=len(files), bytes=sum(row.size_bytes for row in files), conversations=conversations
    )


def purge_messages(
    older_than: datetime,
    *,
    dry_run: bool,
    batch_size: int = BATCH_SIZE,
    after_batch: Callable[[PurgeCounts], None] | None = None,
) -> PurgeCounts:
    """Purge every message older than `older_than`, in batches (`after_batch` runs after each: the command
    commits there and moves its progress bar), then write one audit row with the run's counts.
    A dry run only counts, and changes nothing."""
    if dry_run:
        return pending(older_than)
    total = PurgeCounts()
    while (batch := purge_batch(older_than, limit=batch_size)).messages:
        total.add(batch)
        if after_batch is not None:
            after_batch(batch)
    audit.record(
        "message.purge",
        None,
        summary=(
            f"Retention policy: {total.messages} message(s) and {total.files} file(s) "
            f"older than {older_than:%Y-%m-%d} removed"
        ),
        meta={
            "older_than": older_than.isoformat(),
            "messages": total.messages,
            "files": total.files,
            "bytes": total.bytes,
            "conversations": len(total.conversations),
        },
        entity_type="Message",
    )
    db.session.flush()
    return total
