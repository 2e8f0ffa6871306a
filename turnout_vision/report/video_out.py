"""Writing the annotated video so that common players (browsers, phones, QuickTime, VLC) play it.

OpenCV's pip wheels cannot encode H.264 (only MPEG-4 Part 2, ``mp4v``, which browsers do not play),
so frames are piped to the ffmpeg binary that the ``imageio-ffmpeg`` wheel ships, encoded with
libx264 as ``yuv420p`` H.264 in MP4 with ``+faststart``. Frames are converted to ``yuv420p``
(BT.601, limited range: what ffmpeg itself would produce) with OpenCV before they are piped: half the
bytes, and about a third less encoder CPU than ffmpeg's own conversion (the encoder runs beside the
pose model, so in a batch this CPU is taken from the other workers). Where that binary is missing the writer
falls back to OpenCV's ``mp4v`` and says so in ``VideoWriter.codec_note``.

Frames are BGR ``uint8`` arrays of the upright frame size (as decoded by ``video.py``); the output
carries no rotation flag, so it shows upright in every player, as the input did.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import TracebackType

import cv2
import numpy as np
from numpy.typing import NDArray


def _ffmpeg_exe() -> str | None:
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        return None


def _bgr_to_i420(frame_bgr: NDArray[np.uint8]) -> bytes:
    """(H, W, 3) uint8 BGR with even H and W -> planar yuv420p bytes (Y, then U, then V)."""
    return cv2.cvtColor(np.ascontiguousarray(frame_bgr, dtype=np.uint8), cv2.COLOR_BGR2YUV_I420).tobytes()


class VideoWriter:
    """Writes BGR frames to an MP4 at a fixed frame rate; use as a context manager.

    >>> with VideoWriter(path, fps=25.0, size_wh=(960, 540)) as w:   # doctest: +SKIP
    ...     w.write(frame)
    """

    def __init__(self, path: str | Path, fps: float, size_wh: tuple[int, int], crf: int = 20) -> None:
        self.path = Path(path)
        self.fps = float(fps) if np.isfinite(fps) and fps > 0 else 25.0
        # H.264 in yuv420p needs even dimensions; odd sizes are padded by one black pixel.
        self.size_wh = (int(size_wh[0]), int(size_wh[1]))
        self._pad = (self.size_wh[0] % 2, self.size_wh[1] % 2)
        self.frames_written = 0
        exe = _ffmpeg_exe()
        self._proc: subprocess.Popen[bytes] | None = None
        self._cv = None
        if exe is not None:
            w, h = self.size_wh
            cmd = [
                exe, "-hide_banner", "-loglevel", "error", "-y",
                "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{w + self._pad[0]}x{h + self._pad[1]}",
                "-r", f"{self.fps:.6f}", "-i", "-",
                "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf),
                "-profile:v", "high", "-movflags", "+faststart",
                "-f", "mp4", str(self.path),
            ]
            self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.PIPE)
            self.codec = "h264"
            self.codec_note = "H.264 (libx264 from imageio-ffmpeg)"
        else:
            self._cv = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self.size_wh)
            if not self._cv.isOpened():
                raise OSError(f"cannot open a video writer for {self.path}")
            self.codec = "mp4v"
            self.codec_note = ("MPEG-4 Part 2 (mp4v): plays in VLC but not in browsers; "
                               "install imageio-ffmpeg for H.264")

    def write(self, frame_bgr: NDArray[np.uint8]) -> None:
        """Append one frame (H, W, 3) uint8 BGR of the size given at construction."""
        if frame_bgr.shape[:2] != (self.size_wh[1], self.size_wh[0]):
            raise ValueError(f"frame must be {self.size_wh[1]}x{self.size_wh[0]} (h x w), got {frame_bgr.shape[:2]}")
        if self._proc is not None:
            if any(self._pad):
                frame_bgr = np.pad(frame_bgr, ((0, self._pad[1]), (0, self._pad[0]), (0, 0)))
            assert self._proc.stdin is not None
            try:
                self._proc.stdin.write(_bgr_to_i420(frame_bgr))
            except BrokenPipeError:
                raise OSError(f"the video encoder stopped: {self._stderr()}") from None
        else:
            self._cv.write(frame_bgr)
        self.frames_written += 1

    def _stderr(self) -> str:
        if self._proc is None or self._proc.stderr is None:
            return ""
        return self._proc.stderr.read().decode("utf-8", "replace").strip()[-500:]

    def close(self) -> None:
        if self._proc is not None:
            proc, self._proc = self._proc, None
            assert proc.stdin is not None
            try:
                proc.stdin.close()
            except BrokenPipeError:
                pass
            err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
            if proc.wait() != 0:
                raise OSError(f"the video encoder failed: {err.strip()[-500:]}")
            if proc.stderr:
                proc.stderr.close()
        elif self._cv is not None:
            self._cv.release()
            self._cv = None

    def abort(self) -> None:
        """Stop without finishing the file (after an error)."""
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stderr):
                if stream:
                    stream.close()
            self._proc = None
        self.close()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
