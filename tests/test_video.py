"""Frame sources: timestamps from the container, rotation metadata, image sequences, bad input.

Videos are written with OpenCV (MPEG-4 part 2 in .mp4) into tmp_path; rotation and variable frame
rate are then set by editing the MP4 boxes directly (tkhd matrix, stts durations), so no ffmpeg
binary is needed.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from turnout_vision.errors import InputError
from turnout_vision.extract import prefetch
from turnout_vision.video import (
    MIN_STEP_S,
    Frame,
    FrameSource,
    ImageSequenceSource,
    SourceInfo,
    VideoFileSource,
    make_increasing,
    open_source,
)

W, H = 64, 48


def _frame(i: int) -> np.ndarray:
    """BGR frame: red block in the top-left corner, a gray level that encodes the index."""
    frame = np.full((H, W, 3), 10 * i % 200 + 30, np.uint8)
    frame[:12, :20] = (0, 0, 255)
    return frame


def write_mp4(path: Path, n: int = 10, fps: float = 25.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (W, H))
    assert writer.isOpened()
    for i in range(n):
        writer.write(_frame(i))
    writer.release()
    return path


# --- MP4 box editing ---------------------------------------------------------------------------
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf"}


def _boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    pos = 0
    while pos < len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        assert size >= 8, "64-bit or open-ended boxes are not used by OpenCV's muxer"
        yield kind, data[pos + 8:pos + size]
        pos += size


def _rewrite(data: bytes, edit: dict[bytes, object]) -> bytes:
    out = b""
    for kind, body in _boxes(data):
        if edit.get(kind, 0) is None:  # drop the box
            continue
        if kind in _CONTAINERS:
            body = _rewrite(body, edit)
        elif kind in edit:
            body = edit[kind](body)  # type: ignore[operator]
        out += struct.pack(">I4s", 8 + len(body), kind) + body
    return out


def edit_mp4(path: Path, **edits: object) -> None:
    data = path.read_bytes()
    kinds = [k for k, _ in _boxes(data)]
    assert kinds.index(b"moov") > kinds.index(b"mdat"), "moov must follow mdat so chunk offsets stay valid"
    path.write_bytes(_rewrite(data, {k.encode(): v for k, v in edits.items()}))


def set_rotation(path: Path, degrees: int) -> None:
    """Write the display matrix of a clockwise rotation into the track header (as phones do)."""
    one = 0x10000
    a, b, c, d = {0: (one, 0, 0, one), 90: (0, one, -one, 0), 180: (-one, 0, 0, -one), 270: (0, -one, one, 0)}[degrees]

    def tkhd(body: bytes) -> bytes:
        start = 4 + (20 if body[0] == 0 else 32) + 8 + 8  # version/flags, times/ids/duration, reserved, layer...
        return body[:start] + struct.pack(">9i", a, b, 0, c, d, 0, 0, 0, 0x40000000) + body[start + 36:]

    edit_mp4(path, tkhd=tkhd)


def set_frame_durations(path: Path, deltas: list[int]) -> int:
    """Give each frame its own duration (in the track's timescale) in the stts box; returns the timescale.

    The edit list (edts) is dropped: it would cut playback at the clip's original duration."""
    timescale = {}

    def mdhd(body: bytes) -> bytes:
        timescale["value"] = struct.unpack(">I", body[12:16] if body[0] == 0 else body[20:24])[0]
        return body

    def stts(body: bytes) -> bytes:
        runs: list[list[int]] = []
        for delta in deltas:
            if runs and runs[-1][1] == delta:
                runs[-1][0] += 1
            else:
                runs.append([1, delta])
        return body[:4] + struct.pack(">I", len(runs)) + b"".join(struct.pack(">II", *r) for r in runs)

    edit_mp4(path, mdhd=mdhd, stts=stts, edts=None)
    return timescale["value"]


# --- video files ---------------------------------------------------------------------------------
def test_video_frames_are_rgb_with_container_timestamps(tmp_path: Path) -> None:
    path = write_mp4(tmp_path / "clip.mp4", n=10, fps=25)
    with open_source(path) as source:
        assert isinstance(source, VideoFileSource)
        info = source.info
        frames = list(source)
    assert (info.kind, info.width, info.height, info.fps, info.frame_count, info.rotation_deg) == \
        ("video", W, H, 25.0, 10, 0)
    assert [f.index for f in frames] == list(range(10))
    np.testing.assert_allclose([f.timestamp_s for f in frames], np.arange(10) / 25, atol=1e-9)
    first = frames[0].image_rgb
    assert first.dtype == np.uint8 and first.shape == (H, W, 3) and first.flags.c_contiguous
    red = first[2:10, 2:18].reshape(-1, 3).mean(axis=0)
    assert red[0] > 200 and red[2] < 60, f"expected RGB red, got {red}"


def test_variable_frame_rate_keeps_container_times(tmp_path: Path) -> None:
    path = write_mp4(tmp_path / "vfr.mp4", n=12, fps=25)
    base = None
    with open_source(path) as source:
        base = [f.timestamp_s for f in source]
    timescale = set_frame_durations(path, [round(0.04 * 12800)] * 6 + [round(0.1 * 12800)] * 6)
    with open_source(path) as source:
        times = np.array([f.timestamp_s for f in source])
    expected = np.concatenate([np.arange(7) * 0.04, 0.24 + np.arange(1, 6) * 0.1])
    assert timescale == 12800, "OpenCV's muxer uses a 1/12800 s timescale at 25 fps"
    np.testing.assert_allclose(times, expected, atol=1e-3)
    assert not np.allclose(times, base), "the timestamps must come from the container, not index / fps"


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_rotation_metadata_gives_upright_frames(degrees: int, tmp_path: Path) -> None:
    path = write_mp4(tmp_path / f"rot{degrees}.mp4", n=3)
    set_rotation(path, degrees)
    with open_source(path) as source:
        info, frame = source.info, next(iter(source)).image_rgb
    assert info.rotation_deg == degrees
    size = (H, W) if degrees in (90, 270) else (W, H)
    assert (info.width, info.height) == size and frame.shape[:2] == size[::-1]
    # the red block (top-left in the stored frame) lands where a player shows it
    corner = {0: frame[:8, :8], 90: frame[:8, -8:], 180: frame[-8:, -8:], 270: frame[-8:, :8]}[degrees]
    assert corner[..., 0].mean() > 200 and corner[..., 2].mean() < 60
    # and it is exactly what OpenCV's own auto-rotation produces
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    ok, bgr = cap.read()
    cap.release()
    assert ok and np.array_equal(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), frame)


