"""``turnout live``: real-time feedback from a webcam (or a video file / stream treated as one).

Rooms, as everywhere: ``LatestFrameGrabber`` (frames in, newest only), ``PoseTracker`` (model),
``analysis.online.PlieMonitor`` + ``analysis.core.analyze`` (math), ``draw_live`` (drawing only).

* Real time: the grabber keeps only the newest frame; frames that arrive while the model is busy
  are dropped, never queued, so latency cannot grow. A video file is paced at its own frame rate,
  like a camera (``realtime=False`` processes every frame, for tests).
* The preview is mirrored like a mirror in the studio; the labels stay the dancer's own sides.
* At the bottom of each plié the recent frames are analysed (in a worker thread, so the display
  never stalls) and a large cue says which knee falls inside the toes; when the plié ends, its
  verdict joins the list on screen.
* ``record_dir``: the session's video is saved there and, on exit, the same report as
  ``turnout analyze`` is written next to it.
* Quitting (q, Esc, window closed, Ctrl-C, end of a video source) always releases the camera and
  finishes the files.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from .analysis.metrics import knee_flexion_deg
from .analysis.online import PlieMonitor
from .config import Config
from .errors import InputError
from .extract import FramePose, PoseTracker
from .landmarks import FOOT_INDEX, HEEL, KNEE, LEG_CONNECTIONS, LEG_INDEX, SIDES
from .sequence import PoseSequence
from .video import CameraSource, Frame, FrameSource, open_source

WINDOW = "turnout live  (q / Esc to quit)"
ANALYSIS_LEAD_S = 1.5
"""Seconds of standing before a plié that are analysed with it (the standing foot rotation)."""


# ---------------------------------------------------------------------------------------- frames in
class LatestFrameGrabber:
    """Reads a source in a thread and hands out only the newest frame.

    ``get()`` returns the newest frame not yet handed out (waiting for one), or None when the
    source has ended. ``dropped`` counts frames overwritten before anyone took them.
    ``on_frame(frame)`` is called in the reader thread for every frame (e.g. to record it).
    """

    def __init__(self, source: FrameSource, *, realtime: bool = True,
                 on_frame: Callable[[Frame], None] | None = None) -> None:
        self.source = source
        self.realtime = realtime and source.info.kind == "video"
        self.lossless = not realtime
        self.on_frame = on_frame
        self.dropped = 0
        self._latest: tuple[Frame, float] | None = None
        self._ended = False
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="turnout-grabber", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t0 = time.perf_counter()
        try:
            for frame in self.source:
                if self._stop.is_set():
                    break
                if self.realtime:  # a file plays at its own speed, like a camera
                    delay = frame.timestamp_s - (time.perf_counter() - t0)
                    if delay > 0:
                        time.sleep(delay)
                if self.on_frame is not None:
                    self.on_frame(frame)
                with self._cond:
                    if self.lossless:
                        while self._latest is not None and not self._stop.is_set():
                            self._cond.wait(0.05)
                    elif self._latest is not None:
                        self.dropped += 1
                    self._latest = (frame, time.perf_counter())
                    self._cond.notify_all()
        finally:
            with self._cond:
                self._ended = True
                self._cond.notify_all()

    def get(self, timeout_s: float = 5.0) -> tuple[Frame, float] | None:
        """(frame, perf_counter time it was captured), or None at the end of the source."""
        with self._cond:
            deadline = time.perf_counter() + timeout_s
            while self._latest is None and not self._ended:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise InputError("The camera stopped delivering frames.", "Check its connection and try again.")
                self._cond.wait(remaining)
            item, self._latest = self._latest, None
            self._cond.notify_all()
            return item

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=5.0)
        self.source.close()


# ---------------------------------------------------------------------------------------- state
@dataclass
class LiveEvent:
    """Something the dancer was told, at ``t_s`` seconds of the session."""

    t_s: float
    kind: str  # "setup", "bottom", "cue", "verdict", "end"
    text: str


@dataclass
class LiveState:
    """What the screen shows; updated by the loop, read by ``draw_live``."""

    setup_message: str | None = "Step back until your whole body and both feet are in the picture."
    cue: str | None = None
    cue_until_s: float = 0.0
    verdicts: list[str] = field(default_factory=list)
    plie_count: int = 0
    phase: str = "standing"
    fps: float = 0.0


def framing_problem(pose: FramePose, width: int, height: int, margin: float = 0.01) -> str | None:
    """One instruction if the body or the feet are not fully in the picture, else None."""
    if not pose.detected:
        return "No one in view: stand facing the camera, whole body in the picture."
    legs = pose.image_xy[LEG_INDEX.ravel()]
    if np.isnan(legs).any():
        return "Your legs are not fully visible: step back so both feet are in the picture."
    x, y = legs[:, 0], legs[:, 1]
    if y.max() > height * (1 - margin):
        return "Your feet leave the bottom of the picture: move the camera back or tilt it down."
    if y.min() < height * margin:
        return "Your hips leave the top of the picture: move the camera back."
    if x.min() < width * margin or x.max() > width * (1 - margin):
        return "You are at the edge of the picture: move to the centre."
    nose_y = pose.image_xy[0, 1]
    if np.isnan(nose_y) or nose_y < 0:
        return "Your head is out of the picture: the camera must see your whole body."
    return None


def _flexion(pose: FramePose) -> float:
    """Mean knee flexion of one frame in degrees, from MediaPipe's world landmarks."""
    legs = pose.world_xyz[LEG_INDEX][None]  # (1, 2, 5, 3); the angle does not depend on the frame
    return float(np.nanmean(knee_flexion_deg(legs)))


