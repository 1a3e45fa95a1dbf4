"""Calibrate the photo check on the labelled real-photo set: the confidence models and the score.

Fits, on the calibration half of data/realset (plus graded degradations of its
good photos, whose labels are known by construction):

- each `fit: true` problem's logistic confidence model over the measurements its
  entry names (scikit-learn, standardised features, balanced classes, L2), stored
  back on the raw measurement scale so the service needs no scikit-learn;
- with `score` (the CLI's --score), or where the calibration file has no score yet, the score's
  base and per-aspect weights, by bounded least squares of the overall labels on each aspect's
  confidence (scipy; every weight at least MIN_WEIGHT, and the model file's own for an aspect whose
  problems the photos barely show).

The result is written to the calibration file named by models/photo-check.yaml,
with what it was fitted on; the held-out half is left for `bench/aspects.py --split holdout`.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import lsq_linear
from sklearn.linear_model import LogisticRegression

from .. import paths
from ..imaging.decode import decode_photo
from ..photocheck.judge import Problem, apply_calibration, build_judgement, calibration_path
from ..photocheck.measure import measure
from ..photocheck.second_look import network_reading
from ..scoring.result import ASPECTS
from ..tips.catalog import load_catalog
from ..yamlfile import read_yaml
from .realset import LabelledPhoto, degraded_copies, in_holdout, load_realset


@dataclass
class Sample:
    file: str
    kind: str  # "real" or the degradation's name
    labels: dict[str, str]
    overall: int | None
    m: dict[str, float]
    # The second looks' readings (judge.SecondLook), taken on every sample: their models are fitted on all.
    readings: dict[str, float] = field(default_factory=dict)

    def read(self, second) -> float:
        return self.readings[second.reading]


def measured(data: bytes, settings, second_looks=()) -> tuple[dict[str, float], dict[str, float]]:
    """The check's measurements of a photo, and the readings of `second_looks` (judge.SecondLook)."""
    photo = decode_photo(data, max_pixels=settings.max_pixels, analysis_side=settings.analysis_side)
    m, layout = measure(photo.rgb, photo.width, photo.height)
    return m, {s.reading: network_reading(layout.small_rgb, s) for s in second_looks}


def measure_bytes(data: bytes, settings) -> dict[str, float]:
    return measured(data, settings)[0]


def samples_of(photos: list[LabelledPhoto], settings, *, degraded: bool = True, second_looks=()) -> list[Sample]:
    out = []
    for p in photos:
        out.append(Sample(p.file, "real", p.labels, p.overall, *measured(p.path.read_bytes(), settings, second_looks)))
        if degraded and p.good:
            for name, labels, data in degraded_copies(p):
                out.append(Sample(p.file, name, labels, None, *measured(data, settings, second_looks)))
    return out


# Degraded copies teach what a problem looks like at its clearest; real photos say where people draw the
# line, so each copy weighs a quarter of a real photo. A tilted copy is learnt as whole though its zoom cuts
# many items (degrade.UNKNOWN_AFTER): fitted with its visibility left out, cut_off caught 8 more of the set's
# cut items but put 3 more tips on good photos, a white packshot among them (docs/benchmarks.md).
DEGRADED_WEIGHT = 0.25


# Fewer labelled samples of a problem, or of its absence, than this give a logistic model nothing to fit.
MIN_SAMPLES = 5


def judged_samples(samples: list[Sample], *, needs_item: bool,
                   judged: Callable[[dict[str, float]], bool] | None = None) -> list[Sample]:
    """The samples a problem is judged on: the item found where its aspect needs one, and `judged` (the
    problem's own gate, judge.Problem.judged) true."""
    return [s for s in samples if (not needs_item or s.m.get("item_found")) and (judged is None or judged(s.m))]


def feature_matrix(samples: list[Sample], features: list[str]) -> np.ndarray:
    """One row per sample, one column per measurement named."""
    return np.array([[s.m[f] for f in features] for s in samples], dtype=float)


