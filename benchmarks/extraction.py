"""Extraction benchmark: raw inference vs the pipeline vs a naive loop, and peak memory vs length.

    python benchmarks/extraction.py                      # ballet_plie.mp4, 3 rounds, memory test
    python benchmarks/extraction.py --rounds 1 --no-memory

Throughput, on the same frames of one clip (default ``../shared/footage/wikimedia/ballet_plie.mp4``),
each with the default two passes per frame (the frame and its mirror image, ``ModelConfig.mirror_average``)
and, for scale, raw inference with one pass:

* raw VIDEO inference: frames decoded into memory first, then only ``PoseTracker.process``;
* pipeline: ``extract(path)`` (decode in a background thread + colour conversion + inference);
* naive IMAGE loop: ``cv2.VideoCapture.read`` -> ``cvtColor`` -> IMAGE-mode ``detect``, one after
  the other in one thread.

Each is timed from its first frame's result to its last (the landmarker's creation and first
inference are warm-up), ``--rounds`` times interleaved (raw, pipeline, naive, raw, ...). Reported:
the best and the median fps of each, and the median over rounds of each method's fps divided by the
raw fps of the same round (paired, so that load from other processes on a shared machine cancels
out as far as possible). "decode + convert only" is the decoder thread's own work, for scale.

Memory: a 10-second and a 10-minute video are synthesised into a temporary folder (never in the
repository) by looping the clip's frames at ``--memory-fps`` (default 5 fps, so the 10-minute video
takes about a minute to extract on 2 cores). Each is extracted in a fresh subprocess that reports its
peak resident memory (VmHWM). The landmark arrays themselves grow with the frame count (about 2 KB
per frame); the frames must not.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VIDEO = REPO.parent / "shared" / "footage" / "wikimedia" / "ballet_plie.mp4"


def _timed(process_frames) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """(frames per second from the first frame's result to the last, frames)."""
    stamps: list[float] = []
    for _ in process_frames():
        stamps.append(time.perf_counter())
    if len(stamps) < 2:
        raise SystemExit("the clip needs at least two frames")
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps)


def raw_video_inference(frames: list[tuple[np.ndarray, float]], model, mirror: bool = True):  # type: ignore[no-untyped-def]
    from turnout_vision.extract import PoseTracker

    def run():  # type: ignore[no-untyped-def]
        with PoseTracker(model=model, mirror_average=mirror) as tracker:
            for rgb, t_s in frames:
                yield tracker.process(rgb, t_s)

    return _timed(run)


def pipeline(path: Path, model):  # type: ignore[no-untyped-def]
    from turnout_vision.extract import extract

    stamps: list[float] = []
    extract(path, model=model, progress=lambda done, total: stamps.append(time.perf_counter()))
    return (len(stamps) - 1) / (stamps[-1] - stamps[0]), len(stamps)


def naive_image_loop(path: Path, model):  # type: ignore[no-untyped-def]
    from turnout_vision.extract import PoseTracker

    def run():  # type: ignore[no-untyped-def]
        cap = cv2.VideoCapture(str(path))
        with PoseTracker(model=model, running_mode="image") as tracker:
            while True:
                ok, bgr = cap.read()
                if not ok:
                    break
                yield tracker.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 0.0)
        cap.release()

    return _timed(run)


def decode_only(path: Path):  # type: ignore[no-untyped-def]
    from turnout_vision.video import open_source

    def run():  # type: ignore[no-untyped-def]
        with open_source(path) as source:
            yield from source

    return _timed(run)


def decode_all(path: Path) -> list[tuple[np.ndarray, float]]:
    from turnout_vision.video import open_source

    with open_source(path) as source:
        return [(f.image_rgb, f.timestamp_s) for f in source]


# ------------------------------------------------------------------------------------------ memory
def synthesize(source: Path, out: Path, seconds: float, fps: float, skip_s: float) -> int:
    """Loop the clip's frames after ``skip_s`` (forwards then backwards, so motion is continuous)."""
    cap = cv2.VideoCapture(str(source))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        if cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0 >= skip_s:
            frames.append(bgr)
    cap.release()
    cycle = frames + frames[-2:0:-1]
    n = int(round(seconds * fps))
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    for i in range(n):
        writer.write(cycle[i % len(cycle)])
    writer.release()
    return n


