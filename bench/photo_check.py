"""Benchmark: the photo check on 12-megapixel JPEGs vs full-size decoding + BRISQUE, in one run, on one core.

    .venv/bin/python -m pip install -e '.[bench]' && .venv/bin/python bench/photo_check.py

Each photo is timed from JPEG bytes to finished score (decode included). The
baseline decodes the same bytes at full size and scores them with the `brisque`
package's shipped model. Reports medians and their ratio.

    .venv/bin/python bench/photo_check.py --against GITREF [--pairs 5]

times the photo check of another commit (its code and model files, taken with `git archive`) and this
tree's alternately, `--pairs` runs of each in fresh processes, without the baseline: the medians of the
runs' medians and their ratio, and the median of each pair's ratio (`paired_ratio`). A change is read
against the check it replaces on the same machine in the same minutes, which no machine-to-machine
scaling matches (docs/benchmarks.md, 2026-11-30).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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
from report import write_json  # noqa: E402
import phototips  # noqa: E402
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


def _timed_run(repeats: int, out: Path, env: dict | None = None) -> dict:
    """One run of this script without the baseline, in a fresh process; its JSON. No PHOTOTIPS_ setting of
    this shell reaches it (PHOTOTIPS_HOME would point both sides at one tree's models), only `env`'s."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PHOTOTIPS_")}
    run = subprocess.run([sys.executable, __file__, "--baseline-photos", "0", "--repeats", str(repeats),
                          "--out", str(out)], env={**clean, **(env or {})}, capture_output=True, text=True)
    if run.returncode:
        raise SystemExit(f"a timed run failed:\n{run.stderr[-2000:]}")
    return json.loads(out.read_text())


def compare(ref: str, pairs: int, repeats: int) -> dict:
    """The check of commit `ref` and this tree's, timed alternately: ABBA, so that a drift of the machine
    (warming up, another job) weighs on both sides alike."""
    root = Path(__file__).resolve().parent.parent
    runs: dict[str, list[dict]] = {ref: [], "this tree": []}
    with tempfile.TemporaryDirectory() as tmp:
        tree, pkg = Path(tmp) / "tree", Path(tmp) / "pkg"
        tree.mkdir()
        pkg.mkdir()
        archive = subprocess.run(["git", "-C", str(root), "archive", ref, "server", "models", "content",
                                  "prompts"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        (pkg / "phototips").symlink_to(tree / "server")
        # Its package first on the path, and its content and models: the editable install points at this tree.
        theirs = {"PYTHONPATH": os.pathsep.join([str(pkg), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                  "PHOTOTIPS_HOME": str(tree)}
        sides = [(ref, theirs), ("this tree", None)]
        for i in range(pairs):
            for j, (side, env) in enumerate(sides if i % 2 == 0 else sides[::-1]):
                runs[side].append(_timed_run(repeats, Path(tmp) / f"run-{i}-{j}.json", env))
    medians = {k: [r["photo_check_ms"]["median"] for r in v] for k, v in runs.items()}
    out = {"machine": runs[ref][0]["machine"], "against": ref, "pairs": pairs,
           "runs_each": runs[ref][0]["photo_check_ms"]["runs"], "code": {k: v[0]["code"] for k, v in runs.items()},
           "median_ms": {k: statistics.median(v) for k, v in medians.items()}, "run_medians_ms": medians,
           "decode_ms": {k: statistics.median(r["of_which_decode_ms"]["median"] for r in v) for k, v in runs.items()}}
    out["ratio"] = round(out["median_ms"]["this tree"] / out["median_ms"][ref], 4)
    # Each pair's two runs ran one after the other: on a machine whose speed wanders by a third from minute to
    # minute (seen here, 2026-12-01), the median of their ratios holds where the ratio of medians swings.
    out["pair_ratios"] = [round(b / a, 4) for a, b in zip(medians[ref], medians["this tree"])]
    out["paired_ratio"] = round(statistics.median(out["pair_ratios"]), 4)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeats", type=int, default=7, help="timed runs per photo for the photo check")
    ap.add_argument("--baseline-photos", type=int, default=3,
                    help="photos scored by the (slow) baseline; 0 times the photo check alone, to compare two versions of it")
    ap.add_argument("--against", metavar="GITREF", help="time this commit's check alternately with this tree's")
    ap.add_argument("--pairs", type=int, default=5, help="runs of each with --against")
    ap.add_argument("--out", help="default bench/out/photo_check.json, or photo_check_against.json with --against")
    args = ap.parse_args()
    args.out = args.out or f"bench/out/photo_check{'_against' if args.against else ''}.json"
    if args.against:
        result = compare(args.against, args.pairs, args.repeats)
        write_json(args.out, result, indent=2)
        print(json.dumps(result, indent=2))
        return 0

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
        "code": str(Path(phototips.__file__).resolve().parent),
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
    write_json(args.out, result, indent=2)
    print(json.dumps(result, indent=2))
    if base:
        ok = result["photo_check_ms"]["median"] < 30 and result["speedup"] >= 5
        print("targets (median < 30 ms, ≥ 5× baseline):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
