"""Draw the training photos of the photo check's learned edge reading (data/edge-train) from data/realset's sources.

    python scripts/draw_trainset.py MIRROR_DIR WORK_DIR BATCH

With a fixed seed for each batch (1, 2, ...) and without looking at them, it draws photos that neither
data/realset nor data/realset-test nor an earlier batch holds (900 clothing photos, 150 shop photos of
packages, 150 TrashNet objects, the screening pool's mix) and stores each at STORED px on its long side in
data/edge-train/photos, with a manifest naming its source, licence and batch. For the people who label them
(data/edge-train/labels.csv: visibility and background only, one labeller a photo; docs/realset.md) it writes
numbered contact sheets of 20 (WORK_DIR/edge-train-BATCH-sheets/) and the key from number to photo
(WORK_DIR/edge-train-BATCH.csv).

None of these photos is in either evaluation set, so a model trained on them is measured on the
development set's held-out half and the test set like any other part of the photo check. A batch drawn again is
the same while neither evaluation set gains photos (it leaves out all of theirs, as they stand).
"""

from __future__ import annotations

import random
import sys
from io import BytesIO
from pathlib import Path

from PIL import Image, ImageOps

from sample_testset import (ROOT, drawable, manifest_row, manifest_rows, named_picks, source_bytes, source_files,
                            write_manifest)
from screen_realset import DRAW, draw_mix, write_pool

SEED = 20261202
STORED = 128  # px on the long side: the network reads 96 x 96
OUT = ROOT / "data" / "edge-train"


def draw_trainset(mirrors: Path, batch: int) -> list[tuple[str, str, str, str]]:
    """(source key, path, file name, category) of every photo of a training batch, shuffled."""
    rows = manifest_rows(ROOT / "data" / "realset") + manifest_rows(ROOT / "data" / "realset-test")
    if (OUT / "manifest.csv").is_file():
        rows += [r for r in manifest_rows(OUT) if int(r["batch"]) < batch]
    taken, names = {r["source_path"] for r in rows}, {r["file"] for r in rows}
    files, kinds = source_files(mirrors, taken)
    return named_picks(draw_mix(drawable(files), random.Random(SEED + batch - 1), DRAW), kinds, names)


def store(mirrors: Path, picks: list[tuple[str, str, str, str]], batch: int, out: Path | None = None) -> None:
    """Each pick at STORED px (JPEG, quality 85) in out/photos, and its row in out/manifest.csv (replacing the
    batch's earlier rows, if any)."""
    out = out or OUT
    (out / "photos").mkdir(parents=True, exist_ok=True)
    rows = [r for r in manifest_rows(out) if int(r["batch"]) != batch] if (out / "manifest.csv").is_file() else []
    for key, path, name, category in picks:
        with Image.open(BytesIO(source_bytes(mirrors, key, path))) as im:
            im = ImageOps.exif_transpose(im).convert("RGB")
            rows.append({**manifest_row(key, path, name, category, *im.size), "batch": batch})
            im.thumbnail((STORED, STORED), Image.Resampling.LANCZOS)
            im.save(out / "photos" / name, quality=85)
    write_manifest(rows, out)


if __name__ == "__main__":
    if len(sys.argv) != 4 or not sys.argv[3].isdigit() or int(sys.argv[3]) < 1:
        raise SystemExit(__doc__)
    mirror_dir, work_dir, number = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    chosen = draw_trainset(mirror_dir, number)
    store(mirror_dir, chosen, number)
    write_pool(mirror_dir, work_dir, chosen, key=f"edge-train-{number}")
