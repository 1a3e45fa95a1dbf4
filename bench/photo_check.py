"""Benchmark: the photo check on 12-megapixel JPEGs vs full-size decoding + BRISQUE, in one run, on one core.

    .venv/bin/python -m pip install -e '.[bench]' && .venv/bin/python bench/photo_check.py

Each photo is timed from JPEG bytes to finished score (decode included). The
baseline decodes the same bytes at full size and scores them with the `brisque`
package's shipped model. Reports medians and their ratio.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage import data  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import phone_photos  # noqa: E402
from phototips.config import load_settings  # noqa: E402
from phototips.cpu.checking import decode_upload  # noqa: E402
from phototips.scoring.result import ScoreRequest  # noqa: E402
from phototips.service import PhotoService  # noqa: E402

SOURCES = ("coffee", "astronaut", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry")


def phone_jpeg(name: str, seed: int) -> bytes:
    """A 4000×3000 JPEG from a real photo, with sensor-like grain so it compresses like a phone's (~3 MB)."""
    return phone_photos.phone_jpeg(getattr(data, name)(), seed, size=(4000, 3000), grain=3.0)


def make_brisque():
    """The brisque package's model, with a shim for NumPy 2: some of its features come out as
    1-element arrays, which NumPy 2 no longer converts with float(). Values are unchanged."""
    from brisque import BRISQUE

    class Brisque(BRISQUE):
        def calculate_image_quality_score(self, features):
            flat = np.array([np.asarray(f, dtype=np.float64).reshape(-1)[0] for f in features])
            return super().calculate_image_quality_score(flat)

    return Brisque(url=False)


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7, help="timed runs per photo for the photo check")
    ap.add_argument("--baseline-photos", type=int, default=3,
                    help="photos scored by the (slow) baseline; 0 times the photo check alone, to compare two versions of it")
    ap.add_argument("--out", default="bench/out/photo_check.json")
    args = ap.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    cv2.setNumThreads(1)

    photos = [phone_jpeg(n, i) for i, n in enumerate(SOURCES)]
    svc = PhotoService(load_settings({}))
    req = ScoreRequest()

    def photo_check(raw: bytes):
        return svc.check(raw, req).result

    for raw in photos[:2]:
        photo_check(raw)  # warm caches and lazy imports
    ours = [timed(photo_check, raw) for _ in range(args.repeats) for raw in photos]
    decode_only = [timed(decode_upload, raw, svc.settings) for _ in range(args.repeats) for raw in photos]
    base = []
    if args.baseline_photos > 0:
        brisque = make_brisque()

        def baseline(raw: bytes):
            return brisque.score(np.asarray(Image.open(io.BytesIO(raw)).convert("RGB")))

        baseline(photos[0][:])  # import and model load outside the timing
        base = [timed(baseline, raw) for raw in photos[: args.baseline_photos]]

    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores (1 used), "
                   f"Python {platform.python_version()}, OpenCV {cv2.__version__}",
        "photos": len(photos),
        "megapixels": 12.0,
        "mean_jpeg_mb": round(statistics.mean(len(p) for p in photos) / 1e6, 2),
        "photo_check_ms": {"median": round(statistics.median(ours), 1),
                           "p95": round(float(np.percentile(ours, 95)), 1), "runs": len(ours)},
        "of_which_decode_ms": {"median": round(statistics.median(decode_only), 1)},
    }
    if base:
        result["baseline_ms"] = {"median": round(statistics.median(base), 1), "runs": len(base)}
        result["speedup"] = round(result["baseline_ms"]["median"] / result["photo_check_ms"]["median"], 1)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if base:
        ok = result["photo_check_ms"]["median"] < 30 and result["speedup"] >= 5
        print("targets (median < 30 ms, ≥ 5× baseline):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
