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


def main(mirrors: Path, out: Path) -> None:
    rng = random.Random(SEED)
    with (ROOT / "data" / "realset" / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    taken, names = {r["source_path"] for r in rows}, {r["file"] for r in rows}
    repos = {k: mirrors / (name.replace("/", "+")) / "repo" for k, (name, *_) in SOURCES.items()}
    files = {k: sorted(p for p in git(r, "ls-tree", "-r", "--name-only", SOURCES[k][1]).decode().splitlines()
                       if p.lower().endswith((".jpg", ".jpeg")) and p not in taken) for k, r in repos.items()}
    kinds = {label["image"]: label["label"] for label in csv.DictReader(
        git(repos["clothing"], "show", f"{SOURCES['clothing'][1]}:images.csv").decode().splitlines())}

    picks = []  # (source key, path, file name, category)
    for p in rng.sample([p for p in files["clothing"] if p.startswith("images/")], 60):
        kind = kinds.get(Path(p).stem, "")
        category = {"Shoes": "shoes", "Hat": "hat"}.get(kind, "clothes")
        picks.append(("clothing", p, f"clothing-{Path(p).stem[:8]}.jpg", category))
    shop = [p for p in files["grocery"] if "/train/Packages/" in p or "/test/Packages/" in p or "/val/Packages/" in p]
    for p in rng.sample(shop, 20):
        # The shop's train, test and val folders reuse file names.
        name = f"grocery-shop-{Path(p).name.lower()}"
        picks.append(("grocery", p, name if name not in names else f"grocery-shop-{p.split('/')[1]}-{Path(p).name.lower()}",
                      "household"))
    iconic = [p for p in files["grocery"] if p.endswith("_Iconic.jpg")]
    for p in rng.sample(iconic, 8):
        picks.append(("grocery", p, f"grocery-iconic-{Path(p).name.lower().replace('_iconic', '')}", "packshot"))
    for p in rng.sample([p for p in files["trashnet"] if p.startswith("dataset-resized/")], 12):
        picks.append(("trashnet", p, f"trashnet-{Path(p).name}", "household"))

    if len({name for _, _, name, _ in picks}) != len(picks):
        raise SystemExit("two drawn photos would share a file name")
    (out / "photos").mkdir(parents=True, exist_ok=True)
    rows = []
    for key, path, name, category in picks:
        repo_name, commit, licence, author = SOURCES[key]
        target = out / "photos" / name
        target.write_bytes(git(repos[key], "show", f"{commit}:{path}"))
        with Image.open(target) as im:
            w, h = im.size
        rows.append({"file": name, "category": category, "source_repo": f"github.com/{repo_name}",
                     "source_commit": commit, "source_path": path, "author": author, "licence": licence,
                     "width": w, "height": h})
    rows.sort(key=lambda r: r["file"])
    with (out / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} photos in {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
