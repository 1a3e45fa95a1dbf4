"""Train the learned edge reading (photocheck/edge_net.py) on data/edge-train and export it to ONNX.

The training photos are drawn from the development set's sources but are in neither evaluation set
(scripts/draw_trainset.py), with one label a photo on visibility and background in labels.csv (batches 4 and 5's
first labels, since replaced, in labels_first.csv; a third in labels_third.csv, read only for the majority of three
with `clutter_batches` or `majority`, both tried and not shipped). The network kept is the exponential average of
its weights at the end of training; the development set's calibration half is only read to report how it ranks
cut-offs epoch by epoch, and its held-out half and the test set are never read. Training decodes the stored 128-px
photos as the check decodes an upload (`photo_input`), a reading (edge_net.edge_reading) the photo it is given; both
make the network's input with `net_input`. torch is needed here only (the `vlm` extra); OpenCV runs the exported
file.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

from ..cpu.checking import decode_upload
from ..photocheck.edge_net import OUTPUTS, SIDE, net_input
from ..photocheck.subject import find_subject, small_copy
from .calibrate import calibration_photos

EPOCHS = 40
BATCH = 64
# The batches of data/edge-train trained on. Batches 4 and 5, first labelled by helpers taking 280-320 photos at
# once, made the network rank the calibration half's cut-offs worse; labelled again by helpers of 160, they make it
# rank them better (AUC 0.843 against 0.834), but the `cut_off` model over every measurement then ranks the
# held-out half's no better (0.881 against 0.884) and tips more good photos, so they stay out (docs/decisions.md).
# Nor did the majority of their three labellings help: teaching clutter alone (`clutter_batches`), the `cluttered`
# model ranked the held-out half no better (0.964 against 0.965); teaching both (`majority`), the `cut_off` model
# ranked it at 0.889 and 15 good photos of 199 were tipped (11 now).
TRAINED_BATCHES = (1, 2, 3)
# Synthetic cut-offs, with --crops (tried, not shipped: docs/decisions.md, "Cut-offs made by cropping"): each time
# a training photo whose item the check's own mask finds whole and clear of the frame, on a clean background, is
# drawn into a batch, it has these chances of being replaced by a crop through the item (a cut-off) and by a crop
# that keeps it whole (still good), so that being a crop, magnified, is no evidence either way.
CUT_SHARE = 0.3
WHOLE_SHARE = 0.15
# An item this close to the frame (a fraction of the side), or smaller than this share of the frame, is not
# cropped: the mask's box is not trusted to the pixel, and a tiny item would need a crop magnified past any upload.
CROP_MARGIN = 0.03
CROP_MIN_AREA = 0.04


def photo_input(data: bytes, settings) -> np.ndarray:
    """The network's input for an uploaded photo, decoded and reduced as the photo check does it."""
    return net_input(small_copy(decode_upload(data, settings).rgb))


def read_labels(path: Path) -> dict[str, dict]:
    with path.open(newline="") as fh:
        return {r["file"]: r for r in csv.DictReader(fh)}


def _rows(set_dir: Path, batches) -> list[dict]:
    with (set_dir / "manifest.csv").open(newline="") as fh:
        batch_of = {r["file"]: int(r["batch"]) for r in csv.DictReader(fh)}
    return [r for f, r in read_labels(set_dir / "labels.csv").items() if batch_of[f] in batches]


def label_targets(row: dict) -> tuple[bool, bool]:
    """(cut off, cluttered): what one labelling says of a photo, on the network's two outputs."""
    return row["visibility"] == "cut_off", row["background"] == "cluttered"


def majority_labels(set_dir: str | Path) -> dict[str, tuple[bool, bool]]:
    """(cut off, cluttered) by what at least two of a photo's three labellings (labels_first, labels,
    labels_third) say, for every photo labelled three times: two votes of three on each, so never a tie.
    Each output is a yes or no, so its own votes are counted, not the aspect's (realset.majority would call
    cut off the one photo voted cut off, good and blending in, a problem by two votes but cut off by one)."""
    set_dir = Path(set_dir)
    labellings = [read_labels(set_dir / name) for name in ("labels_first.csv", "labels.csv", "labels_third.csv")]
    return {f: tuple(sum(votes) >= 2 for votes in zip(*(label_targets(lab[f]) for lab in labellings)))
            for f in labellings[0] if all(f in lab for lab in labellings[1:])}


