"""Class footage: several dancers in one video, each tracked and scored on her own.

Three steps, each usable alone:

1. ``extract_multi(source, config, max_dancers=N)`` runs the Pose Landmarker with ``num_poses=N``
   (VIDEO mode) over every frame and keeps **every** pose it returns: a ``MultiPoseFrames`` with
   (frames, slots, 33, ...) arrays, one slot per returned pose in MediaPipe's order (NaN where a slot
   is empty). Slots carry no identity: slot 0 may be a different person in the next frame.
2. ``split_dancers(frames)`` links the poses into tracks (``tracking.assign_tracks``: Hungarian
   assignment on position and body proportions, track birth and death), merges fragments of one
   dancer that the tracker split (``tracking.merge_fragments``), drops spurious tracks (seen for less
   than ``MultiConfig.min_track_s``) and returns one ``Dancer`` per remaining track, numbered left to
   right in the first frame where she appears ("dancer 1", "dancer 2", ...), each with her own
   single-person ``PoseSequence`` on the video's full timeline (NaN where she is not seen).
3. ``analyze_dancers(dancers, config)`` runs the recording checks and the analysis core on each
   dancer. A dancer who is mostly out of view, leaves the picture, or is seen from the side is
   **not scorable**, with the reason; she is never given a verdict from numbers that cannot hold.

``analyze_class_video(video, out_dir, config, max_dancers=N)`` does all three and writes the
outputs: ``result.json`` (a ``dancers`` list, one entry per dancer with the single-dancer result's
structure plus ``id``, ``label``, ``position``, ``status`` and ``reason``), ``report.html`` (a class
table and a section per dancer), ``annotated.mp4`` (every dancer's overlay with her label),
``landmarks_multi.npz`` (all poses, re-analysable) and ``dancer_N/`` folders with each dancer's
``landmarks.npz`` and ``frames.csv``.

Positions: ``position.x_frac`` is the median hip-midpoint x over the frames where the dancer is seen,
as a fraction of the frame width (0 = the image's left edge); ``where`` names the third of the
picture ("left", "centre", "right", as seen in the video).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import landmarks as lm
from .config import Config, ModelConfig, MultiConfig
from .errors import EXIT_NO_PLIE, EXIT_OK, InputError
from .landmarks import NUM_LANDMARKS
from .sequence import PER_FRAME_SHAPES, PoseSequence, frozen_array
from .tracking import assign_tracks, drop_short_tracks, merge_fragments, split_tracks

MULTI_NPZ_FORMAT_VERSION = 1
MULTI_LANDMARKS_NAME = "landmarks_multi.npz"


ProgressFn = Callable[[str, int, "int | None"], None]


# ------------------------------------------------------------------------------------------ container

@dataclass(frozen=True, eq=False)
class MultiPoseFrames:
    """Every pose of every frame, before identities are known.

    ``image_xy`` (F, S, 33, 2) pixels, ``image_z`` (F, S, 33), ``world_xyz`` (F, S, 33, 3) metres,
    ``visibility``/``presence`` (F, S, 33), ``toe_tip_xy`` (F, S, 2, 2) pixels (optional); S = ``max_dancers``
    slots, NaN where MediaPipe returned fewer poses. ``timestamps_s`` (F,), ``frame_size_wh`` (2,), ``meta`` as ``PoseSequence.meta``.
    """

    image_xy: NDArray[np.float64]
    image_z: NDArray[np.float64]
    world_xyz: NDArray[np.float64]
    visibility: NDArray[np.float64]
    presence: NDArray[np.float64]
    timestamps_s: NDArray[np.float64]
    frame_size_wh: NDArray[np.float64]
    toe_tip_xy: NDArray[np.float64] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "timestamps_s", frozen_array(self.timestamps_s))
        n = self.timestamps_s.shape[0]
        xy = np.asarray(self.image_xy)
        if xy.ndim != 4 or xy.shape[0] != n or xy.shape[2:] != (NUM_LANDMARKS, 2):
            raise ValueError(f"image_xy must have shape ({n}, slots, {NUM_LANDMARKS}, 2), got {xy.shape}")
        slots = xy.shape[1]
        if self.toe_tip_xy is None:
            set_(self, "toe_tip_xy", np.full((n, slots, *PER_FRAME_SHAPES["toe_tip_xy"]), np.nan))
        for name, tail in PER_FRAME_SHAPES.items():
            value = frozen_array(getattr(self, name))
            if value.shape != (n, slots, *tail):
                raise ValueError(f"{name} must have shape {(n, slots, *tail)} (frames, slots, ...), got {value.shape}")
            set_(self, name, value)
        set_(self, "frame_size_wh", frozen_array(self.frame_size_wh))
        set_(self, "meta", MappingProxyType(dict(self.meta)))

    @property
    def n_frames(self) -> int:
        return int(self.timestamps_s.shape[0])

    @property
    def n_slots(self) -> int:
        return int(self.image_xy.shape[1])

    @property
    def poses_per_frame(self) -> NDArray[np.int64]:
        """(F,) how many poses MediaPipe returned in each frame."""
        return (~np.isnan(self.image_xy).all(axis=(2, 3))).sum(axis=1)

    def select(self, frames: slice | NDArray[np.bool_] | NDArray[np.intp]) -> MultiPoseFrames:
        """Only the given frames (e.g. ``select(slice(0, 100))``)."""
        return MultiPoseFrames(**{name: getattr(self, name)[frames] for name in PER_FRAME_SHAPES},
                               timestamps_s=self.timestamps_s[frames], frame_size_wh=self.frame_size_wh,
                               meta=self.meta)

    def save_npz(self, path: str | Path) -> Path:
        """Compressed ``.npz`` (written under a temporary name, then renamed)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial.npz")
        np.savez_compressed(tmp, format_version=np.int64(MULTI_NPZ_FORMAT_VERSION),
                            **{name: getattr(self, name) for name in PER_FRAME_SHAPES},
                            timestamps_s=self.timestamps_s, frame_size_wh=self.frame_size_wh,
                            meta_json=np.array(json.dumps(dict(self.meta), default=str)))
        tmp.replace(path)
        return path

    @classmethod
    def load_npz(cls, path: str | Path) -> MultiPoseFrames:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"Multi-dancer landmark file not found: {path}.",
                             "Re-create it with `turnout analyze VIDEO --max-dancers N`.")
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            meta = json.loads(str(arrays["meta_json"])) if "meta_json" in arrays else {}
            return cls(**{name: arrays[name] if name != "toe_tip_xy" else arrays.get(name)   # older files lack it
                          for name in PER_FRAME_SHAPES}, timestamps_s=arrays["timestamps_s"],
                       frame_size_wh=arrays["frame_size_wh"], meta=meta)
        except (KeyError, ValueError, OSError) as exc:
            raise InputError(f"{path} is not a readable multi-dancer landmark file ({exc.__class__.__name__}: {exc}).",
                             "Re-create it with `turnout analyze VIDEO --max-dancers N`.") from exc


