"""analyze(): per-plié values against the synthetic truth (truth lifter), flags, null + reason, the
JSON form against its schema, and the end-to-end path with the world / camera lifters (loosely)."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from turnout_vision.analysis.core import analyze
from turnout_vision.analysis.lifting import get_lifter, lift_world
from turnout_vision.analysis.result import validate
from turnout_vision.config import Config
from turnout_vision.errors import InputError
from turnout_vision.sequence import PoseSequence
from turnout_vision.analysis.lifting import FloorPoints
from turnout_vision.synthetic import Motion, Noise, Scene, SyntheticClip, generate


def truth_lifter(clip: SyntheticClip, **changes: object):  # noqa: ANN201
    """A floor method that returns the synthetic truth: checks the metric definitions exactly,
    without the camera problem (that is the camera method's own test)."""

    def lift(xy_px, world_xyz, frame_size_wh, config, toe_tip_px=None) -> FloorPoints:  # noqa: ANN001
        fp = clip.truth.floor_points()
        return dataclasses.replace(fp, **changes) if changes else fp  # type: ignore[arg-type]

    lift.name = "truth"  # type: ignore[attr-defined]
    return lift


def _run(motion: Motion, seed: int = 0, config: Config | None = None, noise: Noise | None = None, **lift_changes):  # noqa: ANN003, ANN202
    clip = generate(Scene(motion=motion, noise=noise or Noise()), seed=seed)
    result = analyze(clip.sequence, config, lifter=truth_lifter(clip, **lift_changes))
    data = json.loads(result.to_json())
    validate(data)
    return clip, result, data


CASES = [
    Motion(leg_rotation_deg=(45, 45), below_knee_rotation_deg=(15, 15)),
    Motion(leg_rotation_deg=(55, 35), below_knee_rotation_deg=(5, 25), depth_deg=(50, 40), n_reps=3),
    Motion(leg_rotation_deg=(30, 30), below_knee_rotation_deg=(0, 0), rep_duration_s=2.0),
    Motion(leg_rotation_deg=(60, 60), below_knee_rotation_deg=(30, 30), rolling_deg=(14, 3), sway_m=0.03),
]


@pytest.mark.parametrize("motion", CASES, ids=["sym", "asym", "matched", "forced_rolling_sway"])
def test_rep_values_match_truth(motion: Motion) -> None:
    clip, result, data = _run(motion)
    tr = clip.truth
    assert data["status"] == "ok"
    assert len(data["reps"]) == motion.n_reps
    for rep in data["reps"]:
        w = (tr.timestamps_s >= rep["window_s"][0]) & (tr.timestamps_s <= rep["window_s"][1])
        for s, side in enumerate(("left", "right")):
            d = rep[side]
            assert d["foot_rotation_deg"]["value"] == pytest.approx(motion.foot_rotation_deg[s], abs=0.2)
            assert d["leg_rotation_deg"]["value"] == pytest.approx(motion.leg_rotation_deg[s], abs=1.0)
            assert d["forced_turnout_deg"]["value"] == pytest.approx(motion.below_knee_rotation_deg[s], abs=1.0)
            assert d["recommended_foot_rotation_deg"]["value"] == pytest.approx(motion.leg_rotation_deg[s], abs=1.0)
            kot = float(np.median(tr.knee_over_toe_m[w, s]))
            assert d["knee_over_toe"]["offset_m"]["value"] == pytest.approx(kot, abs=0.003)
            assert d["knee_over_toe"]["ratio"]["value"] == pytest.approx(kot / tr.foot_length_m[s], abs=0.015)
            assert d["rolling_in_deg"]["value"] == pytest.approx(float(np.median(tr.rolling_deg[w, s])), abs=0.5)
            assert d["rolling_in_deg"]["value"] == pytest.approx(motion.rolling_deg[s], abs=0.2 * motion.rolling_deg[s] + 0.5)
            for key in ("foot_rotation_deg", "leg_rotation_deg", "forced_turnout_deg"):
                assert d[key]["sd"] > 0
        assert rep["depth_deg"]["value"] == pytest.approx(np.mean(motion.depth_deg), abs=0.5)
        seg = (tr.timestamps_s >= rep["start_s"]) & (tr.timestamps_s <= rep["end_s"])
        sway = np.ptp(tr.pelvis_lateral_m[seg]) / tr.hip_width_m
        assert rep["pelvis"]["sway_ratio"]["value"] == pytest.approx(sway, abs=0.02)
    for s, side in enumerate(("left", "right")):
        summ = data["summary"][side]
        assert summ["standing_foot_rotation_deg"]["value"] == pytest.approx(motion.foot_rotation_deg[s], abs=0.2)
        assert summ["forced_turnout_deg"]["value"] == pytest.approx(motion.below_knee_rotation_deg[s], abs=1.0)
    assert data["summary"]["total_foot_rotation_deg"]["value"] == pytest.approx(sum(motion.foot_rotation_deg), abs=0.4)


def test_flags_follow_thresholds() -> None:
    motion = Motion(leg_rotation_deg=(40, 50), below_knee_rotation_deg=(25, 3), rolling_deg=(15, 0))
    _, _, data = _run(motion)
    names = {(f["name"], f["side"]) for f in data["flags"]}
    assert ("forced_turnout", "left") in names
    assert ("forced_turnout", "right") not in names
    assert ("knee_inside_toes", "left") in names and ("knee_inside_toes", "right") not in names
    assert ("rolling_in", "left") in names and ("rolling_in", "right") not in names
    forced = next(f for f in data["flags"] if f["name"] == "forced_turnout")
    assert forced["recommended_foot_rotation_deg"] == pytest.approx(40, abs=1.0)
    assert forced["reps"] == [0, 1]
    assert data["summary"]["recommendations"]
    # raise the threshold above the forced part: the flag goes
    cfg = Config().merged({"flags": {"forced_turnout_deg": 30.0}})
    _, _, data = _run(motion, config=cfg)
    assert not any(f["name"] == "forced_turnout" for f in data["flags"])
    assert data["config"]["flags"]["forced_turnout_deg"] == 30.0


def test_matched_turnout_raises_no_flags() -> None:
    _, _, data = _run(Motion(leg_rotation_deg=(50, 50), below_knee_rotation_deg=(2, 2)))
    assert data["flags"] == []
    for side in ("left", "right"):
        assert data["summary"][side]["knee_over_toe"]["position"] == "over"


def test_unreliable_and_refused_quantities_are_null_with_reason() -> None:
    _, _, data = _run(Motion(), unreliable={"rolling": "cannot see the ankle tip from here"})
    roll = data["reps"][0]["left"]["rolling_in_deg"]
    assert roll == {"value": None, "reason": "cannot see the ankle tip from here"}
    assert data["summary"]["left"]["rolling_in_deg"]["value"] is None
    _, _, data = _run(Motion(), refusal="the camera looks along the floor")
    assert data["status"] == "refused"
    assert data["method"]["refusal"] == "the camera looks along the floor"
    side = data["reps"][0]["left"]
    assert side["foot_rotation_deg"]["reason"] == "the camera looks along the floor"
    assert side["knee_over_toe"]["ratio"]["value"] is None
    assert "NaN" not in json.dumps(data)


def test_no_person_and_no_plie() -> None:
    seq = PoseSequence.empty(10, np.arange(10) / 30.0, (720, 1280))
    data = analyze(seq).to_dict()
    validate(data)
    assert data["status"] == "no_person" and data["reps"] == []
    _, result, data = _run(Motion(kind="standing"))
    assert data["status"] == "no_plie" and not result.has_plie
    assert data["summary"]["left"]["standing_foot_rotation_deg"]["value"] == pytest.approx(60, abs=0.3)
    assert data["summary"]["left"]["forced_turnout_deg"]["value"] is None


def test_grand_plie_reported_but_not_summarised() -> None:
    _, _, data = _run(Motion(kind="grand_plie", depth_deg=(120, 120), n_reps=1))
    assert [r["kind"] for r in data["reps"]] == ["grand"]
    assert data["status"] == "no_plie"
    assert any(w["code"] == "grand_plie" for w in data["warnings"])


def test_frames_and_result_object() -> None:
    clip, result, data = _run(Motion())
    n = clip.sequence.n_frames
    assert result.frames["foot_rotation_deg"].shape == (n, 2)
    assert result.frame_flags["forced_turnout"].shape == (n, 2)
    assert len(data["frames"]["time_s"]) == n
    assert set(data["frames"]["phase"]) >= {"standing", "down", "bottom", "up"}
    assert result.floor_points is not None and result.floor_points.method == "truth"
    assert data["config"] == Config().to_dict()
    assert data["schema_version"] == "1.0"


def test_world_lifter_end_to_end() -> None:
    """The baseline runs end to end on noisy landmarks, finds the pliés, and under-reads turnout."""
    motion = Motion(leg_rotation_deg=(50, 50), below_knee_rotation_deg=(20, 20), n_reps=2)
    clip = generate(Scene(motion=motion), seed=3)
    cfg = Config().merged({"analysis": {"method": "world"}})
    data = json.loads(analyze(clip.sequence, cfg).to_json())
    validate(data)
    assert data["method"]["name"] == "world"
    assert len(data["reps"]) == 2
    assert any(w["code"] == "world_method" for w in data["warnings"])
    foot = data["summary"]["left"]["foot_rotation_deg"]
    assert 20 < foot["value"] < 75 and foot["sd"] >= 20
    assert data["summary"]["left"]["rolling_in_deg"]["value"] is None      # world depth cannot see it


def test_world_lifter_is_exact_without_noise() -> None:
    clip = generate(Scene(noise=Noise.none()), seed=0)
    fp = lift_world(clip.sequence.image_xy, clip.sequence.world_xyz, clip.sequence.frame_size_wh, Config())
    err = fp.points_m - clip.truth.points_m
    np.testing.assert_allclose(err[..., :2], 0.0, atol=1e-9)
    assert np.ptp(err[..., 2]) < 1e-9                       # only the floor height (toe tips) differs


def test_method_selection() -> None:
    with pytest.raises(InputError):
        analyze(generate().sequence, Config().merged({"analysis": {"method": "nonsense"}}))
    assert get_lifter("world") is lift_world
    try:
        camera = get_lifter("camera")
    except LookupError:
        pytest.skip("camera method not available in this checkout")
    assert getattr(camera, "name", "camera") == "camera"


@pytest.mark.parametrize("seed", [11, 12])
def test_camera_lifter_end_to_end_loosely(seed: int) -> None:
    """Default configuration (camera method): the pliés are found and the result is well formed."""
    try:
        get_lifter("camera")
    except LookupError:
        pytest.skip("camera method not available in this checkout")
    motion = Motion(leg_rotation_deg=(45, 45), below_knee_rotation_deg=(15, 15), n_reps=2)
    clip = generate(Scene(motion=motion), seed=seed)
    data = json.loads(analyze(clip.sequence).to_json())
    validate(data)
    assert data["method"]["requested"] == "camera"
    assert len([r for r in data["reps"] if r["kind"] == "demi"]) == 2
    for side in ("left", "right"):
        v = data["summary"][side]["foot_rotation_deg"]
        assert v["value"] is None or (math.isfinite(v["value"]) and v["sd"] > 0)


def test_config_dataclass_replace_keeps_defaults() -> None:
    cfg = dataclasses.replace(Config(), plie=dataclasses.replace(Config().plie, min_depth_deg=50.0))
    _, _, data = _run(Motion(depth_deg=(40, 40)), config=cfg)
    assert data["reps"] == []


def test_foot_only_uncertainty_and_method_notes_reach_the_result() -> None:
    """A floor method's extra foot uncertainty widens the foot's own measures of that side only (not
    leg rotation), and its notes become warnings."""
    note = "The feet look 27% shorter than expected."
    _, _, data = _run(CASES[0], foot_extra_sd_deg=np.array([10.0, 0.0]), notes=(note,))
    assert {"code": "floor_method_note", "message": note} in data["warnings"]
    left, right = data["reps"][0]["left"], data["reps"][0]["right"]
    assert left["foot_rotation_deg"]["sd"] == pytest.approx(math.hypot(right["foot_rotation_deg"]["sd"], 10.0), rel=0.02)
    assert left["forced_turnout_deg"]["sd"] > right["forced_turnout_deg"]["sd"] + 5.0
    assert left["leg_rotation_deg"]["sd"] == pytest.approx(right["leg_rotation_deg"]["sd"], rel=0.2)
