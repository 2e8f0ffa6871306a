"""``turnout live``: real-time feedback from a webcam (or a video file / stream URL treated as one).

Rooms, as everywhere: ``LatestFrameGrabber`` (frames in, newest only), ``PoseTracker`` (model),
``analysis.online.PlieMonitor`` (plié candidates, frame by frame) and ``analysis.core.analyze`` (the
measurement, on the buffered frames), ``draw_live`` (drawing only).

* **Real time.** The grabber thread keeps only the newest frame; a frame that arrives while the model
  is busy replaces the waiting one (counted in ``dropped``), so latency cannot grow. A video file is
  paced at its own frame rate, like a camera; ``realtime=False`` processes every frame instead
  (deterministic: for tests).
* **Setup.** Until the legs, feet and hips have been fully in the picture for ``READY_S``, the banner
  says what to fix (``framing_problem``); then "Ready". Framing problems later are shown again.
* **Pliés.** ``PlieMonitor`` proposes candidates from MediaPipe's world-landmark knee flexion. At a
  candidate's bottom the frames since shortly before it started are analysed by the core and, if the
  knee-over-toe ratio around the deepest frames is inside the toes by more than
  ``flags.knee_inside_toes_ratio`` (negative ratio = inside, docs/CONVENTIONS.md), a large cue names
  the knee. When the candidate ends, the window is analysed again: the plié is **counted only if the
  core finds a demi-plié there**, and its verdict joins the list on screen.
  The analyses run in a worker process at low priority (``os.nice``), so the preview keeps its rate;
  one analysis of a few seconds of frames takes about 3 s of CPU on 2 cores (the camera method's fit),
  so the cue comes that long after the bottom (``LiveEvent.analysis_s``).
* **Sides.** The preview is mirrored like a studio mirror; labels come from the landmarks, so "L" is
  always the dancer's own left knee.
* **One pass.** The model sees each frame once (no ``model.mirror_average``: it would halve the
  preview's rate), so live verdicts are a little less accurate than the recorded report's.
* ``record_dir``: the raw frames are saved there (``session.mp4``) and, on exit, the same report as
  ``turnout analyze`` is written to ``report/`` next to it (the video is analysed afresh, every frame).
* Quitting (q, Esc, window closed, Ctrl-C, end of a file source) always releases the camera, closes the
  window and finishes the files.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .analysis.metrics import knee_flexion_deg
from .analysis.online import PlieEvent, PlieMonitor
from .config import Config
from .errors import InputError
from .extract import FramePose, PoseTracker
from .landmarks import FOOT_INDEX, HEEL, KNEE, LEG_CONNECTIONS, LEG_INDEX, LEFT_SHOULDER, RIGHT_SHOULDER, SIDES
from .sequence import PoseSequence
from .video import CameraSource, Frame, FrameSource, open_source

import cv2  # noqa: E402  (after .video, which quiets OpenCV's and FFmpeg's logs first)

WINDOW = "turnout live  (q / Esc to quit)"
ANALYSIS_LEAD_S = 1.5
"""Seconds of standing before a plié that are analysed with it (the standing feet, the camera fit)."""
VERDICT_DELAY_S = 0.6
"""The verdict's analysis waits this long after a plié ends (so the core sees the legs straight again)."""
READY_S = 0.5
"""Framing must be right this long before the setup phase ends."""
CUE_SHOWN_S = 4.0
CUE_FIT = {"analysis.fit_max_frames": 20, "analysis.fit_starts_deg": (60.0,)}
"""The knee cue's analysis fits 20 frames from one start (about 0.2-0.25 s on 2 cores instead of about 1.5 s
for the full fit; on the demo its knee-over-toe reading moved by 0.025 foot lengths). The verdict after
the plié uses the full fit."""
BUFFER_S = 40.0
"""Seconds of processed frames kept for the analyses."""
CAMERA_SIZE_WH = (640, 480)