# ------------------------------------------------------------------------------------------ extraction

def extract_multi(source: str | Path | Any, config: Config | ModelConfig | None = None, *, max_dancers: int = 4,
                  model: Any = None, progress: Callable[[int, int | None], None] | None = None,
                  max_frames: int | None = None, queue_size: int = 4) -> MultiPoseFrames:
    """Every pose (up to ``max_dancers`` per frame) of every frame of ``source`` (a video path or an
    open ``FrameSource``). MediaPipe runs in VIDEO mode with ``num_poses=max_dancers``.

    >>> frames = extract_multi("class.mp4", max_dancers=3)   # doctest: +SKIP
    >>> frames.image_xy.shape                                   # doctest: +SKIP
    (230, 3, 33, 2)
    """
    from . import __version__
    from .extract import PoseTracker, as_model_config, cv2_version, mediapipe_version, opencv_single_threaded, prefetch
    from .pose_model import resolve_for_config
    from .video import FrameSource, open_source

    if max_dancers < 1:
        raise InputError(f"--max-dancers must be at least 1, got {max_dancers}.", "Give the number of dancers in the class.")
    model_config = dataclasses.replace(as_model_config(config), num_poses=int(max_dancers))
    src = source if isinstance(source, FrameSource) else open_source(source)
    slots = int(max_dancers)
    data: dict[str, list[NDArray[np.float64]]] = {name: [] for name in PER_FRAME_SHAPES}
    times: list[float] = []
    with src:
        resolved = model or resolve_for_config(model_config)
        expected = src.info.frame_count
        if max_frames is not None:
            expected = min(expected, max_frames) if expected else max_frames
        with PoseTracker(model_config, model=resolved) as tracker, opencv_single_threaded():
            frames = prefetch(src, queue_size)
            try:
                for frame in frames:
                    poses = tracker.process_all(frame.image_rgb, frame.timestamp_s)[:slots]
                    for name, tail in PER_FRAME_SHAPES.items():
                        row = np.full((slots, *tail), np.nan)
                        for k, pose in enumerate(poses):
                            row[k] = getattr(pose, name)
                        data[name].append(row)
                    times.append(frame.timestamp_s)
                    if progress is not None:
                        progress(len(times), expected)
                    if max_frames is not None and len(times) >= max_frames:
                        break
            finally:
                frames.close()
        info = src.info
    n = len(times)
    arrays = {name: (np.stack(rows) if rows else np.zeros((0, slots, *PER_FRAME_SHAPES[name])))
              for name, rows in data.items()}
    counts = (~np.isnan(arrays["image_xy"]).all(axis=(2, 3))).sum(axis=1) if n else np.zeros(0, int)
    meta: dict[str, Any] = {
        **info.to_meta(), **resolved.to_meta(),
        "frames_decoded": n, "frames_with_pose": int((counts > 0).sum()),
        "max_dancers": slots, "poses_per_frame_max": int(counts.max()) if n else 0,
        "running_mode": "VIDEO", "model_config": dataclasses.asdict(model_config),
        "mediapipe_version": mediapipe_version(), "opencv_version": cv2_version(),
        "turnout_vision_version": __version__, "warnings": [],
    }
    return MultiPoseFrames(**arrays, timestamps_s=np.asarray(times, dtype=float),
                           frame_size_wh=np.asarray((info.width, info.height), dtype=float), meta=meta)


