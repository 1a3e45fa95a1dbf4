"""The learned reading of a photo: does the item run out of the frame, is the background cluttered.

A small convolutional network (models/edge-net.onnx, trained by `phototips study edge-net` on data/edge-train,
photos that neither evaluation set holds) reads the photo at SIDE x SIDE and gives the two probabilities.
onnxruntime runs it on one thread, so reading it needs neither torch nor a GPU. Since `photo-check@24` its two
readings are measurements of `measure`, read by the `cut_off` and `cluttered` confidence models: it ranks the real
photos' cut-offs and clutter better than the classical readings (held-out AUC 0.88 and 0.97 against 0.84 and 0.93),
for about 0.3 ms a reading (docs/benchmarks.md, "the network on onnxruntime"). Training and any reading make the network's input
with `net_input`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from .. import paths

SIDE = 96
OUTPUTS = ("cut_off", "cluttered")
MODEL = paths.MODELS / "edge-net.onnx"

# One session a process, loaded once: a per-thread copy would be loaded again for every request where the check
# runs in the server itself (gevent makes thread-locals greenlet-local). A session may run from several threads at
# once, so only loading it takes the lock. One thread, as the rest of the check: a worker process is one core's work.
# onnxruntime reads it in about half of OpenCV's `dnn` time (0.28 against 0.55 ms), to the same float32 outputs
# (docs/decisions.md).
_sessions: dict[Path, ort.InferenceSession] = {}
_lock = threading.Lock()


def _session(path: Path) -> ort.InferenceSession:
    session = _sessions.get(path)
    if session is not None:
        return session
    with _lock:
        if path not in _sessions:
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = opts.inter_op_num_threads = 1
            _sessions[path] = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        return _sessions[path]


def net_input(rgb: np.ndarray) -> np.ndarray:
    """The network's input for an RGB photo: SIDE x SIDE whatever its shape (the frame's edges are what it
    reads, and they stay the edges), standardised over the photo so that exposure does not count. 1x3xSIDExSIDE."""
    small = cv2.resize(rgb, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    small = (small - small.mean()) / max(float(small.std()), 1.0)
    return np.ascontiguousarray(small.transpose(2, 0, 1)[None])


def edge_reading(rgb: np.ndarray, path: Path = MODEL) -> dict[str, float]:
    """{"edge_net_cut_off": P, "edge_net_cluttered": P} for an RGB photo."""
    session = _session(path)
    out = np.asarray(session.run(None, {session.get_inputs()[0].name: net_input(rgb)})[0], dtype=np.float64).reshape(-1)
    return {f"edge_net_{name}": float(p) for name, p in zip(OUTPUTS, out)}
