"""A keyed audit chain: every row's hash is made again as an HMAC-SHA256 under the app's audit key.

Rows written before this revision were chained by plain SHA-256, which anyone
who can write the table can recompute. This migration first checks that old
chain from end to end and refuses to go on if it is broken (re-chaining a
tampered log under the key would launder it); then it chains every row again
under the key, with the append-only triggers held off inside this
transaction only. The key is the app's (AUDIT_KEY; in development one derived
from SECRET_KEY), so run `flask db upgrade` with the app's AUDIT_KEY set. A
downgrade checks the keyed chain and makes it plain again.

The encoding of a row is frozen here as it was when this revision was
written; respite.audit must keep producing the same bytes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""
import hashlib
import hmac
import json
from datetime import UTC

from alembic import op
import sqlalchemy as sa

from respite.audit import chain_key


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
BATCH = 1000


def upgrade():
    _rechain(old=_plain, new=_keyed(chain_key()))


def downgrade():
    _rechain(old=_keyed(chain_key()), new=_plain)


def _plain(content):
    return hashlib.sha256(content).hexdigest()


def _keyed(key):
    return lambda content: hmac.new(key, content, hashlib.sha256).hexdigest()


def _content(row, prev_hash):
    created_at = row.created_at
    created_at = created_at.replace(tzinfo=UTC) if created_at.tzinfo is None else created_at.astimezone(UTC)
    meta = json.loads(row.meta) if isinstance(row.meta, str) else row.meta
    content = {
        "created_at": created_at.isoformat(timespec="microseconds"),
        "actor_id": row.actor_id,
        "actor_role": row.actor_role,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "summary": row.summary,
        "meta": meta,
        "ip": row.ip,
        "prev_hash": prev_hash,
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


LOG = sa.table(
    'audit_log',
    sa.column('id', sa.Integer), sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('actor_id', sa.Integer), sa.column('actor_role', sa.String), sa.column('action', sa.String),
    sa.column('entity_type', sa.String), sa.column('entity_id', sa.String), sa.column('summary', sa.Text),
    sa.column('meta', sa.JSON), sa.column('ip', sa.String),
    sa.column('prev_hash', sa.String), sa.column('row_hash', sa.String),
)


def _rows(bind):
    last_id = 0
    while True:
        rows = bind.execute(sa.select(LOG).where(LOG.c.id > last_id).order_by(LOG.c.id).limit(BATCH)).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id


def _rechain(old, new):
    bind = op.get_bind()
    # The whole old chain first: nothing changes unless all of it checks out.
    expected, count = GENESIS_HASH, 0
    for row in _rows(bind):
        if row.prev_hash != expected or row.row_hash != old(_content(row, row.prev_hash)):
            raise RuntimeError(
                f"audit_log's chain is broken at row {row.id}: it is left as it is, and so is the schema. "
                "Find out what happened to the log (and restore it from a backup) before upgrading."
            )
        expected, count = row.row_hash, count + 1
    if not count:
        return
    update = (
        sa.update(LOG)
        .where(LOG.c.id == sa.bindparam('row_id'))
        .values(prev_hash=sa.bindparam('new_prev'), row_hash=sa.bindparam('new_hash'))
    )
    _hold_off_append_only_triggers(bind)
    prev, changes = GENESIS_HASH, []
    for row in _rows(bind):
        new_hash = new(_content(row, prev))
        changes.append({"row_id": row.id, "new_prev": prev, "new_hash": new_hash})
        prev = new_hash
        if len(changes) == BATCH:
            bind.execute(update, changes)
            changes = []
    if changes:
        bind.execute(update, changes)
    _restore_append_only_triggers(bind)


def _hold_off_append_only_triggers(bind):
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")


def _restore_append_only_triggers(bind):
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        # As migration 0001 made it.
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )
