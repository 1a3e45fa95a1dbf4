"""A second, costlier reading of a photo, taken only where the check is unsure (since `photo-check@26`).

A problem of models/photo-check.yaml may name a `second_look`: a network file and one of its outputs, and a
band of the problem's own confidence. Where the cheap confidence falls in that band, the network reads the
photo and the problem is judged again by a second confidence model, fitted with that reading in place of the
cheap one (`phototips study calibrate`). The one used: the whole pretrained EfficientNet-Lite0 at 64 px
(`phototips study pretrained --side 64`), read for clutter, about 4.8 ms a pass on one thread, on the tenth
of the real photos where the small edge network and the classical readings leave clutter between 0.5 and 0.9
(docs/benchmarks.md, "A second look at clutter").
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

# As edge_net: one network a process, loaded on its first photo; one forward pass at a time.
_nets: dict[Path, cv2.dnn.Net] = {}
_lock = threading.Lock()


def backbone_input(rgb: np.ndarray, side: int) -> np.ndarray:
    """An RGB photo as the backbone reads it: `side` square, scaled as it was trained ((x - 127) / 128, not
    standardised per photo as the edge network's input is). 3 x side x side."""
    small = cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
    return ((small - 127.0) / 128.0).transpose(2, 0, 1)


def network_reading(rgb: np.ndarray, second) -> float:
    """A second look's reading (judge.SecondLook: its network's output number `output`, a probability) of an RGB
    photo (the check's analysis copy)."""
    path = second.network
    x = np.ascontiguousarray(backbone_input(rgb, second.side)[None])
    with _lock:
        if path not in _nets:
            # OpenCV's default engine: faster for this network than the classic one (4.8 against 8.0 ms a pass
            # on 2026-12-01's Intel Xeon, one thread), unlike the small edge network (edge_net._read).
            _nets[path] = cv2.dnn.readNetFromONNX(str(path))
        net = _nets[path]
        net.setInput(x)
        out = np.asarray(net.forward(), dtype=np.float64).reshape(-1)
    return float(out[second.output])
