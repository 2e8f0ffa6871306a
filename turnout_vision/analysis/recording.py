"""Recording checks: can this video support a turnout verdict, and if not, what should the dancer change?

Pure numpy, from the ``PoseSequence`` (plus optional per-frame image statistics that the video stage
measured: brightness and global camera shift). Each failed check becomes a ``RecordingIssue`` with one
sentence saying what is wrong and one instruction saying how to film it better, with the times where
it happens (``mm:ss``). Issues whose ``limits_verdict`` is True mean the turnout numbers of this clip
cannot be trusted; the report puts them before the verdict.

Measures (all in pixels of the upright frame unless named otherwise):

- **in frame**: a landmark counts as out of frame when MediaPipe places it outside the image
  (it extrapolates out-of-frame joints) by more than ``edge_margin_frac`` of the frame size, or when
  its visibility is below ``min_visibility``. Feet = ankles, heels, toe tips; body = hips and knees
  (a head or shoulders cut off at the top do not matter for turnout).
- **foot size**: ``foot_px`` = 0.6 x the shank (knee-ankle) length in the image; the shank stands
  nearly vertical, so unlike the foot it is not foreshortened by the camera's view of the floor
  (the foot is ~0.6 of the shank in adults).
- **frontal view**: ``frontality`` = the larger of hip width / leg length and shoulder width / leg
  length, each divided by its value for a frontal adult (0.24 and 0.42); ~cos(yaw), 1 = frontal,
  0 = side view. Leg length = hip-knee + knee-ankle in the image (unchanged by a plié).
- **steady camera**: the global image shift between frames (phase correlation, from the video stage),
  accumulated over the frames where the dancer is seen, as a fraction of the leg length; without it,
  the drift of the heels' midpoint (0.5 s moving median), which also catches feet that move.
- **light**: median frame brightness (mean luma, 0..255) from the video stage; and the feet's
  landmark visibility (low when shoes blend into the floor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import landmarks as lm
from ..config import RecordingConfig
from ..sequence import PoseSequence

_FEET = (lm.LEFT_ANKLE, lm.RIGHT_ANKLE, lm.LEFT_HEEL, lm.RIGHT_HEEL, lm.LEFT_FOOT_INDEX, lm.RIGHT_FOOT_INDEX)
_BODY = (lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_KNEE, lm.RIGHT_KNEE)

FRONTAL_HIP_RATIO = 0.24
"""Hip-joint width / leg length of an adult seen from the front (MediaPipe hip landmarks)."""
FRONTAL_SHOULDER_RATIO = 0.42
"""Shoulder width / leg length of an adult seen from the front."""





@dataclass(frozen=True)
class RecordingIssue:
    """One problem with the recording: what is wrong, how to fix it, and when it happens."""

    code: str
    """Stable identifier: no_person, person_missing, feet_out_of_frame, body_out_of_frame,
    feet_small, feet_too_small, turned_view, side_view, camera_moving, too_dark, too_bright,
    feet_low_contrast, low_fps."""
    message: str
    fix: str
    limits_verdict: bool
    times_s: tuple[float, ...] = ()

    @property
    def sentence(self) -> str:
        return f"{self.message} {self.fix}"


@dataclass(frozen=True)
class RecordingCheck:
    """The outcome of all checks, and the measurements behind them (JSON-able through ``to_dict``)."""

    issues: tuple[RecordingIssue, ...]
    measures: Mapping[str, Any] = field(default_factory=dict)

    @property
    def limits_verdict(self) -> bool:
        return any(i.limits_verdict for i in self.issues)

    def to_dict(self) -> dict[str, Any]:
        return {
            "limits_verdict": self.limits_verdict,
            "issues": [dict(asdict(i), times_s=list(i.times_s)) for i in self.issues],
            "measures": dict(self.measures),
        }


def format_time(t_s: float) -> str:
    """Seconds -> ``mm:ss`` (``00:04``), or ``mm:ss.s`` under 10 s when it matters (``00:01.6``)."""
    if not np.isfinite(t_s):
        return "--:--"
    t_s = max(0.0, float(t_s))
    m, s = divmod(t_s, 60.0)
    return f"{int(m):02d}:{int(s):02d}"


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, stop) index runs where ``mask`` is True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def _episodes(mask: NDArray[np.bool_], t: NDArray[np.float64], min_s: float) -> list[tuple[float, float]]:
    """(start, end) times of runs of ``mask`` lasting at least ``min_s``."""
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    out = []
    for a, b in _runs(mask):
        start, end = float(t[a]), float(t[b - 1]) + dt
        if end - start >= min_s - 1e-9:
            out.append((start, end))
    return out


def _out_of_frame(xy: NDArray[np.float64], vis: NDArray[np.float64], size_wh: NDArray[np.float64],
                  cfg: RecordingConfig) -> tuple[NDArray[np.bool_], dict[str, NDArray[np.bool_]]]:
    """(F, J) True where a landmark is outside the frame, and per-edge masks (F,) for any landmark."""
    w, h = float(size_wh[0]), float(size_wh[1])
    mx, my = cfg.edge_margin_frac * w, cfg.edge_margin_frac * h
    x, y = xy[..., 0], xy[..., 1]
    with np.errstate(invalid="ignore"):
        edges = {"left": x < -mx, "right": x > w + mx, "top": y < -my, "bottom": y > h + my}
        out = edges["left"] | edges["right"] | edges["top"] | edges["bottom"]
        low_vis = np.nan_to_num(vis, nan=1.0) < cfg.min_visibility
    return out | (low_vis & ~np.isnan(x)), {k: v.any(axis=1) for k, v in edges.items()}


def _dist(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.linalg.norm(a - b, axis=-1)


def _nanmean(a: NDArray[np.float64], axis: int) -> NDArray[np.float64]:
    """nanmean without the warning for all-NaN slices (they give NaN)."""
    a = np.asarray(a, dtype=float)
    finite = np.isfinite(a)
    count = finite.sum(axis=axis)
    total = np.where(finite, a, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _rolling_median(a: NDArray[np.float64], window: int) -> NDArray[np.float64]:
    """(F, k) -> (F, k) centred moving median over ``window`` frames, ignoring NaN (NaN if all NaN)."""
    window = max(1, int(window) | 1)
    half = window // 2
    padded = np.pad(a, ((half, half), (0, 0)), constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(padded, window, axis=0)  # (F, k, window)
    out = np.full(a.shape, np.nan)
    ok = np.isfinite(win).any(axis=-1)
    if ok.any():
        out[ok] = np.nanmedian(win[ok], axis=-1)
    return out


def _nanmedian(a: NDArray[np.float64]) -> float:
    a = np.asarray(a, dtype=float)
    return float(np.median(a[np.isfinite(a)])) if np.isfinite(a).any() else float("nan")


def _edge_fix(edges: dict[str, NDArray[np.bool_]], what: str) -> str:
    counts = {k: int(v.sum()) for k, v in edges.items()}
    edge = max(counts, key=counts.get)  # type: ignore[arg-type]
    if edge == "bottom":
        return f"Move the camera back, or tilt it down a little, so that {what} stay inside the picture."
    if edge == "top":
        return f"Move the camera back, or tilt it up a little, so that {what} stay inside the picture."
    return f"Move the camera back, or stand in the middle of the picture, so that {what} stay inside it."


def check_recording(
    sequence: PoseSequence,
    brightness: NDArray[np.float64] | None = None,
    camera_step_px: NDArray[np.float64] | None = None,
    config: RecordingConfig | None = None,
) -> RecordingCheck:
    """Check whether the recording can support a turnout verdict.

    ``brightness``: (F,) mean luma 0..255 of each frame (NaN where not measured), optional.
    ``camera_step_px``: (F, 2) global image translation of each frame relative to the previous one
    (pixels; NaN where not measured, e.g. at cuts), optional. Both come from the video stage (``pipeline.py``).
    """
    cfg = config or RecordingConfig()
    t = sequence.timestamps_s
    n = sequence.n_frames
    xy, vis = sequence.image_xy, sequence.visibility
    size = sequence.frame_size_wh
    detected = sequence.detected
    issues: list[RecordingIssue] = []
    measures: dict[str, Any] = {"frames": n, "fps": sequence.fps, "frame_size_wh": [float(v) for v in size]}

    person_frac = float(detected.mean()) if n else 0.0
    measures["person_fraction"] = person_frac
    if not detected.any():
        issues.append(RecordingIssue(
            "no_person", "No person was found in any frame.",
            "Film the whole body from the front, in good light, with nobody else in the picture.", True))
        return RecordingCheck(tuple(issues), measures)

    first, last = int(np.flatnonzero(detected)[0]), int(np.flatnonzero(detected)[-1])
    inner_missing = ~detected.copy()
    inner_missing[:first] = False
    inner_missing[last + 1:] = False
    gaps = _episodes(inner_missing, t, 0.5)
    if person_frac < cfg.min_person_frac or gaps:
        when = gaps[0][0] if gaps else float(t[np.flatnonzero(~detected)[0]])
        issues.append(RecordingIssue(
            "person_missing",
            f"The dancer is found in only {person_frac:.0%} of the frames (first lost at {format_time(when)}).",
            "Keep the whole body in the picture all the time, with plain background and even light.",
            person_frac < 0.25, tuple(s for s, _ in gaps)))

    d = detected
    fps = sequence.fps
    # ---------------------------------------------------------------- feet and body in frame
    for code, idx, what, limits in (("feet_out_of_frame", _FEET, "both feet", True),
                                    ("body_out_of_frame", _BODY, "your hips and knees", True)):
        out, edges = _out_of_frame(xy[d][:, idx], vis[d][:, idx], size, cfg)
        any_out = np.zeros(n, dtype=bool)
        any_out[d] = out.any(axis=1)
        edges_full = {k: np.zeros(n, dtype=bool) for k in edges}
        for k, v in edges.items():
            edges_full[k][d] = v
        eps = _episodes(any_out, t, cfg.min_out_of_frame_s)
        frac = float(any_out[d].mean())
        measures[f"{code}_fraction"] = frac
        if eps:
            stamps = list(dict.fromkeys(format_time(s) for s, _ in eps))
            leaves = ", ".join(stamps[:3]) + (" ..." if len(stamps) > 3 else "")
            subject = "your feet leave" if code == "feet_out_of_frame" else "part of your body leaves"
            issues.append(RecordingIssue(
                code, f"{subject[0].upper()}{subject[1:]} the picture at {leaves} ({frac:.0%} of the frames).",
                _edge_fix(edges_full, what), limits and frac > 0.1, tuple(s for s, _ in eps)))

    # ---------------------------------------------------------------- geometry per frame
    P = xy[:, lm.LEG_INDEX]  # (F, 2, 5, 2)
    shank = _dist(P[:, :, lm.KNEE], P[:, :, lm.ANKLE])  # (F, 2)
    thigh = _dist(P[:, :, lm.HIP], P[:, :, lm.KNEE])
    leg = _nanmean(thigh + shank, axis=1)  # (F,)
    leg_px = _nanmedian(leg)
    measures["leg_length_px"] = leg_px
    foot_px = 0.6 * _nanmedian(_nanmean(shank, axis=1)) if np.isfinite(shank).any() else float("nan")
    measures["foot_px"] = foot_px
    if np.isfinite(foot_px):
        if foot_px < cfg.min_foot_px:
            issues.append(RecordingIssue(
                "feet_too_small", f"Your feet are only about {foot_px:.0f} pixels long in the picture, too small to measure their angle.",
                f"Move the camera closer (keeping both feet in the picture) or film at a higher resolution; at least {cfg.good_foot_px:.0f} pixels are needed.",
                True))
        elif foot_px < cfg.good_foot_px:
            issues.append(RecordingIssue(
                "feet_small", f"Your feet are about {foot_px:.0f} pixels long in the picture, so their angles are rough.",
                "Move the camera closer or film at a higher resolution (1080p) for finer angles.", False))

    # ---------------------------------------------------------------- frontal view
    hip_w = _dist(xy[:, lm.LEFT_HIP], xy[:, lm.RIGHT_HIP])
    sho_w = _dist(xy[:, lm.LEFT_SHOULDER], xy[:, lm.RIGHT_SHOULDER])
    with np.errstate(invalid="ignore", divide="ignore"):
        frontality_t = np.fmax(hip_w / leg / FRONTAL_HIP_RATIO, sho_w / leg / FRONTAL_SHOULDER_RATIO)
    frontality = min(1.0, _nanmedian(frontality_t))
    yaw_deg = float(np.degrees(np.arccos(np.clip(frontality, 0.0, 1.0)))) if np.isfinite(frontality) else float("nan")
    measures["frontality"] = frontality
    measures["view_yaw_deg"] = yaw_deg
    if np.isfinite(frontality):
        if frontality < cfg.frontality_refuse:
            issues.append(RecordingIssue(
                "side_view", f"The camera sees you from the side (about {yaw_deg:.0f}° away from the front), so the turnout of the feet and legs cannot be measured.",
                "Put the camera straight in front of you, facing you, and film again.", True))
        elif frontality < cfg.frontality_warn:
            issues.append(RecordingIssue(
                "turned_view", f"The camera sees you at an angle (about {yaw_deg:.0f}° away from the front), so the two legs are measured unequally.",
                "Face the camera squarely: put it straight in front of you, at the middle of your feet.", False))

    # ---------------------------------------------------------------- steady camera
    shift_frac = jitter_frac = float("nan")
    if camera_step_px is not None and np.isfinite(camera_step_px).any() and np.isfinite(leg_px):
        # accumulate the frame-to-frame image shifts over the frames where the dancer is seen
        # (title cards and cuts before or after are not camera motion)
        step = np.asarray(camera_step_px, dtype=float).copy()
        step[~d] = np.nan
        path = np.cumsum(np.nan_to_num(step, nan=0.0), axis=0)
        path[~d] = np.nan
        ref = path[d][0]
        mag = np.linalg.norm(path - ref, axis=1)
        shift_frac = float(np.nanmax(mag) / leg_px)
        jitter_frac = _nanmedian(np.linalg.norm(step, axis=1)) / leg_px
        moving = np.nan_to_num(mag / leg_px, nan=0.0) > cfg.max_shift_frac
        source = "image"
    else:
        heels = _nanmean(xy[:, [lm.LEFT_HEEL, lm.RIGHT_HEEL]], axis=1)
        # a 0.5 s moving median removes the detector's jitter; what is left is real motion
        heels = _rolling_median(heels, int(round(0.5 * fps)) if np.isfinite(fps) else 1)
        ok = np.isfinite(heels).all(axis=1)
        if ok.sum() > 2 and np.isfinite(leg_px):
            ref = np.median(heels[ok], axis=0)
            mag = np.linalg.norm(heels - ref, axis=1)
            shift_frac = float(np.nanpercentile(mag[ok], 95) / leg_px)
            moving = np.nan_to_num(mag / leg_px, nan=0.0) > cfg.max_shift_frac
        else:
            moving = np.zeros(n, dtype=bool)
        source = "heels"
    measures["camera_shift_fraction"] = shift_frac
    measures["camera_jitter_fraction"] = jitter_frac
    measures["steadiness_source"] = source
    unsteady = (np.isfinite(shift_frac) and shift_frac > cfg.max_shift_frac) or (
        np.isfinite(jitter_frac) and jitter_frac > cfg.max_jitter_frac)
    if unsteady:
        eps = _episodes(moving, t, cfg.min_out_of_frame_s)
        when = f" from {format_time(eps[0][0])}" if eps else ""
        if source == "image":
            msg = f"The camera moves during the recording{when}."
            fix = "Put the phone on a tripod or lean it against something steady; do not hold it."
        else:
            msg = f"Your feet (or the camera) move during the recording{when}."
            fix = ("Keep the camera steady on a tripod or a shelf, and keep your heels in place "
                   "during the plié.")
        issues.append(RecordingIssue("camera_moving", msg, fix, True, tuple(s for s, _ in eps)))

    # ---------------------------------------------------------------- light and contrast
    if brightness is not None and np.isfinite(brightness).any():
        luma = _nanmedian(np.asarray(brightness, dtype=float))
        measures["brightness"] = luma
        if luma < cfg.dark_luma:
            issues.append(RecordingIssue(
                "too_dark", f"The video is dark (brightness {luma:.0f} of 255).",
                "Turn on more light, or film facing a window with the light falling on you, not behind you.",
                luma < cfg.dark_luma * 0.6))
        elif luma > cfg.bright_luma:
            issues.append(RecordingIssue(
                "too_bright", f"The video is overexposed (brightness {luma:.0f} of 255).",
                "Avoid direct sun or a bright window behind you; tap on yourself in the camera app to set the exposure.",
                False))
    foot_vis = _nanmedian(vis[d][:, list(_FEET)].mean(axis=1)) if d.any() else float("nan")
    measures["foot_visibility"] = foot_vis
    if np.isfinite(foot_vis) and foot_vis < cfg.min_foot_visibility:
        issues.append(RecordingIssue(
            "feet_low_contrast", f"Your feet are hard to make out (confidence {foot_vis:.2f}).",
            "Wear socks or shoes that contrast with the floor (light on a dark floor, dark on a light one), and light the feet well.",
            False))
    if np.isfinite(fps) and fps < cfg.min_fps:
        issues.append(RecordingIssue(
            "low_fps", f"The video has only {fps:.0f} frames per second.",
            "Film at 30 or 60 frames per second.", False))
    issues.sort(key=lambda i: not i.limits_verdict)
    return RecordingCheck(tuple(issues), measures)
