"""Rate limits for uploads, events and token issuing, the same counters for HTTP and Socket.IO.

Flask-Limiter holds the storage (Redis when PHOTOTIPS_REDIS_URL is set, so every
process shares the counters; in memory otherwise) and the moving-window
strategy; both doors call `check`, so a seller's uploads count once whichever
way they arrive. A breach is a 429 `rate_limited` with `retry_after` seconds
(and the HTTP `Retry-After` header).
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, request
from flask_limiter import Limiter
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from ..auth.principal import Principal
from ..errors import PhotoTipsError


log = logging.getLogger(__name__)


# The code of a request whose count alone is over a limit (413, as for a request over a size limit).
TOO_MANY = {"uploads": "too_many_photos", "events": "too_many_events"}
# A rate check is one round trip to Redis: a Redis that stops answering costs each request this long at most, and
# once it has failed, requests count in this process for a while before Redis is tried again (a Redis host that
# accepts connections and never answers had added 10 s to every request).
SHARED_TIMEOUT_S = 1.0
SHARED_RETRY_S = 15.0


class RateLimited(PhotoTipsError):
    def __init__(self, what: str, retry_after: int):
        super().__init__("rate_limited", f"too many {what}; retry in {retry_after} s", 429, retry_after)


class RateLimits:
    def __init__(self, app: Flask, settings):
        self.limiter = Limiter(key_func=lambda: request.remote_addr or "?", app=app,
                               storage_uri=settings.redis_url or "memory://", strategy="moving-window",
                               key_prefix="phototips", in_memory_fallback_enabled=bool(settings.redis_url),
                               storage_options={"socket_timeout": SHARED_TIMEOUT_S,
                                                "socket_connect_timeout": SHARED_TIMEOUT_S}
                               if settings.redis_url else {})
        # While the shared storage (Redis) is unreachable, each process counts on its own rather than failing.
        self.fallback = MovingWindowRateLimiter(MemoryStorage())
        self._shared_down_until = 0.0
        self.rules = {
            "uploads": (parse_many(settings.rate_uploads), parse_many(settings.rate_uploads_client)),
            "events": (parse_many(settings.rate_events), ()),
            "tokens": (parse_many(settings.rate_tokens), ()),
        }

    def check(self, what: str, principal: Principal, cost: int = 1) -> None:
        """Count `cost` of `what` for this caller (and its client in all); raise RateLimited when over."""
        own, whole_client = self.rules[what]
        checks = [(item, principal.rate_key) for item in own]
        checks += [(item, "client:" + principal.client) for item in whole_client]
        for item, _ in checks:
            if cost > item.amount and what in TOO_MANY:
                # Never within the limit, however long the caller waits: not a 429 to retry.
                raise PhotoTipsError(TOO_MANY[what], f"{cost} {what} in one request are more than the limit "
                                                     f"({item}) allows; send fewer", 413)
        for item, who in checks:
            if time.monotonic() < self._shared_down_until:
                self._hit(self.fallback, item, what, who, cost)
                continue
            try:
                self._hit(self.limiter.limiter, item, what, who, cost)
            except RateLimited:
                raise
            except Exception as exc:  # the shared storage is down: count here, keep serving
                self._shared_down_until = time.monotonic() + SHARED_RETRY_S
                log.warning("rate-limit storage unavailable (%s); counting in this process for %g s", exc,
                            SHARED_RETRY_S)
                self._hit(self.fallback, item, what, who, cost)

    def uploads(self, principal: Principal):
        """The caller's upload allowance as the service counts it (`count(n)` photos, once they have their place:
        service.check), the same from every door."""
        return lambda n=1: self.check("uploads", principal, cost=n)

    @staticmethod
    def _hit(strategy, item, what: str, who: str, cost: int) -> None:
        if not strategy.hit(item, what, who, cost=cost):
            reset = strategy.get_window_stats(item, what, who).reset_time
            raise RateLimited(what, max(1, math.ceil(reset - time.time())))