# ------------------------------------------------------------------------------------------ dancers




@dataclass(frozen=True, eq=False)
class Dancer:
    """One tracked dancer: her own ``PoseSequence`` on the video's full timeline (NaN where unseen)."""

    id: int
    """1-based, left to right in the first frame where each dancer appears."""
    sequence: PoseSequence
    track: int
    """0-based track id in ``DancerSplit.track_ids``."""
    out_of_view_reason: str | None = None

    @property
    def label(self) -> str:
        return f"dancer {self.id}"

    @property
    def seen(self) -> NDArray[np.bool_]:
        return self.sequence.detected

    def position(self) -> dict[str, Any]:
        """Where she stands: hip-midpoint x as a fraction of the frame width (median, and at first sight)."""
        xy = self.sequence.image_xy
        seen = self.seen
        width = float(self.sequence.frame_size_wh[0])
        hips = np.nanmean(xy[seen][:, [lm.LEFT_HIP, lm.RIGHT_HIP], 0], axis=1) / width if seen.any() else np.zeros(0)
        hips = hips[np.isfinite(hips)]
        x = float(np.median(hips)) if hips.size else float("nan")
        where = "unknown" if not np.isfinite(x) else ("left" if x < 1 / 3 else "right" if x > 2 / 3 else "centre")
        return {"x_frac": round(x, 3) if np.isfinite(x) else None,
                "first_x_frac": round(float(hips[0]), 3) if hips.size else None,
                "where": where, "note": "x as a fraction of the frame width, 0 = the image's left edge"}

    def seen_dict(self) -> dict[str, Any]:
        t = self.sequence.timestamps_s
        seen = self.seen
        idx = np.flatnonzero(seen)
        return {"frames": int(seen.sum()), "fraction": round(float(seen.mean()) if seen.size else 0.0, 3),
                "first_s": round(float(t[idx[0]]), 3) if idx.size else None,
                "last_s": round(float(t[idx[-1]]), 3) if idx.size else None}


@dataclass(frozen=True, eq=False)
class DancerSplit:
    """The outcome of ``split_dancers``: the dancers and how the tracking went."""

    dancers: tuple[Dancer, ...]
    track_ids: NDArray[np.int64]
    """(F, S) dancer index (0-based, ``dancers[i]``) of each slot; -1 for empty, duplicate or dropped poses."""
    info: Mapping[str, Any]


