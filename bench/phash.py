"""Benchmark: the hero ranking's perceptual hash against imagehash's own phash, on real photos.

    .venv/bin/python bench/phash.py [--limit N]     # writes bench/out/phash.json and prints the figures

Every photo of data/realset and data/realset-test, and the photo check benchmark's six 12 MP JPEGs, decoded as
an upload is. Per photo the bits between `hero.perceptual_hash` and `imagehash.phash` (a change of the hash
must keep these small: open listings hold hashes of both kinds across a deploy); over all pairs of different
photos, how many fall within `duplicate_distance` (false duplicates) with each; how many of each photo's
near-copies (a JPEG re-encode at quality 70; a copy shrunk to 70% and re-encoded at 90) stay within it; and
the time per hash. With the shipped hash the two are the same function, and every difference reads 0.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from phototips import paths
from phototips.config import load_settings
from phototips.cpu.checking import decode_upload
from phototips.hero import load_hero_rules, perceptual_hash

from photo_check import SOURCES, phone_jpeg
from report import machine, write_json

ROOT = Path(__file__).resolve().parent.parent


def photos(limit: int | None) -> list[tuple[str, bytes]]:
    files = sorted((ROOT / "data" / "realset" / "photos").iterdir())[:limit] + sorted(
        (ROOT / "data" / "realset-test" / "photos").iterdir())[:limit]
    return [(f.name, f.read_bytes()) for f in files] + [(n, phone_jpeg(n, i)) for i, n in enumerate(SOURCES[:limit])]


def reencoded(raw: bytes, quality: int, scale: float = 1.0) -> bytes:
    img = Image.open(io.BytesIO(raw)).convert("RGB")
    if scale != 1.0:
        img = img.resize((max(16, int(img.width * scale)), max(16, int(img.height * scale))),
                         Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def close_pairs(bits: np.ndarray, distance: int) -> int:
    """Pairs of different photos whose hashes are within `distance` bits."""
    apart = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    return int((apart[np.triu_indices(len(bits), 1)] <= distance).sum())


def run(limit: int | None) -> dict:
    settings = load_settings({})
    distance = load_hero_rules(str(paths.MODELS / "hero.yaml")).duplicate_distance
    fns = {"imagehash": imagehash.phash, "hero": perceptual_hash}
    found = {k: [] for k in fns}
    seconds, near = dict.fromkeys(fns, 0.0), dict.fromkeys(fns, 0)
    for _, raw in photos(limit):
        pil = decode_upload(raw, settings).pil
        copies = [decode_upload(c, settings).pil for c in (reencoded(raw, 70), reencoded(raw, 90, 0.7))]
        for k, fn in fns.items():
            start = time.perf_counter()
            h = fn(pil)
            seconds[k] += time.perf_counter() - start
            found[k].append(h)
            near[k] += sum(int(fn(c) - h <= distance) for c in copies)
    n = len(found["hero"])
    apart = [a - b for a, b in zip(found["hero"], found["imagehash"])]
    return {"machine": machine(), "photos": n, "duplicate_distance": distance,
            "bits_from_imagehash": {"max": int(max(apart)), "histogram": np.bincount(apart).tolist()},
            "pairs": n * (n - 1) // 2,
            "close_pairs": {k: close_pairs(np.array([h.hash.ravel() for h in v]), distance) for k, v in found.items()},
            "near_copies_within": near, "near_copies": 2 * n,
            "ms_per_hash": {k: round(t / n * 1000, 3) for k, t in seconds.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="the first N photos of each source (a smoke run)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "phash.json"))
    args = ap.parse_args(argv)
    res = run(args.limit)
    write_json(args.out, res, indent=1)
    print(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
