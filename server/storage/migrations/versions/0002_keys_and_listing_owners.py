"""API keys, listing owners, and ids wide enough to be namespaced by the app client (and the seller).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("client", sa.String(40), nullable=False),
        sa.Column("roles", sa.String(100), nullable=False),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "listings",
        sa.Column("listing_id", sa.String(160), primary_key=True),
        sa.Column("seller_id", sa.String(160), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    for table in ("events", "exposures"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("seller_id", type_=sa.String(160), existing_nullable=False)
            batch.alter_column("listing_id", type_=sa.String(160), existing_nullable=True)
            if table == "events":
                batch.alter_column("event_id", type_=sa.String(255), existing_nullable=False)


def downgrade() -> None:
    for table in ("events", "exposures"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("seller_id", type_=sa.String(100), existing_nullable=False)
            batch.alter_column("listing_id", type_=sa.String(100), existing_nullable=True)
    op.drop_table("listings")
    op.drop_table("api_keys")
