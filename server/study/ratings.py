"""Human ratings: one CSV row per rating (image, rater, score 1–5, optional item_type and group), checked, then voted.

`group` names photos that must stay on one side of a train/test split (copies of one source photo, photos of one
item); without it every photo is its own.

Majority vote per image; a tie between several most frequent scores goes to the
tied score closest to the image's mean rating, and if that is still a tie, to
the lower score (a buyer-facing score should not flatter a photo).
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from ..errors import PhotoTipsError

REQUIRED = ("image", "rater", "score")


@dataclass(frozen=True)
class Rated:
    image: str  # as written in the CSV (relative to it)
    path: Path  # resolved file
    item_type: str
    scores: tuple[int, ...]
    raters: tuple[str, ...]
    group: str = ""  # empty: the photo is a group of its own

    @property
    def majority(self) -> int:
        return majority_vote(self.scores)


def majority_vote(scores) -> int:
    counts = Counter(scores)
    top = max(counts.values())
    tied = [s for s, c in counts.items() if c == top]
    if len(tied) == 1:
        return tied[0]
    mean = statistics.fmean(scores)
    return min(tied, key=lambda s: (abs(s - mean), s))


def read_ratings(csv_path: str | Path, *, check_files: bool = True) -> list[Rated]:
    csv_path = Path(csv_path)
    try:
        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark, which would hide the first column.
        text = csv_path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise PhotoTipsError("bad_ratings", f"cannot read {csv_path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise PhotoTipsError("bad_ratings", f"{csv_path} is not UTF-8 text (byte {exc.start}): save it as "
                                            f"\"CSV UTF-8\"") from None
    problems: list[str] = []
    by_image: dict[str, list[tuple[str, int]]] = defaultdict(list)
    item_types: dict[str, str] = {}
    groups: dict[str, str] = {}
    first_line: dict[str, int] = {}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        hint = "; the file is separated by ';', save it comma-separated" if ";" in (text.splitlines() or [""])[0] else ""
        raise PhotoTipsError("bad_ratings", f"{csv_path}: missing column(s) {', '.join(missing)}; "
                                            f"expected image, rater, score[, item_type, group]{hint}")
    for line, row in enumerate(reader, start=2):
        # A short row leaves its last fields None (csv.DictReader's restval).
        image, rater, raw = ((row.get(c) or "").strip() for c in REQUIRED)
        where = f"{csv_path.name}:{line}"
        if not image or not rater:
            problems.append(f"{where}: image and rater must not be empty")
            continue
        try:
            score = int(raw)
            if str(score) != raw:
                raise ValueError
        except ValueError:
            problems.append(f"{where}: score {raw!r} is not a whole number")
            continue
        if not 1 <= score <= 5:
            problems.append(f"{where}: score {score} is outside 1–5")
            continue
        if any(r == rater for r, _ in by_image[image]):
            problems.append(f"{where}: rater {rater!r} rated {image} twice")
            continue
        by_image[image].append((rater, score))
        first_line.setdefault(image, line)
        if row.get("item_type"):
            item_types.setdefault(image, row["item_type"].strip())
        if row.get("group"):
            groups.setdefault(image, row["group"].strip())
    out = []
    for image, rows in by_image.items():
        path = (csv_path.parent / image).resolve()
        if check_files and not path.is_file():
            problems.append(f"{csv_path.name}:{first_line[image]}: unknown image {image} (no file {path})")
        out.append(Rated(image, path, item_types.get(image, "item"), tuple(s for _, s in rows), tuple(r for r, _ in rows),
                         groups.get(image, "")))
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise PhotoTipsError("bad_ratings", f"{csv_path}: {len(problems)} problem(s):\n  " + "\n  ".join(shown))
    if not out:
        raise PhotoTipsError("bad_ratings", f"{csv_path}: no ratings")
    return sorted(out, key=lambda r: r.image)


def ratings_per_image(rated: list[Rated]) -> dict:
    counts = [len(r.scores) for r in rated]
    return {"images": len(rated), "ratings": sum(counts), "mean": statistics.fmean(counts),
            "sd": statistics.stdev(counts) if len(counts) > 1 else 0.0}