# ---------------------------------------------------------------------------------------- analysis
class _Buffer:
    """The last ``seconds`` of processed frames, turned into a PoseSequence on demand."""

    def __init__(self, seconds: float = 30.0) -> None:
        self.seconds = seconds
        self.items: deque[tuple[float, FramePose]] = deque()

    def add(self, t_s: float, pose: FramePose) -> None:
        self.items.append((t_s, pose))
        while self.items and t_s - self.items[0][0] > self.seconds:
            self.items.popleft()

    def since(self, t0_s: float, size_wh: tuple[int, int]) -> PoseSequence | None:
        rows = [(t, p) for t, p in self.items if t >= t0_s]
        if len(rows) < 5:
            return None
        return PoseSequence(
            image_xy=np.stack([p.image_xy for _, p in rows]),
            world_xyz=np.stack([p.world_xyz for _, p in rows]),
            visibility=np.stack([p.visibility for _, p in rows]),
            presence=np.stack([p.presence for _, p in rows]),
            image_z=np.stack([p.image_z for _, p in rows]),
            timestamps_s=np.array([t for t, _ in rows]),
            frame_size_wh=np.array(size_wh, dtype=float),
            meta={"source": "live"},
        )


def knee_cue(result: Any, config: Config) -> str | None:
    """The cue for the knees at the bottom of the plié just analysed, or None if they track well.

    Uses the per-frame knee-over-toe ratio (fraction of foot length; negative = inside the toes)
    around the deepest frame of the analysed window.
    """
    frames = result.frames
    ratio = np.asarray(frames.knee_over_toe_ratio)  # (F, 2)
    flexion = np.nanmean(np.asarray(frames.knee_flexion_deg), axis=1)
    if ratio.size == 0 or np.isnan(flexion).all():
        return None
    bottom = int(np.nanargmax(flexion))
    near = slice(max(0, bottom - 2), bottom + 3)
    with np.errstate(all="ignore"):
        at_bottom = np.nanmedian(ratio[near], axis=0)
    inside = [SIDES[s] for s in range(2) if at_bottom[s] < -config.flags.knee_inside_toes_ratio]
    if not inside:
        return None
    if len(inside) == 2:
        return "Both knees inside the toes: turn both feet in"
    return f"{inside[0].capitalize()} knee inside the toes: turn the {inside[0]} foot in"


