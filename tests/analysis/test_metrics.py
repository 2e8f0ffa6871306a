"""Per-frame metric definitions against independent truth: the synthetic model's own geometry and the
rendered dancers' ground truth (../shared/renders, computed by a different program)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from turnout_vision.analysis.metrics import foot_axis, frame_metrics, knee_travel
from turnout_vision.synthetic import Motion, Scene, generate

RENDERS = Path(__file__).resolve().parents[3] / "shared" / "renders" / "dev"

SCENES = {
    "symmetric": Motion(leg_rotation_deg=(45, 45), below_knee_rotation_deg=(15, 15)),
    "asymmetric": Motion(leg_rotation_deg=(30, 60), below_knee_rotation_deg=(25, 0), depth_deg=(40, 50)),
    "rolling_sway": Motion(rolling_deg=(12, 5), sway_m=0.03, pelvis_rotation_deg=6, weight_shift_m=0.02),
    "parallel": Motion(leg_rotation_deg=(0, 0), below_knee_rotation_deg=(0, 0)),
    "grand": Motion(kind="grand_plie", depth_deg=(120, 120)),
}


@pytest.mark.parametrize("name", SCENES)
def test_metrics_match_synthetic_truth(name: str) -> None:
    clip = generate(Scene(motion=SCENES[name]), seed=1)
    tr = clip.truth
    m = frame_metrics(tr.points_m, 1.0, min_flexion_deg=10.0)
    np.testing.assert_allclose(m.knee_flexion_deg, tr.knee_flexion_deg, atol=1e-6)
    np.testing.assert_allclose(m.foot_rotation_deg, tr.foot_rotation_deg, atol=1e-6)
    np.testing.assert_allclose(m.foot_rotation_deg, np.broadcast_to(SCENES[name].foot_rotation_deg, m.foot_rotation_deg.shape), atol=1e-6)
    np.testing.assert_allclose(m.leg_rotation_deg, tr.knee_travel_deg, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(m.knee_over_toe_m, tr.knee_over_toe_m, atol=1e-9)
    np.testing.assert_allclose(m.rolling_in_deg, tr.rolling_deg, atol=1e-6)
    np.testing.assert_allclose(m.pelvis.tilt_deg, tr.pelvis_tilt_deg, atol=1e-6)
    np.testing.assert_allclose(m.pelvis.rotation_deg, tr.pelvis_rotation_deg, atol=1e-6)
    np.testing.assert_allclose(m.pelvis.lateral_m, tr.pelvis_lateral_m, atol=1e-9)
    np.testing.assert_allclose(m.pelvis.weight_shift_ratio * m.pelvis.hip_width_m, tr.weight_shift_m, atol=1e-9)
    # the knee travels in the commanded leg rotation at the bottom (within the hip-ankle slant)
    bottom = np.nanargmax(tr.knee_flexion_deg[:, 0])
    np.testing.assert_allclose(m.leg_rotation_deg[bottom], SCENES[name].leg_rotation_deg, atol=1.0)
    # forced turnout at the bottom = the commanded rotation below the knee
    np.testing.assert_allclose(m.forced_turnout_deg[bottom], SCENES[name].below_knee_rotation_deg, atol=1.0)


def test_signs_on_literal_points() -> None:
    """Left foot pointing to the dancer's left (+x) = +90; right foot pointing to -x = +90; knee
    outside the left foot's axis = positive offset."""
    pts = np.zeros((1, 2, 5, 3))
    pts[0, 0, :, :] = [[0.1, 0, 0.9], [0.1, 0, 0.5], [0.06, 0, 0.08], [0.0, 0, 0.02], [0.25, 0, 0.02]]
    pts[0, 1] = pts[0, 0] * np.array([-1.0, 1.0, 1.0])
    rot, length, *_ = foot_axis(pts)
    np.testing.assert_allclose(rot, [[90.0, 90.0]])
    np.testing.assert_allclose(length, [[0.25, 0.25]])
    pts[0, :, 1, 1] = -0.05                                 # knees pushed backwards: for a 90° foot that is outside
    m = frame_metrics(pts, 2.0, min_flexion_deg=0.0)
    assert (m.knee_over_toe_m > 0).all()
    pts[0, :, 1, 1] = 0.05                                  # knees forward: inside the toes
    m = frame_metrics(pts, 2.0, min_flexion_deg=0.0)
    assert (m.knee_over_toe_m < 0).all()
    travel, offset = knee_travel(pts)
    assert (np.abs(travel) < 30).all() and (offset > 0).all()     # knee forward = small leg rotation


def test_leg_rotation_undefined_when_straight_and_sd_grows() -> None:
    clip = generate(Scene(), seed=0)
    m = frame_metrics(clip.truth.points_m, 2.0, min_flexion_deg=15.0)
    straight = clip.truth.knee_flexion_deg < 15.0
    assert np.isnan(m.leg_rotation_deg[straight]).all()
    bent = np.isfinite(m.leg_rotation_sd_deg[:, 0])
    flex = clip.truth.knee_flexion_deg[bent, 0]
    sd = m.leg_rotation_sd_deg[bent, 0]
    assert sd[np.argmin(flex)] > sd[np.argmax(flex)] >= 2.0


def _render_points(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = json.loads(path.read_text())
    flip = np.array([1.0, -1.0, 1.0])                       # render world faces -Y; floor frame faces +y
    pts = np.array([[[np.array(fr[s][j]) * flip for j in ("hip", "knee", "ankle", "heel", "toe2_tip")]
                     for s in "LR"] for fr in data["frames"]])
    ang = np.array([[[fr[s]["foot_angle_deg"], fr[s]["knee_flexion_deg"],
                      fr[s].get("knee_travel_angle_deg") if fr[s].get("knee_travel_angle_deg") is not None else np.nan]
                     for s in "LR"] for fr in data["frames"]], dtype=float)
    return pts, ang


@pytest.mark.skipif(not RENDERS.is_dir(), reason="../shared/renders/dev (rendered ground truth) is not present")
@pytest.mark.parametrize("name", ["plie00", "plie05", "plie11"])
def test_metrics_match_rendered_truth(name: str) -> None:
    path = RENDERS / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    pts, ang = _render_points(path)
    m = frame_metrics(pts, 1.0, min_flexion_deg=0.0)
    np.testing.assert_allclose(m.foot_rotation_deg, ang[..., 0], atol=1e-4)
    np.testing.assert_allclose(m.knee_flexion_deg, ang[..., 1], atol=1e-4)
    bent = np.isfinite(ang[..., 2])
    np.testing.assert_allclose(m.leg_rotation_deg[bent], ang[..., 2][bent], atol=1e-4)
