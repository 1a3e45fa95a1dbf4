"""A listing's photos in Redis, so that every server process (and the next one, after a restart) ranks them all.

Each listing is a hash photo_id → candidate JSON (score result and perceptual
hash) plus a sorted set of when each photo arrived, both expiring
`listing_ttl_s` after the last photo. Adding a photo is one Lua script, so the
per-listing limit holds when two processes add at the same moment.
"""

from __future__ import annotations

import json
import logging
import time

import imagehash
import redis

from ..errors import PhotoTipsError
from ..hero import Candidate
from ..scoring.result import ScoreResult
from .memory import listing_full

log = logging.getLogger(__name__)
PREFIX = "phototips:listing:"

# KEYS: photos hash, order zset. ARGV: photo id, candidate JSON, max photos, ttl, now.
# Returns -1 when the listing is full and the photo new, else the number of photos.
PUT = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return -1
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 'NX', ARGV[5], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return redis.call('HLEN', KEYS[1])
"""


def candidate_json(candidate: Candidate) -> str:
    result = candidate.result.to_dict()
    result["score"] = candidate.result.score  # unrounded: the ranking must not change by being stored
    return json.dumps({"result": result, "phash": str(candidate.phash)}, separators=(",", ":"))


def candidate_from_json(key: str, text: str | bytes) -> Candidate:
    data = json.loads(text)
    return Candidate(key, ScoreResult.from_dict(data["result"]), imagehash.hex_to_hash(data["phash"]))


def _unavailable() -> PhotoTipsError:
    return PhotoTipsError("storage_unavailable", "the listing store is unreachable; retry", 503)


class RedisListingStore:
    def __init__(self, url: str, max_photos: int, ttl_s: int):
        self.max_photos = max_photos
        self.ttl_s = ttl_s
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5,
                                          health_check_interval=30)
        self._put = self.redis.register_script(PUT)

    @staticmethod
    def _keys(listing_id: str) -> list[str]:
        return [PREFIX + listing_id + ":photos", PREFIX + listing_id + ":order"]

    def reserve(self, listing_id: str) -> None:
        """Refuse a photo before any work when its listing is full, so accepted photos stay."""
        try:
            count = self.redis.hlen(self._keys(listing_id)[0])
        except redis.RedisError:
            log.exception("listing store (Redis) failed")
            raise _unavailable() from None
        if count >= self.max_photos:
            raise listing_full(listing_id, self.max_photos)

    def put(self, listing_id: str, candidate: Candidate, locale: str) -> None:
        """Add or replace a photo; the photo is in Redis when this returns."""
        try:
            count = self._put(keys=self._keys(listing_id),
                              args=[candidate.key, candidate_json(candidate), self.max_photos, self.ttl_s, time.time()])
        except redis.RedisError:
            log.exception("listing store (Redis) failed")
            raise _unavailable() from None
        if count == -1:
            raise listing_full(listing_id, self.max_photos)

    def photos(self, listing_id: str) -> list[Candidate]:
        photos_key, order_key = self._keys(listing_id)
        try:
            with self.redis.pipeline(transaction=True) as pipe:
                stored, order = pipe.hgetall(photos_key).zrange(order_key, 0, -1).execute()
        except redis.RedisError:
            log.exception("listing store (Redis) failed")
            raise _unavailable() from None
        return [candidate_from_json(key.decode(), stored[key]) for key in order if key in stored]
