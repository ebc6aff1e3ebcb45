"""upload_batch_month: the months each learning_activity batch's dates fall in

Keeping the activity summaries current after a load reads again the months the load touched. Found
from the table, they cost a scan of every row (the table has no batch_id index, for load speed);
recorded as the batch is written, they cost nothing. Batches loaded before this have none recorded:
their months are still found by the scan.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_batch_month",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["upload_batch.id"], name="fk_upload_batch_month_batch_id_upload_batch"),
        sa.PrimaryKeyConstraint("batch_id", "month", name="pk_upload_batch_month"),
    )


def downgrade() -> None:
    op.drop_table("upload_batch_month")
