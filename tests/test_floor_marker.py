"""Floor calibration from an ArUco marker / a sheet of paper, on synthetic images with a known camera."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from turnout_vision.floor_marker import calibrate_aruco, calibrate_from_corners, calibrate_paper

W, H = 720, 1280


def _camera(height_m: float, distance_m: float, pitch_deg: float, roll_deg: float, f: float):
    """Right-handed marker world (z up); camera at (0, -distance, height) looking along +y, pitched and rolled."""
    p, r = np.deg2rad(pitch_deg), np.deg2rad(roll_deg)
    fwd = np.array([0.0, np.cos(p), np.sin(p)])
    right = np.array([1.0, 0.0, 0.0])
    down = np.cross(fwd, right)
    rows = np.stack([np.cos(r) * right + np.sin(r) * down, -np.sin(r) * right + np.cos(r) * down, fwd])
    C = np.array([0.0, -distance_m, height_m])
    K = np.array([[f, 0, W / 2], [0, f, H / 2], [0, 0, 1.0]])
    return K, rows, -rows @ C


def _render_plane(texture: np.ndarray, size_m: tuple[float, float], K, R, t, background: int = 90) -> np.ndarray:
    """Warp ``texture`` (covering size_m centred on the origin, image-up = +y) onto the floor seen by the camera."""
    th, tw = texture.shape[:2]
    sx, sy = size_m
    tex_to_floor = np.array([[sx / tw, 0, -sx / 2], [0, -sy / th, sy / 2], [0, 0, 1.0]])
    floor_to_img = K @ np.c_[R[:, 0], R[:, 1], t]
    Hm = floor_to_img @ tex_to_floor
    out = cv2.warpPerspective(texture, Hm, (W, H), flags=cv2.INTER_LINEAR, borderValue=background)
    rng = np.random.default_rng(0)
    return np.clip(out.astype(float) + rng.normal(0, 2, out.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("pitch,roll,height", [(-20.0, 0.0, 1.0), (-14.0, 2.0, 0.8), (-28.0, -1.5, 1.4)])
def test_aruco_marker_recovers_camera(pitch: float, roll: float, height: float) -> None:
    f = 1000.0
    K, R, t = _camera(height, 2.2, pitch, roll, f)
    marker = cv2.aruco.generateImageMarker(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), 7, 400)
    bordered = cv2.copyMakeBorder(marker, 100, 100, 100, 100, cv2.BORDER_CONSTANT, value=255)
    img = _render_plane(bordered, (0.45, 0.45), K, R, t)        # black square 0.30 m inside a 0.45 m sheet
    cal = calibrate_aruco(img, marker_size_m=0.30)
    assert cal is not None and cal.extra["marker_id"] == 7
    assert cal.focal_px == pytest.approx(f, rel=0.08)
    assert cal.pitch_deg == pytest.approx(pitch, abs=1.0)
    assert cal.roll_deg == pytest.approx(roll, abs=1.0)
    assert cal.camera_height_m == pytest.approx(height, rel=0.06)
    # with the focal length given, the pose is tighter
    cal2 = calibrate_aruco(img, marker_size_m=0.30, focal_px=f)
    assert cal2 is not None
    assert cal2.pitch_deg == pytest.approx(pitch, abs=0.5)
    assert cal2.camera_height_m == pytest.approx(height, rel=0.03)
    overrides = cal2.config_overrides()
    assert set(overrides) == {"camera.focal_px", "camera.pitch_deg", "camera.roll_deg", "camera.camera_height_m"}


def test_no_marker_gives_none() -> None:
    img = np.full((H, W, 3), 120, np.uint8)
    assert calibrate_aruco(img, marker_size_m=0.2) is None


def test_a4_sheet_recovers_camera() -> None:
    f, pitch, height = 950.0, -22.0, 1.1
    K, R, t = _camera(height, 2.0, pitch, 0.0, f)
    sheet = np.full((297, 210), 245, np.uint8).T.copy()       # long side along x
    img = _render_plane(sheet, (0.297, 0.210), K, R, t, background=60)
    cal = calibrate_paper(img, "A4", prior_focal_px=1000.0)
    assert cal is not None
    assert cal.camera_height_m == pytest.approx(height, rel=0.1)
    assert cal.pitch_deg == pytest.approx(pitch, abs=2.0)
    cal2 = calibrate_paper(img, "A4", focal_px=f)
    assert cal2 is not None
    assert cal2.camera_height_m == pytest.approx(height, rel=0.05)
    assert cal2.pitch_deg == pytest.approx(pitch, abs=1.0)


def test_exact_corners_are_exact() -> None:
    K, R, t = _camera(0.9, 3.0, -12.0, 1.0, 1100.0)
    sq = np.array([[-0.15, 0.15], [0.15, 0.15], [0.15, -0.15], [-0.15, -0.15]]) + [0.1, 0.3]
    pc = np.c_[sq, np.zeros(4)] @ R.T + t
    uv = (pc @ K.T)[:, :2] / (pc @ K.T)[:, 2:]
    cal = calibrate_from_corners(uv, sq, (W, H))
    assert cal.focal_px == pytest.approx(1100.0, rel=1e-6)
    assert cal.pitch_deg == pytest.approx(-12.0, abs=1e-6)
    assert cal.roll_deg == pytest.approx(1.0, abs=1e-6)
    assert cal.camera_height_m == pytest.approx(0.9, abs=1e-9)
    # the homography maps the image corners back onto the floor
    back = np.c_[uv, np.ones(4)] @ cal.homography.T
    np.testing.assert_allclose(back[:, :2] / back[:, 2:], sq, atol=1e-9)


def test_calibrate_video_uses_the_first_frames_and_fails_clearly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from turnout_vision.errors import InputError
    from turnout_vision.floor_marker import calibrate_video

    K, R, t = _camera(1.1, 2.2, -20.0, 0.0, 1000.0)
    marker = cv2.aruco.generateImageMarker(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50), 3, 400)
    bordered = cv2.copyMakeBorder(marker, 100, 100, 100, 100, cv2.BORDER_CONSTANT, value=255)
    img = cv2.cvtColor(_render_plane(bordered, (0.45, 0.45), K, R, t), cv2.COLOR_GRAY2BGR)
    path = tmp_path / "marker.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (W, H))
    for _ in range(4):
        writer.write(img)
    writer.release()
    cal = calibrate_video(str(path), "aruco", marker_size_m=0.30)
    _check_config_from_marker(path, cal)
    assert cal.extra["frames"] == 4
    assert cal.camera_height_m == pytest.approx(1.1, rel=0.08)
    assert cal.pitch_deg == pytest.approx(-20.0, abs=1.5)
    blank = tmp_path / "blank.avi"
    writer = cv2.VideoWriter(str(blank), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (W, H))
    for _ in range(3):
        writer.write(np.full((H, W, 3), 90, np.uint8))
    writer.release()
    with pytest.raises(InputError, match="No ArUco marker"):
        calibrate_video(str(blank), "aruco")
    with pytest.raises(InputError):
        calibrate_video(str(path), "napkin")


def _check_config_from_marker(video, cal) -> None:  # type: ignore[no-untyped-def]
    """The analysis configuration takes the marker's camera, except a camera height already measured."""
    from turnout_vision.config import Config
    from turnout_vision.pipeline import with_floor_calibration

    config, _ = with_floor_calibration(video, Config(), "aruco", 0.30)
    assert config.camera.camera_height_m == pytest.approx(cal.camera_height_m)
    assert config.camera.pitch_deg == pytest.approx(cal.pitch_deg)
    assert config.camera.focal_px == pytest.approx(cal.focal_px)
    measured = Config().merged({"camera.camera_height_m": 0.9})
    config, _ = with_floor_calibration(video, measured, "aruco", 0.30)
    assert config.camera.camera_height_m == 0.9
    assert config.camera.pitch_deg == pytest.approx(cal.pitch_deg)
