"""Keeping each dancer's identity across frames when several people are in the video.

MediaPipe returns up to ``num_poses`` poses per frame in no particular order. ``assign_tracks``
links them into tracks: each frame, the poses are matched to the existing tracks by the Hungarian
algorithm (``scipy.optimize.linear_sum_assignment``) on a cost that combines

* **position**: mean distance between corresponding landmarks and the track's position predicted
  with constant velocity, divided by the track's body size (shoulder-to-hip length), and
* **appearance of the pose**: difference of body proportions (segment lengths over body size),
  which tell two dancers apart when they cross.

A pose whose best cost exceeds ``max_cost`` starts a new track (birth); a track unseen for longer
than ``max_gap_s`` is closed (death), so a dancer who leaves and comes back after a long absence
gets a new id. Tracks are numbered left to right in the first frame in which they appear
(``dancer 1``, ``dancer 2``, ...), earlier-appearing tracks first.

Pure numpy/scipy. The loop runs over frames (tracking is sequential); the work inside is vectorised.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from .config import MergeConfig, TrackingConfig
from .landmarks import LEFT_HIP, LEFT_SHOULDER, RIGHT_HIP, RIGHT_SHOULDER

# Body segments whose lengths, divided by the body size, describe a pose's proportions.
_SEGMENTS = np.array([
    (11, 12), (23, 24), (11, 23), (12, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (11, 13), (12, 14), (27, 31), (28, 32),
])
_CORE = np.array([11, 12, 23, 24, 25, 26, 27, 28])  # shoulders, hips, knees, ankles


_Fn = TypeVar("_Fn", bound=Callable[..., Any])


def _quiet_empty_slices(fn: _Fn) -> _Fn:
    """Run ``fn`` without numpy's "Mean of empty slice" warnings (all-NaN poses give NaN, on purpose)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]





