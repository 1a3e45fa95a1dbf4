"""Events and exposures for A/B tests of tip wording.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exposures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("experiment", sa.String(100), nullable=False),
        sa.Column("variant", sa.String(100), nullable=False),
        sa.Column("seller_id", sa.String(100), nullable=False),
        sa.Column("listing_id", sa.String(100)),
        sa.Column("photo_id", sa.String(40), nullable=False),
        sa.Column("tip_id", sa.String(100), nullable=False),
        sa.Column("aspect", sa.String(40), nullable=False),
        sa.Column("severity", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("photo_id", "tip_id", name="uq_exposures_photo_tip"),
    )
    op.create_index("ix_exposures_experiment", "exposures", ["experiment", "variant"])
    op.create_index("ix_exposures_seller_listing", "exposures", ["seller_id", "listing_id"])
    op.create_table(
        "events",
        sa.Column("event_id", sa.String(120), primary_key=True),
        sa.Column("seller_id", sa.String(100), nullable=False),
        sa.Column("listing_id", sa.String(100)),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("photo_id", sa.String(40)),
        sa.Column("tip_id", sa.String(100)),
        sa.Column("experiment", sa.String(100)),
        sa.Column("variant", sa.String(100)),
        sa.Column("value", sa.Float),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
    )
    op.create_index("ix_events_seller", "events", ["seller_id", "type"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("exposures")
