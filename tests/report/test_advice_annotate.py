"""Plain-language verdicts from known numbers, and the overlay renderer (draws only)."""

from __future__ import annotations

import numpy as np
import pytest

from turnout_vision import landmarks as lm
from turnout_vision.analysis.recording import RecordingCheck, RecordingIssue
from turnout_vision.report.advice import make_verdict
from turnout_vision.report.annotate import AnnotationStyle, Annotator, FrameOverlay
from turnout_vision.report.view import RepView, ReportView, SideView, build_view


def _view(left: SideView, right: SideView, reps: int = 1, issues=(), hips: bool = False) -> ReportView:  # type: ignore[no-untyped-def]
    rv = tuple(RepView(i + 1, 1.0, 2.0, 3.0, 50, 50.0, sides=(left, right)) for i in range(reps))
    return ReportView(sides=(left, right), reps=rv, times_s=np.arange(100) / 25.0, series={},
                      hips_unstable=hips, pelvis_motion_deg=7.0 if hips else float("nan"),
                      no_plie=reps == 0, recording=RecordingCheck(tuple(issues)))


FORCED = SideView("left", 70.0, 55.0, 15.0, -0.3, float("nan"), 4.0, ("forced_turnout", "knee_inside_toes"))
GOOD = SideView("right", 52.0, 50.0, 2.0, 0.02, float("nan"), 4.0, ())


def test_forced_turnout_advice_names_the_target_angle() -> None:
    v = make_verdict(_view(FORCED, GOOD))
    assert v.confident
    assert v.headline.startswith("Forced turnout (1 demi-plié): the left foot is")
    assert "15° ± 4° of the foot's turnout is forced" in v.per_leg[0]
    assert "knee falls inside the toes" in v.per_leg[0]
    assert "comes from the hip" in v.per_leg[1] and "travels over the toes" in v.per_leg[1]
    assert v.changes[0].startswith("Bring your left foot in to about 55°")


def test_all_good_and_rolling_and_hips() -> None:
    v = make_verdict(_view(SideView("left", 50, 49, 1, 0.0), GOOD, reps=2))
    assert v.headline.startswith("Turnout comes from the hips (2 demi-pliés)")
    assert v.changes[0].startswith("Nothing to correct")
    rolling = SideView("left", 50, 49, 1, 0.0, 12.0, 3.0, ("rolling_in",))
    v = make_verdict(_view(rolling, GOOD, hips=True))
    assert any("rolls forward onto the arch (by about 12°)" in c for c in v.changes)
    assert any(c.startswith("Your hips move during the plié (up to 7°)") for c in v.changes)


def test_a_difference_within_its_uncertainty_of_the_threshold_is_not_called_good() -> None:
    """6° ± 8° of forced turnout may well be 14°: the verdict must not say "comes from the hip"."""
    unsure = SideView("left", 61.0, 55.0, 6.0, 0.01, float("nan"), 8.0, ())
    v = make_verdict(_view(unsure, GOOD))
    assert v.headline.startswith("Turnout probably comes from the hips (1 demi-plié), but the measurement")
    assert "left leg" in v.headline and "right" not in v.headline
    assert "cannot be ruled out" in v.per_leg[0] and "probably" not in v.per_leg[1]
    assert any(c.startswith("To be sure, film again") for c in v.changes)


def test_recording_problems_make_the_verdict_tentative_or_absent() -> None:
    feet = RecordingIssue("feet_out_of_frame", "Your feet leave the picture at 00:04.", "Move the camera back.", True)
    v = make_verdict(_view(FORCED, GOOD, issues=[feet]))
    assert not v.confident and v.headline.startswith("Tentative")
    assert v.caveats == ("Your feet leave the picture at 00:04. Move the camera back.",)
    side = RecordingIssue("side_view", "The camera sees you from the side.", "Put the camera in front.", True)
    v = make_verdict(_view(FORCED, GOOD, issues=[side]))
    assert "cannot support a turnout verdict" in v.headline and v.per_leg == ()
    v = make_verdict(_view(FORCED, GOOD, reps=0))
    assert v.headline.startswith("No demi-plié was found") and not v.confident


