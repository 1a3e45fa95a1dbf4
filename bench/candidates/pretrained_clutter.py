"""A reading candidate for bench/reading_swap.py: cut-offs from the shipped edge network, clutter from the whole
pretrained EfficientNet-Lite0 at 64 px (`phototips study pretrained --side 64`, which writes the file read here).
Measured, not shipped (docs/decisions.md, "Clutter read by the pretrained network, cut-offs by the edge network")."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from phototips.photocheck import edge_net
from phototips.photocheck.second_look import backbone_input

SIDE = 64
MODEL = Path(__file__).resolve().parents[1] / "out" / f"pretrained-edge-net-{SIDE}.onnx"
_net: list[cv2.dnn.Net] = []
_lock = threading.Lock()


def edge_reading(rgb: np.ndarray) -> dict[str, float]:
    reading = edge_net.edge_reading(rgb)
    x = np.ascontiguousarray(backbone_input(rgb, SIDE)[None])
    with _lock:
        if not _net:
            if not MODEL.is_file():
                raise SystemExit(f"{MODEL} is missing: build it with `phototips study pretrained --side {SIDE}`")
            # OpenCV's default engine: faster for this network than the classic one (4.8 against 8.0 ms a pass
            # on 2026-12-01's Intel Xeon, one thread).
            _net.append(cv2.dnn.readNetFromONNX(str(MODEL)))
        _net[0].setInput(x)
        out = np.asarray(_net[0].forward(), dtype=np.float64).reshape(-1)
    reading["edge_net_cluttered"] = float(out[edge_net.OUTPUTS.index("cluttered")])
    return reading
