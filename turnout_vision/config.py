"""Every default of turnout_vision, in one place.

Layers, later ones win: the defaults below -> a TOML file (``--config FILE``) -> CLI flags.
Merging is deep (a TOML file that sets ``[flags] forced_turnout_deg`` keeps every other default),
unknown keys are errors, and the effective configuration is written into every result
(``Config.to_dict()``). ``turnout config`` prints it as TOML.

Example TOML::

    [flags]
    forced_turnout_deg = 12.0

    [camera]
    vfov_deg = 65.0
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

from .errors import InputError


@dataclass(frozen=True)
class ModelConfig:
    """Pose model and MediaPipe Pose Landmarker options."""

    complexity: str = "full"
    """Which pose_landmarker network: "full" is built from PyPI; "lite"/"heavy" need ``task_path``."""
    task_path: str | None = None
    """An official ``pose_landmarker_*.task`` file; preferred over the built model when set
    (also ``TURNOUT_MODEL_TASK`` in the environment)."""
    num_poses: int = 1
    mirror_average: bool = True
    """Run the landmarker a second time on the mirrored frame and average the two poses (left and right
    swapped back): MediaPipe's errors that depend on which way the body faces partly cancel (renders,
    foot rotation p95 10.7 -> 5.6 deg; README.md, "How turnout is measured from one camera"). Costs a
    second inference per frame. Only with ``num_poses == 1``; the live preview always runs one pass."""
    toe_tips: bool = True
    """Also ask MediaPipe for its person mask and take each foot's toe tip from it (``toe_tips``;
    stored as ``toe_tip_xy``): MediaPipe's foot_index lands well short of the tips, the mask's outline does
    not (renders: 1-3 px off against 14-25 px). The "camera" floor method fits the tips in place of
    foot_index. The live preview does without (frame rate)."""
    min_pose_detection_confidence: float = 0.5
    min_pose_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


@dataclass(frozen=True)
class CameraConfig:
    """What is known about the camera; None = estimate it from the clip."""

    vfov_deg: float | None = None
    """Vertical field of view of the (upright) frame in degrees, if known (phone spec sheet)."""
    camera_height_m: float | None = None
    """Height of the lens above the floor in metres, if measured."""
    default_vfov_deg: float = 60.0
    """Prior for the vertical field of view when it is not given (typical phone main camera, portrait).
    The "camera" floor method applies it to the frame's long side, so a landscape video gets the same
    focal length in pixels as the same phone held upright."""
    focal_px: float | None = None
    """Focal length in pixels, if known (e.g. from ``turnout_vision.floor_marker``); wins over vfov_deg."""
    pitch_deg: float | None = None
    """Camera pitch, negative = looking down, if known (e.g. from a floor marker)."""
    roll_deg: float | None = None
    """Camera roll about the optical axis, if known (e.g. from a floor marker)."""


@dataclass(frozen=True)
class AnalysisConfig:
    """Which floor-plane method turns image landmarks into floor-plane angles."""

    method: str = "camera"
    """"camera": estimated pinhole camera and ground plane (docs/CONVENTIONS.md);
    "world": MediaPipe's world landmarks levelled onto the floor (a baseline; under-reads turnout)."""
    min_floor_view_deg: float = 7.0
    """"camera" method: refuse when the viewing ray to the feet meets the floor at less than this
    angle even from a camera one standard deviation higher than the fitted one (a camera looking along
    the floor foreshortens the feet's forward extent beyond use; the fitted height is uncertain by
    0.1-0.2 m unless given, and on rendered clips 1.1 m high it had put the view at 6.9 deg, true 16)."""
    min_hip_width_ratio: float = 0.12
    """"camera" method: refuse (side view) when the hips' width in the image is below this fraction of
    the leg length in the image (about 0.25 for a frontal view)."""
    fit_max_frames: int = 60
    """"camera" method: at most this many evenly spaced frames enter the least-squares fit."""
    fit_starts_deg: tuple[float, ...] = (35.0, 60.0, 80.0)
    """"camera" method: foot rotations the fit starts from (the best fit wins; more starts, fewer
    local minima, more time). ``turnout live`` uses 20 frames and one start for its quick knee cue."""


@dataclass(frozen=True)
class SmoothingConfig:
    """Outlier rejection and zero-phase low-pass filtering of landmark tracks."""

    outlier_n_sigmas: float = 3.0
    """A sample more than this many robust standard deviations off its neighbours is an outlier."""
    min_sigma_px: float = 0.5
    """Smallest landmark noise (pixels) the outlier test assumes, so clean tracks keep their samples."""
    min_sigma_m: float = 0.003
    """The same for world landmarks (metres)."""
    cutoff_hz: float = 6.0
    """Butterworth cut-off frequency (Hz); capped below the Nyquist frequency of the clip."""
    order: int = 4
    max_gap_s: float = 0.5
    """Gaps of missing frames up to this long are interpolated; longer gaps stay NaN."""
    min_visibility: float = 0.3
    """Landmarks with MediaPipe visibility below this are treated as missing."""


