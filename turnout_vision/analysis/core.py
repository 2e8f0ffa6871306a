"""``analyze(sequence, config) -> AnalysisResult``: the whole analysis of one recording.

Stages (each its own module): clean the landmark tracks (``smoothing``) -> floor-plane method
(``lifting``; swappable via ``analysis.method`` or the ``lifter`` argument) -> per-frame measures
(``metrics``) -> pliés (``reps``) -> per-plié values around the bottom, the standing foot rotation,
summary, flags (here) -> ``result.AnalysisResult``. Definitions: docs/CONVENTIONS.md.

Example::

    from turnout_vision.synthetic import generate
    from turnout_vision.analysis.core import analyze
    result = analyze(generate().sequence)
    result.to_dict()["summary"]["left"]["forced_turnout_deg"]   # {"value": ..., "sd": ...}
"""

from __future__ import annotations

import json
import math
import warnings as _warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import landmarks as lm
from ..config import Config
from ..errors import InputError
from ..sequence import PoseSequence
from .lifting import FloorPoints, get_lifter, lift_world
from .metrics import FrameMetrics, frame_metrics, knee_flexion_deg
from .reps import Rep, find_reps, mean_flexion
from .result import SIDES, AnalysisResult, flag, number, unknown, value, warning
from .smoothing import smooth_tracks

_F = NDArray[np.float64]
LifterFn = Callable[..., FloorPoints]

_USED = np.unique(np.concatenate([lm.LEG_INDEX.ravel(), [lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER]]))
"""Landmarks that are cleaned and smoothed (legs and shoulders); the others pass through raw."""


# ---------------------------------------------------------------------------------------------- helpers
def _nanmedian(a: _F, axis: int | None = None) -> Any:
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


def _nanstd(a: _F) -> float:
    a = np.asarray(a, dtype=float)
    a = a[np.isfinite(a)]
    return float(np.std(a)) if a.size > 1 else 0.0


def _window(a: _F, sd: _F, w0: int, w1: int) -> tuple[float, float]:
    """Median of ``a[w0:w1+1]`` and its sd: sqrt(median stated sd^2 + spread^2); NaN if no data."""
    seg = a[w0:w1 + 1]
    if not np.isfinite(seg).any():
        return math.nan, math.nan
    v = float(_nanmedian(seg))
    s = float(_nanmedian(sd[w0:w1 + 1])) if np.isfinite(sd[w0:w1 + 1]).any() else math.nan
    return v, math.hypot(s, _nanstd(seg)) if math.isfinite(s) else _nanstd(seg)


def _combine(vals: list[float], sds: list[float]) -> tuple[float, float]:
    """Mean of per-plié values; sd = sqrt(mean sd^2 + variance / n) (method error does not average out)."""
    v = np.array(vals, dtype=float)
    s = np.array(sds, dtype=float)
    ok = np.isfinite(v)
    if not ok.any():
        return math.nan, math.nan
    v, s = v[ok], s[ok]
    spread = float(np.var(v, ddof=1)) / v.size if v.size > 1 else 0.0
    base = float(np.mean(s[np.isfinite(s)] ** 2)) if np.isfinite(s).any() else 0.0
    return float(np.mean(v)), math.sqrt(base + spread)


