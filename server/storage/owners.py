"""Which seller owns each listing: the first to upload to it. Durable, so every process agrees.

A claim is one insert-if-absent and a read: two sellers racing for a new
listing id get the same answer from the database. Owners never change, so
answers are cached in memory (bounded).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.engine import Engine

from .events import insert_ignore, utcnow
from .tables import listings


class ListingOwners:
    def __init__(self, engine: Engine, cache_size: int = 100_000):
        self.engine = engine
        self.cache_size = cache_size
        self._cache: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, listing_id: str, seller_id: str) -> str:
        """The listing's owner after this seller's claim: `seller_id` if it was new or already theirs."""
        owner = self.owner(listing_id)
        if owner is None:
            with self.engine.begin() as conn:
                conn.execute(insert_ignore(self.engine, listings, ["listing_id"]),
                             [{"listing_id": listing_id, "seller_id": seller_id, "created_at": utcnow()}])
                owner = conn.execute(select(listings.c.seller_id).where(listings.c.listing_id == listing_id)).scalar_one()
            self._remember(listing_id, owner)
        return owner

    def owner(self, listing_id: str) -> str | None:
        with self._lock:
            if listing_id in self._cache:
                self._cache.move_to_end(listing_id)
                return self._cache[listing_id]
        with self.engine.connect() as conn:
            owner = conn.execute(select(listings.c.seller_id).where(listings.c.listing_id == listing_id)).scalar()
        if owner is not None:
            self._remember(listing_id, owner)
        return owner

    def _remember(self, listing_id: str, owner: str) -> None:
        with self._lock:
            self._cache[listing_id] = owner
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