@dataclass(frozen=True)
class PlieConfig:
    """Finding demi-pliés in the knee-flexion signal."""

    min_depth_deg: float = 15.0
    """A knee bend shallower than this (deg, mean of both knees) is not a plié."""
    grand_plie_deg: float = 100.0
    """Deeper than this (deg) is reported as a grand plié, not a demi-plié."""
    standing_max_deg: float = 12.0
    """Knee flexion below this (deg) counts as standing with straight legs."""
    min_duration_s: float = 0.6
    max_duration_s: float = 20.0
    bottom_window_frac: float = 0.25
    """Rotations are evaluated where knee flexion is within this fraction of the depth below the bottom."""
    edge_frac: float = 0.1
    """A plié starts (ends) where knee flexion last (first) lies within this fraction of its depth
    above the standing level before (after) the bottom."""
    min_knee_symmetry: float = 0.5
    """Both knees must bend: the smaller knee's bend over the larger's at the bottom must reach this,
    or the movement is a weight shift (balancé), not a plié."""
    feet_moved_ratio: float = 0.5
    """A heel or toe that slides more than this fraction of the foot length during the movement
    makes it a step or tendu, not a plié."""
    detect_cutoff_hz: float = 1.5
    """The mean knee flexion is low-passed at this frequency (Hz) before pliés are searched, so that
    jitter of a noisy floor method does not make extra knee bends."""
    leg_rotation_min_flexion_deg: float = 15.0
    """Leg rotation (the knee's travel direction) is only defined where the knee bends at least this much."""


@dataclass(frozen=True)
class FlagConfig:
    """Thresholds for the flags. No validated clinical cut-off exists; these are teaching defaults."""

    forced_turnout_deg: float = 10.0
    """Flag ``forced_turnout`` when foot rotation exceeds leg rotation by more than this (deg)."""
    knee_inside_toes_ratio: float = 0.15
    """Flag ``knee_inside_toes`` when the knee lands inside the foot axis by more than this fraction
    of the foot length at the bottom of the plié."""
    rolling_deg: float = 10.0
    """Flag ``rolling_in`` when the foot rolls in (pronates) by more than this (deg) during the plié."""
    pelvis_tilt_deg: float = 5.0
    """Flag ``hips_unstable`` when the pelvis tilts or rotates more than this (deg) during the plié."""
    pelvis_sway_ratio: float = 0.15
    """... or sways sideways more than this fraction of the hip width."""
    weight_shift_ratio: float = 0.25
    """Flag ``weight_shift`` when the pelvis centre sits more than this fraction of the hip width to one
    side of the midpoint of the ankles at the bottom of the plié."""


@dataclass(frozen=True)
class RecordingConfig:
    """Thresholds of the recording checks (``analysis/recording.py``)."""

    edge_margin_frac: float = 0.01
    """A landmark further than this fraction of the frame size outside the image is out of frame."""
    min_visibility: float = 0.3
    min_out_of_frame_s: float = 0.2
    """Shorter excursions out of frame are ignored (tracking glitches)."""
    min_person_frac: float = 0.5
    """Warn when a person is found in fewer than this fraction of the frames."""
    min_foot_px: float = 35.0
    """Feet shorter than this (estimated, pixels) limit the verdict."""
    good_foot_px: float = 60.0
    """Feet shorter than this get a suggestion to come closer."""
    frontality_warn: float = 0.8
    """Below this (~37 degrees from frontal) the view is reported as turned (a warning)."""
    frontality_refuse: float = 0.55
    """Below this (~57 degrees from frontal) the view is a side view: no turnout verdict."""
    max_shift_frac: float = 0.04
    """Camera moving by more than this fraction of the leg length over the clip is unsteady."""
    max_jitter_frac: float = 0.006
    """... or shaking more than this fraction of the leg length from frame to frame (median)."""
    dark_luma: float = 45.0
    bright_luma: float = 235.0
    min_foot_visibility: float = 0.5
    min_fps: float = 20.0

@dataclass(frozen=True)
class TrackingConfig:
    """How readily poses are linked into dancer tracks (``tracking.assign_tracks``)."""

    max_gap_s: float = 1.5
    max_cost: float = 1.0
    appearance_weight: float = 2.0
    size_weight: float = 2.0
    """Weight of |log(body size / track's body size)|: dancers at different distances from the
    camera differ in apparent size."""

