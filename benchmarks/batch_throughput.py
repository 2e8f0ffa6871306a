"""Batch benchmark: throughput of ``run_batch`` with 1 and 2 workers on the same folder, and peak
memory per worker.

    python benchmarks/batch_throughput.py                    # shared footage clips, 1 round
    python benchmarks/batch_throughput.py --rounds 2 --copies 2
    python benchmarks/batch_throughput.py --folder my_videos --workers 1 2 4

The folder (default: symbolic links to ``--copies`` copies of four clips from
``../shared/footage``, made in a temporary folder, never in the repository) is scored with each
worker count in turn (1, 2, 1, 2, ... for ``--rounds``), every time from scratch (``force=True``)
into a fresh temporary output folder, so that each batch does the same work: pose extraction,
analysis, annotated video, report. Reported per batch: wall time (from the call to the summary,
worker start-up included), videos per minute, frames per second, the CPU seconds the workers and
their ffmpeg encoders used (cores busy on average = CPU s / wall s; CPU ms per frame: the work,
whatever the load) and each worker's peak resident
memory (VmHWM of the worker process; ffmpeg's own memory is not included). The speed-up of N
workers is their throughput divided by 1 worker's, in the same round (paired, so that load from
other processes on a shared machine cancels out as far as it can); its median over rounds is the
result. Target (issue #6): 2 workers >= 1.7x of 1 worker on a 2-core machine.

The system load average before and after each batch is printed: on a shared machine, other
processes take cores and the ratio says more about them than about the batch.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOOTAGE = REPO.parent / "shared" / "footage"
DEFAULT_CLIPS = ("wikimedia/ballet_plie.mp4", "wikimedia/tendu_reference.mp4", "wikimedia/ballet_balance.mp4",
                 "mediapipe_docs/dancing_man.mp4")


def make_folder(root: Path, copies: int) -> Path:
    """``copies`` symbolic links to each default clip (plus the built-in sample), in ``root/videos``."""
    folder = root / "videos"
    folder.mkdir()
    clips = [FOOTAGE / c for c in DEFAULT_CLIPS if (FOOTAGE / c).is_file()]
    clips.append(REPO / "samples" / "demo_plie.mp4")
    for i in range(copies):
        for clip in clips:
            (folder / f"{clip.stem}_{i}{clip.suffix}").symlink_to(clip)
    return folder


def frame_counts(folder: Path) -> int:
    import cv2

    from turnout_vision.batch import find_videos

    total = 0
    for video in find_videos(folder).videos:
        cap = cv2.VideoCapture(str(video))
        total += int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        cap.release()
    return total


def children_cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def one_batch(folder: Path, out: Path, workers: int, model_sha256: str, n_frames: int) -> dict[str, float]:
    from turnout_vision.batch import run_batch

    load0 = os.getloadavg()[0]
    cpu0 = children_cpu_s()
    t0 = time.perf_counter()
    result = run_batch(folder, out, workers=workers, force=True, model_sha256=model_sha256)
    wall = time.perf_counter() - t0
    cpu = children_cpu_s() - cpu0
    failed = [o.video for o in result.outcomes if o.failed]
    if failed:
        raise SystemExit(f"videos failed: {failed}")
    return {"workers": workers, "videos": result.n_videos, "wall_s": wall, "videos_per_min": 60 * result.n_videos / wall,
            "fps": n_frames / wall, "cpu_s": cpu, "cores_busy": cpu / wall, "cpu_ms_per_frame": 1000 * cpu / n_frames,
            "peak_rss_mb_per_worker": max(o.peak_rss_mb for o in result.outcomes),
            "load_before": load0, "load_after": os.getloadavg()[0]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, help="folder of videos (default: shared footage clips)")
    parser.add_argument("--copies", type=int, default=1, help="copies of each default clip (default 1)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)

    from turnout_vision.config import Config
    from turnout_vision.pose_model import resolve_for_config

    model_sha256 = resolve_for_config(Config().model).sha256
    with tempfile.TemporaryDirectory(prefix="turnout_batch_bench_") as tmp:
        folder = args.folder or make_folder(Path(tmp), args.copies)
        n_frames = frame_counts(folder)
        print(f"{folder}: {n_frames} frames; {os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.2f}",
              flush=True)
        runs = []
        for r in range(args.rounds):
            for w in args.workers:
                run = one_batch(folder, Path(tmp) / f"out_r{r}_w{w}", w, model_sha256, n_frames)
                run["round"] = r
                runs.append(run)
                print(f"round {r} workers {w}: {run['wall_s']:6.1f} s  {run['videos_per_min']:5.1f} videos/min  "
                      f"{run['fps']:5.1f} frames/s  {run['cores_busy']:.2f} cores busy  {run['cpu_ms_per_frame']:.0f} CPU ms/frame  "
                      f"peak {run['peak_rss_mb_per_worker']:.0f} MB/worker  "
                      f"(load {run['load_before']:.1f} -> {run['load_after']:.1f})", flush=True)
    base = args.workers[0]
    ratios = {}
    for w in args.workers[1:]:
        per_round = [next(x for x in runs if x["round"] == r and x["workers"] == w)["fps"]
                     / next(x for x in runs if x["round"] == r and x["workers"] == base)["fps"]
                     for r in range(args.rounds)]
        ratios[w] = statistics.median(per_round)
        print(f"{w} workers / {base}: {ratios[w]:.2f}x (rounds: {', '.join(f'{x:.2f}' for x in per_round)})")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "speedup": ratios, "frames": n_frames,
                                         "cpu_count": os.cpu_count()}, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
