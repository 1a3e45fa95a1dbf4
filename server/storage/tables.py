"""The schema: exposures of experiment tips, and outcome events (from the app and from the server)."""

from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData()

exposures = Table(
    "exposures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("experiment", String(100), nullable=False),
    Column("variant", String(100), nullable=False),
    Column("seller_id", String(100), nullable=False),
    Column("listing_id", String(100)),
    Column("photo_id", String(40), nullable=False),
    Column("tip_id", String(100), nullable=False),
    Column("aspect", String(40), nullable=False),
    Column("severity", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # One exposure per photo and tip, however many times the tip is sent for it.
    UniqueConstraint("photo_id", "tip_id", name="uq_exposures_photo_tip"),
    Index("ix_exposures_experiment", "experiment", "variant"),
    Index("ix_exposures_seller_listing", "seller_id", "listing_id"),
)

events = Table(
    "events", metadata,
    Column("event_id", String(120), primary_key=True),  # chosen by the client: a retry is stored once
    Column("seller_id", String(100), nullable=False),
    Column("listing_id", String(100)),
    Column("type", String(40), nullable=False),
    Column("photo_id", String(40)),
    Column("tip_id", String(100)),
    Column("experiment", String(100)),
    Column("variant", String(100)),
    Column("value", Float),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("source", String(10), nullable=False),  # app or server
    Index("ix_events_seller", "seller_id", "type"),
)
