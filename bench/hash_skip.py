"""Benchmark: the photo check of a photo a listing will rank (hashed) against one scored alone (not hashed).

    .venv/bin/python bench/hash_skip.py [--rounds 16]   # writes bench/out/hash_skip.json

The whole check (decode, measurements, and the hero hash or not) on the benchmark's six 12 MP JPEGs, the two
alternated around each photo in one process (bench/alternate.py), on one core, with the defaults' settings.
`paired_ratio` is the unhashed check's time over the hashed one's: what a `/v1/score` call without a
`listing_id` costs against the figure the 30 ms bar is read on (`bench/photo_check.py`, which hashes).
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from phototips.scoring.result import ScoreRequest  # noqa: E402

from alternate import alternate, default_service, parse_args, report  # noqa: E402
from report import machine  # noqa: E402


def sides(svc, req) -> dict:
    """The two checks timed: as a listing's photo is checked, and as a photo scored alone."""
    return {"hashed": lambda raw: svc.check(raw, req), "unhashed": lambda raw: svc.check(raw, req, hashed=False)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args = parse_args(ap, "bench/out/hash_skip.json")
    svc, req = default_service(), ScoreRequest()
    result = {"machine": machine(), "rounds": args.rounds, **alternate(sides(svc, req), args.rounds)}
    return report(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
