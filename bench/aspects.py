"""Benchmark: the photo check's tips and score against people's labels on the real-photo set.

    .venv/bin/python bench/aspects.py                 # writes bench/out/aspects.json and prints the tables

On data/realset (real photos, labelled per aspect by looking at them, see
docs/realset.md) and on graded degradations of its good photos (labels known by
construction), it reports per aspect and per problem the precision and recall of
the tips a seller would be shown, the tips right, wrong and missed added up over
the aspects people judged, the share of good photos told to fix something other
than resolution, and the Spearman correlation of the score with
the overall labels, each with a bootstrap 95% interval; and per aspect the ROC AUC of its confidence against
people calling it a problem (how well the check orders photos, whatever the tip threshold), and per fitted
problem that of its own confidence model, with, where it has at least 10 labelled, each input's alone and the
model's without each input, the other weights kept (which inputs carry it); and per aspect the best line any tip
threshold could give, chosen on the labels read (`best_line`). `--split holdout` keeps
to the photos the score was not calibrated on; `--batch first` to the 264 photos the set began with
(`screened`: those added from people's screening; `extremes`: the darkest and least detailed source photos,
chosen by plain statistics, docs/realset.md; several may be named, and the targets are read on
`--batch first screened`). `--model FILE` reads another photo-check model file than the shipped one (run once
per file to compare two versions on the same labels). `--sweep` adds, per aspect, what
other tip thresholds would give on each half of the set (choose on the
calibration half, read the held-out one). `--set data/realset-test` reads the fresh test set instead,
which nothing is tuned on: run it once per released version of the photo check.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import precision_recall_curve, roc_auc_score

from phototips.config import load_settings
from phototips.imaging.decode import decode_photo
from phototips.scoring import create_scorer
from phototips.scoring.result import ASPECTS, ScoreRequest
from phototips.study.calibrate import fitted_problems
from phototips.study.degrade import LABELLED_DEGRADATIONS, UNKNOWN_AFTER
from phototips.study.findings_eval import Judged, degraded_report, findings_report, label_agreement
from phototips.study.realset import LOOKED_AT, degraded_copies, in_holdout, load_realset
from phototips.tips.select import select_tips
from report import machine, write_json

ROOT = Path(__file__).resolve().parent.parent


def shown_tips(result, scorer) -> dict[str, str | None]:
    """aspect -> the problem of the tip the seller would see (None: no tip), exactly as the service picks them."""
    tips = select_tips(result.aspects, scorer.catalog, "en", scorer.judgement.weights,
                       min_confidence=scorer.judgement.tip_confidence)
    out = dict.fromkeys(ASPECTS)
    out.update({t["aspect"]: t["problem"] for t in tips})
    return out


SWEEP = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.50, 0.55, ..., 0.95: the per-aspect line's grid


def _auc(labelled: list[bool], confidence: list[float]) -> dict | None:
    if not 0 < sum(labelled) < len(labelled):
        return None
    return {"labelled": sum(labelled), "auc": round(float(roc_auc_score(labelled, confidence)), 4)}


def best_line(labelled: list[bool], confidence: list[float]) -> dict:
    """The confidence line at which the lesser of precision and recall is highest, were every photo at or above
    it flagged, chosen on these very labels: what no tip threshold can beat on them, so where it is under the
    target's 0.8 the gap is in how the photos are ordered, not in where the line is drawn. A photo that can never
    be flagged has a negative confidence, and no line under 0 is considered. A tie goes to the lowest line."""
    precision, recall, lines = precision_recall_curve(labelled, confidence)
    balanced = np.where(lines >= 0, np.minimum(precision[:-1], recall[:-1]), -1.0)
    i = int(np.argmax(balanced))
    return {"line": round(float(lines[i]), 4), "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4), "balanced": round(float(balanced[i]), 4)}


def ranking(photos, results: dict) -> dict:
    """aspect -> ROC AUC of the aspect's confidence (its likeliest problem's, 0 where not judged) against people
    calling the aspect a problem: how well the check orders photos, whatever the tip threshold; and the best
    line a tip threshold could give (best_line), where only a finding the check reports (verdict `improve`, from
    `report_at`) can be shown as a tip."""
    out = {}
    for aspect in LOOKED_AT:
        found = [results[p.file].aspects[aspect] for p in photos]
        labelled = [p.labels[aspect] != "good" for p in photos]
        auc = _auc(labelled, [f.confidence if f.source != "not_judged" else 0.0 for f in found])
        if auc:
            tippable = [f.confidence if f.verdict == "improve" and f.source != "not_judged" else -1.0 for f in found]
            out[aspect] = auc | {"best_line": best_line(labelled, tippable)}
    return out


def problem_ranking(photos, measured: dict, judgement) -> dict:
    """aspect.problem -> ROC AUC of each fitted problem's own confidence model (before any gate) against people
    naming that problem: the figure a change to the model's measurements is judged by (docs/decisions.md). A problem
    with a second look is read through the model each photo was decided by (the second model where the photo was
    looked at again, the cheap one elsewhere), so its figure is the cascade's, as the tips are."""
    out = {}
    for aspect, _, problem in fitted_problems(judgement):
        auc = _auc([p.labels[aspect] == problem.name for p in photos],
                   [problem.confidence(measured[p.file]) for p in photos])
        if auc:
            out[f"{aspect}.{problem.name}"] = auc
    return out


