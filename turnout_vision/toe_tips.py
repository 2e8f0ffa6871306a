"""Toe tips from MediaPipe's person segmentation mask (pure numpy).

MediaPipe's ``foot_index`` landmark lands well short of the toe tips (13-26 px on the rendered clips at
720x1280, about a third of a black shoe on the real clip), and the floor-plane fit has to guess the rest
from priors. The person mask that the same Pose Landmarker outputs outlines the shoe itself: the point of
the mask furthest out along the foot (from the ankle towards ``foot_index``) is the tip of the toes, within
about 1-3 px of the true tip on the renders (README.md, "How turnout is measured from one camera").

Sides: 0 = the dancer's left (MediaPipe's "left" landmarks), 1 = her right, as in ``landmarks.LEG_INDEX``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .landmarks import LEG_INDEX, LEG_JOINTS

MASK_THRESHOLD = 0.5
"""A pixel belongs to the person where the mask's confidence is at least this."""
SEARCH_RADIUS = 2.5
"""The tip is looked for within this many foot lengths (MediaPipe's heel -> foot_index, or ankle ->
foot_index if longer) of the ankle landmark."""
TIP_BAND_PX = 1.0
"""The tip is the mean of the mask pixels within this distance of the furthest one along the foot."""

_ANKLE, _HEEL, _TOE = (LEG_INDEX[:, LEG_JOINTS.index(j)] for j in ("ankle", "heel", "foot_index"))


def toe_tips_from_mask(mask: NDArray[np.floating], image_xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """(2, 2) toe-tip pixels (x, y) per side from one pose's person ``mask`` (H, W) confidence 0..1 and its
    landmarks ``image_xy`` (33, 2) pixels; NaN for a side whose foot landmarks are missing or whose foot
    shows no mask pixels.

    For each foot: the mask pixels on that foot's side of the midline between the heels, within
    ``SEARCH_RADIUS`` foot lengths of the ankle and not far above it; the tip is where they reach furthest
    along the direction ankle -> foot_index (a turned-out foot's tip is its most lateral point, a parallel
    foot's its lowest, and this direction finds both).
    """
    tips = np.full((2, 2), np.nan)
    xy = np.asarray(image_xy, float)
    m = np.asarray(mask)
    if m.ndim == 3:
        m = m[..., 0]
    height, width = m.shape
    mid_x = float(np.mean(xy[_HEEL, 0]))
    for side in range(2):
        ankle, heel, toe = xy[_ANKLE[side]], xy[_HEEL[side]], xy[_TOE[side]]
        along = toe - ankle
        length = float(np.linalg.norm(along))
        if not (np.isfinite(length) and np.isfinite(mid_x) and np.isfinite(heel).all()) or length < 1.0:
            continue
        radius = SEARCH_RADIUS * max(length, float(np.linalg.norm(toe - heel)))
        x0, x1 = int(max(ankle[0] - radius, 0)), int(min(ankle[0] + radius + 1, width))
        y0, y1 = int(max(ankle[1] - 0.2 * radius, 0)), int(min(ankle[1] + radius + 1, height))
        if x1 <= x0 or y1 <= y0:
            continue
        rows, cols = np.nonzero(m[y0:y1, x0:x1] >= MASK_THRESHOLD)
        px = np.column_stack([cols + x0 + 0.5, rows + y0 + 0.5])           # pixel centres
        outward = np.sign(ankle[0] - mid_x) or (1.0 if side == 0 else -1.0)   # her left is the image right
        keep = ((px[:, 0] - mid_x) * outward >= 0) & (np.linalg.norm(px - ankle, axis=1) <= radius)
        px = px[keep]
        if not len(px):
            continue
        reach = (px - ankle) @ (along / length)
        tips[side] = px[reach >= reach.max() - TIP_BAND_PX].mean(axis=0)
    return tips
