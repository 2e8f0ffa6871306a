"""The swappable floor-plane method: image landmarks -> 3D leg points in the dancer's floor frame.

Floor frame (metres): origin on the floor midway between the heels; x = the dancer's left,
y = the dancer's forward (towards a frontal camera, projected onto the floor), z = up.
See docs/CONVENTIONS.md. Every method returns ``FloorPoints``; ``core.analyze`` picks the method
named in the configuration, so methods can be compared on the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ..sequence import frozen_array


@dataclass(frozen=True, eq=False)
class FloorPoints:
    """3D leg landmarks in the floor frame, and what the method assumed to get them.

    ``points_m``: (frames, 2 sides, 5 joints, 3) metres; sides in ``landmarks.SIDES`` order
    (0 = dancer's left), joints in ``landmarks.LEG_JOINTS`` order (hip, knee, ankle, heel,
    foot_index); NaN where unknown.
    ``angle_sd_deg``: (frames, 2) one-sigma uncertainty of floor-plane angles per side, degrees.
    ``refusal``: None, or one sentence saying why this view cannot support floor-plane angles.
    ``camera``: what the method assumed or estimated about the camera (JSON-able).
    """

    points_m: NDArray[np.float64]
    angle_sd_deg: NDArray[np.float64]
    method: str
    assumptions: tuple[str, ...] = ()
    refusal: str | None = None
    camera: Mapping[str, Any] = field(default_factory=dict)
    unreliable: Mapping[str, str] = field(default_factory=dict)
    """Quantities this method cannot measure reliably from the view at hand -> one sentence why.
    Keys: "foot_rotation", "leg_rotation", "knee_over_toe", "rolling", "pelvis_tilt",
    "pelvis_rotation", "pelvis_sway", "weight_shift"; ``core.analyze`` reports them as null + reason."""
    foot_extra_sd_deg: NDArray[np.float64] | None = None
    """(2,) per side: extra one-sigma degrees for the measures that rest on the foot's own landmarks
    (foot rotation, forced turnout, knee over toe), added in quadrature to ``angle_sd_deg``; None = 0."""
    notes: tuple[str, ...] = ()
    """What the method noticed that makes its numbers less certain (one sentence each, for the user);
    ``core.analyze`` turns each into a warning; the uncertainties above already include it."""

    def __post_init__(self) -> None:
        pts = np.asarray(self.points_m, dtype=float)
        if pts.ndim != 4 or pts.shape[1:] != (2, 5, 3):
            raise ValueError(f"points_m must have shape (frames, 2, 5, 3), got {pts.shape}")
        extra = 0.0 if self.foot_extra_sd_deg is None else self.foot_extra_sd_deg
        object.__setattr__(self, "points_m", frozen_array(pts))
        object.__setattr__(self, "angle_sd_deg", frozen_array(np.broadcast_to(np.asarray(self.angle_sd_deg, float), pts.shape[:2])))
        object.__setattr__(self, "foot_extra_sd_deg", frozen_array(np.broadcast_to(np.asarray(extra, float), (2,))))
        object.__setattr__(self, "assumptions", tuple(self.assumptions))
        object.__setattr__(self, "notes", tuple(self.notes))
        object.__setattr__(self, "unreliable", dict(self.unreliable))


class Lifter(Protocol):
    """A floor-plane method. ``xy_px`` are cleaned image landmarks (frames, 33, 2); ``toe_tip_px`` the
    mask's toe tips (frames, 2, 2) pixels, NaN where not measured (a method may ignore them)."""

    name: str

    def __call__(
        self,
        xy_px: NDArray[np.float64],
        world_xyz: NDArray[np.float64],
        frame_size_wh: NDArray[np.float64],
        config: Any,
        *,
        toe_tip_px: NDArray[np.float64] | None = None,
    ) -> FloorPoints: ...


# ---------------------------------------------------------------------------------------------- "world"
WORLD_ANGLE_SD_DEG = 25.0
"""Stated one-sigma error of floor angles from MediaPipe world landmarks: on the rendered clips with
exact truth (../shared/renders) they missed foot rotation by a median 36 deg and leg rotation by 21 deg."""

_WORLD_UNRELIABLE = {
    "rolling": "MediaPipe's world depth is too compressed and noisy to see the ankle tip over the foot axis.",
    "pelvis_rotation": "MediaPipe's world depth is too compressed and noisy to see the hip line turn.",
}


