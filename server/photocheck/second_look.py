"""A second, costlier reading of a photo, taken only where the check is unsure (since `photo-check@26`).

A problem of models/photo-check.yaml may name a `second_look`: a network file and one of its outputs, and a
band of the problem's own confidence. Where the cheap confidence falls in that band, the network reads the
photo and the problem is judged again by a second confidence model, fitted with that reading in place of the
cheap one (`phototips study calibrate`). The one used: the whole pretrained EfficientNet-Lite0 at 64 px
(`phototips study pretrained --side 64`), read for clutter on the tenth of the real photos where the small edge
network and the classical readings leave clutter between 0.5 and 0.9. A pass on one thread, warm, took 2.9–5.6 ms
on the 2-vCPU Intel Xeon VMs of 2026-12-01 (docs/benchmarks.md, "A second look at clutter" and the sections before
it) and 7.6 ms on 2026-12-02's AMD EPYC (docs/benchmarks.md, "The set's own labels taught to the pretrained probes").
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


def fault(second) -> str:
    """What stops a second look's network from reading photos (judge.SecondLook), or "" where it reads: the file is
    loaded and reads one grey photo at start-up, so that a file OpenCV cannot load, a network without the output
    named, or an output outside 0-1 on that photo is found then rather than on the first photo in the band. The
    network is not kept: it holds about 36 MB, and a web process whose photos the CPU workers check need not
    read one (network_reading loads it where a photo needs it)."""
    path = second.network
    if not path.is_file():
        return f"no network file {path}"
    try:
        net = _read(path)
    except cv2.error as e:
        return f"OpenCV cannot load network {path.name}: {_last_line(e)}"
    try:
        out = _forward(net, _batch(np.full((16, 16, 3), 128, np.uint8), second.side))
    except cv2.error as e:
        return f"network {path.name} does not read a {second.side}-px photo: {_last_line(e)}"
    if second.output >= out.size:
        return f"network {path.name} has no output number {second.output} (it has {out.size})"
    if not 0.0 <= out[second.output] <= 1.0:
        return f"network {path.name}'s output {second.output} is outside 0-1 ({out[second.output]:g} on a grey photo)"
    return ""


def network_reading(rgb: np.ndarray, second) -> float:
    """A second look's reading (judge.SecondLook: its network's output number `output`, a probability) of an RGB
    photo (the check's analysis copy)."""
    x = _batch(rgb, second.side)
    with _lock:
        if second.network not in _nets:
            _nets[second.network] = _read(second.network)
        return float(_forward(_nets[second.network], x)[second.output])


def _read(path: Path) -> cv2.dnn.Net:
    # OpenCV's default engine: faster for this network than the classic one (4.8 against 8.0 ms a pass, one
    # thread, as read on 2026-12-01), unlike the small edge network (edge_net._read).
    return cv2.dnn.readNetFromONNX(str(path))


def _batch(rgb: np.ndarray, side: int) -> np.ndarray:
    return np.ascontiguousarray(backbone_input(rgb, side)[None])


def _forward(net: cv2.dnn.Net, x: np.ndarray) -> np.ndarray:
    net.setInput(x)
    return np.asarray(net.forward(), dtype=np.float64).reshape(-1)


def _last_line(e: cv2.error) -> str:
    return str(e).strip().splitlines()[-1]
