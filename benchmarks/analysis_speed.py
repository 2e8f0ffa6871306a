"""Speed of the analysis core on long recordings: smoothing + per-frame metrics for N frames.

    .venv/bin/python benchmarks/analysis_speed.py [--frames 1000000] [--repeat 3]

Input: a synthetic plié clip (turnout_vision.synthetic) tiled to N frames at 30 fps, with 1.5 px
landmark noise, 0.3% outliers and 2% dropped frames. Stages timed (best of --repeat):

- ``smooth image``: spike rejection, gap filling and zero-phase Butterworth of the 10 leg landmarks'
  image coordinates (N x 20 values) - what the camera method consumes;
- ``smooth world``: the same for their world coordinates (N x 30) - what the world method consumes;
- ``metrics``: every per-frame measure (knee flexion, foot and leg rotation, forced turnout, knee over
  toe, rolling, pelvis) from floor points (N x 2 x 5 x 3).

The issue's budget (under 2 s for a million frames) covers ``smooth image`` + ``metrics``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from turnout_vision import landmarks as lm
from turnout_vision.analysis.metrics import frame_metrics
from turnout_vision.analysis.smoothing import smooth_tracks
from turnout_vision.synthetic import Motion, Noise, Scene, generate


def _tile(a: np.ndarray, n: int) -> np.ndarray:
    reps = -(-n // a.shape[0])
    return np.concatenate([a] * reps)[:n]


def _best(fn, repeat: int) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    n = args.frames
    clip = generate(Scene(motion=Motion(n_reps=10), noise=Noise(pixel_sd_px=1.5, outlier_frac=0.003, dropout_frac=0.02)), seed=0)
    seq = clip.sequence
    xy = _tile(seq.image_xy[:, lm.LEG_INDEX.ravel()], n)
    world = _tile(seq.world_xyz[:, lm.LEG_INDEX.ravel()], n)
    pts = _tile(clip.truth.points_m, n) + np.random.default_rng(0).normal(0, 0.002, (n, 2, 5, 3))
    sd = np.full((n, 2), 3.0)
    fps = 30.0

    rows = []
    t_img = _best(lambda: smooth_tracks(xy, fps, min_sigma=0.5), args.repeat)
    rows.append(("smooth image (N x 10 landmarks x 2)", t_img))
    t_world = _best(lambda: smooth_tracks(world, fps, min_sigma=0.003), args.repeat)
    rows.append(("smooth world (N x 10 landmarks x 3)", t_world))
    t_met = _best(lambda: frame_metrics(pts, sd), args.repeat)
    rows.append(("per-frame metrics (N x 2 x 5 x 3)", t_met))
    rows.append(("smooth image + metrics (the budget)", t_img + t_met))
    rows.append(("all three", t_img + t_world + t_met))

    print(f"{n:,} frames · {platform.processor() or platform.machine()} · {os.cpu_count()} CPUs · "
          f"numpy {np.__version__} · best of {args.repeat}")
    print("| stage | seconds | µs per frame |")
    print("|---|---:|---:|")
    for name, sec in rows:
        print(f"| {name} | {sec:.3f} | {1e6 * sec / n:.2f} |")
    verdict = "PASS" if t_img + t_met < 2.0 else "FAIL"
    print(f"\nbudget: smoothing + metrics < 2 s for 1,000,000 frames -> {verdict} ({t_img + t_met:.2f} s for {n:,})")


if __name__ == "__main__":
    main()