def split_dancers(frames: MultiPoseFrames, params: MultiConfig | None = None) -> DancerSplit:
    """Identities across frames -> one ``Dancer`` per person (see the module docstring)."""
    from .tracking import drop_duplicates

    p = params or MultiConfig()
    xy = np.array(frames.image_xy)
    keep = drop_duplicates(xy, frames.visibility, p.duplicate_distance)
    present = ~np.isnan(xy[..., 0]).all(axis=-1)
    n_duplicates = int((present & ~keep).sum())
    xy[~keep] = np.nan
    t = frames.timestamps_s
    raw = assign_tracks(xy, t, p.tracking) if frames.n_frames else np.full(xy.shape[:2], -1, dtype=np.int64)
    n_raw = int(raw.max()) + 1 if raw.size else 0
    fps = float(1.0 / np.median(np.diff(t))) if t.size > 1 else 30.0
    min_frames = min(p.min_track_frames, max(2, int(round(p.min_track_s * fps))))
    ids = ids_kept = drop_short_tracks(raw, xy, min_frames)
    n_after_drop = int(ids.max()) + 1 if ids.size and ids.max() >= 0 else 0
    if n_after_drop:
        ids = merge_fragments(ids, xy, t, p.merge)
    n_tracks = int(ids.max()) + 1 if ids.size and ids.max() >= 0 else 0
    per_track = split_tracks({name: np.asarray(getattr(frames, name)) for name in PER_FRAME_SHAPES}, ids)
    dancers = []
    for k, arrays in enumerate(per_track):
        seq = PoseSequence(**arrays, timestamps_s=t, frame_size_wh=frames.frame_size_wh,
                           meta={**dict(frames.meta), "dancer": k + 1, "track": k})
        frac = float(seq.detected.mean()) if seq.n_frames else 0.0
        reason = None
        if frac < p.min_seen_frac:
            reason = (f"Not scorable: mostly out of view (seen in {frac:.0%} of the frames; at least "
                      f"{p.min_seen_frac:.0%} are needed).")
        dancers.append(Dancer(k + 1, seq, k, reason))
    info = {"poses": int(present.sum()), "duplicate_poses_dropped": n_duplicates, "raw_tracks": n_raw,
            "spurious_tracks_dropped": n_raw - n_after_drop,
            "spurious_poses_dropped": int(np.count_nonzero((raw >= 0) & (ids_kept < 0))),
            "fragments_merged": int(n_after_drop - n_tracks), "dancers": n_tracks,
            "min_track_frames": int(min_frames), "params": dataclasses.asdict(p)}
    return DancerSplit(tuple(dancers), ids, info)


# ------------------------------------------------------------------------------------------ scoring

@dataclass(frozen=True, eq=False)
class DancerResult:
    """One dancer's analysis. ``status``: "ok", "no_plie" or "not_scorable" (``reason`` says why)."""

    dancer: Dancer
    status: str
    reason: str
    result: Any
    """``AnalysisResult`` of her sequence."""
    recording: Any
    """``RecordingCheck`` of her sequence."""
    view: Any
    verdict: Any

    def to_dict(self, include_frames: bool = False) -> dict[str, Any]:
        """Her entry in the class result: the single-dancer result's structure (``reps``, ``summary``,
        ``flags``, ...) plus ``id``, ``label``, ``position``, ``seen``, ``scorable``, ``recording``
        and ``verdict``. A dancer who is not scorable gets no reps, an empty summary and no flags
        (``status`` "refused" with the reason), so no number can be mistaken for a verdict."""
        from .analysis.core import _empty_summary

        data = self.result.to_dict(include_frames=include_frames)
        scorable = self.status != "not_scorable"
        if not scorable:
            data.update(status="refused", status_reason=self.reason, reps=[], rejected_movements=[],
                        summary=_empty_summary(self.reason), flags=[])
        v = self.verdict
        return {"id": self.dancer.id, "label": self.dancer.label, "position": self.dancer.position(),
                "seen": self.dancer.seen_dict(), "scorable": scorable, **data,
                "recording": self.recording.to_dict(),
                "verdict": {"status": self.status, "reason": self.reason or None, "headline": v.headline,
                            "per_leg": list(v.per_leg), "changes": list(v.changes), "confident": v.confident,
                            "caveats": list(v.caveats)}}


def _analysis_json(result: Any) -> dict[str, Any]:
    return dict(result.to_dict())


def _not_scorable(sentence: str) -> str:
    sentence = sentence.strip()
    return "Not scorable: " + (sentence[:1].lower() + sentence[1:] if sentence[1:2].islower() else sentence)


def _judge(dancer: Dancer, result: Any, recording: Any, params: MultiConfig) -> tuple[str, str]:
    if dancer.out_of_view_reason:
        return "not_scorable", dancer.out_of_view_reason
    blocking = [i for i in recording.issues if i.code in params.blocking_issues and i.limits_verdict]
    if blocking:
        return "not_scorable", _not_scorable(blocking[0].message)
    if result.status in ("refused", "no_person"):
        return "not_scorable", _not_scorable(str(result.status_reason))
    if not result.has_plie:
        return "no_plie", result.status_reason or "No demi-plié was found."
    return "ok", ""


