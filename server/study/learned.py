"""A small learned scorer over the photo check's measurements: trained with scikit-learn, exported to ONNX.

Features are the photo check's measurements (brightness, edge sharpness, noise,
item box, clutter, tilt, ...), identical at training and at scoring time because
both call `photocheck.measure`. The model is a random forest regressor of the
human majority rating; the service runs it with `onnxruntime` (scoring/learned_model.py), without scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..imaging.decode import decode_photo
from ..photocheck.measure import REVISION, measure
from ..scoring.learned_model import FEATURES, features


def features_of(photo) -> np.ndarray:
    return features(measure(photo.rgb, photo.width, photo.height)[0])


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
