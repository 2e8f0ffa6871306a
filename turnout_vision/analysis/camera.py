"""Pinhole camera in the dancer's floor frame: pose from a few angles, projection, back-projection.

Pure numpy. Floor frame (docs/ARCHITECTURE.md): metres, origin on the floor midway between the heels,
x = the dancer's left, y = the dancer's forward, z = up (a mirror-image frame; nothing here uses cross
products of floor vectors). Camera axes follow OpenCV: x = image right, y = image down, z = optical
axis; ``x_cam = R @ x_floor + t`` and ``[u, v, 1] ~ K @ x_cam`` with pixel centres at +0.5.

Camera pose parameters (all angles in radians here, degrees in reports):

================  ===========================================================================
``azimuth``       where the camera stands: its centre is at (d sin(az), d cos(az), h); 0 = straight
                  in front of the dancer, positive = towards the dancer's left
``heading``       extra horizontal turn of the optical axis away from looking at the origin
``pitch``         elevation of the optical axis, negative = looking down
``roll``          rotation of the image about the optical axis, positive = clockwise in the image
``distance_m``    horizontal distance from the origin (d)
``height_m``      height of the optical centre above the floor (h)
================  ===========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray


def focal_from_fov(fov_deg: float, side_px: float) -> float:
    """Focal length in pixels of a camera whose field of view across ``side_px`` pixels is ``fov_deg``."""
    return float(side_px / 2.0 / np.tan(np.deg2rad(fov_deg) / 2.0))


def rotation(azimuth: float, heading: float, pitch: float, roll: float) -> NDArray[np.float64]:
    """(3, 3) floor -> camera rotation (rows: image right, image down, optical axis, in floor coordinates)."""
    yaw = azimuth + heading
    cp, sp = np.cos(pitch), np.sin(pitch)
    fwd = np.array([-cp * np.sin(yaw), -cp * np.cos(yaw), sp])
    right = np.array([np.cos(yaw), -np.sin(yaw), 0.0])          # image right = dancer's left when frontal
    down = np.array([-sp * np.sin(yaw), -sp * np.cos(yaw), -cp])  # perpendicular to fwd and right
    cr, sr = np.cos(roll), np.sin(roll)
    r0 = cr * right + sr * down
    r1 = -sr * right + cr * down
    return np.stack([r0, r1, fwd])


@dataclass(frozen=True)
class PinholeCamera:
    """A calibrated camera in the floor frame (see module docstring)."""

    focal_px: float
    cx_px: float
    cy_px: float
    azimuth_rad: float
    heading_rad: float
    pitch_rad: float
    roll_rad: float
    distance_m: float
    height_m: float

    @property
    def centre_m(self) -> NDArray[np.float64]:
        a = self.azimuth_rad
        return np.array([self.distance_m * np.sin(a), self.distance_m * np.cos(a), self.height_m])

    @property
    def R(self) -> NDArray[np.float64]:
        return rotation(self.azimuth_rad, self.heading_rad, self.pitch_rad, self.roll_rad)

    @property
    def t(self) -> NDArray[np.float64]:
        return -self.R @ self.centre_m

    @property
    def K(self) -> NDArray[np.float64]:
        return np.array([[self.focal_px, 0, self.cx_px], [0, self.focal_px, self.cy_px], [0, 0, 1.0]])

    def project(self, points_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """(..., 3) floor-frame points -> (..., 2) pixels."""
        return project(points_m, self.R, self.centre_m, self.focal_px, self.cx_px, self.cy_px)

    def floor_point(self, uv_px: NDArray[np.float64], z_m: float | NDArray[np.float64] = 0.0) -> NDArray[np.float64]:
        """(..., 2) pixels -> (..., 3) points where the viewing rays meet the horizontal plane z = ``z_m``."""
        uv = np.asarray(uv_px, float)
        rays_cam = np.stack([(uv[..., 0] - self.cx_px) / self.focal_px, (uv[..., 1] - self.cy_px) / self.focal_px,
                             np.ones(uv.shape[:-1])], axis=-1)
        rays = rays_cam @ self.R          # camera -> floor directions (R is orthonormal)
        c = self.centre_m
        s = (np.asarray(z_m) - c[2]) / rays[..., 2]
        s = np.where(s > 0, s, np.nan)
        return c + s[..., None] * rays

    def grazing_deg(self, point_m: NDArray[np.float64]) -> float:
        """Angle (deg) between the floor and the viewing ray to ``point_m``: small = grazing view."""
        v = np.asarray(point_m, float) - self.centre_m
        return float(np.rad2deg(np.arctan2(-v[2], np.hypot(v[0], v[1]))))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description: degrees and metres, plus K, R, t (OpenCV convention, floor frame)."""
        return {
            "focal_px": float(self.focal_px), "cx_px": float(self.cx_px), "cy_px": float(self.cy_px),
            "azimuth_deg": float(np.rad2deg(self.azimuth_rad)), "heading_deg": float(np.rad2deg(self.heading_rad)),
            "pitch_deg": float(np.rad2deg(self.pitch_rad)), "roll_deg": float(np.rad2deg(self.roll_rad)),
            "distance_m": float(self.distance_m), "height_m": float(self.height_m),
            "K": self.K.tolist(), "R_floor_to_cam": self.R.tolist(), "t_floor_to_cam": self.t.tolist(),
        }


def project(points_m: NDArray[np.float64], R: NDArray[np.float64], centre_m: NDArray[np.float64],
            focal_px: float, cx_px: float, cy_px: float) -> NDArray[np.float64]:
    """(..., 3) floor-frame points -> (..., 2) pixels; points behind the camera give NaN."""
    pc = (np.asarray(points_m, float) - centre_m) @ R.T
    z = pc[..., 2]
    z = np.where(z > 1e-6, z, np.nan)
    return np.stack([cx_px + focal_px * pc[..., 0] / z, cy_px + focal_px * pc[..., 1] / z], axis=-1)


def pose_from_extrinsics(K: NDArray[np.float64], R: NDArray[np.float64], t: NDArray[np.float64]) -> PinholeCamera:
    """A ``PinholeCamera`` from OpenCV intrinsics and floor -> camera extrinsics (x_cam = R x + t).

    ``R`` must map the floor frame of this module (x left, y forward, z up) to OpenCV camera axes.
    Angles are recovered so that ``rotation(...)`` reproduces ``R``; the centre gives distance and height.
    """
    K = np.asarray(K, float)
    R = np.asarray(R, float)
    centre = -R.T @ np.asarray(t, float)
    fwd = R[2]
    pitch = float(np.arcsin(np.clip(fwd[2], -1, 1)))
    yaw = float(np.arctan2(-fwd[0], -fwd[1]))
    azimuth = float(np.arctan2(centre[0], centre[1]))
    base = rotation(yaw, 0.0, pitch, 0.0)
    roll = float(np.arctan2(R[0] @ base[1], R[0] @ base[0]))
    return PinholeCamera(focal_px=float(K[0, 0]), cx_px=float(K[0, 2]), cy_px=float(K[1, 2]),
                         azimuth_rad=azimuth, heading_rad=yaw - azimuth, pitch_rad=pitch, roll_rad=roll,
                         distance_m=float(np.hypot(centre[0], centre[1])), height_m=float(centre[2]))
