"""MediaPipe Pose Landmarker on frames -> ``PoseSequence``.

``extract(source, config)`` runs the Pose Landmarker in VIDEO mode (it tracks the person from frame
to frame: faster and steadier than IMAGE mode) over every frame of a video file, camera or image
sequence (``video.open_source``) and returns one ``PoseSequence``:

* image landmarks in pixels of the upright frame (``x * width``, ``y * height``; ``image_z`` is
  MediaPipe's relative depth times the width, so it has the scale of x);
* world landmarks in metres exactly as MediaPipe gives them (origin between the hips);
* a frame without a person is a NaN row in every per-frame array, never zeros;
* ``meta``: source, rotation, nominal fps, model name/sha256/origin, MediaPipe and OpenCV versions,
  the model configuration, frame counts and ``warnings`` (sentences: truncated video, no person).

Decoding runs in a background thread that feeds a small bounded queue (``queue_size`` frames), so
decoding overlaps inference and memory stays flat however long the video is. OpenCV's own thread
pool is switched off during extraction (see ``opencv_single_threaded``).

One person: the container holds one pose per frame. With ``num_poses=1`` (the default) MediaPipe's
pose detector keeps its highest-scoring detection, and in VIDEO mode that person is then tracked
from frame to frame until tracking is lost (then the detector runs again). With ``num_poses > 1``
the first pose MediaPipe returns is kept and a warning is recorded.

Two looks (``ModelConfig.mirror_average``, default on, one pose only): a second landmarker, also in
VIDEO mode, sees every frame mirrored; its pose is mapped back (``unmirror``: x flipped, left and
right swapped) and averaged with the first (``average_poses``), unless it is another person. MediaPipe's
errors that depend on which way the body faces partly cancel (the feet's floor angles on rendered
bodies: p95 10.7 -> 5.6 deg); extraction runs at about half the speed. ``meta`` records
``mirror_average`` and ``mirror_rejected_frames``.

``PoseTracker`` is the per-frame API (``process(frame_rgb, t_s)``) for live use: one synchronous
call per frame, in VIDEO mode, so a live loop can drop frames itself and always gets the result of
the frame it sent.

MediaPipe's native code (LiteRT, XNNPACK, glog/absl) writes INFO/WARNING lines straight to file
descriptor 2. ``GLOG_minloglevel``/``TF_CPP_MIN_LOG_LEVEL`` are set before MediaPipe is imported, and
since LiteRT ignores them, fd 2 is redirected to a temporary file while the landmarker is created,
runs its first frame and is closed (``quiet_native_logs``). What was captured is attached to the
exception if one of these steps fails. Set ``TURNOUT_NATIVE_LOGS=1`` to see everything.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import queue
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .config import Config, ModelConfig
from .errors import ModelError
from .landmarks import LEFT_SHOULDER, MIRROR_INDEX, NUM_LANDMARKS
from .pose_model import ResolvedModel, resolve_for_config
from .sequence import PER_FRAME_SHAPES, PoseSequence
from .toe_tips import toe_tips_from_mask
from .video import Frame, FrameSource, open_source

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_logger = logging.getLogger(__name__)
_logger.addHandler(logging.NullHandler())  # warnings are data (meta["warnings"]); the CLI prints them

NO_PERSON_WARNING = "No person was found in any frame."

ProgressCallback = Callable[[int, "int | None"], None]
"""``progress(frames_done, frames_expected_or_None)``, called after every frame."""

RUNNING_MODES = ("video", "image")


_quiet_lock = threading.RLock()
_quiet_depth = 0
_passthrough: tuple[int, Any] | None = None
"""A file descriptor (and a text stream over it) that follows what fd 2 pointed to when the
outermost quiet block began; allocated once and never closed, so a thread still holding the stream
after the block ends writes to the right place."""


def _passthrough_stream() -> tuple[int, Any]:
    global _passthrough
    if _passthrough is None:
        fd = os.dup(2)
        _passthrough = (fd, open(fd, "w", buffering=1, encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                                 closefd=False))
    else:
        os.dup2(2, _passthrough[0])  # follow wherever fd 2 points now (a terminal, pytest's capture ...)
    return _passthrough


@contextmanager
def quiet_native_logs(capture: bool = True) -> Iterator[None]:
    """Send file descriptor 2 (native stderr) away for the duration of the block.

    ``capture=True`` collects it in a temporary file and, if the block raises, adds it to the
    exception as a note; ``capture=False`` discards it (cheap enough to wrap single frames).
    While the block runs, Python's ``sys.stderr`` (if it is the process's fd 2) is pointed at the
    real stderr, so progress bars and Python warnings still show. Blocks nest and are serialised
    across threads (only the outermost redirects). ``TURNOUT_NATIVE_LOGS=1`` disables all this.
    """
    global _quiet_depth
    if os.environ.get("TURNOUT_NATIVE_LOGS"):
        yield
        return
    with _quiet_lock:
        outer = _quiet_depth == 0
        _quiet_depth += 1
        python_stderr, swap, sink, pass_fd, stream = sys.stderr, False, None, None, None
        try:
            if outer:
                try:
                    pass_fd, stream = _passthrough_stream()
                except OSError:  # no fd 2 at all (a daemon): nothing to quieten
                    pass_fd = None
            if pass_fd is not None:
                try:
                    python_stderr.flush()
                    swap = python_stderr.fileno() == 2
                except (AttributeError, ValueError, OSError):
                    swap = False
                sink = tempfile.TemporaryFile() if capture else open(os.devnull, "wb")  # noqa: SIM115
                os.dup2(sink.fileno(), 2)
                if swap:
                    sys.stderr = stream
            try:
                yield
            except BaseException as exc:
                if capture and sink is not None:
                    sink.seek(0)
                    captured = sink.read().decode(errors="replace").strip()
                    if captured:
                        exc.add_note("MediaPipe's native log:\n" + captured[-4000:])
                raise
        finally:
            if pass_fd is not None:
                os.dup2(pass_fd, 2)
                if swap and stream is not None:
                    stream.flush()
                    sys.stderr = python_stderr
                if sink is not None:
                    sink.close()
            _quiet_depth -= 1


_native_first_pose_logged = False
"""MediaPipe logs a warning (once per process) the first time it finds a pose; frames are processed
inside ``quiet_native_logs`` until that has happened."""


def _mediapipe() -> tuple[Any, Any, Any]:
    """Import MediaPipe lazily (heavy, and logs natively on import of some modules)."""
    import mediapipe as mp
    from mediapipe.tasks.python import vision
    from mediapipe.tasks.python.core.base_options import BaseOptions

    return mp, vision, BaseOptions


def mediapipe_version() -> str:
    from importlib.metadata import version

    return version("mediapipe")


@dataclass(frozen=True)
class FramePose:
    """The landmarks of one frame (arrays as in ``PoseSequence``, without the frames axis)."""

    image_xy: NDArray[np.float64]
    """(33, 2) pixels, x right, y down."""
    image_z: NDArray[np.float64]
    """(33,) MediaPipe relative depth in pixels (scale of x)."""
    world_xyz: NDArray[np.float64]
    """(33, 3) metres, MediaPipe world frame."""
    visibility: NDArray[np.float64]
    presence: NDArray[np.float64]
    n_poses: int
    """How many poses MediaPipe returned (0 = no person; the arrays are then NaN)."""
    toe_tip_xy: NDArray[np.float64] = field(default_factory=lambda: np.full((2, 2), np.nan))
    """(2, 2) toe tips per foot (dancer's left, right) in pixels from the person mask (``toe_tips``)."""

    @property
    def detected(self) -> bool:
        return self.n_poses > 0

    @classmethod
    def missing(cls) -> FramePose:
        nan = np.full(NUM_LANDMARKS, np.nan)
        return cls(np.full((NUM_LANDMARKS, 2), np.nan), nan, np.full((NUM_LANDMARKS, 3), np.nan), nan, nan, 0)


def _to_frame_pose(image_landmarks: Any, world_landmarks: Any, width: int, height: int,
                   mask: Any = None) -> FramePose:
    """One MediaPipe pose -> ``FramePose``; ``mask``: its segmentation mask (toe tips), or None."""
    image = np.array([[lm.x, lm.y, lm.z, np.nan if lm.visibility is None else lm.visibility,
                       np.nan if lm.presence is None else lm.presence]
                      for lm in image_landmarks], dtype=np.float64)
    world = np.array([[lm.x, lm.y, lm.z] for lm in world_landmarks], dtype=np.float64)
    image_xy = image[:, :2] * (width, height)
    tips = toe_tips_from_mask(mask.numpy_view(), image_xy) if mask is not None else np.full((2, 2), np.nan)
    return FramePose(
        image_xy=image_xy,
        image_z=image[:, 2] * width,
        world_xyz=world,
        visibility=image[:, 3],
        presence=image[:, 4],
        n_poses=1,
        toe_tip_xy=tips,
    )


def unmirror(pose: FramePose, width: int) -> FramePose:
    """The landmarks found in a horizontally mirrored frame (``width`` pixels), in the original frame:
    x flipped (image: ``width - x``; world: ``-x``) and left and right landmarks swapped back."""
    if not pose.detected:
        return pose
    def flip_x(points_xy: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.column_stack([width - points_xy[:, 0], points_xy[:, 1]])

    world = pose.world_xyz[MIRROR_INDEX]
    return FramePose(image_xy=flip_x(pose.image_xy[MIRROR_INDEX]), image_z=pose.image_z[MIRROR_INDEX],
                     world_xyz=world * (-1.0, 1.0, 1.0), visibility=pose.visibility[MIRROR_INDEX],
                     presence=pose.presence[MIRROR_INDEX], n_poses=pose.n_poses,
                     toe_tip_xy=flip_x(pose.toe_tip_xy[::-1]))        # sides swapped back too


MIRROR_MAX_DISAGREEMENT = 0.15
"""The mirrored pass's pose is averaged in only when its body landmarks (shoulders down) lie within this
fraction of the pose's size (its image bounding-box diagonal) of the first pass's, median over the
landmarks: otherwise it found someone else (a class, a crowd) and the first pass's pose is kept."""


def average_poses(a: FramePose, b: FramePose) -> FramePose:
    """The mean of two poses of the same person; ``a`` alone where ``b`` is another person (see
    ``MIRROR_MAX_DISAGREEMENT``), either one alone where the other found no pose."""
    if not a.detected or not b.detected:
        return a if a.detected else b
    body_a, body_b = a.image_xy[LEFT_SHOULDER:], b.image_xy[LEFT_SHOULDER:]
    size = float(np.linalg.norm(np.nanmax(body_a, axis=0) - np.nanmin(body_a, axis=0)))
    if not np.nanmedian(np.linalg.norm(body_a - body_b, axis=1)) <= MIRROR_MAX_DISAGREEMENT * size:
        return a
    tips = np.where(np.isnan(a.toe_tip_xy), b.toe_tip_xy, np.where(np.isnan(b.toe_tip_xy), a.toe_tip_xy,
                                                                   (a.toe_tip_xy + b.toe_tip_xy) / 2))
    return FramePose(image_xy=(a.image_xy + b.image_xy) / 2, image_z=(a.image_z + b.image_z) / 2,
                     world_xyz=(a.world_xyz + b.world_xyz) / 2, visibility=(a.visibility + b.visibility) / 2,
                     presence=(a.presence + b.presence) / 2, n_poses=max(a.n_poses, b.n_poses), toe_tip_xy=tips)


class PoseTracker:
    """A MediaPipe Pose Landmarker fed one frame at a time.

    >>> with PoseTracker(ModelConfig()) as tracker:          # doctest: +SKIP
    ...     pose = tracker.process(frame_rgb, t_s=0.0)
    ...     pose.image_xy[25]                                 # left knee, pixels

    ``running_mode="video"`` (default) tracks between frames and needs increasing timestamps; they
    are converted to whole milliseconds and bumped by 1 ms when two round to the same value.
    ``running_mode="image"`` treats every frame independently (slower; the benchmark's baseline).
    ``mirror_average`` (default: the config's; only with ``num_poses == 1``): a second landmarker sees
    every frame mirrored, and the two poses are averaged (``unmirror``, ``average_poses``).
    Always close it (``with`` or ``close()``): MediaPipe's own finaliser fails at interpreter exit.
    """

    def __init__(self, model_config: ModelConfig | None = None, *, model: ResolvedModel | None = None,
                 running_mode: str = "video", mirror_average: bool | None = None,
                 toe_tips: bool | None = None) -> None:
        self.config = model_config or ModelConfig()
        self.toe_tips = bool(self.config.toe_tips if toe_tips is None else toe_tips)
        mirror = self.config.mirror_average if mirror_average is None else mirror_average
        self.mirror_average = bool(mirror) and self.config.num_poses == 1
        if running_mode not in RUNNING_MODES:
            raise ValueError(f"running_mode must be one of {RUNNING_MODES}, got {running_mode!r}")
        self.model = model or resolve_for_config(self.config)
        self.running_mode = running_mode
        self._last_ms: int | None = None
        self._frames = 0
        self.mirror_rejected = 0  # frames whose mirrored pose was another person (not averaged in)
        mp, vision, base_options = _mediapipe()
        self._mp = mp
        mode = vision.RunningMode.VIDEO if running_mode == "video" else vision.RunningMode.IMAGE
        options = vision.PoseLandmarkerOptions(
            base_options=base_options(model_asset_path=str(self.model.path)),
            running_mode=mode,
            num_poses=self.config.num_poses,
            min_pose_detection_confidence=self.config.min_pose_detection_confidence,
            min_pose_presence_confidence=self.config.min_pose_presence_confidence,
            min_tracking_confidence=self.config.min_tracking_confidence,
            output_segmentation_masks=self.toe_tips,
        )
        self._landmarker = self._mirror_landmarker = None
        try:
            with quiet_native_logs():
                self._landmarker = vision.PoseLandmarker.create_from_options(options)
                if self.mirror_average:
                    self._mirror_landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError, OSError) as exc:
            self.close()
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            fix = ("Run `turnout model build --force` to rebuild it." if self.model.origin == "built"
                   else "Use an official pose_landmarker_lite/full/heavy.task, or leave out --model / "
                        "TURNOUT_MODEL_TASK to use the built model.")
            raise ModelError(f"MediaPipe cannot load the pose model {self.model.path}: {first}.", fix) from exc

    def process(self, frame_rgb: NDArray[np.uint8], t_s: float) -> FramePose:
        """Landmarks of one RGB uint8 frame (height, width, 3) taken at ``t_s`` seconds: the first
        pose MediaPipe returns (``n_poses`` says how many it found), NaN if none."""
        poses = self.process_all(frame_rgb, t_s)
        if not poses:
            return FramePose.missing()
        return poses[0] if len(poses) == 1 else dataclasses.replace(poses[0], n_poses=len(poses))

    def process_all(self, frame_rgb: NDArray[np.uint8], t_s: float) -> list[FramePose]:
        """Every pose MediaPipe returns for the frame (up to ``num_poses``), in MediaPipe's order."""
        if frame_rgb.dtype != np.uint8 or frame_rgb.ndim != 3 or frame_rgb.shape[2] != 3:
            raise ValueError(f"frame_rgb must be uint8 (height, width, 3), got {frame_rgb.dtype} {frame_rgb.shape}")
        ms = None
        if self.running_mode == "video":
            ms = int(round(t_s * 1000.0))
            if self._last_ms is not None and ms <= self._last_ms:
                ms = self._last_ms + 1
            self._last_ms = ms
        poses = self._detect(self._landmarker, frame_rgb, ms)
        if self._mirror_landmarker is not None:
            mirrored = self._detect(self._mirror_landmarker, frame_rgb[:, ::-1], ms)
            first = poses[0] if poses else FramePose.missing()
            other = unmirror(mirrored[0], frame_rgb.shape[1]) if mirrored else FramePose.missing()
            both = average_poses(first, other)
            self.mirror_rejected += both is first and first.detected and other.detected
            poses = [both] if both.detected else []
        self._frames += 1
        return poses

    def _detect(self, landmarker: Any, frame_rgb: NDArray[np.uint8], ms: int | None) -> list[FramePose]:
        """One landmarker's poses for one frame (``ms``: VIDEO-mode timestamp, None in IMAGE mode)."""
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame_rgb))
        if ms is not None:
            call = lambda: landmarker.detect_for_video(image, ms)  # noqa: E731
        else:
            call = lambda: landmarker.detect(image)  # noqa: E731
        global _native_first_pose_logged
        if self._frames == 0 or not _native_first_pose_logged:
            # The first inference logs delegate/alignment notices, the first pose of the process one more.
            with quiet_native_logs(capture=False):
                result = call()
            _native_first_pose_logged = _native_first_pose_logged or bool(result.pose_landmarks)
        else:
            result = call()
        h, w = frame_rgb.shape[:2]
        masks = (result.segmentation_masks if self.toe_tips and result.segmentation_masks
                 else [None] * len(result.pose_landmarks))
        return [_to_frame_pose(landmarks, world, w, h, mask) for landmarks, world, mask
                in zip(result.pose_landmarks, result.pose_world_landmarks, masks, strict=False)]

    def close(self) -> None:
        for name in ("_landmarker", "_mirror_landmarker"):
            landmarker = getattr(self, name, None)
            if landmarker is not None:
                setattr(self, name, None)
                with quiet_native_logs():
                    landmarker.close()

    def __enter__(self) -> PoseTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------- pipeline
