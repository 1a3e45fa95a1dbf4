"""Benchmark: the photo check with this tree's model files against another commit's, in one process.

    .venv/bin/python bench/model_swap.py --against GITREF [--rounds 16] [--real]   # writes bench/out/model_swap.json

The other commit's models/ folder (`git archive`) is read by a second photo check beside this tree's; the two are
timed swapped around each photo (bench/alternate.py: ABBA over the rounds, one core, the defaults' settings
otherwise). By default on the benchmark's six 12 MP JPEGs; with --real on the photos of data/realset's first and
screened batches, once each a round, where what a change does on some photos only (a second look, say) is
averaged over photos like sellers' (`mean_extra_ms`). The code is this tree's: a change of code is timed with
`photo_check.py --against` or `reading_swap.py`. Only what the other photo-check.yaml reads from its own folder
comes from the other commit (its calibration file, a second look's network); the edge network (photocheck/edge_net.py)
and the hero ranking's models/hero.yaml are this tree's on both sides.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from phototips.config import load_settings  # noqa: E402
from phototips.scoring.result import ScoreRequest  # noqa: E402
from phototips.service import PhotoService  # noqa: E402
from phototips.study.realset import load_realset  # noqa: E402

from alternate import alternate, default_service, parse_args, report  # noqa: E402
from report import machine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def models_of(ref: str, into: Path) -> Path:
    """The models/ folder of commit `ref`, unpacked under `into`; its photo-check.yaml."""
    tar = subprocess.run(["git", "archive", ref, "models"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    return into / "models" / "photo-check.yaml"


def real_photos(catalog) -> list[bytes]:
    """The photos of data/realset's first and screened batches, the ones the issue's targets are read on."""
    photos = load_realset(ROOT / "data" / "realset", catalog)
    return [p.path.read_bytes() for p in photos if p.batch in ("first", "screened")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", required=True, help="the commit whose models/ are timed against this tree's")
    ap.add_argument("--real", action="store_true", help="the real-photo set's photos instead of the six 12 MP JPEGs")
    args = parse_args(ap, "bench/out/model_swap.json")
    ours, req = default_service(), ScoreRequest()
    with tempfile.TemporaryDirectory() as tmp:
        theirs = PhotoService(load_settings({}, photo_check_model=str(models_of(args.against, Path(tmp)))))
        sides = {args.against: lambda raw: theirs.check(raw, req), "this tree": lambda raw: ours.check(raw, req)}
        photos = real_photos(ours.photo_check.catalog) if args.real else None
        result = {"machine": machine(), "against": args.against, "photos": "real" if args.real else "six 12 MP JPEGs",
                  "models": [theirs.photo_check.model, ours.photo_check.model], "rounds": args.rounds,
                  **alternate(sides, args.rounds, photos)}
    return report(args.out, result)


if __name__ == "__main__":
    sys.exit(main())
