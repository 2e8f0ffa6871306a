"""Optional floor calibration: a printed ArUco marker or a sheet of A4 / Letter paper lying on the floor.

A flat rectangle of known size on the floor fixes the floor plane exactly: from its four corners in one
frame this module recovers the camera's focal length (unless given), pitch, roll and height above the
floor. The "camera" floor method takes those as known instead of estimating them from the body
(``FloorCalibration.config_overrides()`` -> ``Config.merged``), which removes its largest error source
(the camera-height prior). OpenCV (``cv2.aruco`` from opencv-contrib-python) is used only here; the
analysis stays numpy-only.

Use::

    import cv2
    from turnout_vision.floor_marker import calibrate_aruco
    frame = cv2.imread("first_frame.png")
    cal = calibrate_aruco(frame, marker_size_m=0.20)       # None if no marker is found
    config = config.merged(cal.config_overrides())

Frames: the marker frame is metres on the floor, origin at the marker's (sheet's) centre, z up. Its
azimuth is arbitrary, so only azimuth-free quantities (focal length, pitch, roll, height) are passed on.
Print the marker with a white border at least a quarter of its width; put it (or the sheet) on the
floor in front of the dancer's feet, flat, fully visible; 15-25 cm markers work from 3 m.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .analysis.camera import pose_from_extrinsics
from .errors import InputError

PAPER_SIZES_M: dict[str, tuple[float, float]] = {"A4": (0.297, 0.210), "letter": (0.2794, 0.2159)}
"""Long side, short side in metres."""


@dataclass(frozen=True)
class FloorCalibration:
    """Camera facts recovered from a known rectangle on the floor (degrees, metres, pixels)."""

    focal_px: float
    pitch_deg: float
    """Negative = looking down."""
    roll_deg: float
    camera_height_m: float
    homography: NDArray[np.float64]
    """(3, 3) image pixels -> floor metres in the marker frame (x, y on the floor, homogeneous)."""
    corners_px: NDArray[np.float64]
    """(4, 2) the rectangle's corners as detected."""
    rms_px: float
    """Reprojection error of the corners with the recovered camera."""
    source: str
    """"aruco" or "paper:A4" / "paper:letter"."""
    focal_given: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def config_overrides(self) -> dict[str, float]:
        """Dotted configuration overrides for the "camera" floor method (``Config.merged``)."""
        return {"camera.focal_px": float(self.focal_px), "camera.pitch_deg": float(self.pitch_deg),
                "camera.roll_deg": float(self.roll_deg), "camera.camera_height_m": float(self.camera_height_m)}

    def to_dict(self) -> dict[str, Any]:
        return {"focal_px": self.focal_px, "pitch_deg": self.pitch_deg, "roll_deg": self.roll_deg,
                "camera_height_m": self.camera_height_m, "homography": self.homography.tolist(),
                "corners_px": self.corners_px.tolist(), "rms_px": self.rms_px, "source": self.source,
                "focal_given": self.focal_given}


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as exc:  # pragma: no cover - cv2 is a dependency of the package
        raise InputError("OpenCV is needed for the floor marker.", "pip install opencv-contrib-python") from exc
    if not hasattr(cv2, "aruco"):
        raise InputError("This OpenCV build has no ArUco module.", "pip install opencv-contrib-python")
    return cv2


def _homography(src: NDArray[np.float64], dst: NDArray[np.float64]) -> NDArray[np.float64]:
    """DLT homography mapping src (N, 2) to dst (N, 2), N >= 4 (Hartley-normalised)."""
    def norm(p: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        c = p.mean(axis=0)
        s = np.sqrt(2) / max(np.mean(np.linalg.norm(p - c, axis=1)), 1e-12)
        T = np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1.0]])
        return (np.c_[p, np.ones(len(p))] @ T.T)[:, :2], T
    a, Ta = norm(np.asarray(src, float))
    b, Tb = norm(np.asarray(dst, float))
    rows = []
    for (x, y), (u, v) in zip(a, b):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, _, vt = np.linalg.svd(np.asarray(rows))
    Hn = vt[-1].reshape(3, 3)
    H = np.linalg.inv(Tb) @ Hn @ Ta
    return H / H[2, 2]


