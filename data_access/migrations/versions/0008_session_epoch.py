"""app_user.session_epoch: sessions end when their user signs out or is deactivated

A session carries the epoch it began in and is refused once the user's epoch moved on, so a cookie
saved before a sign-out or a deactivation no longer works anywhere, on any worker.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("session_epoch")
