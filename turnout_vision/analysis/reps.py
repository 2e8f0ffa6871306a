"""Finding demi-pliés (and telling grand pliés and other movements apart) in knee flexion.

Algorithm (times in frames, all thresholds in ``config.PlieConfig``):

1. ``mean_flexion`` = mean of both knees' flexion per frame (one knee where the other is unknown),
   NaN gaps bridged linearly, low-passed at ``detect_cutoff_hz`` (2nd-order zero-phase Butterworth).
2. Candidates: peaks of the mean flexion with a prominence of at least ``min_depth_deg``
   (``scipy.signal.find_peaks``; the prominence is measured against the standing level on each side).
3. Start / end: the last frame before (first after) the bottom where the flexion is within
   ``edge_frac`` of the rise above the lowest flexion between the previous (next) candidate and this
   one. Bottom = the frame of the peak.
4. A candidate is rejected, with its reason, when it lasts less than ``min_duration_s`` or more than
   ``max_duration_s``; when one knee bends less than ``min_knee_symmetry`` times the other (a weight
   shift, balancé); or when a heel or toe moves in the image more than ``feet_moved_ratio`` of the
   foot length (a step or tendu; image-based so that it does not depend on the floor method; foot
   length in pixels = 0.6 x the shank's, which stands nearly upright and is not foreshortened); or when the hips do not lower in the image: the vertical hip-ankle distance in
   pixels must shorten as a knee bend of at least half ``min_depth_deg`` would (with thigh ~ shank,
   hip-ankle = 2 L cos(flexion / 2)); this check does not depend on the floor method. A kept
   candidate deeper than ``grand_plie_deg`` is a grand plié.
5. Bottom window (where rotations are evaluated): the frames around the bottom whose flexion lies
   within ``bottom_window_frac`` of the rise below the peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import find_peaks

from .smoothing import butter_zero_phase

_F = NDArray[np.float64]


@dataclass(frozen=True)
class Rep:
    """One plié: frame indices into the sequence (``end`` inclusive) and its shape."""

    start: int
    bottom: int
    end: int
    kind: str
    """"demi" or "grand"."""
    depth_deg: float
    """Mean knee flexion of both knees at the bottom."""
    depth_side_deg: tuple[float, float]
    """Each knee's flexion at the bottom (left, right)."""
    rise_deg: float
    """Mean flexion at the bottom minus at the start (how far the knees bent)."""
    symmetry: float
    """Smaller knee's bend over the larger's (1 = both knees bend alike)."""
    window: tuple[int, int]
    """Bottom window [first, last] frame (inclusive) where rotations are evaluated."""


@dataclass(frozen=True)
class Rejected:
    """A knee bend that is not a plié, with the reason."""

    start: int
    bottom: int
    end: int
    kind: str
    """"weight_shift", "feet_moved", "not_confirmed", "too_short", "too_long"."""
    reason: str