# ---------------------------------------------------------------------------------------- frames in
class LatestFrameGrabber:
    """Reads a source in a thread and hands out only the newest frame.

    ``get()`` returns ``(frame, perf_counter time it was captured)`` for the newest frame not yet
    handed out (waiting for one), or None when the source has ended. With ``realtime=True`` a frame
    not taken before the next one arrives is dropped (``dropped`` counts them) and a video file is
    paced at its own timestamps; with ``realtime=False`` the reader waits, so every frame is handed
    out. ``on_frame(frame)`` is called in the reader thread for every frame (to record it).
    """

    def __init__(self, source: FrameSource, *, realtime: bool = True,
                 on_frame: Callable[[Frame], None] | None = None) -> None:
        self.source = source
        self.pace = realtime and source.info.kind in ("video", "images")
        self.lossless = not realtime
        self.on_frame = on_frame
        self.dropped = 0
        self.read = 0
        self.error: BaseException | None = None
        self._latest: tuple[Frame, float] | None = None
        self._ended = False
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="turnout-grabber", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t0: float | None = None
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                if self.pace:  # a file plays at its own speed, like a camera
                    if t0 is None:
                        t0 = time.perf_counter() - frame.timestamp_s
                    delay = t0 + frame.timestamp_s - time.perf_counter()
                    if delay > 0 and self._stop.wait(delay):
                        break
                captured = time.perf_counter()
                self.read += 1
                if self.on_frame is not None:
                    self.on_frame(frame)
                with self._cond:
                    if self.lossless:
                        while self._latest is not None and not self._stop.is_set():
                            self._cond.wait(0.05)
                    elif self._latest is not None:
                        self.dropped += 1
                    self._latest = (frame, captured)
                    self._cond.notify_all()
        except BaseException as exc:  # a decoder failure ends the session with its message
            self.error = exc
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def get(self, timeout_s: float = 5.0) -> tuple[Frame, float] | None:
        """The newest frame and its capture time, or None at the end of the source."""
        deadline = time.perf_counter() + timeout_s
        with self._cond:
            while self._latest is None and not self._ended:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise InputError("The camera stopped delivering frames.", "Check its connection and try again.")
                self._cond.wait(min(remaining, 0.2))  # short waits: Ctrl-C stays responsive
            item, self._latest = self._latest, None
            self._cond.notify_all()
        if item is None and self.error is not None:
            raise self.error
        return item

    def stop(self) -> None:
        """Stop reading, join the thread and release the source (idempotent)."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
        self.source.close()


class SessionRecorder:
    """Writes the raw frames of the session to ``path`` (mp4v), under a temporary name until closed.

    A file source is written at its own frame rate; for a camera the rate is measured over the first
    ``probe_s`` seconds of frames (cameras deliver fewer frames than they announce in dim light), so
    the recording plays at the speed it was filmed.
    """

    def __init__(self, path: Path, nominal_fps: float | None, measure: bool, probe_s: float = 1.0) -> None:
        self.path = path
        self.partial = path.with_name(f".{path.stem}.partial{path.suffix}")
        self.fps = nominal_fps if (nominal_fps and not measure) else None
        self.probe_s = probe_s
        self.frames = 0
        self._pending: list[Frame] = []
        self._writer: cv2.VideoWriter | None = None
        self._lock = threading.Lock()

    def write(self, frame: Frame) -> None:
        with self._lock:
            if self._writer is None:
                self._pending.append(frame)
                span = frame.timestamp_s - self._pending[0].timestamp_s
                if self.fps is None and span < self.probe_s and len(self._pending) < 120:
                    return
                self._open()
                return
            self._put(frame)

    def _open(self) -> None:
        if self.fps is None:
            span = self._pending[-1].timestamp_s - self._pending[0].timestamp_s
            self.fps = (len(self._pending) - 1) / span if span > 0 and len(self._pending) > 1 else 30.0
        h, w = self._pending[0].image_rgb.shape[:2]
        self._writer = cv2.VideoWriter(str(self.partial), cv2.VideoWriter_fourcc(*"mp4v"), float(self.fps), (w, h))
        if not self._writer.isOpened():
            raise InputError(f"Cannot write the session video {self.path}.", "Check that the --record folder is writable.")
        pending, self._pending = self._pending, []
        for f in pending:
            self._put(f)

    def _put(self, frame: Frame) -> None:
        assert self._writer is not None
        self._writer.write(cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> Path | None:
        """Finish the file; returns its path, or None if no frame was recorded."""
        with self._lock:
            if self._writer is None and self._pending:
                self._open()
            if self._writer is None:
                return None
            self._writer.release()
            self._writer = None
            self.partial.replace(self.path)
            return self.path


# ---------------------------------------------------------------------------------------- state
@dataclass(frozen=True)
class LiveEvent:
    """Something the dancer was told (or that happened), at ``t_s`` seconds of the source's clock."""

    t_s: float
    kind: str
    """"setup", "ready", "start", "bottom", "cue", "knees_ok", "cue_skipped", "verdict", "not_counted",
    "error", "stopped" (Ctrl-C) or "end" (always last)."""
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    """Details: plié number, knee-over-toe ratios, analysis time, ..."""


@dataclass
class LiveState:
    """What the screen shows; updated by the loop, read by ``draw_live``."""

    setup_message: str | None = "Step back until your whole body and both feet are in the picture."
    ready: bool = False
    cue: str | None = None
    cue_sides: tuple[int, ...] = ()
    cue_until_s: float = 0.0
    verdicts: list[str] = field(default_factory=list)
    plie_count: int = 0
    phase: str = "setup"
    fps: float = 0.0
    knee_start_xy: NDArray[np.float64] | None = None
    """(2, 2) each knee's image position when the current plié started (the knee travel arrows)."""


def framing_problem(pose: FramePose, width: int, height: int, margin: float = 0.01) -> tuple[str | None, bool]:
    """(one instruction, whether it blocks measuring) if the dancer is not well framed, else (None, False).

    Blocking: nobody, a leg landmark missing or unsure, legs or hips touching the edge of the picture.
    Not blocking: shoulders or head out of the picture (the measurement needs the legs only).
    """
    if not pose.detected:
        return "No one in view: stand facing the camera, whole body in the picture.", True
    legs = pose.image_xy[LEG_INDEX.ravel()]
    if np.isnan(legs).any():
        return "Your legs are not fully visible: step back so both feet are in the picture.", True
    x, y = legs[:, 0], legs[:, 1]
    if y.max() > height * (1 - margin):
        return "Your feet are cut off at the bottom: move the camera back or tilt it down.", True
    if y.min() < height * margin:
        return "Your hips are cut off at the top: move the camera back.", True
    if x.min() < width * margin or x.max() > width * (1 - margin):
        return "You are at the edge of the picture: move to the centre.", True
    feet_vis = pose.visibility[LEG_INDEX[:, 2:].ravel()]  # ankles, heels, toes
    if np.isfinite(feet_vis).any() and float(np.nanmin(feet_vis)) < 0.3:
        return "Your feet are hard to see: more light on the floor, nothing in front of the feet.", True
    top = pose.image_xy[[0, LEFT_SHOULDER, RIGHT_SHOULDER], 1]
    if np.isnan(top).any() or np.nanmin(top) < 0:
        return "Your head is cut off: fine for the legs, but step back if you can.", False
    return None, False


