"""One video in, one folder of outputs: extract -> analyse -> recording checks -> write the report.

``analyze_video(video, out_dir, config)`` writes into ``out_dir`` (default ``turnout_output/<stem>/``):

===================  ==========================================================================
file                 what it holds
===================  ==========================================================================
``report.html``      the self-contained report (verdict, what to change, plots, stills, tables)
``annotated.mp4``    the input with the overlay, H.264, same frame count, frame rate, orientation
``frames.csv``       one row per frame: time, per-side angles, offsets, flags, confidence
``result.json``      the analysis core's JSON (``schema_version``, ``reps``, ``summary``, ``flags``,
                     ...) with the effective configuration, versions and the recording checks
``landmarks.npz``    the extracted pose (re-analyse with ``turnout analyze --landmarks``)
===================  ==========================================================================

Safety: the output folder is never the input's own folder and no output path is the input; an
existing output folder that already holds files is refused unless ``force=True``, which replaces
the files above (and leaves any other file in it alone). Every file is written under a temporary
name (``.NAME.partial``) and renamed when complete, so a crash never leaves half a report.
``json_only=True`` writes only ``result.json`` (and ``landmarks.npz``): no video pass, no HTML.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from . import __version__
from . import landmarks as lm
from .analysis.recording import RecordingCheck, check_recording
from .config import Config
from .errors import EXIT_NO_PLIE, EXIT_OK, InputError
from .sequence import PoseSequence

DEFAULT_VIDEO = Path(__file__).resolve().parent.parent / "samples" / "demo_plie.mp4"
"""The built-in sample analysed when no video is given (a rendered dancer with known truth)."""
DEFAULT_OUT_ROOT = Path("turnout_output")

OUTPUT_NAMES = {"html": "report.html", "video": "annotated.mp4", "csv": "frames.csv",
                "json": "result.json", "landmarks": "landmarks.npz"}

ProgressFn = Callable[[str, int, "int | None"], None]
"""progress(stage, frames_done, frames_total_or_None); stages: "pose", "video"."""

_Key = TypeVar("_Key")


@dataclass
class PipelineOutcome:
    """What one run produced. ``status``: "ok", "no_plie" or "not_scorable"; ``exit_code`` follows."""

    video: Path
    out_dir: Path
    status: str
    reason: str
    result_json: dict[str, Any]
    recording: RecordingCheck
    files: dict[str, Path] = field(default_factory=dict)
    headline: str = ""
    video_codec: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.status == "ok" else EXIT_NO_PLIE


# ------------------------------------------------------------------------------------------ paths

def default_out_dir(video: Path) -> Path:
    return DEFAULT_OUT_ROOT / video.stem


def resolve_paths(video: str | Path | None, out_dir: str | Path | None, force: bool) -> tuple[Path, Path]:
    """The input video and a safe output folder (see the module docstring), or ``InputError``."""
    if video is None:
        video = DEFAULT_VIDEO
        if not video.is_file():
            raise InputError(f"The built-in sample {video} is missing.",
                             "Give a video to analyse: `turnout analyze my_plie.mp4`.")
    video = Path(video).expanduser()
    if not video.exists():
        raise InputError(f"Video file not found: {video}.", "Check the path (and that the file was copied completely).")
    if video.is_dir():
        raise InputError(f"{video} is a folder, not a video.", "Give one video file, or use `turnout batch FOLDER`.")
    out = Path(out_dir).expanduser() if out_dir is not None else default_out_dir(video)
    if out.resolve() == video.resolve().parent:
        raise InputError(f"The output folder {out} is the folder that holds the video.",
                         "Choose another with --out; outputs are never written next to the input.")
    if out.exists() and not out.is_dir():
        raise InputError(f"The output path {out} exists and is not a folder.", "Choose another with --out.")
    if any((out / name).resolve() == video.resolve() for name in OUTPUT_NAMES.values()):
        raise InputError(f"Writing into {out} would overwrite the input video.", "Choose another folder with --out.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"The output folder {out} already exists.",
                         "Pass --force to replace the report in it, or choose another folder with --out.")
    return video, out


def sample_truth(video: Path) -> dict[str, float] | None:
    """The known truth of a rendered sample (``<video>.json`` beside it, as ``samples/demo_plie.json``):
    commanded foot rotation, leg rotation, forced turnout and knee flexion per side, degrees."""
    sidecar = video.with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        params = json.loads(sidecar.read_text(encoding="utf-8"))["params"]
        foot, leg = float(params["F"]), float(params["H"])
        return {"foot_rotation_deg": foot, "leg_rotation_deg": leg, "forced_turnout_deg": foot - leg,
                "knee_flexion_deg": float(params["K_max"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _atomic(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial{path.suffix}")


def write_json(data: Mapping[str, Any], path: Path) -> None:
    """Write ``data`` as indented strict JSON, atomically (temporary name, then rename)."""
    tmp = _atomic(path)
    tmp.write_text(json.dumps(data, indent=1, allow_nan=False, default=_json_default) + "\n", encoding="utf-8")
    tmp.replace(path)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON-able: {type(o).__name__}")


def clean_json(x: Any) -> Any:
    """NaN/inf -> None, numpy -> python, recursively (strict JSON)."""
    if isinstance(x, Mapping):
        return {str(k): clean_json(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [clean_json(v) for v in x]
    if isinstance(x, np.ndarray):
        return clean_json(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


# ------------------------------------------------------------------------------------------ stages

def _extract(video: Path, config: Config, progress: ProgressFn | None) -> PoseSequence:
    from .extract import extract

    if progress is None:
        return extract(video, config)
    return extract(video, config, progress=lambda done, total=None: progress("pose", done, total))


def _analyze(sequence: PoseSequence, config: Config) -> tuple[Any, dict[str, Any]]:
    from .analysis.core import analyze

    result = analyze(sequence, config)
    for name in ("to_json_dict", "to_dict", "to_json"):
        fn = getattr(result, name, None)
        if fn is not None:
            data = fn()
            if isinstance(data, str):
                data = json.loads(data)
            return result, dict(data)
    raise TypeError("AnalysisResult has no JSON form")


def versions(sequence: PoseSequence | None = None) -> dict[str, Any]:
    """Tool, library and model versions (the model's from the sequence's metadata)."""
    out: dict[str, Any] = {"turnout_vision": __version__}
    try:
        from importlib.metadata import version

        for pkg in ("mediapipe", "opencv-contrib-python", "numpy", "scipy"):
            try:
                out[pkg] = version(pkg)
            except Exception:  # noqa: BLE001 - a missing distribution is just not listed
                pass
    except ImportError:  # pragma: no cover
        pass
    if sequence is not None:
        meta = dict(sequence.meta)
        model = {k: v for k, v in meta.items() if "model" in k}
        if model:
            out["model"] = model
    return out


# ------------------------------------------------------------------------------------------ video pass

@dataclass
class FrameStats:
    brightness: NDArray[np.float64]
    camera_step_px: NDArray[np.float64]


class _Motion:
    """Global image shift between consecutive frames: phase correlation on a small grey image with the
    dancer masked out (her box in both frames, so only the background can move the estimate)."""

    def __init__(self, width: int) -> None:
        self.scale = min(1.0, 192.0 / max(1, width))
        self.prev: NDArray[np.float32] | None = None
        self.prev_box: NDArray[np.float64] | None = None
        self.window: NDArray[np.float32] | None = None

    def step(self, rgb: NDArray[np.uint8], box: NDArray[np.float64] | None = None) -> tuple[float, tuple[float, float]]:
        """(mean luma 0..255, (dx, dy) px from the previous frame or NaN). ``box``: x0, y0, x1, y1 px."""
        import cv2

        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        brightness = float(grey.mean())
        small = cv2.resize(grey, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA).astype(np.float32)
        if self.window is None or self.window.shape != small.shape:
            self.window = cv2.createHanningWindow(small.shape[::-1], cv2.CV_32F)
            self.prev = None
        shift = (np.nan, np.nan)
        if self.prev is not None:
            a, b = self.prev.copy(), small.copy()
            for bx in (box, self.prev_box):
                if bx is not None and np.all(np.isfinite(bx)):
                    x0, y0, x1, y1 = (np.asarray(bx) * self.scale).round().astype(int)
                    for img in (a, b):
                        img[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = np.nan
            valid = np.isfinite(a) & np.isfinite(b)
            if valid.mean() > 0.15:
                for img in (a, b):
                    img[~valid] = float(np.mean(img[valid]))
                if a[valid].std() > 3.0 and b[valid].std() > 3.0:
                    (dx, dy), response = cv2.phaseCorrelate(a, b, self.window)
                    if response > 0.1:
                        shift = (dx / self.scale, dy / self.scale)
        self.prev, self.prev_box = small, box
        return brightness, shift


def person_boxes(sequence: PoseSequence, margin_frac: float = 0.25) -> NDArray[np.float64]:
    """(F, 4) x0, y0, x1, y1 pixel box around each frame's landmarks, widened by ``margin_frac`` of its
    height on every side (the head, hair and clothes reach beyond the joints); NaN without a person."""
    xy = np.asarray(sequence.image_xy)
    out = np.full((sequence.n_frames, 4), np.nan)
    d = sequence.detected
    if d.any():
        lo, hi = np.nanmin(xy[d], axis=1), np.nanmax(xy[d], axis=1)
        m = margin_frac * (hi[:, 1] - lo[:, 1])[:, None]
        out[d] = np.concatenate([lo - m, hi + m], axis=1)
    return out


def phase_labels(view: Any, bottom_frac: float) -> list[str]:
    """Per-frame overlay label: "plié 2: down" inside a plié, else the core's phase ("standing")."""
    t = view.times_s
    core = list(view.phase) if view.phase is not None else None
    labels = [("" if core is None else core[i]) for i in range(view.n_frames)]
    words = {"down": "going down", "up": "rising", "bottom": "bottom"}
    for rep in view.reps:
        if not (np.isfinite(rep.start_s) and np.isfinite(rep.end_s)):
            continue
        bottom = rep.bottom_s if np.isfinite(rep.bottom_s) else (rep.start_s + rep.end_s) / 2
        half = bottom_frac * (rep.end_s - rep.start_s) / 2
        name = "plié" if rep.kind == "demi" else "grand plié"
        for i in np.flatnonzero((t >= rep.start_s - 1e-9) & (t <= rep.end_s + 1e-9)):
            if core is not None and core[i] in words:
                phase = words[core[i]]
            else:
                phase = "bottom" if abs(t[i] - bottom) <= half else ("going down" if t[i] < bottom else "rising")
            labels[i] = f"{name} {rep.index}: {phase}"
    return labels


