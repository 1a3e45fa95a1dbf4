"""Two ways of checking the same photos timed in one process, alternated around each photo.

`photo_check.py --against` times two commits in separate processes; on a machine whose speed wanders by a
third from minute to minute, as this one did (2026-12-01), those runs' ratios spread from 0.85 to 1.24,
while two sides swapped around each photo are read within milliseconds of each other.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Callable

import cv2
import numpy as np

from phototips.config import load_settings
from phototips.service import PhotoService

from photo_check import SOURCES, phone_jpeg
from report import write_json


def parse_args(ap: argparse.ArgumentParser, out: str) -> argparse.Namespace:
    """The script's arguments with --rounds (even) and --out added; the process pinned to one core."""
    ap.add_argument("--rounds", type=int, default=16, help="rounds over the photos (even: each order as often)")
    ap.add_argument("--out", default=out)
    args = ap.parse_args()
    if args.rounds < 2 or args.rounds % 2:
        ap.error("--rounds must be even: half the rounds time each side first")
    one_core()
    return args


def report(out: str, result: dict) -> int:
    write_json(out, result, indent=2)
    print(json.dumps(result, indent=2))
    return 0


def one_core() -> None:
    """The bar is read on one core: pin this process and OpenCV to it."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)


def default_service() -> PhotoService:
    """A service on the defaults' settings: a PHOTOTIPS_ setting of this shell (PHOTOTIPS_HOME, a model file)
    would time something else."""
    for name in [k for k in os.environ if k.startswith("PHOTOTIPS_")]:
        del os.environ[name]
    return PhotoService(load_settings({}))


def alternate(sides: dict[str, Callable[[bytes], object]], rounds: int, photos: list[bytes] | None = None) -> dict:
    """ms per call of each of two sides on `photos` (the benchmark's six 12 MP JPEGs by default), the sides
    swapped around each photo (ABBA over the rounds: `rounds` must be even). The first side is the reference of
    the pairs' ratios; `mean_extra_ms` is the second side's mean cost over the first's."""
    if rounds < 2 or rounds % 2:
        raise ValueError("rounds must be even: half of them time each side first")
    (first, run_first), (second, run_second) = sides.items()
    photos = photos or [phone_jpeg(n, i) for i, n in enumerate(SOURCES)]
    for run in (run_first, run_second):  # warm both: lazy loads and first-call costs stay out of the timing
        for raw in photos[:2]:
            run(raw)
    times: dict[str, list[float]] = {first: [], second: []}
    for r in range(rounds):
        for raw in photos:
            for side in ((first, second) if r % 2 == 0 else (second, first)):
                start = time.perf_counter()
                sides[side](raw)
                times[side].append((time.perf_counter() - start) * 1000)
    ratios = [b / a for a, b in zip(times[first], times[second])]
    return {"pairs": len(ratios), "median_ms": {k: round(statistics.median(v), 2) for k, v in times.items()},
            "mean_extra_ms": round(statistics.fmean(times[second]) - statistics.fmean(times[first]), 3),
            "paired_ratio": round(statistics.median(ratios), 4),
            "pair_ratio_quartiles": [round(float(q), 4) for q in np.percentile(ratios, [25, 75])]}
