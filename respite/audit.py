"""The audit trail: one helper that records what happened, in the caller's transaction.

`record()` adds an AuditLog row to the current database session and never
commits: the row exists exactly when the change it describes does. Rows are
chained: each row's hash covers its content and the previous row's hash, so
`flask audit verify` can tell when a row was altered or removed.
"""

import hashlib
import json
from typing import Any, Protocol

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import Row, select, text

from .extensions import db
from .models import AuditLog, User, utcnow

GENESIS_HASH = "0" * 64
# Any constant will do: it names the lock that serialises audit appends on PostgreSQL.
_CHAIN_LOCK_KEY = 0x5E5917E


class _Entity(Protocol):
    """Any model instance: what the log keeps of it is its class name and id."""

    @property
    def id(self) -> int: ...


def record(
    action: str,
    entity: _Entity | None = None,
    *,
    summary: str = "",
    meta: dict[str, Any] | None = None,
    actor: User | None = None,
    entity_type: str | None = None,
    entity_id: int | str | None = None,
) -> AuditLog:
    """Add an audit row for `action` to the current transaction and return it.

    `actor` defaults to the signed-in user; `entity` is any model instance
    (its class name and id are stored) or None.
    """
    if actor is None and has_request_context() and current_user and current_user.is_authenticated:
        actor = current_user._get_current_object()
    if entity is not None:
        db.session.flush()  # so a new entity has its id
        entity_type = entity_type or type(entity).__name__
        entity_id = entity_id if entity_id is not None else entity.id
    row = AuditLog(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else "",
        action=action,
        entity_type=entity_type or "",
        entity_id="" if entity_id is None else str(entity_id),
        summary=summary[:2000],
        meta=meta or {},
        ip=_client_ip(),
    )
    _lock_chain()
    row.prev_hash = _latest_hash()
    row.row_hash = row_hash(row)
    db.session.add(row)
    db.session.flush()
    return row


def row_hash(row: AuditLog | Row[Any]) -> str:
    """The SHA-256 of a row's content and its predecessor's hash."""
    content = {
        "created_at": row.created_at.isoformat(timespec="microseconds"),
        "actor_id": row.actor_id,
        "actor_role": row.actor_role,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "summary": row.summary,
        "meta": row.meta,
        "ip": row.ip,
        "prev_hash": row.prev_hash,
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def verify_chain(batch_size: int = 1000) -> tuple[int, int | None]:
    """Walk the log in order; return (rows checked, id of the first bad row or None)."""
    # Plain rows, not AuditLog objects: what is stored is checked, never a copy
    # the session already holds, and the caller's session is left as it was.
    log = AuditLog.__table__
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    while True:
        rows = db.session.execute(select(log).where(log.c.id > last_id).order_by(log.c.id).limit(batch_size)).all()
        if not rows:
            return checked, None
        for row in rows:
            if row.prev_hash != expected_prev or row.row_hash != row_hash(row):
                return checked, row.id
            expected_prev = row.row_hash
            checked += 1
            last_id = row.id


def _latest_hash() -> str:
    latest = db.session.scalar(select(AuditLog.row_hash).order_by(AuditLog.id.desc()).limit(1))
    return latest or GENESIS_HASH


def _lock_chain() -> None:
    # Two transactions appending at once would both chain to the same row; on
    # PostgreSQL a transaction-scoped advisory lock makes them take turns.
    # SQLite allows one writer at a time, so there is nothing to do there.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


def _client_ip() -> str:
    if not has_request_context():
        return ""
    return (request.remote_addr or "")[:45]
