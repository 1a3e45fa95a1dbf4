"""Benchmark: the photo check with another learned reading in place of the edge network's, in one process.

    .venv/bin/python bench/reading_swap.py CANDIDATE.py [--rounds 16]   # writes bench/out/reading_swap.json

CANDIDATE.py defines `edge_reading(rgb)`, returning what `photocheck.edge_net.edge_reading` returns. The
whole check (decode, measurements, hero hash) is timed on the benchmark's six 12 MP JPEGs with the shipped
reading and with the candidate's, swapped in turn around each photo (bench/alternate.py: ABBA over the rounds,
so an even number of rounds), on one core, with the defaults' settings. Reports each side's median and the
median of the pairs' ratios. A candidate that needs a file reads it itself (bench/candidates/).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from phototips.photocheck import measure  # noqa: E402
from phototips.scoring.result import ScoreRequest  # noqa: E402

from alternate import alternate, default_service, parse_args, report  # noqa: E402
from report import machine  # noqa: E402


def load_candidate(path: str | Path):
    spec = importlib.util.spec_from_file_location("reading_candidate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.edge_reading


def swap_times(candidate, rounds: int) -> dict:
    """ms per check with the shipped reading and the candidate's, alternated around each photo."""
    shipped = measure.edge_reading
    svc, req = default_service(), ScoreRequest()

    def check_with(reading):
        def check(raw: bytes):
            measure.edge_reading = reading
            return svc.check(raw, req)
        return check

    try:
        return alternate({"shipped": check_with(shipped), "candidate": check_with(candidate)}, rounds)
    finally:
        measure.edge_reading = shipped


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("candidate", help="a .py file defining edge_reading(rgb)")
    args = parse_args(ap, "bench/out/reading_swap.json")
    result = {"machine": machine(), "candidate": str(args.candidate), "rounds": args.rounds,
              **swap_times(load_candidate(args.candidate), args.rounds)}
    return report(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
