"""Frames in: video files, cameras and image sequences, upright, RGB, with timestamps in seconds.

``open_source(source)`` returns a ``FrameSource``; iterating it yields ``Frame(index, image_rgb,
timestamp_s)`` lazily, one decoded frame at a time (memory does not grow with the video's length).

=================  ==============================================================================
source             what it is
=================  ==============================================================================
video file         any container/codec the FFmpeg backend of OpenCV reads (.mp4, .mov, .avi, .mkv,
                   .webm, ...). Timestamps are the container's presentation times
                   (``CAP_PROP_POS_MSEC``), so variable-frame-rate phone videos keep their real
                   timing. Rotation metadata (phones) is applied: frames come out upright.
camera             an ``int`` (or a string of digits) is a camera index; timestamps are the
                   monotonic clock's seconds since the first frame.
image sequence     a folder of images (sorted by name, numbers in names compared as numbers), a
                   glob pattern (``frames/*.png``) or a single image file; timestamps are
                   ``index / fps`` (``fps`` argument, default 30). EXIF orientation is applied.
=================  ==============================================================================

Timestamps are strictly increasing: a timestamp that is not greater than the previous one (a
duplicate or out-of-order container time) is replaced by the previous one plus 1 microsecond, and
``FrameSource.adjusted_timestamps`` counts such replacements.

``image_rgb`` is a C-contiguous ``uint8`` array (height, width, 3) in RGB order.
Errors (missing file, not a video, no frames, mixed image sizes) are ``InputError`` with a fix.
"""

from __future__ import annotations

import glob as globlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from .errors import InputError

# Quiet FFmpeg's own log lines ("moov atom not found", "Invalid NAL unit size") and OpenCV's
# warnings: a bad file becomes one InputError sentence instead. Set before the first capture opens;
# a value already in the environment wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")

import cv2  # noqa: E402

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
MIN_STEP_S = 1e-6
"""Timestamp nudge (seconds) applied to non-increasing container times."""
DEFAULT_SEQUENCE_FPS = 30.0

_FIX_VIDEO = "Give a video file OpenCV can decode (e.g. .mp4 with H.264), a folder of images, or a camera index."
_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


class Frame(NamedTuple):
    """One upright RGB frame: ``index`` counts decoded frames from 0; ``timestamp_s`` is in seconds."""

    index: int
    image_rgb: NDArray[np.uint8]
    timestamp_s: float


@dataclass(frozen=True)
class SourceInfo:
    """What is known about a source before decoding it all."""

    description: str
    """File path, ``camera:N`` or the image folder/pattern."""
    kind: str
    """"video", "camera" or "images"."""
    width: int
    height: int
    """Size of the upright frames in pixels (after rotation)."""
    fps: float | None
    """Nominal frame rate from the container (or the ``fps`` given for images); None if unknown.
    Informational only: timestamps come from the container."""
    frame_count: int | None
    """Frames the container announces (an estimate for some formats); None for cameras."""
    rotation_deg: int
    """Clockwise rotation applied to make the frames upright (0, 90, 180 or 270)."""
    codec: str | None = None

    def to_meta(self) -> dict[str, object]:
        return {"source": self.description, "source_kind": self.kind, "source_fps": self.fps,
                "source_frame_count": self.frame_count, "rotation_deg": self.rotation_deg,
                "source_size_wh": [self.width, self.height], "codec": self.codec}


