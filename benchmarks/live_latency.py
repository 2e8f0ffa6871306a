"""Real-time loop of ``turnout live``: processed frames per second, dropped frames, latency.

    .venv/bin/python benchmarks/live_latency.py                 # both clips, 30 and 60 fps sources
    .venv/bin/python benchmarks/live_latency.py --rates 30 --clips demo

A 640x480 clip is made in a temporary folder (never in the repository) from

* ``demo``: samples/demo_plie.mp4 (rendered dancer, portrait, letterboxed into 4:3), played 3 times
  in a row (three pliés, so the analyses run in the worker while the preview goes on);
* ``ballet``: ../shared/footage/wikimedia/ballet_plie.mp4 (real dancer, 16:9 centre-cropped to 4:3;
  skipped if the footage folder is absent),

re-timed to each ``--rates`` frame rate (same frames, faster clock: 30 fps is a webcam's rate, 60 fps
offers more frames than the model can take, so "processed fps" is the loop's ceiling). Each clip is
played through ``run_live`` exactly as a camera would be (headless, paced at its timestamps, newest
frame only, the full pose model, the analyses in the worker process).

Reported per run: processed fps over the loop's wall time, frames dropped (of frames read), latency
from capture (the grabber hands the frame over) to the drawn overlay, p50 / p95 / max (the first 5
frames, the model's warm-up, are left out), and for each plié how long after its bottom event the
knee check (cue) and the verdict arrived. The machine's load average is printed: other processes on
a shared machine take CPU from the loop.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
CLIPS = {
    "demo": (REPO / "samples" / "demo_plie.mp4", 3),
    "ballet": (REPO.parent / "shared" / "footage" / "wikimedia" / "ballet_plie.mp4", 1),
}


def make_clip(src: Path, dst: Path, fps: float, repeat: int, size_wh: tuple[int, int] = (640, 480)) -> Path:
    """``src`` as a ``size_wh`` clip at ``fps`` (letterboxed or centre-cropped to the aspect), ``repeat`` times."""
    cap = cv2.VideoCapture(str(src))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr)
    cap.release()
    W, H = size_wh
    out = []
    for bgr in frames:
        h, w = bgr.shape[:2]
        if w / h > W / H:  # wider: crop the sides
            cw = int(round(h * W / H))
            x0 = (w - cw) // 2
            out.append(cv2.resize(bgr[:, x0:x0 + cw], (W, H), interpolation=cv2.INTER_AREA))
        else:  # taller: letterbox
            nw = int(round(w * H / h))
            canvas = np.full((H, W, 3), 110, np.uint8)
            x0 = (W - nw) // 2
            canvas[:, x0:x0 + nw] = cv2.resize(bgr, (nw, H), interpolation=cv2.INTER_AREA)
            out.append(canvas)
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter_fourcc(*"mp4v"), fps, (W, H))
    for _ in range(repeat):
        for bgr in out:
            writer.write(bgr)
    writer.release()
    return dst


def run_one(path: Path) -> dict[str, object]:
    from turnout_vision.live import VERDICT_DELAY_S, latency_summary, run_live

    load_before = os.getloadavg()[0]
    session = run_live(str(path), headless=True, realtime=True)
    row: dict[str, object] = dict(latency_summary(session))
    row["load"] = max(load_before, os.getloadavg()[0])
    row["plies"] = session.plies
    bottoms = session.of_kind("bottom")
    cue_delays = [e.data["delay_s"] for e in session.events if e.kind in ("cue", "knees_ok")]
    verdict_delays = [e.data["delay_s"] + VERDICT_DELAY_S for e in session.of_kind("verdict")]
    row["cue_delay_s"] = cue_delays
    row["verdict_delay_s"] = verdict_delays
    row["bottoms"] = len(bottoms)
    row["cues_skipped"] = len(session.of_kind("cue_skipped"))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="+", default=list(CLIPS), choices=list(CLIPS))
    parser.add_argument("--rates", nargs="+", type=float, default=[30.0, 60.0])
    args = parser.parse_args()

    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average now "
          f"{os.getloadavg()[0]:.1f}; the full pose model; 640x480 frames")
    rows = []
    with tempfile.TemporaryDirectory(prefix="turnout_live_bench_") as tmp:
        for name in args.clips:
            src, repeat = CLIPS[name]
            if not src.is_file():
                print(f"skipped {name}: {src} is not available")
                continue
            for fps in args.rates:
                clip = make_clip(src, Path(tmp) / f"{name}_{fps:g}.mp4", fps, repeat)
                t0 = time.perf_counter()
                row = run_one(clip)
                row.update(clip=name, source_fps=fps, wall_s=time.perf_counter() - t0)
                rows.append(row)
                print(f"  {name} @ {fps:g} fps done in {row['wall_s']:.0f} s", flush=True)

    def fmt(values: object) -> str:
        vals = list(values) if isinstance(values, list) else []
        return " ".join(f"{v:.1f}" for v in vals) if vals else "-"

    print()
    print("| clip | source fps | processed fps | dropped / read | latency p50 / p95 / max (ms) | pliés | "
          "knee check after bottom (s) | verdict after plié end (s) | load avg |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['clip']} | {r['source_fps']:g} | {r['processed_fps']:.1f} | {r['dropped']} / {r['read']} | "
              f"{r['latency_p50_ms']:.0f} / {r['latency_p95_ms']:.0f} / {r['latency_max_ms']:.0f} | {r['plies']} | "
              f"{fmt(r['cue_delay_s'])}{' (+%d skipped)' % r['cues_skipped'] if r['cues_skipped'] else ''} | "
              f"{fmt(r['verdict_delay_s'])} | {r['load']:.1f} |")
    ok = [r for r in rows if r["source_fps"] >= 30]
    if ok:
        fps_ok = all(float(r["processed_fps"]) >= 25 for r in ok)  # type: ignore[arg-type]
        lat_ok = all(float(r["latency_p95_ms"]) < 100 for r in ok)  # type: ignore[arg-type]
        print(f"\n>= 25 processed fps: {'met' if fps_ok else 'NOT met'}; latency p95 < 100 ms: "
              f"{'met' if lat_ok else 'NOT met'}")


if __name__ == "__main__":
    main()
