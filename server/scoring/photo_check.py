"""The `photo-check` scorer: the CPU photo check behind the shared scorer interface."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..errors import PhotoTipsError
from ..photocheck.geometry import locate
from ..photocheck.judge import load_judgement
from ..photocheck.measure import measure
from ..photocheck.second_look import fault, network_reading
from ..tips.catalog import load_catalog
from ..tips.select import describe
from .learned_model import LearnedModel, features
from .registry import register_scorer
from .result import ScoreRequest, ScoreResult


class PhotoCheckScorer:
    """Findings always come from the rules; the score comes from the learned ONNX model when one is given."""

    uses_prompts = False

    def __init__(self, model_path: str, tips_path: str, learned_path: str = "", name: str = "photo-check"):
        self.name = name
        self.judgement = load_judgement(model_path)
        check_measurements(self.judgement, model_path)
        self.catalog = load_catalog(tips_path)
        self.learned = None
        if learned_path:
            self.learned = LearnedModel(learned_path)
        self.model = f"{self.judgement.id}@{self.judgement.version}" + (f"+{self.learned.id}" if self.learned else "")

    def score(self, photo, request: ScoreRequest) -> ScoreResult:
        return self.score_measured(photo, request)[0]

    def score_measured(self, photo, request: ScoreRequest) -> tuple[ScoreResult, dict[str, float]]:
        """The result and the measurements it was judged on (the result keeps each aspect's likeliest problem
        only; the benchmark reads every problem's model on the same numbers)."""
        start = time.perf_counter()
        measurements, layout = measure(photo.rgb, photo.width, photo.height)
        findings, measurements = self.judgement.looked_findings(
            measurements, lambda second: network_reading(layout.small_rgb, second))
        for aspect, where in locate(layout).items():
            if aspect in findings:
                findings[aspect].geometry = where
        if self.learned is not None:
            score = self.learned.predict(features(measurements))
        else:
            score = self.judgement.score(findings)
        score = self.judgement.capped(score, measurements)
        return ScoreResult(
            score=score,
            aspects=findings,
            justification=describe(findings, score, self.catalog, request.locale, self.judgement.tip_confidence),
            scorer=self.name,
            model=self.model,
            latency_ms=(time.perf_counter() - start) * 1000,
        ), measurements


def check_measurements(judgement, model_path: str) -> None:
    """Fail at start-up, naming them, if the model file refers to measurements the photo check does not make, or
    to a second look whose network cannot read photos or whose reading would take the name of a measurement or of
    another second look's reading."""
    known, _ = measure(np.full((64, 64, 3), 128, np.uint8), 64, 64)
    used = {spec["value"] for spec in judgement.aspects.values()}
    for spec in judgement.aspects.values():
        for p in spec["problems"]:
            used |= p.measurements
        used |= {pref.measure for pref in spec["prefer"]}
        used |= {measure for measure, _ in spec["unless_below"]}
    used |= {measure for measure, _ in judgement.nothing_to_see[1]}
    unknown = sorted(used - set(known))
    if unknown:
        raise PhotoTipsError("bad_config", f"photo-check model {model_path}: unknown measurements {', '.join(unknown)}; "
                                           f"known: {', '.join(sorted(known))}")
    # A reading named as a measurement, or as another look's reading, would overwrite it on the photos looked at
    # again, and only there.
    faults, readings = [], set()
    for aspect, spec in judgement.aspects.items():
        for p in spec["problems"]:
            if p.second is None:
                continue
            if p.second.reading in known:
                why = f"reading {p.second.reading} is a measurement's name"
            elif p.second.reading in readings:
                why = f"reading {p.second.reading} is another second look's"
            else:
                why = fault(p.second)
            readings.add(p.second.reading)
            if why:
                faults.append(f"{aspect}.problems.{p.name}.second_look: {why}")
    if faults:
        raise PhotoTipsError("bad_config", f"photo-check model {model_path}: " + "; ".join(faults))


def _learned_file(settings) -> str:
    path = settings.learned_model
    return path if path and Path(path).is_file() else ""


@register_scorer("photo-check")
def create(settings) -> PhotoCheckScorer:
    """The photo check, scored by the learned model when PHOTOTIPS_LEARNED_MODEL names an existing file."""
    return PhotoCheckScorer(settings.photo_check_model, settings.tips_file, _learned_file(settings))


@register_scorer("photo-check-rules")
def create_rules(settings) -> PhotoCheckScorer:
    """The hand-set rules of models/photo-check.yaml only (the untrained baseline)."""
    return PhotoCheckScorer(settings.photo_check_model, settings.tips_file, name="photo-check-rules")


@register_scorer("learned")
def create_learned(settings) -> PhotoCheckScorer:
    if not _learned_file(settings):
        raise PhotoTipsError("model_not_found", f"no learned model at {settings.learned_model!r}; "
                                                "train one with `phototips train`", 503)
    return PhotoCheckScorer(settings.photo_check_model, settings.tips_file, _learned_file(settings), name="learned")
