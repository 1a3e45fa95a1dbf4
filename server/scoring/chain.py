"""Try the configured scorers in order and answer with the first that succeeds.

The photo check never needs a GPU or the network, so it always ends the chain:
every request gets a score. Each result names the scorer that answered and why
the earlier ones were skipped: a failure, the request's deadline, or an open
circuit breaker (a scorer that failed several times in a row is skipped for a
while instead of making every seller wait for its time-out).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time

from ..errors import PhotoTipsError
from ..metrics import SKIPPED
from .registry import Scorer, create_scorer
from .result import ScoreRequest, ScoreResult

log = logging.getLogger(__name__)
LAST_RESORT = "photo-check"


class Breaker:
    """Consecutive-failure circuit breaker: open after `failures`, half-open after `cooldown` seconds."""

    def __init__(self, failures: int, cooldown: float, clock=time.monotonic):
        self.failures, self.cooldown, self.clock = failures, cooldown, clock
        self._count = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    def allows(self) -> bool:
        with self._lock:
            if self._opened_at is None:
                return True
            # Half-open: let one request through to probe; a failure re-opens.
            return self.clock() - self._opened_at >= self.cooldown

    def record(self, ok: bool) -> None:
        with self._lock:
            if ok:
                self._count, self._opened_at = 0, None
            else:
                self._count += 1
                if self._count >= self.failures:
                    self._opened_at = self.clock()

    @property
    def retry_in(self) -> float:
        return 0.0 if self._opened_at is None else max(0.0, self.cooldown - (self.clock() - self._opened_at))


class ScorerChain:
    def __init__(self, scorers: list[Scorer], *, deadline_s: float = 20.0, failures: int = 3, cooldown_s: float = 30.0):
        self.scorers = scorers
        self.deadline_s = deadline_s
        self.breakers = {s.name: Breaker(failures, cooldown_s) for s in scorers}

    @classmethod
    def from_names(cls, names, settings) -> "ScorerChain":
        names = list(dict.fromkeys(names))
        if LAST_RESORT not in names:
            names.append(LAST_RESORT)
        return cls([create_scorer(n, settings) for n in names], deadline_s=settings.deadline_s,
                   failures=settings.breaker_failures, cooldown_s=settings.breaker_cooldown_s)

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scorers]

    def get(self, name: str) -> Scorer | None:
        return next((s for s in self.scorers if s.name == name), None)

    def score(self, photo, request: ScoreRequest, last_resort: ScoreResult | None = None) -> ScoreResult:
        """`last_resort`: the photo check's result when it was already computed (in a worker), used as is."""
        if request.deadline is None:
            request.deadline = time.monotonic() + self.deadline_s
        skipped = []
        for scorer in self.scorers:
            last = scorer.name == LAST_RESORT
            breaker = self.breakers[scorer.name]
            if not last and time.monotonic() >= request.deadline:
                skipped.append(_skip(scorer.name, "deadline", "deadline passed"))
                continue
            if not last and not breaker.allows():
                skipped.append(_skip(scorer.name, "circuit_open",
                                     f"circuit open after repeated failures; retry in {breaker.retry_in:.0f} s"))
                continue
            if last and last_resort is not None:
                return dataclasses.replace(last_resort, skipped=skipped)
            try:
                result = scorer.score(photo, request)
            except PhotoTipsError as exc:
                # Logged (the breaker bounds it to a few lines a cool-down): a misconfigured model server, a wrong
                # token say, was otherwise seen only in each answer's `skipped`.
                log.warning("scorer %s failed, the next one answers: %s", scorer.name, exc)
                breaker.record(False)
                skipped.append(_skip(scorer.name, "failed", str(exc)))
            except Exception as exc:  # a scorer's own failure must not fail the photo
                log.exception("scorer %s failed", scorer.name)
                breaker.record(False)
                skipped.append(_skip(scorer.name, "failed", f"{type(exc).__name__}: {exc}"))
            else:
                breaker.record(True)
                result.skipped = skipped
                return result
        raise PhotoTipsError("no_scorer", "every scorer failed: " + "; ".join(s["reason"] for s in skipped), 503)


def _skip(scorer: str, why: str, reason: str) -> dict:
    SKIPPED.labels(scorer, why).inc()
    return {"scorer": scorer, "reason": reason}
