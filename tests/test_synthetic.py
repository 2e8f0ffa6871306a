"""The synthetic generator: its truth is self-consistent and its landmarks follow the real container."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from turnout_vision import landmarks as lm
from turnout_vision.synthetic import (MOVEMENTS, Camera, Motion, Noise, Scene, camera_matrices, generate, project,
                                      random_scene)


@pytest.mark.parametrize("kind", MOVEMENTS)
def test_body_is_rigid_and_feet_planted(kind: str) -> None:
    clip = generate(Scene(motion=Motion(kind=kind, depth_deg=(120, 120) if kind == "grand_plie" else (40, 40))), seed=0)
    pts = clip.truth.points_m
    b = clip.truth.scene.body
    thigh = np.linalg.norm(pts[:, :, lm.KNEE] - pts[:, :, lm.HIP], axis=-1)
    shank = np.linalg.norm(pts[:, :, lm.ANKLE] - pts[:, :, lm.KNEE], axis=-1)
    np.testing.assert_allclose(thigh, b.thigh_m, atol=1e-9)
    np.testing.assert_allclose(shank, b.shank_m, atol=1e-9)
    if kind != "tendu":
        heel = pts[:, :, lm.HEEL]
        np.testing.assert_allclose(heel, heel[:1].repeat(len(heel), 0), atol=1e-12)
        np.testing.assert_allclose(heel[0, :, :2].mean(axis=0), 0.0, atol=1e-12)   # origin between the heels
    assert clip.sequence.image_xy.shape == (clip.sequence.n_frames, 33, 2)


def test_projection_and_sides() -> None:
    clip = generate(Scene(noise=Noise.none()), seed=0)
    seq, tr = clip.sequence, clip.truth
    uv, depth = project(tr.all_points_m, clip.truth.scene.camera)
    np.testing.assert_allclose(seq.image_xy, uv, atol=1e-9)
    assert (depth > 0).all()
    # facing the camera, the dancer's left appears on the image's right
    assert (seq.image_xy[:, lm.LEFT_HIP, 0] > seq.image_xy[:, lm.RIGHT_HIP, 0]).all()
    assert (seq.image_xy[:, lm.NOSE, 1] < seq.image_xy[:, lm.LEFT_HIP, 1]).all()     # head above hips
    # OpenCV convention: [u, v, 1] ~ K (R x + t)
    m = camera_matrices(clip.truth.scene.camera)
    p = tr.all_points_m[0, lm.LEFT_KNEE]
    h = m["K"] @ (m["R"] @ p + m["t"])
    np.testing.assert_allclose(h[:2] / h[2], seq.image_xy[0, lm.LEFT_KNEE], atol=1e-9)
    # world landmarks: metres around the hips, x = image right, y down
    hips = seq.world_xyz[:, [lm.LEFT_HIP, lm.RIGHT_HIP]].mean(axis=1)
    np.testing.assert_allclose(hips, 0.0, atol=1e-9)
    assert (seq.world_xyz[:, lm.LEFT_ANKLE, 1] > 0.5).all()


def test_truth_angles_are_the_commanded_ones() -> None:
    motion = Motion(leg_rotation_deg=(35, 55), below_knee_rotation_deg=(20, 5), depth_deg=(50, 50))
    tr = generate(Scene(motion=motion), seed=1).truth
    np.testing.assert_allclose(tr.foot_rotation_deg, np.broadcast_to([55, 60], tr.foot_rotation_deg.shape), atol=1e-9)
    bottom = np.argmax(tr.knee_flexion_deg[:, 0])
    np.testing.assert_allclose(tr.knee_flexion_deg[bottom], 50, atol=0.5)
    np.testing.assert_allclose(tr.knee_travel_deg[bottom], [35, 55], atol=1.0)
    assert np.isnan(tr.knee_travel_deg[0]).all()                         # straight legs: undefined
    assert len(tr.plies) == motion.n_reps


def test_noise_dropouts_and_bias() -> None:
    scene = Scene(noise=Noise(pixel_sd_px=2.0, dropout_frac=0.05))
    clip = generate(scene, seed=3)
    exact = generate(dataclasses.replace(scene, noise=Noise.none()), seed=3)
    seq = clip.sequence
    assert 0.03 < (~seq.detected).mean() < 0.08
    assert np.isnan(seq.image_xy[clip.truth.dropped]).all()
    diff = (seq.image_xy - exact.sequence.image_xy)[seq.detected]
    assert 1.0 < np.median(np.abs(diff)) * 1.4826 < 3.0
    assert np.all(np.diff(seq.timestamps_s) > 0)
    biased = generate(dataclasses.replace(scene, noise=dataclasses.replace(Noise.none(), mediapipe_bias=True)), seed=3)
    heel = biased.sequence.image_xy[:, lm.LEFT_HEEL] - exact.sequence.image_xy[:, lm.LEFT_HEEL]
    toe = biased.sequence.image_xy[:, lm.LEFT_FOOT_INDEX] - exact.sequence.image_xy[:, lm.LEFT_FOOT_INDEX]
    assert (heel[:, 1] < -5).all()                                       # heel landmark above the floor contact
    assert (np.linalg.norm(toe, axis=1) > 5).all()                       # foot_index short of the toe tip
    # world depth is compressed and the toes pulled towards the camera
    w = clip.sequence.world_xyz
    assert np.nanmedian(w[:, lm.LEFT_FOOT_INDEX, 2] - w[:, lm.LEFT_HEEL, 2]) < -0.1


def test_random_scenes_within_ranges_and_in_frame() -> None:
    rng = np.random.default_rng(7)
    for _ in range(15):
        s = random_scene(rng)
        c = s.camera
        assert 0.3 <= c.height_m <= 1.5 and 2 <= c.distance_m <= 5 and 40 <= c.vfov_deg <= 75
        assert -15 <= c.pitch_deg <= 15 and abs(c.yaw_deg) <= 30
        assert 1 <= s.noise.pixel_sd_px <= 3
        xy = generate(dataclasses.replace(s, noise=Noise.none())).sequence.image_xy[:, lm.LEG_INDEX.ravel()]
        assert (xy[..., 0] > 0).all() and (xy[..., 0] < c.width_px).all()
        assert (xy[..., 1] > 0).all() and (xy[..., 1] < c.height_px).all()


def test_camera_yaw_moves_towards_the_dancers_left() -> None:
    m = camera_matrices(Camera(yaw_deg=20.0))
    assert m["centre_m"][0] > 0 and m["centre_m"][1] > 0


def test_unknown_movement_is_an_error() -> None:
    with pytest.raises(ValueError, match="motion.kind"):
        generate(Scene(motion=Motion(kind="pirouette")))