def plie_verdict(result: Any, number: int) -> str:
    """One line for the plié just finished, from its analysis result."""
    data = result.to_json_dict() if hasattr(result, "to_json_dict") else result
    reps = data.get("reps") or []
    if not reps:
        return f"Plié {number}: not scored ({'; '.join(_warning_texts(data)) or 'no plié found'})"
    rep = reps[-1]
    parts = []
    for side in SIDES:
        s = rep.get(side) or {}
        foot, leg = _num(s.get("foot_rotation_deg")), _num(s.get("leg_rotation_deg"))
        forced = _num(s.get("forced_turnout_deg"))
        if foot is None or leg is None:
            parts.append(f"{side[0].upper()}: not measurable")
            continue
        mark = " forced!" if forced is not None and "forced_turnout" in _flag_list(s.get("flags")) else ""
        parts.append(f"{side[0].upper()} foot {foot:.0f}° leg {leg:.0f}°{mark}")
    return f"Plié {number}: " + ", ".join(parts)


def _num(item: Any) -> float | None:
    if isinstance(item, dict):
        item = item.get("value")
    return float(item) if isinstance(item, (int, float)) else None


def _flag_list(flags: Any) -> list[str]:
    if isinstance(flags, dict):
        return [k for k, v in flags.items() if v is True or (isinstance(v, dict) and v.get("raised"))]
    if isinstance(flags, list):
        return [f.get("name", "") if isinstance(f, dict) else str(f) for f in flags]
    return []


def _warning_texts(data: dict[str, Any]) -> list[str]:
    return [w.get("message", w.get("code", "")) if isinstance(w, dict) else str(w) for w in data.get("warnings", [])][:1]


