"""The "camera" floor method on synthetic clips with known truth, its refusals, and renders end to end."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from turnout_vision import landmarks as lm
from turnout_vision import synthetic as sy
from turnout_vision.analysis.camera import pose_from_extrinsics
from turnout_vision.analysis.camera_lift import LiftPriors, fit_plie, lift_camera, view_check
from turnout_vision.analysis.lifting import get_lifter
from turnout_vision.config import Config

RENDERS = Path(__file__).resolve().parents[2].parent / "shared" / "renders"

PRIORS = sy.lift_priors()  # the generator's landmarks are its anatomical points: no MediaPipe offsets


def _scene(leg: float = 45.0, forced: float = 15.0, height: float = 1.0, yaw: float = 5.0, pitch: float = -3.0,
           noise: sy.Noise | None = None) -> sy.Scene:
    return sy.Scene(
        motion=sy.Motion(leg_rotation_deg=(leg, leg), below_knee_rotation_deg=(forced, forced), depth_deg=(55, 55),
                         n_reps=1, rep_duration_s=3.0, lead_s=1.0, trail_s=1.0, fps=20.0),
        camera=sy.Camera(height_m=height, distance_m=3.2, vfov_deg=60.0, pitch_deg=pitch, yaw_deg=yaw),
        noise=noise if noise is not None else sy.Noise(pixel_sd_px=1.5, outlier_frac=0.0, dropout_frac=0.02))


def test_camera_pose_round_trip_matches_generator() -> None:
    cam = sy.Camera(height_m=0.9, distance_m=3.5, pitch_deg=-6.0, yaw_deg=12.0)
    m = sy.camera_matrices(cam)
    est = pose_from_extrinsics(m["K"], m["R"], m["t"])
    assert est.height_m == pytest.approx(0.9)
    assert np.rad2deg(est.pitch_rad) == pytest.approx(-6.0)
    assert np.rad2deg(est.azimuth_rad) == pytest.approx(12.0)
    pts = np.array([[0.1, 0.2, 0.0], [-0.2, 0.1, 0.9]])
    np.testing.assert_allclose(est.project(pts), sy.project(pts, cam)[0], atol=1e-9)
    # back-projection onto the floor inverts the projection
    np.testing.assert_allclose(est.floor_point(est.project(pts[:1])), pts[:1], atol=1e-9)


@pytest.mark.parametrize("leg,forced", [(45.0, 15.0), (60.0, 0.0), (30.0, 25.0)])
def test_recovers_foot_and_leg_rotation(leg: float, forced: float) -> None:
    clip = sy.generate(_scene(leg, forced), seed=3)
    seq = clip.sequence
    fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS)
    assert fp.refusal is None
    F = np.asarray(fp.camera["foot_rotation_deg"])
    H = np.asarray(fp.camera["leg_rotation_deg"])
    assert np.all(np.abs(F - (leg + forced)) < 7.0), F
    assert np.all(np.abs(H - leg) < 5.0), H
    # the floor points carry the same angles (heel -> foot_index, measured from +y, outward positive)
    v = fp.points_m[:, :, lm.FOOT_INDEX] - fp.points_m[:, :, lm.HEEL]
    ang = np.rad2deg(np.arctan2(np.array([1.0, -1.0]) * v[..., 0], v[..., 1]))
    np.testing.assert_allclose(np.nanmedian(ang, axis=0), F, atol=1e-6)
    assert np.all(np.isnan(fp.points_m[clip.truth.dropped]))
    assert np.all(fp.angle_sd_deg[~clip.truth.dropped] > 0)
    assert fp.method == "camera" and fp.assumptions


def test_stated_uncertainty_covers_the_error_and_grows_near_side_on() -> None:
    """Near 90 deg a frontal camera sees a foot or knee direction only through its small forward
    extent, so the stated one-sigma must grow there, and must cover the actual errors (2 sd)."""
    stated = {}
    for leg, forced in ((40.0, 5.0), (75.0, 10.0)):
        clip = sy.generate(_scene(leg, forced), seed=1)
        seq = clip.sequence
        fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS)
        sd = np.nanmedian(fp.angle_sd_deg, axis=0)
        err_F = np.asarray(fp.camera["foot_rotation_deg"]) - (leg + forced)
        err_H = np.asarray(fp.camera["leg_rotation_deg"]) - leg
        assert np.all(np.abs(err_F) <= 2 * sd) and np.all(np.abs(err_H) <= 2 * sd), (err_F, err_H, sd)
        stated[leg] = float(sd.mean())
    assert 3.0 < stated[40.0] < 6.0
    assert stated[75.0] > 1.4 * stated[40.0], stated


def test_known_camera_height_tightens_foot_rotation() -> None:
    clip = sy.generate(_scene(50.0, 10.0, height=1.3, pitch=-8.0), seed=5)
    seq = clip.sequence
    cfg = Config().merged({"camera.camera_height_m": 1.3, "camera.vfov_deg": 60.0})
    fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, cfg, priors=PRIORS)
    assert fp.refusal is None
    assert np.all(np.abs(np.asarray(fp.camera["foot_rotation_deg"]) - 60.0) < 6.0)
    assert fp.camera["height_m"] == pytest.approx(1.3, abs=0.05)


def test_leg_rotation_stops_at_sideways_and_says_so() -> None:
    """Knee landmarks travelling backwards (a geometric H = 100 deg, the mirror image of a forward
    travel) are read at the 90 deg limit with a note, not as a knee moving behind the body (the
    knees-outside-toes prior, which would hold them near the feet' 85 deg, is off here)."""
    priors = dataclasses.replace(PRIORS, knees_outside_toes_deg=(0.0, float("inf")))
    for leg, forced, at_limit in ((100.0, -15.0, True), (60.0, 10.0, False)):
        clip = sy.generate(_scene(leg, forced, height=1.2), seed=3)
        seq = clip.sequence
        fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=priors)
        H = np.asarray(fp.camera["leg_rotation_deg"])
        assert np.all(H <= 90.0 + 1e-9), H
        assert any("90 deg limit" in n for n in fp.notes) == at_limit, (H, fp.notes)
        if at_limit:
            np.testing.assert_allclose(H, 90.0, atol=0.5)
            assert np.all(np.abs(np.asarray(fp.camera["foot_rotation_deg"]) - 85.0) < 5.0)