def test_build_view_reads_wrapped_numbers_and_flag_forms() -> None:
    data = {"summary": {"left": {"foot_rotation_deg": {"value": 70.0, "sd": 3.0}, "leg_rotation_deg": 55.0,
                                 "flags": ["forced_turnout"]},
                        "right": {"foot_rotation_deg": 50.0, "leg_rotation_deg": 49.0}},
            "flags": {"knee_inside_toes": {"raised": True, "sides": ["left"]}, "hips_unstable": False},
            "reps": [{"start_s": 1.0, "bottom_s": 2.0, "end_s": 3.0}], "warnings": [{"code": "x", "message": "m"}]}
    view = build_view(None, data, np.arange(100) / 25.0)
    left, right = view.sides
    assert (left.foot_rotation_deg, left.leg_rotation_deg, left.forced_turnout_deg) == (70.0, 55.0, 15.0)
    assert set(left.flags) == {"forced_turnout", "knee_inside_toes"} and right.flags == ()
    assert view.reps[0].bottom_frame == 50 and view.warnings == ("m",) and not view.hips_unstable


def _overlay(inside: tuple[bool, bool]) -> FrameOverlay:
    P = np.full((lm.NUM_LANDMARKS, 2), np.nan)
    for s, x in enumerate((220.0, 100.0)):  # dancer's left is on the image's right
        P[lm.LEG_INDEX[s]] = [[x - 10 * (1 - 2 * s), 100], [x, 200], [x - 20 * (1 - 2 * s), 300],
                              [160 + 5 * (1 - 2 * s), 310], [x + 10 * (1 - 2 * s), 330]]
    arrows = np.stack([P[lm.LEG_INDEX[s][[lm.HEEL, lm.FOOT_INDEX]]] for s in range(2)])
    return FrameOverlay(1.5, P, arrows, arrows + [[0, 0], [5, -5]], (("foot 70 deg",), ("foot 50 deg",)), inside,
                        "plié 1: bottom")


def test_annotator_draws_without_touching_the_input() -> None:
    frame = np.full((360, 320, 3), 128, np.uint8)
    before = frame.copy()
    plain = Annotator().annotate(frame, _overlay((False, False)))
    red = Annotator(AnnotationStyle()).annotate(frame, _overlay((True, False)))
    assert np.array_equal(frame, before)
    assert plain.shape == frame.shape and plain.dtype == np.uint8
    assert (np.abs(plain.astype(int) - 128).sum(axis=2) > 60).mean() > 0.02

    def reddish(img: np.ndarray) -> int:
        b, g, r = (img[..., k].astype(int) for k in range(3))
        return int(((r > 180) & (g < 90) & (b < 90)).sum())

    assert reddish(red) > reddish(plain) + 100


def test_annotator_tolerates_a_frame_without_a_person() -> None:
    frame = np.zeros((100, 80, 3), np.uint8)
    out = Annotator().annotate(frame, FrameOverlay(0.0, np.full((lm.NUM_LANDMARKS, 2), np.nan)))
    assert out.shape == frame.shape


@pytest.mark.parametrize("size", [(64, 48), (65, 49)])
def test_video_writer_frame_count(tmp_path, size) -> None:  # type: ignore[no-untyped-def]
    import cv2

    from turnout_vision.report.video_out import VideoWriter

    path = tmp_path / "v.mp4"
    with VideoWriter(path, 29.97, size) as w:
        for i in range(12):
            w.write(np.full((size[1], size[0], 3), i * 20, np.uint8))
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 12 and cap.get(cv2.CAP_PROP_FPS) == pytest.approx(29.97, abs=0.01)
    cap.release()


def test_video_writer_keeps_colours(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Frames go to the encoder as yuv420p: blue, green, red and grey blocks decode as themselves
    (swapped chroma planes or a wrong range would shift them by tens of levels)."""
    import cv2

    from turnout_vision.report.video_out import VideoWriter

    colours = np.array([(200, 40, 30), (30, 180, 60), (40, 50, 210), (128, 128, 128)], np.uint8)  # BGR
    frame = np.repeat(np.repeat(colours[None], 64, axis=0), 64, axis=1)      # (64, 256, 3) four blocks
    path = tmp_path / "c.mp4"
    with VideoWriter(path, 25.0, (256, 64)) as w:
        for _ in range(5):
            w.write(frame)
    cap = cv2.VideoCapture(str(path))
    ok, decoded = cap.read()
    cap.release()
    assert ok
    centres = decoded[16:48].reshape(32, 4, 64, 3)[:, :, 16:48].mean(axis=(0, 2))   # (4, 3) per block
    np.testing.assert_allclose(centres, colours.astype(float), atol=6.0)