def analyze_dancers(dancers: Sequence[Dancer], config: Config | None = None, *,
                    brightness: NDArray[np.float64] | None = None,
                    camera_step_px: NDArray[np.float64] | None = None,
                    params: MultiConfig | None = None,
                    results: Sequence[Any] | None = None) -> list[DancerResult]:
    """Recording checks and the analysis core for each dancer (``results``: already computed
    ``AnalysisResult``s, one per dancer). Never raises for a dancer who cannot be scored."""
    from .analysis.core import analyze
    from .analysis.recording import check_recording
    from .report.advice import Verdict, make_verdict
    from .report.view import build_view

    cfg = config or Config()
    p = params or cfg.multi
    rec_cfg = cfg.recording
    out = []
    for i, dancer in enumerate(dancers):
        result = results[i] if results is not None else analyze(dancer.sequence, cfg)
        recording = check_recording(dancer.sequence, brightness, camera_step_px, rec_cfg)  # type: ignore[arg-type]
        status, reason = _judge(dancer, result, recording, p)
        view = build_view(result, _analysis_json(result), dancer.sequence.timestamps_s, recording)
        if status == "not_scorable":
            fixes = [i.fix for i in recording.issues if i.code in p.blocking_issues and i.limits_verdict]
            if dancer.out_of_view_reason:
                fixes.insert(0, "Keep every dancer in the picture for the whole exercise: film from further back, "
                                "or film fewer dancers at a time.")
            verdict = Verdict(f"{dancer.label.capitalize()} cannot be scored: {reason.removeprefix('Not scorable: ')}",
                              (), tuple(dict.fromkeys(fixes)) or
                              ("Film again from the front, with this dancer's whole body and both feet in the picture.",),
                              False, (reason,))
        else:
            verdict = make_verdict(view)
        out.append(DancerResult(dancer, status, reason, result, recording, view, verdict))
    return out


def class_status(results: Sequence[DancerResult]) -> tuple[str, str]:
    """The class video's status: "ok" when at least one dancer was scored, else "no_plie" (someone
    scorable, no plié) or "not_scorable" (nobody scorable), with a reason."""
    if not results:
        return "not_scorable", "No dancer was found in the video."
    if any(r.status == "ok" for r in results):
        return "ok", ""
    if any(r.status == "no_plie" for r in results):
        return "no_plie", "No demi-plié was found for any dancer."
    return "not_scorable", "No dancer could be scored: " + " ".join(
        f"{r.dancer.label.capitalize()}: {r.reason.removeprefix('Not scorable: ')}" for r in results)


def _num(item: Any) -> float | None:
    if isinstance(item, Mapping) and isinstance(item.get("value"), (int, float)):
        return float(item["value"])
    return None


def class_rows(results: Sequence[DancerResult]) -> list[dict[str, Any]]:
    """The class table: one row per dancer and side (summary over her demi-pliés; empty numbers when
    she was not scored)."""
    rows = []
    for r in results:
        d = r.to_dict()
        summary = d.get("summary") or {}
        for side in lm.SIDES:
            s = summary.get(side) or {}
            flags = sorted({f.get("name", "") for f in (d.get("flags") or [])
                            if f.get("side") in (side, None)} - {""})
            rows.append({
                "dancer": r.dancer.id, "label": r.dancer.label, "where": d["position"]["where"], "side": side,
                "status": r.status, "reps": summary.get("n_reps", 0),
                "foot_rotation_deg": _num(s.get("foot_rotation_deg")),
                "leg_rotation_deg": _num(s.get("leg_rotation_deg")),
                "forced_turnout_deg": _num(s.get("forced_turnout_deg")),
                "knee_over_toe_ratio": _num((s.get("knee_over_toe") or {}).get("ratio")),
                "flags": ";".join(flags), "reason": r.reason})
    return rows


CLASS_CSV_COLUMNS = ("dancer", "label", "where", "side", "status", "reps", "foot_rotation_deg", "leg_rotation_deg",
                     "forced_turnout_deg", "knee_over_toe_ratio", "flags", "reason")


# ------------------------------------------------------------------------------------------ outputs

def _union_boxes(boxes: Sequence[NDArray[np.float64]], n: int) -> NDArray[np.float64]:
    """(n, 4) box around every dancer's box seen in each frame (NaN where none is), to mask out of the
    camera-motion estimate."""
    out = np.full((n, 4), np.nan)
    for i in range(n):
        rows = [b[i] for b in boxes if i < len(b) and np.isfinite(b[i]).all()]
        if rows:
            a = np.stack(rows)
            out[i] = np.concatenate([a[:, :2].min(axis=0), a[:, 2:].max(axis=0)])
    return out