def test_knees_outside_the_toes_are_held_near_the_feet_and_said() -> None:
    """Knees travelling 8 deg outside the toes (leg 58, foot 50): the one-sided prior
    (``LiftPriors.knees_outside_toes_deg``) pulls the two readings towards each other by a few degrees
    only where the view shows them well, and the result says so; without the prior they read as they are.
    Knees over or inside the toes get no note."""
    clip = sy.generate(_scene(58.0, -8.0), seed=3)
    seq = clip.sequence
    readings = {}
    off = dataclasses.replace(PRIORS, knees_outside_toes_deg=(0.0, float("inf")))
    for name, priors in (("prior", PRIORS), ("off", off)):
        fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=priors)
        readings[name] = np.asarray(fp.camera["leg_rotation_deg"]) - np.asarray(fp.camera["foot_rotation_deg"])
        assert any("outside the toes" in n for n in fp.notes) == (name == "prior"), fp.notes
    assert np.all(np.abs(readings["off"] - 8.0) < 3.0), readings
    assert np.all((readings["prior"] > 1.5) & (readings["prior"] < readings["off"] - 1.5)), readings
    clip = sy.generate(_scene(45.0, 15.0), seed=3)
    fp = lift_camera(clip.sequence.image_xy, None, clip.sequence.frame_size_wh, Config(), priors=PRIORS)
    assert not any("outside the toes" in n for n in fp.notes), fp.notes


def test_registered_as_camera_method() -> None:
    assert get_lifter("camera") is lift_camera


def test_refuses_side_view() -> None:
    clip = sy.generate(_scene(yaw=85.0, noise=sy.Noise.none()), seed=0)
    seq = clip.sequence
    fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS)
    assert fp.refusal is not None and "side view" in fp.refusal
    assert fp.camera["refusal_kind"] == "view"
    assert np.all(np.isnan(fp.points_m))


def test_view_refusal_wins_over_no_plie() -> None:
    """A side view with no plié in it (e.g. a squat filmed from the side) is answered with the refusal."""
    from turnout_vision.analysis.core import analyze

    scene = _scene(yaw=85.0, noise=sy.Noise.none())
    scene = dataclasses.replace(scene, motion=dataclasses.replace(scene.motion, kind="standing"))
    data = analyze(sy.generate(scene, seed=0).sequence).to_dict()
    assert data["status"] == "refused"
    assert "side view" in data["status_reason"]