@dataclass(frozen=True)
class MergeConfig:
    """When two tracks that never overlap in time are taken to be one dancer (``merge_fragments``)."""

    max_gap_s: float = 6.0
    """Fragments further apart in time are never joined."""
    max_cost: float = 1.2
    """Largest accepted cost: position jump in body sizes (beyond ``speed_body_per_s`` times the gap)
    plus ``appearance_weight`` times the difference of body proportions."""
    speed_body_per_s: float = 0.5
    """How far (body sizes per second) a dancer may have moved while nobody saw her."""
    appearance_weight: float = 2.0
    size_weight: float = 2.0

@dataclass(frozen=True)
class MultiConfig:
    """Class footage (``--max-dancers``): how poses become dancers and when a dancer can be scored."""

    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    merge: MergeConfig = field(default_factory=MergeConfig)
    duplicate_distance: float = 0.35
    """Two poses of one frame closer than this (mean core-landmark distance in body sizes) are one person."""
    min_track_s: float = 0.5
    """Tracks seen for less than this (and fewer than ``min_track_frames``) are spurious detections: dropped."""
    min_track_frames: int = 8
    min_seen_frac: float = 0.5
    """A dancer seen in fewer than this fraction of the video's frames is not scorable (mostly out of view)."""
    blocking_issues: tuple[str, ...] = ("no_person", "side_view", "person_missing", "feet_out_of_frame",
                                        "body_out_of_frame")
    """Recording issues that make a dancer not scorable when they limit the verdict."""


@dataclass(frozen=True)
class Config:
    """The effective configuration of one run; ``Config()`` is the defaults."""

    model: ModelConfig = field(default_factory=ModelConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    plie: PlieConfig = field(default_factory=PlieConfig)
    flags: FlagConfig = field(default_factory=FlagConfig)
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    multi: MultiConfig = field(default_factory=MultiConfig)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """Nested plain dict (JSON/TOML-able: tuples become lists; None values included)."""
        return _plain(dataclasses.asdict(self))

    def merged(self, overrides: Mapping[str, Any]) -> Config:
        """A copy with ``overrides`` deep-merged in.

        ``overrides`` is nested (``{"flags": {"forced_turnout_deg": 12}}``) or dotted
        (``{"flags.forced_turnout_deg": 12}``). Unknown sections or keys raise ``InputError``.
        """
        return _merge(self, _undot(overrides), "")

    @classmethod
    def from_toml(cls, path: str | Path, base: Config | None = None) -> Config:
        """Defaults (or ``base``) overridden by a TOML file."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"Configuration file not found: {path}.", "Check the path given to --config.") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not valid TOML: {exc}.", "Fix the file, or start from `turnout config > my.toml`.") from None
        return (base or cls()).merged(data)


def load_config(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> Config:
    """Defaults -> TOML file (optional) -> overrides (e.g. from CLI flags; None values are ignored)."""
    config = Config.from_toml(path) if path else Config()
    if overrides:
        config = config.merged({k: v for k, v in overrides.items() if v is not None})
    return config


_T = TypeVar("_T")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _undot(overrides: Mapping[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, value in overrides.items():
        parts = key.split(".")
        node = nested
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        if isinstance(value, Mapping) and isinstance(node.get(parts[-1]), dict):
            node[parts[-1]].update(_undot(value))
        else:
            node[parts[-1]] = _undot(value) if isinstance(value, Mapping) else value
    return nested


def _merge(obj: _T, overrides: Mapping[str, Any], where: str) -> _T:
    hints = get_type_hints(type(obj))
    names = {f.name for f in dataclasses.fields(obj)}  # type: ignore[arg-type]
    changes: dict[str, Any] = {}
    for key, value in overrides.items():
        path = f"{where}{key}"
        if key not in names:
            raise InputError(f"Unknown configuration key '{path}'.", "Run `turnout config` to see every key.")
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise InputError(f"Configuration '{path}' must be a table of keys.", "Run `turnout config` to see its keys.")
            changes[key] = _merge(current, value, path + ".")
        else:
            changes[key] = _coerce(value, hints[key], path)
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]


def _coerce(value: Any, hint: Any, path: str) -> Any:
    text = str(hint)
    if value is None:
        if "None" in text:
            return None
        raise InputError(f"Configuration '{path}' cannot be empty.", "Give it a value.")
    if text.startswith("tuple") and isinstance(value, (list, tuple)):
        if "str" in text and all(isinstance(v, str) for v in value):
            return tuple(value)
        if "float" in text and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return tuple(float(v) for v in value)
    for kind in (bool, int, float, str):
        if kind.__name__ in text.replace("None", ""):
            try:
                if kind is float and not isinstance(value, bool):
                    return float(value)
                if kind is int and isinstance(value, (int, str)) and not isinstance(value, bool):
                    return int(value)
                if kind is bool and isinstance(value, bool):
                    return value
                if kind is str and isinstance(value, str):
                    return value
            except (TypeError, ValueError):
                pass
    raise InputError(f"Configuration '{path}' has the wrong type ({value!r}; expected {text}).",
                     "Run `turnout config` to see the expected values.")
