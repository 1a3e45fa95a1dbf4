"""A seeded train/test split stratified by the human majority rating (the study: 60/40, 480/240 photos).

Photos of one group (the ratings' `group` column: copies of one source photo) stay on one side.
"""

from __future__ import annotations

from collections import Counter

from sklearn.model_selection import StratifiedGroupKFold, train_test_split

from .ratings import Rated


def stratified_split(rated: list[Rated], *, test_size: float = 0.4, seed: int = 0) -> tuple[list[Rated], list[Rated]]:
    labels = [r.majority for r in rated]
    counts = Counter(labels)
    # A rating held by a single photo cannot be split; it stratifies with its nearest populated rating.
    populated = [k for k, c in counts.items() if c >= 2]
    strata = [k if counts[k] >= 2 or not populated else min(populated, key=lambda p: (abs(p - k), p)) for k in labels]
    groups = [r.group or r.image for r in rated]
    if len(set(groups)) == len(groups):
        train, test = train_test_split(rated, test_size=test_size, random_state=seed,
                                       stratify=strata if populated else None)
    else:
        train, test = _grouped(rated, strata, groups, test_size, seed)
    return sorted(train, key=lambda r: r.image), sorted(test, key=lambda r: r.image)


def _grouped(rated, strata, groups, test_size: float, seed: int):
    """Whole groups to each side, strata kept as even as the groups allow: the test side is the folds of a
    StratifiedGroupKFold that come nearest `test_size`."""
    folds = max(2, min(10, len(set(groups))))
    take = max(1, min(folds - 1, round(test_size * folds)))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    test_idx = set()
    for _, fold in list(splitter.split(rated, strata, groups))[:take]:
        test_idx.update(fold.tolist())
    return ([r for i, r in enumerate(rated) if i not in test_idx], [r for i, r in enumerate(rated) if i in test_idx])