def test_refuses_grazing_view() -> None:
    scene = _scene(height=0.15, pitch=3.0, noise=sy.Noise.none())
    scene = dataclasses.replace(scene, camera=dataclasses.replace(scene.camera, distance_m=4.5))
    clip = sy.generate(scene, seed=0)
    seq = clip.sequence
    cfg = Config().merged({"camera.camera_height_m": 0.15})
    fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, cfg, priors=PRIORS)
    assert fp.refusal is not None and "along the floor" in fp.refusal
    # with the height measured its uncertainty is small: the tested view is the fitted one, about 2 deg
    assert fp.camera["floor_view_high_deg"] == pytest.approx(fp.camera["floor_view_deg"], abs=0.5)
    assert fp.camera["floor_view_deg"] < 3.5


def test_grazing_refusal_allows_for_the_uncertain_camera_height() -> None:
    """Without a measured height the fitted one is uncertain by about 0.13 m: the refusal tests the view
    from a camera that much higher. 0.15 m (true view 1.9 deg) is refused; 0.6 m (7.6 deg) is measured."""
    for height, refused in ((0.15, True), (0.6, False)):
        scene = _scene(height=height, pitch=3.0, noise=sy.Noise.none())
        scene = dataclasses.replace(scene, camera=dataclasses.replace(scene.camera, distance_m=4.5))
        seq = sy.generate(scene, seed=0).sequence
        fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS)
        cam = fp.camera
        assert 0.05 < cam["height_sd_m"] < 0.3
        assert cam["floor_view_high_deg"] > cam["floor_view_deg"] + 1.0
        assert (fp.refusal is not None) == refused, fp.refusal
        if refused:
            assert "at most" in fp.refusal and "raise the camera" in fp.refusal
        else:   # measured 60.8 / 61.0 deg (truth 60)
            np.testing.assert_allclose(cam["foot_rotation_deg"], 60.0, atol=3.0)


def test_refuses_mirrored_or_back_view_and_too_few_frames() -> None:
    clip = sy.generate(_scene(noise=sy.Noise.none()), seed=0)
    xy = clip.sequence.image_xy[:, lm.LEG_INDEX].copy()
    mirrored = xy.copy()
    mirrored[..., 0] = 720 - mirrored[..., 0]
    assert "mirrored" in view_check(mirrored)
    assert "frames" in view_check(np.full((30, 2, 5, 2), np.nan))


def test_fixed_true_camera_exact_landmarks() -> None:
    """With the true camera and noise-free landmarks the model reproduces the truth closely."""
    clip = sy.generate(_scene(40.0, 20.0, noise=sy.Noise.none()), seed=0)
    m = clip.truth.camera
    cam = pose_from_extrinsics(np.array(m["K"]), np.array(m["R_floor_to_cam"]), np.array(m["t_floor_to_cam"]))
    fit = fit_plie(clip.sequence.image_xy[:, lm.LEG_INDEX], clip.sequence.frame_size_wh, fixed_camera=cam, priors=PRIORS)
    # measured 58.2-59.9 deg (foot) and 39.9-40.3 deg (leg) for prior weights 1-3: the body priors
    # (foot length, heel and toe heights) pull the foot angle by up to 2 deg where this body differs
    np.testing.assert_allclose(fit.foot_rotation_deg, 60.0, atol=2.5)
    np.testing.assert_allclose(fit.leg_rotation_deg, 40.0, atol=1.0)
    assert fit.rms_px < 0.5


@pytest.mark.slow
@pytest.mark.parametrize("name", ["plie08", "plie09"])
def test_rendered_clip_end_to_end(name: str) -> None:
    video = RENDERS / "dev" / f"{name}.mp4"
    if not video.is_file():
        pytest.skip(f"rendered clips are not available ({RENDERS} is absent)")
    from turnout_vision.extract import extract

    truth = json.loads(video.with_suffix(".json").read_text())["params"]
    seq = extract(str(video), Config())
    fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), toe_tip_px=seq.toe_tip_xy)
    assert fp.refusal is None and fp.camera["toe_source"] == "mask"
    F = np.asarray(fp.camera["foot_rotation_deg"])
    H = np.asarray(fp.camera["leg_rotation_deg"])
    # measured: these clips are within 3 deg (foot) and 1 deg (leg); the margins allow for model drift
    assert np.all(np.abs(F - truth["F"]) < 10.0), F
    assert np.all(np.abs(H - truth["H"]) < 7.0), H