def _dancer_overlay(dancer: Dancer, make: Callable[[int], Any] | None, first: bool, scorable: bool,
                    n: int) -> Callable[[int], Any]:
    """Frame index -> this dancer's ``FrameOverlay`` with her label; only the first dancer draws the
    banner; a dancer who is not scorable gets her skeleton and label only (no numbers)."""
    from .report.annotate import FrameOverlay

    xy = dancer.sequence.image_xy
    t = dancer.sequence.timestamps_s

    def overlay(i: int) -> Any:
        seen = i < n and bool(np.isfinite(xy[i]).any())
        if make is not None and scorable:
            ov = make(i)
            label = f"{dancer.label}  {ov.phase}".strip() if seen else ""
            return dataclasses.replace(ov, label=label, show_banner=first, phase="")
        points = xy[i] if i < n else np.full((NUM_LANDMARKS, 2), np.nan)
        return FrameOverlay(time_s=float(t[i]) if i < n else float("nan"), points_px=points,
                            label=f"{dancer.label} (not scored)" if seen else "", show_banner=first)

    return overlay


def _section(html_doc: str, k: int) -> str:
    """The body of a single-dancer report as a section of the class report (headings one level
    down, ids prefixed so they stay unique)."""
    start, end = html_doc.find("<body>"), html_doc.rfind("</body>")
    body = html_doc[start + len("<body>"):end]
    for tag in ("h3", "h2", "h1"):
        body = body.replace(f"<{tag}>", f"<{tag[0]}{int(tag[1]) + 1}>").replace(f"</{tag}>", f"</{tag[0]}{int(tag[1]) + 1}>")
    body = body.replace(" id='", f" id='d{k}-").replace(' id="', f' id="d{k}-')
    return f"<section class='dancer' id='dancer-{k}'>{body}</section>"


def render_class_html(title: str, results: Sequence[DancerResult], sections: Sequence[str], *,
                      split_info: Mapping[str, Any], details: Mapping[str, Any] | None = None,
                      attribution: str | None = None) -> str:
    """The class report: the class table (one row per dancer) and a section per dancer."""
    from .report.html import CSS, _e

    def fmt(v: float | None, signed: bool = False) -> str:
        return "–" if v is None else (f"{v:+.0f}°" if signed else f"{v:.0f}°")

    rows = class_rows(results)
    head = ("<tr><th class='l'>dancer</th><th class='l'>stands</th><th class='l'>status</th><th>pliés</th>"
            "<th>side</th><th>foot rotation</th><th>leg rotation</th><th>forced turnout</th>"
            "<th class='l'>flags</th><th class='l'>verdict</th></tr>")
    body_rows = []
    for r, (left, right) in zip(results, zip(rows[::2], rows[1::2], strict=True), strict=True):
        verdict = r.verdict.headline if r.status != "not_scorable" else r.reason
        for j, row in enumerate((left, right)):
            lead = (f"<td class='l' rowspan='2'><a href='#dancer-{r.dancer.id}'>{_e(r.dancer.label)}</a></td>"
                    f"<td class='l' rowspan='2'>{_e(row['where'])}</td>"
                    f"<td class='l' rowspan='2'>{_e(r.status.replace('_', ' '))}</td>"
                    f"<td rowspan='2'>{row['reps']}</td>") if j == 0 else ""
            tail = f"<td class='l' rowspan='2'>{_e(verdict)}</td>" if j == 0 else ""
            flags = row["flags"].replace(";", ", ")
            body_rows.append(f"<tr>{lead}<td>{row['side']}</td><td>{fmt(row['foot_rotation_deg'])}</td>"
                             f"<td>{fmt(row['leg_rotation_deg'])}</td><td>{fmt(row['forced_turnout_deg'], True)}</td>"
                             f"<td class='l{' flag' if flags else ''}'>{_e(flags)}</td>{tail}</tr>")
    n_ok = sum(r.status == "ok" for r in results)
    parts = [f"<h1>Class report: {_e(title)}</h1>",
             f"<p class='sub'>{len(results)} dancer(s) found, {n_ok} scored. Dancers are numbered left to right "
             "in the first frame where each appears; the annotated video labels them. Sides are each "
             "dancer's own.</p>",
             f"<h2>Class table</h2><table id='class-table'>{head}{''.join(body_rows)}</table>",
             "<p class='note'>A dancer who is mostly out of view, leaves the picture or is seen from the side "
             "is not scored; the reason is given instead of a verdict.</p>",
             *sections]
    tracking = {k: v for k, v in split_info.items() if k != "params"}
    parts.append("<h2>Details</h2><details><summary>Tracking, configuration and versions</summary>"
                 f"<pre>{_e(json.dumps({'tracking': tracking, **dict(details or {})}, indent=1, default=str))}</pre></details>")
    if attribution:
        parts.append(f"<p class='note'>{_e(attribution)}</p>")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Class report: {_e(title)}</title><style>{CSS}\nsection.dancer {{ margin-top: 36px; }}</style>"
            f"</head><body>{''.join(parts)}</body></html>\n")