def calibrate_from_corners(corners_px: NDArray[np.float64], corners_floor_m: NDArray[np.float64],
                           frame_size_wh: tuple[float, float] | NDArray[np.float64], *,
                           focal_px: float | None = None, source: str = "corners") -> FloorCalibration:
    """Camera facts from a planar rectangle: ``corners_px`` (4, 2) image points of ``corners_floor_m``
    (4, 2) floor points (metres, right-handed x-y with z up). Principal point at the image centre,
    square pixels; the focal length is solved from the homography unless ``focal_px`` is given.

    Raises ``ValueError`` when the view of the rectangle cannot give a focal length (seen square-on).
    """
    img = np.asarray(corners_px, float)
    flo = np.asarray(corners_floor_m, float)
    cx, cy = float(frame_size_wh[0]) / 2, float(frame_size_wh[1]) / 2
    H = _homography(flo, img)                         # floor -> image
    T = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1.0]])
    M = T @ H
    m1, m2 = M[:, 0], M[:, 1]
    if focal_px is None:
        a = np.array([m1[0] * m2[0] + m1[1] * m2[1], m1[0] ** 2 + m1[1] ** 2 - m2[0] ** 2 - m2[1] ** 2])
        b = np.array([m1[2] * m2[2], m1[2] ** 2 - m2[2] ** 2])
        w = -float(a @ b) / max(float(a @ a), 1e-30)
        if not np.isfinite(w) or w <= 0:
            raise ValueError("the rectangle is seen too square-on to recover the focal length; give the field of view")
        f = float(1.0 / np.sqrt(w))
    else:
        f = float(focal_px)
    A = np.diag([1 / f, 1 / f, 1.0]) @ M
    lam = 2.0 / (np.linalg.norm(A[:, 0]) + np.linalg.norm(A[:, 1]))
    r1, r2, t = A[:, 0] * lam, A[:, 1] * lam, A[:, 2] * lam
    if t[2] < 0:                                       # the rectangle must lie in front of the camera
        r1, r2, t = -r1, -r2, -t
    r3 = np.cross(r1, r2)
    R = np.stack([r1, r2, r3], axis=1)
    u, _, vt = np.linalg.svd(R)
    R = u @ vt
    if np.linalg.det(R) < 0:
        R = u @ np.diag([1, 1, -1.0]) @ vt
    centre = -R.T @ t
    if centre[2] < 0:                                  # z must point up, towards the camera's side
        flip = np.diag([1.0, -1.0, -1.0])
        R = R @ flip
        centre = -R.T @ t
    R, t, f, rms = _refine(img, flo, R, t, f, cx, cy, focal_known=focal_px is not None)
    centre = -R.T @ t
    K = np.array([[f, 0, cx], [0, f, cy], [0, 0, 1.0]])
    # the marker frame is right-handed; the floor frame of analysis/camera.py mirrors x
    mirror = np.diag([-1.0, 1.0, 1.0])
    cam = pose_from_extrinsics(K, R @ mirror, t)
    H_img_to_floor = np.linalg.inv(H)
    return FloorCalibration(focal_px=f, pitch_deg=float(np.rad2deg(cam.pitch_rad)),
                            roll_deg=float(np.rad2deg(cam.roll_rad)), camera_height_m=float(centre[2]),
                            homography=H_img_to_floor / H_img_to_floor[2, 2], corners_px=img, rms_px=rms,
                            source=source, focal_given=focal_px is not None)


