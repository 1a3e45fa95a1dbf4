"""The photos of each live listing, kept in memory for hero ranking (bounded, least recently used out)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from ..errors import PhotoTipsError
from ..hero import Candidate


@dataclass
class Listing:
    photos: "OrderedDict[str, Candidate]" = field(default_factory=OrderedDict)
    locale: str = "en"


def listing_full(listing_id: str, max_photos: int) -> PhotoTipsError:
    return PhotoTipsError("listing_full", f"listing {listing_id!r} already has {max_photos} photos", 409)


class ListingStore:
    def __init__(self, max_listings: int, max_photos: int):
        self.max_listings = max_listings
        self.max_photos = max_photos
        self._listings: OrderedDict[str, Listing] = OrderedDict()
        self._lock = threading.Lock()

    def reserve(self, listing_id: str) -> None:
        """Refuse a photo before any work when its listing is full, so accepted photos stay."""
        with self._lock:
            listing = self._listings.get(listing_id)
            if listing is not None and len(listing.photos) >= self.max_photos:
                raise self._full(listing_id)

    def put(self, listing_id: str, candidate: Candidate, locale: str) -> None:
        """Add or replace a photo."""
        with self._lock:
            listing = self._listings.pop(listing_id, None) or Listing()
            if candidate.key not in listing.photos and len(listing.photos) >= self.max_photos:
                self._listings[listing_id] = listing
                raise self._full(listing_id)
            listing.photos[candidate.key] = candidate
            listing.locale = locale
            self._listings[listing_id] = listing
            while len(self._listings) > self.max_listings:
                self._listings.popitem(last=False)

    def _full(self, listing_id: str) -> PhotoTipsError:
        return listing_full(listing_id, self.max_photos)

    def photos(self, listing_id: str) -> list[Candidate]:
        with self._lock:
            listing = self._listings.get(listing_id)
            return list(listing.photos.values()) if listing else []
