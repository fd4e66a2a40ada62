"""Care cards in versions, acknowledgements, request keys, calendar feeds, one active session per person at a time,
a session generation per user (bumping it ends every sign-in of that user), and on PostgreSQL
a trigger that refuses TRUNCATE on the audit log.

The care card fields move from care_recipient into the first version of each
recipient's card (nothing is lost; a downgrade moves them back). On
PostgreSQL, an exclusion constraint keeps a care recipient from having two
overlapping active sessions; SQLite checks the same inside an immediate
transaction (respite.scheduling.services).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
import json

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

OLD_CARD_COLUMNS = ("needs", "medications", "allergies", "routines", "emergency_contacts")
ACTIVE = "('requested', 'confirmed', 'checked_in')"


def upgrade():
    op.create_table('care_card_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_care_card_version_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_id'], ['care_recipient.id'], name=op.f('fk_care_card_version_recipient_id_care_recipient'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_card_version')),
    sa.UniqueConstraint('recipient_id', 'number', name='uq_care_card_version_recipient_number')
    )
    op.create_table('care_card_acknowledgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_version_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_version_id'], ['care_card_version.id'], name=op.f('fk_care_card_acknowledgement_card_version_id_care_card_version'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['provider_id'], ['provider_profile.id'], name=op.f('fk_care_card_acknowledgement_provider_id_provider_profile'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['respite_session.id'], name=op.f('fk_care_card_acknowledgement_session_id_respite_session'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_card_acknowledgement')),
    sa.UniqueConstraint('card_version_id', 'provider_id', name='uq_care_card_acknowledgement_version_provider')
    )
    op.create_index('ix_care_card_acknowledgement_provider_id', 'care_card_acknowledgement', ['provider_id'], unique=False)

    op.add_column('care_recipient', sa.Column('card_number', sa.Integer(), nullable=False, server_default='0'))
    _move_cards_into_versions()
    for column in OLD_CARD_COLUMNS:
        _drop_column('care_recipient', column)

    op.add_column('respite_session', sa.Column('request_key', sa.String(length=36), nullable=True))
    op.create_index('uq_respite_session_request_key_starts_at', 'respite_session', ['request_key', 'starts_at'], unique=True)
    op.add_column('user_account', sa.Column('calendar_token_hash', sa.String(length=64), nullable=True))
    op.add_column('user_account', sa.Column('session_generation', sa.Integer(), nullable=False, server_default='0'))
    op.create_index(op.f('ix_user_account_calendar_token_hash'), 'user_account', ['calendar_token_hash'], unique=True)

    if op.get_bind().dialect.name == "postgresql":
        # TRUNCATE skips row triggers: refuse it with a statement trigger of its own.
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "ALTER TABLE respite_session ADD CONSTRAINT ex_respite_session_recipient_no_overlap "
            "EXCLUDE USING gist (recipient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE (status IN {ACTIVE})"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE respite_session DROP CONSTRAINT IF EXISTS ex_respite_session_recipient_no_overlap")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
    _drop_column('user_account', 'session_generation')
    op.drop_index(op.f('ix_user_account_calendar_token_hash'), table_name='user_account')
    _drop_column('user_account', 'calendar_token_hash')
    op.drop_index('uq_respite_session_request_key_starts_at', table_name='respite_session')
    _drop_column('respite_session', 'request_key')

    for column in OLD_CARD_COLUMNS:
        op.add_column('care_recipient', sa.Column(column, sa.Text(), nullable=False, server_default=''))
    _move_cards_back()
    _drop_column('care_recipient', 'card_number')

    op.drop_index('ix_care_card_acknowledgement_provider_id', table_name='care_card_acknowledgement')
    op.drop_table('care_card_acknowledgement')
    op.drop_table('care_card_version')


def _drop_column(table, column):
    # SQLite (3.35 and later) drops a plain column in place; Alembic would rebuild
    # the table, which foreign keys pointing at it forbid inside a transaction.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)


def _move_cards_into_versions():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, needs, medications, allergies, routines, emergency_contacts, created_at FROM care_recipient"
    )).all()
    versions = sa.table(
        'care_card_version',
        sa.column('recipient_id', sa.Integer), sa.column('number', sa.Integer),
        sa.column('content', sa.JSON), sa.column('created_at', sa.DateTime(timezone=True)),
    )
    for row in rows:
        if not any((row.needs, row.medications, row.allergies, row.routines, row.emergency_contacts)):
            continue
        content = {
            "needs": row.needs or "",
            "allergies": row.allergies or "",
            "routines": row.routines or "",
            "medications": [{"name": row.medications, "dose": "", "times": ""}] if row.medications else [],
            "emergency_contacts": (
                [{"name": row.emergency_contacts, "relationship": "", "phone": ""}] if row.emergency_contacts else []
            ),
        }
        bind.execute(versions.insert().values(recipient_id=row.id, number=1, content=content, created_at=row.created_at))
        bind.execute(sa.text("UPDATE care_recipient SET card_number = 1 WHERE id = :id"), {"id": row.id})


def _move_cards_back():
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT r.id, v.content FROM care_recipient r JOIN care_card_version v "
        "ON v.recipient_id = r.id AND v.number = r.card_number"
    )).all()
    for recipient_id, content in rows:
        content = json.loads(content) if isinstance(content, str) else content
        values = {
            "needs": content.get("needs", ""),
            "allergies": content.get("allergies", ""),
            "routines": content.get("routines", ""),
            "medications": "; ".join(
                " ".join(filter(None, (m.get("name"), m.get("dose"), m.get("times")))) for m in content.get("medications", [])
            ),
            "emergency_contacts": "; ".join(
                " ".join(filter(None, (c.get("name"), c.get("relationship"), c.get("phone"))))
                for c in content.get("emergency_contacts", [])
            ),
        }
        bind.execute(
            sa.text(
                "UPDATE care_recipient SET needs = :needs, medications = :medications, allergies = :allergies, "
                "routines = :routines, emergency_contacts = :emergency_contacts WHERE id = :id"
            ),
            {**values, "id": recipient_id},
        )
