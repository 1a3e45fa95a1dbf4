"""Find the item in a photo: a mask and bounding box of what stands out from the background.

Marketplace photos put one item in front of a floor, wall, bed or table. The
border of the frame is mostly that background, so the border's colours (a few
clusters: a patterned carpet has several) describe it, and each pixel's Lab
distance to the nearest of them, plus local texture, separates the item. The
component that holds the most of that saliency near the centre is the item;
holes inside it are filled (a white print on a white shirt is still the shirt).
A cheap, classical estimate (a few milliseconds at 256 px), not a segmentation model.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

SEGMENT_SIDE = 256
_BIN = 24  # Lab units per bin side when reading the border's colours


@dataclass
class Subject:
    mask: np.ndarray  # bool, at the segmentation size
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of width/height
    separation: float  # how far the item's colours stand from the background's (Lab units)
    found: bool
    # Per side of the frame (top, bottom, left, right): the share of its outermost pixels that are the item
    # by colour, not only by the mask (whose smoothing and texture term reach a few pixels past the outline).
    edge_colour: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


def magnitude(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """√(gx² + gy²), the same to the last bit wherever the arrays lie in memory. cv2.magnitude is not: its
    vector and scalar paths round differently and which pixels take which depends on the buffers'
    alignment, so the same photo measured twice could land on either side of a tip's threshold."""
    return np.sqrt(gx * gx + gy * gy)


def channel_extremes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's darkest and brightest channel (at white only when every channel is; HSV's value).
    OpenCV's per-channel min and max, not numpy's reduction over the last axis, which walks three bytes at a
    time and costs a millisecond even at 256 px."""
    r, g, b = cv2.split(rgb)
    return cv2.min(cv2.min(r, g), b), cv2.max(cv2.max(r, g), b)


def small_copy(rgb: np.ndarray, side: int = SEGMENT_SIDE) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    if scale >= 1:
        return rgb
    if scale <= 0.5:
        # Halving with pyrDown first is cheaper than one large area resample.
        rgb = cv2.pyrDown(rgb)
        h, w = rgb.shape[:2]
        scale = side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)


@functools.lru_cache(maxsize=32)
def border_band(h: int, w: int, frac: float = 0.05) -> np.ndarray:
    """The frame's outer `frac` on every side (read-only: photos come in a few shapes, so it is made once)."""
    band = np.zeros((h, w), bool)
    by, bx = max(1, int(h * frac)), max(1, int(w * frac))
    band[:by], band[-by:], band[:, :bx], band[:, -bx:] = True, True, True, True
    band.flags.writeable = False
    return band