def _write_class_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CLASS_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else (round(row[k], 2) if isinstance(row[k], float) else row[k]))
                         for k in CLASS_CSV_COLUMNS})
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    tmp.replace(path)


CLASS_OUTPUT_NAMES = {"html": "report.html", "video": "annotated.mp4", "csv": "dancers.csv",
                      "json": "result.json", "landmarks": MULTI_LANDMARKS_NAME}


def analyze_class_video(
    video: str | Path | None = None,
    out_dir: str | Path | None = None,
    config: Config | None = None,
    *,
    max_dancers: int = 4,
    quiet: bool = False,
    force: bool = False,
    json_only: bool = False,
    progress: ProgressFn | None = None,
    frames: MultiPoseFrames | None = None,
    params: MultiConfig | None = None,
) -> Any:
    """Analyse a class video (several dancers) and write its outputs (module docstring); returns a
    ``pipeline.PipelineOutcome`` whose ``result_json`` holds the ``dancers`` list. ``frames``: poses
    already extracted (skips the pose model). Status "ok" when at least one dancer was scored."""
    from . import __version__
    from .analysis.recording import RecordingCheck
    from .analysis.result import SCHEMA_VERSION
    from .pipeline import (OUTPUT_NAMES, PipelineOutcome, clean_json, frame_overlays, person_boxes, phase_labels,
                           resolve_paths, smoothed_xy, versions, video_pass, write_json)
    from .report.csv_out import write_csv
    from .report.view import build_view

    config = config or Config()
    p = params or config.multi
    video, out = resolve_paths(video, out_dir, force)
    if quiet:
        progress = None
    t0 = time.perf_counter()
    if frames is None:
        frames = extract_multi(video, config, max_dancers=max_dancers,
                               progress=None if progress is None else (lambda d, t=None: progress("pose", d, t)))
    split = split_dancers(frames, p)
    dancers = split.dancers
    n = frames.n_frames
    from .analysis.core import analyze

    results = [analyze(d.sequence, config) for d in dancers]

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    frames.save_npz(out / CLASS_OUTPUT_NAMES["landmarks"])
    files["landmarks"] = out / CLASS_OUTPUT_NAMES["landmarks"]

    plie_cfg = getattr(config, "plie", None)
    bottom_frac = getattr(plie_cfg, "bottom_window_frac", 0.25)
    pre_views = [build_view(r, _analysis_json(r), d.sequence.timestamps_s) for d, r in zip(dancers, results, strict=True)]
    phases = [phase_labels(v, bottom_frac) for v in pre_views]
    overlays: list[Callable[[int], Any]] = []
    if not json_only:
        # the checks that make a dancer not scorable need no image statistics: judge now, so that the
        # video shows no numbers for her
        first_look = analyze_dancers(dancers, config, params=p, results=results)
        for k, (d, r, v, ph) in enumerate(zip(dancers, results, pre_views, phases, strict=True)):
            make = frame_overlays(v, r, d.sequence, smoothed_xy(r, d.sequence), ph)
            overlays.append(_dancer_overlay(d, make, k == 0, first_look[k].status != "not_scorable", n))
    boxes = [person_boxes(d.sequence) for d in dancers]
    # stills cropped to the dancer, keyed (frame, dancer index)
    still_requests: dict[int, list[tuple[tuple[int, int], NDArray[np.float64]]]] = {}
    if not json_only:
        for k, v in enumerate(pre_views):
            for rep in v.reps:
                if 0 <= rep.bottom_frame < n:
                    still_requests.setdefault(rep.bottom_frame, []).append(((rep.bottom_frame, k),
                                                                            boxes[k][rep.bottom_frame]))
    stats, stills, written, codec = video_pass(
        video, n, mask_boxes=_union_boxes(boxes, n), out_path=None if json_only else out / CLASS_OUTPUT_NAMES["video"],
        overlays=overlays, stills=still_requests, progress=progress, fps=25.0)
    if not json_only:
        files["video"] = out / CLASS_OUTPUT_NAMES["video"]

    dancer_results = analyze_dancers(dancers, config, brightness=stats.brightness, camera_step_px=stats.camera_step_px,
                                     params=p, results=results)
    status, reason = class_status(dancer_results)
    entries = [r.to_dict() for r in dancer_results]
    headline = (f"{sum(r.status == 'ok' for r in dancer_results)} of {len(dancer_results)} dancer(s) scored."
                if dancer_results else "No dancer was found in the video.")
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "tool_version": __version__, "mode": "class",
        "status": status, "status_reason": reason or None, "max_dancers": int(frames.n_slots),
        "n_dancers": len(dancers),
        "source": {"n_frames": n, "fps": float(1 / np.median(np.diff(frames.timestamps_s))) if n > 1 else None,
                   "frame_size_wh": [float(v) for v in frames.frame_size_wh],
                   "frames_with_pose": int((frames.poses_per_frame > 0).sum())},
        "tracking": {k: v for k, v in split.info.items() if k != "params"} | {"params": split.info["params"]},
        "dancers": entries,
        "class_table": class_rows(dancer_results),
        "config": config.to_dict(), "versions": versions(dancers[0].sequence if dancers else None),
        "verdict": {"status": status, "headline": headline, "per_leg": [], "changes": [], "confident": status == "ok",
                    "caveats": [reason] if reason else []},
    }
    sections = []
    for k, r in enumerate(dancer_results):
        d = r.dancer
        folder = out / f"dancer_{d.id}"
        folder.mkdir(exist_ok=True)
        d.sequence.save_npz(folder / OUTPUT_NAMES["landmarks"])
        single = r.to_dict(include_frames=True)
        write_json(clean_json(single), folder / OUTPUT_NAMES["json"])
        if not json_only:
            view = build_view(r.result, _analysis_json(r.result), d.sequence.timestamps_s, r.recording, phases[k])
            write_csv(view, d.sequence.detected, folder / OUTPUT_NAMES["csv"])
            sections.append(_dancer_section(r, view, k, stills))
    data["outputs"] = {"video": str(video), "folder": str(out),
                       "files": {k: v.name for k, v in files.items()} | ({} if json_only else {
                           "html": CLASS_OUTPUT_NAMES["html"], "csv": CLASS_OUTPUT_NAMES["csv"]}),
                       "dancer_folders": [f"dancer_{d.id}" for d in dancers],
                       "annotated_video_frames": written if not json_only else None,
                       "annotated_video_codec": codec or None}
    data = clean_json(data)
    write_json(data, out / CLASS_OUTPUT_NAMES["json"])
    files["json"] = out / CLASS_OUTPUT_NAMES["json"]
    if not json_only:
        from .report.html import write_html

        _write_class_csv(data["class_table"], out / CLASS_OUTPUT_NAMES["csv"])
        files["csv"] = out / CLASS_OUTPUT_NAMES["csv"]
        attribution = frames.meta.get("attribution")
        text = render_class_html(video.name, dancer_results, sections, split_info=split.info,
                                 details={"video": str(video), "versions": data.get("versions"),
                                          "configuration": data.get("config"),
                                          "seconds": round(time.perf_counter() - t0, 1)},
                                 attribution=str(attribution) if attribution else None)
        write_html(text, out / CLASS_OUTPUT_NAMES["html"])
        files["html"] = out / CLASS_OUTPUT_NAMES["html"]
    recording = RecordingCheck((), {"dancers": len(dancers)})
    return PipelineOutcome(video, out, status, reason, data, recording, files, headline, codec)