@pytest.mark.slow
@pytest.mark.parametrize("name,toe", [
    ("plie02", "foot_index"), ("plie04", "foot_index"), ("plie04", "mask"), ("plie02", "mask")])
def test_rendered_near_sideways_legs_read_right_and_unforced(name: str, toe: str) -> None:
    """plie02 and plie04: feet and legs at 78.5 and 79.7 deg (knees over the toes), where a foot's forward
    extent is a few pixels and 3 mm of knee position move the leg rotation by 10 deg. Feet: with one look
    per frame 89-91 deg, with the mirrored look averaged in (the default) within 2 deg. Legs: with the
    knee's offsets along its travel they read 63 / 71 deg (plie02 flagged as forced by 16-17 deg); with
    the offsets in the body's frame and the knees-outside-toes prior 71 / 80-81, not flagged; with the
    mask's toe tips plie02's legs read 66 (flagged) until MediaPipe's offsets scaled with the fitted leg
    length (81 now: the fit had shrunk the body to 0.79 m of leg, truth 0.94). ``toe``: the fit's toe
    observation (MediaPipe's foot_index, or the mask's tips as ``analyze`` uses)."""
    video = RENDERS / "dev" / f"{name}.mp4"
    if not video.is_file():
        pytest.skip(f"rendered clips are not available ({RENDERS} is absent)")
    from turnout_vision.extract import extract

    truth = json.loads(video.with_suffix(".json").read_text())["params"]
    seq = extract(str(video), Config())
    assert seq.meta["mirror_average"] and seq.meta["mirror_rejected_frames"] == 0
    tips = seq.toe_tip_xy if toe == "mask" else None
    fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), toe_tip_px=tips)
    assert fp.camera["toe_source"] == toe
    assert fp.refusal is None
    F = np.asarray(fp.camera["foot_rotation_deg"])
    H = np.asarray(fp.camera["leg_rotation_deg"])
    np.testing.assert_allclose(F, truth["F"], atol=5.0)
    np.testing.assert_allclose(H, truth["H"], atol=8.0)
    assert np.all(F - H < Config().flags.forced_turnout_deg), F - H


def test_knee_offsets_in_the_body_frame_do_not_turn_with_the_leg() -> None:
    """``landmark_basis``: hip and (by default) knee offsets in the body's frame (outward, towards the
    camera, up) whatever the leg rotation; with ``knee_turn=1`` the knee's frame follows its travel."""
    from turnout_vision.analysis.camera_lift import landmark_basis

    F, H = np.deg2rad([70.0, 70.0]), np.deg2rad([80.0, 80.0])
    body = landmark_basis(F, H, 0.0)
    np.testing.assert_allclose(body[:, 1], body[:, 0])
    np.testing.assert_allclose(body[0, 0], np.eye(3))                       # left side: +x is outward
    np.testing.assert_allclose(body[1, 0, 0], [-1.0, 0.0, 0.0])             # right side: -x is outward
    travel = landmark_basis(F, H, 1.0)
    np.testing.assert_allclose(travel[0, 1, 1], [np.sin(H[0]), np.cos(H[0]), 0.0])   # forward = travel
    np.testing.assert_allclose(travel[1, 4, 1], [-np.sin(F[1]), np.cos(F[1]), 0.0])  # toes: the foot axis


def test_priors_keep_their_gaussian_cost_under_the_robust_loss():
    """The soft-L1 loss applied by least_squares to a pre-distorted prior residual gives back r**2."""
    from turnout_vision.analysis.camera_lift import F_SCALE, _ungated

    r = np.linspace(-12.0, 12.0, 25)
    rp = _ungated(r)
    rho = 2.0 * F_SCALE**2 * (np.sqrt(1.0 + (rp / F_SCALE) ** 2) - 1.0)
    assert np.allclose(rho, r**2)


