"""Benchmark: the photo check with another learned reading in place of the edge network's, in one process.

    .venv/bin/python bench/reading_swap.py CANDIDATE.py [--rounds 16]   # writes bench/out/reading_swap.json

CANDIDATE.py defines `edge_reading(rgb)`, returning what `photocheck.edge_net.edge_reading` returns. The
whole check (decode, measurements, hero hash) is timed on the benchmark's six 12 MP JPEGs with the shipped
reading and with the candidate's, swapped in turn around each photo (ABBA over the rounds, so an even number
of rounds), on one core, with the defaults' settings (no PHOTOTIPS_ variable of this shell reaches it).
Reports each side's median and the median of the pairs' ratios. `photo_check.py --against` times two
commits in separate processes; on a machine whose speed wanders by a third from minute to minute, as this
one did (2026-12-01), those runs' ratios spread from 0.85 to 1.24, while a swap around each photo is read
within milliseconds. A candidate that needs a file reads it itself (bench/candidates/).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from phototips.config import load_settings  # noqa: E402
from phototips.photocheck import measure  # noqa: E402
from phototips.scoring.result import ScoreRequest  # noqa: E402
from phototips.service import PhotoService  # noqa: E402

from photo_check import SOURCES, phone_jpeg  # noqa: E402
from report import machine, write_json  # noqa: E402


def load_candidate(path: str | Path):
    spec = importlib.util.spec_from_file_location("reading_candidate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.edge_reading


def swap_times(candidate, rounds: int) -> dict:
    """ms per check with the shipped reading and the candidate's, alternated around each photo."""
    shipped = measure.edge_reading
    for name in [k for k in os.environ if k.startswith("PHOTOTIPS_")]:
        del os.environ[name]  # a setting of this shell (PHOTOTIPS_HOME, a model file) would time something else
    svc, req = PhotoService(load_settings({})), ScoreRequest()
    photos = [phone_jpeg(n, i) for i, n in enumerate(SOURCES)]
    times: dict[str, list[float]] = {"shipped": [], "candidate": []}
    readings = {"shipped": shipped, "candidate": candidate}
    try:
        for side in readings:  # warm both: lazy loads and first-call costs stay out of the timing
            measure.edge_reading = readings[side]
            for raw in photos[:2]:
                svc.check(raw, req)
        for r in range(rounds):
            for raw in photos:
                for side in (("shipped", "candidate") if r % 2 == 0 else ("candidate", "shipped")):
                    measure.edge_reading = readings[side]
                    start = time.perf_counter()
                    svc.check(raw, req)
                    times[side].append((time.perf_counter() - start) * 1000)
    finally:
        measure.edge_reading = shipped
    ratios = [c / s for s, c in zip(times["shipped"], times["candidate"])]
    return {"pairs": len(ratios), "median_ms": {k: round(statistics.median(v), 2) for k, v in times.items()},
            "paired_ratio": round(statistics.median(ratios), 4),
            "pair_ratio_quartiles": [round(float(q), 4) for q in np.percentile(ratios, [25, 75])]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidate", help="a .py file defining edge_reading(rgb)")
    ap.add_argument("--rounds", type=int, default=16, help="rounds over the six photos (even: each order as often)")
    ap.add_argument("--out", default="bench/out/reading_swap.json")
    args = ap.parse_args()
    if args.rounds < 2 or args.rounds % 2:
        ap.error("--rounds must be even: half the rounds time the shipped reading first, half the candidate's")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)
    result = {"machine": machine(), "candidate": str(args.candidate), "rounds": args.rounds,
              **swap_times(load_candidate(args.candidate), args.rounds)}
    write_json(args.out, result, indent=2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
