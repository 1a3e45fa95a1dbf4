"""A small learned scorer over the photo check's measurements: trained with scikit-learn, exported to ONNX.

Features are the photo check's measurements (brightness, edge sharpness, noise,
item box, clutter, tilt, ...), identical at training and at scoring time because
both call `photocheck.measure`. The model is a random forest regressor of the
human majority rating; `onnxruntime` runs it in the service, without scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..imaging.decode import decode_photo
from ..photocheck.measure import REVISION, measure

FEATURES = ("brightness", "clipped", "item_brightness", "item_clipped", "item_crushed", "contrast",
            "edge_sharpness", "edge_fraction", "noise_sigma", "megapixels", "short_side", "item_found",
            "item_area", "item_offset", "item_border_contact", "item_separation", "background_edges",
            "background_spread", "tilt_abs", "line_support")


def features_of(photo) -> np.ndarray:
    m, _ = measure(photo.rgb, photo.width, photo.height)
    return np.array([m[f] for f in FEATURES], dtype=np.float32)


def train_learned(rated, out: str | Path, settings, *, seed: int = 0, synthetic: bool = False) -> dict:
    from skl2onnx import to_onnx
    from sklearn.ensemble import RandomForestRegressor

    X = np.stack([features_of(decode_photo(r.path.read_bytes(), max_pixels=settings.max_pixels,
                                           analysis_side=settings.analysis_side)) for r in rated])
    y = np.array([r.majority for r in rated], dtype=np.float32)
    model = RandomForestRegressor(n_estimators=200, max_depth=8, min_samples_leaf=3, random_state=seed).fit(X, y)
    onx = to_onnx(model, X[:1].astype(np.float32), target_opset=17)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    raw = onx.SerializeToString()
    out.write_bytes(raw)
    meta = {"features": list(FEATURES), "measurements": REVISION, "trained_on": len(rated), "seed": seed,
            "synthetic": synthetic,
            "sha256": hashlib.sha256(raw).hexdigest()[:12], "model": "RandomForestRegressor(200, depth 8)"}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2))
    return meta


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

    def predict(self, features: np.ndarray) -> float:
        y = self.session.run(None, {self.input: features.reshape(1, -1).astype(np.float32)})[0]
        return float(np.clip(np.asarray(y).ravel()[0], 1.0, 5.0))
