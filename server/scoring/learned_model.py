"""The learned scorer's model (`phototips train`, study/learned.py): its features and its ONNX file at run time.

The features are photo-check measurements, taken from the same `photocheck.measure` call at training and at
scoring time; the file records which, and the measurements' revision, so a model trained on other numbers is
refused at start-up instead of scoring nonsense. `onnxruntime` runs it, without scikit-learn.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..photocheck.measure import REVISION

FEATURES = ("brightness", "clipped", "item_brightness", "item_clipped", "item_crushed", "contrast",
            "edge_sharpness", "edge_fraction", "noise_sigma", "megapixels", "short_side", "item_found",
            "item_area", "item_offset", "item_border_contact", "item_separation", "background_edges",
            "background_spread", "tilt_abs", "line_support")


def features(measurements: dict[str, float]) -> np.ndarray:
    return np.array([measurements[f] for f in FEATURES], dtype=np.float32)


class LearnedModel:
    """The ONNX model in an onnxruntime session (thread-safe for concurrent runs)."""

    def __init__(self, path: str | Path):
        import onnxruntime as ort

        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text())
        if tuple(meta["features"]) != FEATURES:
            raise ValueError(f"{path} was trained on other features; retrain it with `phototips train`")
        if meta.get("measurements") != REVISION:  # absent: trained before the revision was recorded
            raise ValueError(f"{path} was trained on measurements of another meaning (revision "
                             f"{meta.get('measurements', 1)}, now {REVISION}); retrain it with `phototips train`")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.id = f"learned:{meta['sha256']}"
        self.synthetic = bool(meta.get("synthetic"))

    def predict(self, x: np.ndarray) -> float:
        y = self.session.run(None, {self.input: x.reshape(1, -1).astype(np.float32)})[0]
        return float(np.clip(np.asarray(y).ravel()[0], 1.0, 5.0))