def input_ranking(photos, measured: dict, judgement, least: int = 10) -> dict:
    """aspect.problem -> input -> ROC AUC of that input alone (times its weight's sign, so read as the model uses
    it) and of the model without it, the other weights kept, not refitted, for each fitted problem with at least
    `least` labelled and two inputs: which inputs carry a model (docs/benchmarks.md, the network's batches 4 and 5).
    The problem's own (cheap) model on every photo: a second look's model is not taken apart here."""
    out = {}
    for aspect, _, problem in fitted_problems(judgement):
        labelled = [p.labels[aspect] == problem.name for p in photos]
        if not max(least, 1) <= sum(labelled) < len(labelled) or len(problem.weights) < 2:
            continue
        ms = [measured[p.file] for p in photos]
        out[f"{aspect}.{problem.name}"] = {
            key: {"alone": _auc(labelled, [(1 if w >= 0 else -1) * m[key] for m in ms])["auc"],
                  "without": _auc(labelled, [sum(v * m[k] for k, v in problem.weights.items() if k != key)
                                             for m in ms])["auc"]}
            for key, w in problem.weights.items()}
    return out


def threshold_sweep(photos, results: dict, thresholds=SWEEP) -> dict:
    """aspect -> half -> threshold -> precision, recall and good photos tipped, were tips shown from that
    confidence for this aspect alone (select_tips shows every finding at or above it)."""
    out = {}
    for aspect in LOOKED_AT:
        out[aspect] = {}
        for half in ("calibration", "holdout"):
            group = [p for p in photos if in_holdout(p.file) == (half == "holdout")]
            rows = {}
            for t in thresholds:
                shown = [results[p.file].aspects[aspect].verdict == "improve"
                         and results[p.file].aspects[aspect].confidence >= t for p in group]
                problem = [p.labels[aspect] != "good" for p in group]
                hits = sum(s and b for s, b in zip(shown, problem))
                rows[str(t)] = {"precision": hits / sum(shown) if any(shown) else None,
                                "recall": hits / sum(problem) if any(problem) else None,
                                "good_photos_tipped": sum(s for s, p in zip(shown, group) if p.good)}
            out[aspect][half] = rows
    return out


