"""Find more real bad photos for data/realset: draw a pool at random, let people screen it, copy what they name.

    python scripts/screen_realset.py pool MIRROR_DIR WORK_DIR
    python scripts/screen_realset.py add MIRROR_DIR WORK_DIR NUMBER [NUMBER ...]
    python scripts/screen_realset.py extremes MIRROR_DIR WORK_DIR

`pool` draws, with a fixed seed and without looking at them, photos that neither data/realset nor
data/realset-test holds (900 clothing photos, 150 shop photos of packages, 150 TrashNet objects), numbers
them in a shuffled order and writes contact sheets of 20 (WORK_DIR/sheets/) for people to screen, and the
key from number to source (WORK_DIR/pool.csv), which the screeners are not shown. `add` copies the photos
with the given numbers unchanged into data/realset/photos and appends them to its manifest; their labels
are added by people who look at each photo (docs/realset.md, "How to label").

Screening by people rather than by the photo check's own measurements keeps the added photos from being
the ones the check already finds.

`extremes` takes instead, from every drawable photo that neither set holds, the EXTREMES darkest (mean
brightness) and the EXTREMES least detailed (variance of the Laplacian), both read at 256 px on the long side
by plain statistics, not the photo check's; it writes their key and sheets (WORK_DIR/extremes.csv,
WORK_DIR/extremes-sheets/) and adds all of them, batch `extremes`, before anyone has looked at them (run
again, it draws the same photos and refuses them as already in the set): a random pool holds too few dark or blurred photos to tell what
people think they cost (docs/decisions.md).
"""

from __future__ import annotations

import csv
import random
import subprocess
import sys
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageOps

from sample_testset import (ROOT, SOURCES, drawable, manifest_rows, named_picks, repo_dir, source_bytes, source_files,
                            write_manifest, write_photos)

SEED = 20261201
DRAW = {"clothing": 900, "grocery": 150, "trashnet": 150}
EXTREMES = 60  # darkest, and as many least detailed
STATISTICS_SIDE = 256
SHEET = 20  # photos per contact sheet: 5 x 4 cells
CELL = 320


def draw_pool(mirrors: Path) -> list[tuple[str, str, str, str]]:
    """(source key, path, file name, category) of every pooled photo, in the shuffled order of its number."""
    # The set as it stood before this screening, so that the draw repeats after `add`.
    rows = manifest_rows(ROOT / "data" / "realset", first_batch_only=True) + manifest_rows(ROOT / "data" / "realset-test")
    taken, names = {r["source_path"] for r in rows}, {r["file"] for r in rows}
    files, kinds = source_files(mirrors, taken)
    return named_picks(draw_mix(drawable(files), random.Random(SEED), DRAW), kinds, names)


def draw_mix(pools: dict[str, list[str]], rng: random.Random, counts: dict[str, int]) -> list[tuple[str, str]]:
    """(source key, path) of `counts` clothing photos, shop photos and TrashNet objects drawn from `pools`, shuffled."""
    picks = [("clothing", p) for p in rng.sample(pools["clothing"], counts["clothing"])]
    picks += [("grocery", p) for p in rng.sample(pools["shop"], counts["grocery"])]
    picks += [("trashnet", p) for p in rng.sample(pools["trashnet"], counts["trashnet"])]
    rng.shuffle(picks)
    return picks


