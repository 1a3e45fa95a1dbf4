"""Does the item run out of the frame? A second look at the frame's edge, by colour, that needs no item mask.

The item mask (subject.py) takes the border's main colours for the background, so
an item that fills the frame and runs out of it on two or three sides (a T-shirt
shot close, a dress on a bed) is read as background and not found at all, and
its cut-off goes unseen. Here a colour of the border is background only where it
is not clearly more common in the middle of the frame, where the seller put the
item:

1. colours are binned coarsely (lightness in wide bins, so shading stays one
   colour); a bin is background where, counted with its two lightness
   neighbours (shading that crosses a bin), it covers at least 5% of the border
   band and its share there is not clearly below its share of the central
   quarter;
2. a watershed grows the item from a small central ellipse (the middle quarter
   where the ellipse is all backdrop; no item where that is too) and the
   background from the border pixels of background colour, meeting at the
   strongest edges;
3. colour histograms of the two regions give each pixel on the frame's edge a
   probability of being the item; a side's score is the share of its outermost
   pixels where that probability is high.

A packshot's frame edge is backdrop (0 on every side); a garment that runs out
of the frame is its own colour along the side it leaves by. At 128 px it costs
well under a millisecond.
"""

from __future__ import annotations

import cv2
import numpy as np

from .subject import border_band

SIDE = 128
# Bins of OpenCV's 8-bit Lab: lightness 0–255 in bins of 48, a and b in bins of 24 (11 each).
_L_BIN, _AB_BIN, _AB_BINS = 48, 24, 11
_L_BINS = 255 // _L_BIN + 1
_BINS = _L_BINS * _AB_BINS * _AB_BINS
# A border colour must cover this share of the border band to seed the background, and more of it than this
# times its share of the middle: an item's colour must be clearly (a quarter) more common in the middle, or a
# plain backdrop around an item set off centre, which fills the middle about as much as the border, would be
# taken for the item (and every side called cut).
_MIN_BORDER_SHARE = 0.05
_MIDDLE_RATIO = 0.8
# Half-axes of the item's seed, as fractions of width and height.
_SEED = 0.15
_MIN_SEED = 20  # pixels
# The colour model: 8 bins per Lab channel; a pixel is the item's where P(item | colour) exceeds this.
_MODEL_BIN = 32
_ITEM_POSTERIOR = 0.7
_ROWS = 2  # outermost rows per side that are read


def _with_lightness_neighbours(hist: np.ndarray) -> np.ndarray:
    """A colour histogram where each bin also holds the bins of the same hue one lightness step either side.

    A backdrop lit from one side, or darker in its corners, spreads one colour over neighbouring lightness
    bins, and the stretch to full range (measure.py) widens that spread: the darker half of such a floor fills
    most of the middle and only half of the border, and was taken for the item (a small item on a side-lit
    floor read as cut off on three sides, at a confidence of 0.998). Judged with its neighbours, the floor is
    one colour. The cost: an item of the backdrop's hue one lightness step from it (a grey sweater on a white
    sheet) lends the backdrop's colour its share of the middle; the backdrop then stops being background, and
    the reading goes blank.
    """
    by_light = hist.reshape(_L_BINS, _AB_BINS * _AB_BINS)
    out = by_light.copy()
    out[1:] += by_light[:-1]
    out[:-1] += by_light[1:]
    return out.ravel()


def edge_likeness(rgb: np.ndarray) -> tuple[float, float, float, float]:
    """Per side of the frame (top, bottom, left, right), the share of its outermost pixels whose colour is
    more likely the item's than the background's (0–1)."""
    h0, w0 = rgb.shape[:2]
    scale = SIDE / max(h0, w0)
    if scale < 1:
        rgb = cv2.resize(rgb, (max(8, round(w0 * scale)), max(8, round(h0 * scale))), interpolation=cv2.INTER_AREA)
    h, w = rgb.shape[:2]
    if min(h, w) < 8:
        return (0.0, 0.0, 0.0, 0.0)
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)
    light, a, b = cv2.split(lab)
    colour = ((light // _L_BIN).astype(np.int32) * _AB_BINS + a // _AB_BIN) * _AB_BINS + b // _AB_BIN
    band = border_band(h, w)
    on_border = _with_lightness_neighbours(np.bincount(colour[band], minlength=_BINS) / band.sum())
    middle = np.zeros((h, w), bool)
    middle[h // 4: h - h // 4, w // 4: w - w // 4] = True
    in_middle = _with_lightness_neighbours(np.bincount(colour[middle], minlength=_BINS) / middle.sum())
    background = ((on_border > _MIDDLE_RATIO * in_middle) & (on_border >= _MIN_BORDER_SHARE))[colour]

    markers = np.zeros((h, w), np.int32)
    markers[band & background] = 1
    if not markers.any():  # no colour of the border is the background's: nothing to tell the item from
        return (0.0, 0.0, 0.0, 0.0)
    yy, xx = np.ogrid[0:h, 0:w]
    seed = (((xx - w / 2) / (w * _SEED)) ** 2 + ((yy - h / 2) / (h * _SEED)) ** 2 <= 1) & ~background
    if seed.sum() < _MIN_SEED:  # the very middle is backdrop: the item is off centre, or there is none
        seed = middle & ~background
        if seed.sum() < _MIN_SEED:
            return (0.0, 0.0, 0.0, 0.0)
    markers[seed] = 2
    cv2.watershed(rgb, markers)
    item = markers == 2

    # The colour model is learned away from the rows it judges. Everything not the item is the background's,
    # the watershed's boundary lines (-1) too: learned from the background region alone, coffee's saucer read
    # the same at two sizes, but a good photo more got a tip and the score stopped following the simulated
    # raters of test_study_metrics (docs/benchmarks.md).
    q = lab // _MODEL_BIN
    model = (q[..., 0].astype(np.int32) * 8 + q[..., 1]) * 8 + q[..., 2]
    inner = np.zeros((h, w), bool)
    inner[_ROWS:-_ROWS, _ROWS:-_ROWS] = True
    item, back = item & inner, ~item & inner
    p_item = np.bincount(model[item], minlength=512) / max(1, int(item.sum()))
    p_back = np.bincount(model[back], minlength=512) / max(1, int(back.sum()))
    # Equal priors; a colour seen in neither region is not the item's.
    is_item = p_item > _ITEM_POSTERIOR / (1 - _ITEM_POSTERIOR) * p_back
    strips = (np.s_[:_ROWS], np.s_[-_ROWS:], np.s_[:, :_ROWS], np.s_[:, -_ROWS:])
    return tuple(float(is_item[model[s]].mean()) for s in strips)
