"""The edge network's synthetic cut-offs: a crop labelled cut off runs into the item, one labelled whole does not."""

import numpy as np
import pytest

from phototips.study.edge_train import crop_photo, whole_item_box


def _packshot(h=240, w=320, item=(90, 60, 230, 190)):
    """A dark red box on an off-white backdrop; `item` is x0, y0, x1, y1 in pixels."""
    rgb = np.full((h, w, 3), 235, np.uint8)
    x0, y0, x1, y1 = item
    rgb[y0:y1, x0:x1] = (150, 20, 30)
    return rgb


def _item_sides_on_edge(crop: np.ndarray) -> int:
    """How many of the crop's four outermost rows and columns hold the red item."""
    red = (crop[..., 0] < 200) & (crop[..., 1] < 100)
    return sum(bool(edge.any()) for edge in (red[0], red[-1], red[:, 0], red[:, -1]))


def test_the_mask_finds_a_whole_item_and_refuses_one_on_the_edge():
    box = whole_item_box(_packshot())
    assert box is not None
    assert box == pytest.approx((90 / 320, 60 / 240, 230 / 320, 190 / 240), abs=0.03)
    assert whole_item_box(_packshot(item=(0, 60, 200, 190))) is None  # already runs out on the left


@pytest.mark.parametrize("seed", range(20))
def test_a_cut_crop_runs_into_the_item_and_a_whole_crop_keeps_it(seed):
    rgb = _packshot()
    box = whole_item_box(rgb)
    rng = np.random.default_rng(seed)
    cut = crop_photo(rgb, box, rng, cut=True)
    whole = crop_photo(rgb, box, rng, cut=False)
    assert 1 <= _item_sides_on_edge(cut) <= 2
    # The item still shows: at least half of it along each axis (a cut goes at most 45% in).
    red = (cut[..., 0] < 200) & (cut[..., 1] < 100)
    assert red.any(axis=0).sum() >= 0.5 * 140 and red.any(axis=1).sum() >= 0.5 * 130
    assert _item_sides_on_edge(whole) == 0
    assert ((whole[..., 0] < 200) & (whole[..., 1] < 100)).sum() == 140 * 130
