"""A seeded train/test split stratified by the human majority rating (the study: 60/40, 480/240 photos)."""

from __future__ import annotations

from collections import Counter

from sklearn.model_selection import train_test_split

from .ratings import Rated


def stratified_split(rated: list[Rated], *, test_size: float = 0.4, seed: int = 0) -> tuple[list[Rated], list[Rated]]:
    labels = [r.majority for r in rated]
    counts = Counter(labels)
    # A rating held by a single photo cannot be split; it stratifies with its nearest populated rating.
    populated = [k for k, c in counts.items() if c >= 2]
    strata = [k if counts[k] >= 2 or not populated else min(populated, key=lambda p: (abs(p - k), p)) for k in labels]
    train, test = train_test_split(rated, test_size=test_size, random_state=seed,
                                   stratify=strata if populated else None)
    return sorted(train, key=lambda r: r.image), sorted(test, key=lambda r: r.image)