# ---------------------------------------------------------------------------------------- drawing
def draw_live(frame_bgr: NDArray[np.uint8], pose: FramePose, state: LiveState, *, mirror: bool = True) -> NDArray[np.uint8]:
    """The preview: (mirrored) frame, leg skeleton with the dancer's own L/R, foot axes, knees, cues."""
    img = cv2.flip(frame_bgr, 1) if mirror else frame_bgr.copy()
    h, w = img.shape[:2]
    if pose.detected:
        xy = pose.image_xy.copy()
        if mirror:
            xy[:, 0] = w - xy[:, 0]
        ok = ~np.isnan(xy).any(axis=1)
        pts = np.nan_to_num(xy).astype(int)
        for a, b in LEG_CONNECTIONS:
            if ok[a] and ok[b]:
                cv2.line(img, tuple(pts[a]), tuple(pts[b]), (230, 230, 230), 2, cv2.LINE_AA)
        for s, side in enumerate(SIDES):
            heel, toe, knee = (LEG_INDEX[s, j] for j in (HEEL, FOOT_INDEX, KNEE))
            colour = (255, 160, 0) if s == 0 else (0, 200, 255)
            if ok[heel] and ok[toe]:
                cv2.arrowedLine(img, tuple(pts[heel]), tuple(pts[toe]), colour, 3, cv2.LINE_AA, tipLength=0.3)
            if ok[knee]:
                cv2.circle(img, tuple(pts[knee]), 7, colour, -1, cv2.LINE_AA)
                cv2.putText(img, side[0].upper(), (pts[knee][0] + 10, pts[knee][1]), cv2.FONT_HERSHEY_SIMPLEX,
                            0.8, colour, 2, cv2.LINE_AA)
    scale = max(0.5, h / 720)
    y = int(30 * scale)
    _text(img, f"Pliés: {state.plie_count}   {state.phase}   {state.fps:.0f} fps", (10, y), 0.7 * scale)
    for line in state.verdicts[-4:]:
        y += int(28 * scale)
        _text(img, line, (10, y), 0.55 * scale)
    banner = state.setup_message or state.cue
    if banner:
        colour = (0, 0, 255) if state.cue and not state.setup_message else (0, 215, 255)
        size = 1.0 * scale
        (tw, th), _ = cv2.getTextSize(banner, cv2.FONT_HERSHEY_SIMPLEX, size, 3)
        size *= min(1.0, (w - 20) / max(tw, 1))
        (tw, th), _ = cv2.getTextSize(banner, cv2.FONT_HERSHEY_SIMPLEX, size, 3)
        y0 = h - int(20 * scale)
        cv2.rectangle(img, (0, y0 - th - 16), (w, h), (0, 0, 0), -1)
        cv2.putText(img, banner, ((w - tw) // 2, y0), cv2.FONT_HERSHEY_SIMPLEX, size, colour, 3, cv2.LINE_AA)
    return img


def _text(img: NDArray[np.uint8], text: str, org: tuple[int, int], size: float) -> None:
    text = text.replace("°", " deg").replace("é", "e")  # Hershey fonts are ASCII only
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, size, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, size, (255, 255, 255), 1, cv2.LINE_AA)


# ---------------------------------------------------------------------------------------- the loop
@dataclass
class LiveSession:
    """What a session did: events in order, frames processed and dropped, latencies, files written."""

    events: list[LiveEvent] = field(default_factory=list)
    processed: int = 0
    dropped: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    duration_s: float = 0.0
    recording: Path | None = None
    report_dir: Path | None = None

    @property
    def fps(self) -> float:
        return self.processed / self.duration_s if self.duration_s > 0 else 0.0


def _display_available() -> bool:
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run_live(
    source: str | int,
    config: Config,
    *,
    headless: bool = False,
    record_dir: Path | None = None,
    realtime: bool = True,
    mirror: bool = True,
    max_seconds: float | None = None,
    size_wh: tuple[int, int] | None = (640, 480),
    on_event: Callable[[LiveEvent], None] | None = None,
) -> LiveSession:
    """Run the live loop until the source ends, the user quits, or ``max_seconds`` pass."""
    if not headless and not _display_available():
        raise InputError("No display is available for the live window.",
                         "Run with --headless (and --record DIR to keep the session), or start it from a desktop session.")
    src = _open_live_source(source, size_wh)
    session = LiveSession()
    writer: cv2.VideoWriter | None = None
    if record_dir is not None:
        record_dir.mkdir(parents=True, exist_ok=True)
        session.recording = _free_name(record_dir / "session.mp4")
        fps = src.info.fps or 30.0
        writer = cv2.VideoWriter(str(session.recording.with_name(session.recording.stem + ".partial.mp4")),
                                 cv2.VideoWriter_fourcc(*"mp4v"), fps, (src.info.width, src.info.height))

    def record(frame: Frame) -> None:
        if writer is not None:
            writer.write(cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR))

    state = LiveState()
    monitor = PlieMonitor(config.plie.standing_max_deg, config.plie.min_depth_deg)
    buffer = _Buffer()
    analysis_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="turnout-analysis")
    pending: list[tuple[str, Future[Any], int]] = []

    def tell(t_s: float, kind: str, text: str) -> None:
        event = LiveEvent(round(t_s, 3), kind, text)
        session.events.append(event)
        if on_event:
            on_event(event)

    grabber = LatestFrameGrabber(src, realtime=realtime, on_frame=record)
    tracker: PoseTracker | None = None
    started = time.perf_counter()
    window = False
    try:
        tracker = PoseTracker(config.model)
        if not headless:
            cv2.namedWindow(WINDOW, cv2.WINDOW_NORMAL)
            window = True
        last_setup: str | None = "start"
        tick = time.perf_counter()
        while True:
            if max_seconds is not None and time.perf_counter() - started > max_seconds:
                break
            item = grabber.get()
            if item is None:
                break
            frame, captured = item
            t_s = frame.timestamp_s
            pose = tracker.process(frame.image_rgb, t_s)
            buffer.add(t_s, pose)
            h, w = frame.image_rgb.shape[:2]

            problem = framing_problem(pose, w, h)
            if monitor.state == "standing":
                state.setup_message = problem
                if problem != last_setup:
                    if problem:
                        tell(t_s, "setup", problem)
                    last_setup = problem
            event = monitor.update(t_s, _flexion(pose)) if problem is None or monitor.state != "standing" else None
            state.phase = {"standing": "standing", "bending": "going down", "rising": "coming up"}[monitor.state]
            if event == "bottom":
                tell(t_s, "bottom", f"bottom of plié {monitor.count + 1}")
                window_seq = buffer.since((monitor.start_s or t_s) - ANALYSIS_LEAD_S, (w, h))
                if window_seq is not None:
                    pending.append(("cue", analysis_pool.submit(_analyze, window_seq, config), monitor.count + 1))
            elif event == "end":
                window_seq = buffer.since((monitor.start_s or t_s) - ANALYSIS_LEAD_S, (w, h))
                if window_seq is not None:
                    pending.append(("verdict", analysis_pool.submit(_analyze, window_seq, config), monitor.count))
            state.plie_count = monitor.count

            for entry in [p for p in pending if p[1].done()]:
                pending.remove(entry)
                _deliver(entry, t_s, state, config, tell)

            now = time.perf_counter()
            state.fps = 0.9 * state.fps + 0.1 / max(now - tick, 1e-6) if state.fps else 1.0 / max(now - tick, 1e-6)
            tick = now
            if state.cue and t_s > state.cue_until_s:
                state.cue = None
            shown = draw_live(cv2.cvtColor(frame.image_rgb, cv2.COLOR_RGB2BGR), pose, state, mirror=mirror)
            session.latencies_ms.append((time.perf_counter() - captured) * 1000.0)
            session.processed += 1
            if window:
                cv2.imshow(WINDOW, shown)
                key = cv2.waitKey(1) & 0xFF
                if key in (ord("q"), 27) or cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                    break
        for entry in pending:  # let the last analyses finish so their verdicts are not lost
            _deliver((entry[0], entry[1], entry[2]), buffer.items[-1][0] if buffer.items else 0.0, state, config, tell)
    except KeyboardInterrupt:
        pass
    finally:
        session.duration_s = time.perf_counter() - started
        grabber.stop()
        session.dropped = grabber.dropped
        analysis_pool.shutdown(wait=True)
        if tracker is not None:
            tracker.close()
        if window:
            cv2.destroyWindow(WINDOW)
        if writer is not None:
            writer.release()
            partial = session.recording.with_name(session.recording.stem + ".partial.mp4")  # type: ignore[union-attr]
            partial.replace(session.recording)  # type: ignore[arg-type]
    tell(session.duration_s, "end", f"{monitor.count} plié(s), {session.processed} frames processed, {session.dropped} dropped")
    if record_dir is not None and session.recording is not None:
        from .pipeline import analyze_video

        session.report_dir = _free_name(record_dir / "report")
        analyze_video(session.recording, session.report_dir, config, quiet=True)
    return session