def test_a_foot_at_odds_with_the_leg_is_noted_and_widens_the_foot_uncertainty() -> None:
    """A foot far longer than the leg implies (0.20 of stature against the prior's 0.152) cannot be
    explained by the turnout: the fit's foot length conflicts with its prior, which is noted, and the
    foot's (not the leg's) uncertainty grows by about the angle that conflict can move."""
    clip = sy.generate(_scene(45.0, 10.0), seed=2)
    seq = clip.sequence
    fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS)
    assert fp.notes == () and np.all(fp.foot_extra_sd_deg == 0.0)
    odd = sy.generate(dataclasses.replace(_scene(45.0, 10.0), body=sy.Body(foot_length_ratio=0.20)), seed=2).sequence
    fp = lift_camera(odd.image_xy, odd.world_xyz, odd.frame_size_wh, Config(), priors=PRIORS)
    assert fp.refusal is None
    assert len(fp.notes) == 1 and "longer than expected" in fp.notes[0]
    F = np.deg2rad(np.asarray(fp.camera["foot_rotation_deg"]))
    assert np.all(fp.foot_extra_sd_deg > np.rad2deg(np.tan(F) * 0.15)), fp.foot_extra_sd_deg   # >= 15 % conflict


def test_jacobian_sparsity_matches_the_residuals() -> None:
    """Every residual that moves when a parameter moves is declared in ``sparsity()``: a wrong pattern
    makes least_squares' grouped finite differences assign derivatives to the wrong rows (it did: the
    knee-flexion smoothness rows were ordered frame by frame but declared side by side, which biased
    leg rotation by -2 deg on the synthetic sweep)."""
    from turnout_vision.analysis.camera_lift import NG, _initial_guess, _Problem

    clip = sy.generate(_scene(45.0, 10.0), seed=0)
    obs = clip.sequence.image_xy[:, lm.LEG_INDEX][~clip.truth.dropped][::12][:8]     # 8 frames
    W, H = clip.sequence.frame_size_wh
    prob = _Problem(obs=obs, w_obs=np.ones(obs.shape), f0=1000.0, cx=W / 2, cy=H / 2, priors=PRIORS,
                    focal_known=False, height_known=None)
    rng = np.random.default_rng(0)
    p0 = _initial_guess(obs, 1000.0, W / 2, H / 2, PRIORS, None, 50.0)
    p0[NG:] += rng.normal(0, 0.05, p0.size - NG)              # a generic point: no accidental zeros
    r0 = prob.residuals(p0)
    J = np.empty((r0.size, p0.size))
    for k in range(p0.size):
        p = p0.copy()
        p[k] += 1e-6
        J[:, k] = (prob.residuals(p) - r0) / 1e-6
    declared = prob.sparsity().toarray() != 0
    assert declared.shape == J.shape
    undeclared = (np.abs(J) > 1e-6) & ~declared
    assert not undeclared.any(), np.argwhere(undeclared)[:5]


def test_plie_seen_from_the_legs_image_length() -> None:
    """A standing clip does not count as showing a plié (so a grazing-view refusal yields to "no plié"),
    a 40-degree demi-plié does."""
    from turnout_vision.analysis.camera_lift import plie_seen

    standing = sy.generate(dataclasses.replace(_scene(), motion=sy.Motion(kind="standing", n_reps=1)), seed=3)
    plie = sy.generate(dataclasses.replace(_scene(), motion=sy.Motion(depth_deg=(40, 40), n_reps=1)), seed=3)
    assert not plie_seen(standing.sequence.image_xy[:, lm.LEG_INDEX])
    assert plie_seen(plie.sequence.image_xy[:, lm.LEG_INDEX])