def mean_flexion(flexion_deg: _F) -> _F:
    """(F,) mean of both knees (one where the other is NaN), NaN gaps linearly bridged."""
    f = np.asarray(flexion_deg, dtype=float)
    ok = np.isfinite(f)
    count = ok.sum(axis=1)
    total = np.where(ok, f, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = total / count
    good = np.isfinite(m)
    if good.any() and not good.all():
        idx = np.arange(m.size)
        m = np.interp(idx, idx[good], m[good])
    return m


def _image_rise(extent: _F, flex: _F, start: int, bottom: int) -> float:
    """Mean knee bend (deg) implied by the shortening of the hip-ankle height in the image between
    ``start`` and ``bottom``: with thigh ~ shank, hip-ankle distance = 2 L cos(flexion / 2)."""
    e0, e1, f0 = extent[start], extent[bottom], flex[start]
    if not (np.isfinite(e0).all() and np.isfinite(e1).all() and np.isfinite(f0).all()) or np.any(e0 <= 0):
        return math.nan
    c = np.clip(e1 / e0 * np.cos(np.radians(f0) / 2), -1.0, 1.0)
    return float(np.mean(2 * np.degrees(np.arccos(c)) - f0))


def find_reps(
    time_s: _F,
    flexion_deg: _F,
    config: object,
    feet_px: _F | None = None,
    foot_length_px: float | None = None,
    leg_extent_px: _F | None = None,
) -> tuple[list[Rep], list[Rejected]]:
    """Pliés and rejected knee bends in a clip.

    ``time_s`` (F,), ``flexion_deg`` (F, 2) knee flexion per side, ``config`` a ``PlieConfig``;
    ``feet_px`` (F, 2, 2, 2) optional image xy of (heel, foot_index) per side, with
    ``foot_length_px``, for the feet-moved test (skipped when None); ``leg_extent_px`` (F, 2)
    optional vertical hip-to-ankle distance in the image, for the image check (skipped when None).
    """
    c = config
    t = np.asarray(time_s, dtype=float)
    flex = np.asarray(flexion_deg, dtype=float)
    n = t.size
    if n < 3 or not np.isfinite(flex).any():
        return [], []
    m = mean_flexion(flex)
    if not np.isfinite(m).all():
        return [], []
    fs = 1.0 / float(np.median(np.diff(t)))
    if n > 30 and c.detect_cutoff_hz < 0.45 * fs:  # type: ignore[attr-defined]
        m = butter_zero_phase(m[None, :], fs, c.detect_cutoff_hz, 2)[0]  # type: ignore[attr-defined]
    peaks, props = find_peaks(m, prominence=c.min_depth_deg)  # type: ignore[attr-defined]
    reps: list[Rep] = []
    rejected: list[Rejected] = []
    bounds = np.concatenate([[0], peaks, [n - 1]])
    for k, p in enumerate(peaks):  # loop over candidates, not frames
        lo_seg = m[bounds[k]:p + 1]
        hi_seg = m[p:bounds[k + 2] + 1]
        base_l = float(lo_seg.min())
        base_r = float(hi_seg.min())
        peak = float(m[p])
        thr_l = base_l + c.edge_frac * (peak - base_l)  # type: ignore[attr-defined]
        thr_r = base_r + c.edge_frac * (peak - base_r)  # type: ignore[attr-defined]
        below_l = np.flatnonzero(lo_seg <= thr_l)
        below_r = np.flatnonzero(hi_seg <= thr_r)
        start = bounds[k] + (int(below_l[-1]) if below_l.size else 0)
        end = p + (int(below_r[0]) if below_r.size else hi_seg.size - 1)
        duration = t[end] - t[start]
        rise = peak - float(m[start])
        side_rise = flex[p] - flex[start]
        with np.errstate(invalid="ignore"):
            sym = float(np.nanmin(side_rise) / np.nanmax(side_rise)) if np.isfinite(side_rise).all() and np.nanmax(side_rise) > 0 else 1.0
        if duration < c.min_duration_s:  # type: ignore[attr-defined]
            rejected.append(Rejected(start, int(p), end, "too_short",
                                     f"a {duration:.2f} s knee bend is too quick for a plié (minimum {c.min_duration_s} s)"))  # type: ignore[attr-defined]
            continue
        if duration > c.max_duration_s:  # type: ignore[attr-defined]
            rejected.append(Rejected(start, int(p), end, "too_long",
                                     f"a {duration:.1f} s knee bend is longer than a plié (maximum {c.max_duration_s} s)"))  # type: ignore[attr-defined]
            continue
        if sym < c.min_knee_symmetry:  # type: ignore[attr-defined]
            rejected.append(Rejected(start, int(p), end, "weight_shift",
                                     f"one knee bent {np.nanmax(side_rise):.0f} deg, the other {np.nanmin(side_rise):.0f} deg: "
                                     "a weight shift, not a plié"))
            continue
        if feet_px is not None and foot_length_px and np.isfinite(foot_length_px):
            seg = feet_px[start:end + 1]
            move = np.sqrt(np.sum((seg - seg[:1]) ** 2, axis=-1))
            moved = float(np.nanmax(move)) if np.isfinite(move).any() else 0.0
            if moved > c.feet_moved_ratio * foot_length_px:  # type: ignore[attr-defined]
                rejected.append(Rejected(start, int(p), end, "feet_moved",
                                         f"a foot slid {moved / foot_length_px:.1f} foot lengths: a step or tendu, not a plié"))
                continue
        if leg_extent_px is not None:
            img_rise = _image_rise(leg_extent_px, flex, start, int(p))
            if math.isfinite(img_rise) and img_rise < 0.5 * c.min_depth_deg:  # type: ignore[attr-defined]
                rejected.append(Rejected(start, int(p), end, "not_confirmed",
                                         f"the knees seemed to bend {rise:.0f} deg but the hips did not lower in the "
                                         f"image (as much as {img_rise:.0f} deg of knee bend would): not a plié"))
                continue
        depth = peak
        win_thr = peak - c.bottom_window_frac * rise  # type: ignore[attr-defined]
        low_before = np.flatnonzero(m[start:p] < win_thr)
        low_after = np.flatnonzero(m[p:end + 1] < win_thr)
        w0 = start + int(low_before[-1]) + 1 if low_before.size else start
        w1 = int(p) + int(low_after[0]) - 1 if low_after.size else end
        kind = "grand" if depth > c.grand_plie_deg else "demi"  # type: ignore[attr-defined]
        reps.append(Rep(int(start), int(p), int(end), kind, depth,
                        (float(flex[p, 0]), float(flex[p, 1])), rise, sym, (w0, w1)))
    return reps, rejected


__all__ = ["Rejected", "Rep", "find_reps", "mean_flexion"]