_CHILD = """
import json, sys, time
from turnout_vision.extract import extract
t0 = time.perf_counter()
seq = extract(sys.argv[1])
elapsed = time.perf_counter() - t0
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
print(json.dumps({"frames": seq.n_frames, "detected": int(seq.detected.sum()), "seconds": elapsed,
                  "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024,
                  "landmarks_mb": sum(getattr(seq, k).nbytes for k in
                                      ("image_xy", "image_z", "world_xyz", "visibility", "presence")) / 2**20}))
"""


def peak_memory(path: Path) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------ main
def throughput(args: argparse.Namespace, model) -> None:  # type: ignore[no-untyped-def]
    frames = decode_all(args.video)
    names = ["raw VIDEO-mode inference (frames in memory)", "extraction pipeline (decode thread + inference)",
             "naive IMAGE-mode loop (decode, then detect)", "decode + convert only (decoder thread's work)",
             "raw VIDEO-mode inference, one pass (no mirror)"]
    runs = [lambda: raw_video_inference(frames, model), lambda: pipeline(args.video, model),
            lambda: naive_image_loop(args.video, model), lambda: decode_only(args.video),
            lambda: raw_video_inference(frames, model, mirror=False)]
    results: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(args.rounds):
        for name, run in zip(names, runs, strict=True):
            results[name].append(run()[0])
    raw = np.array(results[names[0]])
    print(f"\nThroughput on {args.video.name}: {len(frames)} frames "
          f"{frames[0][0].shape[1]}x{frames[0][0].shape[0]}, model {model.name} ({model.origin}), "
          f"{args.rounds} rounds, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':50s} {'best fps':>8s} {'median':>7s} {'vs raw (paired median)':>23s}")
    for name in names:
        values = np.array(results[name])
        print(f"{name:50s} {values.max():8.1f} {np.median(values):7.1f} {np.median(values / raw):23.0%}")


def memory(args: argparse.Namespace) -> None:
    print(f"\nPeak memory (fresh process per video, {args.memory_fps:g} fps, frames looped from {args.video.name})")
    print(f"{'video':12s} {'frames':>7s} {'pose in':>8s} {'extract s':>10s} {'fps':>6s} {'peak RSS MB':>12s} "
          f"{'landmarks MB':>13s}")
    with tempfile.TemporaryDirectory(prefix="turnout_bench_") as tmp:
        for label, seconds in (("10 s", 10.0), (f"{args.long_minutes:g} min", 60.0 * args.long_minutes)):
            path = Path(tmp) / f"loop_{int(seconds)}s.mp4"
            synthesize(args.video, path, seconds, args.memory_fps, args.skip_s)
            r = peak_memory(path)
            print(f"{label:12s} {r['frames']:7d} {r['detected']:8d} {r['seconds']:10.1f} "
                  f"{r['frames'] / r['seconds']:6.1f} {r['peak_rss_mb']:12.1f} {r['landmarks_mb']:13.2f}")
            path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--video", type=Path, default=DEFAULT_VIDEO)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-memory", action="store_true", help="skip the 10 s / 10 min memory test")
    parser.add_argument("--no-throughput", action="store_true", help="skip the throughput comparison")
    parser.add_argument("--memory-fps", type=float, default=5.0)
    parser.add_argument("--long-minutes", type=float, default=10.0)
    parser.add_argument("--skip-s", type=float, default=1.6,
                        help="leave out the clip's first seconds when looping (ballet_plie's title card)")
    args = parser.parse_args()
    if not args.video.is_file():
        raise SystemExit(f"{args.video} not found (the footage lives in ../shared/footage; see its README)")

    from turnout_vision.pose_model import resolve_model

    model = resolve_model("full", os.environ.get("TURNOUT_MODEL_TASK"))
    if not args.no_throughput:
        throughput(args, model)
    if not args.no_memory:
        memory(args)


if __name__ == "__main__":
    main()