def knee_flexion_now(pose: FramePose) -> NDArray[np.float64]:
    """(2,) knee flexion of one frame per side (left, right), degrees, from MediaPipe's world landmarks."""
    legs = pose.world_xyz[LEG_INDEX][None]  # (1, 2, 5, 3); the angle does not depend on the frame's axes
    return np.asarray(knee_flexion_deg(legs)[0], dtype=float)


# ---------------------------------------------------------------------------------------- analysis
class PoseBuffer:
    """The last ``seconds`` of processed frames, turned into a ``PoseSequence`` on demand."""

    def __init__(self, seconds: float = BUFFER_S) -> None:
        self.seconds = seconds
        self.items: deque[tuple[float, FramePose]] = deque()

    def add(self, t_s: float, pose: FramePose) -> None:
        self.items.append((t_s, pose))
        while self.items and t_s - self.items[0][0] > self.seconds:
            self.items.popleft()

    def knees_at(self, t_s: float) -> NDArray[np.float64] | None:
        """(2, 2) image xy of both knees at the processed frame nearest ``t_s``."""
        best = min(self.items, key=lambda item: abs(item[0] - t_s), default=None)
        if best is None or not best[1].detected:
            return None
        return best[1].image_xy[LEG_INDEX[:, KNEE]].copy()

    def window(self, t0_s: float, t1_s: float, size_wh: tuple[int, int], meta: dict[str, Any]) -> dict[str, Any] | None:
        """The frames in [t0_s, t1_s] as plain arrays (picklable; ``PoseSequence(**window)``)."""
        rows = [(t, p) for t, p in self.items if t0_s <= t <= t1_s]
        if len(rows) < 10:
            return None
        return {
            "image_xy": np.stack([p.image_xy for _, p in rows]),
            "world_xyz": np.stack([p.world_xyz for _, p in rows]),
            "visibility": np.stack([p.visibility for _, p in rows]),
            "presence": np.stack([p.presence for _, p in rows]),
            "image_z": np.stack([p.image_z for _, p in rows]),
            "timestamps_s": np.array([t for t, _ in rows]),
            "frame_size_wh": np.array(size_wh, dtype=float),
            "meta": meta,
        }


def knee_cue(ratio: NDArray[np.float64], flexion: NDArray[np.float64], threshold: float,
             bottom_frac: float = 0.25) -> tuple[str | None, tuple[int, ...], list[float | None]]:
    """The cue for the knees at the bottom of a plié, from the core's per-frame series.

    ``ratio`` (F, 2): knee-over-toe offset in foot lengths (``frames["knee_offset_ratio"]``;
    **negative = inside the toes**, the knee falls towards the big toe); ``flexion`` (F, 2) knee
    flexion. The ratio is the median over the deepest frames (mean flexion within ``bottom_frac`` of
    the bend below its peak, as the core's bottom window); a side is inside when it is below
    ``-threshold``. Returns (cue or None, inside side indices, per-side median ratio or None).
    """
    ratio = np.asarray(ratio, dtype=float)
    flexion = np.asarray(flexion, dtype=float)
    known = np.isfinite(flexion)
    with np.errstate(all="ignore"):
        mean = np.where(known, flexion, 0.0).sum(axis=1) / known.sum(axis=1)  # NaN where both unknown
    if ratio.size == 0 or not np.isfinite(mean).any():
        return None, (), [None, None]
    peak, low = float(np.nanmax(mean)), float(np.nanmin(mean))
    with np.errstate(invalid="ignore"):
        deep = mean >= peak - bottom_frac * (peak - low)  # NaN compares False
    at_bottom = []
    for s in range(2):
        values = ratio[deep, s]
        values = values[np.isfinite(values)]
        at_bottom.append(float(np.median(values)) if values.size else None)
    inside = tuple(s for s in range(2) if at_bottom[s] is not None and at_bottom[s] < -threshold)  # type: ignore[operator]
    if not inside:
        return None, (), at_bottom
    if len(inside) == 2:
        return "Both knees inside the toes: turn both feet in", inside, at_bottom
    side = SIDES[inside[0]]
    return f"{side.capitalize()} knee inside the toes: turn the {side} foot in", inside, at_bottom


