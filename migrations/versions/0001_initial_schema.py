"""Initial schema: every table of the domain model.

On PostgreSQL it also adds what only PostgreSQL can enforce: the exclusion
constraint that keeps a provider from holding two overlapping accepted
assignments. On both databases, triggers keep the audit log append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('center',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_center')),
    sa.UniqueConstraint('name', name=op.f('uq_center_name'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IN ('caregiver', 'provider', 'coordinator', 'kiosk')", name=op.f('ck_user_account_role')),
    sa.ForeignKeyConstraint(['center_id'], ['center.id'], name=op.f('fk_user_account_center_id_center'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_center_id'), ['center_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_account_role'), ['role'], unique=False)

    op.create_table('audit_log',
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
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_audit_log_actor_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('row_hash', name=op.f('uq_audit_log_row_hash'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_log_actor_created_at', ['actor_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_log_entity', ['entity_type', 'entity_id'], unique=False)

    op.create_table('caregiver_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('caregiver_type', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('annual_allotment_minutes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("caregiver_type IN ('spouse', 'adult_child', 'parent', 'other_family', 'friend', 'other')", name=op.f('ck_caregiver_profile_caregiver_type')),
    sa.CheckConstraint('annual_allotment_minutes >= 0', name=op.f('ck_caregiver_profile_allotment_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_caregiver_profile_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caregiver_profile')),
    sa.UniqueConstraint('user_id', name=op.f('uq_caregiver_profile_user_id'))
    )
    op.create_table('provider_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('skills', sa.Text(), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['center_id'], ['center.id'], name=op.f('fk_provider_profile_center_id_center'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_provider_profile_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_profile')),
    sa.UniqueConstraint('user_id', name=op.f('uq_provider_profile_user_id'))
    )
    with op.batch_alter_table('provider_profile', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_profile_center_id'), ['center_id'], unique=False)

    op.create_table('availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=True),
    sa.Column('start_minute', sa.Integer(), nullable=True),
    sa.Column('end_minute', sa.Integer(), nullable=True),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint("(kind = 'weekly' AND weekday BETWEEN 0 AND 6 AND start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute) OR (kind = 'time_off' AND starts_at IS NOT NULL AND ends_at IS NOT NULL AND starts_at < ends_at)", name=op.f('ck_availability_window')),
    sa.CheckConstraint("kind IN ('weekly', 'time_off')", name=op.f('ck_availability_kind')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider_profile.id'], name=op.f('fk_availability_provider_id_provider_profile'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability'))
    )
    with op.batch_alter_table('availability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_availability_provider_id'), ['provider_id'], unique=False)

    op.create_table('care_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caregiver_id', sa.Integer(), nullable=False),
    sa.Column('first_name', sa.String(length=80), nullable=False),
    sa.Column('last_name', sa.String(length=80), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('needs', sa.Text(), nullable=False),
    sa.Column('medications', sa.Text(), nullable=False),
    sa.Column('allergies', sa.Text(), nullable=False),
    sa.Column('routines', sa.Text(), nullable=False),
    sa.Column('emergency_contacts', sa.Text(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['caregiver_id'], ['caregiver_profile.id'], name=op.f('fk_care_recipient_caregiver_id_caregiver_profile'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_care_recipient'))
    )
    with op.batch_alter_table('care_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_care_recipient_caregiver_id'), ['caregiver_id'], unique=False)

    op.create_table('respite_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caregiver_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=True),
    sa.Column('location_kind', sa.String(length=10), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('request_notes', sa.Text(), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=False),
    sa.Column('kiosk_code', sa.String(length=12), nullable=True),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('series_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("location_kind = 'home' OR center_id IS NOT NULL", name=op.f('ck_respite_session_center_given')),
    sa.CheckConstraint("location_kind IN ('center', 'home')", name=op.f('ck_respite_session_location_kind')),
    sa.CheckConstraint("status IN ('requested', 'confirmed', 'checked_in', 'completed', 'cancelled', 'declined', 'no_show')", name=op.f('ck_respite_session_status')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_respite_session_starts_before_ends')),
    sa.ForeignKeyConstraint(['caregiver_id'], ['caregiver_profile.id'], name=op.f('fk_respite_session_caregiver_id_caregiver_profile'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['center_id'], ['center.id'], name=op.f('fk_respite_session_center_id_center'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recipient_id'], ['care_recipient.id'], name=op.f('fk_respite_session_recipient_id_care_recipient'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_respite_session')),
    sa.UniqueConstraint('kiosk_code', name=op.f('uq_respite_session_kiosk_code'))
    )
    with op.batch_alter_table('respite_session', schema=None) as batch_op:
        batch_op.create_index('ix_respite_session_caregiver_starts_at', ['caregiver_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_respite_session_center_starts_at', ['center_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_respite_session_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_respite_session_series_id'), ['series_id'], unique=False)
        batch_op.create_index('ix_respite_session_status_starts_at', ['status', 'starts_at'], unique=False)

    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('offered', 'accepted', 'declined', 'cancelled')", name=op.f('ck_assignment_status')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_assignment_starts_before_ends')),
    sa.ForeignKeyConstraint(['provider_id'], ['provider_profile.id'], name=op.f('fk_assignment_provider_id_provider_profile'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['respite_session.id'], name=op.f('fk_assignment_session_id_respite_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment')),
    sa.UniqueConstraint('session_id', 'provider_id', name='uq_assignment_session_provider')
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_provider_starts_at', ['provider_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_session_id'), ['session_id'], unique=False)

    op.create_table('conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['respite_session.id'], name=op.f('fk_conversation_session_id_respite_session'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation'))
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_last_message_at'), ['last_message_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_session_id'), ['session_id'], unique=False)

    op.create_table('visit_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_visit_note_author_id_user_account'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['session_id'], ['respite_session.id'], name=op.f('fk_visit_note_session_id_respite_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_note'))
    )
    with op.batch_alter_table('visit_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_note_session_id'), ['session_id'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_message_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sender_id'], ['user_account.id'], name=op.f('fk_message_sender_id_user_account'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_conversation_id_id', ['conversation_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_created_at'), ['created_at'], unique=False)

    op.create_table('participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_read_message_id', sa.Integer(), nullable=True),
    sa.Column('last_read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_participant_conversation_id_conversation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_participant_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participant')),
    sa.UniqueConstraint('conversation_id', 'user_id', name='uq_participant_conversation_user')
    )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participant_user_id'), ['user_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('storage_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('size_bytes >= 0', name=op.f('ck_attachment_size_not_negative')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_attachment_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_attachment_storage_key'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_message_id'), ['message_id'], unique=False)

    _add_database_rules()


def downgrade():
    _drop_database_rules()
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_message_id'))

    op.drop_table('attachment')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_user_id'))

    op.drop_table('participant')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_created_at'))
        batch_op.drop_index('ix_message_conversation_id_id')

    op.drop_table('message')
    with op.batch_alter_table('visit_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_note_session_id'))

    op.drop_table('visit_note')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_session_id'))
        batch_op.drop_index(batch_op.f('ix_conversation_last_message_at'))

    op.drop_table('conversation')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_session_id'))
        batch_op.drop_index('ix_assignment_provider_starts_at')

    op.drop_table('assignment')
    with op.batch_alter_table('respite_session', schema=None) as batch_op:
        batch_op.drop_index('ix_respite_session_status_starts_at')
        batch_op.drop_index(batch_op.f('ix_respite_session_series_id'))
        batch_op.drop_index(batch_op.f('ix_respite_session_recipient_id'))
        batch_op.drop_index('ix_respite_session_center_starts_at')
        batch_op.drop_index('ix_respite_session_caregiver_starts_at')

    op.drop_table('respite_session')
    with op.batch_alter_table('care_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_care_recipient_caregiver_id'))

    op.drop_table('care_recipient')
    with op.batch_alter_table('availability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_availability_provider_id'))

    op.drop_table('availability')
    with op.batch_alter_table('provider_profile', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_profile_center_id'))

    op.drop_table('provider_profile')
    op.drop_table('caregiver_profile')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_entity')
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))
        batch_op.drop_index('ix_audit_log_actor_created_at')
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_role'))
        batch_op.drop_index(batch_op.f('ix_user_account_center_id'))

    op.drop_table('user_account')
    op.drop_table('center')


def _add_database_rules():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE assignment ADD CONSTRAINT ex_assignment_provider_no_overlap "
            "EXCLUDE USING gist (provider_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            "WHERE (status = 'accepted')"
        )
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )


def _drop_database_rules():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
        op.execute("ALTER TABLE assignment DROP CONSTRAINT IF EXISTS ex_assignment_provider_no_overlap")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