def _body_size(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """(..., 33, 2) -> (...,) mean shoulder-to-hip length in pixels."""
    left = np.linalg.norm(xy[..., LEFT_SHOULDER, :] - xy[..., LEFT_HIP, :], axis=-1)
    right = np.linalg.norm(xy[..., RIGHT_SHOULDER, :] - xy[..., RIGHT_HIP, :], axis=-1)
    return np.nanmean(np.stack([left, right]), axis=0)


def _proportions(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """(..., 33, 2) -> (..., segments) segment lengths over body size."""
    seg = np.linalg.norm(xy[..., _SEGMENTS[:, 0], :] - xy[..., _SEGMENTS[:, 1], :], axis=-1)
    return seg / _body_size(xy)[..., None]


@_quiet_empty_slices
def assign_tracks(
    xy_px: NDArray[np.float64],
    timestamps_s: NDArray[np.float64],
    params: TrackingConfig = TrackingConfig(),
) -> NDArray[np.int64]:
    """Link the poses of each frame into dancer tracks.

    ``xy_px``: (frames, slots, 33, 2) image landmarks, one slot per pose MediaPipe returned in that
    frame (NaN for empty slots). Returns (frames, slots) track ids 0, 1, ... numbered left to right
    at first appearance (see module docstring), -1 for empty slots.
    """
    n_frames, n_slots = xy_px.shape[:2]
    raw = np.full((n_frames, n_slots), -1, dtype=np.int64)
    present = ~np.isnan(xy_px[..., _CORE, 0]).all(axis=-1)  # (F, S)

    # Per-track state, grown as tracks are born.
    last_xy: list[NDArray[np.float64]] = []
    velocity: list[NDArray[np.float64]] = []
    last_t: list[float] = []
    proportions: list[NDArray[np.float64]] = []
    sizes: list[float] = []

    for f in range(n_frames):
        slots = np.flatnonzero(present[f])
        if slots.size == 0:
            continue
        t = float(timestamps_s[f])
        alive = [k for k in range(len(last_t)) if t - last_t[k] <= params.max_gap_s]
        cost = np.full((slots.size, len(alive)), np.inf)
        if alive:
            det = xy_px[f, slots][:, _CORE]  # (D, C, 2)
            pred = np.stack([last_xy[k] + velocity[k] * (t - last_t[k]) for k in alive])[:, _CORE]
            dist = np.nanmean(np.linalg.norm(det[:, None] - pred[None], axis=-1), axis=-1)  # (D, T)
            size = np.array([sizes[k] for k in alive])
            appearance = np.nanmean(np.abs(_proportions(xy_px[f, slots])[:, None]
                                           - np.stack([proportions[k] for k in alive])[None]), axis=-1)
            det_size = _body_size(xy_px[f, slots])
            size_change = np.abs(np.log(np.clip(det_size[:, None], 1e-6, None) / size[None]))
            cost = (dist / size[None] + params.appearance_weight * appearance
                    + params.size_weight * np.nan_to_num(size_change, nan=0.0))
            cost = np.where(np.isfinite(cost), cost, 1e6)
        rows, cols = linear_sum_assignment(cost) if alive else (np.array([], int), np.array([], int))
        matched = {}
        for r, c in zip(rows, cols):
            if cost[r, c] <= params.max_cost:
                matched[r] = alive[c]
        for r, slot in enumerate(slots):
            pose = xy_px[f, slot]
            if r in matched:
                k = matched[r]
                dt = t - last_t[k]
                step = (pose - last_xy[k]) / dt if dt > 0 else np.zeros_like(pose)
                velocity[k] = np.where(np.isnan(step), velocity[k], 0.5 * velocity[k] + 0.5 * step)
                last_xy[k] = np.where(np.isnan(pose), last_xy[k], pose)
                last_t[k] = t
                proportions[k] = np.where(np.isnan(_proportions(pose)), proportions[k],
                                          0.9 * proportions[k] + 0.1 * np.nan_to_num(_proportions(pose)))
                sizes[k] = 0.9 * sizes[k] + 0.1 * float(np.nan_to_num(_body_size(pose), nan=sizes[k]))
            else:
                k = len(last_t)
                last_xy.append(pose.copy())
                velocity.append(np.zeros_like(pose))
                last_t.append(t)
                proportions.append(np.nan_to_num(_proportions(pose), nan=0.0))
                sizes.append(float(np.nan_to_num(_body_size(pose), nan=1.0)) or 1.0)
            raw[f, slot] = k
    return _number_left_to_right(raw, xy_px)


def _number_left_to_right(raw: NDArray[np.int64], xy_px: NDArray[np.float64]) -> NDArray[np.int64]:
    """Renumber track ids by (first frame seen, mean x in that frame)."""
    n_tracks = int(raw.max()) + 1
    if n_tracks <= 0:
        return raw
    keys = []
    for k in range(n_tracks):
        frames, slots = np.nonzero(raw == k)
        first = frames.min()
        x = np.nanmean(xy_px[first, slots[frames == first][0], _CORE, 0])
        keys.append((first, x))
    order = sorted(range(n_tracks), key=lambda k: keys[k])
    remap = np.full(n_tracks + 1, -1, dtype=np.int64)
    remap[np.array(order)] = np.arange(n_tracks)
    return np.where(raw >= 0, remap[raw], -1)


def split_tracks(
    arrays: dict[str, NDArray[np.float64]], track_ids: NDArray[np.int64]
) -> list[dict[str, NDArray[np.float64]]]:
    """Per-track copies of per-slot arrays.

    ``arrays`` maps names to (frames, slots, ...) arrays; returns one dict per track id with
    (frames, ...) arrays, NaN in the frames where that track was not seen.
    """
    n_tracks = int(track_ids.max()) + 1 if track_ids.size else 0
    out = []
    for k in range(n_tracks):
        frames, slots = np.nonzero(track_ids == k)
        per_track = {}
        for name, value in arrays.items():
            filled = np.full((value.shape[0], *value.shape[2:]), np.nan)
            filled[frames] = value[frames, slots]
            per_track[name] = filled
        out.append(per_track)
    return out





def _track_ends(track_ids: NDArray[np.int64], xy_px: NDArray[np.float64], k: int, last: bool
                ) -> tuple[int, NDArray[np.float64], float, NDArray[np.float64]]:
    """(frame, mean core position (2,), body size, median proportions) at one end of track k (over
    up to 10 of its frames at that end)."""
    frames, slots = np.nonzero(track_ids == k)
    order = np.argsort(frames)
    frames, slots = frames[order], slots[order]
    pick = slice(-10, None) if last else slice(0, 10)
    poses = xy_px[frames[pick], slots[pick]]  # (n, 33, 2)
    centre = np.nanmean(poses[:, _CORE], axis=(0, 1))
    size = float(np.nanmedian(_body_size(poses)))
    props = np.nanmedian(_proportions(poses), axis=0)
    return int(frames[-1] if last else frames[0]), centre, size, props


@_quiet_empty_slices
def merge_fragments(
    track_ids: NDArray[np.int64],
    xy_px: NDArray[np.float64],
    timestamps_s: NDArray[np.float64],
    params: MergeConfig = MergeConfig(),
) -> NDArray[np.int64]:
    """Join tracks that are one dancer seen twice: a track that ends and a later one that starts near
    where it ended, with the same body proportions, and never overlapping in time (e.g. a dancer
    hidden behind another for longer than ``TrackingConfig.max_gap_s``). Greedy, cheapest join
    first; a track is joined at most once at each end. Returns renumbered ids (left to right at first
    appearance, as ``assign_tracks``)."""
    ids = np.asarray(track_ids, dtype=np.int64).copy()
    n_tracks = int(ids.max()) + 1 if ids.size else 0
    if n_tracks < 2:
        return ids
    t = np.asarray(timestamps_s, dtype=float)
    starts = [_track_ends(ids, xy_px, k, last=False) for k in range(n_tracks)]
    ends = [_track_ends(ids, xy_px, k, last=True) for k in range(n_tracks)]
    frames_of = [set(np.nonzero(ids == k)[0].tolist()) for k in range(n_tracks)]
    candidates = []
    for a in range(n_tracks):
        fa, ca, sa, pa = ends[a]
        for b in range(n_tracks):
            fb, cb, sb, pb = starts[b]
            if a == b or fb <= fa:
                continue
            gap = float(t[fb] - t[fa])
            if gap > params.max_gap_s:
                continue
            size = np.nanmean([sa, sb])
            if not np.isfinite(size) or size <= 0:
                continue
            jump = max(0.0, float(np.linalg.norm(cb - ca)) / size - params.speed_body_per_s * gap)
            appearance = float(np.nanmean(np.abs(pa - pb)))
            size_change = abs(float(np.log(sb / sa))) if sa > 0 and sb > 0 else 0.0
            cost = (jump + params.appearance_weight * (appearance if np.isfinite(appearance) else 1.0)
                    + params.size_weight * size_change)
            if cost <= params.max_cost:
                candidates.append((cost, a, b))
    parent = list(range(n_tracks))

    def root(k: int) -> int:
        while parent[k] != k:
            k = parent[k]
        return k

    joined_end: set[int] = set()
    joined_start: set[int] = set()
    for _cost, a, b in sorted(candidates):
        if a in joined_end or b in joined_start:
            continue
        ra, rb = root(a), root(b)
        if ra == rb or frames_of[ra] & frames_of[rb]:
            continue
        parent[rb] = ra
        frames_of[ra] |= frames_of[rb]
        joined_end.add(a)
        joined_start.add(b)
    roots = np.array([root(k) for k in range(n_tracks)] + [-1])
    merged = np.where(ids >= 0, roots[ids], -1)
    return _number_left_to_right(_compact(merged), xy_px)


def drop_short_tracks(ids: NDArray[np.int64], xy_px: NDArray[np.float64], min_frames: int) -> NDArray[np.int64]:
    """``ids`` (frames, slots) with tracks seen in fewer than ``min_frames`` frames removed (-1; spurious
    detections) and the rest renumbered left to right at first appearance."""
    counts = np.bincount(ids[ids >= 0]) if (ids >= 0).any() else np.zeros(0, int)
    kept = np.where(np.isin(ids, np.flatnonzero(counts < min_frames)), -1, ids)
    return _number_left_to_right(_compact(kept), xy_px)


def _compact(ids: NDArray[np.int64]) -> NDArray[np.int64]:
    """Ids renumbered 0..k-1 in order of their old value (-1 stays -1)."""
    used = np.unique(ids[ids >= 0])
    remap = np.full(int(ids.max()) + 2 if ids.size and ids.max() >= 0 else 1, -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    return np.where(ids >= 0, remap[ids], -1)


@_quiet_empty_slices
def drop_duplicates(xy_px: NDArray[np.float64], visibility: NDArray[np.float64] | None = None,
                    max_distance: float = 0.35) -> NDArray[np.bool_]:
    """(frames, slots) True for poses to keep: a pose whose core landmarks lie on average within
    ``max_distance`` body sizes of another pose of the same frame is the same person found twice
    (MediaPipe does that when people overlap); the one with the lower mean visibility is dropped."""
    n_frames, n_slots = xy_px.shape[:2]
    keep = ~np.isnan(xy_px[..., _CORE, 0]).all(axis=-1)
    if n_slots < 2:
        return keep
    core = xy_px[:, :, _CORE]  # (F, S, C, 2)
    size = _body_size(xy_px)  # (F, S)
    score = (np.nanmean(visibility[:, :, _CORE], axis=-1) if visibility is not None
             else np.zeros((n_frames, n_slots)))
    score = np.nan_to_num(score, nan=0.0)
    for a in range(n_slots):
        for b in range(a + 1, n_slots):
            with np.errstate(invalid="ignore"):
                d = np.nanmean(np.linalg.norm(core[:, a] - core[:, b], axis=-1), axis=-1)
                s = np.fmax(size[:, a], size[:, b])
                dup = keep[:, a] & keep[:, b] & (np.nan_to_num(d / s, nan=np.inf) < max_distance)
            lose_b = dup & (score[:, a] >= score[:, b])
            keep[lose_b, b] = False
            keep[dup & ~lose_b, a] = False
    return keep
