"""Toe tips from the person mask: drawn feet with known tips."""

from __future__ import annotations

import cv2
import numpy as np

from turnout_vision import landmarks as lm
from turnout_vision.toe_tips import toe_tips_from_mask


def _feet(tips_px: np.ndarray, heels_px: np.ndarray, size: tuple[int, int] = (400, 300)) -> tuple[np.ndarray, np.ndarray]:
    """A mask (H, W) of two legs and feet (heel -> tip wedges) and landmarks (33, 2) with MediaPipe-like
    feet: foot_index a third of the way short of the tip, ankle above the heel."""
    h, w = size[1], size[0]
    mask = np.zeros((h, w), np.float32)
    xy = np.full((lm.NUM_LANDMARKS, 2), np.nan)
    for side in range(2):
        heel, tip = heels_px[side], tips_px[side]
        d = (tip - heel) / np.linalg.norm(tip - heel)
        n = np.array([-d[1], d[0]])
        poly = np.array([heel - 6 * n, heel + 6 * n, tip - 0.15 * (tip - heel) + 9 * n, tip,
                         tip - 0.15 * (tip - heel) - 9 * n])
        cv2.fillPoly(mask, [np.round(poly).astype(np.int32)], 1.0)
        ankle = heel + 0.2 * (tip - heel) + np.array([0.0, -25.0])
        cv2.rectangle(mask, (int(ankle[0] - 8), 0), (int(ankle[0] + 8), int(ankle[1])), 1.0, -1)
        hip, knee, ankle_i, heel_i, toe_i = lm.LEG_INDEX[side]
        xy[ankle_i], xy[heel_i] = ankle, heel + np.array([0.0, -6.0])
        xy[toe_i] = heel + 0.66 * (tip - heel)
        xy[knee], xy[hip] = ankle + (0, -100), ankle + (0, -200)
    return mask, xy


def test_turned_out_feet_tips() -> None:
    # her left foot (side 0) is on the image's right
    tips = np.array([[280.0, 232.0], [120.0, 230.0]])
    heels = np.array([[206.0, 215.0], [194.0, 214.0]])
    mask, xy = _feet(tips, heels)
    found = toe_tips_from_mask(mask, xy)
    np.testing.assert_allclose(found, tips, atol=1.5)


def test_parallel_feet_tips_are_the_lowest_points() -> None:
    tips = np.array([[215.0, 260.0], [185.0, 260.0]])
    heels = np.array([[215.0, 225.0], [185.0, 225.0]])
    mask, xy = _feet(tips, heels)
    np.testing.assert_allclose(toe_tips_from_mask(mask, xy), tips, atol=1.5)


def test_missing_foot_or_empty_mask_gives_nan() -> None:
    tips = np.array([[280.0, 232.0], [120.0, 230.0]])
    heels = np.array([[206.0, 215.0], [194.0, 214.0]])
    mask, xy = _feet(tips, heels)
    xy[lm.LEG_INDEX[1, lm.FOOT_INDEX]] = np.nan
    found = toe_tips_from_mask(mask, xy)
    assert np.isfinite(found[0]).all() and np.isnan(found[1]).all()
    assert np.isnan(toe_tips_from_mask(np.zeros_like(mask), xy)).all()
