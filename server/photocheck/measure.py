"""Raw measurements of a decoded photo, one group per aspect of the study's survey.

Every number here is a plain measurement (brightness, edge width, noise sigma,
item size, tilt in degrees, ...); turning them into verdicts is `judge.py`'s job,
and the learned scorer reads the same numbers as features.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .subject import Subject, border_band, find_subject, small_copy

# Immerkær's mask: zero response to locally linear intensity, so it sees noise, not shading.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def measure(rgb: np.ndarray, width: int, height: int) -> tuple[dict[str, float], Subject]:
    """All measurements for an RGB array (analysis size) of a photo whose original is width×height."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = small_copy(rgb)
    small_gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    subject = find_subject(small)
    m: dict[str, float] = {}
    m.update(_lighting(small_gray, subject))
    m.update(_sharpness(gray, subject))
    m.update(_resolution(width, height))
    m.update(_framing(subject))
    m.update(_background(small_gray, subject))
    m.update(_angle(small_gray))
    return m, subject


def _lighting(gray: np.ndarray, subject: Subject) -> dict[str, float]:
    # Histograms, not sorts: 256 bins are exact for 8-bit pixels and cost a single pass.
    hist = cv2.calcHist([gray], [0], None, [256], [0, 256]).ravel() / gray.size
    item_mask = subject.mask.astype(np.uint8) if subject.found else None
    item = cv2.calcHist([gray], [0], item_mask, [256], [0, 256]).ravel()
    item /= max(item.sum(), 1.0)
    levels = np.arange(256) / 255.0
    cdf = np.cumsum(hist)
    p5, p95 = np.searchsorted(cdf, [0.05, 0.95]) / 255.0
    bright = levels >= 0.98
    return {
        "brightness": float(hist @ levels),
        "clipped": float(hist[bright].sum()),
        "item_brightness": float(item @ levels),
        # Clipping on a white backdrop is fine; clipping on the item loses its detail.
        "item_clipped": float(item[bright].sum()),
        "item_crushed": float(item[levels <= 0.02].sum()),
        "contrast": float(p95 - p5),
    }


def _crop(gray: np.ndarray, box) -> np.ndarray:
    h, w = gray.shape
    x0, y0, x1, y1 = box
    crop = gray[int(y0 * h): max(int(y0 * h) + 16, int(math.ceil(y1 * h))),
                int(x0 * w): max(int(x0 * w) + 16, int(math.ceil(x1 * w)))]
    return crop if crop.size >= 256 else gray


def _sharpness(gray: np.ndarray, subject: Subject) -> dict[str, float]:
    """Edge sharpness where the item is, and sensor noise.

    For an edge blurred by a Gaussian of width σ, the peak Laplacian divided by the
    peak gradient falls as 1/σ whatever the edge's contrast, so the median of that
    ratio over the strongest edges measures focus without depending on content.
    """
    g = _crop(gray, subject.box).astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
    grad = cv2.magnitude(gx, gy)
    lap_peak = cv2.dilate(np.abs(cv2.Laplacian(g, cv2.CV_32F)), np.ones((3, 3), np.uint8))
    # Percentiles on a strided sample: the same threshold within noise, at a tenth of the cost.
    strong = grad >= max(40.0, float(np.percentile(grad[::3, ::3], 97)))
    edge_sharpness = float(np.median(lap_peak[strong] / grad[strong])) if strong.sum() >= 20 else 0.0

    # Every other pixel, not an average of them: subsampling keeps the noise's strength.
    full = gray[::2, ::2].astype(np.float32)
    resp = np.abs(cv2.filter2D(full, -1, _NOISE_KERNEL))
    fgrad = cv2.magnitude(cv2.Sobel(full, cv2.CV_32F, 1, 0), cv2.Sobel(full, cv2.CV_32F, 0, 1))
    # Only flat areas: texture and edges would read as noise.
    flat = fgrad <= np.percentile(fgrad[::2, ::2], 40)
    noise = float(math.sqrt(math.pi / 2) * resp[flat].mean() / 6.0) if flat.any() else 0.0
    return {"edge_sharpness": edge_sharpness, "edge_fraction": float(strong.mean()), "noise_sigma": noise}


def _resolution(width: int, height: int) -> dict[str, float]:
    return {"megapixels": width * height / 1e6, "short_side": float(min(width, height))}


def _framing(subject: Subject) -> dict[str, float]:
    cx, cy = subject.centre
    x0, y0, x1, y1 = subject.box
    mask = subject.mask
    if subject.found:
        # Share of each image side covered by the item: an item running off a side is cut off.
        sides = [mask[:2].mean(), mask[-2:].mean(), mask[:, :2].mean(), mask[:, -2:].mean()]
    else:
        sides = [0.0]
    return {
        "item_found": float(subject.found),
        "item_area": subject.area if subject.found else 0.0,
        "item_offset": math.hypot(cx - 0.5, cy - 0.5) / math.hypot(0.5, 0.5) if subject.found else 0.0,
        "item_border_contact": float(max(sides)),
        "item_separation": subject.separation,
    }


def _background(gray: np.ndarray, subject: Subject) -> dict[str, float]:
    """Clutter: edge density and tonal spread around the item, not on it."""
    h, w = gray.shape
    med = float(np.median(gray))
    edges = cv2.Canny(gray, int(max(20, 0.66 * med)), int(min(255, max(60, 1.33 * med)))) > 0
    region = np.ones((h, w), bool)
    if subject.found:
        x0, y0, x1, y1 = subject.box
        pad = 0.03
        region[max(0, int((y0 - pad) * h)): int(math.ceil((y1 + pad) * h)),
               max(0, int((x0 - pad) * w)): int(math.ceil((x1 + pad) * w))] = False
    if region.mean() < 0.08:
        region = border_band(h, w, 0.04)
    return {
        "background_edges": float(edges[region].mean()),
        "background_spread": float(gray[region].std() / 255.0),
    }


def _angle(gray: np.ndarray) -> dict[str, float]:
    """Tilt: length-weighted median deviation of long straight lines from level or plumb."""
    h, w = gray.shape
    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 50, 150)
    min_len = 0.18 * min(h, w)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=40, minLineLength=min_len, maxLineGap=4)
    if lines is None:
        return {"tilt_degrees": 0.0, "tilt_abs": 0.0, "line_support": 0.0}
    x1, y1, x2, y2 = lines.reshape(-1, 4).T.astype(np.float32)
    theta = np.degrees(np.arctan2(y2 - y1, x2 - x1))
    dev = (theta + 45.0) % 90.0 - 45.0  # deviation from the nearest of horizontal/vertical
    length = np.hypot(x2 - x1, y2 - y1)
    near = np.abs(dev) <= 20.0
    if length[near].sum() < 0.8 * min(h, w):
        return {"tilt_degrees": 0.0, "tilt_abs": 0.0, "line_support": float(length[near].sum() / min(h, w))}
    order = np.argsort(dev[near])
    cum = np.cumsum(length[near][order])
    tilt = float(dev[near][order][np.searchsorted(cum, cum[-1] / 2)])
    return {"tilt_degrees": tilt, "tilt_abs": abs(tilt), "line_support": float(length[near].sum() / min(h, w))}