def plie_verdict(rep: dict[str, Any], number: int) -> str:
    """One line for a plié from the core's JSON for it (``result.to_dict()["reps"][i]``): what to fix
    per side (the core's flags), or "good" with the forced turnout of each side."""
    if rep.get("kind") == "grand":
        return f"Plié {number}: a grand plié (only demi-pliés are scored)"
    parts, forced = [], []
    for side in SIDES:
        s = rep.get(side) or {}
        problems = []
        for f in s.get("flags") or []:
            if f.get("name") == "forced_turnout":
                problems.append(f"foot forced {f.get('value', 0):.0f}°")
            elif f.get("name") == "knee_inside_toes":
                problems.append("knee inside the toes")
            elif f.get("name") == "rolling_in":
                problems.append("foot rolls in")
        if problems:
            parts.append(f"{side} " + ", ".join(problems))
        value = (s.get("forced_turnout_deg") or {}).get("value")
        forced.append(f"{side[0].upper()} {value:+.0f}°" if isinstance(value, (int, float)) else "")
    if any(f.get("name") == "hips_unstable" for f in rep.get("flags") or []):
        parts.append("hips unstable")
    if parts:
        return f"Plié {number}: " + "; ".join(parts)
    if not any(forced):
        return f"Plié {number}: knees over the toes (rotations not measurable from this view)"
    return f"Plié {number}: good, knees over the toes (forced {', '.join(f for f in forced if f)})"


def analyse_window(window: dict[str, Any], config: Config, kind: str, peak_s: float | None,
                   span_s: tuple[float, float]) -> dict[str, Any]:
    """Run ``analysis.core.analyze`` on a buffered window and keep what the live loop needs (plain data).

    ``kind`` "cue": the knee-over-toe ratio at the bottom (``knee_cue``). ``kind`` "verdict": the core's
    demi/grand plié whose bottom is nearest ``peak_s`` within ``span_s`` (its JSON), or why none is.
    Runs in the worker process.
    """
    from .analysis.core import analyze

    t0 = time.perf_counter()
    sequence = PoseSequence(**window)
    if kind == "cue":  # a quick fit, so the cue comes while the dancer is still at the bottom
        config = config.merged(CUE_FIT)
    result = analyze(sequence, config)
    out: dict[str, Any] = {"status": result.status, "status_reason": result.status_reason,
                           "refusal": result.method.get("refusal")}
    if kind == "cue":
        ratio = np.asarray(result.frames.get("knee_offset_ratio", np.full((sequence.n_frames, 2), np.nan)))
        flex = np.asarray(result.frames.get("knee_flexion_deg", np.full((sequence.n_frames, 2), np.nan)))
        cue, sides, at_bottom = knee_cue(ratio, flex, config.flags.knee_inside_toes_ratio,
                                         config.plie.bottom_window_frac)
        out.update(cue=cue, sides=sides, ratio=at_bottom)
    else:
        data = result.to_dict(include_frames=False)
        lo, hi = span_s
        near = [r for r in data["reps"] if r.get("bottom_s") is not None and lo <= r["bottom_s"] <= hi]
        if near and peak_s is not None:
            near.sort(key=lambda r: abs(r["bottom_s"] - peak_s))
        out["rep"] = near[0] if near else None
        rejected = [r for r in data["rejected_movements"]
                    if r.get("bottom_s") is not None and lo <= r["bottom_s"] <= hi]
        out["rejected"] = rejected[0]["reason"] if rejected else None
    out["analysis_s"] = time.perf_counter() - t0
    return out


def _worker_init() -> None:
    """The analysis process runs at low priority: the live preview must keep its frame rate."""
    try:
        os.nice(10)
    except (AttributeError, OSError):  # pragma: no cover - Windows, or not permitted
        pass
    import turnout_vision.analysis.core  # noqa: F401  (import once, before the first plié)


def _ready() -> bool:
    return True


