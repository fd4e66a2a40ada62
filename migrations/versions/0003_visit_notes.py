"""Visit notes in three parts (what went well, concerns, medication given), one note per session.

The old free-text body becomes "what went well" (a downgrade puts the three
parts back together into it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('visit_note', schema=None) as batch_op:
        batch_op.add_column(sa.Column('went_well', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('concerns', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('medication_given', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE visit_note SET went_well = body, updated_at = created_at")
    # Keep the newest note of a session where there were several.
    op.execute(
        "DELETE FROM visit_note WHERE id NOT IN (SELECT max(id) FROM visit_note GROUP BY session_id)"
    )
    with op.batch_alter_table('visit_note', schema=None) as batch_op:
        batch_op.alter_column('went_well', server_default=None)
        batch_op.alter_column('concerns', server_default=None)
        batch_op.alter_column('medication_given', server_default=None)
        batch_op.alter_column('updated_at', nullable=False)
        batch_op.drop_column('body')
        batch_op.drop_index('ix_visit_note_session_id')
        batch_op.create_index('uq_visit_note_session_id', ['session_id'], unique=True)


def downgrade():
    with op.batch_alter_table('visit_note', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body', sa.Text(), nullable=False, server_default=''))
    op.execute(
        "UPDATE visit_note SET body = went_well"
        " || CASE WHEN concerns <> '' THEN ' Concerns: ' || concerns ELSE '' END"
        " || CASE WHEN medication_given <> '' THEN ' Medication given: ' || medication_given ELSE '' END"
    )
    with op.batch_alter_table('visit_note', schema=None) as batch_op:
        batch_op.alter_column('body', server_default=None)
        batch_op.drop_index('uq_visit_note_session_id')
        batch_op.create_index('ix_visit_note_session_id', ['session_id'], unique=False)
        batch_op.drop_column('updated_at')
        batch_op.drop_column('medication_given')
        batch_op.drop_column('concerns')
        batch_op.drop_column('went_well')