def _rotation_to_z(u: NDArray[np.float64]) -> NDArray[np.float64]:
    """Proper rotation (3, 3) taking the unit vector ``u`` onto +z (Rodrigues)."""
    z = np.array([0.0, 0.0, 1.0])
    v = np.array([u[1] * z[2] - u[2] * z[1], u[2] * z[0] - u[0] * z[2], u[0] * z[1] - u[1] * z[0]])
    c = float(u @ z)
    if c < -0.999999:
        return np.diag([1.0, -1.0, -1.0])
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def _knee_flexion(points_m: NDArray[np.float64]) -> NDArray[np.float64]:
    thigh = points_m[..., 1, :] - points_m[..., 0, :]
    shank = points_m[..., 2, :] - points_m[..., 1, :]
    cos = np.sum(thigh * shank, -1) / (np.linalg.norm(thigh, axis=-1) * np.linalg.norm(shank, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def _standing_frames(flexion_deg: NDArray[np.float64], standing_max_deg: float) -> NDArray[np.bool_]:
    """(F,) frames where both knees are straight; falls back to the straightest fifth of the frames."""
    ok = np.isfinite(flexion_deg).all(axis=1)
    standing = ok & (flexion_deg < standing_max_deg).all(axis=1)
    if standing.sum() >= 3 or not ok.any():
        return standing
    mean = np.where(ok, flexion_deg.mean(axis=1), np.inf)
    return ok & (mean <= np.percentile(mean[ok], 20))


def lift_world(xy_px: NDArray[np.float64], world_xyz: NDArray[np.float64], frame_size_wh: NDArray[np.float64],
               config: Any, *, toe_tip_px: NDArray[np.float64] | None = None) -> FloorPoints:
    """Baseline floor method: MediaPipe's world landmarks levelled into the floor frame.

    World axes (x = image right, y down, z away from the camera) are first mapped to
    (x, -z, -y) (a frontal dancer's left, forward, up); then the clip is rotated so that the mean
    ankle -> hip direction of standing frames points up, and about the vertical so that the median
    right -> left hip line of standing frames is +x (forward = perpendicular to the hip line). The
    origin of each frame is its heel midpoint on the floor (the lowest foot landmark), since world
    landmarks are centred on each frame's hips.
    Depth from one camera is unreliable in MediaPipe: this method under-reads turnout.
    """
    from .. import landmarks as lm

    w = np.asarray(world_xyz, dtype=float)[:, lm.LEG_INDEX]                 # (F, 2, 5, 3)
    pts = np.stack([w[..., 0], -w[..., 2], -w[..., 1]], axis=-1)
    n = pts.shape[0]
    standing_max = float(getattr(getattr(config, "plie", None), "standing_max_deg", 12.0))
    standing = _standing_frames(_knee_flexion(pts), standing_max)
    refusal = None
    if standing.sum() == 0:
        refusal = "MediaPipe world landmarks are missing in every frame."
        return FloorPoints(np.full((n, 2, 5, 3), np.nan), np.full((n, 2), np.nan), "world", refusal=refusal)
    leg = pts[standing, :, 0] - pts[standing, :, 2]                          # ankle -> hip
    up = np.nanmean(leg / np.linalg.norm(leg, axis=-1, keepdims=True), axis=(0, 1))
    rot = _rotation_to_z(up / np.linalg.norm(up))
    pts = pts @ rot.T
    hips = pts[standing, 0, 0, :2] - pts[standing, 1, 0, :2]
    yaw = np.arctan2(np.nanmedian(hips[:, 1]), np.nanmedian(hips[:, 0]))
    c, s_ = np.cos(-yaw), np.sin(-yaw)
    rz = np.array([[c, -s_, 0.0], [s_, c, 0.0], [0.0, 0.0, 1.0]])
    pts = pts @ rz.T
    # world landmarks are relative to each frame's hip midpoint: anchor every frame on its feet
    feet = pts[:, :, 3:]                                                     # (F, 2, 2, 3) heels, toes
    with np.errstate(invalid="ignore"):
        origin = np.concatenate([feet[:, :, 0, :2].mean(axis=1),
                                 np.min(feet[..., 2], axis=(1, 2))[:, None]], axis=1)   # (F, 3)
    pts = pts - origin[:, None, None, :]
    return FloorPoints(
        points_m=pts,
        angle_sd_deg=np.full((n, 2), WORLD_ANGLE_SD_DEG),
        method="world",
        assumptions=(
            "MediaPipe world landmarks (metric, but with compressed and noisy depth)",
            "legs vertical while standing: their mean direction defines up",
            "the dancer's forward is perpendicular to her hip line while standing",
        ),
        refusal=refusal,
        camera={"estimated": False, "note": "world landmarks need no camera model"},
        unreliable=_WORLD_UNRELIABLE,
    )


lift_world.name = "world"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------- registry
LIFTERS: tuple[str, ...] = ("camera", "world")
"""Names accepted by ``get_lifter`` (``analysis.method`` in the configuration)."""


def get_lifter(name: str) -> Lifter:
    """The floor-plane method called ``name``.

    Raises ``KeyError`` for an unknown name and ``LookupError`` when the method exists but cannot be
    loaded here (e.g. "camera" before its module is available); ``core.analyze`` then falls back to
    "world" with a warning.
    """
    if name == "world":
        return lift_world  # type: ignore[return-value]
    if name == "camera":
        try:
            from . import camera_lift
        except ImportError as exc:  # pragma: no cover - depends on the checkout
            raise LookupError(f"the camera method cannot be imported ({exc})") from exc
        fn = getattr(camera_lift, "lift_camera", None)
        if fn is None:
            raise LookupError("the camera method (analysis/camera_lift.py) has no lift_camera() yet")
        if not hasattr(fn, "name"):
            try:
                fn.name = "camera"
            except AttributeError:  # pragma: no cover
                pass
        return fn  # type: ignore[no-any-return]
    raise KeyError(f"unknown floor method {name!r}; choose one of {', '.join(LIFTERS)}")
