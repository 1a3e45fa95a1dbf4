"""Findings say where they are: the edges an item runs out of, the line a tilt was measured on, dark and
blown regions, on real photos from the real-photo set."""

from __future__ import annotations

import math

import numpy as np

import photos
from phototips.imaging.decode import decode_photo
from phototips.scoring.result import ScoreRequest, ScoreResult
from phototips.study.degrade import darker, overexposed, tilted
from test_realset import SCORER, SETTINGS, png, real, rgb_of


def check(data: bytes):
    photo = decode_photo(data, max_pixels=SETTINGS.max_pixels, analysis_side=SETTINGS.analysis_side)
    return SCORER.score(photo, ScoreRequest()), photo


def test_an_item_cut_by_the_frame_names_the_edges_it_runs_out_of():
    result, _ = check(real("clothing-bc492f26.jpg"))
    seen = result.aspects["visibility"]
    assert seen.problem == "cut_off"
    edges, (x0, y0, x1, y1) = seen.geometry["cut_edges"], seen.geometry["box"]
    assert edges
    # The box reaches every edge named, and no edge it stays clear of is named.
    reach = {"left": x0 <= 0.02, "top": y0 <= 0.02, "right": x1 >= 0.98, "bottom": y1 >= 0.98}
    assert all(reach[e] for e in edges)
    whole, _ = check(photos.encode(photos.product(photos.plain_backdrop())))  # margins on every side
    assert whole.aspects["visibility"].geometry["cut_edges"] == []
    moved, _ = check(photos.encode(photos.product(photos.plain_backdrop(), dx=330)))  # pushed out on the right
    assert moved.aspects["visibility"].geometry["cut_edges"] == ["right"]


def test_a_tilt_comes_with_the_line_it_was_measured_on():
    result, photo = check(png(tilted(rgb_of("clothing-d3ed319e.jpg"), 0.8)))
    angle = result.aspects["angle"]
    assert angle.problem == "tilted"
    x1, y1, x2, y2 = angle.geometry["line"]
    h, w = photo.rgb.shape[:2]
    theta = math.degrees(math.atan2((y2 - y1) * h, (x2 - x1) * w))
    off = (theta + 45) % 90 - 45  # from the nearest of level and plumb, as the tilt is measured
    assert abs(off - angle.geometry["degrees"]) <= 1.6  # the line agrees with the tilt (within 1.5°, rounded)
    assert abs(angle.geometry["degrees"]) >= 2.5


def test_dark_and_blown_regions_are_placed_on_a_grid():
    rgb = rgb_of("clothing-d3ed319e.jpg")
    dark, _ = check(png(darker(rgb)))
    bright, _ = check(png(overexposed(rgb)))
    plain, _ = check(png(rgb))
    cells = lambda r, k: np.array(r.aspects["lighting"].geometry["grid"][k])  # noqa: E731
    assert cells(dark, "dark").mean() > cells(plain, "dark").mean() + 0.2
    assert cells(bright, "clipped").mean() > cells(plain, "clipped").mean() + 0.1
    grid = dark.aspects["lighting"].geometry["grid"]
    assert len(grid["dark"]) == grid["rows"] * grid["cols"] == 64


def test_a_shaken_half_is_less_detailed_on_the_sharpness_grid():
    rgb = photos.sample("astronaut")
    soft = rgb.copy()
    half = soft.shape[1] // 2
    import cv2

    soft[:, half:] = cv2.GaussianBlur(soft[:, half:], (0, 0), 6)
    result, _ = check(photos.encode(soft))
    detail = np.array(result.aspects["sharpness"].geometry["grid"]["detail"]).reshape(8, 8)
    assert detail[:, :4].mean() > 2 * detail[:, 4:].mean()


def test_geometry_survives_the_trip_through_json():
    result, _ = check(real("clothing-bc492f26.jpg"))
    again = ScoreResult.from_dict(result.to_dict())
    assert again.aspects["visibility"].geometry == result.aspects["visibility"].geometry
