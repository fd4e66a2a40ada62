"""The audit trail: one helper that records what happened, in the caller's transaction.

`record()` adds an AuditLog row to the current database session and never
commits: the row exists exactly when the change it describes does.

Rows are chained by a keyed hash: each row's HMAC-SHA256 covers its content
and the previous row's hash, under a key from the configuration (AUDIT_KEY)
that never enters the database. Whoever can write the table but lacks the key
can neither alter a row nor recompute the whole chain. Checkpoints (the newest
row's id and hash, with the time) are kept outside the database: appended to
a file and printed to the log, by `flask audit checkpoint` and, every
AUDIT_CHECKPOINT_MINUTES, after a commit that added rows. `verify()` walks the
chain and checks it still passes through every checkpoint, so rows cut from
its end are noticed too; `flask audit verify` runs it.

On PostgreSQL the app connects as a role that may only INSERT and SELECT the
table (`grant_app_role()`, `flask audit app-role`); triggers refuse UPDATE,
DELETE and TRUNCATE even to its owner, unless the owner disables them, which
is what the key and the checkpoints are for.
"""

import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from flask import current_app, has_app_context, has_request_context, request
from flask_login import current_user
from sqlalchemy import Row, event, select, text
from sqlalchemy.orm import Session

from .extensions import db
from .models import AuditLog, User, utcnow

GENESIS_HASH = "0" * 64
# Any constant will do: it names the lock that serialises audit appends on PostgreSQL.
_CHAIN_LOCK_KEY = 0x5E5917E
# Without AUDIT_KEY (development, tests) the key is derived from SECRET_KEY under this label,
# so that it is never SECRET_KEY itself.
_DERIVED_KEY_LABEL = b"respite audit chain key"
# The newest row this transaction added, for the checkpoint written after it commits.
_NEWEST_ROW = "respite.audit_newest_row"
_CHECKPOINT_CLOCK = "respite.audit_checkpoint_clock"
_CHECKPOINT_LINE = re.compile(r"audit checkpoint: row=(\d+) hash=([0-9a-f]{64}) at=(\S+)")

