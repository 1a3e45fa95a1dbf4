"""The real-photo development set (data/realset): photos, their per-aspect labels and overall 1–5, checked.

`labels.csv` has one row per photo: `file`, one column per aspect holding `good`
or a problem name that the tip catalog lists for that aspect, and `overall` (1–5).
A good photo, for the false-tip rate, is one whose every aspect except
resolution is labelled good (resolution follows from the file's size alone).
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import PhotoTipsError
from ..scoring.result import ASPECTS
from ..tips.catalog import Catalog
from .degrade import LABELLED_DEGRADATIONS

# Aspects judged by looking; resolution is decided from the pixel count.
LOOKED_AT = tuple(a for a in ASPECTS if a != "resolution")


@dataclass(frozen=True)
class LabelledPhoto:
    file: str
    path: Path
    labels: dict[str, str]  # aspect -> "good" or problem
    overall: int
    category: str = ""
    batch: str = ""  # the manifest's batch: how the photo came into the set (docs/realset.md)

    @property
    def good(self) -> bool:
        return all(self.labels[a] == "good" for a in LOOKED_AT)


def load_realset(root: str | Path, catalog: Catalog, labels_file: str = "labels.csv") -> list[LabelledPhoto]:
    """Every labelled photo of the set, or PhotoTipsError naming each bad row."""
    root = Path(root)
    allowed = {a: {"good"} | {t.problem for t in catalog.tips.values() if t.aspect == a} for a in ASPECTS}
    manifest_rows = {}
    manifest = root / "manifest.csv"
    if manifest.is_file():
        with manifest.open(newline="", encoding="utf-8") as fh:
            manifest_rows = {r["file"]: r for r in csv.DictReader(fh)}
    problems, out = [], []
    with (root / labels_file).open(newline="", encoding="utf-8") as fh:
        for line, row in enumerate(csv.DictReader(fh), start=2):
            path = root / "photos" / row.get("file", "")
            if not row.get("file") or not path.is_file():
                problems.append(f"line {line}: no photo {path}")
                continue
            labels = {a: (row.get(a) or "").strip() for a in ASPECTS}
            for a, v in labels.items():
                if v not in allowed[a]:
                    problems.append(f"line {line}: {a}={v!r} is not one of {', '.join(sorted(allowed[a]))}")
            try:
                overall = int(row.get("overall", ""))
                if not 1 <= overall <= 5:
                    raise ValueError
            except ValueError:
                problems.append(f"line {line}: overall must be an integer 1–5, got {row.get('overall')!r}")
                continue
            manifest_row = manifest_rows.get(row["file"], {})
            out.append(LabelledPhoto(row["file"], path, labels, overall, manifest_row.get("category", ""),
                                     manifest_row.get("batch", "")))
    if problems:
        raise PhotoTipsError("bad_labels", f"{root / labels_file}:\n  " + "\n  ".join(problems[:50]))
    return out


def majority(votes: list[str]) -> str:
    """One aspect's label from several people's: `good` unless at least half of them name a problem, then
    the problem most of those name. A tie goes to the earliest vote among the tied problems."""
    problems = [v for v in votes if v != "good"]
    if 2 * len(problems) < len(votes):
        return "good"
    counts = {p: problems.count(p) for p in problems}  # in the order first named
    return max(counts, key=counts.get)


def in_holdout(file: str) -> bool:
    """Half the photos, by a hash of the file name, are never used to calibrate the score: stable as the
    set grows, and independent of labels."""
    return hashlib.sha256(file.encode()).digest()[0] % 2 == 1


def degraded_copies(photo: LabelledPhoto) -> Iterator[tuple[str, dict[str, str], bytes]]:
    """Each graded degradation of a photo as PNG bytes, with the labels it should now have."""
    rgb = np.asarray(ImageOps.exif_transpose(Image.open(photo.path)).convert("RGB"))
    for name, fn, level, aspect, problem in LABELLED_DEGRADATIONS:
        buf = io.BytesIO()
        Image.fromarray(fn(rgb, level)).save(buf, "PNG", compress_level=1)
        yield name, {**photo.labels, aspect: problem}, buf.getvalue()