def _floor_to_image(result: Any, image_xy: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """A 3x3 homography from floor (x, y) metres to image pixels; None if unknown."""
    import cv2

    if result.floor_points is None:
        return None
    floor = np.asarray(result.floor_points.points_m, dtype=float)
    camera = result.floor_points.camera
    if {"K", "R_floor_to_cam", "t_floor_to_cam"} <= set(camera):
        # The floor method's own camera: the exact image of the floor plane z = 0.
        K, R = np.asarray(camera["K"], float), np.asarray(camera["R_floor_to_cam"], float)
        H = K @ np.column_stack([R[:, 0], R[:, 1], np.asarray(camera["t_floor_to_cam"], float)])
        return H / H[2, 2]
    # Otherwise (e.g. the "world" method) fit a map on the feet.
    src, dst = [], []
    for s in range(2):
        for j in (lm.HEEL, lm.FOOT_INDEX):
            f = floor[:, s, j, :2]
            im = image_xy[:, lm.LEG_INDEX[s][j]]
            ok = np.isfinite(f).all(axis=1) & np.isfinite(im).all(axis=1)
            src.append(f[ok])
            dst.append(im[ok])
    src_a, dst_a = np.concatenate(src), np.concatenate(dst)
    if src_a.shape[0] < 8:
        return None
    # The feet barely move in a plié, so their points only support an affine map.
    A, _ = cv2.estimateAffine2D(src_a.astype(np.float32), dst_a.astype(np.float32))
    return None if A is None else np.vstack([A, [0.0, 0.0, 1.0]])


def _apply_h(H: NDArray[np.float64], xy: NDArray[np.float64]) -> NDArray[np.float64]:
    p = np.concatenate([xy, np.ones((*xy.shape[:-1], 1))], axis=-1) @ H.T
    return p[..., :2] / p[..., 2:3]


def frame_overlays(view: Any, result: Any, sequence: PoseSequence, image_xy: NDArray[np.float64],
                   phase: list[str]) -> Callable[[int], Any]:
    """A function frame index -> ``FrameOverlay`` (all numbers computed here, none in the renderer)."""
    from .report.annotate import FrameOverlay

    H = _floor_to_image(result, image_xy)
    floor = None if result.floor_points is None else np.asarray(result.floor_points.points_m, dtype=float)
    n = sequence.n_frames
    nan2 = np.full((n, 2), np.nan)
    foot = view.series.get("foot_rotation_deg", nan2)
    leg = view.series.get("leg_rotation_deg", nan2)
    knee = view.series.get("knee_flexion_deg", nan2)
    inside = view.frame_flags.get("knee_inside_toes", np.zeros((n, 2), bool))
    out_sign = (1.0, -1.0)

    def make(i: int) -> Any:
        P = image_xy[i] if i < n else np.full((lm.NUM_LANDMARKS, 2), np.nan)
        foot_arrows = np.full((2, 2, 2), np.nan)
        knee_arrows = np.full((2, 2, 2), np.nan)
        readouts = []
        for s in range(2):
            heel, toe = P[lm.LEG_INDEX[s][lm.HEEL]], P[lm.LEG_INDEX[s][lm.FOOT_INDEX]]
            foot_arrows[s] = (heel, heel + 1.25 * (toe - heel))
            if i < n and H is not None and floor is not None and np.isfinite(leg[i, s]):
                heel_f = floor[i, s, lm.HEEL, :2]
                length = np.linalg.norm(floor[i, s, lm.FOOT_INDEX, :2] - heel_f) * 1.25
                a = np.radians(leg[i, s])
                tip = heel_f + length * np.array([out_sign[s] * np.sin(a), np.cos(a)])
                knee_arrows[s] = _apply_h(H, np.stack([heel_f, tip]))
            lines = []
            if i < n and np.isfinite(foot[i, s]):
                lines.append(f"foot {foot[i, s]:.0f} deg")
            if i < n and np.isfinite(leg[i, s]):
                lines.append(f"leg {leg[i, s]:.0f} deg")
            if i < n and np.isfinite(knee[i, s]):
                lines.append(f"bend {knee[i, s]:.0f} deg")
            readouts.append(tuple(lines))
        return FrameOverlay(
            time_s=float(view.times_s[i]) if i < n else float("nan"),
            points_px=P, foot_arrows_px=foot_arrows, knee_arrows_px=knee_arrows,
            readouts=(readouts[0], readouts[1]),
            knee_inside=(bool(inside[i, 0]), bool(inside[i, 1])) if i < n else (False, False),
            phase=phase[i] if i < n else "",
        )

    return make


def smoothed_xy(result: Any, sequence: PoseSequence) -> NDArray[np.float64]:
    """The cleaned, smoothed image landmarks the analysis used (for a steady overlay), (F, 33, 2) pixels;
    the raw ones when the analysis found no person."""
    smoothed = result.image_xy_smoothed
    return np.asarray(sequence.image_xy if smoothed is None else smoothed, dtype=float)


def video_pass(video: Path, n: int, *, mask_boxes: NDArray[np.float64], out_path: Path | None,
               overlays: Sequence[Callable[[int], Any]],
               stills: Mapping[int, Sequence[tuple[_Key, NDArray[np.float64] | None]]],
               progress: ProgressFn | None, fps: float) -> tuple[FrameStats, dict[_Key, bytes], int, str]:
    """Decode the video once: brightness and camera motion per frame (``mask_boxes``: (n, 4) x0, y0,
    x1, y1 px masked out of the motion estimate, NaN for none); with ``out_path`` also draw the
    ``overlays`` (in order) and encode the annotated video atomically at the container's frame rate
    (``fps`` if it has none). ``stills`` maps a frame index to its still requests ``(key, box)``: a
    JPEG of that frame (cropped to ``box`` when it is given and finite) is returned under ``key``.
    Returns (per-frame stats, stills by key, frames written, codec note)."""
    import cv2

    from .report.annotate import Annotator
    from .report.video_out import VideoWriter
    from .video import open_source

    brightness = np.full(n, np.nan)
    steps = np.full((n, 2), np.nan)
    jpegs: dict[_Key, bytes] = {}
    annotator = Annotator()
    writer = None
    written = 0
    codec = ""
    with open_source(video) as src:
        size = (src.info.width, src.info.height)
        motion = _Motion(size[0])
        if src.info.fps:
            fps = float(src.info.fps)  # the container's nominal rate: the output plays at the input's speed
        if out_path is not None:
            writer = VideoWriter(_atomic(out_path), fps, size)
            codec = writer.codec_note
        try:
            for frame in src:
                i = frame.index
                b, shift = motion.step(frame.image_rgb, mask_boxes[i] if i < n else None)
                if i < n:
                    brightness[i] = b
                    steps[i] = shift
                if writer is not None or i in stills:
                    bgr = cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR)
                    for overlay in overlays:
                        bgr = annotator.annotate(bgr, overlay(i))
                    if writer is not None:
                        writer.write(bgr)
                        written += 1
                    for key, box in stills.get(i, ()):
                        jpg = _still_jpeg(bgr, box)
                        if jpg is not None:
                            jpegs[key] = jpg
                if progress is not None:
                    progress("video", i + 1, n)
        except BaseException:
            if writer is not None:
                writer.abort()
                _atomic(out_path).unlink(missing_ok=True)  # type: ignore[arg-type]
            raise
        if writer is not None:
            writer.close()
            _atomic(out_path).replace(out_path)  # type: ignore[arg-type]
    return FrameStats(brightness, steps), jpegs, written, codec


