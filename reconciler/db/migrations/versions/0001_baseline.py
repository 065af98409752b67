"""Baseline schema.

Until the first release the baseline is the model metadata itself; from the first release on,
every change is a migration of its own below this one.

Revision ID: 0001
Revises:
"""

from alembic import op

from reconciler.db.schema import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    metadata.create_all(bind=op.get_bind())
    # The journal's chain head exists from the start, so that concurrent first writers lock
    # it instead of racing to create it.
    op.bulk_insert(metadata.tables["journal_head"], [{"id": 1, "seq": 0, "hash": "0" * 64}])


def downgrade() -> None:
    metadata.drop_all(bind=op.get_bind())
