"""Graded degradations of a photo, one per aspect: the material of the synthetic benchmark and the tests.

Each function takes an RGB array and a level in (0, 1] (1 = the strongest
degradation used in the tests) and returns a new array.
"""

from __future__ import annotations

import cv2
import numpy as np


def darker(a, level: float = 1.0):
    return (a.astype(np.float32) * (1 - 0.75 * level)).astype(np.uint8)


def overexposed(a, level: float = 1.0):
    return np.clip(a.astype(np.float32) * (1 + 1.5 * level) + 40 * level, 0, 255).astype(np.uint8)


def blurrier(a, level: float = 1.0):
    return cv2.GaussianBlur(a, (0, 0), max(0.3, level * max(a.shape[:2]) / 250))


def noisier(a, level: float = 1.0, seed: int = 0):
    return np.clip(a + np.random.default_rng(seed).normal(0, 25 * level, a.shape), 0, 255).astype(np.uint8)


def smaller(a, level: float = 1.0):
    h, w = a.shape[:2]
    f = 1 / (1 + 2 * level)
    return cv2.resize(a, (max(16, int(w * f)), max(16, int(h * f))), interpolation=cv2.INTER_AREA)


def tilted(a, level: float = 1.0):
    h, w = a.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 10 * level, 1 + 0.25 * level)
    return cv2.warpAffine(a, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def item_far_away(a, level: float = 1.0):
    """The same scene shot from further away: a smaller item off to the side on plain floor."""
    h, w = a.shape[:2]
    f = 1 / (1 + 2 * level)
    s = cv2.resize(a, (max(8, int(w * f)), max(8, int(h * f))), interpolation=cv2.INTER_AREA)
    bg = np.median(np.concatenate([a[:5].reshape(-1, 3), a[-5:].reshape(-1, 3)]), axis=0)
    out = np.empty_like(a)
    out[:] = bg.astype(np.uint8)
    y, x = int(h * (1 - f) / 3), int(w * (1 - f) / 4)
    out[y: y + s.shape[0], x: x + s.shape[1]] = s
    return out


DEGRADATIONS = {
    "lighting": darker, "overexposure": overexposed, "sharpness": blurrier, "noise": noisier,
    "resolution": smaller, "angle": tilted, "framing": item_far_away,
}
