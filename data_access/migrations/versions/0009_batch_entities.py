"""upload_batch_entity: the entities whose rows each batch wrote

An uploader limited to some entities sees in the upload history, and may roll back, only batches of
their entities. Recorded as the batch is written; batches loaded before this have none recorded, so
only an uploader of every entity sees and rolls them back.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upload_batch_entity",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("entity_code", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["upload_batch.id"], name="fk_upload_batch_entity_batch_id_upload_batch"
        ),
        sa.PrimaryKeyConstraint("batch_id", "entity_code", name="pk_upload_batch_entity"),
    )


def downgrade() -> None:
    op.drop_table("upload_batch_entity")
