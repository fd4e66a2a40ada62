"""Single-use links sent by email: confirming a sign-up, resetting a password.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('email_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("purpose IN ('sign_up', 'reset')", name=op.f('ck_email_link_purpose')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_email_link_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_email_link_token_hash'))
    )
    with op.batch_alter_table('email_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_link_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_email_link_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('email_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_link_user_id'))
        batch_op.drop_index(batch_op.f('ix_email_link_email'))
    op.drop_table('email_link')
