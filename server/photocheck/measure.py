"""Raw measurements of a decoded photo, one group per aspect of the study's survey.

Every number here is a plain measurement (brightness of the item, edge width,
noise sigma, item size, tilt of the scene's level lines, ...); turning them into
findings with a confidence is `judge.py`'s job, and the learned scorer reads the
same numbers as features. What each group looks at, and why:

- lighting is judged on the item, not the frame: a white or black backdrop is a
  clean background, and only clipping *inside* the item loses detail;
- sharpness is measured on the item's strongest edges, per edge direction
  (camera shake smears one direction only) and per tile (a sharp item in front
  of a soft background is a shallow depth of field, not blur);
- visibility measures how the item meets the frame: a long stretch of the item
  on an edge means it runs out of the frame, a touch means it fills it; the
  stretch is read by colour as well as by the (smoothed) mask, and once more
  without the mask (frame_edge.py), which misses items that fill the frame;
- a small learned network (edge_net.py) reads the whole photo at 96 px for the
  two problems the classical readings rank worst, an item running out of the
  frame and a cluttered background;
- clutter is read around the item, with colour edges apart: other objects,
  shelves and patterns change colour, one material's texture only brightness;
- the angle comes only from long straight lines outside the item that agree on
  one rotation (floorboards, tile joints, wall and table edges): a print, a
  pattern or an item laid diagonally is no evidence.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .edge_net import edge_reading
from .frame_edge import edge_likeness
from .geometry import Layout
from .subject import Subject, border_band, channel_extremes, find_subject, magnitude, small_copy

# Immerkær's mask: zero response to locally linear intensity, so it sees noise, not shading.
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
_LEVELS = np.arange(256) / 255.0
# Second-difference kernels: Ixx (Iyy is its transpose) and the mixed Ixy.
_DXX = np.array([[1, -2, 1]], np.float32)
_DXY = np.array([[1, 0, -1], [0, 0, 0], [-1, 0, 1]], np.float32) / 4
# 36 directions, 5° apart: finer than a shake needs to be told apart from defocus.
_ANGLES = np.radians(np.arange(0, 180, 5))
# (cos²θ, 2·sinθ·cosθ, sin²θ) for each θ: the second derivative along θ from (Ixx, Ixy, Iyy).
_DETAIL_DIRECTIONS = np.stack([np.cos(_ANGLES) ** 2, 2 * np.sin(_ANGLES) * np.cos(_ANGLES), np.sin(_ANGLES) ** 2])
# Grey levels² added to both sides of the detail ratio: a nearly flat frame, whose detail is noise in every
# direction, reads as even (no shake) rather than as the ratio of two tiny numbers.
_DETAIL_FLOOR = 1.0
_SHARPNESS_WINDOW = 512
_TAN_22_5 = np.float32(math.tan(math.radians(22.5)))
# grain_coarse_ratio is read as at most this: past it every photo is texture, and a near-flat block's ratio of
# two tiny responses is meaningless.
_GRAIN_RATIO_CAP = 1.5
# Below this mean response (grey levels) of the quiet blocks there is no grain to weigh against texture.
_GRAIN_MIN_RESPONSE = 0.5
# item_blend_separation where the mask is not the item: further apart than any two colours can be in Lab.
_NO_BLEND = 400.0
# Side of the background patches whose colour edges are counted, at the segmentation size (256 px).
_PATCH = 16
# A colour edge: Sobel magnitude of a plus b above this, a step of about 10 Lab units (Sobel gives 4× a step).
_COLOUR_EDGE = 40.0


# What the measurements mean, for models trained on them (scoring/learned_model.py), which refuse other meanings: raised
# whenever one changes (2: `contrast` weighs the item as much as its backdrop, photo-check@13).
REVISION = 2


def measure(rgb: np.ndarray, width: int, height: int) -> tuple[dict[str, float], Layout]:
    """All measurements for an RGB array (analysis size) of a photo whose original is width×height, and
    where things are (for geometry.locate)."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = small_copy(rgb)
    small_gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    # Exposure is judged on the photo as taken; everything else on a copy stretched to full range, so a
    # dark photo is not also called tidy, sharp and framed just because its edges and colours are faint.
    alpha, beta = _stretch(small_gray)
    small_n = cv2.convertScaleAbs(small, alpha=alpha, beta=beta)
    small_gray_n = cv2.convertScaleAbs(small_gray, alpha=alpha, beta=beta)
    # Lab once: the item's mask and the background's colour edges both read it.
    small_lab_n = cv2.cvtColor(small_n, cv2.COLOR_RGB2LAB)
    subject = find_subject(small_n, small_lab_n)
    m: dict[str, float] = {}
    m.update(_lighting(small, small_gray, subject))
    m.update(_sharpness(cv2.convertScaleAbs(gray, alpha=alpha, beta=beta), subject))
    # Grain is judged on the photo as taken, like exposure: the stretch multiplies a dark photo's noise by up
    # to 8, and a dark photo's fix is light (its own tip), after which that grain is gone too.
    m["noise_sigma"] /= alpha
    m.update(_resolution(width, height))
    m.update(_framing(subject))
    # Read without the mask, which misses an item that fills the frame and runs out of it on several sides.
    likeness = edge_likeness(small_n)
    m["item_edge_likeness"] = float(sum(likeness))
    # What the visibility value shows: the longest stretch of one side the item covers, by either reading.
    m["item_edge_reach"] = max(m["item_border_contact"], float(max(likeness)))
    m.update(edge_reading(small))
    m.update(_background(small_n, small_gray_n, small_lab_n, subject))
    angle, line = _angle(small_gray_n, subject)
    m.update(angle)
    return m, Layout(subject, small, line, angle["tilt_degrees"], likeness)


