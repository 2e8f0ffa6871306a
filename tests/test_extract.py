"""Landmark extraction on real footage: detection, anatomy, file format, bad input, native logs."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from turnout_vision import PoseSequence
from turnout_vision import landmarks as lm
from turnout_vision.config import Config, ModelConfig
from turnout_vision.errors import EXIT_BAD_INPUT, EXIT_NO_PLIE
from turnout_vision.extract import NO_PERSON_WARNING, FramePose, PoseTracker, average_poses, extract, unmirror
from turnout_vision.pose_model import ResolvedModel

pytestmark = pytest.mark.slow

TITLE_CARD_END = 40
"""ballet_plie.mp4 shows the title card "Plié" for ~1.6 s = ~40 frames at 25 fps (footage README)."""
LEGS = [lm.LEFT_HIP, lm.RIGHT_HIP, lm.LEFT_KNEE, lm.RIGHT_KNEE, lm.LEFT_ANKLE, lm.RIGHT_ANKLE,
        lm.LEFT_HEEL, lm.RIGHT_HEEL, lm.LEFT_FOOT_INDEX, lm.RIGHT_FOOT_INDEX]


@pytest.fixture(scope="module")
def plie(footage, built_pose_model: ResolvedModel) -> PoseSequence:  # type: ignore[no-untyped-def]
    return extract(footage("wikimedia/ballet_plie.mp4"), model=built_pose_model)


# ------------------------------------------------------------------------------------------ real clip
def test_plie_pose_found_after_title_card_and_never_on_it(plie: PoseSequence) -> None:
    detected = plie.detected
    first = int(np.argmax(detected))
    assert abs(first - TITLE_CARD_END) <= 5, f"first pose at frame {first}"
    assert not detected[: TITLE_CARD_END - 5].any(), "a pose on the title card"
    rate = detected[TITLE_CARD_END + 5:].mean()
    assert rate >= 0.95, f"pose in only {rate:.1%} of the frames after the title card"
    # frames without a person are NaN rows in every per-frame array, never zeros
    for name in ("image_xy", "image_z", "world_xyz", "visibility", "presence"):
        assert np.isnan(getattr(plie, name)[~detected]).all(), name
        assert not np.isnan(getattr(plie, name)[detected]).any(), name


def test_plie_legs_inside_frame_and_in_anatomical_order(plie: PoseSequence) -> None:
    xy = plie.image_xy[plie.detected]
    width, height = plie.frame_size_wh
    legs = xy[:, LEGS]
    assert (legs[..., 0] >= 0).all() and (legs[..., 0] < width).all()
    assert (legs[..., 1] >= 0).all() and (legs[..., 1] < height).all()
    y = xy[..., 1]  # image y grows downwards
    for hip, knee, ankle, heel, toe in lm.LEG_INDEX:
        assert (y[:, hip] < y[:, knee]).all() and (y[:, knee] < y[:, ankle]).all()
        assert (y[:, knee] < y[:, heel]).all() and (y[:, knee] < y[:, toe]).all()
    # she faces the camera: her left hip is on the image's right
    assert (xy[:, lm.LEFT_HIP, 0] > xy[:, lm.RIGHT_HIP, 0]).all()
    # world landmarks in metres: hip-to-ankle about a leg's length
    leg_m = np.linalg.norm(plie.world_xyz[plie.detected][:, lm.LEFT_HIP] - plie.world_xyz[plie.detected][:, lm.LEFT_ANKLE], axis=1)
    assert 0.6 < np.median(leg_m) < 1.1


def test_plie_timestamps_and_meta(plie: PoseSequence, built_pose_model: ResolvedModel) -> None:
    assert plie.n_frames == 174
    np.testing.assert_allclose(plie.timestamps_s, np.arange(174) * 0.04, atol=1e-6)
    assert tuple(plie.frame_size_wh) == (960, 540)
    meta = plie.meta
    assert meta["source"].endswith("ballet_plie.mp4") and meta["source_fps"] == 25.0
    assert meta["rotation_deg"] == 0 and meta["frames_decoded"] == 174 and not meta["truncated"]
    assert meta["model_name"] == "pose_landmarker_full" and meta["model_sha256"] == built_pose_model.sha256
    assert meta["mediapipe_version"] == "1.2.3" and meta["warnings"] == []
    assert meta["model_config"] == {**ModelConfig().__dict__}
    assert meta["mirror_average"] is True and meta["mirror_rejected_frames"] == 0


def test_npz_round_trip_and_documented_arrays(plie: PoseSequence, tmp_path: Path) -> None:
    path = plie.save_npz(tmp_path / "plie.npz")
    with np.load(path) as raw:
        assert raw["image_xy"].shape == (174, 33, 2) and raw["world_xyz"].shape == (174, 33, 3)
        assert raw["visibility"].shape == (174, 33) and raw["timestamps_s"].shape == (174,)
        assert raw["frame_size_wh"].tolist() == [960, 540]
    back = PoseSequence.load_npz(path)
    for name in ("image_xy", "image_z", "world_xyz", "visibility", "presence", "timestamps_s", "frame_size_wh"):
        np.testing.assert_array_equal(getattr(back, name), getattr(plie, name))
    assert back.meta["model_sha256"] == plie.meta["model_sha256"]


def test_cli_extract_writes_a_loadable_file(footage, tmp_path: Path, turnout_cli) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out" / "plie.npz"
    code, _, err = turnout_cli("extract", footage("wikimedia/ballet_plie.mp4"), "-o", out, "--quiet")
    assert code == 0, err
    assert PoseSequence.load_npz(out).detected.sum() >= 0.95 * (174 - TITLE_CARD_END)


# ------------------------------------------------------------------------------------------ bad input
def test_truncated_video_keeps_decoded_frames_and_warns(footage, tmp_path: Path, turnout_cli,  # type: ignore[no-untyped-def]
                                                        built_pose_model: ResolvedModel) -> None:
    data = footage("wikimedia/ballet_plie.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 45 // 100])
    seq = extract(cut, model=built_pose_model)
    assert 20 < seq.n_frames < 174 and seq.meta["truncated"]
    assert seq.detected[TITLE_CARD_END + 5:].mean() >= 0.95
    assert any("truncated" in w for w in seq.meta["warnings"])
    code, _, err = turnout_cli("extract", cut, "-o", tmp_path / "cut.npz")
    assert code == 0 and f"ended after {seq.n_frames} of the 174 frames" in err
    assert PoseSequence.load_npz(tmp_path / "cut.npz").n_frames == seq.n_frames


def test_missing_and_non_video_files(tmp_path: Path, turnout_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = turnout_cli("extract", tmp_path / "nope.mp4", "-o", tmp_path / "x.npz")
    assert code == EXIT_BAD_INPUT and "Video file not found" in err
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 50)
    code, _, err = turnout_cli("extract", text, "-o", tmp_path / "x.npz")
    assert code == EXIT_BAD_INPUT and "cannot be read as a video" in err
    assert not (tmp_path / "x.npz").exists()


def test_video_without_a_person(tmp_path: Path, turnout_cli, built_pose_model: ResolvedModel) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    path = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (320, 240))
    for _ in range(15):
        writer.write(cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (9, 9), 3))
    writer.release()
    seq = extract(path, model=built_pose_model)
    assert seq.n_frames == 15 and not seq.detected.any()
    assert np.isnan(seq.image_xy).all() and seq.meta["warnings"] == [NO_PERSON_WARNING]
    out = tmp_path / "empty.npz"
    code, _, err = turnout_cli("extract", path, "-o", out)
    assert code == EXIT_NO_PLIE and "No person was found in any of the 15 frames" in err
    assert PoseSequence.load_npz(out).n_frames == 15, "the (all-NaN) file is still written"


def test_two_people_with_num_poses_1_gives_one_whole_person(footage, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            built_pose_model: ResolvedModel) -> None:
    """Two people side by side (the seated photo next to its mirror image). num_poses=1 returns
    one pose whose 33 landmarks all belong to one person (the detector's highest-scoring one),
    never a mixture; num_poses=2 finds both."""
    image = cv2.imread(str(footage("mediapipe/seated_test_image.jpg")))
    pair = np.ascontiguousarray(cv2.cvtColor(np.hstack([image, image[:, ::-1]]), cv2.COLOR_BGR2RGB))
    half = image.shape[1]
    with PoseTracker(ModelConfig(num_poses=2), model=built_pose_model, running_mode="image") as tracker:
        both = tracker.process_all(pair, 0.0)
    assert len(both) == 2
    sides = sorted(bool(np.median(p.image_xy[:, 0]) > half) for p in both)
    assert sides == [False, True], "one pose per person"
    with PoseTracker(ModelConfig(num_poses=1), model=built_pose_model, running_mode="image") as tracker:
        one = tracker.process(pair, 0.0)
        # the mirrored pair is the same picture, so the mirror pass finds the OTHER person: not averaged in
        assert tracker.mirror_average and tracker.mirror_rejected == 1
    assert one.n_poses == 1
    x = one.image_xy[:, 0]
    assert (x < half).all() or (x > half).all(), "landmarks of two people mixed into one pose"
    same = [p for p in both if np.median(np.abs(p.image_xy - one.image_xy)) < 5.0]
    assert len(same) == 1, "the single pose is one of the two found with num_poses=2"
    # through extract(): a one-frame image sequence, one pose, no warning
    path = tmp_path / "pair.png"
    cv2.imwrite(str(path), cv2.cvtColor(pair, cv2.COLOR_RGB2BGR))
    seq = extract(path, Config(), model=built_pose_model)
    assert seq.n_frames == 1 and seq.detected.all() and seq.meta["warnings"] == []
    assert seq.meta["mirror_rejected_frames"] == 1


# ------------------------------------------------------------------------------------------ mirror pass
def _pose(xy: np.ndarray, world: np.ndarray | None = None) -> FramePose:
    n = lm.NUM_LANDMARKS
    return FramePose(image_xy=xy, image_z=np.arange(n, dtype=float), world_xyz=np.zeros((n, 3)) if world is None else world,
                     visibility=np.linspace(0, 1, n), presence=np.ones(n), n_poses=1)


def test_mirror_index_swaps_left_and_right() -> None:
    names = np.array(lm.LANDMARK_NAMES)
    assert (lm.MIRROR_INDEX[lm.MIRROR_INDEX] == np.arange(lm.NUM_LANDMARKS)).all()
    for i, j in enumerate(lm.MIRROR_INDEX):
        assert names[j] == names[i].replace("left", "@").replace("right", "left").replace("@", "right"), names[i]
    assert lm.MIRROR_INDEX[lm.NOSE] == lm.NOSE and lm.MIRROR_INDEX[lm.LEFT_KNEE] == lm.RIGHT_KNEE


def test_unmirror_flips_x_and_swaps_sides() -> None:
    rng = np.random.default_rng(1)
    xy, world = rng.uniform(0, 500, (33, 2)), rng.normal(size=(33, 3))
    pose = _pose(xy, world)
    back = unmirror(pose, 640)
    assert back.image_xy[lm.LEFT_KNEE, 0] == 640 - xy[lm.RIGHT_KNEE, 0]
    assert back.image_xy[lm.LEFT_KNEE, 1] == xy[lm.RIGHT_KNEE, 1]
    np.testing.assert_array_equal(back.world_xyz[lm.LEFT_HEEL], world[lm.RIGHT_HEEL] * (-1, 1, 1))
    assert back.visibility[lm.LEFT_ANKLE] == pose.visibility[lm.RIGHT_ANKLE]
    again = unmirror(back, 640)
    np.testing.assert_allclose(again.image_xy, xy)
    np.testing.assert_allclose(again.world_xyz, world)
    assert not unmirror(FramePose.missing(), 640).detected


def test_toe_tips_are_unmirrored_and_averaged() -> None:
    xy = np.random.default_rng(3).uniform(100, 400, (33, 2))
    tips = np.array([[300.0, 410.0], [150.0, 412.0]])              # her left foot, her right foot
    pose = dataclasses.replace(_pose(xy), toe_tip_xy=tips)
    back = unmirror(pose, 640)                                     # the right foot's tip becomes the left's
    np.testing.assert_array_equal(back.toe_tip_xy, [[640 - 150.0, 412.0], [640 - 300.0, 410.0]])
    other = dataclasses.replace(pose, toe_tip_xy=tips + [[2.0, 0.0], [np.nan, np.nan]])
    np.testing.assert_array_equal(average_poses(pose, other).toe_tip_xy, [[301.0, 410.0], [150.0, 412.0]])


def test_average_poses_only_of_the_same_person() -> None:
    rng = np.random.default_rng(2)
    xy = rng.uniform(100, 400, (33, 2))                         # a pose about 420 px across
    a, b = _pose(xy), _pose(xy + rng.normal(0, 5, (33, 2)))
    mean = average_poses(a, b)
    np.testing.assert_allclose(mean.image_xy, (a.image_xy + b.image_xy) / 2)
    far = _pose(xy + (0.2 * 424, 0))                            # 20 % of its size away: someone else
    assert average_poses(a, far) is a
    assert average_poses(FramePose.missing(), b) is b and average_poses(a, FramePose.missing()) is a


def test_mirror_average_is_the_mean_of_both_passes(footage, built_pose_model: ResolvedModel) -> None:  # type: ignore[no-untyped-def]
    """On a real photo the two-pass pose is exactly the mean of the plain pass and the un-mirrored pass on
    the mirrored photo, and the two passes differ by a few pixels (what the averaging reduces)."""
    image = np.ascontiguousarray(cv2.cvtColor(cv2.imread(str(footage("mediapipe/seated_test_image.jpg"))), cv2.COLOR_BGR2RGB))
    config = ModelConfig(min_pose_detection_confidence=0.3, min_pose_presence_confidence=0.3)
    with PoseTracker(config, model=built_pose_model, running_mode="image", mirror_average=False) as tracker:
        plain = tracker.process(image, 0.0)
        mirrored = unmirror(tracker.process(np.ascontiguousarray(image[:, ::-1]), 0.0), image.shape[1])
    with PoseTracker(config, model=built_pose_model, running_mode="image") as tracker:
        both = tracker.process(image, 0.0)
        assert tracker.mirror_average and tracker.mirror_rejected == 0
    np.testing.assert_allclose(both.image_xy, (plain.image_xy + mirrored.image_xy) / 2, atol=1e-3)
    legs = np.linalg.norm(plain.image_xy[LEGS] - mirrored.image_xy[LEGS], axis=1)
    assert 0.5 < np.median(legs) < 20, legs


# ------------------------------------------------------------------------------------------ native logs
def test_native_logs_do_not_reach_the_terminal(footage, tmp_path: Path, built_pose_model: ResolvedModel) -> None:  # type: ignore[no-untyped-def]
    """LiteRT/XNNPACK/absl lines (INFO:, WARNING:, W0000 ...) must not appear on the user's stderr."""
    data = footage("wikimedia/ballet_plie.mp4").read_bytes()
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(data[: len(data) * 45 // 100])  # title card and the first person frames: ~3 s
    env = {**os.environ, "TURNOUT_VISION_CACHE": str(built_pose_model.path.parent)}
    env.pop("TURNOUT_MODEL_TASK", None)
    proc = subprocess.run([sys.executable, "-m", "turnout_vision", "extract", str(clip), "-o", str(tmp_path / "c.npz")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    noisy = [line for line in lines if line.startswith(("INFO:", "WARNING:", "W0000", "I0000", "E0000"))
             or "XNNPACK" in line or "LiteRT" in line]
    assert noisy == [], noisy
    assert any("Wrote" in line for line in lines)


def test_quiet_native_logs_swallows_fd2_but_not_python_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    from turnout_vision.extract import quiet_native_logs

    with quiet_native_logs(capture=False):
        os.write(2, b"INFO: native chatter\n")
        print("python message", file=sys.stderr)
        with quiet_native_logs():  # nested blocks are fine
            os.write(2, b"INFO: more chatter\n")
    os.write(2, b"after the block\n")
    err = capfd.readouterr().err
    assert "chatter" not in err and "python message" in err and "after the block" in err
    with pytest.raises(RuntimeError) as info, quiet_native_logs():
        os.write(2, b"E0000 why it failed\n")
        raise RuntimeError("boom")
    assert "why it failed" in "".join(info.value.__notes__)
    assert "why it failed" not in capfd.readouterr().err
