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

    def __post_init__(self) -> None:
        pts = np.asarray(self.points_m, dtype=float)
        if pts.ndim != 4 or pts.shape[1:] != (2, 5, 3):
            raise ValueError(f"points_m must have shape (frames, 2, 5, 3), got {pts.shape}")
        sd = np.broadcast_to(np.asarray(self.angle_sd_deg, dtype=float), pts.shape[:2]).copy()
        pts = pts.copy()
        pts.setflags(write=False)
        sd.setflags(write=False)
        object.__setattr__(self, "points_m", pts)
        object.__setattr__(self, "angle_sd_deg", sd)
        object.__setattr__(self, "assumptions", tuple(self.assumptions))


class Lifter(Protocol):
    """A floor-plane method. ``xy_px`` are cleaned image landmarks (frames, 33, 2)."""

    name: str

    def __call__(
        self,
        xy_px: NDArray[np.float64],
        world_xyz: NDArray[np.float64],
        frame_size_wh: NDArray[np.float64],
        config: Any,
    ) -> FloorPoints: ...