def _refine(img: NDArray[np.float64], flo: NDArray[np.float64], R: NDArray[np.float64], t: NDArray[np.float64],
            f: float, cx: float, cy: float, *, focal_known: bool) -> tuple[NDArray, NDArray, float, float]:
    """Minimise the corners' reprojection error over the pose (and the focal length unless known),
    starting from the closed-form solution; returns R, t, f, rms (pixels)."""
    from scipy.optimize import least_squares
    from scipy.spatial.transform import Rotation

    obj = np.c_[flo, np.zeros(len(flo))]

    def unpack(x: NDArray[np.float64]) -> tuple[NDArray, NDArray, float]:
        return Rotation.from_rotvec(x[:3]).as_matrix(), x[3:6], (f if focal_known else float(np.exp(x[6])))

    def resid(x: NDArray[np.float64]) -> NDArray[np.float64]:
        Rx, tx, fx = unpack(x)
        pc = obj @ Rx.T + tx
        uv = np.c_[cx + fx * pc[:, 0] / pc[:, 2], cy + fx * pc[:, 1] / pc[:, 2]]
        return (uv - img).ravel()

    x0 = np.r_[Rotation.from_matrix(R).as_rotvec(), t, [] if focal_known else [np.log(f)]]
    res = least_squares(resid, x0, method="lm")
    Rx, tx, fx = unpack(res.x)
    rms = float(np.sqrt(np.mean(res.fun.reshape(-1, 2) ** 2 * 2)))
    return Rx, tx, fx, rms


def _square(size_m: float) -> NDArray[np.float64]:
    s = size_m / 2
    # OpenCV's ArUco corner order: top-left, top-right, bottom-right, bottom-left of the printed marker
    return np.array([[-s, s], [s, s], [s, -s], [-s, -s]])


def calibrate_aruco(image: NDArray[np.uint8], marker_size_m: float, *, dictionary: str = "DICT_4X4_50",
                    marker_id: int | None = None, focal_px: float | None = None) -> FloorCalibration | None:
    """Find one ArUco marker (``dictionary``, optionally ``marker_id``) lying on the floor in ``image``
    (BGR or grey) and calibrate from it; None when no marker is found. ``marker_size_m``: the black
    square's side in metres."""
    cv2 = _cv2()
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if not hasattr(cv2.aruco, dictionary):
        raise InputError(f"Unknown ArUco dictionary {dictionary!r}.", "Use e.g. DICT_4X4_50 or DICT_6X6_250.")
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary)), params)
    corners, ids, _ = detector.detectMarkers(gray)
    if ids is None or len(ids) == 0:
        return None
    ids = ids.ravel()
    choices = [i for i in range(len(ids)) if marker_id is None or ids[i] == marker_id]
    if not choices:
        return None
    best = max(choices, key=lambda i: cv2.contourArea(corners[i].reshape(4, 2).astype(np.float32)))
    c = corners[best].reshape(4, 2).astype(float)
    h, w = gray.shape[:2]
    cal = calibrate_from_corners(c, _square(marker_size_m), (w, h), focal_px=focal_px, source="aruco")
    cal.extra["marker_id"] = int(ids[best])
    return cal


def find_paper(image: NDArray[np.uint8], min_area_frac: float = 0.0005) -> NDArray[np.float64] | None:
    """(4, 2) corners of the largest bright convex quadrilateral (a sheet of paper) in the lower half of
    ``image``, in order around the outline; None if there is none."""
    cv2 = _cv2()
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape[:2]
    blur = cv2.GaussianBlur(gray, (5, 5), 0)
    _, mask = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    best, best_area = None, min_area_frac * w * h
    for cnt in contours:
        area = cv2.contourArea(cnt)
        if area < best_area:
            continue
        approx = cv2.approxPolyDP(cnt, 0.02 * cv2.arcLength(cnt, True), True)
        if len(approx) != 4 or not cv2.isContourConvex(approx):
            continue
        if approx[:, 0, 1].mean() < h / 2:
            continue
        best, best_area = approx.reshape(4, 2).astype(np.float32), area
    if best is None:
        return None
    crit = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.01)
    refined = cv2.cornerSubPix(gray, best.reshape(-1, 1, 2), (5, 5), (-1, -1), crit).reshape(4, 2)
    return refined.astype(float)