def _sheet(images: list[tuple[int, Image.Image]]) -> Image.Image:
    """A contact sheet of up to 20 numbered photos, 5 x 4."""
    sheet = Image.new("RGB", (5 * CELL, 4 * CELL), "grey")
    draw = ImageDraw.Draw(sheet)
    for i, (number, im) in enumerate(images):
        im.thumbnail((CELL - 8, CELL - 28))
        x, y = (i % 5) * CELL, (i // 5) * CELL
        sheet.paste(im, (x + 4, y + 24))
        draw.text((x + 6, y + 4), f"#{number}", fill="yellow")
    return sheet


def write_pool(mirrors: Path, work: Path, picks: list[tuple[str, str, str, str]], key: str = "pool") -> None:
    """The pool's key (work/KEY.csv) and its contact sheets (work/KEY-sheets/ for any key but the screening
    pool's, which keeps work/sheets/), numbered in the order of `picks`."""
    sheets = work / ("sheets" if key == "pool" else f"{key}-sheets")
    sheets.mkdir(parents=True, exist_ok=True)
    with (work / f"{key}.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["number", "source", "path", "file", "category"])
        for number, pick in enumerate(picks, 1):
            writer.writerow([number, *pick])
    for start in range(0, len(picks), SHEET):
        images = []
        for number, (source, path, _, _) in enumerate(picks[start:start + SHEET], start + 1):
            with Image.open(BytesIO(source_bytes(mirrors, source, path))) as im:
                images.append((number, ImageOps.exif_transpose(im).convert("RGB")))
        _sheet(images).save(sheets / f"sheet-{start // SHEET + 1:02d}.png")
    print(f"{len(picks)} photos on {-(-len(picks) // SHEET)} sheets in {sheets}")


def pool(mirrors: Path, work: Path) -> None:
    """Write the screening pool's key (work/pool.csv) and its contact sheets (work/sheets/)."""
    write_pool(mirrors, work, draw_pool(mirrors))


def _blobs(repo: Path, commit: str, paths: list[str]) -> Iterator[tuple[str, bytes]]:
    """(path, bytes) of each path at the commit, read through one `git cat-file --batch`: the extremes read
    every source photo, some 10,000, where a `git show` each would start as many processes."""
    proc = subprocess.Popen(["git", "--git-dir", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        for path in paths:
            proc.stdin.write(f"{commit}:{path}\n".encode())
            proc.stdin.flush()
            header = proc.stdout.readline().split()
            if len(header) != 3:
                raise SystemExit(f"{repo}: no {path} at {commit}")
            data = proc.stdout.read(int(header[2]))
            proc.stdout.read(1)
            yield path, data
    finally:
        proc.stdin.close()
        proc.stdout.close()
        if proc.wait() != 0:
            raise SystemExit(f"git cat-file failed in {repo}")


def statistics(data: bytes) -> tuple[float, float]:
    """(mean brightness 0-255, variance of the Laplacian) of a photo at STATISTICS_SIDE on its long side."""
    with Image.open(BytesIO(data)) as im:
        im.draft("L", (STATISTICS_SIDE, STATISTICS_SIDE))
        gray = ImageOps.exif_transpose(im).convert("L")
        gray.thumbnail((STATISTICS_SIDE, STATISTICS_SIDE))
        pixels = np.asarray(gray, dtype=np.float32)
    return float(pixels.mean()), float(cv2.Laplacian(pixels, cv2.CV_32F).var())


def draw_extremes(mirrors: Path) -> list[tuple[str, str, str, str]]:
    """The EXTREMES darkest and the EXTREMES least detailed of every drawable photo neither set holds, shuffled."""
    # The sets without this batch itself, so that a second run draws the same photos (and `add` refuses them).
    rows = [r for r in manifest_rows(ROOT / "data" / "realset") if r.get("batch") != "extremes"]
    rows += manifest_rows(ROOT / "data" / "realset-test")
    taken, names = {r["source_path"] for r in rows}, {r["file"] for r in rows}
    files, kinds = source_files(mirrors, taken)
    pools = drawable(files)
    measured = []
    for key, kind in (("clothing", "clothing"), ("grocery", "shop"), ("trashnet", "trashnet")):
        for path, data in _blobs(repo_dir(mirrors, key), SOURCES[key][1], pools[kind]):
            measured.append((key, path, *statistics(data)))
    darkest = sorted(measured, key=lambda m: (m[2], m[1]))[:EXTREMES]
    chosen = {(k, p) for k, p, _, _ in darkest}
    flattest = [m for m in sorted(measured, key=lambda m: (m[3], m[1])) if (m[0], m[1]) not in chosen][:EXTREMES]
    picks = [(k, p) for k, p, _, _ in darkest + flattest]
    random.Random(SEED).shuffle(picks)
    return named_picks(picks, kinds, names)


def add(mirrors: Path, work: Path, numbers: list[int], batch: str = "screened", key: str = "pool") -> None:
    """Copy the photos with these numbers in work/KEY.csv into data/realset and append them to its manifest
    (`batch`); the set's earlier rows are marked batch `first` where they have no batch yet."""
    with (work / f"{key}.csv").open(newline="") as fh:
        by_number = {int(r["number"]): r for r in csv.DictReader(fh)}
    picks = [(by_number[n]["source"], by_number[n]["path"], by_number[n]["file"], by_number[n]["category"])
             for n in sorted(set(numbers))]
    set_dir = ROOT / "data" / "realset"
    rows = manifest_rows(set_dir)
    present = {r["file"] for r in rows} & {name for _, _, name, _ in picks}
    if present:
        raise SystemExit(f"already in {set_dir}: {', '.join(sorted(present))}")
    added = [{**r, "batch": batch} for r in write_photos(mirrors, picks, set_dir)]
    write_manifest([{**r, "batch": r.get("batch") or "first"} for r in rows] + added, set_dir)
    print(f"{len(picks)} photos added to {set_dir}")


def extremes(mirrors: Path, work: Path) -> None:
    """Draw the extremes, write their key (work/extremes.csv) and sheets (work/extremes-sheets/), add them all."""
    picks = draw_extremes(mirrors)
    write_pool(mirrors, work, picks, key="extremes")
    add(mirrors, work, list(range(1, len(picks) + 1)), batch="extremes", key="extremes")


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in ("pool", "add", "extremes") or (sys.argv[1] == "add") == (len(sys.argv) == 4):
        raise SystemExit(__doc__)
    command, mirror_dir, work_dir, *rest = sys.argv[1:]
    if command == "pool":
        pool(Path(mirror_dir), Path(work_dir))
    elif command == "extremes":
        extremes(Path(mirror_dir), Path(work_dir))
    else:
        add(Path(mirror_dir), Path(work_dir), [int(n) for n in rest])
