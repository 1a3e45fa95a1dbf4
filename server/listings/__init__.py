"""Where a live listing's photos are kept for hero ranking: this process's memory, or Redis shared by all."""

from __future__ import annotations

from .memory import ListingStore
from .redis_store import RedisListingStore


def make_listing_store(settings) -> ListingStore | RedisListingStore:
    """Redis when PHOTOTIPS_REDIS_URL is set (every process sees every photo), else this process's memory."""
    if settings.redis_url:
        return RedisListingStore(settings.redis_url, settings.max_photos_per_listing, settings.listing_ttl_s)
    return ListingStore(settings.max_listings, settings.max_photos_per_listing)
