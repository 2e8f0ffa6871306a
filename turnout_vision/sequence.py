"""``PoseSequence``: the one container that flows from extraction to analysis.

Shapes and units (F = frames, 33 = MediaPipe landmarks, see ``landmarks.py``):

=================  ===============  ==========================================================
field              shape            meaning
=================  ===============  ==========================================================
``image_xy``       (F, 33, 2)       image landmarks in **pixels** of the upright frame, x right,
                                    y down, origin at the top-left corner of the top-left pixel
``image_z``        (F, 33)          MediaPipe's relative depth of each image landmark, in pixels
                                    (same scale as x; smaller = closer to the camera)
``world_xyz``      (F, 33, 3)       MediaPipe world landmarks in **metres**, origin between the
                                    hips, x = the image's right, y down, z away from the camera
``visibility``     (F, 33)          MediaPipe visibility, 0..1
``presence``       (F, 33)          MediaPipe presence, 0..1
``toe_tip_xy``     (F, 2, 2)        tip of the toes per foot (0 = the dancer's left, 1 = her right)
                                    in pixels, from MediaPipe's person mask (``toe_tips``); NaN
                                    where not measured (older files, other tools)
``timestamps_s``   (F,)             presentation time of each frame in seconds, strictly increasing
``frame_size_wh``  (2,)             width and height of the upright frame in pixels
``meta``           mapping          source metadata: path, fps, rotation, model, ... (JSON-able)
=================  ===============  ==========================================================

A frame without a detected person is a row of NaN in every per-frame array (never zeros).
All arrays are float64 and read-only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import InputError
from .landmarks import NUM_LANDMARKS

NPZ_FORMAT_VERSION = 1

PER_FRAME_SHAPES: dict[str, tuple[int, ...]] = {  # trailing shape of each per-frame array
    "image_xy": (NUM_LANDMARKS, 2),
    "image_z": (NUM_LANDMARKS,),
    "world_xyz": (NUM_LANDMARKS, 3),
    "visibility": (NUM_LANDMARKS,),
    "presence": (NUM_LANDMARKS,),
    "toe_tip_xy": (2, 2),
}
OPTIONAL_FIELDS = ("image_z", "presence", "toe_tip_xy")
"""Per-frame arrays a sequence (and a landmark file) may lack: they are NaN then."""


def frozen_array(array: Any) -> NDArray[np.float64]:
    """A read-only float64 copy."""
    out = np.array(array, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class PoseSequence:
    """Pose landmarks of one person over the frames of one recording (see module docstring)."""

    image_xy: NDArray[np.float64]
    world_xyz: NDArray[np.float64]
    visibility: NDArray[np.float64]
    timestamps_s: NDArray[np.float64]
    frame_size_wh: NDArray[np.float64]
    image_z: NDArray[np.float64] | None = None
    presence: NDArray[np.float64] | None = None
    toe_tip_xy: NDArray[np.float64] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = np.shape(self.timestamps_s)[0] if np.ndim(self.timestamps_s) == 1 else -1
        if n < 0:
            raise ValueError(f"timestamps_s must have shape (frames,), got {np.shape(self.timestamps_s)}")
        set_ = object.__setattr__
        set_(self, "timestamps_s", frozen_array(self.timestamps_s))
        for name in OPTIONAL_FIELDS:
            if getattr(self, name) is None:
                set_(self, name, np.full((n, *PER_FRAME_SHAPES[name]), np.nan))
        for name, tail in PER_FRAME_SHAPES.items():
            value = frozen_array(getattr(self, name))
            if value.shape != (n, *tail):
                raise ValueError(f"{name} must have shape {(n, *tail)} (frames, ...), got {value.shape}")
            set_(self, name, value)
        size = frozen_array(self.frame_size_wh)
        if size.shape != (2,) or not np.all(size > 0):
            raise ValueError(f"frame_size_wh must be 2 positive numbers (width, height), got {size}")
        set_(self, "frame_size_wh", size)
        if n > 1 and not np.all(np.diff(self.timestamps_s) > 0):
            raise ValueError("timestamps_s must be strictly increasing")
        set_(self, "meta", MappingProxyType(dict(self.meta)))

    # ------------------------------------------------------------------ derived views
    @property
    def n_frames(self) -> int:
        return int(self.timestamps_s.shape[0])

    @property
    def detected(self) -> NDArray[np.bool_]:
        """(F,) True where a person was found in the frame."""
        return ~np.isnan(self.image_xy).all(axis=(1, 2))

    @property
    def fps(self) -> float:
        """Median frame rate from the timestamps (Hz); NaN for fewer than 2 frames."""
        if self.n_frames < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.timestamps_s)))

    def select(self, frames: slice | NDArray[np.bool_] | NDArray[np.intp]) -> PoseSequence:
        """A new sequence holding only the given frames (slice, boolean mask or indices)."""
        return PoseSequence(**{name: getattr(self, name)[frames] for name in PER_FRAME_SHAPES},
                            timestamps_s=self.timestamps_s[frames], frame_size_wh=self.frame_size_wh, meta=self.meta)

    # ------------------------------------------------------------------ file format
    def save_npz(self, path: str | Path) -> Path:
        """Write the sequence as a compressed ``.npz`` (format in the README); returns the path.

        The file is written under a temporary name and renamed, so a crash never leaves half a file.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial.npz")
        np.savez_compressed(
            tmp,
            format_version=np.int64(NPZ_FORMAT_VERSION),
            **{name: getattr(self, name) for name in PER_FRAME_SHAPES},
            timestamps_s=self.timestamps_s,
            frame_size_wh=self.frame_size_wh,
            meta_json=np.array(json.dumps(dict(self.meta), default=str)),
        )
        tmp.replace(path)
        return path

    @classmethod
    def load_npz(cls, path: str | Path) -> PoseSequence:
        """Read a landmark file written by ``save_npz`` (or by any tool following the README format).

        Required arrays: ``image_xy``, ``world_xyz``, ``visibility``, ``timestamps_s``,
        ``frame_size_wh``; ``image_z``, ``presence``, ``toe_tip_xy`` and ``meta_json`` are optional.
        """
        path = Path(path)
        if not path.is_file():
            raise InputError(f"Landmark file not found: {path}.", "Check the path, or create it with `turnout extract VIDEO -o FILE.npz`.")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except Exception as exc:  # zipfile.BadZipFile, ValueError, OSError ...
            raise InputError(f"{path} is not a readable landmark .npz file ({exc.__class__.__name__}).",
                             "Re-create it with `turnout extract VIDEO -o FILE.npz`.") from exc
        missing = [k for k in ("image_xy", "world_xyz", "visibility", "timestamps_s", "frame_size_wh") if k not in arrays]
        if missing:
            raise InputError(f"{path} lacks the arrays {', '.join(missing)}.",
                             "Re-create it with `turnout extract VIDEO -o FILE.npz`.")
        meta = json.loads(str(arrays["meta_json"])) if "meta_json" in arrays else {}
        try:
            return cls(**{name: arrays.get(name) for name in PER_FRAME_SHAPES},
                       timestamps_s=arrays["timestamps_s"], frame_size_wh=arrays["frame_size_wh"], meta=meta)
        except ValueError as exc:
            raise InputError(f"{path} holds inconsistent arrays: {exc}.",
                             "Re-create it with `turnout extract VIDEO -o FILE.npz`.") from exc

    @classmethod
    def empty(cls, n_frames: int, timestamps_s: NDArray[np.float64], frame_size_wh: tuple[float, float],
              meta: Mapping[str, Any] | None = None) -> PoseSequence:
        """A sequence of ``n_frames`` frames with no person detected anywhere (all NaN)."""
        return cls(
            image_xy=np.full((n_frames, NUM_LANDMARKS, 2), np.nan),
            world_xyz=np.full((n_frames, NUM_LANDMARKS, 3), np.nan),
            visibility=np.full((n_frames, NUM_LANDMARKS), np.nan),
            timestamps_s=timestamps_s,
            frame_size_wh=np.asarray(frame_size_wh, dtype=float),
            meta=meta or {},
        )
