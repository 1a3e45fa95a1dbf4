"""Score the justification mapping against a labelled set: macro-F1 over aspect × verdict labels.

The labelled file is TSV with columns lang, labels, text; labels look like
"lighting-,background+" (- improve, + good), empty for a sentence that names no aspect.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sklearn.metrics import f1_score
from sklearn.preprocessing import MultiLabelBinarizer

from ..scoring.result import ASPECTS
from .justification import map_justification

LABELS = [f"{a}{s}" for a in ASPECTS for s in "-+"]


def read_labelled(path: str | Path) -> list[tuple[str, set[str], str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(r["lang"], {x.strip() for x in (r["labels"] or "").split(",") if x.strip()}, r["text"]) for r in rows]


def predict(text: str) -> set[str]:
    return {f"{a}{'-' if m.verdict == 'improve' else '+'}" for a, m in map_justification(text).items()}


def evaluate(rows) -> dict:
    mlb = MultiLabelBinarizer(classes=LABELS)
    truth = mlb.fit_transform([labels for _, labels, _ in rows])
    preds = [predict(text) for _, _, text in rows]
    guess = mlb.transform(preds)
    errors = [(text, sorted(labels), sorted(p)) for (_, labels, text), p in zip(rows, preds) if labels != p]
    # Macro-F1 over the labels the set contains: a label with no example would count as 0.
    present = [i for i in range(len(LABELS)) if truth[:, i].any()]
    return {
        "n": len(rows),
        "labels": len(present),
        "macro_f1": float(f1_score(truth[:, present], guess[:, present], average="macro", zero_division=0)),
        "micro_f1": float(f1_score(truth, guess, average="micro", zero_division=0)),
        "per_label": dict(zip(LABELS, f1_score(truth, guess, average=None, zero_division=0).round(3).tolist())),
        "errors": errors,
    }
