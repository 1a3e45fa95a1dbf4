"""Benchmark: how photo-check model files follow the synthetic test, and where two of them part.

    .venv/bin/python bench/synthetic.py [--model FILE ...]     # writes bench/out/synthetic.json, prints the table

Builds the synthetic test's set (`test_photo_check_scores_follow_the_synthetic_truth`: good photos of
data/realset's calibration half, degraded copies rated by simulated raters; study/synthetic.py) and scores it
with each model file (default: the shipped one). Per model (study.synthetic.breakdown): the Spearman within
each source photo, as the mean of the per-source figures (what the test reads, with its Wilcoxon p) and pooled
with each source's mean removed; the mean score drop for each degradation (the copies that carry it, among
others, against the untouched copies; the test reads these too); and the Spearman over all copies pooled,
which also reads how the untouched photos, rated 4 or 5, are ordered against each other (printed by the test,
not asserted: docs/decisions.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from phototips.config import load_settings
from phototips.cpu.checking import decode_upload
from phototips.scoring import create_scorer
from phototips.scoring.result import ScoreRequest
from phototips.study.synthetic import (DEGRADATIONS, TEST_COPIES, TEST_SEED, breakdown, good_sources,
                                       make_synthetic, read_copies)

from report import machine, write_json

ROOT = Path(__file__).resolve().parent.parent


def score_set(ratings_csv: Path, scorer, settings) -> list[dict]:
    return [dict(c, score=scorer.score(decode_upload(c["path"].read_bytes(), settings),
                                       ScoreRequest(want_justification=False)).score)
            for c in read_copies(ratings_csv)]


def markdown(res: dict) -> str:
    names = list(res["models"])
    lines = [f"Synthetic set: {res['sources']} good photos of `{res['set']}`'s calibration half, {res['copies']} "
             f"copies (seed {res['seed']}); {res['machine']}.", "",
             "| | " + " | ".join(f"`{n}`" for n in names) + " |", "|---" * (len(names) + 1) + "|"]
    rows = [("within sources: mean of each source's Spearman (the test's floor)", lambda b: b["within_source_mean"]),
            ("the same: Wilcoxon p", lambda b: f"{b['within_source_p']:.2g}" if b["within_source_p"] is not None else None),
            ("within sources: pooled", lambda b: b["within_source_pooled"]),
            ("Spearman over all copies (printed, not asserted)", lambda b: b["spearman"])]
    rows += [(f"score drop: {d}", lambda b, d=d: b["drop_by_degradation"].get(d)) for d in DEGRADATIONS]
    rows += [(f"copies scoring above their source: {d}",
              lambda b, d=d: "{} of {}".format(*b["above_source"][d]) if d in b["above_source"] else None)
             for d in DEGRADATIONS]
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
