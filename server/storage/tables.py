"""The schema: exposures of experiment tips, outcome events (from the app and the server), API keys,
and which seller owns each listing.

Seller and listing ids are stored namespaced by the app client that issued them
(`client/seller`), so two marketplaces' "123" never meet."""

from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, String, Table, UniqueConstraint

metadata = MetaData()
# A namespaced id: a client name (≤ 40) + "/" + the client's own id (≤ 100).
ID_LENGTH = 160

exposures = Table(
    "exposures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("experiment", String(100), nullable=False),
    Column("variant", String(100), nullable=False),
    Column("seller_id", String(ID_LENGTH), nullable=False),
    Column("listing_id", String(ID_LENGTH)),
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
    # chosen by the client and namespaced by who sent it ("app:client:id", "seller:client/seller:id"):
    # a retry is stored once, and nobody's ids collide with anybody else's
    Column("event_id", String(255), primary_key=True),
    Column("seller_id", String(ID_LENGTH), nullable=False),
    Column("listing_id", String(ID_LENGTH)),
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

api_keys = Table(
    "api_keys", metadata,
    Column("key_id", String(16), primary_key=True),  # the public part of the key, for lookup and revocation
    Column("client", String(40), nullable=False),  # the app client: keys of one client share its sellers
    Column("roles", String(100), nullable=False),  # comma-separated: app, product, admin
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

listings = Table(
    "listings", metadata,
    Column("listing_id", String(ID_LENGTH), primary_key=True),
    Column("seller_id", String(ID_LENGTH), nullable=False),  # the seller who first uploaded to it
    Column("created_at", DateTime(timezone=True), nullable=False),
)