def _dancer_section(r: DancerResult, view: Any, k: int, stills: Mapping[tuple[int, int], bytes]) -> str:
    """One dancer's part of the class report (the single-dancer report's body)."""
    from .report.html import make_plots, render_html

    d = r.dancer
    seen = d.seen_dict()
    where = d.position()["where"]
    title = f"{d.label} (stands {where}; seen {seen['fraction']:.0%} of the video)"
    if r.status == "not_scorable":
        from .report.html import _e

        items = "".join(f"<li>{_e(c)}</li>" for c in r.verdict.changes)
        return (f"<section class='dancer' id='dancer-{d.id}'><h2>Turnout report: {_e(title)}</h2>"
                f"<div class='box rec' id='d{d.id}-not-scorable'><b>{_e(r.verdict.headline)}</b>"
                f"<ul>{items}</ul></div></section>")
    plots = make_plots(view)
    by_frame = {rep.bottom_frame: rep for rep in view.reps}
    still_list = [(by_frame[i], jpg) for (i, j), jpg in sorted(stills.items()) if j == k and i in by_frame]
    doc = render_html(view, r.verdict, title=title, plots=plots, stills=still_list)
    return _section(doc, d.id)


__all__ = ["Dancer", "DancerResult", "DancerSplit", "MultiPoseFrames", "analyze_class_video",
           "analyze_dancers", "class_rows", "class_status", "extract_multi", "split_dancers"]
