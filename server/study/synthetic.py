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
from scipy.stats import spearmanr, wilcoxon

from .calibrate import calibration_photos
from .degrade import DEGRADATIONS
from .ratings import read_ratings

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
                rows.append((name, f"rater-{r:04d}", score, "item", source))
    csv_path = out / "ratings.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        # The copies of one source photo are a group: kept on one side of a train/test split (a copy left
        # undegraded is the very photo, and one in each half would be tested on what was trained on).
        w.writerow(["image", "rater", "score", "item_type", "group"])
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


def read_copies(ratings_csv: str | Path) -> list[dict]:
    """Each copy of a set make_synthetic wrote: {"path", "source" (its photo's name), "degradations" (names),
    "truth" (the simulated raters' majority)}."""
    ratings_csv = Path(ratings_csv)
    with (ratings_csv.parent / "truth.csv").open(newline="", encoding="utf-8") as fh:
        applied = {r["image"]: [a.split(":")[0] for a in r["degradations"].split(";") if a]
                   for r in csv.DictReader(fh)}
    return [{"path": r.path, "source": r.image[len("images/"):].rsplit("-", 1)[0],
             "degradations": applied[r.image], "truth": r.majority} for r in read_ratings(ratings_csv)]


def _spearman(a, b) -> float | None:
    """Spearman's rho, or None where either side is constant (it is undefined there)."""
    if len(set(a)) < 2 or len(set(b)) < 2:
        return None
    return float(spearmanr(a, b).statistic)


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def breakdown(copies: list[dict]) -> dict:
    """copies: read_copies' rows with a "score" each -> how the score follows the raters.

    "spearman" pools every copy, so it also reads how the untouched photos are ordered against each other
    (human alignment); the direction of scores is read within each source photo: each one's Spearman over
    its copies ("within_source", their mean, and a one-sided Wilcoxon signed-rank p that they sit above 0),
    pooled with each source's mean removed, and the mean score drop of the copies carrying each degradation
    (among others) against the untouched copies. A mean drop hides the single photo that a degradation makes
    score higher, which is what a seller would see: "above_source" counts, per degradation, the copies carrying it
    that score above their own source's untouched copy (the mean, if several), of those whose source has one."""
    scores = np.array([c["score"] for c in copies], dtype=float)
    truth = np.array([c["truth"] for c in copies], dtype=float)
    untouched, source_score = [], {}
    for c in copies:
        if not c["degradations"]:
            untouched.append(c["score"])
            source_score.setdefault(c["source"], []).append(c["score"])
    source_mean = {source: np.mean(s) for source, s in source_score.items()}
    drops, above = {}, {}
    for name in DEGRADATIONS:
        carrying = [c for c in copies if name in c["degradations"]]
        if carrying and untouched:
            drops[name] = round(float(np.mean([c["score"] for c in carrying]) - np.mean(untouched)), 3)
        paired = [c["score"] > source_mean[c["source"]] for c in carrying if c["source"] in source_mean]
        if paired:
            above[name] = [int(sum(paired)), len(paired)]
    by_source: dict[str, list[int]] = {}
    for i, c in enumerate(copies):
        by_source.setdefault(c["source"], []).append(i)
    within, centred_s, centred_t = [], [], []
    for idx in by_source.values():
        s, t = scores[idx], truth[idx]
        rho = _spearman(list(s), list(t))
        if rho is not None:  # a source whose copies all score, or are all rated, the same has no order
            within.append(rho)
        centred_s += list(s - s.mean())
        centred_t += list(t - t.mean())
    p = float(wilcoxon(within, alternative="greater").pvalue) if len(within) > 1 else None
    return {"spearman": _rounded(_spearman(list(scores), list(truth))),
            "drop_by_degradation": drops,
            "above_source": above,
            "within_source": [round(r, 3) for r in within],
            "within_source_mean": _rounded(float(np.mean(within))) if within else None,
            "within_source_p": p,
            "within_sources_counted": len(within),
            "within_source_pooled": _rounded(_spearman(centred_s, centred_t)),
            "copies": len(copies), "sources": len(by_source)}


def is_synthetic(ratings_csv: str | Path) -> bool:
    return (Path(ratings_csv).parent / MARKER).is_file()