def run(set_dir: Path, *, scorer_name: str, split: str, resamples: int, degraded: bool,
        sweep: bool = False, batch: list[str] | None = None, model: str | None = None) -> dict:
    settings = load_settings({}, photo_check_model=model) if model else load_settings({})
    scorer = create_scorer(scorer_name, settings)
    photos = load_realset(set_dir, scorer.catalog)
    if split != "all":
        photos = [p for p in photos if in_holdout(p.file) == (split == "holdout")]
    if batch:
        photos = [p for p in photos if p.batch in batch]
        if not photos:
            raise SystemExit(f"no photo of {set_dir} is in batch {' or '.join(batch)}")

    def decoded(data: bytes):
        return decode_photo(data, max_pixels=settings.max_pixels, analysis_side=settings.analysis_side)

    def score(data: bytes):
        return scorer.score(decoded(data), ScoreRequest())

    judged, shown_by_file, results, measured = [], {}, {}, {}
    t0 = time.perf_counter()
    for p in photos:
        result, measured[p.file] = scorer.score_measured(decoded(p.path.read_bytes()), ScoreRequest())
        results[p.file] = result
        shown_by_file[p.file] = shown_tips(result, scorer)
        judged.append(Judged(p.file, p.labels, shown_by_file[p.file], p.overall, result.score, p.good))
    out = {"set": str(set_dir), "split": split, "batch": "+".join(batch) if batch else "all", "scorer": scorer_name,
           "model": scorer.model,
           "real": findings_report(judged, n_resamples=resamples),
           "per_photo": [{"file": j.file, "score": round(j.score, 3), "overall": j.overall,
                          "shown": {a: p for a, p in j.shown.items() if p}} for j in judged]}
    out["ranking"] = ranking(photos, results)
    out["problem_ranking"] = problem_ranking(photos, measured, scorer.judgement)
    out["input_ranking"] = input_ranking(photos, measured, scorer.judgement)
    if sweep:
        out["sweep"] = threshold_sweep(photos, results)
    if degraded:
        rows = []
        intended = {name: (aspect, problem) for name, _, _, aspect, problem in LABELLED_DEGRADATIONS}
        for p in (p for p in photos if p.good):
            for name, _, data in degraded_copies(p):
                aspect, problem = intended[name]
                rows.append({"degradation": name, "aspect": aspect, "problem": problem,
                             "unknown": UNKNOWN_AFTER.get(name, ()),
                             "shown": shown_tips(score(data), scorer), "original_shown": shown_by_file[p.file]})
        out["degraded"] = degraded_report(rows)
    second = set_dir / "labels_second.csv"
    if second.is_file():
        with (set_dir / "labels.csv").open(newline="") as a, second.open(newline="") as b:
            out["agreement"] = label_agreement({r["file"]: r for r in csv.DictReader(a)},
                                               {r["file"]: r for r in csv.DictReader(b)}, LOOKED_AT,
                                               shown={r["file"]: r["shown"] for r in out["per_photo"]})
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["machine"] = machine()
    return out


def _ci(ci) -> str:
    return "" if not ci or any(np.isnan(ci)) else f" [{ci[0]:.2f}, {ci[1]:.2f}]"


def _v(x) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.2f}"


