"""The `photo-check` scorer: the CPU photo check behind the shared scorer interface."""

from __future__ import annotations

import time

from ..photocheck.judge import load_judgement
from ..photocheck.measure import measure
from ..tips.catalog import load_catalog
from ..tips.select import describe
from .registry import register_scorer
from .result import ScoreRequest, ScoreResult


class PhotoCheckScorer:
    name = "photo-check"

    def __init__(self, model_path: str, tips_path: str):
        self.judgement = load_judgement(model_path)
        self.catalog = load_catalog(tips_path)

    def score(self, photo, request: ScoreRequest) -> ScoreResult:
        start = time.perf_counter()
        measurements, _ = measure(photo.rgb, photo.width, photo.height)
        findings = self.judgement.findings(measurements)
        score = self.judgement.score(findings)
        return ScoreResult(
            score=score,
            aspects=findings,
            justification=describe(findings, score, self.catalog, request.locale),
            scorer=self.name,
            model=f"{self.judgement.id}@{self.judgement.version}",
            latency_ms=(time.perf_counter() - start) * 1000,
        )


@register_scorer("photo-check")
def create(settings) -> PhotoCheckScorer:
    return PhotoCheckScorer(settings.photo_check_model, settings.tips_file)
