"""Identity tracking on synthetic multi-dancer sequences where the true identities are known."""

from __future__ import annotations

import numpy as np
import pytest

from turnout_vision.tracking import TrackingConfig, assign_tracks, split_tracks

# A standing person facing the camera, 33 MediaPipe landmarks, in body units (x right, y down,
# 0 = top of head, 1 = floor). The dancer's left is the image's right.
_TEMPLATE = np.zeros((33, 2))
_TEMPLATE[0:11] = [0.0, 0.07]  # face points near the nose
_TEMPLATE[11], _TEMPLATE[12] = [0.11, 0.19], [-0.11, 0.19]  # shoulders
_TEMPLATE[13], _TEMPLATE[14] = [0.14, 0.34], [-0.14, 0.34]  # elbows
_TEMPLATE[15:23:2] = [0.15, 0.48]
_TEMPLATE[16:23:2] = [-0.15, 0.48]
_TEMPLATE[23], _TEMPLATE[24] = [0.06, 0.52], [-0.06, 0.52]  # hips
_TEMPLATE[25], _TEMPLATE[26] = [0.07, 0.74], [-0.07, 0.74]  # knees
_TEMPLATE[27], _TEMPLATE[28] = [0.07, 0.95], [-0.07, 0.95]  # ankles
_TEMPLATE[29], _TEMPLATE[30] = [0.06, 0.98], [-0.06, 0.98]  # heels
_TEMPLATE[31], _TEMPLATE[32] = [0.11, 0.99], [-0.11, 0.99]  # toes


def _person(center_x: float, height_px: float, shoulder_scale: float, rng: np.random.Generator) -> np.ndarray:
    body = _TEMPLATE.copy()
    body[11:23, 0] *= shoulder_scale  # proportions differ between dancers
    xy = body * height_px + np.array([center_x, 100.0])
    return xy + rng.normal(0, 2.0, xy.shape)


def _scene(n_frames: int, paths: list[np.ndarray], heights: list[float], shoulders: list[float],
           hidden: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Poses in shuffled slots; returns (xy (F, S, 33, 2), true ids (F, S), -1 for empty)."""
    rng = np.random.default_rng(seed)
    n = len(paths)
    xy = np.full((n_frames, n, 33, 2), np.nan)
    truth = np.full((n_frames, n), -1)
    for f in range(n_frames):
        order = rng.permutation(n)  # MediaPipe returns poses in no particular order
        for slot, who in enumerate(order):
            if hidden is not None and hidden[f, who]:
                continue
            xy[f, slot] = _person(paths[who][f], heights[who], shoulders[who], rng)
            truth[f, slot] = who
    return xy, truth


def _identity_switches(track_ids: np.ndarray, truth: np.ndarray) -> int:
    """Times a true dancer's track id changes from one of her visible frames to the next."""
    switches = 0
    for who in range(truth.max() + 1):
        ids = track_ids[truth == who]
        switches += int(np.count_nonzero(np.diff(ids) != 0))
    return switches


def test_static_dancers_keep_their_ids_and_are_numbered_left_to_right() -> None:
    n = 120
    paths = [np.full(n, 900.0), np.full(n, 300.0), np.full(n, 600.0)]
    xy, truth = _scene(n, paths, [500, 480, 520], [1.0, 1.1, 0.9], None, seed=1)
    ids = assign_tracks(xy, np.arange(n) / 30.0)
    assert _identity_switches(ids, truth) == 0
    # Left to right: the dancer at x=300 is dancer 0, at 600 is 1, at 900 is 2.
    assert set(ids[truth == 1]) == {0}
    assert set(ids[truth == 2]) == {1}
    assert set(ids[truth == 0]) == {2}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_crossing_dancers_with_occlusion_switch_rarely(seed: int) -> None:
    """Two dancers walk past each other; the one behind is hidden for a few frames at the crossing."""
    n = 150
    t = np.arange(n) / 30.0
    a = np.linspace(200, 1000, n)
    b = np.linspace(1000, 200, n)
    hidden = np.zeros((n, 2), bool)
    crossing = np.abs(a - b) < 60
    hidden[crossing, 1] = True  # dancer 1 is behind
    xy, truth = _scene(n, [a, b], [500, 430], [1.0, 1.25], hidden, seed)
    ids = assign_tracks(xy, t)
    switches = _identity_switches(ids, truth)
    assert switches == 0, f"{switches} identity switches"
    assert ids.max() == 1  # exactly two tracks: no spurious births


def test_long_absence_starts_a_new_track() -> None:
    n = 200
    t = np.arange(n) / 30.0
    hidden = np.zeros((n, 1), bool)
    hidden[50:150, 0] = True  # 3.3 s away, longer than max_gap_s
    xy, truth = _scene(n, [np.full(n, 500.0)], [500], [1.0], hidden, seed=3)
    ids = assign_tracks(xy, t, TrackingConfig(max_gap_s=1.5))
    assert set(ids[:50, 0]) == {0}
    assert set(ids[150:, 0]) == {1}


def test_split_tracks_gives_nan_where_a_dancer_is_absent() -> None:
    n = 10
    xy, truth = _scene(n, [np.full(n, 300.0), np.full(n, 800.0)], [500, 500], [1.0, 1.0], None, seed=0)
    xy[4, :] = np.nan
    ids = assign_tracks(xy, np.arange(n) / 30.0)
    per_track = split_tracks({"xy": xy}, ids)
    assert len(per_track) == 2
    assert per_track[0]["xy"].shape == (n, 33, 2)
    assert np.isnan(per_track[0]["xy"][4]).all()
    assert np.nanmean(per_track[0]["xy"][:, 23, 0]) < np.nanmean(per_track[1]["xy"][:, 23, 0])