def test_missing_video_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Video file not found.*Check the path"):
        open_source(tmp_path / "nope.mp4")


def test_text_file_renamed_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are my notes, not a video\n" * 20)
    with pytest.raises(InputError, match="cannot be read as a video") as info:
        open_source(path)
    assert info.value.exit_code == 2 and "Give a video file" in str(info.value)


def test_video_without_frames(tmp_path: Path) -> None:
    path = write_mp4(tmp_path / "empty.mp4", n=0)
    with pytest.raises(InputError, match="(no decodable video frames|cannot be read as a video)"):
        open_source(path)


def test_truncated_video_keeps_the_frames_that_decode(tmp_path: Path, footage) -> None:  # type: ignore[no-untyped-def]
    """ballet_plie.mp4 stores its index (moov) first, so a cut file still opens and decodes up to the cut."""
    data = footage("wikimedia/ballet_plie.mp4").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 45 // 100])
    with open_source(cut) as source:
        announced = source.info.frame_count
        n = sum(1 for _ in source)
    assert announced == 174 and 20 < n < 150
    tail = tmp_path / "tail.mp4"
    tail.write_bytes(data[len(data) // 2:])  # no header at all
    with pytest.raises(InputError, match="cannot be read as a video"):
        open_source(tail)


def test_folder_is_not_a_video(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="No images found"):
        open_source(tmp_path)


def test_camera_that_does_not_exist() -> None:
    with pytest.raises(InputError, match="Camera 97 cannot be opened"):
        open_source(97)


# --- timestamps ----------------------------------------------------------------------------------
def test_make_increasing_nudges_duplicates_and_reversals() -> None:
    fixed = make_increasing(np.array([0.0, 0.04, 0.04, 0.03, 0.12]))
    np.testing.assert_allclose(fixed, [0.0, 0.04, 0.04 + MIN_STEP_S, 0.04 + 2 * MIN_STEP_S, 0.12])
    assert np.all(np.diff(fixed) > 0)


def test_source_counts_adjusted_timestamps() -> None:
    class Dummy(FrameSource):
        pass

    source = Dummy()
    assert source._monotonic(0.5, 0.5) == pytest.approx(0.5 + MIN_STEP_S)
    assert source._monotonic(0.6, 0.5) == 0.6
    assert source.adjusted_timestamps == 1


# --- image sequences -----------------------------------------------------------------------------
def _write_images(folder: Path, names: list[str], size: tuple[int, int] = (W, H)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        image = np.full((size[1], size[0], 3), 20 * i, np.uint8)
        assert cv2.imwrite(str(folder / name), image)


def test_image_folder_in_natural_order_with_fps(tmp_path: Path) -> None:
    _write_images(tmp_path / "seq", ["f1.png", "f2.png", "f10.png"])
    (tmp_path / "seq" / "notes.txt").write_text("ignored")
    with open_source(tmp_path / "seq", fps=10) as source:
        assert isinstance(source, ImageSequenceSource)
        frames = list(source)
        assert source.info.kind == "images" and source.info.frame_count == 3
    assert [int(f.image_rgb[0, 0, 0]) for f in frames] == [0, 20, 40]  # f1, f2, f10
    np.testing.assert_allclose([f.timestamp_s for f in frames], [0.0, 0.1, 0.2])


def test_image_glob_and_single_image(tmp_path: Path) -> None:
    _write_images(tmp_path, ["a_001.jpg", "a_002.jpg", "b_001.jpg"])
    with open_source(str(tmp_path / "a_*.jpg")) as source:
        assert len(list(source)) == 2 and source.info.fps == 30.0
    with open_source(tmp_path / "b_001.jpg") as source:
        frames = list(source)
    assert len(frames) == 1 and frames[0].timestamp_s == 0.0


def test_image_sequence_errors(tmp_path: Path) -> None:
    _write_images(tmp_path / "mixed", ["1.png"])
    _write_images(tmp_path / "mixed", ["2.png"], size=(W * 2, H))
    with pytest.raises(InputError, match="one size"), open_source(tmp_path / "mixed") as source:
        list(source)
    with pytest.raises(InputError, match="No images found"):
        open_source(str(tmp_path / "nothing_*.png"))
    with pytest.raises(InputError, match="Image file not found"):
        open_source(tmp_path / "missing.png")
    (tmp_path / "broken.png").write_text("not a png")
    with pytest.raises(InputError, match="cannot be read as an image"):
        open_source(tmp_path / "broken.png")
    with pytest.raises(InputError, match="positive"):
        open_source(tmp_path / "mixed", fps=0)


# --- prefetching ---------------------------------------------------------------------------------
class _ListSource(FrameSource):
    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.info = SourceInfo("list", "images", 4, 4, 10.0, n, 0)
        self.n, self.fail_at, self.produced = n, fail_at, 0

    def __iter__(self) -> Iterator[Frame]:
        for i in range(self.n):
            if i == self.fail_at:
                raise InputError("frame broke", "fix it")
            self.produced += 1
            yield Frame(i, np.zeros((4, 4, 3), np.uint8), i / 10)


def test_prefetch_keeps_order_and_forwards_errors() -> None:
    assert [f.index for f in prefetch(_ListSource(50), queue_size=3)] == list(range(50))
    with pytest.raises(InputError, match="frame broke"):
        list(prefetch(_ListSource(10, fail_at=5)))


def test_prefetch_is_bounded_and_stops_with_the_consumer() -> None:
    source = _ListSource(10_000)
    frames = prefetch(source, queue_size=2)
    next(frames)
    threading.Event().wait(0.2)
    assert source.produced <= 2 + 2, "the decoder may run only a few frames ahead"
    frames.close()
    assert not any(t.name == "turnout-decoder" and t.is_alive() for t in threading.enumerate())