def _stretch(gray: np.ndarray) -> tuple[float, float]:
    """Gain and offset that map the 1st–99th percentile of brightness onto 0–255 (gain at most 8)."""
    hist = _hist(gray, None)
    lo, hi = _percentile(hist, 0.01) * 255, _percentile(hist, 0.99) * 255
    alpha = min(8.0, 255.0 / max(hi - lo, 1.0))
    return alpha, -lo * alpha


def _hist(gray: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    # Histograms, not sorts: 256 bins are exact for 8-bit pixels and cost a single pass.
    h = cv2.calcHist([gray], [0], mask, [256], [0, 256]).ravel()
    return h / max(h.sum(), 1.0)


def _median8(gray: np.ndarray) -> float:
    """np.median of an 8-bit array, read off its histogram: the middle value, or the mean of the middle two."""
    cum = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    n = int(cum[-1])
    if n == 0:
        return float("nan")
    lo, hi = np.searchsorted(cum, [(n - 1) // 2 + 1, n // 2 + 1])
    return (int(lo) + int(hi)) / 2


def _percentile(hist: np.ndarray, q: float) -> float:
    return float(np.searchsorted(np.cumsum(hist), q) / 255.0)


def _lighting(rgb: np.ndarray, gray: np.ndarray, subject: Subject) -> dict[str, float]:
    """Exposure of the frame and of the item.

    Darkness is read on each pixel's brightest channel (HSV value), so a saturated
    red is not mistaken for a shadow; washed out means every channel at white, so
    a vivid colour at its ceiling is not mistaken for a blown highlight.
    """
    darkest, value = channel_extremes(rgb)
    frame = _hist(value, None)
    # The item's own pixels, a little inside its outline so the backdrop's glow does not count.
    inner = cv2.erode(subject.mask.astype(np.uint8), np.ones((7, 7), np.uint8)) if subject.found else None
    if inner is not None and inner.sum() < 50:
        inner = subject.mask.astype(np.uint8)
    item = _hist(value, inner)
    white = (darkest >= 252).astype(np.uint8)
    item_clipped = float(white[inner > 0].mean()) if inner is not None else float(white.mean())
    # A sunbeam or a flash glare is a compact blown patch on the item, not white spread thinly.
    patch = 0.0
    if inner is not None and item_clipped > 0:
        blown = cv2.morphologyEx(white & inner, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        n, _, stats, _ = cv2.connectedComponentsWithStats(blown, connectivity=8)
        if n > 1:
            patch = float(stats[1:, cv2.CC_STAT_AREA].max() / max(inner.sum(), 1))
    rest = (~subject.mask).astype(np.uint8)
    # A backdrop of a few pixels says nothing of it, and must not weigh half in `contrast` below.
    backdrop = subject.found and rest.sum() >= 50
    bg = _hist(value, rest) if backdrop else frame
    luma = _hist(gray, None)
    item_luma = _hist(gray, inner)
    # Flat means the item and what it stands on are grey together. Read over the frame, a small item on a plain
    # floor is under its 5th percentile: the backdrop alone sets both ends, and a clean photo reads as hazy.
    # So the item weighs as much as its backdrop.
    together = 0.5 * item_luma + 0.5 * _hist(gray, rest) if backdrop else luma
    return {
        "brightness": float(frame @ _LEVELS),
        "bright_p95": _percentile(frame, 0.95),
        "bright_p99": _percentile(frame, 0.99),
        "clipped": float(white.mean()),
        "item_brightness": float(item @ _LEVELS),
        "item_p95": _percentile(item, 0.95),
        "item_clipped": item_clipped,
        "item_blown_patch": patch,
        "item_crushed": float(item[_LEVELS <= 0.03].sum()),
        "background_brightness": float(bg @ _LEVELS),
        "luma_mean": float(luma @ _LEVELS),
        "item_luma": float(item_luma @ _LEVELS),
        "luma_p95": _percentile(luma, 0.95),
        "contrast": _percentile(together, 0.95) - _percentile(together, 0.05),
    }


def _crop(gray: np.ndarray, box, most: int = _SHARPNESS_WINDOW) -> np.ndarray:
    """The item's box, at full analysis resolution; its central `most`×`most` pixels when larger
    (sharpness is local: a window of the item tells as much as all of it, for less)."""
    h, w = gray.shape
    x0, y0, x1, y1 = box
    crop = gray[int(y0 * h): max(int(y0 * h) + 16, int(math.ceil(y1 * h))),
                int(x0 * w): max(int(x0 * w) + 16, int(math.ceil(x1 * w)))]
    if crop.size < 256:
        crop = gray
    ch, cw = crop.shape
    top, left = max(0, (ch - most) // 2), max(0, (cw - most) // 2)
    return crop[top: top + most, left: left + most]


def _direction(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Each strong gradient's direction in four bins 45° wide, centred on 0° (0), 45° (1), 90° (2) and 135° (3),
    with opposite gradients alike: compared with tan 22.5°, not through an arctangent (0.7 against 0.2 ms a photo).
    A zero gradient, which has no direction, falls in bin 3; the callers pass strong edges only."""
    ax, ay = np.abs(gx), np.abs(gy)
    direction = np.where(gx * gy > 0, np.int8(1), np.int8(3))
    direction[ay < _TAN_22_5 * ax] = 0
    direction[ax < _TAN_22_5 * ay] = 2
    return direction


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if len(values) >= 20 else float("nan")


def _sharpness(gray: np.ndarray, subject: Subject) -> dict[str, float]:
    """Edge sharpness where the item is, per edge direction and per tile, and sensor noise.

    For an edge blurred by a Gaussian of width σ, the peak Laplacian divided by the
    peak gradient falls as 1/σ whatever the edge's contrast, so the median of that
    ratio over the strongest edges measures focus without depending on content.
    Only the strongest edges' pixels (a few percent) are looked at past the filters.
    """
    g = _crop(gray, subject.box).astype(np.float32)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
    grad = magnitude(gx, gy)
    lap_peak = cv2.dilate(np.abs(cv2.Laplacian(g, cv2.CV_32F)), np.ones((3, 3), np.uint8))
    # Percentiles on a strided sample: the same threshold within noise, at a tenth of the cost.
    # np.nonzero's pixels in its order, by flat index: on a 2-D array np.nonzero costs 2.5-5 times as much.
    ys, xs = np.divmod(np.flatnonzero(grad >= max(30.0, float(np.percentile(grad[::3, ::3], 95)))), grad.shape[1])
    strong_grad = grad[ys, xs]
    ratio = lap_peak[ys, xs] / strong_grad
    edge_sharpness = _median(ratio)
    edge_sharpness = 0.0 if math.isnan(edge_sharpness) else edge_sharpness

    # Shake smears edges across its direction and leaves those along it: compare four directions.
    direction = _direction(gx[ys, xs], gy[ys, xs])
    by_direction = [r for r in (_median(ratio[direction == d]) for d in range(4)) if not math.isnan(r)]
    sharp_min = min(by_direction) if len(by_direction) >= 2 else edge_sharpness
    sharp_max = max(by_direction) if len(by_direction) >= 2 else edge_sharpness

    # The sharpest part of the item: in focus somewhere means the camera focused; the rest is depth of field.
    h, w = g.shape
    tile = (ys * 3 // h) * 3 + xs * 3 // w
    tiles = [r for r in (_median(ratio[tile == t]) for t in range(9)) if not math.isnan(r)]
    sharp_best = max(tiles) if tiles else edge_sharpness

    # Every other pixel, not an average of them: subsampling keeps the noise's strength. Noise is in every
    # part of the photo and texture only in some, so the quietest blocks (10th percentile) give the noise.
    full = gray[::2, ::2].astype(np.float32)
    resp = np.abs(cv2.filter2D(full, -1, _NOISE_KERNEL))
    blocks = (max(1, resp.shape[1] // 16), max(1, resp.shape[0] // 16))
    block = cv2.resize(resp, blocks, interpolation=cv2.INTER_AREA)
    quiet = np.percentile(block, 10)
    noise = float(math.sqrt(math.pi / 2) * quiet / 6.0)
    # Grain is pixel-sized and independent from pixel to pixel, so averaging 4×4 of these half-size pixels takes most of
    # it away (noise added to the set's photos keeps 0.21–0.57 of its response, median 0.31); the grain of wood
    # or a carpet's pile is texture larger than a pixel and keeps more (0.9–1.5 on the two floors that were
    # called grainy). Read on the same quiet blocks.
    grain_ratio = _GRAIN_RATIO_CAP
    coarse_size = (resp.shape[1] // 4, resp.shape[0] // 4)
    in_quiet = block <= quiet
    fine = float(block[in_quiet].mean())
    # A frame with no fine response (flat or clipped) has no grain to tell apart, and a strip a few pixels
    # high (a 16×4000 banner) has no 3×3 neighbourhood left after averaging: both read as texture.
    if fine > _GRAIN_MIN_RESPONSE and min(coarse_size) >= 3:
        coarse = cv2.resize(full, coarse_size, interpolation=cv2.INTER_AREA)
        coarse_block = cv2.resize(np.abs(cv2.filter2D(coarse, -1, _NOISE_KERNEL)), blocks, interpolation=cv2.INTER_AREA)
        grain_ratio = min(_GRAIN_RATIO_CAP, float(coarse_block[in_quiet].mean()) / fine)
    # Fine detail over the whole frame: a focused photo keeps texture (weave, grain of wood, print) that
    # a soft one has lost, even where it has few strong edges for the measures above to read.
    detail, detail_anisotropy = _detail(full)
    return {"edge_sharpness": edge_sharpness, "edge_fraction": float(len(ys) / grad.size),
            "detail": detail, "detail_anisotropy": detail_anisotropy,
            "sharp_min_direction": sharp_min, "sharp_max_direction": sharp_max,
            "shake_anisotropy": sharp_min / sharp_max if sharp_max > 0 else 1.0,
            "sharp_best_tile": sharp_best, "noise_sigma": noise, "grain_coarse_ratio": grain_ratio}


def _detail(gray: np.ndarray) -> tuple[float, float]:
    """Fine detail per direction: log(1 + the variance of the second derivative along the direction that
    keeps the most of it), 0 for a flat frame; and the weakest direction's over the strongest's.

    The second derivative along θ is cos²θ·Ixx + 2·sinθ·cosθ·Ixy + sin²θ·Iyy, so its variance is a quadratic
    form in the covariance of (Ixx, Ixy, Iyy): three filters give all 36 directions at once. Shake wipes out
    detail along its path far more than across it; defocus takes it evenly, so the ratio tells them apart.
    """
    parts = np.empty((3, *gray.shape), np.float32)
    for k, kernel in enumerate((_DXX, _DXY, _DXX.T)):
        cv2.filter2D(gray, cv2.CV_32F, kernel, dst=parts[k])
    # Second differences average to zero over a photo, so their second moments are the covariance.
    xx, xy, yy = parts.reshape(3, -1)
    a, b, c, d, e, f = (float(np.dot(p, q)) for p, q in ((xx, xx), (xx, xy), (xx, yy), (xy, xy), (xy, yy), (yy, yy)))
    cov = np.array([[a, b, c], [b, d, e], [c, e, f]]) / xx.size
    per_angle = np.einsum("ia,ij,ja->a", _DETAIL_DIRECTIONS, cov, _DETAIL_DIRECTIONS)
    strongest, weakest = float(per_angle.max()), float(per_angle.min())
    return math.log1p(strongest), (weakest + _DETAIL_FLOOR) / (strongest + _DETAIL_FLOOR)


def _resolution(width: int, height: int) -> dict[str, float]:
    return {"megapixels": width * height / 1e6, "short_side": float(min(width, height))}


def _framing(subject: Subject) -> dict[str, float]:
    cx, cy = subject.centre
    mask = subject.mask
    if subject.found:
        # Share of each side of the frame the item covers: an item running out of the frame covers a
        # long stretch of it; an item that merely fills the frame touches it at a point or two.
        sides = [mask[:2].mean(), mask[-2:].mean(), mask[:, :2].mean(), mask[:, -2:].mean()]
        x0, y0, x1, y1 = subject.box
        margin = min(x0, y0, 1 - x1, 1 - y1)
    else:
        sides, margin = [0.0], 0.5
    return {
        "item_found": float(subject.found),
        "item_area": subject.area if subject.found else 0.0,
        "item_fill": float(mask.mean()) if subject.found else 0.0,
        "item_offset": math.hypot(cx - 0.5, cy - 0.5) / math.hypot(0.5, 0.5) if subject.found else 0.0,
        "item_border_contact": float(max(sides)),
        "item_sides_touched": float(sum(s >= 0.03 for s in sides)),
        "item_border_total": float(sum(sides)),
        "item_margin": float(margin),
        "item_separation": subject.separation,
        # What blending is judged on. A mask whose colours stand out from the background less than the rest of
        # the frame does (negative separation) is not the item but texture or a print, and a mask with nothing
        # outside it has no separation to read (0): neither says how the item meets its background, so both
        # read as no blending.
        "item_blend_separation": subject.separation if subject.separation > 0 else _NO_BLEND,
        "item_edge_colour": float(max(subject.edge_colour)),
        "item_edge_colour_total": float(sum(subject.edge_colour)),
    }


def _background(rgb: np.ndarray, gray: np.ndarray, lab: np.ndarray, subject: Subject) -> dict[str, float]:
    """Clutter: edge density, tonal spread and colour variety around the item, not on it."""
    h, w = gray.shape
    med = _median8(gray)
    edges = cv2.Canny(gray, int(max(20, 0.66 * med)), int(min(255, max(60, 1.33 * med)))) > 0
    region = np.ones((h, w), bool)
    if subject.found:
        x0, y0, x1, y1 = subject.box
        pad = 0.03
        region[max(0, int((y0 - pad) * h)): int(math.ceil((y1 + pad) * h)),
               max(0, int((x0 - pad) * w)): int(math.ceil((x1 + pad) * w))] = False
    if region.mean() < 0.08:
        region = border_band(h, w, 0.04)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    # Colour variety: how many hue bins it takes to hold 90% of the coloured pixels around the item.
    coloured = region & (hsv[..., 1] > 60) & (hsv[..., 2] > 40)
    variety = 0.0
    if coloured.sum() > 50:
        hues = np.sort(np.bincount(hsv[..., 0][coloured] // 10, minlength=18))[::-1]
        variety = float(np.searchsorted(np.cumsum(hues), 0.9 * hues.sum()) + 1) * float(coloured.mean() ** 0.5)
    return {
        "background_edges": float(edges[region].mean()),
        "background_spread": float(gray[region].std() / 255.0),
        "background_colours": variety,
        "background_colour_edges": _colour_edge_peak(lab, region),
        "background_coherence": _coherence(gray, region),
    }


def _coherence(gray: np.ndarray, region: np.ndarray) -> float:
    """How much the background's strongest edges (its top quarter by gradient) share one orientation: the
    coherence (λ1 − λ2) / (λ1 + λ2) of their summed structure tensor, 1 when all run one way, 0 when they run
    every way.

    Floorboards, a striped or folded sheet and tile joints are many edges in one or two directions: texture of
    one surface, which sellers' buyers do not call clutter. Other objects, a patterned rug and shop shelves seen
    in perspective turn every way.
    """
    if region.sum() < 16:
        return 0.0
    gx, gy = cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    xx, yy, xy = gx * gx, gy * gy, gx * gy
    energy = xx + yy  # the squared gradient: ranks edges as their strength does
    around = energy[region]
    k = int(0.75 * (around.size - 1))
    strong = (region & (energy > np.partition(around, k)[k])).astype(np.float32).ravel()
    jxx, jyy, jxy = (float(np.dot(p.ravel(), strong)) for p in (xx, yy, xy))
    trace = jxx + jyy
    return math.sqrt((jxx - jyy) ** 2 + 4 * jxy * jxy) / trace if trace > 0 else 0.0


def _colour_edge_peak(lab: np.ndarray, region: np.ndarray) -> float:
    """The busiest patch of the background in colour edges: the share of a patch's pixels where hue or
    saturation changes sharply (Lab a/b gradient), highest over the patches wholly around the item.

    Clutter (shelves, other objects, a patterned rug, a hand) is made of colour boundaries somewhere;
    texture of one material (a shaggy carpet, floorboards, a folded sheet) changes in brightness, not in
    colour. The busiest patch, not the mean, because clutter often sits in one corner. `lab`: the photo in 8-bit Lab.
    """
    chroma = np.zeros(region.shape, np.float32)
    for channel in (1, 2):  # a and b; lightness is texture's, not clutter's
        # Smoothed first: sensor noise speckles colour too, one pixel at a time.
        c = cv2.GaussianBlur(lab[..., channel], (5, 5), 0)
        chroma += magnitude(cv2.Sobel(c, cv2.CV_32F, 1, 0), cv2.Sobel(c, cv2.CV_32F, 0, 1))
    h, w = region.shape
    rows, cols = h // _PATCH, w // _PATCH
    if rows < 1 or cols < 1:
        return 0.0
    crop = (slice(0, rows * _PATCH), slice(0, cols * _PATCH))
    # Area resampling to one pixel per patch gives each patch's share exactly.
    share = cv2.resize((chroma[crop] > _COLOUR_EDGE).astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA)
    inside = cv2.resize(region[crop].astype(np.float32), (cols, rows), interpolation=cv2.INTER_AREA) > 0.9
    return float(share[inside].max()) if inside.any() else 0.0


def _angle(gray: np.ndarray, subject: Subject) -> tuple[dict[str, float], tuple | None]:
    """Tilt: the rotation that long straight lines outside the item agree on, within 25° of level or plumb.

    Only lines that should be level or upright count (floorboards, tile joints,
    shelf, wall and table edges); lines steeper than 25° off both are a view
    chosen on purpose, not a slip. Lines in perspective disagree with each other,
    so the evidence is the length of lines that agree with the median within 1.5°.
    Also returns the longest agreeing line (fractions of width and height), to show where it was measured.
    """
    h, w = gray.shape
    # Low thresholds: floorboard gaps and tile joints are faint lines.
    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 25, 75)
    if subject.found:
        # The item's own outline and print say nothing about which way is up.
        edges[cv2.dilate(subject.mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0] = 0
    short = min(h, w)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=50, minLineLength=0.25 * short, maxLineGap=5)
    none = {"tilt_degrees": 0.0, "tilt_abs": 0.0, "line_support": 0.0, "tilt_agreement": 0.0, "tilt_lines": 0.0,
            "tilt_evidence": 0.0}
    if lines is None:
        return none, None
    x1, y1, x2, y2 = lines.reshape(-1, 4).T.astype(np.float32)
    theta = np.degrees(np.arctan2(y2 - y1, x2 - x1))
    dev = (theta + 45.0) % 90.0 - 45.0  # deviation from the nearest of horizontal/vertical
    length = np.hypot(x2 - x1, y2 - y1)
    near = np.abs(dev) <= 25.0
    if not near.any():
        return none, None
    x1, y1, x2, y2 = x1[near], y1[near], x2[near], y2[near]
    dev, length = dev[near], length[near]
    order = np.argsort(dev)
    cum = np.cumsum(length[order])
    tilt = float(dev[order][np.searchsorted(cum, cum[-1] / 2)])
    agree = np.abs(dev - tilt) <= 1.5
    support = float(length[agree].sum() / short)
    k = int(np.argmax(np.where(agree, length, -1.0)))
    line = (float(x1[k] / w), float(y1[k] / h), float(x2[k] / w), float(y2[k] / h))
    return {"tilt_degrees": tilt, "tilt_abs": abs(tilt), "line_support": support,
            "tilt_agreement": float(length[agree].sum() / length.sum()), "tilt_lines": float(agree.sum()),
            # Lines agreeing on a rotation a person would notice (2.5° or more); level lines are no evidence.
            "tilt_evidence": support if abs(tilt) >= 2.5 else 0.0}, line