def _analyze(sequence: PoseSequence, config: Config) -> Any:
    from .analysis.core import analyze

    return analyze(sequence, config)


def _deliver(entry: tuple[str, Future[Any], int], t_s: float, state: LiveState, config: Config,
             tell: Callable[[float, str, str], None]) -> None:
    kind, future, number = entry
    try:
        result = future.result()
    except Exception as exc:  # an analysis failure must not end the session
        tell(t_s, "verdict", f"Plié {number}: could not be analysed ({exc.__class__.__name__})")
        return
    if kind == "cue":
        cue = knee_cue(result, config)
        if cue:
            state.cue, state.cue_until_s = cue, t_s + 2.5
            tell(t_s, "cue", cue)
    else:
        verdict = plie_verdict(result, number)
        state.verdicts.append(verdict)
        tell(t_s, "verdict", verdict)


def _open_live_source(source: str | int, size_wh: tuple[int, int] | None) -> FrameSource:
    """A camera index or stream URL (read live, clock timestamps), or a file (paced by the grabber)."""
    is_stream = isinstance(source, str) and "://" in source
    if is_stream or isinstance(source, int) or (isinstance(source, str) and source.isdigit()):
        width, height = size_wh or (None, None)
        return CameraSource(source if is_stream else int(source), width, height)
    return open_source(source)


def _free_name(path: Path) -> Path:
    """``path`` if unused, else ``path`` with -2, -3, ... before the suffix (nothing is overwritten)."""
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise InputError(f"Too many sessions in {path.parent}.", "Choose another --record folder.")


__all__ = ["LatestFrameGrabber", "LiveEvent", "LiveSession", "PlieMonitor", "draw_live", "framing_problem",
           "knee_cue", "plie_verdict", "run_live"]