@functools.lru_cache(maxsize=32)
def _band_pixels(h: int, w: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and weights of border_band(h, w)'s pixels: 3 at a corner, 1 mid-edge."""
    yy, xx = np.nonzero(border_band(h, w))
    weight = 1.0 + 2.0 * 4 * np.abs(xx / w - 0.5) * np.abs(yy / h - 0.5)
    for a in (yy, xx, weight):
        a.flags.writeable = False
    return yy, xx, weight


def _background_distance(lab8: np.ndarray, planes: list[np.ndarray]) -> np.ndarray:
    """Each pixel's Lab distance to the nearest main colour of the border (border_band); `lab8` is the photo in
    8-bit Lab, `planes` its three channels as float32.

    The border's colours are binned coarsely (a deterministic stand-in for
    clustering); a bin holding a fair share of the border is a background colour,
    represented by its pixels' mean. Items touch the middle of an edge far more
    often than a corner, so corner pixels weigh three times as much; a colour on a
    sliver of the border is more likely the item touching it.
    """
    h, w = lab8.shape[:2]
    yy, xx, weight = _band_pixels(h, w)
    px = lab8[yy, xx]
    bins = (px // _BIN).astype(np.int32)  # binned as 8-bit integers: the float division costs more
    key = (bins[:, 0] * 64 + bins[:, 1]) * 64 + bins[:, 2]
    # Counted by key, not by np.unique's sorted index: the same bins in the same order, without the sort.
    share = np.bincount(key, weights=weight) / weight.sum()
    chosen = np.flatnonzero(share >= 0.12)
    if not len(chosen):
        chosen = [int(np.argmax(share))]
    # Squared distances per channel plane, the root taken once of their minimum (the rounded root is monotonic,
    # so the result is the same to the last bit as the root of each): a third of the cost of an einsum per colour.
    nearest = np.full((h, w), np.inf, np.float32)
    sq = np.empty((h, w), np.float32)
    step = np.empty((h, w), np.float32)
    for b in chosen:
        c = px[key == b].astype(np.float32).mean(axis=0)
        np.subtract(planes[0], c[0], out=step)
        np.multiply(step, step, out=sq)
        for k in (1, 2):
            np.subtract(planes[k], c[k], out=step)
            np.multiply(step, step, out=step)
            np.add(sq, step, out=sq)
        np.minimum(nearest, sq, out=nearest)
    return np.sqrt(nearest)


def find_subject(small_rgb: np.ndarray, small_lab: np.ndarray | None = None) -> Subject:
    """The item in a small RGB copy of the photo; `small_lab` is that copy in 8-bit Lab where the caller has it."""
    h, w = small_rgb.shape[:2]
    lab8 = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2LAB) if small_lab is None else small_lab
    if lab8.dtype != np.uint8 or lab8.shape != small_rgb.shape:
        raise ValueError("small_lab must be the same photo in 8-bit Lab (cv2.COLOR_RGB2LAB of uint8)")
    planes = [p.astype(np.float32) for p in cv2.split(lab8)]
    band = border_band(h, w)
    dist = _background_distance(lab8, planes)
    gray = planes[0]
    grad = magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    texture = cv2.blur(grad, (9, 9))
    # The border's own spread says how busy the background is: distances below it are background noise.
    # Medians, because the item may cover part of the border.
    bg_spread = 2.0 * float(np.median(dist[band])) + 3.0
    tex_spread = 2.0 * float(np.median(texture[band])) + 1.0
    saliency = np.maximum(dist / bg_spread, 0.5 * texture / tex_spread)
    saliency = cv2.GaussianBlur(saliency, (0, 0), 1.2)
    # Otsu splits item from background where the two differ; the floor keeps a plain photo's noise out.
    scaled = np.clip(saliency * 32, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = (saliency > max(1.4, otsu / 32)).astype(np.uint8)
    # Opening removes thin lines (tile joints, floorboard gaps) that would tie the item to the frame.
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return Subject(np.zeros((h, w), bool), (0.0, 0.0, 1.0, 1.0), 0.0, False)
    # The item: the component with the most saliency, weighted towards the centre of the frame.
    # Capped, so that a large item beats a small, vivid thing in a corner.
    weight = np.bincount(labels.ravel(), weights=(np.minimum(saliency, 3.0) * _centrality(h, w)).ravel(), minlength=n)
    weight[0] = 0
    best = int(np.argmax(weight))
    keep = np.zeros(n, bool)
    keep[best] = True
    # Parts of the same item split by a fold or a print: large components close to the chosen one.
    bx, by, bw, bh = stats[best, :4]
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        near = x < bx + bw * 1.1 and x + cw > bx - bw * 0.1 and y < by + bh * 1.1 and y + ch > by - bh * 0.1
        if i != best and near and area >= 0.1 * stats[best, cv2.CC_STAT_AREA]:
            keep[i] = True
    mask = _fill_holes(keep[labels])
    if mask.sum() < 0.005 * h * w:
        return Subject(mask, (0.0, 0.0, 1.0, 1.0), 0.0, False)
    x0, x1 = _extent(mask.sum(axis=0))
    y0, y1 = _extent(mask.sum(axis=1))
    box = (x0 / w, y0 / h, (x1 + 1) / w, (y1 + 1) / h)
    separation = float(np.median(dist[mask]) - np.median(dist[~mask])) if (~mask).any() else 0.0
    return Subject(mask, box, separation, True, _edge_colour(mask, dist, 1.4 * bg_spread))


@functools.lru_cache(maxsize=32)
def _centrality(h: int, w: int) -> np.ndarray:
    """1 at the frame's centre falling to 0.3 at the middle of its sides and beyond, per pixel. Photos come in a
    few shapes, and working it out cost each check about half a millisecond."""
    yy, xx = np.mgrid[0:h, 0:w]
    out = 1.0 - 0.7 * np.hypot((xx - w / 2) / (w / 2), (yy - h / 2) / (h / 2)).clip(0, 1)
    out.flags.writeable = False
    return out


def _edge_colour(mask: np.ndarray, dist: np.ndarray, floor: float, rows: int = 2) -> tuple[float, ...]:
    """Share of each side's outermost `rows` pixels inside the mask and away from the background's colours
    (distance above `floor`, the mask's own floor of saliency from colour alone).

    A packshot cropped tight leaves a line of backdrop between its outline and the frame, which the
    smoothed mask covers and the colour does not; an item that runs out of the frame is its own colour
    right to the edge.
    """
    strips = (np.s_[:rows], np.s_[-rows:], np.s_[:, :rows], np.s_[:, -rows:])
    return tuple(float((mask[s] & (dist[s] > floor)).mean()) for s in strips)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask plus every background region it encloses (not reachable from the frame's edge)."""
    padded = np.pad(mask.astype(np.uint8), 1)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), 1)
    return (padded | (1 - flood)).astype(bool)[1:-1, 1:-1]


def _extent(profile: np.ndarray, trim: float = 0.01) -> tuple[int, int]:
    """First and last position holding the middle 98% of the mask's pixels along one axis."""
    cum = np.cumsum(profile)
    total = cum[-1]
    return int(np.searchsorted(cum, trim * total)), int(np.searchsorted(cum, (1 - trim) * total))
