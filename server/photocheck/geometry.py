"""Where on the photo each finding is: the item's box, the frame edges it runs out of, the measured level
line, and coarse grids of clipped, dark and soft regions.

The API returns these with the findings (`geometry`, docs/api.md) so the seller's
screen can draw them over the photo instead of making the seller guess where
"cut off" or "washed out" is. Every coordinate is a fraction of the photo's
width or height (0–1, origin top left, after EXIF rotation), so they hold at any
display size. Computed on the photo check's small copy: a millisecond or two.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .subject import Subject, channel_extremes

GRID = 8  # cells per side of the coarse grids
# The item's mask covers at least this share of a side, in the item's own colour, to run out of it.
CUT_SHARE = 0.03
# Or, read without the mask (frame_edge.py), at least this share of the side's outermost pixels are more likely
# the item's colour than the background's: one side's share at which the cut_off model, with nothing else
# touching, stays below a tip, and which three quarters of the set's good photos stay under on all four sides
# added up.
LIKENESS_SHARE = 0.15
SIDES = ("top", "bottom", "left", "right")
DARK = 0.12 * 255  # a pixel's brightest channel below this is shadow without detail
CLIPPED = 252  # every channel at least this is blown white


@dataclass
class Layout:
    """What measure() found that has a place: the item, and the line the tilt was measured on."""

    subject: Subject
    small_rgb: np.ndarray  # the photo at the segmentation size, as taken
    level_line: tuple[float, float, float, float] | None = None  # x1, y1, x2, y2 as fractions
    tilt_degrees: float = 0.0
    # Per side (top, bottom, left, right): share of the frame's edge in the item's colour (frame_edge.py).
    edge_likeness: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


def _cells(values: np.ndarray) -> list[float]:
    """Mean of `values` (2-D) over a GRID×GRID grid, row by row, rounded for JSON."""
    small = cv2.resize(values.astype(np.float32), (GRID, GRID), interpolation=cv2.INTER_AREA)
    return [round(float(v), 2) for v in small.ravel()]


def locate(layout: Layout) -> dict[str, dict]:
    """Geometry per aspect, for the aspects that have a place."""
    subject, small_rgb = layout.subject, layout.small_rgb
    out: dict[str, dict] = {}
    # The edges the item reaches in its own colour, as the cut_off finding reads them (measure._framing and
    # frame_edge.py): the second needs no item found (a subject not found has no edge colour).
    cut_edges = [side for side, by_mask, by_colour in zip(SIDES, subject.edge_colour, layout.edge_likeness)
                 if by_mask >= CUT_SHARE or by_colour >= LIKENESS_SHARE]
    if subject.found:
        box = [round(float(v), 3) for v in subject.box]
        out["framing"] = {"box": box}
        out["visibility"] = {"box": box, "cut_edges": cut_edges}
        out["background"] = {"box": box}
    elif cut_edges:
        out["visibility"] = {"cut_edges": cut_edges}
    if layout.level_line is not None:
        out["angle"] = {"line": [round(float(v), 3) for v in layout.level_line],
                        "degrees": round(float(layout.tilt_degrees), 1)}
    grid = {"rows": GRID, "cols": GRID}
    darkest, brightest = channel_extremes(small_rgb)
    out["lighting"] = {"grid": {**grid, "clipped": _cells(darkest >= CLIPPED), "dark": _cells(brightest < DARK)}}
    gray = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2GRAY)
    detail = np.abs(cv2.Laplacian(gray, cv2.CV_32F, ksize=3))
    cells = np.array(_cells(detail))
    # Detail relative to the photo's sharpest cell: 0 is flat or blurred, 1 is as crisp as the photo gets.
    out["sharpness"] = {"grid": {**grid, "detail": [round(float(v), 2) for v in cells / max(cells.max(), 1e-6)]}}
    return out
