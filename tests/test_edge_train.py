"""The edge network's synthetic cut-offs: a crop labelled cut off runs into the item, one labelled whole does not."""

import numpy as np
import pytest

from phototips.study.edge_train import _with_crops, crop_photo, whole_item_box


def _packshot(h=240, w=320, item=(90, 60, 230, 190)):
    """A dark red box on an off-white backdrop; `item` is x0, y0, x1, y1 in pixels."""
    rgb = np.full((h, w, 3), 235, np.uint8)
    x0, y0, x1, y1 = item
    rgb[y0:y1, x0:x1] = (150, 20, 30)
    return rgb


def _item_on_edges(crop: np.ndarray) -> tuple[bool, bool, bool, bool]:
    """Whether the crop's top, bottom, left and right outermost rows and columns hold the red item."""
    red = (crop[..., 0] < 200) & (crop[..., 1] < 100)
    return tuple(bool(edge.any()) for edge in (red[0], red[-1], red[:, 0], red[:, -1]))


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
    top, bottom, left, right = _item_on_edges(cut)
    assert 1 <= top + bottom + left + right <= 2
    # Two cut sides meet at a corner: cuts from opposite sides would leave a sliver.
    assert not (top and bottom) and not (left and right)
    # The item still shows: at least half of it along each axis (a cut goes at most 45% in).
    red = (cut[..., 0] < 200) & (cut[..., 1] < 100)
    assert red.any(axis=0).sum() >= 0.5 * 140 and red.any(axis=1).sum() >= 0.5 * 130
    assert not any(_item_on_edges(whole))
    assert ((whole[..., 0] < 200) & (whole[..., 1] < 100)).sum() == 140 * 130


def test_without_crops_a_batch_and_the_random_draws_are_the_uncropped_trainings():
    # Training without --crops must repeat the networks trained before crops existed: same inputs, same draws.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 3, 4, 4)).astype(np.float32)
    y = rng.integers(0, 2, size=(6, 2)).astype(np.float32)
    before = rng.bit_generator.state
    xb, yb = _with_crops(x, y, np.array([4, 1, 3]), {}, rng)
    assert rng.bit_generator.state == before
    assert np.array_equal(xb, x[[4, 1, 3]]) and np.array_equal(yb, y[[4, 1, 3]])


def test_a_crop_in_a_batch_is_labelled_by_whether_it_cuts_the_item():
    rgb = _packshot()
    crops = {1: (rgb, whole_item_box(rgb))}
    x = np.zeros((3, 3, 96, 96), np.float32)
    y = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    cut, whole = 0, 0
    for seed in range(60):
        xb, yb = _with_crops(x, y, np.array([0, 1, 2]), crops, np.random.default_rng(seed))
        assert np.array_equal(xb[[0, 2]], x[[0, 2]]) and np.array_equal(yb[[0, 2]], y[[0, 2]])
        assert yb[1, 1] == 1  # the clutter label is kept
        if xb[1].any():
            cut += yb[1, 0] == 1
            whole += yb[1, 0] == 0
    # About 30% and 15% of 60 draws.
    assert 8 <= cut <= 30 and 2 <= whole <= 18