def _still_jpeg(bgr: NDArray[np.uint8], box: NDArray[np.float64] | None) -> bytes | None:
    """A JPEG still (at most 720 px), cropped to ``box`` (x0, y0, x1, y1 px) when it is finite and
    more than 16 px each way inside the frame; None if encoding fails."""
    import cv2

    crop = bgr
    if box is not None and np.isfinite(box).all():
        x0, y0 = (max(0, int(v)) for v in box[:2])
        x1, y1 = int(min(bgr.shape[1], box[2])), int(min(bgr.shape[0], box[3]))
        if x1 - x0 > 16 and y1 - y0 > 16:
            crop = bgr[y0:y1, x0:x1]
    scale = min(1.0, 720.0 / max(crop.shape[:2]))
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else crop
    ok, jpg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 85])
    return jpg.tobytes() if ok else None


def with_floor_calibration(video: str | Path | None, config: Config, marker: str,
                           marker_size_m: float = 0.20) -> tuple[Config, Any]:
    """``config`` with the camera measured from a floor marker ("aruco", "a4" or "letter") in the
    video's first frames, and the ``FloorCalibration``. A camera height already in ``config``
    (measured with a tape) wins over the marker's."""
    from .floor_marker import calibrate_video

    source, _ = resolve_paths(video, None, True)
    cal = calibrate_video(str(source), marker, marker_size_m=marker_size_m, prior_vfov_deg=config.camera.vfov_deg)
    overrides = cal.config_overrides()
    if config.camera.camera_height_m is not None:
        overrides.pop("camera.camera_height_m", None)
    return config.merged(overrides), cal