def markdown(res: dict) -> str:
    real = res["real"]
    lines = [f"Set `{res['set']}`, split {res['split']}, batch {res['batch']}, {real['photos']} photos; scorer {res['scorer']} "
             f"({res['model']}).", "",
             "| aspect | labelled problems | tips shown | precision [95% CI] | recall [95% CI] |",
             "|---|---|---|---|---|"]
    for a, r in real["aspects"].items():
        mark = "" if r["target_applies"] else " (under 10 labelled: no target)"
        lines.append(f"| {a}{mark} | {r['labelled']} | {r['flagged']} | {_v(r['precision'])}{_ci(r['precision_ci95'])} "
                     f"| {_v(r['recall'])}{_ci(r['recall_ci95'])} |")
    lines += ["", "| problem | labelled | shown | precision | recall |", "|---|---|---|---|---|"]
    for p, r in real["problems"].items():
        lines.append(f"| {p} | {r['labelled']} | {r['flagged']} | {_v(r['precision'])} | {_v(r['recall'])} |")
    g, t = real["good_photos"], real["tips"]
    lines += ["", f"Tips shown on the aspects people judged (all but resolution): {t['right']} on a labelled "
                  f"aspect ({t['right_problem']} naming its problem), {t['wrong']} wrong; {t['missed']} labelled "
                  f"problems missed.",
              f"Good photos told to fix something other than resolution: **{g['with_any_tip_but_resolution']} "
                  f"of {g['n']} ({_v(g['share'])}{_ci(g['share_ci95'])})**; by aspect: "
                  + ", ".join(f"{a} {n}" for a, n in g["tips_by_aspect"].items() if n),
              f"Spearman of the score with the overall labels: **{_v(real['spearman']['value'])}**"
              f"{_ci(real['spearman']['ci95'])}",
              "", "How each aspect's confidence orders the photos (ROC AUC against a labelled problem): "
              + ", ".join(f"{a} {r['auc']:.3f} ({r['labelled']})" for a, r in res.get("ranking", {}).items()),
              "", "The best any one line on an aspect's confidence could give, chosen on these labels (the highest "
              "of the lesser of precision and recall; the target is 0.8 on both): "
              + ", ".join(f"{a} {r['best_line']['precision']:.2f} / {r['best_line']['recall']:.2f} at "
                          f"{r['best_line']['line']:.2f}" for a, r in res.get("ranking", {}).items()),
              "", "How each fitted problem's own model orders them (ROC AUC against that problem): "
              + ", ".join(f"{a} {r['auc']:.3f} ({r['labelled']})" for a, r in res.get("problem_ranking", {}).items())]
    for name, inputs in res.get("input_ranking", {}).items():
        lines += ["", f"{name}, each input alone / the model without it: "
                  + ", ".join(f"{k} {v['alone']:.3f} / {v['without']:.3f}" for k, v in inputs.items())]
    if "agreement" in res:
        ag = res["agreement"]
        lines += ["", f"Two labellings of the same {ag['photos']} photos: "
                  + ", ".join(f"{a} {v['agreement']:.0%} (κ {v['kappa']:.2f})" for a, v in ag["aspects"].items())
                  + f"; overall exact {ag['overall']['exact']:.0%}, within one {ag['overall']['within_one']:.0%}, "
                  f"weighted κ {ag['overall']['kappa_quadratic']:.2f}, Spearman {ag['overall']['spearman']:.2f}.",
                  "", f"The {ag['compared']} of them in this split, each judged against labels.csv (the first labelling, or "
                  "the majority of three where an aspect has one; hits / flagged / labelled):", "",
                  "| aspect | second person: precision / recall | this scorer: precision / recall |", "|---|---|---|"]
        for a, v in ag["aspects"].items():
            cells = [f"{_v(h['precision'])} / {_v(h['recall'])} ({h['hits']}/{h['flagged']}/{h['labelled']})"
                     for h in (v["second_vs_first"], v["scorer_vs_first"])]
            lines.append(f"| {a} | {cells[0]} | {cells[1]} |")
    if "degraded" in res:
        lines += ["", "| degradation of good photos | n | tip on the aspect | right problem | new tip elsewhere |",
                  "|---|---|---|---|---|"]
        for name, d in res["degraded"].items():
            lines.append(f"| {name} → {d['aspect']}.{d['problem']} | {d['n']} | {d['recall']:.2f} | "
                         f"{d['problem_match']:.2f} | {d['other_new_tip']:.2f}"
                         + (f" (not counting {', '.join(d['not_counted'])})" if d.get("not_counted") else "") + " |")
    if "sweep" in res:
        lines += ["", "Tip threshold per aspect (precision / recall / good photos tipped), calibration half | held out:",
                  "", "| aspect | " + " | ".join(SWEEP_LABELS) + " |", "|---|" + "---|" * len(SWEEP_LABELS)]
        for aspect, halves in res["sweep"].items():
            cells = [" \\| ".join("/".join([_v(r["precision"]), _v(r["recall"]), str(r["good_photos_tipped"])])
                                  for r in (halves["calibration"][t], halves["holdout"][t]))
                     for t in map(str, SWEEP)]
            lines.append(f"| {aspect} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


SWEEP_LABELS = [f"from {t}" for t in SWEEP]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default=str(ROOT / "data" / "realset"))
    ap.add_argument("--scorer", default="photo-check-rules", help="a registered scorer name (default: the rules)")
    ap.add_argument("--split", choices=("all", "calibration", "holdout"), default="all")
    ap.add_argument("--resamples", type=int, default=1000)
    ap.add_argument("--no-degraded", action="store_true")
    ap.add_argument("--sweep", action="store_true", help="P/R per aspect at other tip thresholds, on each half")
    ap.add_argument("--batch", nargs="+", choices=("first", "screened", "extremes"),
                    help="only the photos of these batches of data/realset's manifest (default: every photo)")
    ap.add_argument("--model", help="a photo-check model file (default: the shipped one)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "aspects.json"))
    args = ap.parse_args(argv)
    res = run(Path(args.set), scorer_name=args.scorer, split=args.split, resamples=args.resamples,
              degraded=not args.no_degraded, sweep=args.sweep, batch=args.batch, model=args.model)
    write_json(args.out, res, indent=1)
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