class FrameSource:
    """Base class: iterate once to get ``Frame``s; use as a context manager (or call ``close``)."""

    info: SourceInfo
    frames_read: int = 0
    adjusted_timestamps: int = 0

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release the decoder or camera (idempotent)."""

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _monotonic(self, t_s: float, previous: float | None) -> float:
        if previous is not None and not t_s > previous:
            self.adjusted_timestamps += 1
            return previous + MIN_STEP_S
        return t_s


def make_increasing(timestamps_s: NDArray[np.float64], step_s: float = MIN_STEP_S) -> NDArray[np.float64]:
    """Timestamps made strictly increasing the way sources do it: each value not greater than its
    predecessor becomes the predecessor plus ``step_s``."""
    out = np.array(timestamps_s, dtype=np.float64)
    for i in range(1, out.size):
        if not out[i] > out[i - 1]:
            out[i] = out[i - 1] + step_s
    return out


# ---------------------------------------------------------------------------------------- video
class VideoFileSource(FrameSource):
    """A video file decoded with OpenCV's FFmpeg backend; rotation applied by us (see ``rotation_deg``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cap = _open_capture(path)
        cap = self._cap
        rotation = int(round(cap.get(cv2.CAP_PROP_ORIENTATION_META))) % 360
        if rotation not in (0, 90, 180, 270):
            rotation = 0
        # Rotate ourselves, the same way on every backend and OpenCV version.
        cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 0)
        ok, first = cap.read()
        if not ok or first is None:
            cap.release()
            raise InputError(f"{path} holds no decodable video frames (empty, truncated or not a video).",
                             _FIX_VIDEO)
        self._first: tuple[NDArray[np.uint8], float] | None = (first, cap.get(cv2.CAP_PROP_POS_MSEC))
        h, w = first.shape[:2]
        if rotation in (90, 270):
            w, h = h, w
        fps = cap.get(cv2.CAP_PROP_FPS)
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ") or None
        self.info = SourceInfo(description=str(path), kind="video", width=w, height=h,
                               fps=float(fps) if fps and fps > 0 else None,
                               frame_count=count if count > 0 else None, rotation_deg=rotation, codec=codec)
        self._used = False

    def __iter__(self) -> Iterator[Frame]:
        if self._used:
            raise RuntimeError("A FrameSource can be iterated only once; open the source again.")
        self._used = True
        cap, rotate = self._cap, _ROTATE.get(self.info.rotation_deg)
        fps = self.info.fps or DEFAULT_SEQUENCE_FPS
        previous: float | None = None
        index = 0
        pending = self._first
        self._first = None
        while True:
            if pending is not None:
                bgr, pos_ms = pending
                pending = None
            else:
                ok, bgr = cap.read()
                if not ok or bgr is None:
                    break
                pos_ms = cap.get(cv2.CAP_PROP_POS_MSEC)
            # POS_MSEC is the presentation time of the frame just decoded; fall back to index/fps
            # if the backend gives nothing usable.
            t_s = pos_ms / 1000.0 if pos_ms is not None and np.isfinite(pos_ms) and pos_ms >= 0 else index / fps
            t_s = self._monotonic(t_s, previous)
            if rotate is not None:
                bgr = cv2.rotate(bgr, rotate)
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            previous = t_s
            self.frames_read = index + 1
            yield Frame(index, rgb, t_s)
            index += 1

    def close(self) -> None:
        self._cap.release()


def _open_capture(path: Path) -> cv2.VideoCapture:
    if not path.exists():
        raise InputError(f"Video file not found: {path}.", "Check the path (and that the file was copied completely).")
    if path.is_dir():
        raise InputError(f"{path} is a folder.", "Give a video file, or a folder of images with --images.")
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise InputError(f"{path} cannot be read as a video (not a video, an unsupported format, or a file "
                         "truncated before its index).", _FIX_VIDEO)
    return cap


# ---------------------------------------------------------------------------------------- camera
class CameraSource(FrameSource):
    """A live camera (an index) or a live stream (a URL such as ``rtsp://...`` or ``http://...``, which
    ``cv2.VideoCapture`` opens too); timestamps from the monotonic clock (camera container times are
    unreliable)."""

    def __init__(self, index: int | str, width: int | None = None, height: int | None = None) -> None:
        previous = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)  # backends probed in turn log errors
        try:
            cap = cv2.VideoCapture(index)
        finally:
            cv2.utils.logging.setLogLevel(previous)
        if width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        if height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        ok, first = (cap.read() if cap.isOpened() else (False, None))
        if not ok or first is None:
            cap.release()
            if isinstance(index, str):
                raise InputError(f"The stream {_redact(index)} cannot be opened or gives no frames.",
                                 "Check the URL and that the stream is running.")
            raise InputError(f"Camera {index} cannot be opened or gives no frames.",
                             "Check that it is connected and not used by another program, or try another index.")
        self._cap = cap
        self._first: NDArray[np.uint8] | None = first
        h, w = first.shape[:2]
        fps = cap.get(cv2.CAP_PROP_FPS)
        name = f"camera:{index}" if isinstance(index, int) else _redact(index)
        self.info = SourceInfo(description=name, kind="camera", width=w, height=h,
                               fps=float(fps) if fps and fps > 0 else None, frame_count=None, rotation_deg=0)
        self._t0 = time.monotonic()

    def __iter__(self) -> Iterator[Frame]:
        previous: float | None = None
        index = 0
        while True:
            if self._first is not None:
                bgr, self._first = self._first, None
            else:
                ok, bgr = self._cap.read()
                if not ok or bgr is None:
                    break
            t_s = self._monotonic(time.monotonic() - self._t0, previous)
            previous = t_s
            self.frames_read = index + 1
            yield Frame(index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), t_s)
            index += 1

    def close(self) -> None:
        self._cap.release()