# ------------------------------------------------------------------------------------------ main entry

def analyze_video(
    video: str | Path | None = None,
    out_dir: str | Path | None = None,
    config: Config | None = None,
    *,
    quiet: bool = False,
    force: bool = False,
    json_only: bool = False,
    progress: ProgressFn | None = None,
    sequence: PoseSequence | None = None,
    max_dancers: int | None = None,
) -> PipelineOutcome:
    """Analyse one video and write its outputs (see module docstring); returns what happened.

    ``sequence``: an already extracted pose of this video (skips the pose model; tests, re-runs).
    A video without a scorable plié still gets its report (status "no_plie" or "not_scorable",
    exit code 4); bad input raises ``InputError``.
    ``max_dancers`` (or ``model.num_poses`` > 1 in the configuration, which is how batch mode asks):
    a class video with up to that many dancers, each tracked and scored (``multi.analyze_class_video``;
    ``result_json["dancers"]``).
    """
    config = config or Config()
    if max_dancers is None and sequence is None and config.model.num_poses > 1:
        max_dancers = config.model.num_poses
    if max_dancers is not None:
        from .multi import analyze_class_video

        return analyze_class_video(video, out_dir, config, max_dancers=max_dancers, quiet=quiet, force=force,
                                   json_only=json_only, progress=progress)  # type: ignore[no-any-return]
    video, out = resolve_paths(video, out_dir, force)
    if quiet:
        progress = None
    t0 = time.perf_counter()
    if sequence is None:
        sequence = _extract(video, config, progress)
    result, result_json = _analyze(sequence, config)

    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    sequence.save_npz(out / OUTPUT_NAMES["landmarks"])
    files["landmarks"] = out / OUTPUT_NAMES["landmarks"]

    from .report.advice import make_verdict
    from .report.view import build_view

    view = build_view(result, result_json, sequence.timestamps_s)
    plie_cfg = getattr(config, "plie", None)
    phase = phase_labels(view, getattr(plie_cfg, "bottom_window_frac", 0.25))
    still_frames = {r.bottom_frame: r.index for r in view.reps if 0 <= r.bottom_frame < sequence.n_frames}
    fps = float(sequence.meta.get("source_fps") or sequence.fps or 25.0)
    image_xy = smoothed_xy(result, sequence)
    overlay = None if json_only else frame_overlays(view, result, sequence, image_xy, phase)
    stats, stills, written, codec = video_pass(
        video, sequence.n_frames, mask_boxes=person_boxes(sequence),
        out_path=None if json_only else out / OUTPUT_NAMES["video"], overlays=[] if overlay is None else [overlay],
        stills={} if json_only else {i: [(i, None)] for i in still_frames}, progress=progress, fps=fps)
    if not json_only:
        files["video"] = out / OUTPUT_NAMES["video"]

    recording = check_recording(sequence, stats.brightness, stats.camera_step_px, config.recording)
    extra = [str(w) for w in sequence.meta.get("warnings", []) or []]
    view = build_view(result, result_json, sequence.timestamps_s, recording, phase, extra)
    verdict = make_verdict(view)

    blocking = [i for i in recording.issues if i.code in ("side_view", "no_person")]
    if view.refusal or blocking:
        status, reason = "not_scorable", view.refusal or blocking[0].sentence
    elif view.no_plie:
        status, reason = "no_plie", "No demi-plié was found in the video."
    else:
        status, reason = "ok", ""

    data = dict(result_json)
    data.setdefault("config", config.to_dict())
    data.setdefault("versions", versions(sequence))
    data["recording"] = recording.to_dict()
    data["verdict"] = {"status": status, "headline": verdict.headline, "per_leg": list(verdict.per_leg),
                       "changes": list(verdict.changes), "confident": verdict.confident,
                       "caveats": list(verdict.caveats)}
    data["outputs"] = {"video": str(video), "folder": str(out),
                       "files": {k: v.name for k, v in files.items()} | ({} if json_only else {
                           k: OUTPUT_NAMES[k] for k in ("video", "csv", "html")}),
                       "annotated_video_frames": written if not json_only else None,
                       "annotated_video_codec": codec or None}
    truth = sample_truth(video)
    if truth is not None:
        data["sample_truth"] = truth
    data = clean_json(data)
    write_json(data, out / OUTPUT_NAMES["json"])
    files["json"] = out / OUTPUT_NAMES["json"]

    if not json_only:
        from .report.csv_out import write_csv
        from .report.html import make_plots, render_html, write_html

        write_csv(view, sequence.detected, out / OUTPUT_NAMES["csv"])
        files["csv"] = out / OUTPUT_NAMES["csv"]
        plots = make_plots(view)
        rep_by_frame = {r.bottom_frame: r for r in view.reps}
        still_list = [(rep_by_frame[i], stills[i]) for i in sorted(stills) if i in rep_by_frame]
        details = {"video": str(video), "versions": data.get("versions"), "recording measures": recording.measures,
                   "configuration": data.get("config"), "seconds": round(time.perf_counter() - t0, 1)}
        attribution = sequence.meta.get("attribution")
        text = render_html(view, verdict, title=video.name, plots=plots, stills=still_list, details=details,
                           attribution=str(attribution) if attribution else None, truth=truth)
        write_html(text, out / OUTPUT_NAMES["html"])
        files["html"] = out / OUTPUT_NAMES["html"]

    return PipelineOutcome(video, out, status, reason, data, recording, files, verdict.headline, codec)


# ------------------------------------------------------------------------------------------ progress bar

@contextmanager
def rich_progress(enabled: bool = True) -> Iterator[ProgressFn | None]:
    """A ``progress`` callback drawing a rich progress bar (frames done, fps, time left) on stderr."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    labels = {"pose": "Finding the pose", "video": "Drawing the report video"}
    tasks: dict[str, Any] = {}
    started: dict[str, float] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[fps]} fps"), TimeRemainingColumn(),
                  console=Console(stderr=True), transient=False) as bar:
        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total, fps="-")
                started[stage] = time.perf_counter()
            dt = time.perf_counter() - started[stage]
            fps = f"{done / dt:5.1f}" if dt > 0 else "-"
            bar.update(tasks[stage], completed=done, total=total, fps=fps)

        yield update
