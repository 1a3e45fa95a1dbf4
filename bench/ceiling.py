"""Benchmark: is a problem the photo check misses beyond its model, or beyond its measurements?

    .venv/bin/python bench/ceiling.py                 # writes bench/out/ceiling.json and prints the table

For every problem that `phototips study calibrate` fits, on the real photos of the calibration half of
the set (by default data/realset, so neither its held-out half nor the test set is read), repeated
stratified k-fold cross-validation of three models of the same labels, each scored by the ROC AUC of its
out-of-fold confidences and by the false-tip rate at 80% recall:

- **own measurements**: the problem's logistic model over the measurements its entry in
  models/photo-check.yaml names, fitted by calibrate's own `fit_logistic` (real photos only here, no
  degraded copies);
- **every measurement, logistic**: the same fit over all of `photocheck.measure`'s measurements;
- **every measurement, forest**: a random forest over all of them (scikit-learn, balanced classes), which
  finds thresholds and interactions a logistic model cannot.

Where neither model over everything ranks clearly better than the problem's own, a bigger model over these
numbers is not where a better tip comes from; it needs new evidence from the photo. The own models'
measurements were chosen on this same half, which favours them. See docs/benchmarks.md, "What the
measurements can tell".
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold

from phototips.config import load_settings
from phototips.photocheck.judge import load_judgement
from phototips.study.calibrate import (MIN_SAMPLES, Sample, calibration_photos, feature_matrix, fit_logistic,
                                       fitted_problems, judged_samples, samples_of)
from report import machine, write_json

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("own measurements", "every measurement, logistic", "every measurement, forest")
# Issue 8's target: precision and recall both at least this.
TARGET = 0.8


def fpr_at_recall(y: np.ndarray, confidence: np.ndarray, recall: float = TARGET) -> float:
    """The lowest share of photos without the problem that get a tip when tips catch at least `recall` of those
    with it (tips shown from a confidence on; tied confidences are shown together)."""
    # Every threshold kept: dropped "intermediate" points would put a tie's false tips before its right ones.
    fpr, tpr, _ = roc_curve(y, confidence, drop_intermediate=False)
    return float(fpr[np.searchsorted(tpr, recall - 1e-12)])


def fpr_needed(positives: int, negatives: int, precision: float = TARGET, recall: float = TARGET) -> float:
    """The most false tips, as a share of the photos without the problem, that leave `precision` where tips
    catch the fewest photos with it that make at least `recall` (TP): FP <= TP (1 - precision) / precision."""
    right = math.ceil(recall * positives - 1e-9)
    return right * (1 - precision) / precision / negatives


def _forest(train: list[Sample], features: list[str], aspect: str, problem: str, seed: int):
    y = np.array([s.labels[aspect] == problem for s in train])
    model = RandomForestClassifier(n_estimators=300, min_samples_leaf=2, class_weight="balanced",
                                   random_state=seed).fit(feature_matrix(train, features), y)
    return lambda rows: model.predict_proba(feature_matrix(rows, features))[:, 1]


def _logistic(train: list[Sample], features: list[str], aspect: str, problem: str, spec):
    fit = fit_logistic(train, aspect, problem, features, needs_item=False)
    fitted = dataclasses.replace(spec, bias=fit["bias"], weights=fit["weights"])
    return lambda rows: np.array([fitted.confidence(s.m) for s in rows])


def ceiling(samples: list[Sample], judgement, *, folds: int = 5, repeats: int = 5, min_positives: int = 8) -> dict:
    """problem -> positives, negatives, the false-tip rate the target allows at its recall, and per model the
    mean (and lowest, highest) out-of-fold AUC over the repeats and the mean false-tip rate at that recall. A
    problem with fewer than `min_positives` photos where it is judged with it, or without it, or too few for
    every training fold to hold MIN_SAMPLES of each, gets only its counts."""
    everything = sorted(k for k, v in samples[0].m.items() if isinstance(v, float))
    # A stratified fold holds out at most ceil(n / folds) of a class.
    enough = next(n for n in range(max(1, min_positives), 10**6) if n - math.ceil(n / folds) >= MIN_SAMPLES)
    out = {}
    for aspect, spec, p in fitted_problems(judgement):
        use = judged_samples(samples, needs_item=spec["needs_item"], judged=p.judged)
        y = np.array([s.labels[aspect] == p.name for s in use])
        row = {"positives": int(y.sum()), "negatives": int((~y).sum())}
        if y.any() and (~y).any():
            row["fpr_needed"] = round(fpr_needed(row["positives"], row["negatives"]), 3)
        out[f"{aspect}.{p.name}"] = row
        if min(y.sum(), (~y).sum()) < enough:
            continue
        aucs, fprs = {m: [] for m in MODELS}, {m: [] for m in MODELS}
        for seed in range(repeats):
            oof = {m: np.zeros(len(use)) for m in MODELS}
            for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
                tr, te = [use[i] for i in train], [use[i] for i in test]
                predict = {MODELS[0]: _logistic(tr, list(p.weights), aspect, p.name, p),
                           MODELS[1]: _logistic(tr, everything, aspect, p.name, p),
                           MODELS[2]: _forest(tr, everything, aspect, p.name, seed)}
                for m, f in predict.items():
                    oof[m][test] = f(te)
            for m in MODELS:
                aucs[m].append(roc_auc_score(y, oof[m]))
                fprs[m].append(fpr_at_recall(y, oof[m]))
        row.update({m: {"auc": round(float(np.mean(a)), 3), "range": [round(min(a), 3), round(max(a), 3)],
                        "fpr_at_recall": round(float(np.mean(fprs[m])), 3)} for m, a in aucs.items()})
    return out


def markdown(res: dict) -> str:
    lines = [f"Calibration half of `{res['set']}`: {res['photos']} real photos; {res['model']}; "
             f"{res['folds']}-fold cross-validation, {res['repeats']} repeats. Each model: ROC AUC of the "
             "out-of-fold confidences, mean [lowest, highest]; then the share of photos without the problem "
             f"that get a tip when tips catch at least {TARGET:.0%} of those with it, against the most that "
             f"precision {TARGET} allows there.", "",
             "| problem | labelled (judged) | false tips allowed | " + " | ".join(MODELS) + " |",
             "|---|---|---|" + "---|" * len(MODELS)]
    for name, row in res["problems"].items():
        cells = [f"{row[m]['auc']:.3f} [{row[m]['range'][0]:.3f}, {row[m]['range'][1]:.3f}]; "
                 f"{row[m]['fpr_at_recall']:.1%}" if m in row else "too few" for m in MODELS]
        allowed = f"{row['fpr_needed']:.1%}" if "fpr_needed" in row else "—"
        lines.append(f"| {name} | {row['positives']} of {row['positives'] + row['negatives']} | {allowed} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default=str(ROOT / "data" / "realset"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-positives", type=int, default=8)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "ceiling.json"))
    args = ap.parse_args(argv)
    settings = load_settings({})
    judgement = load_judgement(settings.photo_check_model)
    t0 = time.perf_counter()
    photos = calibration_photos(args.set, settings)
    samples = samples_of(photos, settings, degraded=False)
    res = {"set": args.set, "photos": len(photos), "model": f"{judgement.id}@{judgement.version}",
           "folds": args.folds, "repeats": args.repeats,
           "problems": ceiling(samples, judgement, folds=args.folds, repeats=args.repeats,
                               min_positives=args.min_positives),
           "seconds": round(time.perf_counter() - t0, 1),
           "machine": machine()}
    write_json(args.out, res, indent=1)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