class _InlineExecutor(Executor):
    """Runs each job at once in the calling thread (``realtime=False``: deterministic, for tests)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered like a worker's failure
            future.set_exception(exc)
        return future


# ---------------------------------------------------------------------------------------- drawing
_LEFT_BGR, _RIGHT_BGR, _ALERT_BGR = (255, 160, 0), (0, 200, 255), (40, 40, 255)


def draw_live(frame_bgr: NDArray[np.uint8], pose: FramePose, state: LiveState, *, mirror: bool = True) -> NDArray[np.uint8]:
    """The preview: (mirrored) frame, leg skeleton with the dancer's own L/R, each foot's axis
    (heel -> toe arrow) and each knee's travel since the plié started (a ring where the knee stood,
    an arrow to where it is), the count and verdicts (top left) and a large banner at the bottom (the
    setup instruction or the knee cue, in red)."""
    img = cv2.flip(frame_bgr, 1) if mirror else frame_bgr.copy()
    h, w = img.shape[:2]
    scale = max(0.5, min(w, h) / 540)
    if pose.detected:
        _draw_legs(img, pose, state, mirror, scale)
    lines = [f"Pliés: {state.plie_count}    {state.phase}    {state.fps:.0f} fps"]
    size = 0.6 * scale
    for verdict in state.verdicts[-3:]:
        lines += _wrap(_ascii(verdict), size, w - 30)
    _panel(img, lines, size)
    banner = state.cue or state.setup_message
    if banner:
        _banner(img, banner, _ALERT_BGR if state.cue else (0, 215, 255), 1.1 * scale)
    return img


def _draw_legs(img: NDArray[np.uint8], pose: FramePose, state: LiveState, mirror: bool, scale: float) -> None:
    w = img.shape[1]

    def flip_x(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.array(xy, dtype=float)
        if mirror:
            out[..., 0] = w - 1 - out[..., 0]
        return out

    xy = flip_x(pose.image_xy)
    ok = ~np.isnan(xy).any(axis=1)
    pts = np.nan_to_num(xy).round().astype(int)
    thick = max(1, int(round(2 * scale)))
    for a, b in LEG_CONNECTIONS:
        if ok[a] and ok[b]:
            cv2.line(img, tuple(pts[a]), tuple(pts[b]), (230, 230, 230), thick, cv2.LINE_AA)
    start = flip_x(state.knee_start_xy) if state.knee_start_xy is not None else None
    hips = LEG_INDEX[:, 0]
    mid_x = float(np.mean(xy[hips, 0])) if ok[hips].all() else w / 2
    for s, side in enumerate(SIDES):
        heel, toe, knee = (int(LEG_INDEX[s, j]) for j in (HEEL, FOOT_INDEX, KNEE))
        colour = _LEFT_BGR if s == 0 else _RIGHT_BGR
        knee_colour = _ALERT_BGR if state.cue is not None and s in state.cue_sides else colour
        if ok[heel] and ok[toe]:
            cv2.arrowedLine(img, tuple(pts[heel]), tuple(pts[toe]), colour, thick + 1, cv2.LINE_AA, tipLength=0.3)
        if not ok[knee]:
            continue
        if start is not None and np.isfinite(start[s]).all():
            a = tuple(start[s].round().astype(int))
            cv2.circle(img, a, int(6 * scale), knee_colour, thick, cv2.LINE_AA)
            if np.hypot(*(pts[knee] - start[s])) > 6 * scale:
                cv2.arrowedLine(img, a, tuple(pts[knee]), knee_colour, thick + 1, cv2.LINE_AA, tipLength=0.3)
        cv2.circle(img, tuple(pts[knee]), int(5 * scale), knee_colour, -1, cv2.LINE_AA)
        label = side[0].upper()
        size = 0.8 * scale
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, size, 2)
        outward = 1 if pts[knee][0] >= mid_x else -1  # the label goes on the outer side of the knee
        x = pts[knee][0] + int(12 * scale) if outward > 0 else pts[knee][0] - int(12 * scale) - tw
        org = (x, pts[knee][1] + th // 2)
        cv2.putText(img, label, org, cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), max(2, int(5 * scale)), cv2.LINE_AA)
        cv2.putText(img, label, org, cv2.FONT_HERSHEY_SIMPLEX, size, colour, max(1, int(2 * scale)), cv2.LINE_AA)


def _ascii(text: str) -> str:
    return text.replace("°", " deg").replace("é", "e").replace("–", "-")  # Hershey fonts are ASCII only


def _wrap(text: str, size: float, width: int) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels (broken after '; ' or ', ' or spaces)."""
    def fits(line: str) -> bool:
        return cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, size, 1)[0][0] <= width

    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and not fits(candidate):
            lines.append(current)
            current = "   " + word
        else:
            current = candidate
    return [*lines, current] if current else lines


def _panel(img: NDArray[np.uint8], lines: list[str], size: float) -> None:
    """White text lines on a dark translucent box in the top-left corner."""
    lines = [_ascii(line) for line in lines]
    th = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, size, 1)[0][1]
    step = int(th * 1.9)
    width = max(cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, size, 1)[0][0] for line in lines) + 20
    height = step * len(lines) + th // 2 + 6
    x1, y1 = min(width, img.shape[1]), min(height, img.shape[0])
    roi = img[:y1, :x1]
    roi[:] = (roi * 0.35).astype(np.uint8)
    for i, line in enumerate(lines):
        cv2.putText(img, line, (10, step * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255),
                    1 if size < 0.7 else 2, cv2.LINE_AA)


