"""Benchmark: the hero the ranking picks on real listings, against people's ratings, beside ranking by score alone.

    .venv/bin/python bench/hero.py       # writes bench/out/hero.json and prints the figures

The real sets hold several photos of one product where a source has them: a grocery product's photos
(`grocery-<product>_<n>.jpg`) and an Amazon product's (`abo-<product>-<photo>.jpg`), in data/realset and
data/realset-test. Each such group is ranked as a listing by `hero.rank`, with the shipped rules
(models/hero.yaml) and with no penalties (the score alone, the baseline), both in this run. Per way of
ranking: how many heroes carry the group's best overall rating, the mean rating of the heroes, the mean
shortfall from the group's best, and how many heroes people label with a visibility problem.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

from phototips import paths
from phototips.config import load_settings
from phototips.cpu.checking import check_photo
from phototips.hero import Candidate, load_hero_rules, rank
from phototips.scoring import create_scorer
from phototips.scoring.result import ScoreRequest
from phototips.study.realset import load_realset

from report import machine, write_json

SETS = (paths.HOME / "data" / "realset", paths.HOME / "data" / "realset-test")
_PRODUCT = (re.compile(r"^(grocery-.+)_\d+\.jpg$"), re.compile(r"^(abo-[^-]+)-[^-]+\.jpg$"))


def product(file: str) -> str | None:
    """The product a photo shows, where its source names one."""
    return next((m.group(1) for m in (p.match(file) for p in _PRODUCT) if m), None)


def listings(photos) -> dict[str, list]:
    """Product -> its photos, for products with two or more."""
    groups = defaultdict(list)
    for p in photos:
        if (key := product(p.file)) is not None:
            groups[key].append(p)
    return {k: v for k, v in sorted(groups.items()) if len(v) >= 2}


def judge(groups: dict[str, list], candidates: dict, rules, catalog, min_confidence: float) -> dict:
    heroes = []
    for group in groups.values():
        ranked = rank([candidates[p.file] for p in group], rules, catalog, "en", min_confidence)
        hero = next(p for p in group if p.file == ranked[0]["key"])
        heroes.append((hero, max(p.overall for p in group)))
    return {
        "hero_has_the_best_rating": sum(h.overall == best for h, best in heroes),
        "mean_hero_rating": round(statistics.mean(h.overall for h, _ in heroes), 3),
        "mean_shortfall": round(statistics.mean(best - h.overall for h, best in heroes), 3),
        "heroes_labelled_visibility_problem": sum(h.labels["visibility"] != "good" for h, _ in heroes),
    }


def run() -> dict:
    settings = load_settings({})
    scorer = create_scorer("photo-check", settings)
    photos = [p for s in SETS for p in load_realset(s, scorer.catalog)]
    groups = listings(photos)
    candidates = {}
    for group in groups.values():
        for p in group:
            checked = check_photo(p.path.read_bytes(), settings, scorer, ScoreRequest(), keep_photo=False)
            candidates[p.file] = Candidate(p.file, checked.result, checked.phash)
    rules = load_hero_rules(str(paths.MODELS / "hero.yaml"))
    tip = scorer.judgement.tip_confidence
    return {"machine": machine(), "listings": len(groups), "photos": sum(map(len, groups.values())),
            "shipped": judge(groups, candidates, rules, scorer.catalog, tip),
            "score_alone": judge(groups, candidates, replace(rules, penalties={}), scorer.catalog, tip)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).parent / "out" / "hero.json"))
    args = ap.parse_args(argv)
    res = run()
    write_json(args.out, res, indent=1)
    print(f"{res['listings']} real listings, {res['photos']} photos ({res['machine']}); written to {args.out}")
    print(f"{'ranking':<14}{'best rating':>12}{'mean rating':>13}{'shortfall':>11}{'cut off (labels)':>18}")
    for name, label in (("shipped", "shipped"), ("score_alone", "score alone")):
        r = res[name]
        print(f"{label:<14}{r['hero_has_the_best_rating']:>8} / {res['listings']}{r['mean_hero_rating']:>11.3f}"
              f"{r['mean_shortfall']:>11.3f}{r['heroes_labelled_visibility_problem']:>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