_END = object()


def prefetch(source: FrameSource, queue_size: int = 4) -> Iterator[Frame]:
    """Iterate ``source`` in a background thread, at most ``queue_size`` frames ahead.

    Decoding (and colour conversion and rotation, done by the source) overlaps whatever the caller
    does with each frame. Exceptions of the decoder are re-raised in the caller's thread; if the
    caller stops early the thread is stopped and joined before this generator returns.
    """
    frames: queue.Queue[Any] = queue.Queue(maxsize=max(1, queue_size))
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                frames.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def decode() -> None:
        try:
            for frame in source:
                if not put(frame):
                    return
            put(_END)
        except BaseException as exc:  # forwarded to the consumer
            put(exc)

    thread = threading.Thread(target=decode, name="turnout-decoder", daemon=True)
    thread.start()
    try:
        while True:
            item = frames.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


@contextmanager
def opencv_single_threaded() -> Iterator[None]:
    """OpenCV's own thread pool off while extracting: its parallel ``cvtColor``/``rotate`` would
    preempt the inference thread (measured: pipeline 93% -> 97% of raw inference on 2 cores), and
    one thread converts a 4K frame faster anyway. FFmpeg's decoding threads are not affected.
    Process-wide; the previous setting is restored afterwards."""
    import cv2

    previous = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


