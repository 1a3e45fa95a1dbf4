"""Benchmark: how photo-check model files follow the synthetic test, and where two of them part.

    .venv/bin/python bench/synthetic.py [--model FILE ...]     # writes bench/out/synthetic.json, prints the table

Builds the synthetic test's set (`test_photo_check_scores_follow_the_synthetic_truth`: good photos of
data/realset's calibration half, degraded copies rated by simulated raters; study/synthetic.py) and scores it
with each model file (default: the shipped one). Per model: the Spearman the test reads; the mean score drop
for each degradation (the copies that carry it, among others, against the untouched copies); and the Spearman
within each source photo, as the mean of the per-source figures and pooled with each source's mean removed.
A model can lose the test within sources (it does not follow the degradations) or between them (it orders
the untouched photos, rated 4 or 5, otherwise than people did): this tells which.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from phototips.config import load_settings
from phototips.cpu.checking import decode_upload
from phototips.scoring import create_scorer
from phototips.scoring.result import ScoreRequest
from phototips.study.ratings import read_ratings
from phototips.study.synthetic import DEGRADATIONS, TEST_COPIES, TEST_SEED, good_sources, make_synthetic

from report import machine, write_json

ROOT = Path(__file__).resolve().parent.parent


def _spearman(a, b) -> float | None:
    """Spearman's rho, or None where either side is constant (it is undefined there)."""
    if len(set(a)) < 2 or len(set(b)) < 2:
        return None
    return round(float(spearmanr(a, b).statistic), 3)


def breakdown(copies: list[dict]) -> dict:
    """copies: {"source", "degradations" (names), "truth" (the raters' majority), "score"} -> the figures."""
    scores = np.array([c["score"] for c in copies], dtype=float)
    truth = np.array([c["truth"] for c in copies], dtype=float)
    untouched = [c["score"] for c in copies if not c["degradations"]]
    drops = {}
    for name in DEGRADATIONS:
        carrying = [c["score"] for c in copies if name in c["degradations"]]
        if carrying and untouched:
            drops[name] = round(float(np.mean(carrying) - np.mean(untouched)), 3)
    by_source = defaultdict(list)
    for i, c in enumerate(copies):
        by_source[c["source"]].append(i)
    within, centred_s, centred_t = [], [], []
    for idx in by_source.values():
        s, t = scores[idx], truth[idx]
        rho = _spearman(list(s), list(t))
        if rho is not None:  # a source whose copies all score, or are all rated, the same has no order
            within.append(rho)
        centred_s += list(s - s.mean())
        centred_t += list(t - t.mean())
    return {"spearman": _spearman(list(scores), list(truth)),
            "drop_by_degradation": drops,
            "within_source_mean": round(float(np.mean(within)), 3) if within else None,
            "within_sources_counted": len(within),
            "within_source_pooled": _spearman(centred_s, centred_t),
            "copies": len(copies), "sources": len(by_source)}


def score_set(ratings_csv: Path, scorer, settings) -> list[dict]:
    with (ratings_csv.parent / "truth.csv").open(newline="", encoding="utf-8") as fh:
        applied = {r["image"]: [a.split(":")[0] for a in r["degradations"].split(";") if a]
                   for r in csv.DictReader(fh)}
    out = []
    for r in read_ratings(ratings_csv):
        photo = decode_upload(r.path.read_bytes(), settings)
        out.append({"source": r.image[len("images/"):].rsplit("-", 1)[0], "degradations": applied[r.image],
                    "truth": r.majority,
                    "score": scorer.score(photo, ScoreRequest(want_justification=False)).score})
    return out


def markdown(res: dict) -> str:
    names = list(res["models"])
    lines = [f"Synthetic set: {res['sources']} good photos of `{res['set']}`'s calibration half, {res['copies']} "
             f"copies (seed {res['seed']}); {res['machine']}.", "",
             "| | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    rows = [("Spearman (what the test reads)", lambda b: b["spearman"]),
            ("within sources: mean of each source's", lambda b: b["within_source_mean"]),
            ("within sources: pooled", lambda b: b["within_source_pooled"])]
    rows += [(f"score drop: {d}", lambda b, d=d: b["drop_by_degradation"].get(d)) for d in DEGRADATIONS]
    for label, get in rows:
        lines.append(f"| {label} | " + " | ".join(f"{get(res['models'][n])}" for n in names) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default=str(ROOT / "data" / "realset"))
    ap.add_argument("--model", action="append", help="a photo-check model file (repeatable; default the shipped)")
    ap.add_argument("--sources", type=int, default=None, help="fewer source photos (a smoke run)")
    ap.add_argument("--copies", type=int, default=TEST_COPIES, help="degraded copies per source photo")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "synthetic.json"))
    args = ap.parse_args(argv)
    settings = load_settings({})
    models = args.model or [settings.photo_check_model]
    sources = good_sources(args.set, settings)
    if args.sources is not None:
        sources = sources[:args.sources]
    t0 = time.perf_counter()
    res = {"set": args.set, "seed": TEST_SEED, "sources": len(sources), "machine": machine(), "models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        ratings = make_synthetic(Path(tmp), per_photo=args.copies, seed=TEST_SEED,
                                 photos=[(p.path, p.overall) for p in sources])
        for model in models:
            model_settings = load_settings({}, photo_check_model=model)
            scorer = create_scorer("photo-check", model_settings)
            name = scorer.model if scorer.model not in res["models"] else f"{scorer.model} ({model})"
            if name in res["models"]:
                raise SystemExit(f"{model} is given twice")
            res["models"][name] = breakdown(score_set(ratings, scorer, model_settings))
    res["copies"] = next(iter(res["models"].values()))["copies"]
    res["seconds"] = round(time.perf_counter() - t0, 1)
    write_json(args.out, res, indent=1)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
