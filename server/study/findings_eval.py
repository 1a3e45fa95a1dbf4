"""How well a scorer's tips match people's labels: precision and recall per aspect and problem, the tips
right, wrong and missed over all judged aspects, the share of good photos told to fix something, and the
score's rank correlation with the overall labels.

A tip counts when it would be shown to the seller. Intervals are 95% percentile
bootstraps over photos (the same resampled photos for every metric of a row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..scoring.result import ASPECTS
from .realset import LOOKED_AT


@dataclass
class Judged:
    """One photo: what people said and what the scorer would show."""

    file: str
    labels: dict[str, str]  # aspect -> "good" or problem
    shown: dict[str, str | None]  # aspect -> problem of the tip shown, None when no tip
    overall: int
    score: float
    good: bool  # every aspect but resolution labelled good


def _bootstrap(fn, n: int, n_resamples: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    values = [fn(rng.integers(0, n, n)) for _ in range(n_resamples)]
    values = np.array([v for v in values if v is not None and not np.isnan(v)])
    if len(values) < n_resamples // 2:
        return [float("nan"), float("nan")]
    return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]


def _hits(truth, pred) -> dict:
    """Precision and recall of `pred` against `truth` (NaN where undefined), with the counts behind them."""
    t, p = np.asarray(truth, bool), np.asarray(pred, bool)
    hits = int((t & p).sum())
    return {"labelled": int(t.sum()), "flagged": int(p.sum()), "hits": hits,
            "precision": hits / float(p.sum()) if p.any() else float("nan"),
            "recall": hits / float(t.sum()) if t.any() else float("nan")}


def _pr(truth: np.ndarray, pred: np.ndarray, n_resamples: int, seed: int) -> dict:
    """_hits, with bootstrap intervals of precision and recall."""
    def prec(idx):
        return _hits(truth[idx], pred[idx])["precision"]

    def rec(idx):
        return _hits(truth[idx], pred[idx])["recall"]

    n = len(truth)
    return {**_hits(truth, pred), "precision_ci95": _bootstrap(prec, n, n_resamples, seed),
            "recall_ci95": _bootstrap(rec, n, n_resamples, seed + 1)}


def findings_report(judged: list[Judged], *, n_resamples: int = 1000, seed: int = 0,
                    min_labelled: int = 10) -> dict:
    """Every figure of the aspects benchmark for one scorer on one labelled set."""
    out: dict = {"photos": len(judged), "aspects": {}, "problems": {}}
    for a in ASPECTS:
        truth = np.array([j.labels[a] != "good" for j in judged])
        pred = np.array([j.shown.get(a) is not None for j in judged])
        row = _pr(truth, pred, n_resamples, seed)
        row["target_applies"] = row["labelled"] >= min_labelled
        out["aspects"][a] = row
        problems = sorted({j.labels[a] for j in judged if j.labels[a] != "good"}
                          | {j.shown[a] for j in judged if j.shown.get(a)})
        for p in problems:
            t = np.array([j.labels[a] == p for j in judged])
            q = np.array([j.shown.get(a) == p for j in judged])
            out["problems"][f"{a}.{p}"] = _pr(t, q, n_resamples, seed)

    # Tips a seller would be shown, added up over the aspects people judged (resolution follows from the size
    # alone): a change that trades one aspect's figures against another's is read on these, wrong tips and
    # missed problems side by side. "right" is a tip on a labelled aspect, as in the per-aspect table, even
    # where it names another of its problems; "right_problem" only those naming the labelled one.
    out["tips"] = {"right": sum(out["aspects"][a]["hits"] for a in LOOKED_AT),
                   "right_problem": sum(j.shown.get(a) == j.labels[a] for j in judged for a in LOOKED_AT
                                        if j.labels[a] != "good"),
                   "wrong": sum(out["aspects"][a]["flagged"] - out["aspects"][a]["hits"] for a in LOOKED_AT),
                   "missed": sum(out["aspects"][a]["labelled"] - out["aspects"][a]["hits"] for a in LOOKED_AT)}

    good = [j for j in judged if j.good]
    told = np.array([any(j.shown.get(a) for a in LOOKED_AT) for j in good])
    out["good_photos"] = {
        "n": len(good),
        "with_any_tip_but_resolution": int(told.sum()),
        "share": float(told.mean()) if good else float("nan"),
        "share_ci95": _bootstrap(lambda i: float(told[i].mean()), len(good), n_resamples, seed) if good else None,
        "tips_by_aspect": {a: sum(1 for j in good if j.shown.get(a)) for a in LOOKED_AT},
    }

    overall = np.array([j.overall for j in judged], dtype=float)
    score = np.array([j.score for j in judged], dtype=float)

    def rho(idx=slice(None)):
        o, s = overall[idx], score[idx]
        return float(stats.spearmanr(s, o).statistic) if np.ptp(o) and np.ptp(s) else float("nan")

    out["spearman"] = {"value": rho(), "ci95": _bootstrap(rho, len(judged), n_resamples, seed + 2)}
    return out


def degraded_report(rows: list[dict]) -> dict:
    """Per degradation: how often the intended aspect got a tip (and the intended problem), and how often
    a tip appeared on another aspect that the original photo did not have and that the degradation does
    not leave unknown.

    rows: {"degradation", "aspect", "problem", "shown": {aspect: problem|None}, "original_shown": {...},
    "unknown": [aspect, ...] (optional)}
    """
    out: dict = {}
    for name in dict.fromkeys(r["degradation"] for r in rows):
        rs = [r for r in rows if r["degradation"] == name]
        aspect, problem = rs[0]["aspect"], rs[0]["problem"]
        caught = [r["shown"].get(aspect) is not None for r in rs]
        exact = [r["shown"].get(aspect) == problem for r in rs]
        collateral = [
            any(p and not r["original_shown"].get(a) for a, p in r["shown"].items()
                if a not in (aspect, "resolution", *r.get("unknown", ())))
            for r in rs
        ]
        out[name] = {"aspect": aspect, "problem": problem, "n": len(rs), "recall": float(np.mean(caught)),
                     "problem_match": float(np.mean(exact)), "other_new_tip": float(np.mean(collateral)),
                     "not_counted": sorted({a for r in rs for a in r.get("unknown", ())})}
    return out


def label_agreement(first: dict[str, dict], second: dict[str, dict], aspects,
                    shown: dict[str, dict] | None = None) -> dict:
    """How two people's labels of the same photos agree: per aspect (problem or not) percent agreement and
    Cohen's kappa; for the overall 1–5, exact and within-one agreement and quadratic-weighted kappa.

    Per aspect also the second person's precision and recall against the first. Given `shown` (file ->
    aspect -> problem of the tip shown, or None), both that and the scorer's precision and recall are read
    on the photos both people labelled *and* the scorer judged (`compared`; a split may hold only some),
    so the two columns are on the same photos: the ceiling a target on precision and recall should be
    read against, where another careful person falls short of it too. Agreement and kappa stay on every
    photo both people labelled."""
    from sklearn.metrics import cohen_kappa_score

    files = sorted(set(first) & set(second))
    if not files:
        raise ValueError("no photo is labelled by both people")
    compared = [f for f in files if shown is None or f in shown]
    out: dict = {"photos": len(files), "compared": len(compared), "aspects": {}}
    for a in aspects:
        x = [first[f][a] != "good" for f in files]
        y = [second[f][a] != "good" for f in files]
        kappa = cohen_kappa_score(x, y) if len(set(x) | set(y)) > 1 else float("nan")
        truth = [first[f][a] != "good" for f in compared]
        row = {"agreement": float(np.mean(np.array(x) == np.array(y))), "kappa": float(kappa),
               "problems_first": int(sum(x)), "problems_second": int(sum(y)),
               "second_vs_first": _hits(truth, [second[f][a] != "good" for f in compared])}
        if shown is not None:
            row["scorer_vs_first"] = _hits(truth, [shown[f].get(a) is not None for f in compared])
        out["aspects"][a] = row
    o1 = np.array([int(first[f]["overall"]) for f in files])
    o2 = np.array([int(second[f]["overall"]) for f in files])
    out["overall"] = {"exact": float(np.mean(o1 == o2)), "within_one": float(np.mean(np.abs(o1 - o2) <= 1)),
                      "kappa_quadratic": float(cohen_kappa_score(o1, o2, weights="quadratic")),
                      "spearman": float(stats.spearmanr(o1, o2).statistic)}
    return out