def read_trainset(set_dir: str | Path, settings, batches=TRAINED_BATCHES, clutter_batches=(),
                  majority: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(inputs N x 3 x SIDE x SIDE, targets N x len(OUTPUTS)) of a training set's labelled photos in `batches`, then
    in `clutter_batches`: those teach clutter only (their cut-off target is NaN, not learnt), by the majority of
    their three labellings. With `majority`, every photo labelled three times takes the majority on both."""
    set_dir = Path(set_dir)
    rows = _rows(set_dir, batches)
    extra = _rows(set_dir, set(clutter_batches) - set(batches))
    votes = majority_labels(set_dir) if extra or majority else {}
    unvoted = [r["file"] for r in extra if r["file"] not in votes]
    if unvoted:
        raise ValueError(f"{len(unvoted)} photos of the clutter-only batches are not labelled three times "
                         f"(first: {unvoted[0]}); those batches learn the majority of three")
    x = np.concatenate([photo_input((set_dir / "photos" / r["file"]).read_bytes(), settings) for r in rows + extra])
    y = np.array([votes[r["file"]] if majority and r["file"] in votes else label_targets(r) for r in rows]
                 + [(np.nan, votes[r["file"]][1]) for r in extra], dtype=np.float32)
    return x, y


def whole_item_box(rgb: np.ndarray) -> tuple[float, float, float, float] | None:
    """The item's box (fractions of the frame) where the check's mask finds it clear of every edge by CROP_MARGIN
    and covering at least CROP_MIN_AREA of the frame, else None."""
    subject = find_subject(small_copy(rgb))
    x0, y0, x1, y1 = subject.box
    if not subject.found or subject.area < CROP_MIN_AREA or min(x0, y0, 1 - x1, 1 - y1) < CROP_MARGIN:
        return None
    return subject.box


def crop_photo(rgb: np.ndarray, box: tuple[float, float, float, float], rng, *, cut: bool) -> np.ndarray:
    """A crop of a photo whose whole item sits in `box`. With `cut`, one side (two meeting at a corner, one time
    in three) of the new frame runs 15-45% of the way into the item, as a photo taken too close cuts it; every
    other side is trimmed by up to 80% of its margin, so the crop's shape and magnification vary as much either
    way."""
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = box
    # New frame (left, top, right, bottom) as fractions; start from a trim inside each margin.
    frame = [x0 * rng.uniform(0, 0.8), y0 * rng.uniform(0, 0.8),
             1 - (1 - x1) * rng.uniform(0, 0.8), 1 - (1 - y1) * rng.uniform(0, 0.8)]
    if cut:
        # Two sides meet at a corner: cuts on opposite sides could leave a sliver of the item.
        first = int(rng.integers(4))
        sides = [first] if rng.random() >= 1 / 3 else [first, (first + 1 + 2 * int(rng.integers(2))) % 4]
        for side in sides:
            depth = rng.uniform(0.15, 0.45)
            lo, hi = (x0, x1) if side % 2 == 0 else (y0, y1)
            frame[side] = lo + depth * (hi - lo) if side < 2 else hi - depth * (hi - lo)
    left, top = int(frame[0] * w), int(frame[1] * h)
    right, bottom = max(left + 8, int(np.ceil(frame[2] * w))), max(top + 8, int(np.ceil(frame[3] * h)))
    return np.ascontiguousarray(rgb[top:bottom, left:right])


def croppable(set_dir: str | Path, settings, batches=TRAINED_BATCHES) -> list[tuple[int, np.ndarray, tuple]]:
    """(row in read_trainset's order, decoded photo, item box) of the training photos labelled good on visibility
    and background whose item the mask finds whole: the only ones cropped."""
    set_dir = Path(set_dir)
    out = []
    for i, row in enumerate(_rows(set_dir, batches)):
        if row["visibility"] != "good" or row["background"] != "good":
            continue
        rgb = small_copy(decode_upload((set_dir / "photos" / row["file"]).read_bytes(), settings).rgb)
        box = whole_item_box(rgb)
        if box is not None:
            out.append((i, rgb, box))
    return out


def calibration_inputs(set_dir: str | Path, settings) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, cut-off labels) of the development set's calibration half, prepared as the photo check does."""
    photos = calibration_photos(set_dir, settings)
    x = [photo_input(p.path.read_bytes(), settings) for p in photos]
    return np.concatenate(x), np.array([p.labels["visibility"] == "cut_off" for p in photos])


def _model():
    import torch.nn as nn

    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2)]

    # Zero padding tells each layer where the frame ends; the flattened 6 x 6 map keeps where things are.
    return nn.Sequential(*block(3, 8), *block(8, 16), *block(16, 32), *block(32, 48), nn.Flatten(),
                         nn.Dropout(0.3), nn.Linear(48 * (SIDE // 16) ** 2, len(OUTPUTS)))


def _degrade(image: np.ndarray, rng) -> np.ndarray:
    """One standardised input (3 x SIDE x SIDE) blurred, noisier, clipped or at a lower resolution, at random:
    none of these moves an item into or out of the frame, or clears a background. Trained without them, the
    network read every degraded copy of a busy scene as less cut off and less cluttered."""
    hwc = np.ascontiguousarray(image.transpose(1, 2, 0))
    kind = rng.integers(5)
    if kind == 1:
        hwc = cv2.GaussianBlur(hwc, (0, 0), float(rng.uniform(0.5, 2.5)))
    elif kind == 2:
        hwc = hwc + rng.normal(0, rng.uniform(0.1, 0.5), hwc.shape).astype(np.float32)
    elif kind == 3:
        # Highlights or shadows clipped, as an overexposed or a dark photo loses them.
        bound = float(rng.uniform(0.3, 1.5))
        hwc = np.minimum(hwc, bound) if rng.random() < 0.5 else np.maximum(hwc, -bound)
    elif kind == 4:
        side = int(rng.integers(20, 48))
        hwc = cv2.resize(cv2.resize(hwc, (side, side), interpolation=cv2.INTER_AREA), (SIDE, SIDE),
                         interpolation=cv2.INTER_LINEAR)
    return hwc.transpose(2, 0, 1)


def _augment(x, rng, degrade: bool = True):
    """Flips and quarter turns (an item cut by the frame stays cut, clutter stays clutter), each channel's contrast
    scaled by about a tenth; with `degrade`, a degradation for four photos in five and each input standardised
    again, as a read one is (without: the candidate measured in docs/benchmarks.md, trained so)."""
    k = int(rng.integers(4))
    x = np.rot90(x, k, axes=(2, 3))
    if rng.random() < 0.5:
        x = x[:, :, :, ::-1]
    x = x * (1 + rng.normal(0, 0.1, size=(len(x), 3, 1, 1)))
    if not degrade:
        return np.ascontiguousarray(x, dtype=np.float32)
    x = np.stack([_degrade(image.astype(np.float32), rng) for image in x])
    mean = x.mean(axis=(1, 2, 3), keepdims=True)
    std = np.maximum(x.std(axis=(1, 2, 3), keepdims=True), 1e-3)
    return np.ascontiguousarray((x - mean) / std, dtype=np.float32)


def _with_crops(x, y, idx, crops: dict, rng) -> tuple[np.ndarray, np.ndarray]:
    """A batch's inputs and targets, with some croppable photos replaced by a crop (CUT_SHARE cutting the item,
    WHOLE_SHARE keeping it whole); their clutter target stays: a crop of a clean background is clean."""
    xb, yb = x[idx].copy(), y[idx].copy()
    for j, i in enumerate(idx):
        if i in crops and (u := rng.random()) < CUT_SHARE + WHOLE_SHARE:
            cut = u < CUT_SHARE
            xb[j] = net_input(crop_photo(*crops[i], rng, cut=cut))[0]
            yb[j, 0] = float(cut)
    return xb, yb


def _loss(pos_weight, masked: bool):
    """The training loss, binary cross-entropy weighted to the positives' share per output; with `masked`, a
    target that is NaN is not learnt: its term is left out of the mean and gets no gradient."""
    import torch
    import torch.nn as nn

    if not masked:
        return nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    each = nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")

    def loss(logits, target):
        known = ~torch.isnan(target)
        return each(logits, torch.nan_to_num(target))[known].mean()

    return loss


def train_edge_net(set_dir: str | Path, validation: tuple[np.ndarray, np.ndarray], out: str | Path, settings, *,
                   seed: int = 0, epochs: int = EPOCHS, batches=TRAINED_BATCHES, degrade: bool = True,
                   crops: bool = False, clutter_batches=(), majority: bool = False) -> dict:
    """Train, write the ONNX file (the weights' average at the end, a sigmoid on its outputs) and a .json beside
    it; the metadata, with the cut-off AUC on `validation` (inputs, cut-off labels) after each epoch."""
    import torch
    import torch.nn as nn
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    clutter_only = sorted(set(clutter_batches) - set(batches))
    if crops and (majority or clutter_only):
        # croppable() picks photos good by labels.csv, and a crop's clutter target is the photo's own.
        raise ValueError("crops are chosen by labels.csv's labels: not with the majority or clutter-only batches")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x, y = read_trainset(set_dir, settings, batches, clutter_only, majority)
    croppable_photos = {i: (rgb, box) for i, rgb, box in croppable(set_dir, settings, batches)} if crops else {}
    model = _model()
    pos = np.nanmean(y, axis=0)
    loss_fn = _loss(torch.tensor((1 - pos) / np.maximum(pos, 1e-3)), masked=bool(clutter_only))
    optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, epochs)
    # The network kept is an exponential average of the weights along training: single epochs' networks rank the
    # calibration half's cut-offs a couple of hundredths apart from one epoch to the next, the average steadily.
    average = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.995), use_buffers=True)
    vx, vy = torch.from_numpy(validation[0]), validation[1]
    history = []
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(x))
        for start in range(0, len(x), BATCH):
            idx = order[start:start + BATCH]
            xb, yb = _with_crops(x, y, idx, croppable_photos, rng)
            loss = loss_fn(model(torch.from_numpy(_augment(xb, rng, degrade))), torch.from_numpy(yb))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            average.update_parameters(model)
        schedule.step()
        average.eval()
        with torch.no_grad():
            auc = float(roc_auc_score(vy, average(vx)[:, 0].numpy()))
        history.append(round(auc, 4))
    model = average.module.eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(nn.Sequential(model, nn.Sigmoid()), torch.zeros(1, 3, SIDE, SIDE), str(out),
                      input_names=["photo"], output_names=["p"], opset_version=13, dynamo=False)
    raw = out.read_bytes()
    meta = {"outputs": list(OUTPUTS), "side": SIDE, "batches": list(batches), "trained_on": len(x),
            "positives": np.nansum(y, axis=0).tolist(),
            "seed": seed, "epochs": epochs, "degraded_copies": degrade, "validation_cut_off_auc": history[-1],
            "validation_photos": len(vy), "history": history, "sha256": hashlib.sha256(raw).hexdigest()[:12]}
    if majority:  # as crops below: the default's metadata keeps its keys
        trained = {r["file"] for r in _rows(Path(set_dir), batches)}
        meta["majority_of_three"] = len(trained & set(majority_labels(set_dir)))
    if clutter_only:
        meta["clutter_batches"] = clutter_only
        meta["cut_off_trained_on"] = int(np.count_nonzero(~np.isnan(y[:, 0])))
    if crops:  # only then: the default's metadata stays that of the networks trained before crops existed
        meta["cropped"] = {"photos": len(croppable_photos), "cut_share": CUT_SHARE, "whole_share": WHOLE_SHARE}
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
