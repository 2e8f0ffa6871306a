"""``ReportView``: the analysis result and the recording checks, in the shape the report draws.

This module is the one place that reads the analysis core's ``AnalysisResult`` (its per-frame arrays
and its JSON form); the CSV, HTML and annotated-video writers read only the view. Numbers are floats
(NaN = unknown), angles in degrees, times in seconds, sides in ``landmarks.SIDES`` order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..analysis.recording import RecordingCheck, RecordingIssue
from ..landmarks import SIDES

NAN = float("nan")

PER_FRAME_SERIES = ("knee_flexion_deg", "foot_rotation_deg", "leg_rotation_deg", "forced_turnout_deg",
                    "knee_offset_ratio")
"""Per-frame, per-side series (F, 2) the report shows, when the result has them."""


@dataclass(frozen=True)
class SideView:
    """Summary of one leg over the pliés."""

    side: str
    foot_rotation_deg: float = NAN
    leg_rotation_deg: float = NAN
    forced_turnout_deg: float = NAN
    knee_offset_ratio: float = NAN
    """Knee offset from the foot axis at the bottom, in foot lengths; < 0 = inside the toes,
    > 0 = outside (the analysis core's ``knee_over_toe.ratio``)."""
    rolling_deg: float = NAN
    sd_deg: float = NAN
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RepView:
    """One plié: its timing and per-side numbers at its bottom."""

    index: int
    start_s: float
    bottom_s: float
    end_s: float
    bottom_frame: int
    depth_deg: float = NAN
    kind: str = "demi"
    """"demi" or "grand" (grand pliés are shown but do not enter the verdict)."""
    sides: tuple[SideView, SideView] = (SideView("left"), SideView("right"))


@dataclass(frozen=True)
class ReportView:
    """What the report shows about one video."""

    sides: tuple[SideView, SideView]
    reps: tuple[RepView, ...]
    times_s: NDArray[np.float64]
    series: Mapping[str, NDArray[np.float64]]
    """Name -> (F, 2) per-side series (see ``PER_FRAME_SERIES``)."""
    frame_flags: Mapping[str, NDArray[np.bool_]] = field(default_factory=dict)
    """Flag name -> (F, 2) per-side booleans (e.g. knee_inside_toes)."""
    confidence: NDArray[np.float64] | None = None
    """(F,) 0..1 confidence of each frame."""
    phase: Sequence[str] | None = None
    """(F,) plié phase label of each frame ("standing", "down", "bottom", "up", "")."""
    hips_unstable: bool = False
    pelvis_motion_deg: float = NAN
    warnings: tuple[str, ...] = ()
    refusal: str | None = None
    no_plie: bool = False
    recording: RecordingCheck | None = None
    thresholds: Mapping[str, Any] = field(default_factory=dict)

    @property
    def recording_issues(self) -> tuple[RecordingIssue, ...]:
        return self.recording.issues if self.recording else ()

    @property
    def n_frames(self) -> int:
        return int(self.times_s.shape[0])


# ---------------------------------------------------------------------------------------- adapters

def _num(item: Any) -> float:
    """A number from a result value that may be wrapped ({"value": x, "sd": y}) or missing."""
    if isinstance(item, Mapping):
        for key in ("value", "mean", "deg", "ratio", "median"):
            if key in item:
                return _num(item[key])
        return NAN
    if isinstance(item, bool) or item is None:
        return NAN
    try:
        return float(item)
    except (TypeError, ValueError):
        return NAN


def _sd(item: Any) -> float:
    if isinstance(item, Mapping):
        for key in ("sd", "sd_deg", "uncertainty", "uncertainty_deg", "std"):
            if key in item:
                return _num(item[key])
    return NAN


def _first(d: Mapping[str, Any], *keys: str) -> Any:
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def _flag_names(flags: Any, side: str | None = None) -> tuple[str, ...]:
    """Flag names raised, from a dict {name: bool | {raised: bool, side(s): ...}} or a list."""
    names: list[str] = []
    if isinstance(flags, Mapping):
        for name, v in flags.items():
            if isinstance(v, Mapping):
                raised = bool(_first(v, "raised", "value", "flag"))
                sides = _first(v, "sides", "side")
                if side is not None and sides is not None:
                    sides_l = [sides] if isinstance(sides, str) else list(sides)
                    if isinstance(sides, Mapping):
                        raised = bool(sides.get(side))
                    elif side not in sides_l:
                        raised = False
                if raised:
                    names.append(str(name))
            elif isinstance(v, bool) and v:
                names.append(str(name))
            elif isinstance(v, Mapping | list) is False and side is not None and isinstance(v, Sequence) and side in v:
                names.append(str(name))
    elif isinstance(flags, Sequence) and not isinstance(flags, str):
        for f in flags:
            if isinstance(f, Mapping):
                fside = f.get("side")
                if side is None or fside in (None, side, "both"):
                    if f.get("raised", True):
                        names.append(str(_first(f, "name", "code", "flag")))
            else:
                names.append(str(f))
    return tuple(dict.fromkeys(names))


def side_view(side: str, d: Mapping[str, Any] | None, flags: Any = None) -> SideView:
    d = d or {}
    foot = _first(d, "foot_rotation_deg", "foot_rotation", "foot_deg")
    leg = _first(d, "leg_rotation_deg", "leg_rotation", "leg_deg")
    forced = _first(d, "forced_turnout_deg", "forced_turnout", "forced_deg")
    knee = _first(d, "knee_offset_ratio", "knee_over_toe", "knee_offset", "knee_inside_ratio")
    roll = _first(d, "rolling_deg", "rolling_in_deg", "pronation_deg", "foot_roll_deg")
    sd = _sd(forced)
    if not np.isfinite(sd):
        sd = _num(_first(d, "angle_sd_deg", "sd_deg", "uncertainty_deg"))
    f_names = list(_flag_names(d.get("flags")))
    if flags is not None:
        f_names += list(_flag_names(flags, side))
    foot_v, leg_v = _num(foot), _num(leg)
    forced_v = _num(forced)
    if not np.isfinite(forced_v) and np.isfinite(foot_v) and np.isfinite(leg_v):
        forced_v = foot_v - leg_v
    return SideView(side, foot_v, leg_v, forced_v, _num(knee), _num(roll), sd,
                    tuple(n for n in dict.fromkeys(f_names) if n not in ("hips_unstable",)))


def _array(obj: Any, *names: str) -> NDArray[np.float64] | None:
    for name in names:
        v = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if v is not None:
            try:
                return np.asarray(v, dtype=float)
            except (TypeError, ValueError):
                continue
    return None


def build_view(result: Any, result_json: Mapping[str, Any], times_s: NDArray[np.float64],
               recording: RecordingCheck | None = None, phase: Sequence[str] | None = None,
               extra_warnings: Sequence[str] = ()) -> ReportView:
    """The view of an ``AnalysisResult`` (``result``; may be None) and its JSON form (``result_json``).

    ``times_s`` are the frames' timestamps (the video's frames, one row of the CSV each);
    ``phase`` a label per frame; ``extra_warnings`` sentences from other stages (extraction).
    """
    n = int(np.asarray(times_s).shape[0])
    summary = result_json.get("summary") or {}
    flags = result_json.get("flags")
    sides = tuple(side_view(s, _first(summary, s, f"{s}_leg") if isinstance(summary, Mapping) else None, flags)
                  for s in SIDES)
    reps = []
    for i, r in enumerate(result_json.get("reps") or []):
        rs = tuple(side_view(s, _first(r, s) or (r.get("sides") or {}).get(s), r.get("flags")) for s in SIDES)
        start = _num(_first(r, "start_s", "start_time_s", "t_start_s"))
        bottom = _num(_first(r, "bottom_s", "bottom_time_s", "t_bottom_s"))
        end = _num(_first(r, "end_s", "end_time_s", "t_end_s"))
        bf = _first(r, "bottom_frame", "bottom_index", "i_bottom")
        if bf is None and np.isfinite(bottom) and n:
            bf = int(np.argmin(np.abs(np.asarray(times_s) - bottom)))
        reps.append(RepView(i + 1, start, bottom, end, int(bf) if bf is not None else -1,
                            _num(_first(r, "depth_deg", "knee_flexion_deg", "max_knee_flexion_deg")),
                            str(_first(r, "kind", "type") or "demi"), rs))  # type: ignore[arg-type]

    series: dict[str, NDArray[np.float64]] = {}
    frames_src = getattr(result, "frames", None) if result is not None else None
    for src in (frames_src, result):
        if src is None:
            continue
        for name in PER_FRAME_SERIES:
            if name in series:
                continue
            a = _array(src, name)
            if a is not None and a.shape == (n, 2):
                series[name] = a
    if "forced_turnout_deg" not in series and {"foot_rotation_deg", "leg_rotation_deg"} <= series.keys():
        series["forced_turnout_deg"] = series["foot_rotation_deg"] - series["leg_rotation_deg"]
    frame_flags: dict[str, NDArray[np.bool_]] = {}
    for src in (frames_src, result):
        if src is None:
            continue
        ff = src.get("flags") if isinstance(src, Mapping) else getattr(src, "frame_flags", None)
        if isinstance(ff, Mapping):
            for k, v in ff.items():
                a = np.asarray(v)
                if a.shape == (n, 2):
                    frame_flags.setdefault(str(k), a.astype(bool))
    conf = None
    for src in (frames_src, result):
        if src is not None and conf is None:
            c = _array(src, "confidence", "frame_confidence")
            if c is not None and c.shape[0] == n:
                conf = c if c.ndim == 1 else np.nanmin(c, axis=tuple(range(1, c.ndim)))

    hips_flags = _flag_names(flags)
    pelvis = result_json.get("pelvis") or (summary.get("pelvis") if isinstance(summary, Mapping) else None) or {}
    pelvis_deg = NAN
    if isinstance(pelvis, Mapping):
        vals = [abs(_num(pelvis.get(k))) for k in ("tilt_deg", "rotation_deg", "max_tilt_deg", "motion_deg")]
        vals = [v for v in vals if np.isfinite(v)]
        pelvis_deg = max(vals) if vals else NAN
    warnings = []
    for w in result_json.get("warnings") or []:
        if isinstance(w, Mapping):
            warnings.append(str(_first(w, "message", "text", "sentence", "code")))
        else:
            warnings.append(str(w))
    warnings = list(dict.fromkeys([*extra_warnings, *warnings]))
    status = result_json.get("status")
    refusal = _first(result_json, "refusal")
    if refusal is None and isinstance(result_json.get("method"), Mapping) and status in (None, "refused"):
        # the core also refuses clips with no plié (feet moving); then "no plié" is the message
        refusal = result_json["method"].get("refusal")
    if status is None:
        no_plie = not any(r.kind == "demi" for r in reps)
    else:
        no_plie = status in ("no_plie", "no_person")
    if phase is None and frames_src is not None:
        ph = frames_src.get("phase") if isinstance(frames_src, Mapping) else None
        if ph is not None and len(ph) == n:
            phase = [str(x) for x in ph]
    return ReportView(
        sides=sides,  # type: ignore[arg-type]
        reps=tuple(reps),
        times_s=np.asarray(times_s, dtype=float),
        series=series,
        frame_flags=frame_flags,
        confidence=conf,
        phase=list(phase) if phase is not None else None,
        hips_unstable="hips_unstable" in hips_flags or any("hips_unstable" in s.flags for s in sides),
        pelvis_motion_deg=pelvis_deg,
        warnings=tuple(warnings),
        refusal=str(refusal) if refusal else None,
        no_plie=no_plie,
        recording=recording,
        thresholds=dict((result_json.get("config") or {}).get("flags") or {}),
    )