def _meta_json(meta: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(json.dumps(dict(meta), default=str, allow_nan=False))
    except ValueError:
        return {k: str(v) for k, v in meta.items()}


# ---------------------------------------------------------------------------------------------- stages
def clean_landmarks(sequence: PoseSequence, config: Config) -> tuple[_F, _F, dict[str, float]]:
    """Smoothed copies of ``image_xy`` (F, 33, 2) and ``world_xyz`` (F, 33, 3) (legs and shoulders;
    others raw) and a few numbers about the cleaning (fraction filled, outliers, pixel noise)."""
    s = config.smoothing
    xy = np.array(sequence.image_xy, dtype=float)
    world = np.array(sequence.world_xyz, dtype=float)
    n = sequence.n_frames
    vis = sequence.visibility[:, _USED]
    with np.errstate(invalid="ignore"):
        low = vis < s.min_visibility                                         # NaN visibility = keep
    sub_xy = xy[:, _USED].copy()
    sub_w = world[:, _USED].copy()
    sub_xy[low] = np.nan
    sub_w[low] = np.nan
    info = {"filled_frac": 0.0, "outlier_frac": 0.0, "noise_px": math.nan}
    fps = sequence.fps
    if n >= 3 and math.isfinite(fps):
        kw = dict(cutoff_hz=s.cutoff_hz, order=s.order, n_sigmas=s.outlier_n_sigmas, max_gap_s=s.max_gap_s)
        sx = smooth_tracks(sub_xy, fps, min_sigma=s.min_sigma_px, **kw)
        sw = smooth_tracks(sub_w, fps, min_sigma=s.min_sigma_m, **kw)
        sub_xy, sub_w = sx.values, sw.values
        info = {"filled_frac": float(sx.filled.mean()), "outlier_frac": float(sx.outliers.mean()),
                "noise_px": float(_nanmedian(sx.noise_sd))}
    xy[:, _USED] = sub_xy
    world[:, _USED] = sub_w
    return xy, world, info


def resolve_lifter(name: str) -> tuple[LifterFn, str | None]:
    """The floor method called ``name`` and, when it had to fall back to "world", why."""
    try:
        return get_lifter(name), None  # type: ignore[return-value]
    except KeyError as exc:
        raise InputError(f"Unknown floor method '{name}' (analysis.method).", "Use \"camera\" or \"world\".") from exc
    except LookupError as exc:
        return lift_world, f"The {name} floor method is not available here ({exc}); used the world method instead."  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------------- analyze
def analyze(sequence: PoseSequence, config: Config | None = None, *, lifter: LifterFn | None = None) -> AnalysisResult:
    """Analyse one recording. ``lifter`` overrides ``config.analysis.method`` (e.g. a truth lifter in tests)."""
    from .. import __version__

    cfg = config or Config()
    n = sequence.n_frames
    t = np.asarray(sequence.timestamps_s, dtype=float)
    warns: list[dict[str, str]] = []
    source = {
        "n_frames": n,
        "fps": number(sequence.fps),
        "duration_s": number(float(t[-1] - t[0]) if n > 1 else 0.0),
        "frame_size_wh": [float(v) for v in sequence.frame_size_wh],
        "detected_frames": int(sequence.detected.sum()),
        "meta": _meta_json(sequence.meta),
    }
    base = dict(source=source, config=cfg.to_dict(), tool_version=__version__)
    if n == 0 or not sequence.detected.any():
        reason = "No person was found in any frame."
        return AnalysisResult(status="no_person", status_reason=reason,
                              method={"name": None, "requested": cfg.analysis.method, "assumptions": [], "camera": {},
                                      "refusal": None, "unreliable": {}},
                              warnings=[warning("no_person", reason)], reps=[], rejected_movements=[],
                              summary=_empty_summary(reason), flags=[], frames={"time_s": t}, **base)
    if n > 1 and sequence.fps < 20:
        warns.append(warning("low_fps", f"The clip has {sequence.fps:.0f} frames per second; below 20 the "
                                        "bottom of a plié may be missed and angles get noisier."))
    detected_frac = float(sequence.detected.mean())
    if detected_frac < 0.8:
        warns.append(warning("few_detections", f"A person was found in only {100 * detected_frac:.0f}% of the frames."))

    # 1. clean the tracks
    xy, world, clean_info = clean_landmarks(sequence, cfg)
    if clean_info["filled_frac"] > 0.2:
        warns.append(warning("many_gaps", f"{100 * clean_info['filled_frac']:.0f}% of the leg landmark samples were "
                                          "missing, unsure or outliers and were interpolated."))

    # 2. floor-plane method
    if lifter is None:
        lifter, fallback = resolve_lifter(cfg.analysis.method)
        if fallback:
            warns.append(warning("method_fallback", fallback))
    floor = lifter(xy, world, sequence.frame_size_wh, cfg, toe_tip_px=sequence.toe_tip_xy)
    if floor.points_m.shape[0] != n:
        raise ValueError(f"the floor method returned {floor.points_m.shape[0]} frames for a {n}-frame sequence")
    if floor.method == "world":
        warns.append(warning("world_method", "Floor angles come from MediaPipe's world landmarks, whose depth is "
                                             "compressed: turnout is under-read (a baseline, not a measurement)."))
    if floor.refusal:
        warns.append(warning("method_refused", floor.refusal))
    warns.extend(warning("floor_method_note", note) for note in floor.notes)
    unreliable = dict(floor.unreliable)
    if floor.refusal:
        for key in ("foot_rotation", "leg_rotation", "knee_over_toe", "rolling", "pelvis_tilt", "pelvis_rotation",
                    "pelvis_sway", "weight_shift"):
            unreliable.setdefault(key, floor.refusal)

    # 3. per-frame measures
    fm = frame_metrics(floor.points_m, floor.angle_sd_deg, cfg.plie.leg_rotation_min_flexion_deg,
                       floor.foot_extra_sd_deg)
    flex = fm.knee_flexion_deg
    flex_source = "floor"
    if not np.isfinite(flex).any():
        wl = world[:, lm.LEG_INDEX]
        flex = knee_flexion_deg(np.stack([wl[..., 0], -wl[..., 2], -wl[..., 1]], axis=-1))
        flex_source = "world"

    # 4. pliés
    foot_len = float(_nanmedian(fm.foot_length_m)) if np.isfinite(fm.foot_length_m).any() else math.nan
    legs_px = xy[:, lm.LEG_INDEX]                                                  # (F, 2, 5, 2)
    shank_px = np.linalg.norm(legs_px[:, :, lm.ANKLE] - legs_px[:, :, lm.KNEE], axis=-1)
    foot_px = 0.6 * float(_nanmedian(shank_px)) if np.isfinite(shank_px).any() else math.nan
    reps, rejected = find_reps(t, flex, cfg.plie, legs_px[:, :, 3:], foot_px,
                               leg_extent_px=legs_px[:, :, lm.ANKLE, 1] - legs_px[:, :, lm.HIP, 1])

    ctx = _Context(cfg, t, fm, flex, floor, unreliable, foot_len)
    rep_json = [ctx.rep(i, r, reps[i - 1].end if i > 0 else 0) for i, r in enumerate(reps)]
    rej_json = [{"start_s": number(t[r.start]), "bottom_s": number(t[r.bottom]), "end_s": number(t[r.end]),
                 "kind": r.kind, "reason": r.reason} for r in rejected]
    demi = [i for i, r in enumerate(reps) if r.kind == "demi"]
    if any(r.kind == "grand" for r in reps):
        warns.append(warning("grand_plie", "A grand plié was found; only demi-pliés enter the summary."))
    for r in rejected:
        warns.append(warning(f"not_a_plie_{r.kind}", f"At {t[r.bottom]:.1f} s: {r.reason}."))

    standing_end = reps[0].start if reps else n
    summary = ctx.summary([rep_json[i] for i in demi], standing_end)
    flags = ctx.top_flags(summary, [rep_json[i] for i in demi])

    # a view the floor method refuses (side view, facing away, grazing camera, ...) is the answer even when no
    # plié is found; only the lifter's "not a first-position plié" refusal yields to "no plié"
    view_refusal = bool(floor.refusal) and floor.camera.get("refusal_kind") != "model"
    if view_refusal:
        status, status_reason = "refused", floor.refusal
    elif not demi:
        status = "no_plie"
        reason = "No demi-plié was found"
        if any(r.kind == "grand" for r in reps):
            reason += " (only grand pliés)"
        elif rejected:
            reason += " (" + "; ".join(sorted({r.kind.replace("_", " ") for r in rejected})) + ")"
        status_reason = reason + "."
    elif floor.refusal:
        status, status_reason = "refused", floor.refusal
    else:
        status, status_reason = "ok", None

    frames, frame_flags = ctx.frames(reps, sequence, flex_source)
    method = {
        "name": floor.method,
        "requested": cfg.analysis.method,
        "assumptions": list(floor.assumptions),
        "camera": _meta_json(floor.camera),
        "refusal": floor.refusal,
        "unreliable": unreliable,
        "angle_sd_deg": number(_nanmedian(floor.angle_sd_deg)) if np.isfinite(floor.angle_sd_deg).any() else None,
        "knee_flexion_from": flex_source,
        "smoothing": {k: number(v, 4) for k, v in clean_info.items()},
    }
    return AnalysisResult(status=status, status_reason=status_reason, method=method, warnings=warns, reps=rep_json,
                          rejected_movements=rej_json, summary=summary, flags=flags, frames=frames,
                          frame_flags=frame_flags, floor_points=floor, image_xy_smoothed=xy, **base)


def _empty_summary(reason: str) -> dict[str, Any]:
    side = {k: unknown(reason) for k in ("foot_rotation_deg", "leg_rotation_deg", "forced_turnout_deg",
                                         "rolling_in_deg", "recommended_foot_rotation_deg",
                                         "standing_foot_rotation_deg", "knee_flexion_deg")}
    side["knee_over_toe"] = {"offset_m": unknown(reason), "ratio": unknown(reason), "position": None}
    side["flags"] = []
    return {"n_reps": 0, "left": side, "right": dict(side), "total_foot_rotation_deg": unknown(reason),
            "total_leg_rotation_deg": unknown(reason), "standing_total_foot_rotation_deg": unknown(reason),
            "pelvis": {k: unknown(reason) for k in ("tilt_deg", "rotation_deg", "sway_ratio", "weight_shift_ratio")},
            "recommendations": []}


class _Context:
    """Per-plié evaluation, summary, flags and per-frame output of one analysis."""

    def __init__(self, cfg: Config, t: _F, fm: FrameMetrics, flex: _F, floor: FloorPoints,
                 unreliable: Mapping[str, str], foot_len: float) -> None:
        self.cfg, self.t, self.fm, self.flex, self.floor = cfg, t, fm, flex, floor
        self.unreliable = unreliable
        self.foot_len = foot_len
        sd = _nanmedian(floor.angle_sd_deg) if np.isfinite(floor.angle_sd_deg).any() else math.nan
        self.angle_sd = float(sd)
        # the point error implied by the stated angle error over one foot length
        self.point_sd_m = foot_len * math.radians(self.angle_sd) / math.sqrt(2) if math.isfinite(foot_len) else math.nan
        hw = fm.pelvis.hip_width_m
        self.hip_width = float(_nanmedian(hw)) if np.isfinite(hw).any() else math.nan

    # ------------------------------------------------------------------ per plié
    def _val(self, key: str, v: float, sd: float, missing: str) -> dict[str, Any]:
        if key in self.unreliable:
            return unknown(self.unreliable[key])
        return value(v, sd, missing)

    def _standing_frames(self, a: int, b: int) -> NDArray[np.intp]:
        seg = self.flex[a:b]
        with np.errstate(invalid="ignore"):
            ok = np.flatnonzero((seg < self.cfg.plie.standing_max_deg).all(axis=1))
        return a + ok

    def rep(self, index: int, r: Rep, prev_end: int) -> dict[str, Any]:
        fm, t, cfg = self.fm, self.t, self.cfg
        w0, w1 = r.window
        missing = "no usable frames around the bottom of this plié"
        sides: dict[str, Any] = {}
        standing = self._standing_frames(prev_end, r.start + 1)
        if standing.size == 0:
            standing = np.arange(max(r.start - 2, 0), r.start + 1)
        for s, name in enumerate(SIDES):
            foot, foot_sd = _window(fm.foot_rotation_deg[:, s], fm.foot_rotation_sd_deg[:, s], w0, w1)
            leg, leg_sd = _window(fm.leg_rotation_deg[:, s], fm.leg_rotation_sd_deg[:, s], w0, w1)
            forced = foot - leg
            forced_sd = math.hypot(foot_sd, leg_sd)
            kot, kot_sd = _window(fm.knee_over_toe_m[:, s], fm.knee_over_toe_sd_m[:, s], w0, w1)
            ratio = kot / self.foot_len if math.isfinite(self.foot_len) else math.nan
            ratio_sd = kot_sd / self.foot_len if math.isfinite(self.foot_len) else math.nan
            roll_b = float(_nanmedian(fm.rolling_in_deg[w0:w1 + 1, s])) if np.isfinite(fm.rolling_in_deg[w0:w1 + 1, s]).any() else math.nan
            roll_s = float(_nanmedian(fm.rolling_in_deg[standing, s])) if np.isfinite(fm.rolling_in_deg[standing, s]).any() else math.nan
            roll_sd = math.degrees(self.point_sd_m / 0.08) if math.isfinite(self.point_sd_m) else math.nan
            forced_key = "leg_rotation" if "leg_rotation" in self.unreliable else "foot_rotation"
            side = {
                "knee_flexion_deg": value(r.depth_side_deg[s], self.angle_sd, missing),
                "foot_rotation_deg": self._val("foot_rotation", foot, foot_sd, missing),
                "leg_rotation_deg": self._val("leg_rotation", leg, leg_sd,
                                              "the knee did not bend enough for its direction to be measured"),
                "forced_turnout_deg": self._val(forced_key, forced, forced_sd, missing),
                "recommended_foot_rotation_deg": self._val("leg_rotation", leg, leg_sd, missing),
                "knee_over_toe": self._kot(kot, kot_sd, ratio, ratio_sd, missing),
                "rolling_in_deg": self._val("rolling", roll_b - roll_s, roll_sd, missing),
            }
            side["flags"] = self._side_flags(side, name)
            sides[name] = side
        p = fm.pelvis
        seg = slice(r.start, r.end + 1)
        tilt = p.tilt_deg[seg] - p.tilt_deg[r.start]
        rot = p.rotation_deg[seg] - p.rotation_deg[r.start]
        lat = p.lateral_m[seg]
        tilt_v = float(tilt[np.nanargmax(np.abs(tilt))]) if np.isfinite(tilt).any() else math.nan
        rot_v = float(rot[np.nanargmax(np.abs(rot))]) if np.isfinite(rot).any() else math.nan
        sway = float(np.nanmax(lat) - np.nanmin(lat)) / self.hip_width if np.isfinite(lat).any() else math.nan
        ws, _ = _window(p.weight_shift_ratio, np.zeros_like(p.weight_shift_ratio), w0, w1)
        ang_sd = math.degrees(math.sqrt(2) * self.point_sd_m / self.hip_width) if math.isfinite(self.point_sd_m) else math.nan
        ratio_sd = math.sqrt(2) * self.point_sd_m / self.hip_width if math.isfinite(self.point_sd_m) else math.nan
        pelvis = {
            "tilt_deg": self._val("pelvis_tilt", tilt_v, ang_sd, missing),
            "rotation_deg": self._val("pelvis_rotation", rot_v, ang_sd, missing),
            "sway_ratio": self._val("pelvis_sway", sway, ratio_sd, missing),
            "weight_shift_ratio": self._val("weight_shift", ws, ratio_sd / math.sqrt(2), missing),
        }
        rep_flags = self._pelvis_flags(pelvis)
        depth_sd = self.angle_sd
        return {
            "index": index,
            "kind": r.kind,
            "start_s": number(t[r.start]),
            "bottom_s": number(t[r.bottom]),
            "end_s": number(t[r.end]),
            "duration_s": number(t[r.end] - t[r.start]),
            "bottom_frame": r.bottom,
            "window_s": [number(t[w0]), number(t[w1])],
            "depth_deg": value(r.depth_deg, depth_sd),
            "symmetry": {"knee_difference_deg": value(r.depth_side_deg[0] - r.depth_side_deg[1], depth_sd * math.sqrt(2)),
                         "ratio": number(r.symmetry)},
            "left": sides["left"],
            "right": sides["right"],
            "pelvis": pelvis,
            "flags": rep_flags + [f for name in SIDES for f in sides[name]["flags"]],
        }

    def _kot(self, kot: float, kot_sd: float, ratio: float, ratio_sd: float, missing: str) -> dict[str, Any]:
        if "knee_over_toe" in self.unreliable:
            reason = self.unreliable["knee_over_toe"]
            return {"offset_m": unknown(reason), "ratio": unknown(reason), "position": None}
        position = None
        if math.isfinite(ratio):
            band = self.cfg.flags.knee_inside_toes_ratio
            position = "inside" if ratio < -band else "outside" if ratio > band else "over"
        return {"offset_m": value(kot, kot_sd, missing, 4), "ratio": value(ratio, ratio_sd, missing), "position": position}

    # ------------------------------------------------------------------ flags
    def _side_flags(self, side: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
        f = self.cfg.flags
        out = []
        forced = side["forced_turnout_deg"]
        if forced["value"] is not None and forced["value"] > f.forced_turnout_deg:
            leg = side["leg_rotation_deg"]["value"]
            foot = side["foot_rotation_deg"]["value"]
            out.append(flag("forced_turnout", name, forced["value"], f.forced_turnout_deg, "deg", forced.get("sd"),
                            f"The {name} foot is turned out {forced['value']:.0f} deg more than the {name} leg rotates "
                            f"({foot:.0f} vs {leg:.0f} deg): turn the foot in to about {leg:.0f} deg.",
                            recommended_foot_rotation_deg=round(leg, 1)))
        ratio = side["knee_over_toe"]["ratio"]
        if ratio["value"] is not None and ratio["value"] < -f.knee_inside_toes_ratio:
            out.append(flag("knee_inside_toes", name, ratio["value"], -f.knee_inside_toes_ratio, "foot_lengths",
                            ratio.get("sd"), f"At the bottom the {name} knee falls inside the toes by "
                                             f"{-100 * ratio['value']:.0f}% of the foot length."))
        roll = side["rolling_in_deg"]
        if roll["value"] is not None and roll["value"] > f.rolling_deg:
            out.append(flag("rolling_in", name, roll["value"], f.rolling_deg, "deg", roll.get("sd"),
                            f"The {name} foot rolls in by {roll['value']:.0f} deg during the plié."))
        return out

    def _pelvis_flags(self, pelvis: Mapping[str, Any]) -> list[dict[str, Any]]:
        f = self.cfg.flags
        out = []
        for key, thr, unit, what in (("tilt_deg", f.pelvis_tilt_deg, "deg", "tilts"),
                                     ("rotation_deg", f.pelvis_tilt_deg, "deg", "turns"),
                                     ("sway_ratio", f.pelvis_sway_ratio, "hip_widths", "sways sideways")):
            v = pelvis[key]
            if v["value"] is not None and abs(v["value"]) > thr:
                out.append(flag("hips_unstable", None, v["value"], thr, unit, v.get("sd"),
                                f"The pelvis {what} by {abs(v['value']):.2g} {unit.replace('_', ' ')} during the plié.",
                                measure=key))
        ws = pelvis["weight_shift_ratio"]
        if ws["value"] is not None and abs(ws["value"]) > f.weight_shift_ratio:
            toward = "left" if ws["value"] > 0 else "right"
            out.append(flag("weight_shift", toward, ws["value"], f.weight_shift_ratio, "hip_widths", ws.get("sd"),
                            f"At the bottom the weight sits over the {toward} foot ({abs(ws['value']):.2f} hip widths "
                            "off centre)."))
        return out

    # ------------------------------------------------------------------ summary
    def summary(self, reps: list[dict[str, Any]], standing_end: int) -> dict[str, Any]:
        fm = self.fm
        no_reps = "no demi-plié was found"
        standing = self._standing_frames(0, standing_end)
        out: dict[str, Any] = {"n_reps": len(reps)}
        totals: dict[str, list[tuple[float, float]]] = {"foot": [], "leg": [], "standing": []}
        for s, name in enumerate(SIDES):
            side: dict[str, Any] = {}
            for key in ("foot_rotation_deg", "leg_rotation_deg", "forced_turnout_deg", "rolling_in_deg",
                        "recommended_foot_rotation_deg", "knee_flexion_deg"):
                items = [r[name][key] for r in reps]
                if items and all(i["value"] is None for i in items):
                    side[key] = unknown(items[0]["reason"])
                elif not items:
                    side[key] = unknown(no_reps)
                else:
                    side[key] = value(*_combine([i["value"] if i["value"] is not None else math.nan for i in items],
                                                [i.get("sd") if i.get("sd") is not None else math.nan for i in items]))
            offs = [r[name]["knee_over_toe"] for r in reps]
            if not offs:
                side["knee_over_toe"] = {"offset_m": unknown(no_reps), "ratio": unknown(no_reps), "position": None}
            elif all(o["ratio"]["value"] is None for o in offs):
                reason = offs[0]["ratio"]["reason"]
                side["knee_over_toe"] = {"offset_m": unknown(reason), "ratio": unknown(reason), "position": None}
            else:
                om = _combine([o["offset_m"]["value"] if o["offset_m"]["value"] is not None else math.nan for o in offs],
                              [o["offset_m"].get("sd") or math.nan for o in offs])
                ra = _combine([o["ratio"]["value"] if o["ratio"]["value"] is not None else math.nan for o in offs],
                              [o["ratio"].get("sd") or math.nan for o in offs])
                side["knee_over_toe"] = self._kot(om[0], om[1], ra[0], ra[1], no_reps)
            # standing foot rotation before the first plié
            if "foot_rotation" in self.unreliable:
                side["standing_foot_rotation_deg"] = unknown(self.unreliable["foot_rotation"])
            elif standing.size:
                seg = fm.foot_rotation_deg[standing, s]
                v = float(_nanmedian(seg)) if np.isfinite(seg).any() else math.nan
                sd = math.hypot(float(_nanmedian(fm.foot_rotation_sd_deg[standing, s])), _nanstd(seg)) if math.isfinite(v) else math.nan
                side["standing_foot_rotation_deg"] = value(v, sd, "the feet were not measured while standing")
            else:
                side["standing_foot_rotation_deg"] = unknown("the dancer did not stand with straight knees before the first plié")
            side["flags"] = self._side_flags(side, name) if reps else []
            for f in side["flags"]:
                f["reps"] = [r["index"] for r in reps if any(g["name"] == f["name"] and g["side"] == name for g in r["flags"])]
            out[name] = side
            for key, tag in (("foot_rotation_deg", "foot"), ("leg_rotation_deg", "leg"), ("standing_foot_rotation_deg", "standing")):
                item = side[key]
                totals[tag].append((item["value"] if item["value"] is not None else math.nan, item.get("sd") or math.nan))
        for tag, key in (("foot", "total_foot_rotation_deg"), ("leg", "total_leg_rotation_deg"),
                         ("standing", "standing_total_foot_rotation_deg")):
            (a, sa), (b, sb) = totals[tag]
            src = {"foot": "foot_rotation_deg", "leg": "leg_rotation_deg", "standing": "standing_foot_rotation_deg"}[tag]
            reason = out["left"][src].get("reason") or out["right"][src].get("reason") or no_reps
            out[key] = value(a + b, math.hypot(sa, sb) if math.isfinite(sa) and math.isfinite(sb) else None, reason)
        pel: dict[str, Any] = {}
        for key in ("tilt_deg", "rotation_deg", "sway_ratio", "weight_shift_ratio"):
            items = [r["pelvis"][key] for r in reps]
            if not items:
                pel[key] = unknown(no_reps)
            elif all(i["value"] is None for i in items):
                pel[key] = unknown(items[0]["reason"])
            else:
                # the largest excursion over the pliés (signed), with its sd
                vals = [i["value"] for i in items if i["value"] is not None]
                k = int(np.argmax(np.abs(vals)))
                pel[key] = value(vals[k], [i.get("sd") for i in items if i["value"] is not None][k])
        out["pelvis"] = pel
        recs = []
        for name in SIDES:
            for f in out[name]["flags"]:
                if f["name"] == "forced_turnout":
                    recs.append(f["message"])
        out["recommendations"] = recs
        return out

    def top_flags(self, summary: Mapping[str, Any], reps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        flags = [f for name in SIDES for f in summary[name]["flags"]]
        for code in ("hips_unstable", "weight_shift"):
            raised = [(r["index"], f) for r in reps for f in r["flags"] if f["name"] == code]
            if raised:
                k = int(np.argmax([abs(f["value"]) / abs(f["threshold"]) for _, f in raised]))
                worst = dict(raised[k][1])
                worst["reps"] = sorted({i for i, _ in raised})
                flags.append(worst)
        return flags

    # ------------------------------------------------------------------ per frame
    def frames(self, reps: list[Rep], sequence: PoseSequence, flex_source: str) -> tuple[dict[str, Any], dict[str, Any]]:
        fm, cfg, n = self.fm, self.cfg, self.t.size

        def hide(key: str, a: _F) -> _F:
            return np.full_like(a, np.nan) if key in self.unreliable else a

        phase = np.full(n, "", dtype=object)
        with np.errstate(invalid="ignore"):
            phase[(self.flex < cfg.plie.standing_max_deg).all(axis=1)] = "standing"
        for r in reps:  # loop over pliés
            w0, w1 = r.window
            phase[r.start:w0] = "down"
            phase[w0:w1 + 1] = "bottom"
            phase[w1 + 1:r.end + 1] = "up"
        vis = np.asarray(sequence.visibility[:, lm.LEG_INDEX.ravel()], dtype=float)
        conf = np.clip(np.nan_to_num(vis, nan=0.0).mean(axis=1), 0.0, 1.0)
        known = np.isfinite(self.floor.points_m).all(axis=(1, 2, 3))
        conf = np.where(known, conf, 0.0)
        frames = {
            "time_s": self.t,
            "knee_flexion_deg": self.flex,
            "foot_rotation_deg": hide("foot_rotation", fm.foot_rotation_deg),
            "leg_rotation_deg": hide("leg_rotation", fm.leg_rotation_deg),
            "forced_turnout_deg": hide("foot_rotation", hide("leg_rotation", fm.forced_turnout_deg)),
            "knee_over_toe_m": hide("knee_over_toe", fm.knee_over_toe_m),
            "knee_offset_ratio": hide("knee_over_toe", fm.knee_over_toe_ratio),
            "rolling_in_deg": hide("rolling", fm.rolling_in_deg),
            "pelvis_tilt_deg": hide("pelvis_tilt", fm.pelvis.tilt_deg),
            "pelvis_rotation_deg": hide("pelvis_rotation", fm.pelvis.rotation_deg),
            "pelvis_lateral_m": hide("pelvis_sway", fm.pelvis.lateral_m),
            "weight_shift_ratio": hide("weight_shift", fm.pelvis.weight_shift_ratio),
            "mean_knee_flexion_deg": mean_flexion(self.flex),
            "confidence": conf,
            "phase": np.asarray(phase, dtype=str),
        }
        with np.errstate(invalid="ignore"):
            frame_flags = {
                "forced_turnout": frames["forced_turnout_deg"] > cfg.flags.forced_turnout_deg,
                "knee_inside_toes": (frames["knee_offset_ratio"] < -cfg.flags.knee_inside_toes_ratio)
                & (self.flex >= cfg.plie.leg_rotation_min_flexion_deg),
            }
        del flex_source
        return frames, frame_flags


__all__ = ["analyze", "clean_landmarks", "resolve_lifter"]