def test_heels_seen_apart_are_measured_held_together_and_said() -> None:
    """Loose trousers emulated: heels touching (gap 1 cm), but the heel and ankle landmarks drawn 4 cm
    further out each side (where MediaPipe follows the cloth). The first fit opens the heel gap and reads
    the feet 12 deg low; seeing the heels apart, the method fits again with them held together and the
    heel and ankle landmarks trusted less, says so, and states the change as extra foot uncertainty (the
    clean clip gets none of this)."""
    leg, forced = 40.0, 15.0
    clip = sy.generate(_scene(leg, forced), seed=4)
    seq = clip.sequence
    clean = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS)
    assert clean.notes == () and np.all(clean.foot_extra_sd_deg == 0.0) and "heels_apart_fit" not in clean.camera
    wide = clip.truth.points_m.copy()
    wide[:, :, [lm.ANKLE, lm.HEEL], 0] += np.array([0.04, -0.04])[None, :, None]      # outward per side
    xy = np.array(seq.image_xy)
    for j in (lm.ANKLE, lm.HEEL):
        drawn = sy.project(wide[:, :, j], clip.truth.scene.camera)[0]
        xy[:, lm.LEG_INDEX[:, j]] = np.where(np.isfinite(xy[:, lm.LEG_INDEX[:, j]]), drawn, np.nan)
    fp = lift_camera(xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS)
    assert fp.refusal is None
    first = fp.camera["heels_apart_fit"]
    assert first["heel_gap_m"] > 0.05 and fp.camera["body"]["heel_gap_m"] < 0.03
    assert any("heels look about" in note for note in fp.notes), fp.notes
    err_first = (leg + forced) - np.asarray(first["foot_rotation_deg"])
    err = np.abs((leg + forced) - np.asarray(fp.camera["foot_rotation_deg"]))
    assert np.all(err_first > 8.0), err_first                       # read low, as on the real clip
    assert np.all(err < 4.0), err
    np.testing.assert_allclose(fp.foot_extra_sd_deg, err_first - ((leg + forced) - np.asarray(
        fp.camera["foot_rotation_deg"])), atol=1e-6)
    assert np.all(np.abs(np.asarray(fp.camera["leg_rotation_deg"]) - leg) < 5.0)


def _true_tips(clip: sy.SyntheticClip, sd_px: float = 1.0, seed: int = 0) -> np.ndarray:
    """(T, 2, 2) the toe tips' true projections plus noise: what the mask's tips emulate."""
    tips = sy.project(clip.truth.points_m[:, :, lm.FOOT_INDEX], clip.truth.scene.camera)[0]
    return tips + np.random.default_rng(seed).normal(0, sd_px, tips.shape)


def test_mask_toe_tips_replace_a_short_foot_index() -> None:
    """MediaPipe-like foot_index 5 cm short of the tips: given the true tips (as the person mask finds them)
    the fit reads the feet within 4 deg; with foot_index alone it misses them by more."""
    leg, forced = 45.0, 20.0
    clip = sy.generate(_scene(leg, forced, noise=sy.Noise(pixel_sd_px=1.5, outlier_frac=0.0, dropout_frac=0.0,
                                                         mediapipe_bias=True, heel_raise_m=0.0)), seed=5)
    seq = clip.sequence
    tips = _true_tips(clip)
    with_tips = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS, toe_tip_px=tips)
    without = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS)
    assert with_tips.camera["toe_source"] == "mask" and without.camera["toe_source"] == "foot_index"
    err_tips = np.abs(np.asarray(with_tips.camera["foot_rotation_deg"]) - (leg + forced))
    err_mp = np.abs(np.asarray(without.camera["foot_rotation_deg"]) - (leg + forced))
    assert np.all(err_tips < 4.0), err_tips
    assert err_mp.mean() > err_tips.mean() + 2.0, (err_mp, err_tips)


def test_too_few_mask_tips_fall_back_to_foot_index() -> None:
    clip = sy.generate(_scene(), seed=3)
    seq = clip.sequence
    tips = _true_tips(clip)
    tips[::2] = np.nan                                     # found in only half of the frames
    fp = lift_camera(seq.image_xy, seq.world_xyz, seq.frame_size_wh, Config(), priors=PRIORS, toe_tip_px=tips)
    assert fp.camera["toe_source"] == "foot_index"


def test_mask_tip_priors_swap_only_the_toe_row() -> None:
    p = LiftPriors(mask_tip_offset_m=(0.001, 0.002, 0.003), mask_tip_pixel_sd=3.0)
    q = p.with_mask_tips()
    assert q.landmark_offset_m[:4] == p.landmark_offset_m[:4] and q.landmark_offset_m[4] == (0.001, 0.002, 0.003)
    assert q.pixel_sd[:4] == p.pixel_sd[:4] and q.pixel_sd[4] == 3.0
