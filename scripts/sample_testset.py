"""Draw the fresh test photos of data/realset-test from the same openly licensed sources as data/realset.

    python scripts/sample_testset.py MIRROR_DIR OUT_DIR

MIRROR_DIR holds git mirrors of the three source repositories (owner+name/repo, as the library's `fetch`
leaves them), at the commits data/realset's manifest names. A fixed seed draws, at random and without
looking at them, photos that data/realset does not hold: 60 clothing photos, 20 shop photos of packages,
8 iconic packshots and 12 TrashNet objects. It copies them unchanged (already ≤ 1024 px) and writes the
manifest; the labels are added by people who look at each photo (docs/realset.md, "How to label").
"""

from __future__ import annotations

import csv
import random
import subprocess
import sys
from pathlib import Path

from PIL import Image

SEED = 20261130
ROOT = Path(__file__).resolve().parent.parent
SOURCES = {
    "clothing": ("alexeygrigorev/clothing-dataset", "7ed86a9cc56763b6acb35e41cb35184e43a5d218", "CC0-1.0",
                 "clothing-dataset contributors (Alexey Grigorev et al.)"),
    "grocery": ("marcusklasson/GroceryStoreDataset", "fc80ba90f803d79d0383df52c5a4ac5de99ff6fc", "MIT",
                "Marcus Klasson et al. (GroceryStoreDataset)"),
    "trashnet": ("congduytran12/Trash-Classification-", "00212f2c18dcdb9045c74481eaae5baaf72537df", "MIT",
                 "Gary Thung and Mindy Yang (TrashNet)"),
}


def git(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True).stdout


def repo_dir(mirrors: Path, key: str) -> Path:
    """The git directory of a source's mirror, as the library's `fetch` leaves it."""
    return mirrors / SOURCES[key][0].replace("/", "+") / "repo"


def manifest_rows(set_dir: Path, *, first_batch_only: bool = False) -> list[dict]:
    """A set's manifest rows; with `first_batch_only`, only the photos it held before people's screening added
    more (scripts/screen_realset.py), so that draws made then repeat."""
    with (set_dir / "manifest.csv").open(newline="") as fh:
        return [r for r in csv.DictReader(fh) if not first_batch_only or r.get("batch", "first") == "first"]


def drawable(files: dict[str, list[str]]) -> dict[str, list[str]]:
    """The photos each kind of draw picks from: clothing photos, shop photos of a package held in a hand (the
    shop's train, test and val folders), iconic packshots and TrashNet objects."""
    return {"clothing": [p for p in files["clothing"] if p.startswith("images/")],
            "shop": [p for p in files["grocery"] if any(f"/{s}/Packages/" in p for s in ("train", "test", "val"))],
            "iconic": [p for p in files["grocery"] if p.endswith("_Iconic.jpg")],
            "trashnet": [p for p in files["trashnet"] if p.startswith("dataset-resized/")]}


def source_files(mirrors: Path, taken: set[str]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Every JPEG of each source not in `taken`, sorted, and the clothing set's kind of every clothing photo."""
    repos = {k: repo_dir(mirrors, k) for k in SOURCES}
    files = {k: sorted(p for p in git(r, "ls-tree", "-r", "--name-only", SOURCES[k][1]).decode().splitlines()
                       if p.lower().endswith((".jpg", ".jpeg")) and p not in taken) for k, r in repos.items()}
    kinds = {label["image"]: label["label"] for label in csv.DictReader(
        git(repos["clothing"], "show", f"{SOURCES['clothing'][1]}:images.csv").decode().splitlines())}
    return files, kinds


def photo_name(key: str, path: str, kinds: dict[str, str], names: set[str]) -> tuple[str, str]:
    """(file name, category) of a source photo in the sets; `names` are the file names already taken."""
    if key == "clothing":
        kind = kinds.get(Path(path).stem, "")
        return f"clothing-{Path(path).stem[:8]}.jpg", {"Shoes": "shoes", "Hat": "hat"}.get(kind, "clothes")
    if key == "trashnet":
        return f"trashnet-{Path(path).name}", "household"
    if path.endswith("_Iconic.jpg"):
        return f"grocery-iconic-{Path(path).name.lower().replace('_iconic', '')}", "packshot"
    # The shop's train, test and val folders reuse file names.
    name = f"grocery-shop-{Path(path).name.lower()}"
    return (name if name not in names else f"grocery-shop-{path.split('/')[1]}-{Path(path).name.lower()}"), "household"


def named_picks(picks: list[tuple[str, str]], kinds: dict[str, str], names: set[str]) -> list[tuple[str, str, str, str]]:
    """(source key, path, file name, category) of each (source key, path); `names` are the file names the sets
    already hold, and each pick's is added to them."""
    out = []
    for key, path in picks:
        name, category = photo_name(key, path, kinds, names)
        if name in names:
            raise SystemExit(f"two photos would share the file name {name}")
        names.add(name)
        out.append((key, path, name, category))
    return out


def source_bytes(mirrors: Path, key: str, path: str) -> bytes:
    """A source photo's file as the manifest's commit holds it."""
    return git(repo_dir(mirrors, key), "show", f"{SOURCES[key][1]}:{path}")


def manifest_row(key: str, path: str, name: str, category: str, width: int, height: int) -> dict:
    """A photo's manifest row: where it comes from, who made it, under which licence, its original size."""
    repo_name, commit, licence, author = SOURCES[key]
    return {"file": name, "category": category, "source_repo": f"github.com/{repo_name}", "source_commit": commit,
            "source_path": path, "author": author, "licence": licence, "width": width, "height": height}


def write_photos(mirrors: Path, picks: list[tuple[str, str, str, str]], out: Path) -> list[dict]:
    """Copy each (source key, path, file name, category) unchanged into out/photos; their manifest rows."""
    (out / "photos").mkdir(parents=True, exist_ok=True)
    rows = []
    for key, path, name, category in picks:
        target = out / "photos" / name
        target.write_bytes(source_bytes(mirrors, key, path))
        with Image.open(target) as im:
            rows.append(manifest_row(key, path, name, category, *im.size))
    return rows


def write_manifest(rows: list[dict], out: Path) -> None:
    """out/manifest.csv with the rows sorted by file name."""
    rows = sorted(rows, key=lambda r: r["file"])
    with (out / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def main(mirrors: Path, out: Path) -> None:
    rng = random.Random(SEED)
    rows = manifest_rows(ROOT / "data" / "realset", first_batch_only=True)
    taken, names = {r["source_path"] for r in rows}, {r["file"] for r in rows}
    files, kinds = source_files(mirrors, taken)
    pools = drawable(files)

    drawn = [("clothing", p) for p in rng.sample(pools["clothing"], 60)]
    drawn += [("grocery", p) for p in rng.sample(pools["shop"], 20)]
    drawn += [("grocery", p) for p in rng.sample(pools["iconic"], 8)]
    drawn += [("trashnet", p) for p in rng.sample(pools["trashnet"], 12)]
    rows = write_photos(mirrors, named_picks(drawn, kinds, names), out)
    write_manifest(rows, out)
    print(f"{len(rows)} photos in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