logger = logging.getLogger(__name__)


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
    actor_role: str | None = None,
    entity_type: str | None = None,
    entity_id: int | str | None = None,
) -> AuditLog:
    """Add an audit row for `action` to the current transaction and return it.

    `actor` defaults to the signed-in user; `entity` is any model instance
    (its class name and id are stored) or None. `actor_role` alone says that
    no person acted but something of that role did (a kiosk tablet, which
    names itself in `meta`): the signed-in user, if any, is then not assumed.
    """
    if (
        actor is None
        and actor_role is None
        and has_request_context()
        and current_user
        and current_user.is_authenticated
    ):
        actor = current_user._get_current_object()
    if entity is not None:
        db.session.flush()  # so a new entity has its id
        entity_type = entity_type or type(entity).__name__
        entity_id = entity_id if entity_id is not None else entity.id
    row = AuditLog(
        created_at=utcnow(),
        actor_id=actor.id if actor is not None else None,
        actor_role=actor.role if actor is not None else (actor_role or ""),
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
    db.session.info[_NEWEST_ROW] = (row.id, row.row_hash)
    return row


def chain_key() -> bytes:
    """The chain's HMAC key: AUDIT_KEY or, outside production (where it is required), one derived from SECRET_KEY."""
    configured = current_app.config.get("AUDIT_KEY")
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    secret = current_app.config["SECRET_KEY"]
    secret = secret.encode() if isinstance(secret, str) else bytes(secret)
    return hmac.new(secret, _DERIVED_KEY_LABEL, hashlib.sha256).digest()


def row_content(row: Any) -> bytes:
    """What a row's hash covers, encoded one way only: its content and its predecessor's hash."""
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
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def row_hash(row: AuditLog | Row[Any], key: bytes | None = None) -> str:
    """The HMAC-SHA256, under the chain's key, of a row's content and its predecessor's hash."""
    return hmac.new(key if key is not None else chain_key(), row_content(row), hashlib.sha256).hexdigest()


# --- Checkpoints, kept outside the database ------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """The newest row's id and hash at a moment: the chain must still pass through it later."""

    row_id: int
    row_hash: str
    taken_at: datetime

    def line(self) -> str:
        """One line of the checkpoint file, and of the log (so a log copy can serve as the file)."""
        taken_at = self.taken_at.isoformat(timespec="seconds")
        return f"audit checkpoint: row={self.row_id} hash={self.row_hash} at={taken_at}"

    @classmethod
    def from_line(cls, line: str) -> "Checkpoint | None":
        """The checkpoint a line holds (anywhere in it, a log line's prefix allowed), or None."""
        match = _CHECKPOINT_LINE.search(line)
        if match is None:
            return None
        try:
            taken_at = datetime.fromisoformat(match.group(3))
        except ValueError:
            return None
        return cls(int(match.group(1)), match.group(2), taken_at)


def checkpoint_file() -> Path:
    """AUDIT_CHECKPOINT_FILE, or `audit-checkpoints.log` in the instance folder."""
    configured = current_app.config.get("AUDIT_CHECKPOINT_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-checkpoints.log"


def read_checkpoints(path: Path | None = None) -> list[Checkpoint]:
    """Every checkpoint in the file, in the file's order; none when it doesn't exist."""
    path = path or checkpoint_file()
    try:
        with path.open(encoding="utf-8") as file:
            return [checkpoint for line in file if (checkpoint := Checkpoint.from_line(line)) is not None]
    except FileNotFoundError:
        return []


def latest_checkpoint(path: Path | None = None, tail_bytes: int = 64 * 1024) -> Checkpoint | None:
    """The checkpoint of the highest row among the file's last lines (only its end is read, however long it
    grows); None when there is none, or the file can't be read."""
    path = path or checkpoint_file()
    try:
        with path.open("rb") as file:
            file.seek(max(0, file.seek(0, os.SEEK_END) - tail_bytes))
            tail = file.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    # A line cut where the tail begins has lost its "audit checkpoint: row=" and doesn't match.
    found = [checkpoint for line in tail.splitlines() if (checkpoint := Checkpoint.from_line(line)) is not None]
    return max(found, key=lambda checkpoint: checkpoint.row_id, default=None)


def newest_row() -> Checkpoint | None:
    """A checkpoint of the log's newest row, taken now; None when the log is empty."""
    newest = db.session.execute(select(AuditLog.id, AuditLog.row_hash).order_by(AuditLog.id.desc()).limit(1)).first()
    return Checkpoint(newest.id, newest.row_hash, utcnow()) if newest is not None else None


def write_checkpoint(checkpoint: Checkpoint, path: Path | None = None) -> None:
    """Append the checkpoint to the file (whole lines, one writer at a time) and to the log."""
    path = path or checkpoint_file()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(descriptor, "a", encoding="utf-8") as file:
        fcntl.flock(file, fcntl.LOCK_EX)  # released when the file closes
        file.write(checkpoint.line() + "\n")
        file.flush()
        os.fsync(file.fileno())
    logger.info(checkpoint.line())


class _CheckpointClock:
    """When this process last wrote a checkpoint after a commit."""

    def __init__(self) -> None:
        self.last: float | None = None

    def due(self, minutes: float) -> bool:
        now = time.monotonic()
        if self.last is not None and now - self.last < minutes * 60:
            return False
        self.last = now
        return True


@event.listens_for(Session, "after_commit")
def _checkpoint_after_commit(session: Session) -> None:
    # Cheap on every commit: a dict lookup, and a clock reading when the commit added audit rows.
    newest: tuple[int, str] | None = session.info.pop(_NEWEST_ROW, None)
    if newest is None or not has_app_context():
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    minutes = app.config.get("AUDIT_CHECKPOINT_MINUTES")
    if not minutes or not app.extensions.setdefault(_CHECKPOINT_CLOCK, _CheckpointClock()).due(minutes):
        return
    try:
        write_checkpoint(Checkpoint(newest[0], newest[1], utcnow()))
    except OSError as error:
        # The rows are committed; a missing checkpoint must not turn that into a failed request.
        logger.error("Audit checkpoint not written to %s: %s", checkpoint_file(), error)


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget_newest_row(session: Session, *args: object) -> None:
    session.info.pop(_NEWEST_ROW, None)


# --- Verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """What `verify()` found: the rows that checked out, and the first problem, if any."""

    rows: int
    broken_at: int | None = None  # the first row whose hash or link to its predecessor is wrong
    checkpoints: int = 0  # the checkpoints the chain passed through, unchanged
    failed_checkpoint: Checkpoint | None = None  # one whose row is gone or has changed
    row_missing: bool = False  # the failed checkpoint's row is gone (rows were cut), not changed

    @property
    def intact(self) -> bool:
        return self.broken_at is None and self.failed_checkpoint is None


def verify(
    checkpoints: Iterable[Checkpoint] = (), *, since: Checkpoint | None = None, batch_size: int = 1000
) -> Verification:
    """Walk the log in order, checking each row's keyed hash and link, and that it passes through every checkpoint.

    With `since` (a checkpoint), the walk starts at that checkpoint's row, which must still hold its hash:
    a cheap check of what was added since. Checkpoints older than `since` are then left out.
    """
    # Plain rows, not AuditLog objects: what is stored is checked, never a copy
    # the session already holds, and the caller's session is left as it was.
    log = AuditLog.__table__
    key = chain_key()
    expected_prev, last_id = GENESIS_HASH, 0
    if since is not None:
        stored = db.session.execute(select(log.c.row_hash).where(log.c.id == since.row_id)).scalar()
        if stored != since.row_hash:
            return Verification(0, failed_checkpoint=since, row_missing=stored is None)
        expected_prev, last_id = since.row_hash, since.row_id
    pending: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        if checkpoint.row_id > last_id:
            pending.setdefault(checkpoint.row_id, []).append(checkpoint)
    checked = matched = 0
    while True:
        rows = db.session.execute(select(log).where(log.c.id > last_id).order_by(log.c.id).limit(batch_size)).all()
        if not rows:
            break
        for row in rows:
            if row.prev_hash != expected_prev or not hmac.compare_digest(row.row_hash, row_hash(row, key)):
                return Verification(checked, broken_at=row.id, checkpoints=matched)
            for checkpoint in pending.pop(row.id, ()):
                if checkpoint.row_hash != row.row_hash:
                    return Verification(checked, checkpoints=matched, failed_checkpoint=checkpoint)
                matched += 1
            expected_prev = row.row_hash
            checked += 1
            last_id = row.id
    if pending:
        # The chain ended before reaching these rows: they were cut from its end.
        return Verification(checked, checkpoints=matched, failed_checkpoint=pending[min(pending)][0], row_missing=True)
    return Verification(checked, checkpoints=matched)


def verify_chain(batch_size: int = 1000) -> tuple[int, int | None]:
    """Walk the log in order; return (rows checked, id of the first bad row or None). No checkpoints."""
    result = verify(batch_size=batch_size)
    return result.rows, result.broken_at


def may_rewrite_the_log() -> bool:
    """Whether this connection could change or empty the log: it owns it, or may UPDATE, DELETE or TRUNCATE it.

    PostgreSQL only (SQLite has no roles): the app should connect as a role made by `grant_app_role()`.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    return bool(
        db.session.scalar(
            text(
                "SELECT has_table_privilege(current_user, 'audit_log', 'UPDATE, DELETE, TRUNCATE, TRIGGER') "
                "OR pg_has_role(current_user, relowner, 'MEMBER') FROM pg_class WHERE oid = 'audit_log'::regclass"
            )
        )
    )


# --- The role the app connects as (PostgreSQL) -----------------------------------------------


class AppRoleError(Exception):
    """The app's role can't be set up as asked; the message says why."""


def grant_app_role(role: str) -> bool:
    """Let `role` use the app's tables, and only INSERT into and SELECT from the audit log.

    Run it as the owner of the tables (the role migrations run as), on PostgreSQL; again after each upgrade
    (it is idempotent). The role is created (LOGIN, no password) when it doesn't exist. Tables the owner
    creates later are granted to it by default; the audit log never gets more than INSERT and SELECT.
    Returns whether the role was created.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        raise AppRoleError("Database roles need PostgreSQL; with SQLite there is one user, the file's owner.")
    if connection.scalar(text("SELECT to_regclass('audit_log')")) is None:
        raise AppRoleError("There is no audit_log table here: run `flask db upgrade` first.")
    quote = connection.dialect.identifier_preparer.quote_identifier
    name = quote(role)
    existing = connection.execute(
        text(
            "SELECT r.rolsuper, r.rolname = current_user AS is_me, "
            "pg_has_role(r.oid, c.relowner, 'MEMBER') AS owns "
            "FROM pg_roles r, pg_class c WHERE r.rolname = :role AND c.oid = 'audit_log'::regclass"
        ),
        {"role": role},
    ).first()
    if existing is not None and (existing.rolsuper or existing.is_me or existing.owns):
        raise AppRoleError(
            f"{role} owns the tables, belongs to their owner's role or is a superuser: "
            "the app needs a role that can't disable the audit log's triggers."
        )
    if existing is None:
        connection.execute(text(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"))
    database = quote(connection.scalar(text("SELECT current_database()")))
    schema = quote(connection.scalar(text("SELECT current_schema()")))
    for statement in (
        f"GRANT CONNECT ON DATABASE {database} TO {name}",
        f"GRANT USAGE ON SCHEMA {schema} TO {name}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {name}",
        # The log: add and read, nothing else (no UPDATE, DELETE, TRUNCATE, TRIGGER or REFERENCES).
        f"REVOKE ALL ON audit_log FROM {name}",
        f"GRANT SELECT, INSERT ON audit_log TO {name}",
    ):
        connection.execute(text(statement))
    if connection.scalar(text("SELECT to_regclass('alembic_version')")) is not None:
        # Which migration the schema is at is the owner's business.
        connection.execute(text(f"REVOKE ALL ON alembic_version FROM {name}"))
        connection.execute(text(f"GRANT SELECT ON alembic_version TO {name}"))
    return existing is None


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