def _redact(url: str) -> str:
    """A stream URL without its password (``rtsp://user:secret@host`` -> ``rtsp://user:***@host``)."""
    return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)


# ---------------------------------------------------------------------------------------- images
def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


class ImageSequenceSource(FrameSource):
    """Still images as frames at a fixed rate: timestamps ``index / fps``."""

    def __init__(self, paths: list[Path], description: str, fps: float = DEFAULT_SEQUENCE_FPS) -> None:
        if not paths:
            raise InputError(f"No images found in {description}.",
                             f"Give a folder or a pattern matching {', '.join(sorted(IMAGE_EXTENSIONS))} files.")
        if not fps > 0:
            raise InputError(f"The frame rate for an image sequence must be positive, got {fps}.", "Use e.g. --fps 30.")
        self.paths = paths
        self.fps = float(fps)
        first = self._read(paths[0])
        h, w = first.shape[:2]
        self.info = SourceInfo(description=description, kind="images", width=w, height=h, fps=self.fps,
                               frame_count=len(paths), rotation_deg=0)

    @staticmethod
    def _read(path: Path) -> NDArray[np.uint8]:
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)  # applies EXIF orientation
        if bgr is None:
            raise InputError(f"{path} cannot be read as an image.", "Remove it from the sequence or convert it to PNG/JPEG.")
        return bgr

    def __iter__(self) -> Iterator[Frame]:
        w, h = self.info.width, self.info.height
        for index, path in enumerate(self.paths):
            bgr = self._read(path)
            if bgr.shape[:2] != (h, w):
                raise InputError(f"{path} is {bgr.shape[1]}x{bgr.shape[0]} but the sequence started at {w}x{h}.",
                                 "Use images of one size.")
            self.frames_read = index + 1
            yield Frame(index, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), index / self.fps)


def _image_paths(source: str) -> tuple[list[Path], str] | None:
    """Image files named by ``source`` (folder, glob or one image), or None if it names none of these."""
    path = Path(source).expanduser()
    if path.is_dir():
        files = [p for p in path.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
        return sorted(files, key=_natural_key), str(path)
    if any(ch in source for ch in "*?["):
        files = [Path(p) for p in globlib.glob(os.path.expanduser(source))]
        files = [p for p in files if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()]
        return sorted(files, key=_natural_key), source
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        if not path.is_file():
            raise InputError(f"Image file not found: {path}.", "Check the path.")
        return [path], str(path)
    return None


# ---------------------------------------------------------------------------------------- entry point
def open_source(source: str | Path | int, *, fps: float | None = None) -> FrameSource:
    """Open a video file, camera index, image folder, image glob or single image (see module docstring).

    ``fps`` sets the frame rate of image sequences (default 30); it is ignored for videos and cameras,
    whose timestamps come from the container or the clock.

    >>> with open_source("clip.mp4") as src:          # doctest: +SKIP
    ...     for frame in src:
    ...         print(frame.index, frame.timestamp_s, frame.image_rgb.shape)
    """
    if isinstance(source, int) or (isinstance(source, str) and source.isdigit() and not Path(source).exists()):
        return CameraSource(int(source))
    text = str(source)
    images = _image_paths(text)
    if images is not None:
        return ImageSequenceSource(images[0], images[1], DEFAULT_SEQUENCE_FPS if fps is None else fps)
    return VideoFileSource(Path(text).expanduser())
