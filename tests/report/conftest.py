"""Fixtures for the report tests: a synthetic clip with known truth, a hand-made analysis result built
from that truth (so the report is tested without the analysis core), and a synthetic video of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from turnout_vision import landmarks as lm
from turnout_vision.synthetic import Camera, Motion, Scene, SyntheticClip, generate


@dataclass
class HandMadeResult:
    """Stands in for the core's AnalysisResult: per-frame arrays and a JSON form, from the truth."""

    knee_flexion_deg: np.ndarray
    foot_rotation_deg: np.ndarray
    leg_rotation_deg: np.ndarray
    knee_offset_ratio: np.ndarray
    confidence: np.ndarray
    frame_flags: dict[str, np.ndarray]
    floor_points: Any
    json: dict[str, Any] = field(default_factory=dict)
    image_xy_smoothed: Any = None  # the report then draws the raw landmarks

    def to_dict(self) -> dict[str, Any]:
        return self.json


def hand_made_result(clip: SyntheticClip) -> HandMadeResult:
    t = clip.truth
    n = t.timestamps_s.shape[0]
    leg = np.where(t.knee_flexion_deg > 10, t.leg_rotation_deg[None, :], np.nan)
    offset = t.knee_over_toe_m / t.foot_length_m[None, :]  # + = outside, as the core reports it
    inside = (offset < -0.15) & (t.knee_flexion_deg > 20)
    dropped = t.dropped
    foot = t.foot_rotation_deg.copy()
    for a in (foot, leg, offset):
        a[dropped] = np.nan
    reps = []
    for p in t.plies:
        b = int(np.argmin(np.abs(t.timestamps_s - p.bottom_s)))
        sides = {}
        for s, side in enumerate(lm.SIDES):
            flags = ["forced_turnout"] if t.forced_turnout_deg[s] > 10 else []
            if inside[b, s]:
                flags.append("knee_inside_toes")
            sides[side] = {"foot_rotation_deg": {"value": float(t.foot_rotation_deg[b, s]), "sd": 3.0},
                           "leg_rotation_deg": {"value": float(t.leg_rotation_deg[s]), "sd": 3.0},
                           "forced_turnout_deg": {"value": float(t.forced_turnout_deg[s]), "sd": 4.0},
                           "knee_over_toe": {"ratio": {"value": float(offset[b, s]), "sd": 0.1}},
                           "flags": [{"name": f, "side": side} for f in flags]}
        reps.append({"start_s": p.start_s, "bottom_s": p.bottom_s, "end_s": p.end_s, "bottom_frame": b,
                     "depth_deg": {"value": p.depth_deg, "sd": 2.0}, "kind": "demi", **sides})
    summary = {side: dict(reps[0][side]) for side in lm.SIDES} if reps else {}
    flags = [f for side in summary.values() for f in side["flags"]]
    data = {"schema_version": "1.0", "status": "ok" if reps else "no_plie", "reps": reps, "summary": summary,
            "flags": flags, "warnings": [], "method": {"refusal": None}}
    return HandMadeResult(t.knee_flexion_deg, foot, leg, offset, np.where(dropped, 0.0, 0.9),
                          {"knee_inside_toes": inside}, t.floor_points(), data)


def render_clip_video(clip: SyntheticClip, path: Path) -> Path:
    """A stick-figure video of the clip (one frame per sequence frame, its size and nominal fps)."""
    import cv2

    seq = clip.sequence
    w, h = (int(v) for v in seq.frame_size_wh)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), float(round(seq.fps)), (w, h))
    truth_px = clip.truth.all_points_m  # (F, 33, 3); the sequence's xy are noisy, the drawing uses them too
    assert truth_px.shape[0] == seq.n_frames
    rng = np.random.default_rng(0)
    background = (rng.integers(60, 200, size=(h // 16 + 1, w // 16 + 1, 3))).astype(np.uint8)
    background = cv2.resize(background, (w, h), interpolation=cv2.INTER_NEAREST)
    for i in range(seq.n_frames):
        img = background.copy()
        P = seq.image_xy[i]
        for a, b in lm.LEG_CONNECTIONS:
            if np.isfinite(P[[a, b]]).all():
                cv2.line(img, tuple(int(v) for v in P[a]), tuple(int(v) for v in P[b]), (30, 30, 30), 8)
        writer.write(img)
    writer.release()
    return path


@pytest.fixture(scope="session")
def forced_clip() -> SyntheticClip:
    """One plié, 15 degrees forced on each side, frontal camera, 25 fps, small frame (fast)."""
    scene = Scene(motion=Motion(leg_rotation_deg=(50, 50), below_knee_rotation_deg=(18, 18), depth_deg=(50, 50),
                                n_reps=1, rep_duration_s=2.0, lead_s=0.6, trail_s=0.4, fps=25.0),
                  camera=Camera(distance_m=3.0, width_px=360, height_px=640))
    return generate(scene, seed=3)


@pytest.fixture(scope="session")
def forced_result(forced_clip: SyntheticClip) -> HandMadeResult:
    return hand_made_result(forced_clip)


@pytest.fixture(scope="session")
def forced_video(forced_clip: SyntheticClip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_clip_video(forced_clip, tmp_path_factory.mktemp("synthetic") / "forced_plie.mp4")


# ------------------------------------------------------------------------------------------ chromium

@pytest.fixture(scope="session")
def chromium_screenshot():  # type: ignore[no-untyped-def]
    """screenshot(html_path, png_path) -> BGR image; skips the test where Chromium is not installed."""
    return screenshot_or_skip


def screenshot_or_skip(html_path: Path, png_path: Path) -> np.ndarray:
    import cv2

    from turnout_vision.report.browser import find_chromium, screenshot

    if find_chromium() is None:
        pytest.skip("headless Chromium is not installed (test.sh installs Debian's `chromium` when it can)")
    image = cv2.imread(str(screenshot(html_path, png_path)))
    assert image is not None
    return image
