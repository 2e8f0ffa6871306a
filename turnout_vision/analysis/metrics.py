"""Per-frame measures from leg points in the floor frame, vectorised over frames and sides.

Input everywhere: ``points_m`` (F, 2, 5, 3): frames, sides (0 = dancer's left, 1 = right), joints
(hip, knee, ankle, heel, foot_index), floor-frame xyz in metres (x = dancer's left, y = forward,
z = up; origin on the floor between the heels). Definitions and signs: docs/CONVENTIONS.md.

The floor frame is a mirror image (left-handed), so every angle is written with explicit per-side
components: ``OUT[s]`` is the x sign pointing away from the midline on side s, and a horizontal
direction (dx, dy) on side s has the angle ``atan2(OUT[s] * dx, dy)`` from straight ahead,
positive = outwards (external rotation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..landmarks import ANKLE, FOOT_INDEX, HEEL, HIP, KNEE

OUT = np.array([1.0, -1.0])
"""x sign pointing away from the midline, per side (0 = dancer's left, 1 = right)."""

_F = NDArray[np.float64]


class _Joints:
    """Coordinates of each joint as contiguous (F, 2) arrays: ``j.x[HIP]`` etc. (one transpose, then
    every operation streams through memory; slicing (F, 2, 5, 3) directly is several times slower)."""

    def __init__(self, points_m: _F) -> None:
        t = np.ascontiguousarray(np.moveaxis(np.asarray(points_m, dtype=float), (2, 3), (0, 1)))  # (5, 3, F, 2)
        self.x, self.y, self.z = t[:, 0], t[:, 1], t[:, 2]


def _as_joints(points_m: _F | _Joints) -> _Joints:
    return points_m if isinstance(points_m, _Joints) else _Joints(points_m)


def knee_flexion_deg(points_m: _F | _Joints) -> _F:
    """(F, 2) knee flexion: angle between hip->knee and knee->ankle, degrees; 0 = straight leg."""
    j = _as_joints(points_m)
    tx, ty, tz = j.x[KNEE] - j.x[HIP], j.y[KNEE] - j.y[HIP], j.z[KNEE] - j.z[HIP]
    sx, sy, sz = j.x[ANKLE] - j.x[KNEE], j.y[ANKLE] - j.y[KNEE], j.z[ANKLE] - j.z[KNEE]
    cos = (tx * sx + ty * sy + tz * sz) / np.sqrt((tx * tx + ty * ty + tz * tz) * (sx * sx + sy * sy + sz * sz))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def foot_axis(points_m: _F | _Joints) -> tuple[_F, _F, _F, _F]:
    """Heel -> foot_index in the floor plane: rotation_deg, length_m, unit x, unit y (each (F, 2)).

    Rotation = angle from +y (forward) to the heel->toe direction, + = toe away from the midline.
    """
    j = _as_joints(points_m)
    dx, dy = j.x[FOOT_INDEX] - j.x[HEEL], j.y[FOOT_INDEX] - j.y[HEEL]
    length = np.hypot(dx, dy)
    rot = np.degrees(np.arctan2(OUT * dx, dy))
    return rot, length, dx / length, dy / length


def knee_travel(points_m: _F | _Joints) -> tuple[_F, _F]:
    """Direction of the knee's horizontal offset from the hip-ankle line (the leg's real rotation).

    Returns (angle_deg (F, 2) from +y, + = outwards; horizontal offset magnitude (F, 2) metres).
    The offset is the knee minus its perpendicular foot on the hip-ankle line; its direction is only
    meaningful when the knee is bent (magnitude well above the point noise).
    """
    j = _as_joints(points_m)
    ax, ay, az = j.x[ANKLE] - j.x[HIP], j.y[ANKLE] - j.y[HIP], j.z[ANKLE] - j.z[HIP]
    kx, ky, kz = j.x[KNEE] - j.x[HIP], j.y[KNEE] - j.y[HIP], j.z[KNEE] - j.z[HIP]
    proj = (kx * ax + ky * ay + kz * az) / (ax * ax + ay * ay + az * az)
    ox, oy = kx - proj * ax, ky - proj * ay
    return np.degrees(np.arctan2(OUT * ox, oy)), np.hypot(ox, oy)


def _lateral_offset(j: _Joints, joint: int, ux: _F, uy: _F) -> _F:
    """Signed horizontal distance of ``joint`` from the heel->toe line, + = outside (little-toe side)."""
    rx, ry = j.x[joint] - j.x[HEEL], j.y[joint] - j.y[HEEL]
    return OUT * (rx * uy - ry * ux)


def knee_over_toe_m(points_m: _F | _Joints, ux: _F, uy: _F) -> _F:
    """(F, 2) signed distance of the knee's floor projection from the heel->toe line, metres.

    + = outside (on the little-toe side, away from the midline), - = inside (knee falls in).
    ``ux``, ``uy`` (F, 2): the unit heel->toe vector from ``foot_axis``.
    """
    return _lateral_offset(_as_joints(points_m), KNEE, ux, uy)


def rolling_in_deg(points_m: _F | _Joints, ux: _F, uy: _F) -> _F:
    """(F, 2) medial tilt of the ankle over the foot axis, degrees (pronation proxy).

    atan2(medial horizontal distance of the ankle from the heel->toe line, ankle height above the
    floor). + = rolled in (ankle inside the foot axis). Per plié the change from standing is reported.
    """
    j = _as_joints(points_m)
    return np.degrees(np.arctan2(-_lateral_offset(j, ANKLE, ux, uy), j.z[ANKLE]))


@dataclass(frozen=True, eq=False)
class PelvisMetrics:
    """Per-frame pelvis measures, each (F,)."""

    tilt_deg: _F
    """Hip-line obliquity: asin((z_left - z_right) / |left - right|); + = left hip higher."""
    rotation_deg: _F
    """Hip-line yaw in the floor plane: atan2(y_left - y_right, x_left - x_right); + = left hip forward."""
    lateral_m: _F
    """x of the hip midpoint (+ = towards the dancer's left)."""
    hip_width_m: _F
    """|left hip - right hip|."""
    weight_shift_ratio: _F
    """(x of the hip midpoint - x of the ankle midpoint) / hip width; + = over the left foot."""


def pelvis(points_m: _F | _Joints) -> PelvisMetrics:
    """Pelvis tilt, rotation, sideways position and weight shift for every frame (see fields)."""
    j = _as_joints(points_m)
    dx = j.x[HIP, :, 0] - j.x[HIP, :, 1]
    dy = j.y[HIP, :, 0] - j.y[HIP, :, 1]
    dz = j.z[HIP, :, 0] - j.z[HIP, :, 1]
    width = np.sqrt(dx * dx + dy * dy + dz * dz)
    mid_x = 0.5 * (j.x[HIP, :, 0] + j.x[HIP, :, 1])
    ankle_x = 0.5 * (j.x[ANKLE, :, 0] + j.x[ANKLE, :, 1])
    return PelvisMetrics(
        tilt_deg=np.degrees(np.arcsin(np.clip(dz / width, -1.0, 1.0))),
        rotation_deg=np.degrees(np.arctan2(dy, dx)),
        lateral_m=mid_x,
        hip_width_m=width,
        weight_shift_ratio=(mid_x - ankle_x) / width,
    )


@dataclass(frozen=True, eq=False)
class FrameMetrics:
    """Every per-frame measure (see docs/CONVENTIONS.md). Per-side arrays are (F, 2), others (F,).

    ``*_sd_*`` are one-sigma uncertainties: from the floor method's stated angle uncertainty, grown
    where the geometry makes the angle ill-defined (a short knee offset for leg rotation).
    """

    knee_flexion_deg: _F
    foot_rotation_deg: _F
    foot_length_m: _F
    leg_rotation_deg: _F
    """Knee travel direction; NaN where the knee bends less than the configured minimum."""
    knee_offset_m: _F
    """Horizontal distance of the knee from the hip-ankle line."""
    forced_turnout_deg: _F
    knee_over_toe_m: _F
    knee_over_toe_ratio: _F
    rolling_in_deg: _F
    pelvis: PelvisMetrics
    foot_rotation_sd_deg: _F
    leg_rotation_sd_deg: _F
    forced_turnout_sd_deg: _F
    knee_over_toe_sd_m: _F
    knee_flexion_sd_deg: _F


def frame_metrics(points_m: _F, angle_sd_deg: _F, min_flexion_deg: float = 15.0,
                  foot_extra_sd_deg: _F | float = 0.0) -> FrameMetrics:
    """All per-frame measures from ``points_m`` (F, 2, 5, 3) and the method's ``angle_sd_deg`` (F, 2).

    Leg rotation is set to NaN where knee flexion < ``min_flexion_deg``; its uncertainty is the
    method's angle uncertainty scaled by foot length / knee offset (a direction measured over a
    shorter vector is proportionally less certain), capped at 90 deg. ``foot_extra_sd_deg`` (2,) per
    side is added in quadrature to the foot's own measures only (foot rotation, forced turnout, knee
    over toe): ``FloorPoints.foot_extra_sd_deg``.
    """
    pts = np.asarray(points_m, dtype=float)
    j = _Joints(pts)
    sd = np.broadcast_to(np.asarray(angle_sd_deg, dtype=float), pts.shape[:2])
    foot_sd = np.hypot(sd, np.broadcast_to(np.asarray(foot_extra_sd_deg, dtype=float), sd.shape[-1:]))
    flex = knee_flexion_deg(j)
    foot_rot, foot_len, ux, uy = foot_axis(j)
    travel, offset = knee_travel(j)
    with np.errstate(invalid="ignore"):
        bent = flex >= min_flexion_deg
    leg = np.where(bent, travel, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        leg_sd = np.where(bent, np.minimum(sd * np.maximum(foot_len / offset, 1.0), 90.0), np.nan)
    kot = knee_over_toe_m(j, ux, uy)
    kot_sd = foot_len * np.radians(foot_sd)
    return FrameMetrics(
        knee_flexion_deg=flex,
        foot_rotation_deg=foot_rot,
        foot_length_m=foot_len,
        leg_rotation_deg=leg,
        knee_offset_m=offset,
        forced_turnout_deg=foot_rot - leg,
        knee_over_toe_m=kot,
        knee_over_toe_ratio=kot / foot_len,
        rolling_in_deg=rolling_in_deg(j, ux, uy),
        pelvis=pelvis(j),
        foot_rotation_sd_deg=foot_sd,
        leg_rotation_sd_deg=leg_sd,
        forced_turnout_sd_deg=np.sqrt(foot_sd * foot_sd + leg_sd * leg_sd),
        knee_over_toe_sd_m=kot_sd,
        knee_flexion_sd_deg=np.array(sd),
    )


__all__ = ["OUT", "FrameMetrics", "PelvisMetrics", "foot_axis", "frame_metrics", "knee_flexion_deg",
           "knee_over_toe_m", "knee_travel", "pelvis", "rolling_in_deg"]
