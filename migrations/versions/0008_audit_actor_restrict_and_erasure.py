"""A user the audit log names can't be deleted (its actor key refuses with ON DELETE RESTRICT), and erased accounts.

The audit log's actor key was ON DELETE SET NULL: deleting a user who had
acted meant rewriting their audit rows, which the append-only triggers
refuse, so the delete failed with the trigger's error, after the fact. Now
the key itself refuses (a foreign key violation, at once): users are
deactivated, and their personal details erased on request, never deleted.
`user_account.erased_at` says when an account's details were erased.

PostgreSQL changes the key in place. SQLite can't alter a foreign key: the
table is rebuilt (rows, ids and hashes copied as they are) and its
append-only triggers, which go with the old table, are made again as
migration 0001 made them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ACTOR_KEY = 'fk_audit_log_actor_id_user_account'


def upgrade():
    op.add_column('user_account', sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
    _actor_key(old='SET NULL', new='RESTRICT')


def downgrade():
    _actor_key(old='RESTRICT', new='SET NULL')
    if op.get_bind().dialect.name == "sqlite":
        # SQLite (3.35 and later) drops a plain column in place; Alembic would rebuild
        # the table, which foreign keys pointing at it forbid inside a transaction.
        op.execute("ALTER TABLE user_account DROP COLUMN erased_at")
    else:
        op.drop_column('user_account', 'erased_at')


def _actor_key(old, new):
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(ACTOR_KEY, 'audit_log', type_='foreignkey')
        op.create_foreign_key(ACTOR_KEY, 'audit_log', 'user_account', ['actor_id'], ['id'], ondelete=new)
        return
    # Nothing points at audit_log, so SQLite may drop and rename it inside this transaction.
    with op.batch_alter_table('audit_log', copy_from=_audit_log(old), recreate='always') as batch_op:
        batch_op.drop_constraint(ACTOR_KEY, type_='foreignkey')
        batch_op.create_foreign_key(ACTOR_KEY, 'user_account', ['actor_id'], ['id'], ondelete=new)
    # The old table's triggers went with it.
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


def _audit_log(actor_ondelete):
    """audit_log as migrations 0001 to 0007 left it, with the actor key's ON DELETE as given."""
    return sa.Table(
        'audit_log',
        sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_role', sa.String(length=20), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('entity_type', sa.String(length=40), nullable=False),
        sa.Column('entity_id', sa.String(length=40), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('meta', sa.JSON(), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=False),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('row_hash', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=ACTOR_KEY, ondelete=actor_ondelete),
        sa.PrimaryKeyConstraint('id', name='pk_audit_log'),
        sa.UniqueConstraint('row_hash', name='uq_audit_log_row_hash'),
        sa.Index('ix_audit_log_action', 'action'),
        sa.Index('ix_audit_log_actor_created_at', 'actor_id', 'created_at'),
        sa.Index('ix_audit_log_created_at', 'created_at'),
        sa.Index('ix_audit_log_entity', 'entity_type', 'entity_id'),
    )
