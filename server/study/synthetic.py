"""SYNTHETIC benchmark data: graded degradations of real photos, rated by simulated raters.

No human-rated photo set can be downloaded here, so this makes one in the
ratings format: each real photo (scikit-image's samples, plus any JPEG/PNG in
an extra folder such as ../shared/data/, or instead a given list of photos
with the overall rating people gave them) is copied with 0–3 degradations of
random strength; its true quality is its rating (5 for the samples and the
extra folder) minus a penalty per degradation; each
photo gets 9.5 ± 3.8 ratings (as in the study) from simulated raters with a
personal bias and noise tuned so that raters agree with each other about as
often as the study's humans (54.26%). It checks the evaluation harness and the
direction of scores — never human alignment — and says so in SYNTHETIC.md and
in every report made from it.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .calibrate import calibration_photos
from .degrade import DEGRADATIONS

SAMPLES = ("astronaut", "chelsea", "coffee", "rocket")
PENALTY = 1.3  # quality points lost per degradation at full strength
RATER_NOISE = 0.62
RATER_BIAS = 0.25
MARKER = "SYNTHETIC.md"
# The synthetic test's set: good_sources' photos, TEST_COPIES degraded copies each, seed TEST_SEED (480 copies).
TEST_SOURCES, TEST_COPIES, TEST_SEED = 24, 20, 5


def _read(path: Path) -> np.ndarray:
    # Upright as a viewer shows it (a phone photo's orientation tag), as the check decodes an upload.
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    img.thumbnail((1600, 1600))
    return np.asarray(img)


def _sources(extra_dir: Path | None, photos: Sequence[tuple[Path, float]] | None
             ) -> dict[str, tuple[np.ndarray, float]]:
    """Each source photo by name, with the quality it has untouched."""
    if photos is not None:
        if len({Path(p).stem for p, _ in photos}) < len(photos):
            raise ValueError("two source photos share a name: their copies would overwrite each other")
        return {Path(p).stem: (_read(Path(p)), float(q)) for p, q in photos}
    from skimage import data

    out = {name: (getattr(data, name)(), 5.0) for name in SAMPLES}
    if extra_dir and extra_dir.is_dir():
        for p in sorted(extra_dir.iterdir()):
            if p.suffix.lower() in (".jpg", ".jpeg", ".png"):
                out[p.stem] = (_read(p), 5.0)
    return out


def make_synthetic(out_dir: str | Path, *, per_photo: int = 40, seed: int = 0, raters: int = 929,
                   extra_dir: str | Path | None = None,
                   photos: Sequence[tuple[str | Path, float]] | None = None) -> Path:
    """Write out_dir/images/*.jpg, out_dir/ratings.csv and out_dir/SYNTHETIC.md; return the CSV path.

    `photos` (path, overall rating) replaces the sample scenes and `extra_dir` as the sources."""
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    bias = rng.normal(0, RATER_BIAS, raters)
    names = list(DEGRADATIONS)
    rows, truth = [], []
    for source, (rgb, untouched) in _sources(Path(extra_dir) if extra_dir else None, photos).items():
        for k in range(per_photo):
            img, quality, applied = rgb, untouched, []
            for aspect in rng.choice(names, size=int(rng.integers(0, 4)), replace=False):
                level = float(rng.choice([0.35, 0.65, 1.0]))
                img = DEGRADATIONS[aspect](img, level)
                quality -= PENALTY * level
                applied.append(f"{aspect}:{level}")
            quality = float(np.clip(quality, 1.0, 5.0))
            name = f"images/{source}-{k:03d}.jpg"
            Image.fromarray(img).save(out / name, "JPEG", quality=90)
            truth.append((name, quality, ";".join(applied)))
            n = int(np.clip(round(rng.normal(9.5, 3.8)), 2, 25))
            for r in rng.choice(raters, size=n, replace=False):
                score = int(np.clip(np.floor(quality + bias[r] + rng.normal(0, RATER_NOISE) + 0.5), 1, 5))
                rows.append((name, f"rater-{r:04d}", score, "item"))
    csv_path = out / "ratings.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "rater", "score", "item_type"])
        w.writerows(rows)
    with (out / "truth.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["image", "true_quality", "degradations"])
        w.writerows(truth)
    (out / MARKER).write_text(
        "# SYNTHETIC data\n\nMade by `phototips study synthetic` from real photos with graded degradations and "
        "simulated raters (seed {seed}). It checks the evaluation harness and the direction of scores; it says "
        "nothing about agreement with real buyers.\n".format(seed=seed), encoding="utf-8")
    return csv_path


def good_sources(set_dir: str | Path, settings, count: int = TEST_SOURCES) -> list:
    """The synthetic test's source photos (docs/decisions.md): good ones (every looked-at aspect) rated 4 or 5
    of the first and screened batches' calibration half, the first `count` by the SHA-256 of their names. The
    held-out half stays out of every test that decides what ships."""
    photos = [p for p in calibration_photos(set_dir, settings)
              if p.good and p.overall >= 4 and p.batch in ("first", "screened")]
    return sorted(photos, key=lambda p: hashlib.sha256(p.file.encode()).hexdigest())[:count]


def is_synthetic(ratings_csv: str | Path) -> bool:
    return (Path(ratings_csv).parent / MARKER).is_file()
