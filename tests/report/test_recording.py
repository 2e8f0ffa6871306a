"""Recording checks against synthetic clips whose camera, framing and size are known."""

from __future__ import annotations

import numpy as np
import pytest

from turnout_vision.analysis.recording import check_recording, format_time
from turnout_vision.sequence import PoseSequence
from turnout_vision.synthetic import Camera, Motion, Noise, Scene, generate

MOTION = Motion(n_reps=1, rep_duration_s=2.0, lead_s=0.5, trail_s=0.5, fps=25.0)


def _codes(seq: PoseSequence, **kw) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {i.code: i.limits_verdict for i in check_recording(seq, **kw).issues}


def _clip(**camera) -> PoseSequence:  # type: ignore[no-untyped-def]
    return generate(Scene(motion=MOTION, camera=Camera(**camera)), seed=2).sequence


def test_frontal_clip_passes() -> None:
    check = check_recording(_clip())
    assert check.issues == ()
    assert not check.limits_verdict
    assert check.measures["frontality"] > 0.95
    assert check.measures["foot_px"] > 60


@pytest.mark.parametrize(("yaw", "code"), [(20, None), (45, "turned_view"), (75, "side_view"), (90, "side_view")])
def test_view_angle(yaw: float, code: str | None) -> None:
    check = check_recording(_clip(yaw_deg=yaw))
    codes = {i.code for i in check.issues}
    if code is None:
        assert not codes & {"turned_view", "side_view"}
    else:
        assert code in codes
        assert check.measures["view_yaw_deg"] == pytest.approx(yaw, abs=15)
    assert check.limits_verdict == (code == "side_view")


def test_feet_leaving_the_frame_gives_time_and_fix() -> None:
    # camera close and pitched up: the feet are below the bottom edge
    seq = _clip(distance_m=1.6, pitch_deg=12.0, height_m=1.3)
    check = check_recording(seq)
    issue = next(i for i in check.issues if i.code == "feet_out_of_frame")
    assert issue.limits_verdict
    assert "00:00" in issue.message
    assert "Move the camera back" in issue.fix and "tilt it down" in issue.fix


def test_small_feet() -> None:
    codes = _codes(_clip(distance_m=6.0, width_px=360, height_px=640))
    assert codes.get("feet_too_small") is True


def test_no_person_at_all() -> None:
    seq = _clip()
    empty = PoseSequence.empty(seq.n_frames, seq.timestamps_s, (720, 1280))
    check = check_recording(empty)
    assert [i.code for i in check.issues] == ["no_person"] and check.limits_verdict


def test_dark_video_and_camera_motion_from_image_statistics() -> None:
    seq = _clip()
    n = seq.n_frames
    dark = np.full(n, 20.0)
    steady = np.zeros((n, 2))
    shaky = np.zeros((n, 2))
    shaky[n // 2:, 0] = 3.0  # the picture slides 3 px a frame in the second half
    assert _codes(seq, brightness=dark, camera_step_px=steady) == {"too_dark": True}
    codes = _codes(seq, brightness=np.full(n, 120.0), camera_step_px=shaky)
    assert codes == {"camera_moving": True}
    issue = next(i for i in check_recording(seq, camera_step_px=shaky).issues)
    assert "tripod" in issue.fix


def test_heels_moving_without_image_statistics() -> None:
    seq = generate(Scene(motion=Motion(kind="tendu", n_reps=2, fps=25.0)), seed=1).sequence
    # a tendu slides one foot out: the heels' midpoint moves
    assert "camera_moving" in _codes(seq)


def test_noise_free_clip_and_format_time() -> None:
    seq = generate(Scene(motion=MOTION, noise=Noise.none()), seed=0).sequence
    assert check_recording(seq).issues == ()
    assert format_time(4.2) == "00:04" and format_time(75.0) == "01:15" and format_time(float("nan")) == "--:--"
