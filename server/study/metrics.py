"""Alignment of a scorer with human majority ratings, as in the study, with bootstrap 95% intervals.

Percent agreement (exact match of ratings), Cohen's weighted kappa — quadratic
and linear, both reported because the study's table does not say which — and
Pearson and Spearman correlations (continuous score against the majority).
scikit-learn and scipy compute them; intervals come from a paired bootstrap
over images (scipy.stats.bootstrap, percentile method).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import stats
from sklearn.metrics import accuracy_score, cohen_kappa_score

from .ratings import Rated, majority_vote

LABELS = [1, 2, 3, 4, 5]


def _kappa(weights):
    def f(human, rating):
        return cohen_kappa_score(human, rating, weights=weights, labels=LABELS)
    return f


METRICS = {
    "percent_agreement": lambda human, rating, score: accuracy_score(human, rating),
    "kappa_quadratic": lambda human, rating, score: _kappa("quadratic")(human, rating),
    "kappa_linear": lambda human, rating, score: _kappa("linear")(human, rating),
    "pearson": lambda human, rating, score: stats.pearsonr(score, human).statistic,
    "spearman": lambda human, rating, score: stats.spearmanr(score, human).statistic,
}


def alignment(human, score, *, n_resamples: int = 2000, seed: int = 0) -> dict:
    """Every metric with its bootstrap 95% interval. `score` is continuous 1–5; its rating is rounded half up."""
    human = np.asarray(human, dtype=int)
    score = np.asarray(score, dtype=float)
    rating = np.clip(np.floor(score + 0.5), 1, 5).astype(int)
    out = {"n": int(len(human))}
    for name, fn in METRICS.items():
        value = float(fn(human, rating, score))
        ci = [float("nan"), float("nan")]
        if len(human) >= 10 and not np.isnan(value):
            res = stats.bootstrap(
                (human, rating, score), lambda h, r, s: fn(h, r, s), paired=True, vectorized=False,
                n_resamples=n_resamples, confidence_level=0.95, method="percentile",
                random_state=np.random.default_rng(seed))
            ci = [float(res.confidence_interval.low), float(res.confidence_interval.high)]
        out[name] = {"value": value, "ci95": ci}
    return out


def human_ceiling(rated: list[Rated]) -> dict:
    """How often one person agrees with the others: each rating against the majority vote of the
    other raters of the same image (images with at least 3 ratings), and plain pairwise agreement."""
    loo_hits = loo_n = pair_hits = pair_n = 0
    for r in rated:
        scores = list(r.scores)
        if len(scores) >= 3:
            for i, s in enumerate(scores):
                loo_hits += s == majority_vote(scores[:i] + scores[i + 1:])
                loo_n += 1
        counts = Counter(scores)
        pair_hits += sum(c * (c - 1) for c in counts.values())
        pair_n += len(scores) * (len(scores) - 1)
    return {"leave_one_out_agreement": loo_hits / loo_n if loo_n else float("nan"), "ratings": loo_n,
            "pairwise_agreement": pair_hits / pair_n if pair_n else float("nan")}
