"""Benchmark: the fixes (straighten, crop, lift) on degraded copies of the real-photo set, and their cost.

    .venv/bin/python bench/fixes.py            # writes bench/out/fixes.json

For every good photo of data/realset and each degradation a fix answers (tilted,
far away, darker), the photo check runs on the degraded copy. A copy is
*fixable* when the check finds the problem the degradation made (a fix is
only ever tried for a found problem); the benchmark reports the share of
fixable copies offered the fix (its JPEG, read back as an upload, scores higher
than the copy and than the copy made into a JPEG unedited), the mean gain, and
how often the problem is gone after the fix. It runs the service's own
`fix_photo`.
Time per fix on 12-megapixel phone JPEGs, one core: decode + check + every
offered fix, against decode + check alone in the same run (medians).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import cv2  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from phone_photos import realset_phone_photos  # noqa: E402
from report import machine, write_json  # noqa: E402
from phototips.config import load_settings  # noqa: E402
from phototips.cpu.checking import check_photo, decode_upload, fix_photo  # noqa: E402
from phototips.fixes import FIXES, wanted_fixes  # noqa: E402
from phototips.scoring.registry import create_scorer  # noqa: E402
from phototips.scoring.result import ScoreRequest  # noqa: E402
from phototips.study.realset import degraded_copies, load_realset  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FIXED_BY = {"tilted": "straighten", "far_away": "crop", "darker": "lift"}


def run(set_dir: Path, timing_photos: int, repeats: int, limit: int | None = None) -> dict:
    settings = load_settings({})
    scorer = create_scorer("photo-check", settings)
    rows = []
    for p in [p for p in load_realset(set_dir, scorer.catalog) if p.good][:limit]:
        for name, labels, data in degraded_copies(p):
            if name not in FIXED_BY:
                continue
            # The service's own flow: the check, then the fixes made at the delivered size and checked as uploads.
            result, offered = fix_photo(data, settings, scorer, ScoreRequest())
            found = any(kind == FIXED_BY[name] for kind, _ in wanted_fixes(result))
            offer = {o["fix"]: o for o in offered}.get(FIXED_BY[name])
            gone = None
            if offer:
                after = scorer.score(decode_upload(offer["image"], settings), ScoreRequest())
                aspect = next(a for (a, _), kind in FIXES.items() if kind == FIXED_BY[name])
                gone = after.aspects[aspect].verdict == "good"
            rows.append({"file": p.file, "degradation": name, "found": found, "rises": offer is not None,
                         "gain": offer["gain"] if offer else 0.0, "problem_gone": gone})
    per = {}
    for name, kind in FIXED_BY.items():
        mine = [r for r in rows if r["degradation"] == name]
        fixable = [r for r in mine if r["found"]]
        rises = [r for r in fixable if r["rises"]]
        per[name] = {"fix": kind, "copies": len(mine), "fixable": len(fixable), "score_rises": len(rises),
                     "share_rising": round(len(rises) / len(fixable), 3) if fixable else None,
                     "mean_gain": round(statistics.mean(r["gain"] for r in rises), 3) if rises else None,
                     "problem_gone": sum(bool(r["problem_gone"]) for r in rises)}

    return {"machine": machine(),
            "degraded": per, "timing_12mp": timing(settings, scorer, timing_photos, repeats), "rows": rows}


def timing(settings, scorer, photos: int, repeats: int) -> dict | None:
    """Medians of the check alone and of the check with its fixes on 12 MP phone JPEGs, on one core; None when
    no photo or no run is asked for."""
    phones = realset_phone_photos(photos)
    if not phones or repeats <= 0:
        return None
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    check_ms, fix_ms, offered = [], [], 0
    for _ in range(repeats):
        for data in phones:
            t = time.perf_counter()
            check_photo(data, settings, scorer, ScoreRequest(), False)
            check_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            _, offers = fix_photo(data, settings, scorer, ScoreRequest())
            fix_ms.append((time.perf_counter() - t) * 1000)
            offered += len(offers)
    return {"photos": len(phones), "runs": len(fix_ms), "check_median_ms": round(statistics.median(check_ms), 1),
            "check_and_fixes_median_ms": round(statistics.median(fix_ms), 1),
            "fixes_offered_per_photo": round(offered / len(fix_ms), 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default=str(ROOT / "data" / "realset"))
    ap.add_argument("--timing-photos", type=int, default=6, help="12 MP photos to time on (0: no timing)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--limit", type=int, help="only the first N good photos (a quick look)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "fixes.json"))
    args = ap.parse_args()
    out = run(Path(args.set), args.timing_photos, args.repeats, args.limit)
    write_json(args.out, out, indent=2)
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
