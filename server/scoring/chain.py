"""Try the configured scorers in order and answer with the first that succeeds.

The photo check never needs a GPU or the network, so it always ends the chain:
every request gets a score. Each result names the scorer that answered and why
the earlier ones were skipped.
"""

from __future__ import annotations

import logging
import time

from ..errors import PhotoTipsError
from .registry import Scorer, create_scorer
from .result import ScoreRequest, ScoreResult

log = logging.getLogger(__name__)
LAST_RESORT = "photo-check"


class ScorerChain:
    def __init__(self, scorers: list[Scorer]):
        self.scorers = scorers

    @classmethod
    def from_names(cls, names, settings) -> "ScorerChain":
        names = list(dict.fromkeys(names))
        if LAST_RESORT not in names:
            names.append(LAST_RESORT)
        return cls([create_scorer(n, settings) for n in names])

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scorers]

    def get(self, name: str) -> Scorer | None:
        return next((s for s in self.scorers if s.name == name), None)

    def score(self, photo, request: ScoreRequest) -> ScoreResult:
        skipped = []
        for scorer in self.scorers:
            if request.deadline is not None and time.monotonic() > request.deadline and scorer.name != LAST_RESORT:
                skipped.append({"scorer": scorer.name, "reason": "deadline passed"})
                continue
            try:
                result = scorer.score(photo, request)
            except PhotoTipsError as exc:
                skipped.append({"scorer": scorer.name, "reason": str(exc)})
            except Exception as exc:  # a scorer's own failure must not fail the photo
                log.exception("scorer %s failed", scorer.name)
                skipped.append({"scorer": scorer.name, "reason": f"{type(exc).__name__}: {exc}"})
            else:
                result.skipped = skipped
                return result
        raise PhotoTipsError("no_scorer", "every scorer failed: " + "; ".join(s["reason"] for s in skipped), 503)
