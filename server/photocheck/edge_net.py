"""The learned reading of a photo: does the item run out of the frame, is the background cluttered.

A small convolutional network (models/edge-net.onnx, trained by `phototips study edge-net` on data/edge-train,
photos that neither evaluation set holds) reads the photo at SIDE x SIDE and gives the two probabilities.
OpenCV's `dnn` runs it, so reading it needs neither torch nor a GPU. Since `photo-check@24` its two readings are
measurements of `measure`, read by the `cut_off` and `cluttered` confidence models: it ranks the real photos'
cut-offs and clutter better than the classical readings (held-out AUC 0.88 and 0.97 against 0.84 and 0.93), for
about 1-2.5 ms of a 12 MP check by machine (docs/benchmarks.md), its forward pass 0.4-0.9 ms on OpenCV's classic
engine since 2026-12-01. Training and any reading make the network's input with `net_input`.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from .. import paths

SIDE = 96
OUTPUTS = ("cut_off", "cluttered")
MODEL = paths.MODELS / "edge-net.onnx"

# One network a process, loaded once: a per-thread copy would be loaded again for every request where the check
# runs in the server itself (gevent makes thread-locals greenlet-local). cv2.dnn.Net keeps buffers between calls,
# so one call at a time; a forward pass takes under a millisecond.
_nets: dict[Path, cv2.dnn.Net] = {}
_lock = threading.Lock()


def net_input(rgb: np.ndarray) -> np.ndarray:
    """The network's input for an RGB photo: SIDE x SIDE whatever its shape (the frame's edges are what it
    reads, and they stay the edges), standardised over the photo so that exposure does not count. 1x3xSIDExSIDE."""
    small = cv2.resize(rgb, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    small = (small - small.mean()) / max(float(small.std()), 1.0)
    return np.ascontiguousarray(small.transpose(2, 0, 1)[None])


def _read(path: Path) -> cv2.dnn.Net:
    # OpenCV 5's default engine took about half as long again as the classic one on this small network (1.36
    # against 0.89 ms a pass, alternated, one thread), and the classic one gives the same readings to 1e-7. Not
    # so for every network: EfficientNet-Lite0 at 64 px ran faster on the default (docs/decisions.md). OpenCV 4
    # has only the classic engine.
    engine = getattr(cv2.dnn, "ENGINE_CLASSIC", None)
    return cv2.dnn.readNetFromONNX(str(path)) if engine is None else cv2.dnn.readNetFromONNX(str(path), engine)


def edge_reading(rgb: np.ndarray, path: Path = MODEL) -> dict[str, float]:
    """{"edge_net_cut_off": P, "edge_net_cluttered": P} for an RGB photo."""
    x = net_input(rgb)
    with _lock:
        if path not in _nets:
            _nets[path] = _read(path)
        net = _nets[path]
        net.setInput(x)
        out = np.asarray(net.forward(), dtype=np.float64).reshape(-1)
    return {f"edge_net_{name}": float(p) for name, p in zip(OUTPUTS, out)}