def _banner(img: NDArray[np.uint8], text: str, colour: tuple[int, int, int], size: float) -> None:
    """Large text on a black band at the bottom; two lines (split at ':') when it does not fit."""
    h, w = img.shape[:2]
    text = _ascii(text)
    lines = [text]
    (tw, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 3)
    if tw > w - 20 and ":" in text:
        head, tail = text.split(":", 1)
        lines = [head + ":", tail.strip()]
    widest = max(cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, size, 3)[0][0] for line in lines)
    size *= min(1.0, (w - 20) / max(widest, 1))
    th = cv2.getTextSize("Ag", cv2.FONT_HERSHEY_SIMPLEX, size, 3)[0][1]
    gap = int(th * 0.8)
    band = len(lines) * (th + gap) + gap
    cv2.rectangle(img, (0, h - band), (w, h), (0, 0, 0), -1)
    y = h - band + gap + th
    for line in lines:
        lw = cv2.getTextSize(line, cv2.FONT_HERSHEY_SIMPLEX, size, 3)[0][0]
        cv2.putText(img, line, ((w - lw) // 2, y), cv2.FONT_HERSHEY_SIMPLEX, size, colour, 3, cv2.LINE_AA)
        y += th + gap


# ---------------------------------------------------------------------------------------- the loop
@dataclass
class LiveSession:
    """What a session did: events in order, frames read/processed/dropped, latencies, files written."""

    events: list[LiveEvent] = field(default_factory=list)
    frames_read: int = 0
    processed: int = 0
    dropped: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    """Per processed frame: capture (the frame handed over by the camera/decoder) to overlay drawn."""
    duration_s: float = 0.0
    """Wall time of the live loop (from the first frame asked for to the last one processed)."""
    plies: int = 0
    recording: Path | None = None
    report_dir: Path | None = None
    report_status: str | None = None

    @property
    def fps(self) -> float:
        """Processed frames per second of wall time."""
        return self.processed / self.duration_s if self.duration_s > 0 else 0.0

    def of_kind(self, kind: str) -> list[LiveEvent]:
        return [e for e in self.events if e.kind == kind]


def display_available() -> bool:
    """Whether a window can be shown (on Linux: an X11 or Wayland display is set)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def open_live_source(source: str | int, size_wh: tuple[int, int] | None = CAMERA_SIZE_WH) -> FrameSource:
    """A camera index (``0``, ``"1"``) or stream URL (``rtsp://...``), read live at ``size_wh`` if the
    camera offers it; anything else is a video file (or image folder) played as if it were a camera."""
    text = str(source)
    if isinstance(source, int) or (text.isdigit() and not Path(text).exists()):
        width, height = size_wh or (None, None)
        return CameraSource(int(text), width, height)
    if "://" in text:
        return CameraSource(text)
    return open_source(text)


def _free_name(path: Path) -> Path:
    """``path`` if unused, else ``path`` with -2, -3, ... after the stem (nothing is overwritten)."""
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise InputError(f"Too many sessions in {path.parent}.", "Choose another --record folder.")


class _Analyses:
    """The core's analyses of buffered windows: one at a time in the worker, cue jobs first.

    A cue job still waiting when its plié ends is dropped (the plié's verdict covers its knees);
    results are turned into ``LiveEvent``s and screen state by ``deliver``.
    """

    def __init__(self, executor: Executor, config: Config, session: LiveSession, state: LiveState,
                 tell: Callable[..., None]) -> None:
        self.executor, self.config, self.session, self.state, self.tell = executor, config, session, state, tell
        self.waiting: list[dict[str, Any]] = []
        self.running: list[tuple[Future[Any], dict[str, Any]]] = []

    def queue(self, kind: str, event: PlieEvent, window: dict[str, Any] | None, t_s: float, t_end: float) -> None:
        if window is None:
            self.tell(t_s, "not_counted" if kind == "verdict" else "error", "Too few frames to analyse this bend.",
                      start_s=event.start_s)
            return
        if kind == "verdict":
            stale = [j for j in self.waiting if j["kind"] == "cue" and j["event"].start_s == event.start_s]
            for job in stale:
                self.waiting.remove(job)
                self.tell(t_s, "cue_skipped", "The knee check of this plié comes with its verdict (analysis busy).",
                          start_s=event.start_s)
        span = (event.start_s - 0.5, t_end + 0.5)
        self.waiting.append({"kind": kind, "event": event, "window": window, "span": span,
                             "asked_s": t_s, "asked_wall": time.perf_counter()})
        self.pump(t_s)

    def pump(self, t_s: float, wait: bool = False) -> None:
        """Deliver finished jobs and start the next (waiting for the running one if ``wait``)."""
        while True:
            for entry in [r for r in self.running if wait or r[0].done()]:
                self.running.remove(entry)
                self.deliver(entry, t_s)
            if self.running or not self.waiting:
                return
            job = min(self.waiting, key=lambda j: (j["kind"] != "cue", j["asked_wall"]))
            self.waiting.remove(job)
            future = self.executor.submit(analyse_window, job.pop("window"), self.config, job["kind"],
                                          job["event"].peak_s, job["span"])
            self.running.append((future, job))
            if not wait and not future.done():
                return

    def finish(self, t_s: float, kinds: tuple[str, ...] = ("verdict",)) -> None:
        """Run the waiting jobs of ``kinds`` to the end (the others are dropped)."""
        self.waiting = [j for j in self.waiting if j["kind"] in kinds]
        self.pump(t_s, wait=True)

    def deliver(self, entry: tuple[Future[Any], dict[str, Any]], t_s: float) -> None:
        future, job = entry
        event: PlieEvent = job["event"]
        try:
            out = future.result()
        except Exception as exc:  # an analysis failure must not end the session
            self.tell(t_s, "error", f"The bend at {event.start_s:.1f} s could not be analysed "
                                    f"({exc.__class__.__name__}: {exc}).")
            return
        info = {"start_s": event.start_s, "peak_s": event.peak_s, "analysis_s": out["analysis_s"],
                "delay_s": time.perf_counter() - job["asked_wall"]}
        state = self.state
        if job["kind"] == "cue":
            if out.get("cue"):
                state.cue, state.cue_sides, state.cue_until_s = out["cue"], tuple(out["sides"]), t_s + CUE_SHOWN_S
                self.tell(t_s, "cue", out["cue"], ratio=out["ratio"], **info)
            else:
                self.tell(t_s, "knees_ok", "Knees over the toes at the bottom.", ratio=out["ratio"], **info)
            return
        rep = out.get("rep")
        if rep is not None and rep.get("kind") == "demi":
            self.session.plies += 1
            state.plie_count = self.session.plies
            text = plie_verdict(rep, self.session.plies)
            self.tell(t_s, "verdict", text, number=self.session.plies, rep=rep, status=out["status"], **info)
        else:
            why = ("a grand plié (only demi-pliés are scored)" if rep is not None
                   else out.get("rejected") or out.get("status_reason") or "no demi-plié found")
            text = f"Not counted: {why}"
            self.tell(t_s, "not_counted", text, **info)
        state.verdicts.append(text)


def run_live(
    source: str | int,
    config: Config | None = None,
    *,
    headless: bool = False,
    record_dir: Path | None = None,
    realtime: bool = True,
    mirror: bool = True,
    max_seconds: float | None = None,
    size_wh: tuple[int, int] | None = CAMERA_SIZE_WH,
    on_event: Callable[[LiveEvent], None] | None = None,
    on_frame: Callable[[NDArray[np.uint8]], None] | None = None,
    report: bool = True,
) -> LiveSession:
    """Run the live loop until the source ends, the user quits, or ``max_seconds`` pass.

    ``source``: camera index, stream URL or video file (see ``open_live_source``). ``headless``: no
    window (the same loop otherwise). ``record_dir``: save ``session.mp4`` there and, unless
    ``report=False``, write the ``turnout analyze`` report to ``report/`` on exit. ``realtime=False``:
    process every frame and run the analyses inline (deterministic; tests). ``on_event`` gets every
    ``LiveEvent`` as it happens, ``on_frame`` every drawn preview (BGR).

    The analyses run in a spawned worker process, so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard (the ``turnout`` command has it).
    Raises ``InputError`` (no display, no camera, unreadable file); Ctrl-C ends the session normally
    (the camera is released and the files are finished).
    """
    config = config or Config()
    if not headless and not display_available():
        raise InputError("No display is available for the live window.",
                         "Run with --headless (add --record DIR to keep the session), or start it from a desktop session.")
    src = open_live_source(source, size_wh)
    session = LiveSession()
    state = LiveState()
    clock = [0.0]  # the source time of the newest processed frame

    def tell(t_s: float, kind: str, text: str, **data: Any) -> None:
        event = LiveEvent(round(t_s, 3), kind, text, data)
        session.events.append(event)
        if on_event is not None:
            on_event(event)

    recorder: SessionRecorder | None = None
    grabber: LatestFrameGrabber | None = None
    tracker: PoseTracker | None = None
    executor: Executor | None = None
    window = interrupted = False
    started = time.perf_counter()
    try:
        try:
            if record_dir is not None:
                record_dir.mkdir(parents=True, exist_ok=True)
                recorder = SessionRecorder(_free_name(record_dir / "session.mp4"), src.info.fps,
                                           measure=src.info.kind == "camera")
            tracker = PoseTracker(config.model, mirror_average=False, toe_tips=False)   # the preview's frame rate
            if not headless:
                try:
                    cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
                except cv2.error as exc:
                    raise InputError(f"The live window cannot be opened ({str(exc).strip().splitlines()[-1]}).",
                                     "Run with --headless, or start it from a desktop session.") from None
                window = True
            executor = (ProcessPoolExecutor(max_workers=1, mp_context=_spawn(), initializer=_worker_init)
                        if realtime else _InlineExecutor())
            executor.submit(_ready)  # start the worker (and its imports) during the setup phase
            analyses = _Analyses(executor, config, session, state, tell)
            loop = _Loop(config, tracker, analyses, state, tell, meta={
                "source": src.info.description, "source_kind": src.info.kind, **tracker.model.to_meta(),
                "running_mode": "VIDEO", "live": True})
            grabber = LatestFrameGrabber(src, realtime=realtime, on_frame=recorder.write if recorder else None)
            started = time.perf_counter()
            while max_seconds is None or time.perf_counter() - started <= max_seconds:
                item = grabber.get()
                if item is None:
                    break
                frame, captured = item
                clock[0] = frame.timestamp_s
                shown = loop.step(frame, mirror)
                if window:
                    cv2.imshow(WINDOW, shown)
                session.latencies_ms.append((time.perf_counter() - captured) * 1000.0)
                session.processed += 1
                if on_frame is not None:
                    on_frame(shown)
                if window and _quit_asked():
                    break
            session.duration_s = time.perf_counter() - started
        except KeyboardInterrupt:
            interrupted = True
            tell(clock[0], "stopped", "Stopped with Ctrl-C.")
        finally:  # the camera, the window and the session video first
            session.duration_s = session.duration_s or time.perf_counter() - started
            if grabber is not None:
                grabber.stop()
                session.dropped, session.frames_read = grabber.dropped, grabber.read
            else:
                src.close()
            if tracker is not None:
                tracker.close()
            if window:
                try:
                    cv2.destroyWindow(WINDOW)
                    cv2.waitKey(1)
                except cv2.error:  # already closed by the user
                    pass
            if recorder is not None:
                session.recording = recorder.close()
        if not interrupted and tracker is not None:
            loop.finish(clock[0])  # the last plié's verdict
    except KeyboardInterrupt:
        tell(clock[0], "stopped", "Stopped with Ctrl-C while finishing the analyses.")
    finally:
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
    tell(clock[0], "end", f"{session.plies} plié(s); {session.processed} frames processed, {session.dropped} dropped.",
         plies=session.plies, processed=session.processed, dropped=session.dropped)
    if report and session.recording is not None:
        from .pipeline import analyze_video

        session.report_dir = _free_name(session.recording.parent / "report")
        outcome = analyze_video(session.recording, session.report_dir, config, quiet=True)
        session.report_status = outcome.status
    return session


class _Loop:
    """One processed frame at a time: pose, framing, plié events, analyses, the drawn preview."""

    def __init__(self, config: Config, tracker: PoseTracker, analyses: _Analyses, state: LiveState,
                 tell: Callable[..., None], meta: dict[str, Any]) -> None:
        self.tracker, self.analyses, self.state, self.tell, self.meta = tracker, analyses, state, tell, meta
        self.monitor = PlieMonitor.from_config(config.plie)
        self.buffer = PoseBuffer()
        self.verdict_due: list[PlieEvent] = []
        self.last_problem: str | None = None
        self.good_since: float | None = None
        self.tick: float | None = None
        self.size_wh = (0, 0)

    def step(self, frame: Frame, mirror: bool) -> NDArray[np.uint8]:
        state, t_s, rgb = self.state, frame.timestamp_s, frame.image_rgb
        h, w = rgb.shape[:2]
        self.size_wh = (w, h)
        pose = self.tracker.process(rgb, t_s)
        self.buffer.add(t_s, pose)
        blocking = self._framing(pose, t_s, w, h)
        flex = knee_flexion_now(pose) if state.ready and not blocking else np.full(2, np.nan)
        event = self.monitor.update(t_s, flex)
        if event is not None:
            self._on_event(event, t_s)
        for due in [e for e in self.verdict_due if t_s >= e.t_s + VERDICT_DELAY_S]:
            self.verdict_due.remove(due)
            self._queue("verdict", due, t_s)
        self.analyses.pump(t_s)

        state.phase = ("setup" if not state.ready else
                       {"standing": "standing", "bending": "going down", "rising": "coming up"}[self.monitor.state])
        if state.cue and t_s > state.cue_until_s:
            state.cue, state.cue_sides = None, ()
        now = time.perf_counter()
        if self.tick is not None:
            rate = 1.0 / max(now - self.tick, 1e-6)
            state.fps = rate if state.fps == 0 else 0.9 * state.fps + 0.1 * rate
        self.tick = now
        return draw_live(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), pose, state, mirror=mirror)

    def _framing(self, pose: FramePose, t_s: float, w: int, h: int) -> bool:
        state = self.state
        problem, blocking = framing_problem(pose, w, h)
        if problem != self.last_problem:
            if problem and (not state.ready or blocking):
                self.tell(t_s, "setup", problem)
            self.last_problem = problem
        state.setup_message = problem if (not state.ready or blocking) else None
        if blocking:
            self.good_since = None
        elif self.good_since is None:
            self.good_since = t_s
        if not state.ready and self.good_since is not None and t_s - self.good_since >= READY_S:
            state.ready = True
            self.tell(t_s, "ready", "Ready: stand in first position and do a slow demi-plié.")
        return blocking

    def _on_event(self, event: PlieEvent, t_s: float) -> None:
        state = self.state
        if event.kind == "start":
            state.knee_start_xy = self.buffer.knees_at(event.start_s)
            self.tell(t_s, "start", "Plié starting.", start_s=event.start_s)
        elif event.kind == "bottom":
            self.tell(t_s, "bottom", f"Bottom of the plié ({event.depth_deg:.0f}° of knee bend).",
                      peak_s=event.peak_s, start_s=event.start_s, depth_deg=event.depth_deg)
            self._queue("cue", event, t_s)
        elif event.kind == "end":
            self.verdict_due.append(event)
            state.knee_start_xy = None
        else:  # abort
            state.knee_start_xy = None
            self.tell(t_s, "not_counted", f"Not counted: {event.reason}", start_s=event.start_s)

    def _queue(self, kind: str, event: PlieEvent, t_s: float) -> None:
        window = self.buffer.window(event.start_s - ANALYSIS_LEAD_S, t_s, self.size_wh, self.meta)
        self.analyses.queue(kind, event, window, t_s, t_s)

    def finish(self, t_s: float) -> None:
        """The source ended or the user quit: analyse the last plié now, finish the verdicts."""
        for due in self.verdict_due:
            self._queue("verdict", due, t_s)
        self.verdict_due.clear()
        self.analyses.finish(t_s)


def _quit_asked() -> bool:
    """Whether q, Q or Esc was pressed or the window was closed (which some backends report by
    raising instead of returning a visibility of 0)."""
    key = cv2.waitKey(1) & 0xFF
    if key in (ord("q"), ord("Q"), 27):
        return True
    try:
        return cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1
    except cv2.error:
        return True


def _spawn() -> Any:
    """A fresh interpreter for the analysis worker (forking a process that runs MediaPipe's threads is unsafe)."""
    import multiprocessing

    return multiprocessing.get_context("spawn")


def latency_summary(session: LiveSession) -> dict[str, float]:
    """Processed fps, dropped frames and latency percentiles (ms) of a session."""
    lat = np.asarray(session.latencies_ms[5:] or session.latencies_ms, dtype=float)  # skip the warm-up frames
    pct = (lambda q: float(np.percentile(lat, q))) if lat.size else (lambda q: math.nan)
    return {"processed_fps": session.fps, "processed": session.processed, "read": session.frames_read,
            "dropped": session.dropped, "latency_p50_ms": pct(50), "latency_p95_ms": pct(95),
            "latency_max_ms": float(lat.max()) if lat.size else math.nan}


__all__ = ["LatestFrameGrabber", "LiveEvent", "LiveSession", "LiveState", "PoseBuffer", "SessionRecorder",
           "analyse_window", "display_available", "draw_live", "framing_problem", "knee_cue", "latency_summary",
           "open_live_source", "plie_verdict", "run_live"]