class _Rows:
    """Per-frame landmark arrays that grow by doubling (preallocated to the expected frame count):
    about 2 KB per frame, no per-frame Python objects kept."""

    SHAPES = PER_FRAME_SHAPES

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self._data = {name: np.full((max(1, capacity), *tail), np.nan) for name, tail in self.SHAPES.items()}

    def append(self, pose: FramePose) -> None:
        if self.n == len(self._data["image_xy"]):
            for name, array in self._data.items():
                grown = np.full((2 * len(array), *array.shape[1:]), np.nan)
                grown[: self.n] = array
                self._data[name] = grown
        for name, array in self._data.items():
            array[self.n] = getattr(pose, name)
        self.n += 1

    def arrays(self) -> dict[str, NDArray[np.float64]]:
        return {name: array[: self.n] for name, array in self._data.items()}


def as_model_config(config: Config | ModelConfig | None) -> ModelConfig:
    """The ``ModelConfig`` of ``config`` (a ``Config``, a ``ModelConfig`` or None for the defaults)."""
    if config is None:
        return ModelConfig()
    return config.model if isinstance(config, Config) else config


def extract(source: str | Path | int | FrameSource, config: Config | ModelConfig | None = None, *,
            fps: float | None = None, model: ResolvedModel | None = None,
            progress: ProgressCallback | None = None, queue_size: int = 4,
            max_frames: int | None = None, log: Callable[[str], None] | None = None) -> PoseSequence:
    """Pose landmarks of every frame of ``source`` (see the module docstring).

    ``source``: video path, camera index, image folder/glob/file, or an open ``FrameSource``.
    ``config``: a ``Config`` or its ``ModelConfig`` (complexity, task_path, confidences).
    ``fps``: frame rate of an image sequence. ``model``: an already resolved model (else resolved
    from the config, building it on first use). ``max_frames``: stop after this many frames
    (cameras; Ctrl-C also ends a camera recording and keeps its frames). ``log`` receives one-line messages if the model has to be built first.
    Raises ``InputError`` (bad source) or ``ModelError`` (model); a video without any person is not
    an error: all rows are NaN and ``meta["warnings"]`` says so.

    >>> seq = extract("plie.mp4")                                  # doctest: +SKIP
    >>> seq.image_xy.shape, seq.detected.mean()                   # doctest: +SKIP
    ((174, 33, 2), 0.77)
    """
    model_config = as_model_config(config)
    src = source if isinstance(source, FrameSource) else open_source(source, fps=fps)
    with src:
        resolved = model or resolve_for_config(model_config, log=log)
        expected = src.info.frame_count
        if max_frames is not None:
            expected = min(expected, max_frames) if expected else max_frames
        rows = _Rows(min(expected or 1024, 18_000))  # a container's count can be wrong: cap, then grow
        times: list[float] = []
        multi = detected = 0
        with PoseTracker(model_config, model=resolved) as tracker, opencv_single_threaded():
            frames = prefetch(src, queue_size)
            interrupted = False
            try:
                for frame in frames:
                    pose = tracker.process(frame.image_rgb, frame.timestamp_s)
                    multi += pose.n_poses > 1
                    detected += pose.detected
                    rows.append(pose)
                    times.append(frame.timestamp_s)
                    if progress is not None:
                        progress(len(times), expected)
                    if max_frames is not None and len(times) >= max_frames:
                        break
            except KeyboardInterrupt:
                if src.info.kind != "camera" or not times:
                    raise
                interrupted = True  # a camera recording is stopped with Ctrl-C: keep what was seen
            finally:
                frames.close()  # stops and joins the decoder thread before the source closes
            mirror = {"mirror_average": tracker.mirror_average, "mirror_rejected_frames": tracker.mirror_rejected}
        info = src.info
        adjusted = src.adjusted_timestamps
    n = len(times)
    size = (info.width, info.height)
    if n == 0:  # pragma: no cover - sources raise InputError when they hold no frame
        return PoseSequence.empty(0, np.zeros(0), size, meta={})
    warnings_: list[str] = []
    truncated = bool(max_frames is None and info.kind == "video" and info.frame_count
                     and n < 0.98 * info.frame_count - 1)
    if truncated:
        warnings_.append(f"The video ended after {n} of the {info.frame_count} frames its container announces "
                         "(truncated or damaged file); the frames that decoded were kept.")
    if interrupted:
        warnings_.append(f"Stopped with Ctrl-C after {n} frames.")
    if detected == 0:
        warnings_.append(NO_PERSON_WARNING)
    if multi and model_config.num_poses > 1:
        warnings_.append(f"MediaPipe found more than one person in {multi} frames; only the first pose of each "
                         "frame was kept.")
    for message in warnings_:
        _logger.warning(message)
    meta: dict[str, Any] = {
        **info.to_meta(),
        **resolved.to_meta(),
        "frames_decoded": n,
        "frames_with_pose": int(detected),
        "timestamps_adjusted": adjusted,
        "truncated": truncated,
        "running_mode": "VIDEO",
        **mirror,
        "model_config": dataclasses.asdict(model_config),
        "mediapipe_version": mediapipe_version(),
        "opencv_version": cv2_version(),
        "turnout_vision_version": _version(),
        "warnings": warnings_,
    }
    return PoseSequence(
        **rows.arrays(),
        timestamps_s=np.asarray(times, dtype=np.float64),
        frame_size_wh=np.asarray(size, dtype=np.float64),
        meta=meta,
    )


def extract_to_npz(source: str | Path | int, out: str | Path, config: Config | ModelConfig | None = None,
                   **kwargs: Any) -> PoseSequence:
    """``extract`` and write the result with ``PoseSequence.save_npz``; returns the sequence."""
    sequence = extract(source, config, **kwargs)
    sequence.save_npz(out)
    return sequence


def cv2_version() -> str:
    """The installed OpenCV version string."""
    import cv2

    return str(cv2.__version__)


def _version() -> str:
    from . import __version__

    return __version__


__all__ = ["FramePose", "PoseTracker", "as_model_config", "cv2_version", "extract", "extract_to_npz", "mediapipe_version",
           "opencv_single_threaded", "prefetch", "quiet_native_logs"]