def calibrate_paper(image: NDArray[np.uint8], paper: str = "A4", *, focal_px: float | None = None,
                    prior_focal_px: float | None = None) -> FloorCalibration | None:
    """Calibrate from a sheet of paper (``"A4"`` or ``"letter"``) lying flat on a darker floor.

    Which image side is the sheet's long side is decided by the solution that is more plausible: a
    consistent focal length (closest to ``prior_focal_px`` when given, else the lower corner residual).
    """
    key = paper if paper in PAPER_SIZES_M else paper.lower()
    if key not in PAPER_SIZES_M:
        raise InputError(f"Unknown paper size {paper!r}.", f"Use one of {', '.join(PAPER_SIZES_M)}.")
    quad = find_paper(image)
    if quad is None:
        return None
    L, S = PAPER_SIZES_M[key]
    h, w = image.shape[:2]
    candidates = []
    for a, b in ((L, S), (S, L)):
        rect = np.array([[-a / 2, b / 2], [a / 2, b / 2], [a / 2, -b / 2], [-a / 2, -b / 2]])
        for order in (quad, quad[::-1]):
            try:
                cal = calibrate_from_corners(order, rect, (w, h), focal_px=focal_px, source=f"paper:{key}")
            except ValueError:
                continue
            if cal.camera_height_m > 0 and cal.rms_px < 3.0:
                candidates.append(cal)
    if not candidates:
        return None
    if focal_px is None and prior_focal_px:
        return min(candidates, key=lambda c: (abs(np.log(c.focal_px / prior_focal_px)), c.rms_px))
    return min(candidates, key=lambda c: c.rms_px)


MARKER_KINDS = ("aruco", "a4", "letter")


def calibrate_video(video: str, kind: str, *, marker_size_m: float = 0.20, max_frames: int = 30,
                    focal_px: float | None = None, prior_vfov_deg: float | None = None) -> FloorCalibration:
    """Calibrate from the marker (``kind``: aruco, a4 or letter) in the first ``max_frames`` frames of
    ``video``: every frame where it is found is calibrated and the median camera is returned (its
    ``extra["frames"]`` says how many). Raises ``InputError`` when no frame shows the marker."""
    from .video import open_source

    kind = kind.lower()
    if kind not in MARKER_KINDS:
        raise InputError(f"Unknown floor marker {kind!r}.", f"Use one of {', '.join(MARKER_KINDS)}.")
    cals: list[FloorCalibration] = []
    cv2 = _cv2()
    with open_source(video) as src:
        for frame in src:
            if frame.index >= max_frames:
                break
            bgr = cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR)
            if kind == "aruco":
                cal = calibrate_aruco(bgr, marker_size_m, focal_px=focal_px)
            else:
                h = bgr.shape[0]
                prior = None if prior_vfov_deg is None else h / 2 / np.tan(np.deg2rad(prior_vfov_deg) / 2)
                cal = calibrate_paper(bgr, "A4" if kind == "a4" else "letter", focal_px=focal_px, prior_focal_px=prior)
            if cal is not None:
                cals.append(cal)
    if not cals:
        what = "ArUco marker (DICT_4X4_50)" if kind == "aruco" else f"{kind.upper() if kind == 'a4' else 'Letter'} sheet"
        raise InputError(f"No {what} was found on the floor in the first {max_frames} frames of {video}.",
                         "Lay it flat on the floor in front of the feet, fully visible, for the first seconds "
                         "of the video; or leave out --floor-marker.")
    best = min(cals, key=lambda c: c.rms_px)
    med = {k: float(np.median([getattr(c, k) for c in cals])) for k in ("focal_px", "pitch_deg", "roll_deg",
                                                                        "camera_height_m")}
    return FloorCalibration(homography=best.homography, corners_px=best.corners_px, rms_px=best.rms_px,
                            source=best.source, focal_given=best.focal_given,
                            extra={**best.extra, "frames": len(cals)}, **med)