def fit_logistic(samples: list[Sample], aspect: str, problem: str, features: list[str], *,
                 needs_item: bool, judged: Callable[[dict[str, float]], bool] | None = None, c: float = 1.0) -> dict:
    """Fitted only on the samples where the problem is judged (judged_samples)."""
    use = judged_samples(samples, needs_item=needs_item, judged=judged)
    X = feature_matrix(use, features)
    y = np.array([s.labels[aspect] == problem for s in use])
    if y.sum() < MIN_SAMPLES or (~y).sum() < MIN_SAMPLES:
        raise ValueError(f"{aspect}.{problem}: {int(y.sum())} positive and {int((~y).sum())} negative samples")
    weight = np.array([1.0 if s.kind == "real" else DEGRADED_WEIGHT for s in use])
    # Balanced classes: a tip's threshold should not depend on how rare the problem is in the set.
    weight *= np.where(y, weight.sum() / (2 * weight[y].sum()), weight.sum() / (2 * weight[~y].sum()))
    mean, std = X.mean(axis=0), X.std(axis=0)
    std[std == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000).fit((X - mean) / std, y, sample_weight=weight)
    w = model.coef_[0] / std
    bias = float(model.intercept_[0] - np.sum(model.coef_[0] * mean / std))
    return {"bias": float(f"{bias:.5g}"), "weights": {f: float(f"{v:.5g}") for f, v in zip(features, w)},
            "positives": int(y.sum()), "negatives": int((~y).sum())}


# Every problem costs at least this much when certain, even where the set has too few examples of it
# (framing) for least squares to see its cost.
MIN_WEIGHT = 0.3
# An aspect whose confidences over the real photos add up to less than this (under one photo's worth of a sure
# problem) gives least squares nothing to fit: any weight fits as well, and the solver's pick is arbitrary (after
# photo-check@14 framing's went from its floor to its ceiling with an unrelated change). It keeps the weight
# written in the model file.
MIN_EVIDENCE = 1.0


def fit_score(judgement, real: list[Sample]) -> dict:
    """base and weights (≥ MIN_WEIGHT) minimising Σ (overall − (base − Σ w·confidence))², with the model file's
    weight kept for an aspect the photos give no evidence on (MIN_EVIDENCE)."""
    conf = np.array([[f[a].confidence for a in ASPECTS]
                     for f in (judgement.looked_findings(s.m, s.read)[0] for s in real)])
    y = np.array([s.overall for s in real], dtype=float)
    fit = conf.sum(axis=0) >= MIN_EVIDENCE
    kept = np.array([judgement.weights[a] for a in ASPECTS])
    # The kept aspects' cost is known: added back to the ratings, the fitted part must explain the rest.
    target = y + conf[:, ~fit] @ kept[~fit]
    A = np.hstack([np.ones((len(real), 1)), -conf[:, fit]])
    n = int(fit.sum())
    x = lsq_linear(A, target, bounds=([1.0] + [MIN_WEIGHT] * n, [7.0] + [4.0] * n)).x
    weights = kept.copy()
    weights[fit] = x[1:]
    return {"base": round(float(x[0]), 4), "weights": {a: round(float(v), 4) for a, v in zip(ASPECTS, weights)}}


def _shown_path(path: str | Path) -> str:
    """The set's path relative to the project when it is inside it, so the written file does not name a machine."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(paths.HOME.resolve()))
    except ValueError:
        return str(path)


def calibration_photos(set_dir: str | Path, settings) -> list[LabelledPhoto]:
    """The labelled photos calibration may read: the half of the set not held out."""
    return [p for p in load_realset(set_dir, load_catalog(settings.tips_file)) if not in_holdout(p.file)]


def fitted_problems(judgement) -> Iterator[tuple[str, dict, Problem]]:
    """(aspect, its entry, problem) for every problem whose confidence calibration fits."""
    for aspect, spec in judgement.aspects.items():
        for p in spec["problems"]:
            if p.fit:
                yield aspect, spec, p


def labels_digest(set_dir: str | Path) -> str:
    """The first 12 hex digits of labels.csv's SHA-256: which labelling a fit was made on."""
    return hashlib.sha256((Path(set_dir) / "labels.csv").read_bytes()).hexdigest()[:12]


