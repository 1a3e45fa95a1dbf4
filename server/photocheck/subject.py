"""Find the item in a photo: a mask and bounding box of what stands out from the background.

Marketplace photos put one item in front of a floor, wall or table. The border of
the frame is mostly that background, so each pixel's Lab colour distance from the
border's median colour, plus local texture, separates the item from it. It is a
cheap, classical estimate (a few milliseconds at 320 px), not a segmentation model.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SEGMENT_SIDE = 320


@dataclass
class Subject:
    mask: np.ndarray  # bool, at the segmentation size
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of width/height
    separation: float  # how far the item's colours stand from the background's (Lab units)
    found: bool

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


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


def border_band(h: int, w: int, frac: float = 0.05) -> np.ndarray:
    band = np.zeros((h, w), bool)
    by, bx = max(1, int(h * frac)), max(1, int(w * frac))
    band[:by], band[-by:], band[:, :bx], band[:, -bx:] = True, True, True, True
    return band


def find_subject(small_rgb: np.ndarray) -> Subject:
    h, w = small_rgb.shape[:2]
    lab = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    band = border_band(h, w)
    bg = np.median(lab[band], axis=0)
    diff = lab - bg
    dist = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    gray = lab[..., 0]
    grad = cv2.magnitude(cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    texture = cv2.blur(grad, (7, 7))
    # Spread of the border tells how busy the background is: distances below it are background noise.
    bg_spread = float(np.percentile(dist[band], 75)) + 1.0
    tex_spread = float(np.percentile(texture[band], 75)) + 1.0
    saliency = np.maximum(dist / bg_spread, 0.6 * texture / tex_spread)
    saliency = cv2.GaussianBlur(saliency, (0, 0), 2.0)
    # Otsu splits item from background where the two differ; the floor keeps a plain photo's noise out.
    scaled = np.clip(saliency * 32, 0, 255).astype(np.uint8)
    otsu, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = saliency > max(1.5, otsu / 32)
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))

    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return Subject(np.zeros((h, w), bool), (0.0, 0.0, 1.0, 1.0), 0.0, False)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.zeros(n, bool)
    keep[1:] = areas >= 0.15 * areas.max()
    mask = keep[labels]
    if mask.sum() < 0.005 * h * w:
        return Subject(mask, (0.0, 0.0, 1.0, 1.0), 0.0, False)
    x0, x1 = _extent(mask.sum(axis=0))
    y0, y1 = _extent(mask.sum(axis=1))
    box = (x0 / w, y0 / h, (x1 + 1) / w, (y1 + 1) / h)
    separation = float(np.median(dist[mask]) - np.median(dist[~mask])) if (~mask).any() else 0.0
    return Subject(mask, box, separation, True)


def _extent(profile: np.ndarray, trim: float = 0.01) -> tuple[int, int]:
    """First and last position holding the middle 98% of the mask's pixels along one axis."""
    cum = np.cumsum(profile)
    total = cum[-1]
    return int(np.searchsorted(cum, trim * total)), int(np.searchsorted(cum, (1 - trim) * total))