def calibrate(set_dir: str | Path, model_path: str, settings, *, write: bool = True, score: bool = False) -> dict:
    """Refit the confidence models; the score's base and weights too with `score`, or where the calibration
    file has none yet. Otherwise the file's score is kept with `score_fitted_on`, what it was fitted on: how
    sure the check is is a question the labels answer, what a problem costs one they and the synthetic
    raters disagree on for darkness and blur (docs/decisions.md), so it is refitted only on request."""
    photos = calibration_photos(set_dir, settings)
    data = read_yaml(model_path, "photo-check model")
    judgement = build_judgement(data, model_path)
    samples = samples_of(photos, settings, second_looks=[p.second for _, p in judgement.second_looks])
    fitted = {f"{aspect}.{p.name}": fit_logistic(samples, aspect, p.name, list(p.weights),
                                                 needs_item=spec["needs_item"], judged=p.judged)
              for aspect, spec, p in fitted_problems(judgement)}
    # A second look's model is fitted as the first one, on every sample, its reading in place of the cheap one's.
    looked = [Sample(s.file, s.kind, s.labels, s.overall, s.m | s.readings) for s in samples]
    second_fitted = {f"{aspect}.{p.name}": fit_logistic(looked, aspect, p.name, list(p.second.weights),
                                                        needs_item=spec["needs_item"], judged=p.judged)
                     for aspect, spec, p in fitted_problems(judgement) if p.second and p.second.fit}
    out_path = calibration_path(model_path, data)
    if out_path is None:
        raise ValueError(f"{model_path} names no calibration file")
    fitted_on = {"set": _shown_path(set_dir), "split": "calibration (the half not held out)", "photos": len(photos),
                 "samples": len(samples), "labels": labels_digest(set_dir), "date": _dt.date.today().isoformat(),
                 "command": "phototips study calibrate"}
    calibration = {"fitted_on": fitted_on,
                   "problems": {k: {"bias": v["bias"], "weights": v["weights"]} for k, v in fitted.items()}}
    if second_fitted:
        calibration["second_looks"] = {k: {"bias": v["bias"], "weights": v["weights"]} for k, v in second_fitted.items()}
    previous = read_yaml(str(out_path), "photo-check calibration") if out_path.is_file() else {}
    refit_score = score or not previous.get("score")
    if refit_score:
        # The score is fitted with the new confidences in place.
        staged = copy.deepcopy(data)
        apply_calibration(staged, calibration)
        calibration["score"] = fit_score(build_judgement(staged, model_path), [s for s in samples if s.kind == "real"])
        calibration["score_fitted_on"] = {k: fitted_on[k] for k in ("photos", "labels", "date")} | {
            "command": "phototips study calibrate" + (" --score" if score else "")}
    else:
        calibration["score"] = previous["score"]
        # A file written before score_fitted_on existed: its score was fitted with everything else in it.
        before = previous.get("fitted_on") or {}
        calibration["score_fitted_on"] = previous.get("score_fitted_on") or {
            "photos": before.get("photos"), "labels": before.get("labels", "unknown"), "date": before.get("date"),
            "command": before.get("command")}
    if write:
        header = ("# Written by `phototips study calibrate` from the labelled real-photo set; do not edit by hand:\n"
                  "# rerun the command. Overrides the `fit: true` confidences and the score of photo-check.yaml;\n"
                  "# the score is refitted only with --score (score_fitted_on says when it was).\n")
        out_path.write_text(header + yaml.safe_dump(calibration, sort_keys=False, allow_unicode=True), encoding="utf-8")
    calibration["counts"] = {k: {"positives": v["positives"], "negatives": v["negatives"]} for k, v in fitted.items()}
    calibration["score_refitted"] = refit_score
    return calibration
